/**
 * `paceline configure ...`, `paceline crm ...`, `paceline resource ...`, `paceline -f SCRIPT` and
 * `paceline shell`: the crm shell (crmsh 4.4), offline on a CIB file or live on the cluster.
 *
 * Offline (`CIB_file=F`, `--cib-file F`, or the shadow copy `CIB_shadow=NAME` names, as the
 * Pacemaker tools take them), as `CIB_file=F crm ...` does with crmsh 4.4: the file
 * is read once, the batch runs on a copy, and when something was committed the file is replaced
 * once with the new CIB (epoch bumped once). A failed batch leaves the file as it was.
 *
 * Live (no CIB file, and the node API answers on --socket / $PACELINE_API_SOCKET / the node's
 * default socket, as the live tools find it): the script runs command by command through the
 * same driver as the interactive shell (`./crm-shell.ts` CrmDriver): each `commit` replaces the
 * cluster's configuration once, based on the version read (a concurrent change is refused and
 * nothing is written); `resource`, `node`, `cluster`, `maintenance`, `history` and `status` act on
 * the cluster (`./crm-live.ts`); the first failing command stops the script.
 *
 * `paceline shell`, and `paceline configure` / `paceline crm` with no words on a terminal, start
 * the interactive shell, which commits each `commit` at once, version-checked.
 *
 * Exit codes: 0 ok; 1 an error in the batch (syntax, unknown object, id in use, a refused
 * commit), or in the shell's last input; a live command's failure ends with the Pacemaker tool's
 * code (105 no such resource or node, 102 cannot connect, ...); 64 usage (no CIB file given and
 * no node API on the default socket); 66 the CIB file cannot be read.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { cibToText, runCrmOnCib, type CrmRunResult } from '../crm/script.js';
import { catalogAgentSource, fileCibBackend, nodeCrmHost } from './crm-host.js';
import { apiReachable, liveCibBackend, type LiveCibBackend } from './crm-live.js';
import { runClusterWords } from './cluster.js';
import { runCrmBatch, runCrmShell } from './crm-shell.js';
import { apiSocket, CRM_EX as TOOL_EX, offlineCibFile, replaceFile } from './live.js';
import type { CrmLevel } from '../crm/script.js';

export const CRM_EXIT = { ok: 0, failed: 1, usage: 64, noInput: 66 } as const;

/** The CIB file to work on offline: $CIB_file, else the shadow copy $CIB_shadow names (as Pacemaker's tools); undefined: live. */
function offlineCib(): string | undefined {
  try {
    return offlineCibFile();
  } catch {
    // An unusable $CIB_shadow name: the file path reports it when read.
    return `${process.env.CIB_shadow ?? ''}: invalid shadow name`;
  }
}

export interface CrmOptions {
  /** The CIB file to work on (default: $CIB_file, else the shadow $CIB_shadow names). */
  readonly cibFile?: string;
  /** The node API socket for the live cluster (default: $PACELINE_API_SOCKET or the node's default). */
  readonly socket?: string;
}

export interface CrmOutcome {
  readonly exitCode: number;
  readonly output: string;
}

function withCibFile(opts: CrmOptions, run: (cibText: string) => CrmRunResult): CrmOutcome {
  const file = opts.cibFile ?? offlineCib();
  if (!file) return { exitCode: CRM_EXIT.usage, output: 'ERROR: no CIB: set CIB_file=FILE or pass --cib-file FILE (the live cluster is reached by runCrm)' };
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
    replaceFile(file, cibToText(res.cib));
  }
  return { exitCode: res.exitCode, output: res.output };
}

/** `paceline -f SCRIPT`: runs a crm shell script (its text) on the CIB file. */
export function runCrmScript(text: string, opts: CrmOptions = {}): CrmOutcome {
  return withCibFile(opts, (cib) => runCrmOnCib(text, cib, { host: nodeCrmHost(), agents: catalogAgentSource() }));
}

/** One configure command line (`primitive vip ...` or `configure primitive vip ...`). */
export function runCrmCommand(line: string, opts: CrmOptions = {}): CrmOutcome {
  const first = line.trim().split(/\s+/)[0]?.toLowerCase();
  const text = first === 'configure' ? line : `configure ${line}`;
  return withCibFile(opts, (cib) => runCrmOnCib(text, cib, { host: nodeCrmHost(), agents: catalogAgentSource() }));
}

/**
 * The live cluster's backend when no CIB file is given: the API socket must answer. Otherwise the
 * outcome to end with: 64 when nothing was named (no CIB file, nobody on the default socket), 102
 * when the socket named (--socket, $PACELINE_API_SOCKET) does not answer.
 */
export async function liveBackendFor(opts: CrmOptions): Promise<{ backend: LiveCibBackend } | CrmOutcome> {
  const socket = apiSocket(opts.socket);
  const reach = await apiReachable(socket);
  if (reach.ok) return { backend: liveCibBackend({ socket }) };
  const named = opts.socket !== undefined || Boolean(process.env.PACELINE_API_SOCKET);
  return {
    exitCode: named ? TOOL_EX.disconnect : CRM_EXIT.usage,
    output: named
      ? `ERROR: Could not connect to the cluster (API socket ${socket}): ${reach.why}`
      : `ERROR: no CIB: set CIB_file=FILE or pass --cib-file FILE, or run on a cluster node (no node API on ${socket}: ${reach.why}; --socket or $PACELINE_API_SOCKET name another)`,
  };
}

/**
 * A crm shell script (or one command line) offline on the CIB file when one is given, else live
 * on the cluster: the path of `paceline -f`, `paceline crm ...`, `paceline configure ...` and
 * `paceline resource ...`.
 */
export async function runCrm(text: string, opts: CrmOptions = {}): Promise<CrmOutcome> {
  if (opts.cibFile ?? offlineCib()) return withCibFile(opts, (cib) => runCrmOnCib(text, cib, { host: nodeCrmHost(), agents: catalogAgentSource() }));
  const live = await liveBackendFor(opts);
  if (!('backend' in live)) return live;
  return runCrmBatch(text, live.backend, { host: nodeCrmHost() });
}

/** Words from the command line back into one shell line (quoted where the shell would split them). */
export function shellLine(words: readonly string[]): string {
  return words.map((w) => (w === '' || /[\s"'\\#]/.test(w) ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ');
}

function printOutcome(res: CrmOutcome): void {
  if (res.output) (res.exitCode === 0 ? process.stdout : process.stderr).write(res.output.endsWith('\n') ? res.output : `${res.output}\n`);
  process.exitCode = res.exitCode;
}

interface CliFlags {
  cibFile?: string;
  socket?: string;
  file?: string;
}

const optsOf = (f: CliFlags): CrmOptions => ({ ...(f.cibFile ? { cibFile: f.cibFile } : {}), ...(f.socket ? { socket: f.socket } : {}) });

/**
 * `--socket PATH` and `--cib-file FILE` given after the command's words (passed through as words,
 * since crm words may start with `-`: `-inf:`) are taken out and merged into the flags.
 */
export function splitTrailingFlags(words: readonly string[], flags: CliFlags): { words: string[]; flags: CliFlags } {
  const out: string[] = [];
  const f: CliFlags = { ...flags };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const m = /^--(socket|cib-file)(?:=(.*))?$/.exec(w);
    if (!m) {
      out.push(w);
      continue;
    }
    const value = m[2] ?? words[++i];
    if (value === undefined) throw new Error(`${w} needs a value`);
    if (m[1] === 'socket') f.socket = value;
    else f.cibFile = value;
  }
  return { words: out, flags: f };
}

/** Runs a command's action with the trailing flags merged; a flag without its value is a usage error. */
function withFlags(fn: (words: string[], flags: CliFlags) => Promise<void>): (words: string[], flags: CliFlags) => Promise<void> {
  return async (words, flags) => {
    let split: { words: string[]; flags: CliFlags };
    try {
      split = splitTrailingFlags(words, flags);
    } catch (e) {
      printOutcome({ exitCode: CRM_EXIT.usage, output: `ERROR: ${(e as Error).message}` });
      return;
    }
    await fn(split.words, split.flags);
  };
}

/** Registers `paceline shell`, `paceline configure [words...]`, `paceline crm [words...]` and `paceline resource [words...]`. */
export function registerCrmCommands(program: Command): void {
  const cibFileOpt = ['--cib-file <file>', 'work on this CIB file offline (default: $CIB_file; without one: the live cluster)'] as const;
  const socketOpt = ['--socket <PATH>', 'the node API socket of the live cluster (default: $PACELINE_API_SOCKET or /run/paceline/api.sock)'] as const;
  program
    .command('shell')
    .description('the interactive crm shell (levels, help, history, tab completion), on a CIB file or the live cluster')
    .option(...cibFileOpt)
    .option(...socketOpt)
    .action(async (opts: CliFlags) => {
      process.exitCode = await startInteractiveShell(optsOf(opts));
    });
  program
    .command('configure')
    .description('crm shell configure commands, on a CIB file (CIB_file=F or --cib-file F) or the live cluster')
    .option(...cibFileOpt)
    .option(...socketOpt)
    .argument('[words...]', 'a configure command, e.g. primitive vip ocf:heartbeat:IPaddr2 params ip=10.0.0.10')
    .allowUnknownOption(true)
    .passThroughOptions(true)
    .action(withFlags(async (words: string[], opts: CliFlags) => {
      if (words.length === 0 && process.stdin.isTTY) {
        process.exitCode = await startInteractiveShell({ ...optsOf(opts), level: 'configure' });
        return;
      }
      const line = shellLine(words);
      if (opts.cibFile ?? offlineCib()) printOutcome(runCrmCommand(line.trim() === '' ? 'show' : line, optsOf(opts)));
      else printOutcome(await runCrm(`configure ${line.trim() === '' ? 'show' : line}`, optsOf(opts)));
    }));
  program
    .command('crm')
    .description('the crm shell: one command (crm resource move vip node2), a script (-f), or the interactive shell')
    .option('-f, --file <SCRIPT>', 'run a crm shell script (- for stdin), like crm -f')
    .option(...cibFileOpt)
    .option(...socketOpt)
    .argument('[words...]', 'a crm shell command line, e.g. resource move vip node2 PT5M')
    .allowUnknownOption(true)
    .passThroughOptions(true)
    .action(withFlags(async (words: string[], opts: CliFlags) => {
      if (opts.file !== undefined) {
        let text: string;
        try {
          text = readFileSync(opts.file === '-' ? 0 : opts.file, 'utf8');
        } catch (e) {
          printOutcome({ exitCode: CRM_EXIT.noInput, output: `ERROR: cannot read script ${opts.file}: ${(e as Error).message}` });
          return;
        }
        printOutcome(await runCrm(text, optsOf(opts)));
        return;
      }
      if (words.length === 0) {
        if (process.stdin.isTTY) process.exitCode = await startInteractiveShell(optsOf(opts));
        else printOutcome(await runCrm(readFileSync(0, 'utf8'), optsOf(opts)));
        return;
      }
      if (words[0] === 'cluster' && ['init', 'join', 'token'].includes(words[1] ?? '')) {
        // Bootstrap runs before any node does: not through the live backend (./cluster.ts).
        const sock = opts.socket !== undefined && words[1] !== 'token' ? ['--socket', opts.socket] : [];
        process.exitCode = await runClusterWords([...words.slice(1), ...sock], { out: (l) => void process.stdout.write(`${l}\n`), err: (l) => void process.stderr.write(`${l}\n`) });
        return;
      }
      printOutcome(await runCrm(shellLine(words), optsOf(opts)));
    }));
  program
    .command('resource')
    .description('crm shell resource commands (status, start, stop, restart, move, ban, clear, cleanup, why, ...) on the live cluster')
    .option(...cibFileOpt)
    .option(...socketOpt)
    .argument('[words...]', 'a resource command, e.g. move vip node2 PT5M')
    .allowUnknownOption(true)
    .passThroughOptions(true)
    .action(withFlags(async (words: string[], opts: CliFlags) => {
      printOutcome(await runCrm(`resource ${words.length ? shellLine(words) : 'status'}`, optsOf(opts)));
    }));
}

/**
 * The interactive shell on the CIB file (--cib-file, $CIB_file, or the shadow $CIB_shadow names), else on the live cluster,
 * starting at `level`. Resolves to the exit code: 64 when there is neither.
 */
export async function startInteractiveShell(opts: CrmOptions & { level?: CrmLevel }): Promise<number> {
  const file = opts.cibFile ?? offlineCib();
  const level = opts.level ? { level: opts.level } : {};
  if (file) return runCrmShell({ backend: fileCibBackend(file), ...level });
  const live = await liveBackendFor(opts);
  if (!('backend' in live)) {
    process.stderr.write(`${live.output}\n`);
    return live.exitCode;
  }
  return runCrmShell({ backend: live.backend, ...level });
}

/** Alias of runCrmCommand under the name the shell's callers use. */
export const runCrmLine = runCrmCommand;
