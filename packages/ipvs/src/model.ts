/**
 * The rule table as the kernel's IPVS keeps it: virtual services (TCP/UDP address:port, or a
 * firewall mark) with their real servers (destinations). Values are read-only; every change
 * returns a new table, so a failed command changes nothing.
 */

export type Protocol = 'tcp' | 'udp';
/** Forwarding methods, named as `ipvsadm -L` prints them. */
export type ForwardMethod = 'Masq' | 'Local' | 'Tunnel' | 'Route';

/** Service flag bits (linux/ip_vs.h IP_VS_SVC_F_*). */
export const SVC_F = {
  persistent: 0x0001,
  onePacket: 0x0004,
  sched1: 0x0008,
  sched2: 0x0010,
  sched3: 0x0020,
} as const;
export const SVC_F_SCHED_MASK = SVC_F.sched1 | SVC_F.sched2 | SVC_F.sched3;

/**
 * Identity of a virtual service: a firewall mark (fwmark > 0; protocol/addr/port are then
 * ignored) or protocol + IPv4 address + port.
 */
export interface ServiceKey {
  readonly fwmark: number;
  readonly protocol: Protocol;
  readonly addr: number;
  readonly port: number;
}

export interface Destination {
  readonly addr: number;
  readonly port: number;
  readonly forward: ForwardMethod;
  /** 0..65535; 0 = quiescent (no new connections). */
  readonly weight: number;
  /** Upper connection threshold; 0 = none. */
  readonly upperThreshold: number;
  /** Lower connection threshold; 0 = none. */
  readonly lowerThreshold: number;
}

export interface Service {
  readonly key: ServiceKey;
  readonly scheduler: string;
  readonly flags: number;
  /** Persistence timeout in seconds (meaningful with SVC_F.persistent). */
  readonly persistTimeoutS: number;
  /** Persistence granularity mask (IPv4, host order); 0xffffffff = per client address. */
  readonly netmask: number;
  /** In the kernel's list order: the most recently added first. */
  readonly dests: readonly Destination[];
}

export interface Timeouts {
  readonly tcpS: number;
  readonly tcpFinS: number;
  readonly udpS: number;
}

export interface RuleTable {
  /** In the kernel's order of creation (ipvsadm sorts for display unless --nosort). */
  readonly services: readonly Service[];
  readonly timeouts: Timeouts;
}

/** Defaults, each with its reason. */
export const IPVS_DEFAULTS = {
  /** ipvsadm's DEF_SCHED. */
  scheduler: 'wlc',
  /** IPVS_SVC_PERSISTENT_TIMEOUT: 5 minutes. */
  persistTimeoutS: 300,
  /** ipvsadm's MAX_TIMEOUT: 31 days. */
  timeoutMaxS: 86400 * 31,
  /** The kernel's TCP ESTABLISHED, FIN_WAIT and UDP timeouts (ipvsadm -L --timeout). */
  timeouts: { tcpS: 900, tcpFinS: 120, udpS: 300 } as Timeouts,
  /** What `ipvsadm -L` reports as the IPVS version and connection hash table size. */
  version: '1.2.1',
  connTabSize: 4096,
  /** Bounds of the table: beyond them the command fails with ENOMEM like the kernel would. */
  servicesMax: 4096,
  destsPerServiceMax: 1024,
} as const;

export const SCHEDULER_NAMES = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;

export function emptyTable(): RuleTable {
  return { services: [], timeouts: IPVS_DEFAULTS.timeouts };
}

export function sameServiceKey(a: ServiceKey, b: ServiceKey): boolean {
  if (a.fwmark !== 0 || b.fwmark !== 0) return a.fwmark === b.fwmark;
  return a.protocol === b.protocol && a.addr === b.addr && a.port === b.port;
}

export function findService(table: RuleTable, key: ServiceKey): Service | undefined {
  return table.services.find((s) => sameServiceKey(s.key, key));
}

/** A stable text id for a service ("TCP 10.0.0.1:80", "FWM 1"), used as a map key. */
export function serviceId(key: ServiceKey): string {
  if (key.fwmark !== 0) return `FWM ${key.fwmark}`;
  return `${key.protocol.toUpperCase()} ${key.addr}:${key.port}`;
}

export function destId(d: { addr: number; port: number }): string {
  return `${d.addr}:${d.port}`;
}
