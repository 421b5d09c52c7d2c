/**
 * The node API server: WebSocket with JSON text frames (protocol: @paceline/controller
 * api/protocol.ts) on a unix socket and, optionally, on TCP with a bearer token.
 *
 * Unix socket: stale socket files are removed; a path where something still listens, or that is
 * not a socket, is refused. The socket gets mode 0660, owner root and the configured group when
 * that group exists (when not running as root: our own uid, and the group if we may).
 * TCP: each upgrade must carry `Authorization: Bearer TOKEN` or `?token=TOKEN`; the token comes
 * from a file that must not be readable by group or others, and is compared in constant time.
 *
 * Requests are validated (`parseRequestFrame`) before the handler sees them; `subscribe` and
 * `unsubscribe` are answered here. A handler throws `ApiError(code, message)` for expected
 * failures; anything else becomes an `internal` error reply and a log line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { API_TOPICS, ApiError, encodeReply, parseRequestFrame, type ApiErrorBody, type ApiTopic } from '@paceline/controller';

/** Serves one validated request; throws ApiError for expected failures. */
export type ApiHandler = (method: string, params: unknown, ctx: { transport: 'unix' | 'tcp' }) => Promise<unknown>;

/** Where the server writes its own events (connections refused, internal errors). */
export interface ApiServerLog {
  event(name: string, fields?: Readonly<Record<string, unknown>>, level?: 'debug' | 'info' | 'warn' | 'error'): void;
}

/** Bounds of the server, each with its reason. */
export const API_SERVER_DEFAULTS = {
  frameBytesMax: { value: 16 * 1024 * 1024, reason: 'a full CIB of a large cluster is a few MiB; larger frames get a frame-too-large reply' },
  frameBytesHardMax: { value: 64 * 1024 * 1024, reason: 'frames beyond this are not even buffered: the connection is closed (1009)' },
  badFramesMax: { value: 16, reason: 'a client sending this many bad frames is not speaking the protocol; close it (1008)' },
  requestsInFlightMax: { value: 256, reason: 'bounds the work one connection can queue; more get a busy reply' },
  subscriberBufferedBytesMax: { value: 32 * 1024 * 1024, reason: 'a subscriber that does not read its events is closed rather than growing memory' },
} as const;

export interface ApiServerOptions {
  readonly socketPath: string;
  /** Group owning the socket when it exists in /etc/group. */
  readonly group?: string;
  readonly tcp?: { readonly host: string; readonly port: number; readonly tokenPath: string };
  readonly handler: ApiHandler;
  readonly log?: ApiServerLog;
  readonly frameBytesMax?: number;
  readonly frameBytesHardMax?: number;
  readonly badFramesMax?: number;
  readonly requestsInFlightMax?: number;
}

/** Counters since start (exposed by status and the tests). */
export interface ApiServerCounters {
  connections: number;
  requests: number;
  errorReplies: number;
  badFrames: number;
  oversizeFrames: number;
  unknownMethods: number;
  unauthorized: number;
  closedForGarbage: number;
  closedSlowSubscribers: number;
  internalErrors: number;
}

interface Conn {
  readonly ws: WebSocket;
  readonly transport: 'unix' | 'tcp';
  readonly topics: Set<ApiTopic>;
  badFrames: number;
  inFlight: number;
}

/** Looks a group up in /etc/group; undefined when absent or unreadable. */
export function lookupGroupId(name: string, groupFile = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** Reads the TCP token file; refuses one readable by group or others, or empty. */
export function readTokenFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new Error(`api token ${path}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) throw new Error(`api token ${path}: mode ${(mode & 0o777).toString(8)} lets others read it; chmod 600`);
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 16) throw new Error(`api token ${path}: must hold a token of at least 16 characters`);
  return token;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time token comparison (hashes first, so lengths do not leak either). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  return given !== undefined && timingSafeEqual(digest(expected), digest(given));
}

function tokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const m = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth);
  if (m !== null) return m[1];
  const q = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  return q ?? undefined;
}

/** Whether something accepts connections on a unix socket path. */
function somethingListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Removes a stale socket file at `path`; throws when something listens there or it is not a socket. */
async function clearSocketPath(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`api socket ${path}: exists and is not a socket; refusing to remove it`);
  if (await somethingListens(path)) throw new Error(`api socket ${path}: another process listens there (is a node already running?)`);
  unlinkSync(path);
}

export class ApiServer {
  readonly counters: ApiServerCounters = {
    connections: 0, requests: 0, errorReplies: 0, badFrames: 0, oversizeFrames: 0, unknownMethods: 0,
    unauthorized: 0, closedForGarbage: 0, closedSlowSubscribers: 0, internalErrors: 0,
  };
  private readonly conns = new Set<Conn>();
  private readonly wss: WebSocketServer;
  private readonly limits: { frameBytesMax: number; badFramesMax: number; requestsInFlightMax: number };
  private unixServer: Server | undefined;
  private tcpServer: Server | undefined;
  private closed = false;

  private constructor(private readonly opts: ApiServerOptions) {
    const d = API_SERVER_DEFAULTS;
    this.limits = {
      frameBytesMax: opts.frameBytesMax ?? d.frameBytesMax.value,
      badFramesMax: opts.badFramesMax ?? d.badFramesMax.value,
      requestsInFlightMax: opts.requestsInFlightMax ?? d.requestsInFlightMax.value,
    };
    this.wss = new WebSocketServer({ noServer: true, maxPayload: opts.frameBytesHardMax ?? d.frameBytesHardMax.value, perMessageDeflate: false });
  }

  /** Starts listening; rejects (after releasing what it opened) when a listener cannot start. */
  static async start(opts: ApiServerOptions): Promise<ApiServer> {
    const server = new ApiServer(opts);
    try {
      const token = opts.tcp === undefined ? undefined : readTokenFile(opts.tcp.tokenPath);
      await server.listenUnix();
      if (opts.tcp !== undefined && token !== undefined) await server.listenTcp(opts.tcp.host, opts.tcp.port, token);
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  /** The bound TCP address (port 0 in the options picks a free one). */
  get tcpAddress(): { host: string; port: number } | undefined {
    const a = this.tcpServer?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Sends an event to every connection subscribed to `topic`; returns how many got it (0, and
   *  an error log line, when `data` cannot be serialised). */
  publish(topic: ApiTopic, data: unknown): number {
    let frame: string | undefined;
    let sent = 0;
    for (const c of this.conns) {
      if (!c.topics.has(topic) || c.ws.readyState !== c.ws.OPEN) continue;
      if (c.ws.bufferedAmount > API_SERVER_DEFAULTS.subscriberBufferedBytesMax.value) {
        this.counters.closedSlowSubscribers++;
        this.opts.log?.event('api-slow-subscriber', { transport: c.transport, bufferedBytes: c.ws.bufferedAmount }, 'warn');
        c.ws.close(1008, 'not reading events');
        continue;
      }
      if (frame === undefined) {
        try {
          frame = JSON.stringify({ event: topic, data });
        } catch (err) {
          this.opts.log?.event('api-event-unserialisable', { topic, error: (err as Error).message }, 'error');
          return 0;
        }
      }
      c.ws.send(frame);
      sent++;
    }
    return sent;
  }

  /** Closes every connection and listener and removes the socket file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.conns) c.ws.close(1001, 'node stopping');
    const terminate = setTimeout(() => {
      for (const c of this.conns) c.ws.terminate();
    }, 1000);
    const servers = [this.unixServer, this.tcpServer].filter((s): s is Server => s !== undefined);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    clearTimeout(terminate);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // http.Server.close removes the socket file it created; remove it if it is still there.
    if (this.unixServer !== undefined) {
      try {
        if (lstatSync(this.opts.socketPath).isSocket()) unlinkSync(this.opts.socketPath);
      } catch {
        /* already gone */
      }
    }
  }

  private async listenUnix(): Promise<void> {
    const path = this.opts.socketPath;
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    await clearSocketPath(path);
    const http = createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n'));
    http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head, 'unix', undefined));
    // Bind with a umask that already gives 0660, so the socket is never more open than that.
    const oldMask = process.umask(0o117);
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(path, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    this.unixServer = http;
    chmodSync(path, 0o660);
    this.chownSocket(path);
  }

  private chownSocket(path: string): void {
    const gid = this.opts.group === undefined ? undefined : lookupGroupId(this.opts.group);
    const uid = process.getuid?.() ?? 0;
    try {
      chownSync(path, uid === 0 ? 0 : uid, gid ?? process.getgid?.() ?? 0);
    } catch (err) {
      this.opts.log?.event('api-socket-chown-failed', { path, group: this.opts.group, error: (err as Error).message }, 'warn');
    }
    if (this.opts.group !== undefined && gid === undefined) this.opts.log?.event('api-socket-group-missing', { path, group: this.opts.group }, 'warn');
  }

  private async listenTcp(host: string, port: number, token: string): Promise<void> {
    const http = createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n'));
    http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head, 'tcp', token));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    this.tcpServer = http;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, transport: 'unix' | 'tcp', token: string | undefined): void {
    if (token !== undefined && !tokenMatches(token, tokenOf(req))) {
      this.counters.unauthorized++;
      this.opts.log?.event('api-unauthorized', { remote: req.socket.remoteAddress }, 'warn');
      socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, transport));
  }

  private accept(ws: WebSocket, transport: 'unix' | 'tcp'): void {
    if (this.closed) return void ws.close(1001, 'node stopping');
    const conn: Conn = { ws, transport, topics: new Set(), badFrames: 0, inFlight: 0 };
    this.conns.add(conn);
    this.counters.connections++;
    ws.on('message', (data, isBinary) => this.onFrame(conn, data, isBinary));
    ws.on('close', () => this.conns.delete(conn));
    ws.on('error', (err) => {
      this.opts.log?.event('api-connection-error', { transport, error: err.message }, 'debug');
      this.conns.delete(conn);
    });
  }

  private onFrame(conn: Conn, data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (bytes > this.limits.frameBytesMax) {
      this.counters.oversizeFrames++;
      return this.badFrame(conn, null, { code: 'frame-too-large', message: `frame of ${bytes} bytes exceeds the limit of ${this.limits.frameBytesMax}` });
    }
    if (isBinary) return this.badFrame(conn, null, { code: 'bad-frame', message: 'binary frames are not accepted; send JSON text' });
    const parsed = parseRequestFrame(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8'));
    if (!parsed.ok) {
      if (parsed.error.code === 'unknown-method') this.counters.unknownMethods++;
      return this.badFrame(conn, parsed.id, parsed.error);
    }
    this.counters.requests++;
    const { id, method, params } = parsed.request;
    if (conn.inFlight >= this.limits.requestsInFlightMax) return this.reply(conn, { id, ok: false, error: { code: 'busy', message: `more than ${this.limits.requestsInFlightMax} requests in flight` } });
    conn.inFlight++;
    void this.serve(conn, method, params).then(
      (result) => this.reply(conn, { id, ok: true, result: result ?? null }),
      (err: unknown) => this.reply(conn, { id, ok: false, error: this.errorBody(method, err) }),
    ).finally(() => conn.inFlight--);
  }

  private serve(conn: Conn, method: string, params: unknown): Promise<unknown> {
    if (method === 'subscribe' || method === 'unsubscribe') {
      const topics = (params as { topics: ApiTopic[] }).topics;
      for (const t of topics) if (method === 'subscribe') conn.topics.add(t); else conn.topics.delete(t);
      return Promise.resolve({ topics: API_TOPICS.filter((t) => conn.topics.has(t)) });
    }
    try {
      return this.opts.handler(method, params, { transport: conn.transport });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private errorBody(method: string, err: unknown): ApiErrorBody {
    if (err instanceof ApiError) return { code: err.code, message: err.message };
    this.counters.internalErrors++;
    const message = err instanceof Error ? err.message : String(err);
    this.opts.log?.event('api-internal-error', { method, error: err instanceof Error ? err : message }, 'error');
    return { code: 'internal', message: `${method}: ${message}` };
  }

  private badFrame(conn: Conn, id: number | null, error: ApiErrorBody): void {
    this.counters.badFrames++;
    conn.badFrames++;
    this.reply(conn, { id, ok: false, error });
    if (conn.badFrames >= this.limits.badFramesMax) {
      this.counters.closedForGarbage++;
      this.opts.log?.event('api-closed-for-garbage', { transport: conn.transport, badFrames: conn.badFrames }, 'warn');
      conn.ws.close(1008, 'too many bad frames');
    }
  }

  private reply(conn: Conn, reply: Parameters<typeof encodeReply>[0]): void {
    if (!reply.ok) this.counters.errorReplies++;
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(encodeReply(reply));
  }
}
