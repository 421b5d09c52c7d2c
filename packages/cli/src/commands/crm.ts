/**
 * `paceline configure ...` and `paceline -f SCRIPT`: the crm shell's configure level, offline
 * on a CIB file (`CIB_file=F` or `--cib-file F`), as `CIB_file=F crm ...` does with crmsh 4.4.
 *
 * The file is read once, the batch runs on a copy, and when something was committed the file
 * is replaced once with the new CIB (epoch bumped once). A failed batch leaves the file as it was.
 *
 * Exit codes: 0 ok; 1 an error in the batch (syntax, unknown object, id in use); 64 usage
 * (no CIB file given); 66 the CIB file cannot be read.
 */
import type { Command } from 'commander';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cibToText, runCrmLine as runCrmLineOnCib, runCrmOnCib, type CrmRunResult } from '../crm/script.js';

export const CRM_EXIT = { ok: 0, failed: 1, usage: 64, noInput: 66 } as const;

export interface CrmOptions {
  /** The CIB file to work on (default: $CIB_file). */
  readonly cibFile?: string;
}

export interface CrmOutcome {
  readonly exitCode: number;
  readonly output: string;
}

function withCibFile(opts: CrmOptions, run: (cibText: string) => CrmRunResult): CrmOutcome {
  const file = opts.cibFile ?? process.env.CIB_file;
  if (!file) return { exitCode: CRM_EXIT.usage, output: 'ERROR: no CIB: set CIB_file=FILE or pass --cib-file FILE (live clusters are not supported yet)' };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { exitCode: CRM_EXIT.noInput, output: `ERROR: cannot read CIB file ${file}: ${(e as Error).message}` };
  }
  let res: CrmRunResult;
  try {
    res = run(text);
  } catch (e) {
    return { exitCode: CRM_EXIT.failed, output: `ERROR: ${(e as Error).message}` };
  }
  if (res.exitCode === 0 && res.changed) {
    const tmp = `${file}.paceline-tmp`;
    writeFileSync(tmp, cibToText(res.cib));
    renameSync(tmp, file);
  }
  return { exitCode: res.exitCode, output: res.output };
}

/** `paceline -f SCRIPT`: runs a crm shell script (its text) on the CIB file. */
export function runCrmScript(text: string, opts: CrmOptions = {}): CrmOutcome {
  return withCibFile(opts, (cib) => runCrmOnCib(text, cib));
}

/** One configure command line (`primitive vip ...` or `configure primitive vip ...`). */
export function runCrmCommand(line: string, opts: CrmOptions = {}): CrmOutcome {
  return withCibFile(opts, (cib) => runCrmLineOnCib(line, cib));
}

/** Registers `paceline configure [words...]`. */
export function registerCrmCommands(program: Command): void {
  program
    .command('configure')
    .description('crm shell configure commands on a CIB file (CIB_file=F or --cib-file F)')
    .option('--cib-file <file>', 'the CIB XML file to edit (default: $CIB_file)')
    .argument('[words...]', 'a configure command, e.g. primitive vip ocf:heartbeat:IPaddr2 params ip=10.0.0.10')
    .allowUnknownOption(true)
    .passThroughOptions(true)
    .action((words: string[], opts: { cibFile?: string }) => {
      const line = words.map((w) => (/[\s"'\\]/.test(w) ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ');
      const res = runCrmCommand(line.trim() === '' ? 'show' : line, opts.cibFile ? { cibFile: opts.cibFile } : {});
      if (res.output) (res.exitCode === 0 ? process.stdout : process.stderr).write(res.output + '\n');
      process.exitCode = res.exitCode;
    });
}

/** Alias of runCrmCommand under the name the shell's callers use. */
export const runCrmLine = runCrmCommand;
