/**
 * ipvsadm 1.31's text output: `-L` (plain, --stats, --rate, --thresholds, --persistent-conn,
 * --exact, --nosort, -n), `-S` (ipvsadm-save), `-L --timeout` and `-L -c`. Counters come from a
 * {@link CountersView}; with none, every counter prints as 0 (a table without a director).
 */
import { formatAddr, NUMERIC_RESOLVER, type Resolver } from './addr.js';
import { IPVS_DEFAULTS, SVC_F, SVC_F_SCHED_MASK, findService, type Destination, type Protocol, type RuleTable, type Service, type ServiceKey } from './model.js';
import { IPVSADM_EXIT, type IpvsError, type ListFormat } from './parse.js';

/** Totals and rates of a service or a destination (ip_vs_stats_user / stats64). */
export interface StatsSnapshot {
  conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number;
  cps: number; inPps: number; outPps: number; inBps: number; outBps: number;
}
export interface DestCounters { activeConns: number; inactConns: number; persistConns: number; stats: StatsSnapshot }

/** What the running director knows; the table alone knows nothing (all zero). */
export interface CountersView {
  service(key: ServiceKey): StatsSnapshot;
  dest(key: ServiceKey, dest: Destination): DestCounters;
}

export const ZERO_STATS: StatsSnapshot = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
export const ZERO_COUNTERS: CountersView = {
  service: () => ZERO_STATS,
  dest: () => ({ activeConns: 0, inactConns: 0, persistConns: 0, stats: ZERO_STATS }),
};

const padR = (s: string, n: number): string => s.padEnd(n);
const padL = (s: string, n: number): string => s.padStart(n);

/** print_largenum: 9 columns, scaled to K/M/G/T unless --exact. */
export function largeNum(i: number, exact: boolean): string {
  const s = String(Math.trunc(i));
  if (exact) return padL(s, s.length <= 8 ? 9 : s.length + 1);
  if (i < 1e8) return padL(s, 9);
  if (i < 1e9) return padL(String(Math.trunc(i / 1e3)), 8) + 'K';
  if (i < 1e11) return padL(String(Math.trunc(i / 1e6)), 8) + 'M';
  if (i < 1e14) return padL(String(Math.trunc(i / 1e9)), 8) + 'G';
  return padL(String(Math.trunc(i / 1e12)), 8) + 'T';
}

function addrPort(addr: number, port: number, protocol: Protocol, numeric: boolean, r: Resolver): string {
  if (numeric) return `${formatAddr(addr)}:${port}`;
  return `${r.addrToHost(addr) ?? formatAddr(addr)}:${r.portToService(port, protocol) ?? String(port)}`;
}

/** ipvs_cmp_services / ipvs_cmp_dests, with C's int arithmetic on the unsigned differences. */
const PROTO_NUM: Record<Protocol, number> = { tcp: 6, udp: 17 };
function cmpServices(a: Service, b: Service): number {
  return (a.key.fwmark - b.key.fwmark) || (PROTO_NUM[a.key.protocol] - PROTO_NUM[b.key.protocol]) || ((a.key.addr - b.key.addr) | 0) || (a.key.port - b.key.port);
}
function cmpDests(a: Destination, b: Destination): number {
  return ((a.addr - b.addr) | 0) || (a.port - b.port);
}

function title(f: ListFormat): string {
  const sub = '  -> RemoteAddress:Port\n';
  const row = (cols: string[], w: number, left: boolean): string => `${padR('Prot LocalAddress:Port', 33)} ${cols.map((c) => (left ? padR(c, w) : padL(c, w))).join(' ')}\n${sub}`;
  if (f.stats) return row(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'], 8, false);
  if (f.rate) return row(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'], 8, false);
  if (f.thresholds) return `${padR('Prot LocalAddress:Port', 33)} ${padR('Uthreshold', 10)} ${padR('Lthreshold', 10)} ${padR('ActiveConn', 10)} ${padR('InActConn', 10)}\n${sub}`;
  if (f.persistentConn) return `${padR('Prot LocalAddress:Port', 33)} ${padR('Weight', 9)} ${padR('PersistConn', 11)} ${padR('ActiveConn', 10)} ${padR('InActConn', 10)}\n${sub}`;
  return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
}

function schedFlags(s: Service): string {
  const names: string[] = [];
  if (s.scheduler === 'sh' || s.scheduler === 'mh') {
    if (s.flags & SVC_F.sched1) names.push(`${s.scheduler}-fallback`);
    if (s.flags & SVC_F.sched2) names.push(`${s.scheduler}-port`);
  } else {
    if (s.flags & SVC_F.sched1) names.push('flag-1');
    if (s.flags & SVC_F.sched2) names.push('flag-2');
  }
  if (s.flags & SVC_F.sched3) names.push('flag-3');
  return names.join(',');
}

const FWD_SWITCH = { Masq: '-m', Tunnel: '-i', Local: '-g', Route: '-g' } as const;

function serviceName(s: Service, rule: boolean, numeric: boolean, r: Resolver): string {
  if (s.key.fwmark) return rule ? `-f ${s.key.fwmark}` : `FWM  ${s.key.fwmark}`;
  const v = addrPort(s.key.addr, s.key.port, s.key.protocol, numeric, r);
  if (rule) return `${s.key.protocol === 'tcp' ? '-t' : '-u'} ${v}`;
  return `${padR(s.key.protocol.toUpperCase(), 4)} ${v}`.slice(0, 33);
}

function serviceLine(s: Service, name: string, f: ListFormat, rule: boolean, counters: CountersView): string {
  const persistent = (s.flags & SVC_F.persistent) !== 0;
  const mask = s.netmask >>> 0 !== 0xffffffff ? formatAddr(s.netmask >>> 0) : undefined;
  if (rule) {
    let line = `-A ${name} -s ${s.scheduler}`;
    if (persistent) line += ` -p ${s.persistTimeoutS}${mask ? ` -M ${mask}` : ''}`;
    if (s.flags & SVC_F.onePacket) line += ' -o';
    if (s.flags & SVC_F_SCHED_MASK) line += ` -b ${schedFlags(s)}`;
    return line;
  }
  if (f.stats || f.rate) {
    const st = counters.service(s.key);
    const vals = f.stats ? [st.conns, st.inPkts, st.outPkts, st.inBytes, st.outBytes] : [st.cps, st.inPps, st.outPps, st.inBps, st.outBps];
    return padR(name, 33) + vals.map((v) => largeNum(v, f.exact)).join('');
  }
  let line = `${name} ${s.scheduler}`;
  if (s.flags & SVC_F_SCHED_MASK) line += ` (${schedFlags(s)})`;
  if (persistent) line += ` persistent ${s.persistTimeoutS}${mask ? ` mask ${mask}` : ''}`;
  if (s.flags & SVC_F.onePacket) line += ' ops';
  return line;
}

function destLine(s: Service, d: Destination, svcName: string, f: ListFormat, rule: boolean, counters: CountersView, r: Resolver): string {
  const full = addrPort(d.addr, d.port, s.key.protocol, f.numeric, r);
  if (rule) return `-a ${svcName} -r ${full} ${FWD_SWITCH[d.forward]} -w ${d.weight}`;
  const name = full.slice(0, 28);
  const c = counters.dest(s.key, d);
  const st = c.stats;
  if (f.stats) return `  -> ${padR(name, 28)}` + [st.conns, st.inPkts, st.outPkts, st.inBytes, st.outBytes].map((v) => largeNum(v, f.exact)).join('');
  if (f.rate) return `  -> ${padR(name, 28)} ${padL(String(st.cps), 8)} ${padL(String(st.inPps), 8)} ${padL(String(st.outPps), 8)}${largeNum(st.inBps, f.exact)}${largeNum(st.outBps, f.exact)}`;
  if (f.thresholds) return `  -> ${padR(name, 28)} ${padR(String(d.upperThreshold), 10)} ${padR(String(d.lowerThreshold), 10)} ${padR(String(c.activeConns), 10)} ${padR(String(c.inactConns), 10)}`;
  if (f.persistentConn) return `  -> ${padR(name, 28)} ${padR(String(d.weight), 9)} ${padR(String(c.persistConns), 11)} ${padR(String(c.activeConns), 10)} ${padR(String(c.inactConns), 10)}`;
  return `  -> ${padR(name, 28)} ${padR(d.forward, 7)} ${padR(String(d.weight), 6)} ${padR(String(c.activeConns), 10)} ${padR(String(c.inactConns), 10)}`;
}

function serviceEntry(s: Service, f: ListFormat, rule: boolean, counters: CountersView, r: Resolver): string {
  const name = serviceName(s, rule, f.numeric, r);
  const lines = [serviceLine(s, name, f, rule, counters)];
  const dests = f.nosort ? s.dests : [...s.dests].sort(cmpDests);
  for (const d of dests) lines.push(destLine(s, d, name, f, rule, counters, r));
  return lines.join('\n') + '\n';
}

export interface FormatOptions {
  counters?: CountersView;
  resolver?: Resolver;
}

/** `ipvsadm -L [options]` for the whole table. */
export function formatList(table: RuleTable, f: ListFormat, o: FormatOptions = {}): string {
  const services = f.nosort ? table.services : [...table.services].sort(cmpServices);
  const counters = o.counters ?? ZERO_COUNTERS;
  const r = o.resolver ?? NUMERIC_RESOLVER;
  return `IP Virtual Server version ${IPVS_DEFAULTS.version} (size=${IPVS_DEFAULTS.connTabSize})\n` + title(f) + services.map((s) => serviceEntry(s, f, false, counters, r)).join('');
}

/** `ipvsadm -L -t|-u|-f service [options]`: no version line; "No such service" exits 1. */
export function formatListService(table: RuleTable, key: ServiceKey, f: ListFormat, o: FormatOptions = {}): { ok: true; text: string } | IpvsError {
  const s = findService(table, key);
  if (!s) return { ok: false, code: 'noSuchService', message: 'No such service', exitCode: IPVSADM_EXIT.listError };
  return { ok: true, text: title(f) + serviceEntry(s, f, false, o.counters ?? ZERO_COUNTERS, o.resolver ?? NUMERIC_RESOLVER) };
}

/** `ipvsadm -S [-n]` (ipvsadm-save). */
export function formatSave(table: RuleTable, f: Pick<ListFormat, 'numeric' | 'nosort'>, o: FormatOptions = {}): string {
  const full: ListFormat = { stats: false, rate: false, thresholds: false, persistentConn: false, exact: false, ...f };
  const services = f.nosort ? table.services : [...table.services].sort(cmpServices);
  return services.map((s) => serviceEntry(s, full, true, ZERO_COUNTERS, o.resolver ?? NUMERIC_RESOLVER)).join('');
}

/** `ipvsadm -L --timeout`. */
export function formatTimeouts(table: RuleTable): string {
  const t = table.timeouts;
  return `Timeout (tcp tcpfin udp): ${t.tcpS} ${t.tcpFinS} ${t.udpS}\n`;
}

/** One entry of the connection table as /proc/net/ip_vs_conn shows it. */
export interface ConnEntry {
  /** 'ip' for fwmark persistence templates (IPPROTO_IP, the mark shown as the virtual address). */
  protocol: Protocol | 'ip';
  clientAddr: number; clientPort: number;
  virtualAddr: number; virtualPort: number;
  destAddr: number; destPort: number;
  /** ESTABLISHED, FIN_WAIT, TIME_WAIT, CLOSE, UDP, NONE (templates) ... */
  state: string;
  expiresS: number;
}

/** `ipvsadm -L -c [-n]`. */
export function formatConnections(conns: readonly ConnEntry[], f: Pick<ListFormat, 'numeric'>, r: Resolver = NUMERIC_RESOLVER): string {
  const lines = ['IPVS connection entries', `pro expire ${padR('state', 11)} ${padR('source', 18)} ${padR('virtual', 18)} destination`];
  for (const c of conns) {
    const exp = `${String(Math.floor(c.expiresS / 60)).padStart(2, '0')}:${String(c.expiresS % 60).padStart(2, '0')}`;
    const ap = (a: number, p: number): string => addrPort(a, p, c.protocol === 'ip' ? 'tcp' : c.protocol, f.numeric, r);
    lines.push(`${padR(c.protocol.toUpperCase(), 3)} ${padR(exp, 6)} ${padR(c.state, 11)} ${padR(ap(c.clientAddr, c.clientPort), 18)} ${padR(ap(c.virtualAddr, c.virtualPort), 18)} ${ap(c.destAddr, c.destPort)}`);
  }
  return lines.join('\n') + '\n';
}
