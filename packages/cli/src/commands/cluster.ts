/**
 * `paceline cluster init|join|token|remove|status`: bootstrap a cluster, and add or remove nodes while it runs, without passwordless ssh.
 *
 *   node1# paceline cluster init -n web -N node1=10.0.0.1 -N node2=10.0.0.2 -N node3=10.0.0.3
 *   node2# paceline cluster join --from 10.0.0.1:5405 --token pl1.1795000000.Qx...
 *
 * `init` writes this node's configuration and a fresh authkey, starts a join service (a detached
 * `paceline cluster serve-join` process, TCP, by default on this node's messaging address and
 * port), starts the node, and prints the line to run on the other nodes. `join` proves it holds
 * the token, receives the cluster's configuration and the authkey sealed under a key derived from
 * the token (./cluster-join.ts), writes its own configuration and key, and starts the node. The
 * join service stops once every listed node joined, or when the token expires (--ttl);
 * `paceline cluster token` starts a new one on a configured node. That one also adds a node the
 * configuration does not list to the running cluster (through the member's API,
 * cluster.add-node: an agreed nodelist change every member applies and stores), then stops;
 * `paceline cluster remove NODE` takes a stopped node out again (cluster.remove-node).
 *
 * Everything is checked before anything is written: options, addresses (IP literals, this
 * machine's own for this node, the messaging port free), the files (an existing configuration,
 * authkey or CIB is kept unless --force), the join service's port, and the configuration the
 * daemon will read (`parseNodeConfig`). Files are written whole (temporary file, then rename).
 *
 * The same commands run from the crm shell's `cluster` level (`runClusterWords`).
 *
 * Exit codes: 0 done; 64 bad option or input; 66 (token) the configuration or key does not load; 69 the join service cannot be reached or refused;
 * 73 a file exists (without --force) or cannot be written; 77 the token is wrong or expired;
 * 1 the node did not start (the files are written).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { NODE_CONFIG_DEFAULTS, NODE_CONFIG_PATH_DEFAULT, formatDiagnostics, loadNodeConfig, parseHostPort, parseNodeConfig } from '@paceline/daemon';
import { AUTHKEY_BYTES_DEFAULT, AUTHKEY_BYTES_MAX, AUTHKEY_BYTES_MIN, describeKeyError, readAuthKey } from '@paceline/messaging';
import { ApiClient, ApiError } from '@paceline/controller';
import { JoinRefusedError, JoinService, newJoinToken, parseJoinToken, requestJoin, tokenExpired, type AddNode, type JoinGrant, type JoinOffer, type JoinServiceEvent, type OfferNode } from './cluster-join.js';
import { parseDuration } from './drill-options.js';
import { apiSocket, ToolError } from './live.js';

export const CLUSTER_EXIT = { ok: 0, failed: 1, usage: 64, noInput: 66, unavailable: 69, cantCreate: 73, noPerm: 77 } as const;

/** Defaults of the bootstrap commands, each with its reason. */
export const CLUSTER_DEFAULTS = {
  clusterName: { value: 'hacluster', reason: "crmsh's default cluster name" },
  port: { value: 5405, reason: "corosync's and paceline's messaging port (UDP); the join service listens on the same number over TCP" },
  ttl: { value: '1h', reason: 'long enough to walk to the other nodes, short enough that a leaked token soon stops working' },
  unit: { value: 'paceline.service', reason: 'the systemd unit (packages/daemon/paceline.service) reads /etc/paceline/paceline.json' },
} as const;

const TTL_MAX_MS = 7 * 24 * 3600_000;
const SERVICE_READY_TIMEOUT_MS = 10_000;

/** Where the command's lines go. */
export interface ClusterIo {
  out(line: string): void;
  err(line: string): void;
}

const usage = (msg: string): ToolError => new ToolError(CLUSTER_EXIT.usage, msg);

// ---------------------------------------------------------------------------------------------
// Input

/** "30m", "1h", "90s", "2d" in milliseconds; 10 s .. 7 d. */
export function parseTtl(text: string): number {
  let ms = NaN;
  try {
    ms = parseDuration(text);
  } catch {
    // Reported below, with the range.
  }
  if (!(ms >= 10_000 && ms <= TTL_MAX_MS)) throw usage(`--ttl ${text}: expected a duration like 30m, 1h or 2d, from 10s to 7d`);
  return ms;
}

/**
 * IP, IP:PORT, [v6] or [v6]:PORT (an IP literal: no name lookups); the port defaults to
 * `defaultPort`; port 0 ("any free one") only where `anyPort` allows it.
 */
export function parseAddress(text: string, defaultPort: number, what: string, anyPort = false): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(text) ?? /^()([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)()$/.exec(text);
  const host = m ? (m[1] || m[2])! : '';
  const port = m?.[3] ? Number(m[3]) : defaultPort;
  if (isIP(host) === 0 || port > 65535 || (port === 0 && !anyPort)) throw usage(`${what} ${JSON.stringify(text)}: expected an IP address with an optional port (10.0.0.1, 10.0.0.1:5405, [fd00::1]:5405)`);
  return { host, port };
}

const formatAddress = (a: { host: string; port: number }): string => (isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

/** NAME=ADDRESS of --node. */
export function parseNodeSpec(text: string, defaultPort: number): { name: string; host: string; port: number } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw usage(`--node ${JSON.stringify(text)}: expected NAME=ADDRESS (node2=10.0.0.2 or node2=10.0.0.2:5405)`);
  return { name: text.slice(0, eq), ...parseAddress(text.slice(eq + 1), defaultPort, `--node ${text.slice(0, eq)}=`) };
}

/** This machine's IP addresses, non-loopback first; of one interface when `iface` is given. */
export function localAddresses(iface?: string): string[] {
  const all = networkInterfaces();
  if (iface !== undefined && all[iface] === undefined) throw usage(`-i ${iface}: no such network interface (${Object.keys(all).join(', ')})`);
  const list = Object.entries(all)
    .filter(([name]) => iface === undefined || name === iface)
    .flatMap(([, addrs]) => addrs ?? [])
    .filter((a) => !a.address.startsWith('fe80:'));
  return [...list.filter((a) => !a.internal), ...list.filter((a) => a.internal)].map((a) => a.address);
}

const shortHostname = (): string => hostname().split('.')[0]!;

/** Fails unless `host` is an address of this machine (a node binds its own address). */
function requireLocal(host: string, who: string): void {
  if (host === '0.0.0.0' || host === '::') throw usage(`${who}: ${host} is a wildcard; a node's address must be the one its peers send to`);
  if (!localAddresses().includes(host)) throw usage(`${who}: ${host} is not an address of this machine (${localAddresses().join(', ')})`);
}

/** Binds UDP host:port and releases it: the node will bind it too. */
async function requireUdpFree(host: string, port: number, who: string): Promise<void> {
  const sock = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((res, rej) => {
    sock.once('error', (e: NodeJS.ErrnoException) => rej(new ToolError(CLUSTER_EXIT.usage, `${who}: cannot bind ${formatAddress({ host, port })}/udp: ${e.code === 'EADDRINUSE' ? 'the port is in use (is a node running already?)' : e.message}`)));
    sock.bind({ address: host, port, exclusive: true }, () => res());
  }).finally(() => {
    try {
      sock.close();
    } catch {
      // Never bound.
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Files

/** The paths a node's bootstrap writes or depends on. */
interface NodePaths {
  readonly config: string;
  readonly authkey: string;
  readonly dataDir: string;
  readonly socket: string;
}

function nodePaths(o: { config: string; authkey?: string; dataDir?: string; socket?: string }): NodePaths {
  const config = resolve(o.config);
  return {
    config,
    authkey: resolve(o.authkey ?? join(dirname(config), 'authkey')),
    dataDir: resolve(o.dataDir ?? NODE_CONFIG_DEFAULTS.dataDir.value),
    socket: resolve(o.socket ?? NODE_CONFIG_DEFAULTS.apiSocket.value),
  };
}

/** Refuses to replace a configuration, an authkey or a CIB without --force; warnings for what --force keeps. */
function checkTargets(p: NodePaths, force: boolean, io: ClusterIo): void {
  const cib = join(p.dataDir, 'paceline.db');
  const present = [p.config, p.authkey, cib].filter((f) => existsSync(f));
  if (present.length === 0) return;
  if (!force) throw new ToolError(CLUSTER_EXIT.cantCreate, `${present.join(', ')} exist${present.length === 1 ? 's' : ''}: this node is configured already (--force replaces the configuration and the key${present.includes(cib) ? `; remove ${cib} for a fresh CIB` : ''})`);
  if (present.includes(cib)) io.err(`WARNING: ${cib} holds a CIB from before: the node brings it into the cluster; remove it for a fresh start`);
}

/** The node-local part of a configuration (paths of this machine). */
function localSections(p: NodePaths): { messaging: Record<string, unknown>; rest: Record<string, unknown> } {
  return {
    messaging: { authkeyPath: p.authkey, statusPath: join(dirname(p.socket), 'messaging-status.json'), incarnationPath: join(p.dataDir, 'incarnation') },
    rest: { dataDir: p.dataDir, api: { socket: p.socket }, log: { level: 'info', target: 'stderr' } },
  };
}

const LOCAL_MESSAGING_KEYS = ['authkeyPath', 'statusPath', 'incarnationPath'];

/** The cluster-wide messaging settings of a configuration's messaging section (no local paths). */
export function clusterMessaging(messaging: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(messaging).filter(([k]) => !LOCAL_MESSAGING_KEYS.includes(k)));
}

/** A whole configuration value checked as the daemon will read it; a ToolError names each problem. */
function checkedConfig(value: Record<string, unknown>, configPath: string): string {
  const r = parseNodeConfig(value, dirname(configPath));
  if (r.config === undefined) throw usage(`the configuration would not load:\n${formatDiagnostics(r.diagnostics.filter((d) => d.severity === 'error'))}`);
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync never returns for some paths
 * (/proc/x, where mkdir fails with ENOENT forever), and a bad --config must end with an error.
 */
function ensureDir(dir: string, mode: number): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  const made: string[] = [];
  try {
    for (const d of missing) {
      mkdirSync(d, { mode });
      made.push(d);
    }
  } catch (e) {
    removeDirs(made);
    throw e;
  }
  return made;
}

/** Removes directories this command made (deepest first), when they are still empty. */
function removeDirs(dirs: readonly string[]): void {
  for (const d of [...dirs].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      // Not empty (something else put a file there), or gone: leave it.
    }
  }
}

/** A temporary file beside `path`, written and synced: renamed into place by `commit`. */
interface Staged {
  readonly path: string;
  readonly tmp: string;
  /** Directories made for it (removed again when it is discarded). */
  readonly dirs: readonly string[];
}

function stage(path: string, data: Buffer | string, mode: number): Staged {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let dirs: string[] = [];
  try {
    dirs = ensureDir(dirname(path), 0o755);
    const fd = openSync(tmp, 'wx', mode);
    try {
      if (typeof data === 'string') writeSync(fd, data);
      else writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    removeDirs(dirs);
    throw new ToolError(CLUSTER_EXIT.cantCreate, `cannot write ${path}: ${(e as Error).message}`);
  }
  return { path, tmp, dirs };
}

/** Removes staged files (and the directories made for them), newest first. */
function discard(staged: readonly Staged[]): void {
  for (const s of [...staged].reverse()) {
    rmSync(s.tmp, { force: true });
    removeDirs(s.dirs);
  }
}

function commit(staged: readonly Staged[]): void {
  try {
    for (const s of staged) renameSync(s.tmp, s.path);
  } catch (e) {
    discard(staged);
    throw new ToolError(CLUSTER_EXIT.cantCreate, `cannot write ${staged.map((s) => s.path).join(', ')}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Starting the node

interface StartChoice {
  readonly start: boolean;
}

/** Before anything is written: can the node be started as asked? */
function checkStart(p: NodePaths, opts: StartChoice): void {
  if (!opts.start) return;
  if (p.config !== NODE_CONFIG_PATH_DEFAULT) {
    throw usage(`the node is started through systemd (${CLUSTER_DEFAULTS.unit.value}), which reads ${NODE_CONFIG_PATH_DEFAULT}, not ${p.config}: pass --no-start and run \`paceline node start --config ${p.config}\``);
  }
  try {
    execFileSync('systemctl', ['--version'], { stdio: 'ignore' });
  } catch {
    throw usage('systemctl is not available to start the node: pass --no-start and run `paceline node start` under your service manager');
  }
}

function startNode(p: NodePaths, opts: StartChoice, io: ClusterIo, quiet: boolean): number {
  if (!opts.start) {
    if (!quiet) io.out(`Not started (--no-start): run \`paceline node start --config ${p.config}\` (or \`systemctl enable --now ${CLUSTER_DEFAULTS.unit.value}\`).`);
    return CLUSTER_EXIT.ok;
  }
  try {
    execFileSync('systemctl', ['enable', '--now', CLUSTER_DEFAULTS.unit.value], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    io.err(`ERROR: the files are written, but \`systemctl enable --now ${CLUSTER_DEFAULTS.unit.value}\` failed: ${stderr || (e as Error).message}`);
    return CLUSTER_EXIT.failed;
  }
  if (!quiet) io.out(`Started the node (systemctl enable --now ${CLUSTER_DEFAULTS.unit.value}).`);
  return CLUSTER_EXIT.ok;
}

// ---------------------------------------------------------------------------------------------
// The join service process

/** The built binary (the same path from src/ and dist/). */
const pacelineBin = fileURLToPath(new URL('../../bin/paceline.js', import.meta.url));

/** What `paceline cluster serve-join` reads on stdin. */
interface ServeJoinInput {
  readonly offer: JoinOffer;
  readonly host: string;
  readonly port: number;
  /** The serving node's API socket (`cluster token` on a configured node): nodes the offer does not list are added through it. */
  readonly apiSocket?: string;
}

/** How long adding a node may take: the API call waits for the cluster to agree (daemon NODELIST_CHANGE_TIMEOUT_MS) and some. */
const ADD_NODE_TIMEOUT_MS = 20_000;

/** cluster.add-node through the serving node's API (the join service's AddNode). */
function addNodeVia(apiSocket: string): AddNode {
  return async (n) => {
    let api: ApiClient;
    try {
      api = await ApiClient.connect({ socket: apiSocket });
    } catch (e) {
      return { ok: false, message: `the node serving the join is not running (API socket ${apiSocket}: ${(e as Error).message}); start it, or use \`paceline cluster token\` on a running node` };
    }
    try {
      const r = await api.request('cluster.add-node', { name: n.name, address: n.address, ...(n.id !== undefined ? { id: n.id } : {}) }, { timeoutMs: ADD_NODE_TIMEOUT_MS });
      return { ok: true, node: r.node, nodelist: r.nodelist };
    } catch (e) {
      return { ok: false, message: e instanceof ApiError ? `${e.code}: ${e.message}` : (e as Error).message };
    } finally {
      await api.close();
    }
  };
}

/**
 * Starts the join service as a detached process (it outlives this command), handing it the
 * offer on a pipe (never in argv or a file). Resolves once it listens, with its pid and port;
 * rejects with its listen error (port in use, address not ours).
 */
async function spawnJoinService(input: ServeJoinInput, logPath: string): Promise<{ pid: number; port: number }> {
  const hadLog = existsSync(logPath);
  let dirs: string[] = [];
  let logFd: number;
  try {
    dirs = ensureDir(dirname(logPath), 0o750);
    logFd = openSync(logPath, 'a', 0o600);
  } catch (e) {
    removeDirs(dirs);
    throw new ToolError(CLUSTER_EXIT.cantCreate, `cannot write the join service's log ${logPath}: ${(e as Error).message}`);
  }
  const child = spawn(process.execPath, [pacelineBin, 'cluster', 'serve-join'], { detached: true, stdio: ['pipe', 'pipe', logFd] });
  closeSync(logFd);
  child.stdin!.end(JSON.stringify(input));
  try {
    const line = await firstLine(child);
    const r = JSON.parse(line) as { ok: boolean; port?: number; error?: string };
    if (!r.ok) throw new ToolError(CLUSTER_EXIT.usage, r.error ?? 'the join service did not start');
    return { pid: child.pid!, port: r.port! };
  } catch (e) {
    child.kill('SIGKILL');
    if (!hadLog) rmSync(logPath, { force: true });
    removeDirs(dirs);
    throw e instanceof ToolError ? e : new ToolError(CLUSTER_EXIT.failed, `the join service did not start: ${(e as Error).message} (log: ${logPath})`);
  } finally {
    child.stdout!.destroy();
    child.unref();
  }
}

function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`no answer within ${SERVICE_READY_TIMEOUT_MS / 1000} s`)), SERVICE_READY_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        res(buf.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`exited with ${code}`));
    });
  });
}

/** `paceline cluster serve-join` (internal): the service process. Logs JSON lines to stderr. */
async function serveJoin(): Promise<number> {
  const log = (fields: Record<string, unknown>): void => void process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), ...fields })}\n`);
  let input: ServeJoinInput;
  try {
    input = JSON.parse(readFileSync(0, 'utf8')) as ServeJoinInput;
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: `bad input: ${(e as Error).message}` })}\n`);
    return CLUSTER_EXIT.usage;
  }
  let svc: JoinService;
  try {
    svc = await JoinService.start({
      host: input.host,
      port: input.port,
      offer: input.offer,
      onEvent: (e: JoinServiceEvent) => log(e as unknown as Record<string, unknown>),
      ...(input.apiSocket !== undefined ? { addNode: addNodeVia(input.apiSocket) } : {}),
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const where = `${formatAddress(input)}/tcp`;
    const why = err.code === 'EADDRINUSE' ? 'the port is in use (--join-listen picks another)' : err.code === 'EADDRNOTAVAIL' ? 'not an address of this machine' : err.message;
    process.stdout.write(`${JSON.stringify({ ok: false, error: `cannot listen for joins on ${where}: ${why}` })}\n`);
    return CLUSTER_EXIT.usage;
  }
  log({ event: 'listening', address: `${formatAddress({ host: input.host, port: svc.port })}/tcp`, expires: new Date(input.offer.expiresAtMs).toISOString(), pid: process.pid });
  process.stdout.write(`${JSON.stringify({ ok: true, port: svc.port })}\n`);
  process.on('SIGTERM', () => svc.close());
  process.on('SIGINT', () => svc.close());
  await svc.stopped;
  return CLUSTER_EXIT.ok;
}

/** A running join service: where it listens and its process. */
interface OfferedJoins {
  readonly offer: JoinOffer;
  readonly from: string;
  readonly pid: number;
  readonly logPath: string;
  /** New nodes are added to the running cluster (through this API socket). */
  readonly adds: boolean;
}

/** Starts the join service for `offer` on `listen` (port 0: any free one); with `apiSocket`, it adds new nodes through that node. */
async function startJoins(offer: JoinOffer, listen: { host: string; port: number }, logPath: string, apiSocket?: string): Promise<OfferedJoins> {
  const svc = await spawnJoinService({ offer, ...listen, ...(apiSocket !== undefined ? { apiSocket } : {}) }, logPath);
  return { offer, from: formatAddress({ host: listen.host, port: svc.port }), pid: svc.pid, logPath, adds: apiSocket !== undefined };
}

/** Stops a join service this command started (its files could not be written after all). */
function stopJoins(j: OfferedJoins): void {
  try {
    process.kill(j.pid, 'SIGTERM');
  } catch {
    // Gone already.
  }
}

/** Prints where the join service listens, until when, and the line to run on the other nodes (alone with --quiet). */
function printJoinLine(j: OfferedJoins, io: ClusterIo, quiet: boolean): void {
  const line = `paceline cluster join --from ${j.from} --token ${j.offer.token}`;
  if (quiet) return io.out(line);
  const waiting = j.offer.nodes.filter((n) => n.name !== j.offer.initNode).map((n) => n.name);
  const until = j.adds ? 'or until it added one new node' : `or until ${waiting.join(', ')} joined`;
  io.out(`Join service on ${j.from}/tcp (pid ${j.pid}) until ${new Date(j.offer.expiresAtMs).toISOString()}, ${until}; log ${j.logPath}.`);
  if (!j.adds || waiting.length > 0) io.out(`On each other node (${waiting.join(', ')}), run (with --node-name NAME where the hostname is not the node's name):`);
  if (j.adds) io.out(`${waiting.length > 0 ? 'Or on' : 'On'} a new machine, which the running cluster adds to its nodelist (--node-name NAME, --bind IP[:PORT] for its messaging address; default: the hostname and the first IPv4 address):`);
  io.out('');
  io.out(`  ${line}`);
  io.out('');
}

// ---------------------------------------------------------------------------------------------
// init

/** The options of the files a node gets, and whether to start it (addNodeFileOptions): init and join. */
interface NodeFileOptions {
  readonly config: string;
  readonly authkey?: string;
  readonly dataDir?: string;
  readonly socket?: string;
  readonly force?: boolean;
  readonly start: boolean;
  readonly quiet?: boolean;
  readonly yes?: boolean;
}

export interface InitOptions extends NodeFileOptions {
  readonly name: string;
  readonly node?: readonly string[];
  readonly nodeName?: string;
  readonly bind?: string;
  readonly interface?: readonly string[];
  readonly port: string;
  readonly joinListen?: string;
  readonly ttl: string;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw usage(`--port ${text}: expected a port number 1..65535`);
  return port;
}

/** This node's name and address from --node-name, --bind, -i and --node. */
function selfEntry(o: InitOptions, specs: readonly { name: string; host: string; port: number }[], port: number): { name: string; host: string; port: number } {
  if ((o.interface?.length ?? 0) > 1) throw usage('-i: one interface (one messaging link); a second link is configured by editing messaging.links and every node\'s addresses');
  if (o.bind !== undefined && o.interface?.length) throw usage('--bind and -i both name this node\'s address: give one');
  const name = o.nodeName ?? shortHostname();
  const listed = specs.find((s) => s.name === name);
  const iface = o.interface?.[0];
  const viaIface = iface === undefined ? undefined : localAddresses(iface).filter((a) => isIP(a) === 4)[0] ?? localAddresses(iface)[0];
  if (iface !== undefined && viaIface === undefined) throw usage(`-i ${iface}: the interface has no address`);
  const chosen = o.bind !== undefined ? parseAddress(o.bind, listed?.port ?? port, '--bind') : viaIface !== undefined ? { host: viaIface, port: listed?.port ?? port } : listed;
  if (listed && chosen && (listed.host !== chosen.host || listed.port !== chosen.port)) throw usage(`--node ${name}=${formatAddress(listed)} and ${o.bind !== undefined ? `--bind ${o.bind}` : `-i ${iface}`} give this node two addresses`);
  const self = chosen ?? { host: localAddresses().find((a) => isIP(a) === 4 && !a.startsWith('127.')) ?? '', port };
  if (self.host === '') throw usage('this machine has no non-loopback IPv4 address: name this node\'s address with --bind or -i');
  return { name, ...self };
}

/** The nodelist: --node entries in their order, this node first when not among them; ids 1..n. */
function nodelist(o: InitOptions, port: number): { self: { name: string; host: string; port: number }; nodes: OfferNode[] } {
  const specs = (o.node ?? []).map((s) => parseNodeSpec(s, port));
  const self = selfEntry(o, specs, port);
  const all = specs.some((s) => s.name === self.name) ? specs.map((s) => (s.name === self.name ? self : s)) : [self, ...specs];
  const seen = new Map<string, string>();
  for (const n of all) {
    const a = formatAddress(n);
    if (seen.has(a)) throw usage(`${n.name} and ${seen.get(a)} have the same address ${a}`);
    seen.set(a, n.name);
  }
  return { self, nodes: all.map((n, i) => ({ id: i + 1, name: n.name, addresses: [formatAddress(n)], votes: 1 })) };
}

/** `paceline cluster init`. */
export async function clusterInit(o: InitOptions, io: ClusterIo): Promise<number> {
  const port = parsePort(o.port);
  const ttlMs = parseTtl(o.ttl);
  const { self, nodes } = nodelist(o, port);
  const listen = o.joinListen !== undefined ? parseAddress(o.joinListen, self.port, '--join-listen', true) : { host: self.host, port: self.port };
  const p = nodePaths(o);
  const local = localSections(p);
  const messaging = { crypto: { mode: 'hmac-sha256', encrypt: false }, links: [{ transport: 'udpu' }], quorum: { twoNode: nodes.length === 2 } };
  const value = { clusterName: o.name, node: { id: nodes.find((n) => n.name === self.name)!.id, name: self.name }, nodes, messaging: { ...local.messaging, ...messaging }, ...local.rest };
  const configText = checkedConfig(value, p.config);
  requireLocal(self.host, `node ${self.name}`);
  checkTargets(p, o.force ?? false, io);
  checkStart(p, o);
  await requireUdpFree(self.host, self.port, `node ${self.name}`);
  const authkey = randomBytes(AUTHKEY_BYTES_DEFAULT);
  const token = newJoinToken(Date.now(), ttlMs);
  const offer: JoinOffer = { token: token.text, expiresAtMs: token.expiresAtMs, clusterName: o.name, initNode: self.name, nodes, messaging: clusterMessaging(value.messaging), authkey: authkey.toString('base64') };
  const staged = [stage(p.authkey, authkey, 0o400)];
  let joins: OfferedJoins | undefined;
  try {
    staged.push(stage(p.config, configText, 0o644));
    if (nodes.length > 1) joins = await startJoins(offer, listen, join(p.dataDir, 'join-service.log'));
    commit(staged);
  } catch (e) {
    discard(staged);
    if (joins) stopJoins(joins);
    throw e;
  }
  const quiet = o.quiet ?? false;
  if (!quiet) io.out(`Wrote ${p.config} (cluster ${o.name}: ${nodes.map((n) => `${n.name} ${n.addresses[0]}`).join(', ')}; this node ${self.name}) and ${p.authkey} (${AUTHKEY_BYTES_DEFAULT} random bytes, mode 0400).`);
  const code = startNode(p, o, io, quiet);
  if (joins) printJoinLine(joins, io, quiet);
  else if (!quiet) io.out('A one-node cluster: no join service (name the other nodes with --node to let them join).');
  return code;
}

// ---------------------------------------------------------------------------------------------
// join

export interface JoinOptions extends NodeFileOptions {
  readonly from: string;
  readonly token?: string;
  readonly nodeName?: string;
  readonly interface?: readonly string[];
  /** A node the cluster does not list yet: its messaging address, IP[:PORT]. */
  readonly bind?: string;
  /** A node the cluster does not list yet: the node id to ask for. */
  readonly nodeId?: string;
}

/** The token of --token or $PACELINE_JOIN_TOKEN (which keeps it out of the process list), checked for form and expiry. */
function joinToken(o: JoinOptions): string {
  const text = o.token ?? process.env.PACELINE_JOIN_TOKEN;
  if (text === undefined || text === '') throw usage('--token TOKEN (or $PACELINE_JOIN_TOKEN) is required: the token `paceline cluster init` printed');
  const t = parseJoinToken(text);
  if (!t.ok) throw usage(`--token: ${t.reason}`);
  const expired = tokenExpired(t.token, Date.now());
  if (expired !== undefined) throw new ToolError(CLUSTER_EXIT.noPerm, expired);
  return t.token.text;
}

/** Asks the service; its refusals and failures as ToolErrors with their exit codes. */
async function fetchGrant(o: JoinOptions, token: string, wishes: { bind?: string; nodeId?: number }): Promise<JoinGrant> {
  const from = parseAddress(o.from, CLUSTER_DEFAULTS.port.value, '--from');
  if ((o.interface?.length ?? 0) > 1) throw usage('-i: one interface (one messaging link)');
  const who = { name: o.nodeName, hostname: shortHostname(), addresses: localAddresses(o.interface?.[0]), ...wishes };
  try {
    return await requestJoin({ host: from.host, port: from.port, token, who });
  } catch (e) {
    if (e instanceof JoinRefusedError) throw new ToolError(e.code === 'bad-token' || e.code === 'expired' ? CLUSTER_EXIT.noPerm : e.code === 'bad-request' || e.code === 'version' ? CLUSTER_EXIT.unavailable : CLUSTER_EXIT.usage, e.message);
    throw new ToolError(CLUSTER_EXIT.unavailable, (e as Error).message);
  }
}

/**
 * --bind and --node-id, for a node the cluster does not list yet. An address given with --bind is
 * checked here, before the cluster adds the node: it must be this machine's, and its UDP port free
 * (a port is checked only when given; the cluster's default port is checked once the grant came).
 */
function newNodeWishes(o: JoinOptions): { bind?: string; nodeId?: number } {
  let nodeId: number | undefined;
  if (o.nodeId !== undefined) {
    nodeId = Number(o.nodeId);
    if (!/^\d+$/.test(o.nodeId) || nodeId < 1 || nodeId > 0xffffffff) throw usage(`--node-id ${o.nodeId}: expected a node id 1..4294967295`);
  }
  if (o.bind === undefined) return nodeId !== undefined ? { nodeId } : {};
  const addr = parseAddress(o.bind, 0, '--bind', true);
  requireLocal(addr.host, '--bind');
  return { bind: addr.port === 0 ? addr.host : formatAddress(addr), ...(nodeId !== undefined ? { nodeId } : {}) };
}

/** `paceline cluster join`. */
export async function clusterJoin(o: JoinOptions, io: ClusterIo): Promise<number> {
  const token = joinToken(o);
  const p = nodePaths(o);
  checkTargets(p, o.force ?? false, io);
  checkStart(p, o);
  const wishes = newNodeWishes(o);
  if (o.bind !== undefined) {
    const b = parseAddress(o.bind, 0, '--bind', true);
    if (b.port !== 0) await requireUdpFree(b.host, b.port, '--bind');
  }
  const grant = await fetchGrant(o, token, wishes);
  try {
    return await writeJoined(grant, p, o, io);
  } catch (e) {
    // The running cluster lists the node already: say how to undo that, or to finish by hand.
    if (!(e instanceof ToolError) || grant.added !== true) throw e;
    throw new ToolError(e.exitCode, `${e.message}\nThe running cluster has added ${grant.node.name} (node ${grant.node.id}) to its nodelist already, and counts its vote: fix this and run the join again with --node-name ${grant.node.name} (a new token), or take it out with \`paceline cluster remove ${grant.node.name}\` on a member.`);
  }
}

/** Writes what a join received: the configuration and the authkey (checked first), then starts the node. */
async function writeJoined(grant: JoinGrant, p: NodePaths, o: JoinOptions, io: ClusterIo): Promise<number> {
  const local = localSections(p);
  const value = {
    clusterName: grant.clusterName,
    node: grant.node,
    nodes: grant.nodes,
    ...(grant.nodelistVersion !== undefined && grant.nodelistVersion > 0 ? { nodelistVersion: grant.nodelistVersion } : {}),
    messaging: { ...local.messaging, ...clusterMessaging(grant.messaging) },
    ...local.rest,
  };
  const configText = checkedConfig(value, p.config);
  const own = grant.nodes.find((n) => n.name === grant.node.name)!;
  const addr = parseHostPort(own.addresses[0] ?? '');
  if (addr === undefined) throw usage(`the cluster gave node ${own.name} the address ${own.addresses[0] ?? 'none'}, which is not host:port`);
  if (isIP(addr.host) !== 0) requireLocal(addr.host, `node ${own.name}`);
  await requireUdpFree(addr.host, addr.port, `node ${own.name}`);
  const authkey = Buffer.from(grant.authkey, 'base64');
  if (authkey.length < AUTHKEY_BYTES_MIN || authkey.length > AUTHKEY_BYTES_MAX) throw new ToolError(CLUSTER_EXIT.unavailable, `the cluster sent a ${authkey.length}-byte authkey; a key holds ${AUTHKEY_BYTES_MIN}..${AUTHKEY_BYTES_MAX} bytes`);
  const staged = [stage(p.authkey, authkey, 0o400)];
  try {
    staged.push(stage(p.config, configText, 0o644));
    commit(staged);
  } catch (e) {
    discard(staged);
    throw e;
  }
  if (!(o.quiet ?? false)) {
    const added = grant.added === true ? `, added to the running cluster as ${own.addresses.join(', ')}` : '';
    io.out(`Joined cluster ${grant.clusterName} as ${own.name} (node ${own.id} of ${grant.nodes.map((n) => n.name).join(', ')}${added}): wrote ${p.config} and ${p.authkey} (mode 0400).`);
  }
  return startNode(p, o, io, o.quiet ?? false);
}

// ---------------------------------------------------------------------------------------------
// token: a new join service on a configured node

export interface TokenOptions {
  readonly config: string;
  readonly ttl: string;
  readonly joinListen?: string;
  readonly quiet?: boolean;
}

/** `paceline cluster token`: a new token and join service for this node's existing configuration. */
export async function clusterToken(o: TokenOptions, io: ClusterIo): Promise<number> {
  const ttlMs = parseTtl(o.ttl);
  const path = resolve(o.config);
  const loaded = loadNodeConfig(path);
  if (loaded.config === undefined) throw new ToolError(CLUSTER_EXIT.noInput, `${path} does not load:\n${formatDiagnostics(loaded.diagnostics)}`);
  const cfg = loaded.config;
  const key = readAuthKey(cfg.messaging.authkeyPath);
  if (!key.ok) throw new ToolError(CLUSTER_EXIT.noInput, describeKeyError(key.error));
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { messaging?: Record<string, unknown> };
  const own = parseHostPort(cfg.nodes.find((n) => n.id === cfg.node.id)!.addresses[0]!)!;
  const listen = o.joinListen !== undefined ? parseAddress(o.joinListen, own.port, '--join-listen', true) : own;
  const t = newJoinToken(Date.now(), ttlMs);
  const offer: JoinOffer = {
    token: t.text,
    expiresAtMs: t.expiresAtMs,
    clusterName: cfg.clusterName,
    initNode: cfg.node.name,
    nodes: cfg.nodes,
    ...(cfg.nodelistVersion > 0 ? { nodelistVersion: cfg.nodelistVersion } : {}),
    messaging: clusterMessaging(raw.messaging ?? {}),
    authkey: key.value.toString('base64'),
  };
  // Nodes the configuration does not list are added through this node's API (it must be running then).
  printJoinLine(await startJoins(offer, listen, join(cfg.dataDir, 'join-service.log'), cfg.api.socket), io, o.quiet ?? false);
  return CLUSTER_EXIT.ok;
}

// ---------------------------------------------------------------------------------------------
// remove: a stopped node out of the nodelist

export interface RemoveOptions {
  readonly node?: string;
  readonly clusterNode?: string;
  readonly socket?: string;
  readonly quiet?: boolean;
}

/** `paceline cluster remove NODE`: the API's cluster.remove-node (agreed by the running cluster, refused for a live member). */
export async function clusterRemove(o: RemoveOptions, io: ClusterIo): Promise<number> {
  const name = o.clusterNode ?? o.node;
  if (name === undefined) throw usage('name the node to remove (cluster remove NODE, or -c NODE)');
  const socket = apiSocket(o.socket);
  let api: ApiClient;
  try {
    api = await ApiClient.connect({ socket });
  } catch (e) {
    throw new ToolError(CLUSTER_EXIT.unavailable, `cannot reach the node (API socket ${socket}): ${(e as Error).message}`);
  }
  try {
    const r = await api.request('cluster.remove-node', { name }, { timeoutMs: ADD_NODE_TIMEOUT_MS });
    if (!(o.quiet ?? false)) io.out(`Removed ${r.node.name} (node ${r.node.id}) from the nodelist of the cluster: ${r.nodelist.nodes.map((n) => n.name).join(', ')} (version ${r.nodelist.version}).`);
    if (r.cib.kept !== undefined) io.err(`WARNING: the CIB keeps an entry of ${r.node.name}: ${r.cib.kept}`);
    return CLUSTER_EXIT.ok;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    throw new ToolError(e.code === 'not-found' || e.code === 'bad-params' ? CLUSTER_EXIT.usage : CLUSTER_EXIT.unavailable, e.message);
  } finally {
    await api.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

const HELP_AFTER = `
Bootstrap without passwordless ssh:
  node1# paceline cluster init -n web -N node1=10.0.0.1 -N node2=10.0.0.2 -N node3=10.0.0.3
         (prints: paceline cluster join --from 10.0.0.1:5405 --token pl1.<expiry>.<secret>)
  node2# paceline cluster join --from 10.0.0.1:5405 --token pl1.<expiry>.<secret>
  node3# paceline cluster join --from 10.0.0.1:5405 --token pl1.<expiry>.<secret>

init writes the node configuration and a fresh authkey, starts a join service (TCP, on this
node's messaging address and port unless --join-listen) and the node, and prints the join line.
The token is a one-time secret (256 bits, with its expiry); the joining node proves it holds it
and gets the configuration and the authkey encrypted and authenticated with a key derived from
it (HKDF-SHA256, AES-256-GCM): the authkey never crosses the network in clear, and a wrong
token gets nothing. The join service stops once every listed node joined, or at expiry (--ttl);
\`paceline cluster token\` starts a new one on a configured node.

A node that init did not list joins a running cluster with a token of \`paceline cluster
token\` (run on any member whose daemon runs): the member proposes the new nodelist through
the messaging layer's ordered delivery, every member applies it at the same point and rewrites
its configuration file (nodes, nodelistVersion), expected votes grow by the new node's votes,
and the new node gets the whole nodelist:
  node1# paceline cluster token -q
  node4# paceline cluster join --from 10.0.0.1:5405 --token pl1.<expiry>.<secret> --node-name node4 --bind 10.0.0.4
A change is refused without quorum, or when it would leave the current members without quorum
(e.g. adding a third node to a two_node cluster while one of the two is down).
\`paceline cluster remove NAME\` takes a stopped node out of the nodelist the same way
(and out of the CIB).

Exit codes: 0 ok, 64 bad input, 66 configuration unreadable (token), 69 join service unreachable, 73 a file exists (--force) or cannot
be written, 77 wrong or expired token, 1 the node did not start (files written).`;

/** Runs a command's action: ToolErrors become "ERROR: ..." and their exit code. */
function action<T>(io: ClusterIo, setExit: (code: number) => void, fn: (opts: T) => Promise<number>): (opts: T) => Promise<void> {
  return async (opts: T) => {
    try {
      setExit(await fn(opts));
    } catch (e) {
      if (!(e instanceof ToolError)) throw e;
      io.err(`ERROR: ${e.message}`);
      setExit(e.exitCode);
    }
  };
}

function addNodeFileOptions(c: Command): Command {
  return c
    .option('--config <FILE>', 'the node configuration to write', NODE_CONFIG_PATH_DEFAULT)
    .option('--authkey <FILE>', 'the authkey to write (default: authkey beside the configuration)')
    .option('--data-dir <DIR>', `this node's data directory (default ${NODE_CONFIG_DEFAULTS.dataDir.value})`)
    .option('--socket <PATH>', `this node's API socket (default ${NODE_CONFIG_DEFAULTS.apiSocket.value})`)
    .option('--force', 'replace an existing configuration and authkey')
    .option('--no-start', 'write the files, do not start the node')
    .option('-q, --quiet', 'print only what is needed (init: the join line)')
    .option('-y, --yes', 'accepted for crmsh scripts; paceline never prompts (replacing files needs --force)');
}

/** The `cluster` command tree, printing through `io` and ending with `setExit`. */
export function clusterCommand(io: ClusterIo, setExit: (code: number) => void): Command {
  const cluster = new Command('cluster')
    .description('bootstrap (init, join, token) and status of the cluster, without passwordless ssh')
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .addHelpText('after', HELP_AFTER);
  const init = cluster
    .command('init')
    .description('configure this node as the first of a new cluster, start it, and print the line that joins the others')
    .option('-n, --name <NAME>', `the cluster's name (crmsh -n)`, CLUSTER_DEFAULTS.clusterName.value)
    .option('-N, --node <NAME=ADDRESS>', 'a node of the cluster, IP[:PORT] (repeat; crmsh -N); this node is added first unless listed', collect)
    .option('--node-name <NAME>', "this node's name (default: the short hostname)")
    .option('--bind <ADDRESS>', "this node's messaging address IP[:PORT] (default: its --node entry, -i, or the first IPv4)")
    .option('-i, --interface <IF>', "take this node's address from interface IF (crmsh -i)", collect)
    .option('--port <PORT>', 'the messaging port of addresses given without one', String(CLUSTER_DEFAULTS.port.value))
    .option('--join-listen <ADDRESS>', "where the join service listens, IP[:PORT] over TCP (default: this node's address and port; port 0: any free)")
    .option('--ttl <DURATION>', 'how long the join token is valid (10s..7d)', CLUSTER_DEFAULTS.ttl.value);
  addNodeFileOptions(init).action(action(io, setExit, (o: InitOptions) => clusterInit(o, io)));
  const joinCmd = cluster
    .command('join')
    .description('join this node to a cluster with the line init printed: fetch the configuration and the authkey, write them, start the node')
    .requiredOption('-c, --from <ADDRESS>', 'the join service, IP[:PORT] as init printed it (crmsh -c)')
    .option('--token <TOKEN>', 'the join token init printed (or $PACELINE_JOIN_TOKEN)')
    .option('--node-name <NAME>', "which node of the cluster this is (default: by hostname, else by this machine's address)")
    .option('-i, --interface <IF>', 'pick this node by the address of interface IF (crmsh -i)', collect)
    .option('--bind <ADDRESS>', 'a node the cluster does not list yet (token of `cluster token`): its messaging address IP[:PORT] (default: the first IPv4 of this machine or of -i, the port of the serving node)')
    .option('--node-id <ID>', 'a node the cluster does not list yet: the node id to take (default: the next free one)');
  addNodeFileOptions(joinCmd).action(action(io, setExit, (o: JoinOptions) => clusterJoin(o, io)));
  cluster
    .command('token')
    .description("start a new join service for this node's configuration (the first token expired, or a node must join again) and print the join line")
    .option('--config <FILE>', 'the node configuration', NODE_CONFIG_PATH_DEFAULT)
    .option('--join-listen <ADDRESS>', "where the join service listens, IP[:PORT] over TCP (default: this node's address and port)")
    .option('--ttl <DURATION>', 'how long the join token is valid (10s..7d)', CLUSTER_DEFAULTS.ttl.value)
    .option('-q, --quiet', 'print only the join line')
    .action(action(io, setExit, (o: TokenOptions) => clusterToken(o, io)));
  cluster
    .command('status')
    .description('the cluster as the local node sees it: nodes online, quorum, DC (as crm cluster status)')
    .option('--socket <PATH>', 'the node API socket (default: $PACELINE_API_SOCKET or /run/paceline/api.sock)')
    .action(action(io, setExit, async (o: { socket?: string }) => {
      const { runCrm } = await import('./crm.js');
      const r = await runCrm('cluster status', o.socket === undefined ? {} : { socket: o.socket });
      if (r.output !== '') (r.exitCode === 0 ? io.out : io.err)(r.output.replace(/\n$/, ''));
      return r.exitCode;
    }));
  cluster
    .command('remove')
    .description('take a stopped node out of the running cluster\'s nodelist (crmsh: crm cluster remove -c NODE); every member rewrites its configuration')
    .argument('[NODE]', 'the node to remove')
    .option('-c, --cluster-node <NODE>', 'the node to remove (crmsh -c)')
    .option('--socket <PATH>', 'the node API socket (default: $PACELINE_API_SOCKET or /run/paceline/api.sock)')
    .option('-y, --yes', 'accepted for crmsh scripts; paceline never prompts')
    .option('-q, --quiet', 'print nothing on success')
    .action((name: string | undefined, o: RemoveOptions) => action(io, setExit, (x: RemoveOptions) => clusterRemove(x, io))({ ...o, ...(name !== undefined ? { node: name } : {}) }));
  cluster.command('serve-join', { hidden: true }).action(action(io, setExit, () => serveJoin()));
  // Usage errors and help throw a CommanderError (addCommand does not pass the program's own
  // exitOverride on): `paceline` ends with 64 for them, the crm shell reports them.
  for (const c of [cluster, ...cluster.commands]) c.exitOverride();
  return cluster;
}

/** Registers `paceline cluster ...` on the program. */
export function registerClusterCommands(program: Command): void {
  const io: ClusterIo = { out: (l) => void process.stdout.write(`${l}\n`), err: (l) => void process.stderr.write(`${l}\n`) };
  program.addCommand(clusterCommand(io, (code) => (process.exitCode = code)));
}

/**
 * The crm shell's `cluster init|join|token ...` (words after `cluster`): the same commands, their
 * lines into `io`; resolves to the exit code (64 for an unknown option or a missing value).
 */
export async function runClusterWords(words: readonly string[], io: ClusterIo): Promise<number> {
  let code: number = CLUSTER_EXIT.ok;
  const cmd = clusterCommand(io, (c) => (code = c));
  try {
    await cmd.parseAsync([...words], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? CLUSTER_EXIT.ok : CLUSTER_EXIT.usage;
    throw e;
  }
  return code;
}
