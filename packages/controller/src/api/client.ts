/**
 * Client of a node's API: the CLI, the lab and tests talk to a running node through this.
 *
 *   const api = await ApiClient.connect({ socket: '/run/paceline/api.sock' });
 *   const status = await api.request('status');
 *   const stop = await api.subscribe(['cib'], (e) => console.log(e.event, e.data));
 *   await api.close();
 *
 * Every pending request is rejected (code `closed`) when the connection ends, and on its own
 * deadline (code `timeout`); a late reply is then dropped.
 */
import { resolve as resolvePath } from 'node:path';
import WebSocket from 'ws';
import { ApiError, parseServerFrame, type ApiEvent, type ApiMethod, type ApiMethodTypes, type ApiTopic } from './protocol.js';

/** Where the API listens: a unix socket path, or `ws://host:port` with its token. */
export type ApiEndpoint = { readonly socket: string } | { readonly url: string; readonly token: string };

/** 10 s: a status or CIB query answers in milliseconds; a CIB update waits for a majority to persist. */
export const API_REQUEST_TIMEOUT_MS_DEFAULT = 10_000;
/** 5 s: connecting to a local socket is immediate; a TCP peer on a LAN answers well within this. */
export const API_CONNECT_TIMEOUT_MS_DEFAULT = 5_000;
/** Frames larger than this are refused by the client (a full CIB of a large cluster is a few MiB). */
export const API_CLIENT_FRAME_BYTES_MAX = 64 * 1024 * 1024;

interface Pending {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly method: string;
}

type EventListener = (event: ApiEvent) => void;

export class ApiClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<{ topics: ReadonlySet<string>; fn: EventListener }>();
  private closedError: ApiError | undefined;
  /** Frames from the server that were not a reply or event (protocol bugs), for diagnosis. */
  invalidFrames = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => this.onFrame(isBinary ? undefined : data.toString()));
    ws.on('close', (code, reason) => this.failAll(new ApiError('closed', `connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`)));
    ws.on('error', (err) => this.failAll(new ApiError('closed', `connection error: ${err.message}`)));
  }

  /** Opens a connection; rejects with code `connect-failed` or `unauthorized` (HTTP 401 on TCP). */
  static connect(endpoint: ApiEndpoint, opts: { timeoutMs?: number } = {}): Promise<ApiClient> {
    const timeoutMs = opts.timeoutMs ?? API_CONNECT_TIMEOUT_MS_DEFAULT;
    const target = 'socket' in endpoint ? `ws+unix://${resolvePath(endpoint.socket)}:/` : endpoint.url;
    const headers = 'socket' in endpoint ? {} : { authorization: `Bearer ${endpoint.token}` };
    const ws = new WebSocket(target, { headers, handshakeTimeout: timeoutMs, maxPayload: API_CLIENT_FRAME_BYTES_MAX, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const where = 'socket' in endpoint ? endpoint.socket : endpoint.url;
      const fail = (err: ApiError): void => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve(new ApiClient(ws));
      });
      ws.once('unexpected-response', (_req, res) => {
        const code = res.statusCode === 401 ? 'unauthorized' : 'connect-failed';
        fail(new ApiError(code, `${where}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
      });
      ws.once('error', (err) => fail(new ApiError('connect-failed', `${where}: ${err.message}`)));
    });
  }

  /**
   * Sends one request; resolves with its result, rejects with an ApiError carrying the server's
   * code (or `timeout` / `closed`).
   */
  request<M extends ApiMethod>(method: M, params?: ApiMethodTypes[M]['params'], opts?: { timeoutMs?: number }): Promise<ApiMethodTypes[M]['result']>;
  request(method: string, params?: unknown, opts?: { timeoutMs?: number }): Promise<unknown>;
  request(method: string, params?: unknown, opts: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? API_REQUEST_TIMEOUT_MS_DEFAULT;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ApiError('timeout', `${method}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, method });
      const frame = params === undefined ? { id, method } : { id, method, params };
      this.ws.send(JSON.stringify(frame), (err) => {
        if (err === undefined || err === null) return;
        const p = this.pending.get(id);
        if (p === undefined) return;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new ApiError('closed', `${method}: send failed: ${err.message}`));
      });
    });
  }

  /**
   * Subscribes this connection to `topics` and calls `onEvent` for each event of them. Resolves
   * once the server confirmed; the returned function removes the listener and unsubscribes the
   * topics no other listener still wants.
   */
  async subscribe(topics: readonly ApiTopic[], onEvent: EventListener): Promise<() => Promise<void>> {
    const entry = { topics: new Set<string>(topics), fn: onEvent };
    this.listeners.add(entry);
    try {
      await this.request('subscribe', { topics });
    } catch (err) {
      this.listeners.delete(entry);
      throw err;
    }
    return async () => {
      if (!this.listeners.delete(entry)) return;
      const still = new Set([...this.listeners].flatMap((l) => [...l.topics]));
      const drop = topics.filter((t) => !still.has(t));
      if (drop.length > 0 && this.closedError === undefined) await this.request('unsubscribe', { topics: drop });
    };
  }

  /** True until the connection ends. */
  get open(): boolean {
    return this.closedError === undefined;
  }

  /** Closes the connection; pending requests are rejected with code `closed`. */
  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000, 'client closing');
    });
  }

  private onFrame(text: string | undefined): void {
    const parsed = text === undefined ? ({ kind: 'invalid', reason: 'binary frame' } as const) : parseServerFrame(text);
    if (parsed.kind === 'invalid') {
      this.invalidFrames++;
      return;
    }
    if (parsed.kind === 'event') {
      for (const l of this.listeners) if (l.topics.has(parsed.event.event)) l.fn(parsed.event);
      return;
    }
    const { reply } = parsed;
    if (reply.id === null) {
      // The server could not read the id of one of our frames: a client bug; count it.
      this.invalidFrames++;
      return;
    }
    const p = this.pending.get(reply.id);
    if (p === undefined) return; // timed out already
    this.pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new ApiError(reply.error.code, `${p.method}: ${reply.error.message}`));
  }

  private failAll(err: ApiError): void {
    this.closedError ??= err;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new ApiError(err.code, `${p.method}: ${err.message}`));
    }
  }
}
