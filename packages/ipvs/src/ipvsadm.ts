/**
 * One ipvsadm invocation against a rule table, pure: argv (+ stdin for -R) in, the new table,
 * stdout, stderr and exit status out. The CLI and the director's control socket both use it.
 */
import type { Resolver } from './addr.js';
import { applyCommand } from './apply.js';
import { formatConnections, formatList, formatListService, formatSave, formatTimeouts, type ConnEntry, type CountersView } from './format.js';
import type { RuleTable, ServiceKey } from './model.js';
import { IPVSADM_EXIT, parseIpvsadm, tryHelp, type DaemonOptions, type IpvsError } from './parse.js';

/** A running sync daemon as `ipvsadm -L --daemon` shows it. */
export interface DaemonInfo { state: 'master' | 'backup'; mcastIfn: string; syncid: number }

/**
 * The sync daemons behind --start-daemon, --stop-daemon and -L --daemon (the director's).
 * Without one, the daemon commands fail as on a kernel without sync support.
 */
export interface DaemonControl {
  list(): readonly DaemonInfo[];
  start(state: 'master' | 'backup', opts: DaemonOptions): IpvsError | undefined;
  stop(state: 'master' | 'backup'): IpvsError | undefined;
}

/** list_daemon: the master's line first, then the backup's. */
export function formatDaemons(daemons: readonly DaemonInfo[]): string {
  const line = (d: DaemonInfo): string => `${d.state} sync daemon (mcast=${d.mcastIfn}, syncid=${d.syncid})\n`;
  return daemons.filter((d) => d.state === 'master').map(line).join('') + daemons.filter((d) => d.state === 'backup').map(line).join('');
}

export interface IpvsadmRun {
  table: RuleTable;
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Services whose counters were asked to be zeroed (-Z); `all` for every service. */
  zero?: ServiceKey | 'all';
}

export interface IpvsadmContext {
  program?: string;
  resolver?: Resolver;
  counters?: CountersView;
  connections?: () => readonly ConnEntry[];
  /** Text read from stdin for -R. */
  stdin?: string;
  daemons?: DaemonControl;
}

export const IPVSADM_VERSION_LINE = 'ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)';

/** Run one command line (without the program name). */
export function runIpvsadm(table: RuleTable, args: readonly string[], ctx: IpvsadmContext = {}): IpvsadmRun {
  const program = ctx.program ?? 'ipvsadm';
  const out = (stdout: string): IpvsadmRun => ({ table, stdout, stderr: '', exitCode: 0 });
  if (args.length === 0) return out(formatList(table, { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, nosort: false, exact: false }, ctx));
  const parsed = parseIpvsadm(args, { program, resolver: ctx.resolver });
  if (!parsed.ok) return { table, stdout: '', stderr: parsed.message + '\n', exitCode: parsed.exitCode };
  const cmd = parsed.command;
  switch (cmd.kind) {
    case 'help': return out(`${IPVSADM_VERSION_LINE}\nUsage:\n  ${program} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags]\n  ${program} -D virtual-service\n  ${program} -C\n  ${program} -R\n  ${program} -S [-n]\n  ${program} -a|e virtual-service -r server-address [options]\n  ${program} -d virtual-service -r server-address\n  ${program} -L|l [virtual-service] [options]\n  ${program} -Z [virtual-service]\n  ${program} --set tcp tcpfin udp\n  ${program} -h\n`);
    case 'version': return out(IPVSADM_VERSION_LINE + '\n');
    case 'list': return runList(table, cmd, ctx);
    case 'save': return out(formatSave(table, cmd.format, ctx));
    case 'restore': return runRestore(table, ctx.stdin ?? '', program, ctx);
    case 'start-daemon': case 'stop-daemon': {
      if (!ctx.daemons) break;
      const bad = cmd.kind === 'start-daemon' ? ctx.daemons.start(cmd.state, cmd.daemon) : ctx.daemons.stop(cmd.state);
      return bad ? { table, stdout: '', stderr: bad.message + '\n', exitCode: bad.exitCode } : out('');
    }
    default: break;
  }
  const r = applyCommand(table, cmd);
  if (!r.ok) return { table, stdout: '', stderr: r.message + '\n', exitCode: r.exitCode };
  const run: IpvsadmRun = { table: r.table, stdout: '', stderr: '', exitCode: 0 };
  if (cmd.kind === 'zero') run.zero = cmd.key ?? 'all';
  return run;
}

function runList(table: RuleTable, cmd: Extract<ReturnType<typeof parseIpvsadm>, { ok: true }>['command'] & { kind: 'list' }, ctx: IpvsadmContext): IpvsadmRun {
  const base = { table, stderr: '', exitCode: 0 };
  if (cmd.show === 'connections') return { ...base, stdout: formatConnections(ctx.connections?.() ?? [], cmd.format, ctx.resolver) };
  if (cmd.show === 'timeout') return { ...base, stdout: formatTimeouts(table) };
  if (cmd.show === 'daemon') return { ...base, stdout: formatDaemons(ctx.daemons?.list() ?? []) };
  if (cmd.key) {
    const r = formatListService(table, cmd.key, cmd.format, ctx);
    return r.ok ? { ...base, stdout: r.text } : { table, stdout: '', stderr: r.message + '\n', exitCode: r.exitCode };
  }
  return { ...base, stdout: formatList(table, cmd.format, ctx) };
}

/** Split a restore line into words (config_stream: whitespace, with "..." quoting). */
export function splitRuleLine(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) words.push(m[1] ?? m[2]!);
  return words;
}

/**
 * -R: each line is an ipvsadm command. Unlike ipvsadm (which keeps the lines before a bad
 * one), this is all or nothing: the first failing line is reported with its number and the
 * table stays as it was. Lines starting with # are skipped (ipvsadm-restore strips them).
 */
function runRestore(table: RuleTable, text: string, program: string, ctx: IpvsadmContext): IpvsadmRun {
  let t = table;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const words = splitRuleLine(lines[i]!);
    if (words.length === 0 || words[0]!.startsWith('#')) continue;
    const parsed = parseIpvsadm(words, { program, resolver: ctx.resolver });
    const cmdKind = parsed.ok ? parsed.command.kind : undefined;
    if (cmdKind === 'restore') return { table, stdout: '', stderr: tryHelp(program).message + '\n', exitCode: IPVSADM_EXIT.error };
    if (!parsed.ok) return { table, stdout: '', stderr: `line ${i + 1}: ${parsed.message}\n`, exitCode: parsed.exitCode };
    if (cmdKind === 'list' || cmdKind === 'save' || cmdKind === 'help' || cmdKind === 'version') continue;
    const r = applyCommand(t, parsed.command);
    if (!r.ok) return { table, stdout: '', stderr: `line ${i + 1}: ${r.message}\n`, exitCode: r.exitCode };
    t = r.table;
  }
  return { table: t, stdout: '', stderr: '', exitCode: 0 };
}
