/**
 * `paceline configure ...`, `paceline -f SCRIPT` and `paceline shell`: the crm shell's configure level, offline
 * on a CIB file (`CIB_file=F` or `--cib-file F`), as `CIB_file=F crm ...` does with crmsh 4.4.
 *
 * The file is read once, the batch runs on a copy, and when something was committed the file
 * is replaced once with the new CIB (epoch bumped once). A failed batch leaves the file as it was.
 *
 * `paceline shell`, and `paceline configure` with no words on a terminal, start the interactive
 * shell (`./crm-shell.ts`), which commits each `commit` to the file at once, version-checked.
 *
 * Exit codes: 0 ok; 1 an error in the batch (syntax, unknown object, id in use), or in the
 * shell's last input; 64 usage (no CIB file given); 66 the CIB file cannot be read.
 */
import type { Command } from 'commander';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cibToText, runCrmOnCib, type CrmRunResult } from '../crm/script.js';
import { fileCibBackend, nodeCrmHost } from './crm-host.js';
import { runCrmShell } from './crm-shell.js';
import type { CrmLevel } from '../crm/script.js';

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
  return withCibFile(opts, (cib) => runCrmOnCib(text, cib, { host: nodeCrmHost() }));
}

/** One configure command line (`primitive vip ...` or `configure primitive vip ...`). */
export function runCrmCommand(line: string, opts: CrmOptions = {}): CrmOutcome {
  const first = line.trim().split(/\s+/)[0]?.toLowerCase();
  const text = first === 'configure' ? line : `configure ${line}`;
  return withCibFile(opts, (cib) => runCrmOnCib(text, cib, { host: nodeCrmHost() }));
}

/** Registers `paceline configure [words...]` and `paceline shell`. */
export function registerCrmCommands(program: Command): void {
  program
    .command('shell')
    .description('the interactive crm shell (levels, help, history, tab completion) on a CIB file')
    .option('--cib-file <file>', 'the CIB XML file to edit (default: $CIB_file)')
    .action(async (opts: { cibFile?: string }) => {
      process.exitCode = await startInteractiveShell(opts.cibFile ? { cibFile: opts.cibFile } : {});
    });
  program
    .command('configure')
    .description('crm shell configure commands on a CIB file (CIB_file=F or --cib-file F)')
    .option('--cib-file <file>', 'the CIB XML file to edit (default: $CIB_file)')
    .argument('[words...]', 'a configure command, e.g. primitive vip ocf:heartbeat:IPaddr2 params ip=10.0.0.10')
    .allowUnknownOption(true)
    .passThroughOptions(true)
    .action(async (words: string[], opts: { cibFile?: string }) => {
      if (words.length === 0 && process.stdin.isTTY) {
        process.exitCode = await startInteractiveShell({ ...(opts.cibFile ? { cibFile: opts.cibFile } : {}), level: 'configure' });
        return;
      }
      const line = words.map((w) => (/[\s"'\\]/.test(w) ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ');
      const res = runCrmCommand(line.trim() === '' ? 'show' : line, opts.cibFile ? { cibFile: opts.cibFile } : {});
      if (res.output) (res.exitCode === 0 ? process.stdout : process.stderr).write(res.output + '\n');
      process.exitCode = res.exitCode;
    });
}

/**
 * The interactive shell on the CIB file (--cib-file or $CIB_file), starting at `level`.
 * Resolves to the exit code: 64 when no CIB file is given (a live cluster backend is not there yet).
 */
export async function startInteractiveShell(opts: CrmOptions & { level?: CrmLevel }): Promise<number> {
  const file = opts.cibFile ?? process.env.CIB_file;
  if (!file) {
    process.stderr.write('ERROR: no CIB: set CIB_file=FILE or pass --cib-file FILE (live clusters are not supported yet)\n');
    return CRM_EXIT.usage;
  }
  return runCrmShell({ backend: fileCibBackend(file), ...(opts.level ? { level: opts.level } : {}) });
}

/** Alias of runCrmCommand under the name the shell's callers use. */
export const runCrmLine = runCrmCommand;
