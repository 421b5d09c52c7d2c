/**
 * ipvsadm's command line, parsed as ipvsadm 1.31 parses it with popt: the first option must be
 * the command; options are checked against ipvsadm's table of legal command/option
 * combinations; values are checked as they are met, and the first bad one ends parsing with
 * ipvsadm's message and exit status (2 for fail(), 255 for "Try ... -h" and popt errors).
 */
import { IPVS_DEFAULTS, SVC_F, type ForwardMethod, type Protocol, type ServiceKey, type Timeouts } from './model.js';
import { NUMERIC_RESOLVER, inetAton, looksLikeIpv6, stringToNumber, type Resolver } from './addr.js';

export type CommandName =
  | 'add-service' | 'edit-service' | 'delete-service' | 'flush' | 'list' | 'add-server' | 'delete-server'
  | 'edit-server' | 'set' | 'start-daemon' | 'stop-daemon' | 'restore' | 'save' | 'zero';

/** Printing flags (ipvsadm's FMT_*). */
export interface ListFormat {
  numeric: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  nosort: boolean;
  exact: boolean;
}

export interface ParsedService {
  key: ServiceKey;
  scheduler: string;
  flags: number;
  persistTimeoutS: number;
  netmask: number;
}

export interface ParsedDest {
  addr: number;
  port: number;
  forward: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
}

export type IpvsCommand =
  | { kind: 'add-service' | 'edit-service'; service: ParsedService }
  | { kind: 'delete-service'; key: ServiceKey }
  | { kind: 'add-server' | 'edit-server' | 'delete-server'; key: ServiceKey; dest: ParsedDest }
  | { kind: 'flush' | 'restore' | 'help' | 'version' }
  | { kind: 'save'; format: ListFormat }
  | { kind: 'zero'; key: ServiceKey | undefined }
  | { kind: 'set'; timeouts: Timeouts }
  | { kind: 'list'; key: ServiceKey | undefined; format: ListFormat; show: 'table' | 'connections' | 'timeout' | 'daemon' }
  | { kind: 'start-daemon'; state: 'master' | 'backup'; daemon: DaemonOptions }
  | { kind: 'stop-daemon'; state: 'master' | 'backup' };

/** A sync peer of the unicast extension: address (host order) and port (0: --mcast-port). */
export interface SyncPeer { addr: number; port: number }

/**
 * --start-daemon's options. `group` is a multicast IPv4 group (ipvsadm's --mcast-group), or
 * (paceline's extension for networks without multicast, userspace director only) a
 * comma-separated list of unicast `addr[:port]`: the master sends to each of them, the backup
 * receives on the first one's address (0.0.0.0: every address).
 */
export interface DaemonOptions {
  /** --mcast-interface ('' when not given). */
  mcastIfn: string;
  /** --syncid, 0..255 (0 by default; a backup with 0 accepts every sync id). */
  syncid: number;
  group?: { kind: 'multicast'; addr: number } | { kind: 'unicast'; peers: SyncPeer[] };
  port?: number;
  ttl?: number;
  maxlen?: number;
}

/** An error as ipvsadm reports it: the stderr text (without newline) and the exit status. */
export interface IpvsError {
  ok: false;
  code: string;
  message: string;
  exitCode: number;
}
export type ParseResult = { ok: true; command: IpvsCommand } | IpvsError;

/** Exit statuses: fail() exits 2; tryhelp_exit(-1), popt errors and kernel errors exit 255. */
export const IPVSADM_EXIT = { ok: 0, listError: 1, fail: 2, error: 255 } as const;

const CMD_NAMES: readonly CommandName[] = ['add-service', 'edit-service', 'delete-service', 'flush', 'list', 'add-server', 'delete-server', 'edit-server', 'set', 'start-daemon', 'stop-daemon', 'restore', 'save', 'zero'];
const OPT_NAMES = ['numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server', 'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon', 'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe', 'sched-flags', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen'] as const;
type OptName = (typeof OPT_NAMES)[number];

/** ipvsadm's commands_v_options: '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional. */
const COMMANDS_V_OPTIONS: Record<CommandName, string> = {
  'add-service':    'xx+   xxxxxxxxxxxxxxx   xxxx',
  'edit-service':   'xx+   xxxxxxxxxxxxxxx   xxxx',
  'delete-service': 'xx+xxxxxxxxxxxxxxxxxxxxxxxxx',
  flush:            'xxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  list:             ' 11xxxxxxxxx11       xxxxxxx',
  'add-server':     'xx+xxx+    xxxxxxxxxxxxxxxxx',
  'delete-server':  'xx+xxx+xxxxxxxxxxxxxxxxxxxxx',
  'edit-server':    'xx+xxx+    xxxxxxxxxxxxxxxxx',
  set:              'xxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'start-daemon':   'xxxxxxxxxxx xxxxxxx xxxx    ',
  'stop-daemon':    'xxxxxxxxxxxxxxxxxxx xxxxxxxx',
  restore:          'xxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  save:             ' xxxxxxxxxxxxxxxxxxxxxxxxxxx',
  zero:             'xx xxxxxxxxxxxxxxxxxxxxxxxxx',
};

type ArgKind = 'none' | 'required' | 'optional';
interface OptSpec { long: string; short?: string; arg: ArgKind }
/** popt's option table of ipvsadm 1.31 (tunnel options excluded: no tunnels in userspace). */
const OPTIONS: readonly OptSpec[] = [
  { long: 'add-service', short: 'A', arg: 'none' }, { long: 'edit-service', short: 'E', arg: 'none' },
  { long: 'delete-service', short: 'D', arg: 'none' }, { long: 'clear', short: 'C', arg: 'none' },
  { long: 'list', short: 'L', arg: 'none' }, { long: 'list', short: 'l', arg: 'none' },
  { long: 'zero', short: 'Z', arg: 'none' }, { long: 'add-server', short: 'a', arg: 'none' },
  { long: 'edit-server', short: 'e', arg: 'none' }, { long: 'delete-server', short: 'd', arg: 'none' },
  { long: 'set', arg: 'none' }, { long: 'help', short: 'h', arg: 'none' }, { long: 'version', short: 'v', arg: 'none' },
  { long: 'restore', short: 'R', arg: 'none' }, { long: 'save', short: 'S', arg: 'none' },
  { long: 'start-daemon', arg: 'required' }, { long: 'stop-daemon', arg: 'required' },
  { long: 'tcp-service', short: 't', arg: 'required' }, { long: 'udp-service', short: 'u', arg: 'required' },
  { long: 'sctp-service', arg: 'required' }, { long: 'fwmark-service', short: 'f', arg: 'required' },
  { long: 'scheduler', short: 's', arg: 'required' }, { long: 'persistent', short: 'p', arg: 'optional' },
  { long: 'netmask', short: 'M', arg: 'required' }, { long: 'real-server', short: 'r', arg: 'required' },
  { long: 'masquerading', short: 'm', arg: 'none' }, { long: 'ipip', short: 'i', arg: 'none' },
  { long: 'gatewaying', short: 'g', arg: 'none' }, { long: 'weight', short: 'w', arg: 'required' },
  { long: 'u-threshold', short: 'x', arg: 'required' }, { long: 'l-threshold', short: 'y', arg: 'required' },
  { long: 'numeric', short: 'n', arg: 'none' }, { long: 'connection', short: 'c', arg: 'none' },
  { long: 'mcast-interface', arg: 'required' }, { long: 'syncid', arg: 'required' },
  { long: 'timeout', arg: 'none' }, { long: 'daemon', arg: 'none' }, { long: 'stats', arg: 'none' },
  { long: 'rate', arg: 'none' }, { long: 'thresholds', arg: 'none' }, { long: 'persistent-conn', arg: 'none' },
  { long: 'nosort', arg: 'none' }, { long: 'sort', arg: 'none' }, { long: 'exact', short: 'X', arg: 'none' },
  { long: 'ipv6', short: '6', arg: 'none' }, { long: 'ops', short: 'o', arg: 'none' },
  { long: 'pe', arg: 'required' }, { long: 'sched-flags', short: 'b', arg: 'required' },
  { long: 'mcast-group', arg: 'required' }, { long: 'mcast-port', arg: 'required' },
  { long: 'mcast-ttl', arg: 'required' }, { long: 'sync-maxlen', arg: 'required' },
];

const COMMAND_OF_OPTION: Record<string, CommandName | 'help' | 'version'> = {
  A: 'add-service', E: 'edit-service', D: 'delete-service', a: 'add-server', e: 'edit-server', d: 'delete-server',
  C: 'flush', L: 'list', l: 'list', Z: 'zero', set: 'set', R: 'restore', S: 'save',
  'start-daemon': 'start-daemon', 'stop-daemon': 'stop-daemon', h: 'help', v: 'version',
};

interface Token { tag: string; given: string; value: string | undefined }
type TokenResult = { ok: true; tokens: Token[]; leftovers: string[] } | IpvsError;

function err(code: string, message: string, exitCode: number): IpvsError {
  return { ok: false, code, message, exitCode };
}
const fail = (code: string, message: string): IpvsError => err(code, message, IPVSADM_EXIT.fail);

/** popt: long options (--x, --x=v), bundled short options (-Ln, -w3), leftovers, `--`. */
export function tokenize(args: readonly string[]): TokenResult {
  const tokens: Token[] = [];
  const leftovers: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') { leftovers.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = OPTIONS.find((o) => o.long === name);
      if (!spec) return err('popt-bad-option', `${a}: unknown option`, IPVSADM_EXIT.error);
      let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
      if (spec.arg === 'required' && value === undefined) {
        if (i + 1 >= args.length) return err('popt-no-arg', `${a}: missing argument`, IPVSADM_EXIT.error);
        value = args[++i];
      } else if (spec.arg === 'optional' && value === undefined && i + 1 < args.length && !args[i + 1]!.startsWith('-')) value = args[++i];
      tokens.push({ tag: spec.short ?? spec.long, given: a, value });
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j]!;
        const spec = OPTIONS.find((o) => o.short === ch);
        if (!spec) return err('popt-bad-option', `-${ch}: unknown option`, IPVSADM_EXIT.error);
        const rest = a.slice(j + 1);
        if (spec.arg === 'none') { tokens.push({ tag: ch, given: `-${ch}`, value: undefined }); continue; }
        let value: string | undefined = rest === '' ? undefined : rest;
        if (value === undefined && spec.arg === 'required') {
          if (i + 1 >= args.length) return err('popt-no-arg', `-${ch}: missing argument`, IPVSADM_EXIT.error);
          value = args[++i];
        } else if (value === undefined && i + 1 < args.length && !args[i + 1]!.startsWith('-')) value = args[++i];
        tokens.push({ tag: ch, given: `-${ch}`, value });
        break;
      }
      continue;
    }
    leftovers.push(a);
  }
  return { ok: true, tokens, leftovers };
}

const SERVICE_ADDR = 1;
const SERVICE_PORT = 2;

/** ipvsadm's parse_service: returns the SERVICE_* bits, or 0, and the address/port found. */
function parseServiceAddr(text: string, protocol: Protocol, resolver: Resolver): { bits: number; addr: number; port: number; ipv6: boolean } {
  const none = { bits: 0, addr: 0, port: 0, ipv6: false };
  if (/^[0-9]*$/.test(text)) return none;
  let buf = text;
  if (buf.startsWith('[')) {
    const close = buf.indexOf(']');
    if (close < 0 || buf[close + 1] !== ':') return none;
    return looksLikeIpv6(buf.slice(1, close)) ? { ...none, bits: SERVICE_ADDR | SERVICE_PORT, ipv6: true } : none;
  }
  if (looksLikeIpv6(buf)) return { ...none, bits: SERVICE_ADDR, ipv6: true };
  const colon = buf.lastIndexOf(':');
  const portText = colon < 0 ? undefined : buf.slice(colon + 1);
  if (colon >= 0) buf = buf.slice(0, colon);
  const addr = inetAton(buf) ?? resolver.hostToAddr(buf);
  if (addr === undefined) return none;
  if (portText === undefined) return { bits: SERVICE_ADDR, addr, port: 0, ipv6: false };
  let port = stringToNumber(portText, 0, 65535);
  if (port === -1) port = resolver.serviceToPort(portText, protocol) ?? -1;
  if (port === -1) return none;
  return { bits: SERVICE_ADDR | SERVICE_PORT, addr, port, ipv6: false };
}

function parseTimeout(text: string | undefined, min: number, max: number): number | IpvsError {
  if (text === undefined) return IPVS_DEFAULTS.persistTimeoutS;
  const n = stringToNumber(text, min, max);
  return n === -1 ? fail('bad-timeout', `invalid timeout value \`${text}' specified`) : n;
}

function parseSchedFlags(sched: string, text: string): number | IpvsError {
  let flags = 0;
  for (const flag of text.split(',').filter((f) => f !== '')) {
    if (flag === 'flag-1') flags |= SVC_F.sched1;
    else if (flag === 'flag-2') flags |= SVC_F.sched2;
    else if (flag === 'flag-3') flags |= SVC_F.sched3;
    else if (flag === 'sh-fallback' || flag === 'sh-port' || flag === 'mh-fallback' || flag === 'mh-port') {
      if (sched !== flag.slice(0, 2)) return fail('bad-sched-flag', `incompatible scheduler flag \`${flag}'`);
      flags |= flag.endsWith('fallback') ? SVC_F.sched1 : SVC_F.sched2;
    } else return fail('bad-sched-flag', `invalid scheduler flag \`${flag}'`);
  }
  return flags;
}

/** The entry being built while options are read (ipvsadm's ipvs_command_entry). */
interface Entry {
  cmd: CommandName | 'help' | 'version' | undefined;
  options: Set<OptName>;
  format: ListFormat;
  svc: { fwmark: number; protocol: Protocol; addr: number; port: number; sched: string; flags: number; timeoutS: number; netmask: number; ipv6: boolean };
  dest: { addr: number; port: number; forward: ForwardMethod; weight: number; upper: number; lower: number; ipv6: boolean };
  daemonState: 'master' | 'backup';
  daemon: DaemonOptions;
  schedFlagsText: string | undefined;
  timeouts: Timeouts;
}

function setOption(e: Entry, name: OptName): IpvsError | undefined {
  if (e.options.has(name)) return fail('multiple-options', `multiple '${name}' options specified`);
  e.options.add(name);
  return undefined;
}

/** Apply one non-command option to the entry; returns an error or undefined. */
function applyOption(e: Entry, t: Token, resolver: Resolver): IpvsError | undefined {
  const v = t.value ?? '';
  const num = (name: OptName, min: number, max: number, label: string, set: (n: number) => void): IpvsError | undefined => {
    const bad = setOption(e, name);
    if (bad) return bad;
    const n = stringToNumber(v, min, max);
    if (n === -1) return fail('bad-number', `illegal ${label} specified`);
    set(n);
    return undefined;
  };
  const flag = (name: OptName, apply?: () => void): IpvsError | undefined => {
    const bad = setOption(e, name);
    if (!bad && apply) apply();
    return bad;
  };
  switch (t.tag) {
    case 't': case 'u': {
      const bad = setOption(e, 'service-address');
      if (bad) return bad;
      e.svc.protocol = t.tag === 't' ? 'tcp' : 'udp';
      const p = parseServiceAddr(v, e.svc.protocol, resolver);
      if (!(p.bits & SERVICE_ADDR)) return fail('bad-service', 'illegal virtual server address[:port] specified');
      e.svc.addr = p.addr; e.svc.port = p.port; e.svc.ipv6 = p.ipv6;
      return undefined;
    }
    case 'sctp-service': return err('sctp-unsupported', 'Protocol not available', IPVSADM_EXIT.error);
    case 'f': {
      const bad = setOption(e, 'service-address');
      if (bad) return bad;
      const n = /^[+-]?[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n > 0 && n <= 0xffffffff)) return fail('bad-fwmark', `invalid fwmark value \`${v}' specified`);
      e.svc.fwmark = n; e.svc.protocol = 'tcp';
      return undefined;
    }
    case 's': return flag('scheduler', () => { e.svc.sched = v.slice(0, 15); });
    case 'p': {
      const bad = setOption(e, 'persistent');
      if (bad) return bad;
      e.svc.flags |= SVC_F.persistent;
      const to = parseTimeout(t.value, 1, IPVS_DEFAULTS.timeoutMaxS);
      if (typeof to !== 'number') return to;
      e.svc.timeoutS = to;
      return undefined;
    }
    case 'M': {
      const bad = setOption(e, 'netmask');
      if (bad) return bad;
      const m = inetAton(v) ?? resolver.hostToAddr(v);
      if (m === undefined) return fail('bad-netmask', 'illegal virtual server persistent mask specified');
      e.svc.netmask = m;
      return undefined;
    }
    case 'r': {
      const bad = setOption(e, 'real-server');
      if (bad) return bad;
      const p = parseServiceAddr(v, e.svc.protocol, resolver);
      if (!(p.bits & SERVICE_ADDR)) return fail('bad-server', 'illegal real server address[:port] specified');
      e.dest.addr = p.addr; e.dest.ipv6 = p.ipv6;
      e.dest.port = p.bits === SERVICE_ADDR ? e.svc.port : p.port;
      return undefined;
    }
    case 'i': return flag('forwarding-method', () => { e.dest.forward = 'Tunnel'; });
    case 'g': return flag('forwarding-method', () => { e.dest.forward = 'Route'; });
    case 'm': return flag('forwarding-method', () => { e.dest.forward = 'Masq'; });
    case 'w': return num('weight', 0, 65535, 'weight', (n) => { e.dest.weight = n; });
    case 'x': return num('u-threshold', 0, 2147483647, 'u_threshold', (n) => { e.dest.upper = n; });
    case 'y': return num('l-threshold', 0, 2147483647, 'l_threshold', (n) => { e.dest.lower = n; });
    case 'c': return flag('connection');
    case 'n': return flag('numeric', () => { e.format.numeric = true; });
    case 'mcast-interface': return flag('mcast-interface', () => { e.daemon.mcastIfn = v.slice(0, 15); });
    case 'syncid': return num('syncid', 0, 255, 'syncid', (n) => { e.daemon.syncid = n; });
    case 'timeout': return flag('timeout');
    case 'daemon': return flag('daemon');
    case 'stats': return flag('stats', () => { e.format.stats = true; });
    case 'rate': return flag('rate', () => { e.format.rate = true; });
    case 'thresholds': return flag('thresholds', () => { e.format.thresholds = true; });
    case 'persistent-conn': return flag('persistent-conn', () => { e.format.persistentConn = true; });
    case 'nosort': return flag('nosort', () => { e.format.nosort = true; });
    case 'sort': return undefined;
    case 'X': return flag('exact', () => { e.format.exact = true; });
    case '6': return e.svc.fwmark ? err('ipv6-unsupported', 'Operation not supported with IPv6', IPVSADM_EXIT.error) : fail('ipv6-before-f', '-6 used before -f\n');
    case 'o': return flag('ops', () => { e.svc.flags |= SVC_F.onePacket; });
    case 'pe': return flag('pe');
    case 'b': return flag('sched-flags', () => { e.schedFlagsText = v; });
    case 'mcast-group': {
      const bad = setOption(e, 'mcast-group');
      if (bad) return bad;
      const g = parseSyncGroup(v);
      if (!g) return looksLikeIpv6(v) ? err('ipv6-unsupported', 'Operation not supported with IPv6', IPVSADM_EXIT.error) : fail('bad-mcast-group', 'invalid mcast-group address');
      e.daemon.group = g;
      return undefined;
    }
    case 'mcast-port': return num('mcast-port', 1, 65535, 'mcast-port', (n) => { e.daemon.port = n; });
    case 'mcast-ttl': return num('mcast-ttl', 1, 255, 'mcast-ttl', (n) => { e.daemon.ttl = n; });
    case 'sync-maxlen': return num('sync-maxlen', 1, 65535 - 20 - 8, 'sync-maxlen', (n) => { e.daemon.maxlen = n; });
    default: return fail('invalid-option', `invalid option \`${t.given}'`);
  }
}

const isMulticast = (a: number): boolean => a >>> 28 === 0xe;

/** --mcast-group: one multicast group, or (extension) unicast addr[:port] peers. */
function parseSyncGroup(text: string): DaemonOptions['group'] | undefined {
  const one = inetAton(text);
  if (one !== undefined && /^[0-9.]+$/.test(text) && isMulticast(one)) return { kind: 'multicast', addr: one };
  const peers: SyncPeer[] = [];
  for (const item of text.split(',')) {
    const m = /^([0-9.]+)(?::([0-9]+))?$/.exec(item);
    const addr = m ? inetAton(m[1]!) : undefined;
    const port = m?.[2] === undefined ? 0 : stringToNumber(m[2], 1, 65535);
    if (!m || addr === undefined || isMulticast(addr) || addr === 0xffffffff || port === -1) return undefined;
    peers.push({ addr, port });
  }
  return peers.length > 0 ? { kind: 'unicast', peers } : undefined;
}

/** ipvsadm's generic_opt_check. */
function checkOptions(cmd: CommandName, options: Set<OptName>): IpvsError | undefined {
  const row = COMMANDS_V_OPTIONS[cmd];
  let last: OptName | undefined;
  for (let j = 0; j < OPT_NAMES.length; j++) {
    const name = OPT_NAMES[j]!;
    const rule = row[j] ?? 'x';
    if (!options.has(name)) {
      if (rule === '+') return fail('missing-option', `You need to supply the '${name}' option for the '${cmd}' command`);
      continue;
    }
    if (rule === 'x') return fail('illegal-option', `Illegal '${name}' option with the '${cmd}' command`);
    if (rule === '1') {
      if (last === undefined) { last = name; continue; }
      return fail('conflicting-options', `The option '${name}' conflicts with the '${last}' option in the '${cmd}' command`);
    }
  }
  return undefined;
}

export function tryHelp(program: string): IpvsError {
  return err('try-help', `Try \`${program} -h' or '${program} --help' for more information.`, IPVSADM_EXIT.error);
}

function newEntry(): Entry {
  return {
    cmd: undefined,
    options: new Set(),
    format: { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, nosort: false, exact: false },
    svc: { fwmark: 0, protocol: 'tcp', addr: 0, port: 0, sched: '', flags: 0, timeoutS: 0, netmask: 0xffffffff, ipv6: false },
    dest: { addr: 0, port: 0, forward: 'Route', weight: 1, upper: 0, lower: 0, ipv6: false },
    daemonState: 'master',
    daemon: { mcastIfn: '', syncid: 0 },
    schedFlagsText: undefined,
    timeouts: { tcpS: 0, tcpFinS: 0, udpS: 0 },
  };
}

/** Read the command (first option) and the rest of the options into an entry. */
function readEntry(args: readonly string[], program: string, resolver: Resolver): { ok: true; e: Entry; leftovers: string[] } | IpvsError {
  const tk = tokenize(args);
  if (!tk.ok) return tk;
  const [first, ...rest] = tk.tokens;
  const cmd = first ? COMMAND_OF_OPTION[first.tag] : undefined;
  if (!first || !cmd) return tryHelp(program);
  const e = newEntry();
  e.cmd = cmd;
  if (cmd === 'start-daemon' || cmd === 'stop-daemon') {
    if (first.value !== 'master' && first.value !== 'backup') return fail('bad-daemon', cmd === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified');
    e.daemonState = first.value;
  }
  if (cmd === 'help' || cmd === 'version') return { ok: true, e, leftovers: tk.leftovers };
  for (const t of rest) {
    if (COMMAND_OF_OPTION[t.tag] !== undefined) return fail('invalid-option', `invalid option \`${t.given}'`);
    const bad = applyOption(e, t, resolver);
    if (bad) return bad;
  }
  return { ok: true, e, leftovers: tk.leftovers };
}

/** Turn leftovers into --set values or "unexpected argument" (ipvsadm checks these before the option table). */
function readLeftovers(e: Entry, leftovers: string[]): IpvsError | undefined {
  let rest = leftovers;
  if (e.cmd === 'set') {
    if (rest.length < 3) return fail('set-needs-3', '--set option requires 3 timeout values');
    const vals: number[] = [];
    for (const text of rest.slice(0, 3)) {
      const n = parseTimeout(text, 0, IPVS_DEFAULTS.timeoutMaxS);
      if (typeof n !== 'number') return n;
      vals.push(n);
    }
    e.timeouts = { tcpS: vals[0]!, tcpFinS: vals[1]!, udpS: vals[2]! };
    rest = rest.slice(3);
  }
  if (rest.length > 0) return fail('unexpected-argument', `unexpected argument ${rest[0]}`);
  return undefined;
}

/**
 * Parse one ipvsadm command line (without the program name). `program` is used in the
 * "Try ... -h" message; `resolver` resolves host and service names (numeric only by default).
 */
export function parseIpvsadm(args: readonly string[], opts: { program?: string; resolver?: Resolver } = {}): ParseResult {
  const program = opts.program ?? 'ipvsadm';
  const read = readEntry(args, program, opts.resolver ?? NUMERIC_RESOLVER);
  if (!read.ok) return read;
  const { e } = read;
  if (e.cmd === 'help' || e.cmd === 'version') return { ok: true, command: { kind: e.cmd } };
  const bad = readLeftovers(e, read.leftovers);
  if (bad) return bad;
  if (e.schedFlagsText !== undefined) {
    const f = parseSchedFlags(e.svc.sched || IPVS_DEFAULTS.scheduler, e.schedFlagsText);
    if (typeof f !== 'number') return f;
    e.svc.flags = (e.svc.flags & ~(SVC_F.sched1 | SVC_F.sched2 | SVC_F.sched3)) | f;
  }
  const cmd = e.cmd!;
  const badOpt = checkOptions(cmd, e.options);
  if (badOpt) return badOpt;
  return finish(e, cmd);
}

function finish(e: Entry, cmd: CommandName): ParseResult {
  const s = e.svc;
  if (cmd === 'add-service' || cmd === 'edit-service') {
    if (!s.fwmark && !s.port && !(s.flags & SVC_F.persistent)) return fail('zero-port', 'Zero port specified for non-persistent service');
    if (s.flags & SVC_F.onePacket && !s.fwmark && s.protocol !== 'udp') return fail('ops-udp-only', 'One-Packet Scheduling is only for UDP virtual services');
    if (!s.sched) s.sched = IPVS_DEFAULTS.scheduler;
  }
  if ((cmd === 'add-server' || cmd === 'edit-server') && !s.fwmark && (e.dest.forward === 'Tunnel' || e.dest.forward === 'Route')) e.dest.port = s.port;
  if ((cmd === 'add-server' || cmd === 'edit-server') && e.dest.ipv6 !== s.ipv6 && e.dest.forward !== 'Tunnel') return fail('mixed-af', 'Different address family is allowed only for tunneling servers');
  if (s.ipv6 || e.dest.ipv6) return err('ipv6-unsupported', 'Operation not supported with IPv6', IPVSADM_EXIT.error);
  const key: ServiceKey = s.fwmark ? { fwmark: s.fwmark, protocol: 'tcp', addr: 0, port: 0 } : { fwmark: 0, protocol: s.protocol, addr: s.addr, port: s.port };
  const hasKey = e.options.has('service-address');
  const dest: ParsedDest = { addr: e.dest.addr, port: e.dest.port, forward: e.dest.forward, weight: e.dest.weight, upperThreshold: e.dest.upper, lowerThreshold: e.dest.lower };
  switch (cmd) {
    case 'add-service': case 'edit-service':
      return { ok: true, command: { kind: cmd, service: { key, scheduler: s.sched, flags: s.flags, persistTimeoutS: s.timeoutS, netmask: s.netmask } } };
    case 'delete-service': return { ok: true, command: { kind: cmd, key } };
    case 'add-server': case 'edit-server': case 'delete-server': return { ok: true, command: { kind: cmd, key, dest } };
    case 'flush': case 'restore': return { ok: true, command: { kind: cmd } };
    case 'save': return { ok: true, command: { kind: 'save', format: e.format } };
    case 'zero': return { ok: true, command: { kind: 'zero', key: hasKey ? key : undefined } };
    case 'set': return { ok: true, command: { kind: 'set', timeouts: e.timeouts } };
    case 'start-daemon': return { ok: true, command: { kind: cmd, state: e.daemonState, daemon: e.daemon } };
    case 'stop-daemon': return { ok: true, command: { kind: cmd, state: e.daemonState } };
    case 'list': return finishList(e, key, hasKey);
  }
}

function finishList(e: Entry, key: ServiceKey, hasKey: boolean): ParseResult {
  const o = e.options;
  if (((o.has('connection') || o.has('timeout') || o.has('daemon')) && (o.has('stats') || o.has('rate') || o.has('thresholds'))) || ((o.has('timeout') || o.has('daemon')) && o.has('persistent-conn')))
    return fail('list-conflict', 'options conflicts in the list command');
  const show = o.has('connection') ? 'connections' : hasKey ? 'table' : o.has('timeout') ? 'timeout' : o.has('daemon') ? 'daemon' : 'table';
  return { ok: true, command: { kind: 'list', key: hasKey ? key : undefined, format: e.format, show } };
}

export { CMD_NAMES };
