/**
 * The director's state machine, pure (time is passed in): the rule table, one scheduler per
 * service, per-destination counters with the kernel's overload (upper/lower threshold)
 * semantics, persistence templates, the connection table with states and expiry, and the
 * statistics with the kernel's 2-second rate estimator. The network driver (director.ts) calls
 * connect/traffic/close/tick and does the I/O.
 *
 * Firewall marks in userspace: there is no netfilter to mark packets, so a mark names a set of
 * listening endpoints (protocol, address, port) given in the director's configuration; a
 * connection to any of them belongs to the fwmark service with that mark. Port-zero services
 * (persistent "all ports" services) likewise listen on the ports the configuration lists for
 * their address.
 */
import { IPVS_DEFAULTS, SVC_F, destId, serviceId, type Destination, type Protocol, type RuleTable, type Service, type ServiceKey } from './model.js';
import { createScheduler, type SchedDest, type Scheduler } from './schedulers.js';
import type { ConnEntry, CountersView, DestCounters, StatsSnapshot } from './format.js';
import { ZERO_STATS } from './format.js';
import { CONN_F, IPPROTO, TCP_STATES, UDP_STATE_NORMAL, type SyncConn } from './sync-wire.js';

/** A listening endpoint of the userspace director. */
export interface Endpoint { protocol: Protocol; addr: number; port: number }

export interface CoreConfig {
  /** fwmark -> the endpoints that carry it. */
  marks?: ReadonlyMap<number, readonly Endpoint[]>;
  /** "tcp:addr" / "udp:addr" -> ports served by that address's port-zero service. */
  zeroPorts?: ReadonlyMap<string, readonly number[]>;
  /** sysctl expire_quiescent_template (default off, as in the kernel). */
  expireQuiescentTemplate?: boolean;
  /** Bound of the connection table (entries beyond it are refused). */
  connectionsMax?: number;
}

export const CORE_DEFAULTS = {
  /** Estimator period of the kernel (ip_vs_est.c): rates are averaged every 2 s. */
  estimatorPeriodMs: 2000,
  /** A bound on tracked connections (and, separately, on persistence templates), like a sized conntrack table. */
  connectionsMax: 1_000_000,
} as const;

/** Cumulative counters plus the estimator's scaled averages (ip_vs_estimator). */
export class Stats {
  conns = 0; inPkts = 0; outPkts = 0; inBytes = 0; outBytes = 0;
  private last = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
  private est = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
  estimate(): void {
    const avg = (cur: number, rate: number): number => cur + Math.floor((rate - cur) / 4);
    this.est.cps = avg(this.est.cps, (this.conns - this.last.conns) * 512);
    this.est.inpps = avg(this.est.inpps, (this.inPkts - this.last.inPkts) * 512);
    this.est.outpps = avg(this.est.outpps, (this.outPkts - this.last.outPkts) * 512);
    this.est.inbps = avg(this.est.inbps, (this.inBytes - this.last.inBytes) * 16);
    this.est.outbps = avg(this.est.outbps, (this.outBytes - this.last.outBytes) * 16);
    this.last = { conns: this.conns, inPkts: this.inPkts, outPkts: this.outPkts, inBytes: this.inBytes, outBytes: this.outBytes };
  }
  zero(): void {
    this.conns = this.inPkts = this.outPkts = this.inBytes = this.outBytes = 0;
    this.last = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
    this.est = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
  }
  snapshot(): StatsSnapshot {
    const e = this.est;
    return {
      conns: this.conns, inPkts: this.inPkts, outPkts: this.outPkts, inBytes: this.inBytes, outBytes: this.outBytes,
      cps: Math.floor((e.cps + 0x1ff) / 1024), inPps: Math.floor((e.inpps + 0x1ff) / 1024), outPps: Math.floor((e.outpps + 0x1ff) / 1024),
      inBps: Math.floor((e.inbps + 0xf) / 32), outBps: Math.floor((e.outbps + 0xf) / 32),
    };
  }
}

/** A destination's live state; structurally a SchedDest. */
export class DestRuntime implements SchedDest {
  activeConns = 0;
  inactConns = 0;
  persistConns = 0;
  overloaded = false;
  available = true;
  readonly stats = new Stats();
  /** The kernel's last_weight: follows the weight except when it is set to 0. */
  lastWeight: number;
  constructor(public rule: Destination) { this.lastWeight = rule.weight; }
  /** __ip_vs_update_dest: a new rule for the same destination. */
  update(rule: Destination): void {
    this.rule = rule;
    if (rule.weight !== 0) this.lastWeight = rule.weight;
    this.available = true;
  }
  get addr(): number { return this.rule.addr; }
  get port(): number { return this.rule.port; }
  get weight(): number { return this.rule.weight; }
  /** ip_vs_bind_dest: set OVERLOAD once total connections reach the upper threshold. */
  bound(): void {
    if (this.rule.upperThreshold !== 0 && this.activeConns + this.inactConns >= this.rule.upperThreshold) this.overloaded = true;
  }
  /** ip_vs_unbind_dest: clear OVERLOAD below the lower threshold (or 3/4 of the upper). */
  unbound(): void {
    const total = this.activeConns + this.inactConns;
    const { lowerThreshold: l, upperThreshold: u } = this.rule;
    if (l !== 0) { if (total < l) this.overloaded = false; }
    else if (u !== 0) { if (total * 4 < u * 3) this.overloaded = false; }
    else this.overloaded = false;
  }
}

class ServiceRuntime {
  readonly stats = new Stats();
  dests: DestRuntime[] = [];
  scheduler: Scheduler;
  constructor(public rule: Service) {
    this.scheduler = createScheduler(rule.scheduler, rule.flags) ?? createScheduler('wlc', 0)!;
  }
}

export type ConnState = 'ESTABLISHED' | 'FIN_WAIT' | 'TIME_WAIT' | 'CLOSE' | 'UDP' | 'NONE';

/** One tracked connection (or UDP flow). */
export interface Conn {
  readonly id: number;
  readonly protocol: Protocol;
  readonly clientAddr: number;
  readonly clientPort: number;
  readonly vip: Endpoint;
  readonly serviceKey: ServiceKey;
  readonly dest: DestRuntime;
  /** The service's counters (kept here so per-packet accounting needs no lookup). */
  readonly serviceStats: Stats;
  /** Where to connect: the destination, with its port 0 replaced by the port the client used. */
  readonly destPort: number;
  state: ConnState;
  expiresAtMs: number;
  template: Template | undefined;
  /** The expiry last sent to the backup (sync master only). */
  syncSentExpiresAtMs?: number;
}

interface Template {
  readonly key: string;
  readonly serviceKey: ServiceKey;
  readonly clientNet: number;
  readonly vip: Endpoint;
  readonly dest: DestRuntime;
  controlled: number;
  lastUseMs: number;
  readonly timeoutMs: number;
  /** When the template was last sent to the backup (sync master only). */
  syncSentMs?: number;
}

/** An entry received from a sync master, kept until it expires or a connection adopts it. */
interface SyncedEntry { readonly conn: SyncConn; readonly expiresAtMs: number }

/** What the backup side of the core holds and did (for status). */
export interface SyncedCounts {
  /** Entries held (connections and templates). */
  held: number;
  templates: number;
  /** Synced templates turned into local ones by a new connection (after a failover). */
  adopted: number;
  /** Entries refused because the synced table was full. */
  refused: number;
}

export type ConnectResult = { ok: true; conn: Conn } | { ok: false; code: 'no-service' | 'no-destination' | 'table-full' };

export interface ConnectRequest { protocol: Protocol; clientAddr: number; clientPort: number; vip: Endpoint; nowMs: number }

export class DirectorCore {
  private table: RuleTable;
  private readonly services = new Map<string, ServiceRuntime>();
  private readonly conns = new Map<number, Conn>();
  private readonly templates = new Map<string, Template>();
  private nextId = 1;
  private lastEstimateMs: number | undefined;
  /** Entries received from a sync master, by template or connection key. */
  private readonly synced = new Map<string, SyncedEntry>();
  private syncedTemplates = 0;
  private adopted = 0;
  private refused = 0;
  /** Connections and templates to send to the backup; undefined while no master daemon runs. */
  private syncDirty: Set<Conn | Template> | undefined;

  constructor(private readonly config: CoreConfig = {}, table?: RuleTable) {
    this.table = { services: [], timeouts: IPVS_DEFAULTS.timeouts };
    if (table) this.setTable(table);
  }

  getTable(): RuleTable { return this.table; }

  /** Reconcile runtimes with a new table: keep counters of surviving services and dests. */
  setTable(table: RuleTable): void {
    const seen = new Set<string>();
    for (const rule of table.services) {
      const id = serviceId(rule.key);
      seen.add(id);
      let rt = this.services.get(id);
      if (!rt) { rt = new ServiceRuntime(rule); this.services.set(id, rt); }
      else if (rt.rule.scheduler !== rule.scheduler || rt.rule.flags !== rule.flags) rt.scheduler = createScheduler(rule.scheduler, rule.flags) ?? rt.scheduler;
      rt.rule = rule;
      const old = new Map(rt.dests.map((d) => [destId(d.rule), d]));
      rt.dests = rule.dests.map((d) => {
        const existing = old.get(destId(d));
        old.delete(destId(d));
        if (existing) { existing.update(d); return existing; }
        return new DestRuntime(d);
      });
      for (const gone of old.values()) gone.available = false;
      rt.scheduler.update(rt.dests);
    }
    for (const [id, rt] of this.services) if (!seen.has(id)) { for (const d of rt.dests) d.available = false; this.services.delete(id); }
    this.table = table;
  }

  /** ip_vs_service_find: a fwmark service whose group holds the endpoint, the exact service, then port zero. */
  findService(vip: Endpoint): ServiceRuntime | undefined {
    for (const [mark, eps] of this.config.marks ?? []) {
      if (eps.some((e) => e.protocol === vip.protocol && e.addr === vip.addr && e.port === vip.port)) {
        const rt = this.services.get(serviceId({ fwmark: mark, protocol: 'tcp', addr: 0, port: 0 }));
        if (rt) return rt;
      }
    }
    return this.services.get(serviceId({ fwmark: 0, protocol: vip.protocol, addr: vip.addr, port: vip.port }))
      ?? this.services.get(serviceId({ fwmark: 0, protocol: vip.protocol, addr: vip.addr, port: 0 }));
  }

  /** Every endpoint the director must listen on for the current table. */
  endpoints(): Endpoint[] {
    const out = new Map<string, Endpoint>();
    const add = (e: Endpoint): void => { out.set(`${e.protocol}:${e.addr}:${e.port}`, e); };
    for (const s of this.table.services) {
      if (s.key.fwmark) for (const e of this.config.marks?.get(s.key.fwmark) ?? []) add(e);
      else if (s.key.port === 0) for (const p of this.config.zeroPorts?.get(`${s.key.protocol}:${s.key.addr}`) ?? []) add({ protocol: s.key.protocol, addr: s.key.addr, port: p });
      else add({ protocol: s.key.protocol, addr: s.key.addr, port: s.key.port });
    }
    return [...out.values()];
  }

  private templateKey(svc: Service, clientNet: number, vip: Endpoint): string {
    if (svc.key.fwmark) return `F${svc.key.fwmark}|${clientNet}`;
    if (svc.key.port === 0) return `Z${vip.protocol}${vip.addr}|${clientNet}`;
    return `P${vip.protocol}${vip.addr}:${vip.port}|${clientNet}`;
  }

  /** ip_vs_check_template: the template's dest must still be in the service (and not quiescent, if configured). */
  private templateValid(t: Template, nowMs: number): boolean {
    if (!t.dest.available) return false;
    if (this.config.expireQuiescentTemplate && t.dest.weight === 0) return false;
    return t.controlled > 0 || nowMs < t.lastUseMs + t.timeoutMs;
  }

  private pickPersistent(rt: ServiceRuntime, req: ConnectRequest): { dest: DestRuntime; template: Template } | undefined {
    const clientNet = (req.clientAddr & rt.rule.netmask) >>> 0;
    const key = this.templateKey(rt.rule, clientNet, req.vip);
    const existing = this.templates.get(key);
    if (existing && this.templateValid(existing, req.nowMs)) return { dest: existing.dest, template: existing };
    if (existing) this.dropTemplate(existing);
    if (this.templates.size >= (this.config.connectionsMax ?? CORE_DEFAULTS.connectionsMax)) return undefined;
    const adopted = this.adoptSynced(rt, key, clientNet, req);
    if (adopted) return { dest: adopted.dest, template: adopted };
    const dest = rt.scheduler.schedule(rt.dests, { srcAddr: req.clientAddr, srcPort: req.clientPort, dstAddr: req.vip.addr, dstPort: req.vip.port, nowMs: req.nowMs }) as DestRuntime | undefined;
    if (!dest) return undefined;
    const template: Template = { key, serviceKey: rt.rule.key, clientNet, vip: req.vip, dest, controlled: 0, lastUseMs: req.nowMs, timeoutMs: rt.rule.persistTimeoutS * 1000 };
    this.templates.set(key, template);
    dest.persistConns++;
    dest.bound();
    return { dest, template };
  }

  /**
   * A template synced from the master for this client and service, when its real server is in
   * the service here: it becomes a local template expiring when the master's would have.
   */
  private adoptSynced(rt: ServiceRuntime, key: string, clientNet: number, req: ConnectRequest): Template | undefined {
    const s = this.synced.get(key);
    if (!s) return undefined;
    this.forgetSynced(key, s);
    if (s.expiresAtMs <= req.nowMs) return undefined;
    const dest = rt.dests.find((d) => d.addr === s.conn.daddr && d.port === s.conn.dport);
    if (!dest || !dest.available || (this.config.expireQuiescentTemplate && dest.weight === 0)) return undefined;
    const timeoutMs = rt.rule.persistTimeoutS * 1000;
    const template: Template = { key, serviceKey: rt.rule.key, clientNet, vip: req.vip, dest, controlled: 0, lastUseMs: Math.min(req.nowMs, s.expiresAtMs - timeoutMs), timeoutMs };
    this.templates.set(key, template);
    dest.persistConns++;
    dest.bound();
    this.adopted++;
    return template;
  }

  private forgetSynced(key: string, s: SyncedEntry): void {
    this.synced.delete(key);
    if (s.conn.flags & CONN_F.template) this.syncedTemplates--;
  }

  private dropTemplate(t: Template): void {
    if (this.templates.get(t.key) !== t) return;
    this.templates.delete(t.key);
    t.dest.persistConns--;
    t.dest.unbound();
  }

  /** A new connection (TCP accept, or the first datagram of a UDP flow). */
  connect(req: ConnectRequest): ConnectResult {
    const rt = this.findService(req.vip);
    if (!rt) return { ok: false, code: 'no-service' };
    if (this.conns.size >= (this.config.connectionsMax ?? CORE_DEFAULTS.connectionsMax)) return { ok: false, code: 'table-full' };
    let dest: DestRuntime | undefined;
    let template: Template | undefined;
    if (rt.rule.flags & SVC_F.persistent) {
      const p = this.pickPersistent(rt, req);
      dest = p?.dest;
      template = p?.template;
    } else {
      dest = rt.scheduler.schedule(rt.dests, { srcAddr: req.clientAddr, srcPort: req.clientPort, dstAddr: req.vip.addr, dstPort: req.vip.port, nowMs: req.nowMs }) as DestRuntime | undefined;
    }
    if (!dest) return { ok: false, code: 'no-destination' };
    const udp = req.protocol === 'udp';
    const t = this.table.timeouts;
    const conn: Conn = {
      id: this.nextId++, protocol: req.protocol, clientAddr: req.clientAddr, clientPort: req.clientPort, vip: req.vip,
      serviceKey: rt.rule.key, dest, serviceStats: rt.stats, destPort: dest.port || req.vip.port,
      state: udp ? 'UDP' : 'ESTABLISHED', expiresAtMs: req.nowMs + (udp ? t.udpS : t.tcpS) * 1000, template,
    };
    if (template) { template.controlled++; template.lastUseMs = req.nowMs; }
    if (udp) dest.inactConns++; else dest.activeConns++;
    dest.bound();
    rt.stats.conns++;
    dest.stats.conns++;
    this.conns.set(conn.id, conn);
    if (this.syncDirty) { this.syncDirty.add(conn); if (template) this.syncDirty.add(template); }
    return { ok: true, conn };
  }

  /** Bytes seen on a connection: `in` from the client, `out` from the real server; one call = one packet. */
  traffic(conn: Conn, direction: 'in' | 'out', bytes: number, nowMs: number): void {
    const a = conn.serviceStats;
    const b = conn.dest.stats;
    if (direction === 'in') { a.inPkts++; a.inBytes += bytes; b.inPkts++; b.inBytes += bytes; }
    else { a.outPkts++; a.outBytes += bytes; b.outPkts++; b.outBytes += bytes; }
    const t = this.table.timeouts;
    if (conn.state === 'ESTABLISHED') conn.expiresAtMs = nowMs + t.tcpS * 1000;
    else if (conn.state === 'UDP') conn.expiresAtMs = nowMs + t.udpS * 1000;
  }

  /** The TCP connection closed: it stays in the table as inactive (TIME_WAIT) for the tcpfin timeout. */
  closed(conn: Conn, nowMs: number): void {
    if (conn.state !== 'ESTABLISHED' || this.conns.get(conn.id) !== conn) return;
    conn.state = 'TIME_WAIT';
    conn.expiresAtMs = nowMs + this.table.timeouts.tcpFinS * 1000;
    conn.dest.activeConns--;
    conn.dest.inactConns++;
    this.syncDirty?.add(conn);
  }

  private expire(conn: Conn, nowMs: number): void {
    this.conns.delete(conn.id);
    if (conn.state === 'ESTABLISHED') conn.dest.activeConns--; else conn.dest.inactConns--;
    conn.dest.unbound();
    if (conn.template) {
      conn.template.controlled--;
      conn.template.lastUseMs = nowMs;
      if (conn.template.controlled === 0) this.syncDirty?.add(conn.template);
    }
  }

  /** Expire connections and templates, run the estimator every 2 s. Returns UDP flows that expired. */
  tick(nowMs: number): Conn[] {
    const expired: Conn[] = [];
    for (const c of this.conns.values()) if (c.expiresAtMs <= nowMs) { this.expire(c, nowMs); expired.push(c); }
    for (const t of this.templates.values()) if (!this.templateValid(t, nowMs) && t.controlled === 0) this.dropTemplate(t);
    for (const [key, s] of this.synced) if (s.expiresAtMs <= nowMs) this.forgetSynced(key, s);
    this.lastEstimateMs ??= nowMs;
    while (nowMs - this.lastEstimateMs >= CORE_DEFAULTS.estimatorPeriodMs) {
      this.lastEstimateMs += CORE_DEFAULTS.estimatorPeriodMs;
      for (const rt of this.services.values()) {
        rt.stats.estimate();
        for (const d of rt.dests) d.stats.estimate();
      }
    }
    return expired;
  }

  /** -Z: zero the counters of one service or all. */
  zero(key: ServiceKey | 'all'): void {
    for (const [id, rt] of this.services) {
      if (key !== 'all' && id !== serviceId(key)) continue;
      rt.stats.zero();
      for (const d of rt.dests) d.stats.zero();
    }
  }

  counters(): CountersView {
    return {
      service: (key) => this.services.get(serviceId(key))?.stats.snapshot() ?? ZERO_STATS,
      dest: (key, dest): DestCounters => {
        const d = this.services.get(serviceId(key))?.dests.find((x) => x.addr === dest.addr && x.port === dest.port);
        return d ? { activeConns: d.activeConns, inactConns: d.inactConns, persistConns: d.persistConns, stats: d.stats.snapshot() } : { activeConns: 0, inactConns: 0, persistConns: 0, stats: ZERO_STATS };
      },
    };
  }

  /** The connection table as `ipvsadm -Lc` shows it, templates included (state NONE). */
  connections(nowMs: number): ConnEntry[] {
    const left = (at: number): number => Math.max(0, Math.ceil((at - nowMs) / 1000));
    const out: ConnEntry[] = [...this.conns.values()].map((c) => ({
      protocol: c.protocol, clientAddr: c.clientAddr, clientPort: c.clientPort, virtualAddr: c.vip.addr, virtualPort: c.vip.port,
      destAddr: c.dest.addr, destPort: c.destPort, state: c.state, expiresS: left(c.expiresAtMs),
    }));
    for (const t of this.templates.values()) {
      const fw = t.serviceKey.fwmark;
      out.push({ protocol: fw ? 'ip' : t.vip.protocol, clientAddr: t.clientNet, clientPort: 0, virtualAddr: fw ? fw : t.vip.addr, virtualPort: fw || t.serviceKey.port === 0 ? 0 : t.vip.port, destAddr: t.dest.addr, destPort: t.dest.port, state: 'NONE', expiresS: left(t.lastUseMs + t.timeoutMs) });
    }
    // As on a kernel backup, synced entries are in the table (and in ipvsadm -L -c).
    for (const { conn: c, expiresAtMs } of this.synced.values()) {
      const template = (c.flags & CONN_F.template) !== 0;
      const protocol = c.protocol === IPPROTO.tcp ? 'tcp' : c.protocol === IPPROTO.udp ? 'udp' : 'ip';
      const state = template ? 'NONE' : protocol === 'udp' ? 'UDP' : TCP_STATES[c.state] ?? 'NONE';
      out.push({ protocol, clientAddr: c.clientAddr, clientPort: c.clientPort, virtualAddr: c.vaddr, virtualPort: c.vport, destAddr: c.daddr, destPort: c.dport, state, expiresS: left(expiresAtMs) });
    }
    return out;
  }

  /**
   * Track what a sync master must send (on) or stop tracking (off). While on, new and closed
   * connections and changed templates are queued for drainSync.
   */
  setSyncOut(on: boolean): void {
    this.syncDirty = on ? (this.syncDirty ?? new Set()) : undefined;
    if (!on) return;
    for (const c of this.conns.values()) this.syncDirty!.add(c);
    for (const t of this.templates.values()) this.syncDirty!.add(t);
  }

  /**
   * The entries to send now: everything changed since the last call, plus refreshes (a
   * template still controlling connections, or a connection whose expiry moved, is sent
   * again once half its timeout has passed since it was last sent, so the backup's copy does
   * not expire while the master's lives; looked for only when `refresh`). Empty while sync out
   * is off.
   */
  drainSync(nowMs: number, refresh = true): SyncConn[] {
    const dirty = this.syncDirty;
    if (!dirty) return [];
    const t = this.table.timeouts;
    if (refresh) for (const tp of this.templates.values()) if (tp.controlled > 0 && nowMs - (tp.syncSentMs ?? -Infinity) >= tp.timeoutMs / 2) dirty.add(tp);
    if (refresh) for (const c of this.conns.values()) {
      const timeoutMs = (c.state === 'UDP' ? t.udpS : c.state === 'ESTABLISHED' ? t.tcpS : t.tcpFinS) * 1000;
      if (c.expiresAtMs - (c.syncSentExpiresAtMs ?? -Infinity) >= timeoutMs / 2) dirty.add(c);
    }
    const out: SyncConn[] = [];
    for (const x of dirty) {
      if ('id' in x) {
        if (this.conns.get(x.id) !== x) continue;
        x.syncSentExpiresAtMs = x.expiresAtMs;
        out.push(connToSync(x, nowMs));
      } else {
        if (this.templates.get(x.key) !== x) continue;
        x.syncSentMs = nowMs;
        out.push(templateToSync(x, nowMs));
      }
    }
    dirty.clear();
    return out;
  }

  /**
   * Entries received from a sync master (the backup side). A synced template replaces a local
   * one for the same client and service unless the local one still controls connections here;
   * entries expire after their timeout (0: the kernel's defaults, 3 minutes for templates).
   */
  applySync(conns: readonly SyncConn[], nowMs: number): { accepted: number; refused: number } {
    let accepted = 0;
    let refused = 0;
    const max = this.config.connectionsMax ?? CORE_DEFAULTS.connectionsMax;
    for (const c of conns) {
      const template = (c.flags & CONN_F.template) !== 0;
      const key = template ? syncTemplateKey(c) : syncConnKey(c);
      if (template) {
        const local = this.templates.get(key);
        if (local && local.controlled > 0) continue;
        if (local) this.dropTemplate(local);
      }
      const old = this.synced.get(key);
      if (!old && this.synced.size >= max) { refused++; continue; }
      if (old) this.forgetSynced(key, old);
      const timeoutS = c.timeoutS || (template ? SYNC_DEFAULT_TIMEOUT_S : this.stateTimeoutS(c));
      this.synced.set(key, { conn: c, expiresAtMs: nowMs + timeoutS * 1000 });
      if (template) this.syncedTemplates++;
      accepted++;
    }
    this.refused += refused;
    return { accepted, refused };
  }

  private stateTimeoutS(c: SyncConn): number {
    const t = this.table.timeouts;
    if (c.protocol === IPPROTO.udp) return t.udpS;
    return c.state === 1 ? t.tcpS : t.tcpFinS;
  }

  syncedCounts(): SyncedCounts {
    return { held: this.synced.size, templates: this.syncedTemplates, adopted: this.adopted, refused: this.refused };
  }

  connectionCount(): number { return this.conns.size; }
}

/** ip_vs_proc_conn: a synced entry without a timeout lives 3 minutes. */
const SYNC_DEFAULT_TIMEOUT_S = 180;

const FWD_FLAG: Record<Destination['forward'], number> = { Masq: CONN_F.masq, Local: CONN_F.localnode, Tunnel: CONN_F.tunnel, Route: CONN_F.droute };
const protoNumber = (p: Protocol): number => (p === 'tcp' ? IPPROTO.tcp : IPPROTO.udp);
const protoName = (n: number): string => (n === IPPROTO.udp ? 'udp' : 'tcp');

/** The same key as DirectorCore's templateKey, from a synced template. */
function syncTemplateKey(c: SyncConn): string {
  if (c.protocol === IPPROTO.ip) return `F${c.fwmark || c.vaddr}|${c.clientAddr}`;
  if (c.vport === 0) return `Z${protoName(c.protocol)}${c.vaddr}|${c.clientAddr}`;
  return `P${protoName(c.protocol)}${c.vaddr}:${c.vport}|${c.clientAddr}`;
}

function syncConnKey(c: SyncConn): string {
  return `C${c.protocol}|${c.clientAddr}:${c.clientPort}|${c.vaddr}:${c.vport}`;
}

function connToSync(c: Conn, nowMs: number): SyncConn {
  const tcp = c.protocol === 'tcp';
  const state = tcp ? Math.max(0, TCP_STATES.indexOf(c.state as (typeof TCP_STATES)[number])) : UDP_STATE_NORMAL;
  const flags = FWD_FLAG[c.dest.rule.forward] | (tcp && c.state !== 'ESTABLISHED' ? CONN_F.inactive : 0);
  return {
    protocol: protoNumber(c.protocol), flags, state, clientAddr: c.clientAddr, clientPort: c.clientPort,
    vaddr: c.vip.addr, vport: c.vip.port, daddr: c.dest.addr, dport: c.destPort, fwmark: c.serviceKey.fwmark,
    timeoutS: Math.max(1, Math.ceil((c.expiresAtMs - nowMs) / 1000)),
  };
}

function templateToSync(t: Template, nowMs: number): SyncConn {
  const fw = t.serviceKey.fwmark;
  const remainingMs = t.controlled > 0 ? t.timeoutMs : t.lastUseMs + t.timeoutMs - nowMs;
  return {
    protocol: fw ? IPPROTO.ip : protoNumber(t.vip.protocol), flags: CONN_F.template | FWD_FLAG[t.dest.rule.forward], state: 0,
    clientAddr: t.clientNet, clientPort: 0, vaddr: fw ? fw : t.vip.addr, vport: fw || t.serviceKey.port === 0 ? 0 : t.vip.port,
    daddr: t.dest.addr, dport: t.dest.port, fwmark: fw, timeoutS: Math.max(1, Math.ceil(remainingMs / 1000)),
  };
}
