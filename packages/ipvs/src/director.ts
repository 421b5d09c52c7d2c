/**
 * The userspace director: applies the rule table to real traffic as a layer-4 proxy with
 * masquerading semantics (clients connect to the VIP:port, the director connects to the chosen
 * real server and copies bytes both ways; UDP flows likewise). One TCP server or UDP socket per
 * listening endpoint, reconciled after every rule change. State directory:
 *   rules          the table in ipvsadm-save format (rewritten after each change)
 *   director.json  marks, port-zero ports and health checks (see DirectorConfig)
 *   director.sock  control socket: one JSON request per line, one JSON response per line
 *   director.pid   pid of the running director
 *   director.log   one line per change (rules, health, listeners)
 */
import * as dgram from 'node:dgram';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { formatAddr, inetAton } from './addr.js';
import { DirectorCore, type Conn, type Endpoint } from './core.js';
import { formatSave } from './format.js';
import { HealthPolicy, HEALTH_DEFAULTS, type HealthCheckConfig } from './health.js';
import { probe } from './health-probes.js';
import { fileResolver } from './resolver.js';
import type { Resolver } from './addr.js';
import { runIpvsadm, type IpvsadmRun } from './ipvsadm.js';
import { emptyTable } from './model.js';
import { parseIpvsadm } from './parse.js';
import { SyncDaemons, type SyncStatus } from './sync.js';

/** director.json, version 1. Endpoints are written "tcp:127.0.0.1:80". */
export interface DirectorConfig {
  version: 1;
  marks?: Record<string, string[]>;
  zeroPorts?: Record<string, number[]>;
  checks?: HealthCheckConfig[];
  expireQuiescentTemplate?: boolean;
  /** A file holding the key (at least 16 bytes, used as is) that authenticates sync messages. */
  syncKeyFile?: string;
}

export const DIRECTOR_FILES = { rules: 'rules', config: 'director.json', socket: 'director.sock', pid: 'director.pid', log: 'director.log' } as const;
export const DIRECTOR_DEFAULTS = {
  /** How often connections and templates are expired and rates estimated. */
  tickMs: 1000,
  /** Bound on one control request line. */
  controlLineBytesMax: 1024 * 1024,
  /** Per-connection buffer for reads from the real server. */
  replyBufferBytes: 16 * 1024,
  /** Largest UDP datagram relayed. */
  udpDatagramBytesMax: 65535,
} as const;

export function parseEndpoint(text: string): Endpoint | undefined {
  const m = /^(tcp|udp):([^:]+):(\d+)$/.exec(text);
  const addr = m ? inetAton(m[2]!) : undefined;
  if (!m || addr === undefined) return undefined;
  return { protocol: m[1] as 'tcp' | 'udp', addr, port: Number(m[3]) };
}

export type ControlRequest =
  | { version: 1; op: 'ipvsadm'; args: string[]; stdin?: string }
  | { version: 1; op: 'status' }
  | { version: 1; op: 'stop' };

export interface DirectorStatus {
  pid: number;
  services: number;
  connections: number;
  listeners: { endpoint: string; error?: string }[];
  health: { service: string; targets: number }[];
  sync: SyncStatus;
}

const epName = (e: Endpoint): string => `${e.protocol}:${formatAddr(e.addr)}:${e.port}`;
const stripV6 = (a: string | undefined): number => inetAton((a ?? '').replace(/^::ffff:/, '')) ?? 0;

interface Listener { endpoint: Endpoint; close(): void; error?: string }

export class Director {
  readonly core: DirectorCore;
  private readonly listeners = new Map<string, Listener>();
  private readonly health: { policy: HealthPolicy; timer?: NodeJS.Timeout }[] = [];
  private control: net.Server | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly sockets = new Set<net.Socket>();
  private stopped = false;
  /** Names for ipvsadm output without -n and for names on input (/etc/hosts, /etc/services). */
  private readonly resolver: Resolver = fileResolver();
  onStop: (() => void) | undefined;
  /** The connection-sync daemons (--start-daemon master|backup). */
  readonly sync: SyncDaemons;

  constructor(readonly stateDir: string, readonly config: DirectorConfig, private readonly now: () => number = Date.now) {
    const marks = new Map(Object.entries(config.marks ?? {}).map(([m, eps]) => [Number(m), eps.map(parseEndpoint).filter((e): e is Endpoint => !!e)]));
    const zeroPorts = new Map(Object.entries(config.zeroPorts ?? {}).map(([k, ports]) => { const [p, a] = k.split(':'); return [`${p}:${inetAton(a ?? '') ?? 0}`, ports] as const; }));
    this.core = new DirectorCore({ marks, zeroPorts, expireQuiescentTemplate: config.expireQuiescentTemplate });
    const key = config.syncKeyFile ? readFileSync(config.syncKeyFile) : undefined;
    this.sync = new SyncDaemons(this.core, (line) => this.log(line), now, key);
  }

  /** Read a director's config from its state dir (an empty config when there is none). */
  static loadConfig(stateDir: string): DirectorConfig {
    const p = join(stateDir, DIRECTOR_FILES.config);
    if (!existsSync(p)) return { version: 1 };
    const c = JSON.parse(readFileSync(p, 'utf8')) as DirectorConfig;
    if (c.version !== 1) throw new Error(`${p}: unsupported version ${String(c.version)}`);
    return c;
  }

  log(line: string): void {
    appendFileSync(join(this.stateDir, DIRECTOR_FILES.log), `${new Date(this.now()).toISOString()} ${line}\n`);
  }

  async start(): Promise<void> {
    mkdirSync(this.stateDir, { recursive: true });
    const rulesPath = join(this.stateDir, DIRECTOR_FILES.rules);
    if (existsSync(rulesPath)) {
      const r = runIpvsadm(emptyTable(), ['-R'], { stdin: readFileSync(rulesPath, 'utf8') });
      if (r.exitCode !== 0) throw new Error(`${rulesPath}: ${r.stderr.trim()}`);
      this.core.setTable(r.table);
    }
    this.reconcileListeners();
    this.startHealth();
    this.ticker = setInterval(() => this.tick(), DIRECTOR_DEFAULTS.tickMs);
    await this.listenControl();
    writeFileSync(join(this.stateDir, DIRECTOR_FILES.pid), `${process.pid}\n`);
    this.log(`director started (pid ${process.pid}), ${this.core.getTable().services.length} services`);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.sync.close();
    clearInterval(this.ticker);
    for (const h of this.health) clearTimeout(h.timer);
    for (const l of this.listeners.values()) l.close();
    this.listeners.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.control ? this.control.close(() => resolve()) : resolve()));
    rmSync(join(this.stateDir, DIRECTOR_FILES.pid), { force: true });
    this.log('director stopped');
    this.onStop?.();
  }

  private tick(): void {
    for (const c of this.core.tick(this.now())) {
      if (c.protocol === 'udp') this.udpFlows.get(`${c.vip.port}|${c.clientAddr}:${c.clientPort}|${c.vip.addr}`)?.close();
      // An established connection idle for the tcp timeout expired from the table: close it
      // (one table walk a second instead of an idle timer refreshed on every read and write).
      else this.tcpConns.get(c.id)?.();
    }
  }

  /** Run an ipvsadm command line against the director's table; changes are saved and logged. */
  ipvsadm(args: string[], stdin?: string): IpvsadmRun {
    const before = this.core.getTable();
    const r = runIpvsadm(before, args, { stdin, resolver: this.resolver, counters: this.core.counters(), connections: () => this.core.connections(this.now()), daemons: this.sync });
    if (r.zero) this.core.zero(r.zero);
    if (r.table !== before) {
      this.core.setTable(r.table);
      this.saveRules();
      this.log(`ipvsadm ${args.join(' ')}`);
      this.reconcileListeners();
      for (const h of this.health) h.policy.sync(r.table);
    }
    return r;
  }

  /**
   * ipvsadm, waiting for a sync daemon it starts to have its socket: a daemon that cannot bind
   * (port in use, no multicast) is stopped again and the command fails with the reason.
   */
  async ipvsadmAsync(args: string[], stdin?: string): Promise<IpvsadmRun> {
    this.sync.takeStarted();
    const r = this.ipvsadm(args, stdin);
    const started = this.sync.takeStarted();
    if (!started) return r;
    const bad = await this.sync.ready(started);
    return bad ? { ...r, stderr: `${bad}\n`, exitCode: 255 } : r;
  }

  private saveRules(): void {
    const p = join(this.stateDir, DIRECTOR_FILES.rules);
    writeFileSync(p + '.tmp', formatSave(this.core.getTable(), { numeric: true, nosort: false }));
    renameSync(p + '.tmp', p);
  }

  status(): DirectorStatus {
    return {
      pid: process.pid,
      services: this.core.getTable().services.length,
      connections: this.core.connectionCount(),
      listeners: [...this.listeners.values()].map((l) => ({ endpoint: epName(l.endpoint), ...(l.error ? { error: l.error } : {}) })),
      health: this.health.map((h) => ({ service: h.policy.config.service, targets: h.policy.targets().length })),
      sync: this.sync.status(),
    };
  }

  private reconcileListeners(): void {
    const want = new Map(this.core.endpoints().map((e) => [epName(e), e]));
    for (const [name, l] of this.listeners) if (!want.has(name)) { l.close(); this.listeners.delete(name); this.log(`listener ${name} closed`); }
    for (const [name, e] of want) {
      if (this.listeners.has(name)) continue;
      const l = e.protocol === 'tcp' ? this.listenTcp(e) : this.listenUdp(e);
      this.listeners.set(name, l);
    }
  }

  private listenTcp(endpoint: Endpoint): Listener {
    // Half-close passes through (a client's FIN reaches the real server, whose reply still comes back).
    const server = net.createServer({ allowHalfOpen: true }, (client) => this.acceptTcp(client, endpoint));
    const l: Listener = { endpoint, close: () => server.close() };
    server.on('error', (err) => { l.error = err.message; this.log(`listener ${epName(endpoint)} failed: ${err.message}`); });
    server.listen(endpoint.port, formatAddr(endpoint.addr), () => this.log(`listener ${epName(endpoint)} open`));
    return l;
  }

  /** Open TCP proxy connections by connection id: what closes both sockets. */
  private readonly tcpConns = new Map<number, () => void>();

  private acceptTcp(client: net.Socket, vip: Endpoint): void {
    const r = this.core.connect({ protocol: 'tcp', clientAddr: stripV6(client.remoteAddress), clientPort: client.remotePort ?? 0, vip, nowMs: this.now() });
    if (!r.ok) { client.destroy(); return; }
    const conn = r.conn;
    // Replies are read into a buffer of the connection's own (no stream machinery, no
    // allocation per read); a buffer still held by a pending write is replaced, not reused.
    let buffer = Buffer.allocUnsafe(DIRECTOR_DEFAULTS.replyBufferBytes);
    const core = this.core;
    const now = this.now;
    const upstream: net.Socket = net.connect({
      host: formatAddr(conn.dest.addr), port: conn.destPort, noDelay: true, allowHalfOpen: true,
      onread: {
        buffer: () => buffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          core.traffic(conn, 'out', n, now());
          const more = client.write(buf.subarray(0, n));
          if (client.writableLength > 0) buffer = Buffer.allocUnsafe(DIRECTOR_DEFAULTS.replyBufferBytes);
          if (!more) client.once('drain', () => upstream.resume());
          return more;
        },
      },
    });
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    let closed = 0;
    const onClose = (s: net.Socket) => (): void => {
      this.sockets.delete(s);
      if (++closed === 2) { this.tcpConns.delete(conn.id); this.core.closed(conn, this.now()); }
    };
    client.once('close', onClose(client));
    upstream.once('close', onClose(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    this.pipe(client, upstream, conn, 'in');
    upstream.on('end', () => client.end());
    this.tcpConns.set(conn.id, () => { client.destroy(); upstream.destroy(); });
  }

  /** Copy bytes with backpressure, counting each read as a packet. */
  private pipe(from: net.Socket, to: net.Socket, conn: Conn, direction: 'in' | 'out'): void {
    const core = this.core;
    const now = this.now;
    const resume = (): void => { from.resume(); };
    from.on('data', (chunk: Buffer) => {
      core.traffic(conn, direction, chunk.length, now());
      if (!to.write(chunk)) { from.pause(); to.once('drain', resume); }
    });
    from.on('end', () => to.end());
  }

  private readonly udpFlows = new Map<string, { close(): void }>();

  private listenUdp(endpoint: Endpoint): Listener {
    const sock = dgram.createSocket('udp4');
    const l: Listener = { endpoint, close: () => { try { sock.close(); } catch { /* already closed */ } } };
    sock.on('error', (err) => { l.error = err.message; this.log(`listener ${epName(endpoint)} failed: ${err.message}`); });
    sock.on('message', (msg, rinfo) => this.udpMessage(sock, endpoint, msg, rinfo));
    sock.bind(endpoint.port, formatAddr(endpoint.addr), () => this.log(`listener ${epName(endpoint)} open`));
    return l;
  }

  private udpMessage(sock: dgram.Socket, vip: Endpoint, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const clientAddr = stripV6(rinfo.address);
    const key = `${vip.port}|${clientAddr}:${rinfo.port}|${vip.addr}`;
    let flow = this.udpFlows.get(key) as ({ close(): void; send(b: Buffer): void } | undefined);
    if (!flow) {
      const r = this.core.connect({ protocol: 'udp', clientAddr, clientPort: rinfo.port, vip, nowMs: this.now() });
      if (!r.ok) return;
      const conn = r.conn;
      const up = dgram.createSocket('udp4');
      up.on('message', (reply) => { this.core.traffic(conn, 'out', reply.length, this.now()); sock.send(reply, rinfo.port, rinfo.address); });
      up.on('error', () => undefined);
      up.connect(conn.destPort, formatAddr(conn.dest.addr));
      const pending: Buffer[] = [];
      let connected = false;
      up.once('connect', () => { connected = true; for (const b of pending.splice(0)) up.send(b); });
      const f = {
        close: (): void => { this.udpFlows.delete(key); try { up.close(); } catch { /* closed */ } },
        send: (b: Buffer): void => { this.core.traffic(conn, 'in', b.length, this.now()); if (connected) up.send(b); else pending.push(b); },
      };
      this.udpFlows.set(key, f);
      flow = f;
    }
    flow.send(msg);
  }

  private startHealth(): void {
    for (const cfg of this.config.checks ?? []) {
      const parsed = parseIpvsadm(['-L', ...cfg.service.split(' ')]);
      if (!parsed.ok || parsed.command.kind !== 'list' || !parsed.command.key) { this.log(`health check ignored: bad service "${cfg.service}"`); continue; }
      const policy = new HealthPolicy(cfg, parsed.command.key);
      policy.sync(this.core.getTable());
      const entry: { policy: HealthPolicy; timer?: NodeJS.Timeout } = { policy };
      this.health.push(entry);
      const round = async (): Promise<void> => {
        const timeoutMs = cfg.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs;
        const results = await Promise.all(policy.targets().map(async (d) => ({ d, ok: await probe(cfg.probe, formatAddr(d.addr), d.port, timeoutMs) })));
        if (this.stopped) return;
        for (const { d, ok } of results) {
          for (const a of policy.observe(d, ok, this.core.getTable())) {
            this.log(`health: ${a.log}`);
            const r = this.ipvsadm(a.args);
            if (r.exitCode !== 0) this.log(`health: ipvsadm ${a.args.join(' ')} failed: ${r.stderr.trim()}`);
          }
        }
        entry.timer = setTimeout(() => void round(), cfg.intervalMs ?? HEALTH_DEFAULTS.intervalMs);
      };
      entry.timer = setTimeout(() => void round(), 0);
    }
  }

  private listenControl(): Promise<void> {
    const path = join(this.stateDir, DIRECTOR_FILES.socket);
    rmSync(path, { force: true });
    this.control = net.createServer((s) => {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (chunk: string) => {
        buf += chunk;
        if (buf.length > DIRECTOR_DEFAULTS.controlLineBytesMax) { s.destroy(); return; }
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.handleControl(line).then((answer) => s.end(JSON.stringify(answer) + '\n'));
      });
      s.on('error', () => undefined);
    });
    return new Promise((resolve, reject) => {
      this.control!.once('error', reject);
      this.control!.listen(path, () => resolve());
    });
  }

  private async handleControl(line: string): Promise<unknown> {
    let req: ControlRequest;
    try { req = JSON.parse(line) as ControlRequest; } catch { return { ok: false, error: 'bad request' }; }
    if (req.version !== 1) return { ok: false, error: `unsupported version ${String((req as { version?: unknown }).version)}` };
    switch (req.op) {
      case 'ipvsadm': { const r = await this.ipvsadmAsync(req.args, req.stdin); return { ok: true, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }; }
      case 'status': return { ok: true, status: this.status() };
      case 'stop': setImmediate(() => void this.stop()); return { ok: true };
      default: return { ok: false, error: 'unknown op' };
    }
  }
}

/** Send one control request to a running director. */
export function controlRequest(stateDir: string, req: ControlRequest, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const s = net.connect(join(stateDir, DIRECTOR_FILES.socket));
    let buf = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error('director did not answer')); }, timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(JSON.stringify(req) + '\n'));
    s.on('data', (c: string) => { buf += c; });
    s.on('end', () => { clearTimeout(timer); try { resolve(JSON.parse(buf) as Record<string, unknown>); } catch (e) { reject(e as Error); } });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}
