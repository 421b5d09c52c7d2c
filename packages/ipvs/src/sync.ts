/**
 * The userspace director's sync daemons, as IPVS's (ip_vs_sync.c): a master that sends the
 * connection table and persistence templates (core.drainSync) in IPVS sync v1 messages over
 * UDP, and a backup that receives, validates and keeps them (core.applySync). Both may run in
 * one director at once (kernels since 2.6.x allow that too).
 *
 * Transport: multicast to --mcast-group (default 224.0.0.81) port --mcast-port (8848) on
 * --mcast-interface with --mcast-ttl (1), or (paceline's extension) unicast to a list of peers
 * given as --mcast-group addr[:port],... for networks without multicast. The master never sends
 * to this director's own backup, and the backup drops datagrams from this director's own master.
 * With a key (director.json syncKeyFile) every message carries an HMAC-SHA256 trailer.
 */
import * as dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { formatAddr, inetAton } from './addr.js';
import type { DirectorCore } from './core.js';
import type { DaemonControl, DaemonInfo } from './ipvsadm.js';
import { IPVSADM_EXIT, type DaemonOptions, type IpvsError, type SyncPeer } from './parse.js';
import { SYNC_WIRE, decodeSyncMessage, encodeSyncMessages, type SyncDropReason } from './sync-wire.js';

export const SYNC_DEFAULTS = {
  /** IP_VS_SYNC_GROUP and IP_VS_SYNC_PORT. */
  group: 0xe0000051,
  port: 8848,
  ttl: 1,
  /** How often the master sends what changed (the kernel flushes its buffers within 2 s). */
  flushMs: 200,
  /** How often the master looks for entries to refresh (see DirectorCore.drainSync). */
  refreshMs: 1000,
  /** Shortest accepted key (bytes). */
  keyBytesMin: 16,
} as const;

/** libipvs's messages for the daemon commands' errors. */
export const SYNC_ERRORS = {
  running: 'Daemon has already run',
  notRunning: 'No daemon is running',
  noDevice: 'No such device',
} as const;

export interface MasterStatus { mcastIfn: string; syncid: number; to: string[]; messages: number; entries: number; sendErrors: number }
export interface BackupStatus { mcastIfn: string; syncid: number; on: string; messages: number; entries: number; refused: number; dropped: Partial<Record<SyncDropReason | 'own', number>> }
export interface SyncStatus { master?: MasterStatus; backup?: BackupStatus; held: number; heldTemplates: number; adopted: number }

interface Resolved { ifn: string; ifAddr: number | undefined; syncid: number; group: Required<DaemonOptions>['group']; port: number; ttl: number; maxlen: number }

interface Master { cfg: Resolved; sock: dgram.Socket; timer: NodeJS.Timeout; lastRefreshMs: number; status: MasterStatus; ready: Promise<string | undefined> }
interface Backup { cfg: Resolved; sock: dgram.Socket; status: BackupStatus; ready: Promise<string | undefined> }

const kerr = (message: string): IpvsError => ({ ok: false, code: 'sync', message, exitCode: IPVSADM_EXIT.error });

function ipv4Of(ifn: string): number | undefined | null {
  const list = networkInterfaces()[ifn];
  if (!list) return null;
  const v4 = list.find((a) => a.family === 'IPv4');
  return v4 ? inetAton(v4.address) : undefined;
}

function localAddrs(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') out.add(a.address);
  return out;
}

/** Resolve once the socket is bound (undefined) or failed (the error's message). */
function bound(sock: dgram.Socket, port: number, addr: string | undefined, then: () => void): Promise<string | undefined> {
  return new Promise((resolve) => {
    const onError = (e: Error): void => resolve(e.message);
    sock.once('error', onError);
    sock.bind(port, addr, () => {
      sock.off('error', onError);
      try { then(); resolve(undefined); } catch (e) { resolve((e as Error).message); }
    });
  });
}

/** The master and backup daemons of one director. */
export class SyncDaemons implements DaemonControl {
  private master: Master | undefined;
  private backup: Backup | undefined;
  private started: 'master' | 'backup' | undefined;

  constructor(
    private readonly core: DirectorCore,
    private readonly log: (line: string) => void,
    private readonly now: () => number,
    private readonly key?: Buffer,
  ) {
    if (key && key.length < SYNC_DEFAULTS.keyBytesMin) throw new Error(`sync key of ${key.length} bytes: at least ${SYNC_DEFAULTS.keyBytesMin} needed`);
  }

  list(): DaemonInfo[] {
    const out: DaemonInfo[] = [];
    if (this.master) out.push({ state: 'master', mcastIfn: this.master.cfg.ifn, syncid: this.master.cfg.syncid });
    if (this.backup) out.push({ state: 'backup', mcastIfn: this.backup.cfg.ifn, syncid: this.backup.cfg.syncid });
    return out;
  }

  private resolve(opts: DaemonOptions): Resolved | IpvsError {
    const group = opts.group ?? { kind: 'multicast' as const, addr: SYNC_DEFAULTS.group };
    let ifAddr: number | undefined;
    if (opts.mcastIfn !== '' || group.kind === 'multicast') {
      const a = ipv4Of(opts.mcastIfn);
      if (a === null) return kerr(SYNC_ERRORS.noDevice);
      ifAddr = a;
    }
    const maxlen = opts.maxlen ?? SYNC_WIRE.maxlenDefault;
    // The kernel raises a too small maxlen to what holds a message; so do we (one entry).
    const least = SYNC_WIRE.headerBytes + SYNC_WIRE.entryV4Bytes + (this.key ? SYNC_WIRE.macBytes : 0);
    return { ifn: opts.mcastIfn, ifAddr, syncid: opts.syncid, group, port: opts.port ?? SYNC_DEFAULTS.port, ttl: opts.ttl ?? SYNC_DEFAULTS.ttl, maxlen: Math.max(maxlen, least) };
  }

  start(state: 'master' | 'backup', opts: DaemonOptions): IpvsError | undefined {
    if (state === 'master' ? this.master : this.backup) return kerr(SYNC_ERRORS.running);
    const cfg = this.resolve(opts);
    if ('ok' in cfg) return cfg;
    if (state === 'master') this.startMaster(cfg); else this.startBackup(cfg);
    this.started = state;
    this.log(`sync: ${state} daemon started (${describe(cfg)})`);
    return undefined;
  }

  /** The daemon the last start call started (once), for the caller to await its ready(). */
  takeStarted(): 'master' | 'backup' | undefined {
    const s = this.started;
    this.started = undefined;
    return s;
  }

  /** After start: undefined once the daemon's socket is ready, else why it failed (the daemon is then stopped). */
  async ready(state: 'master' | 'backup'): Promise<string | undefined> {
    const d = state === 'master' ? this.master : this.backup;
    if (!d) return 'not running';
    const bad = await d.ready;
    if (bad && (state === 'master' ? this.master : this.backup) === d) {
      this.log(`sync: ${state} daemon failed: ${bad}`);
      this.stop(state);
    }
    return bad;
  }

  stop(state: 'master' | 'backup'): IpvsError | undefined {
    if (state === 'master') {
      const m = this.master;
      if (!m) return kerr(SYNC_ERRORS.notRunning);
      this.master = undefined;
      clearInterval(m.timer);
      this.flush(m);
      this.core.setSyncOut(false);
      try { m.sock.close(); } catch { /* closed */ }
    } else {
      const b = this.backup;
      if (!b) return kerr(SYNC_ERRORS.notRunning);
      this.backup = undefined;
      try { b.sock.close(); } catch { /* closed */ }
    }
    this.log(`sync: ${state} daemon stopped`);
    return undefined;
  }

  close(): void {
    if (this.master) this.stop('master');
    if (this.backup) this.stop('backup');
  }

  status(): SyncStatus {
    const c = this.core.syncedCounts();
    return {
      ...(this.master ? { master: { ...this.master.status } } : {}),
      ...(this.backup ? { backup: { ...this.backup.status, refused: c.refused, dropped: { ...this.backup.status.dropped } } } : {}),
      held: c.held, heldTemplates: c.templates, adopted: c.adopted,
    };
  }

  private destinations(cfg: Resolved): { addr: string; port: number }[] {
    if (cfg.group.kind === 'multicast') return [{ addr: formatAddr(cfg.group.addr), port: cfg.port }];
    const own = this.backup;
    const local = own ? localAddrs() : new Set<string>();
    return cfg.group.peers
      .map((p: SyncPeer) => ({ addr: formatAddr(p.addr), port: p.port || cfg.port }))
      .filter((p) => !(own && p.port === own.cfg.port && (local.has(p.addr) || p.addr === '0.0.0.0')));
  }

  private startMaster(cfg: Resolved): void {
    const sock = dgram.createSocket({ type: 'udp4' });
    sock.on('error', (e) => this.log(`sync: master socket: ${e.message}`));
    const status: MasterStatus = { mcastIfn: cfg.ifn, syncid: cfg.syncid, to: [], messages: 0, entries: 0, sendErrors: 0 };
    const bindAddr = cfg.group.kind === 'multicast' && cfg.ifAddr !== undefined ? formatAddr(cfg.ifAddr) : undefined;
    const ready = bound(sock, 0, bindAddr, () => {
      if (cfg.group.kind !== 'multicast') return;
      sock.setMulticastTTL(cfg.ttl);
      // Loopback on: a backup on this host (a second director) hears it; ours drops its own.
      sock.setMulticastLoopback(true);
      if (cfg.ifAddr !== undefined) sock.setMulticastInterface(formatAddr(cfg.ifAddr));
    });
    const m: Master = { cfg, sock, lastRefreshMs: -Infinity, status, ready, timer: setInterval(() => this.flush(m), SYNC_DEFAULTS.flushMs) };
    this.master = m;
    this.core.setSyncOut(true);
  }

  /** Send what changed (and, once a second, what needs a refresh). */
  private flush(m: Master): void {
    const now = this.now();
    const refresh = now - m.lastRefreshMs >= SYNC_DEFAULTS.refreshMs;
    if (refresh) m.lastRefreshMs = now;
    const conns = this.core.drainSync(now, refresh);
    if (conns.length === 0) return;
    const to = this.destinations(m.cfg);
    m.status.to = to.map((d) => `${d.addr}:${d.port}`);
    for (const msg of encodeSyncMessages(m.cfg.syncid, conns, m.cfg.maxlen, this.key)) {
      for (const d of to) {
        m.sock.send(msg, d.port, d.addr, (e) => { if (e) m.status.sendErrors++; });
        m.status.messages++;
      }
    }
    m.status.entries += conns.length;
  }

  private startBackup(cfg: Resolved): void {
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: cfg.group.kind === 'multicast' });
    sock.on('error', (e) => this.log(`sync: backup socket: ${e.message}`));
    const on = cfg.group.kind === 'multicast' ? formatAddr(cfg.group.addr) : formatAddr(cfg.group.peers[0]!.addr);
    const status: BackupStatus = { mcastIfn: cfg.ifn, syncid: cfg.syncid, on: `${on}:${cfg.group.kind === 'unicast' ? cfg.group.peers[0]!.port || cfg.port : cfg.port}`, messages: 0, entries: 0, refused: 0, dropped: {} };
    const port = cfg.group.kind === 'unicast' ? cfg.group.peers[0]!.port || cfg.port : cfg.port;
    const local = localAddrs();
    const ready = bound(sock, port, cfg.group.kind === 'unicast' ? on : undefined, () => {
      if (cfg.group.kind === 'multicast') sock.addMembership(on, cfg.ifAddr !== undefined ? formatAddr(cfg.ifAddr) : undefined);
    });
    const b: Backup = { cfg, sock, status, ready };
    sock.on('message', (msg, rinfo) => this.receive(b, msg, rinfo, local));
    this.backup = b;
  }

  private receive(b: Backup, msg: Buffer, rinfo: dgram.RemoteInfo, local: Set<string>): void {
    const ownPort = this.master ? (this.master.sock.address() as { port?: number }).port : undefined;
    const count = (reason: SyncDropReason | 'own'): void => { b.status.dropped[reason] = (b.status.dropped[reason] ?? 0) + 1; };
    if (ownPort !== undefined && rinfo.port === ownPort && local.has(rinfo.address)) { count('own'); return; }
    b.status.messages++;
    const r = decodeSyncMessage(msg, { syncid: b.cfg.syncid, key: this.key });
    if (!r.ok) {
      if ((b.status.dropped[r.reason] ?? 0) === 0) this.log(`sync: backup dropped a message from ${rinfo.address}:${rinfo.port}: ${r.reason} (${r.detail}); further drops are only counted`);
      count(r.reason);
      return;
    }
    const a = this.core.applySync(r.conns, this.now());
    b.status.entries += a.accepted;
  }
}

function describe(c: Resolved): string {
  const where = c.group.kind === 'multicast' ? `group ${formatAddr(c.group.addr)}:${c.port}, ttl ${c.ttl}` : `peers ${c.group.peers.map((p) => `${formatAddr(p.addr)}:${p.port || c.port}`).join(',')}`;
  return `mcast=${c.ifn || '-'}, syncid=${c.syncid}, ${where}, maxlen ${c.maxlen}`;
}
