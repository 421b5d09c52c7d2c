import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiClient, ApiError, type ApiEvent } from '@paceline/controller';
import { ApiServer, lookupGroupId, tokenMatches, type ApiHandler } from './api-server.js';

const dir = mkdtempSync(join(tmpdir(), 'paceline-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const sockPath = (): string => join(dir, `api${n++}.sock`);
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

/** A handler with real behaviour for the round trip: status echoes the transport, cib.update
 *  refuses a stale base version with `conflict`, and anything else throws a plain Error. */
const handler: ApiHandler = async (method, params, ctx) => {
  if (method === 'status') return { node: 'node1', transport: ctx.transport };
  if (method === 'cib.update') {
    const base = (params as { baseVersion?: string }).baseVersion;
    if (base !== '0.5.0') throw new ApiError('conflict', `base ${base} is not the current version 0.5.0`);
    return { version: '0.6.0' };
  }
  throw new Error(`not wired: ${method}`);
};

async function start(extra: Partial<Parameters<typeof ApiServer.start>[0]> = {}): Promise<{ server: ApiServer; path: string }> {
  const path = sockPath();
  const server = await ApiServer.start({ socketPath: path, group: 'haclient', handler, ...extra });
  opened.push(server);
  return { server, path };
}
async function client(path: string): Promise<ApiClient> {
  const c = await ApiClient.connect({ socket: path });
  opened.push(c);
  return c;
}
/** A raw ws connection, to send frames the client never would. */
async function raw(path: string): Promise<{ ws: WebSocket; next: () => Promise<any>; closed: Promise<number> }> {
  const ws = new WebSocket(`ws+unix://${path}:/`);
  const queue: string[] = [];
  const waiters: ((s: string) => void)[] = [];
  ws.on('message', (d) => (waiters.length ? waiters.shift()!(d.toString()) : queue.push(d.toString())));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  opened.push({ close: async () => ws.close() });
  const next = (): Promise<any> => new Promise((r) => (queue.length ? r(JSON.parse(queue.shift()!)) : waiters.push((s) => r(JSON.parse(s)))));
  return { ws, next, closed };
}

describe('ApiServer over a unix socket', () => {
  // The main path: CLI -> socket -> handler -> reply, with the error codes kept end to end.
  it('round-trips requests, handler errors and unknown methods', async () => {
    const { server, path } = await start();
    const c = await client(path);
    expect(await c.request('status')).toEqual({ node: 'node1', transport: 'unix' });
    expect(await c.request('cib.update', { op: 'modify', baseVersion: '0.5.0', xml: '<x/>' })).toEqual({ version: '0.6.0' });
    await expect(c.request('cib.update', { op: 'modify', baseVersion: '0.4.0' })).rejects.toMatchObject({ code: 'conflict', message: 'cib.update: base 0.4.0 is not the current version 0.5.0' });
    await expect(c.request('node.frobnicate', {})).rejects.toMatchObject({ code: 'unknown-method' });
    await expect(c.request('node.standby', { node: 'n1' })).rejects.toMatchObject({ code: 'bad-params', message: expect.stringMatching(/param on is required/) });
    await expect(c.request('resource.cleanup', {})).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/not wired: resource.cleanup/) });
    expect(server.counters).toMatchObject({ requests: 4, unknownMethods: 1, internalErrors: 1, errorReplies: 4 });
    expect(c.open).toBe(true);
  });

  // Concurrent requests on one connection are answered by id, not in send order.
  it('answers concurrent requests by id', async () => {
    const slow: ApiHandler = async (method) => {
      await new Promise((r) => setTimeout(r, method === 'status' ? 50 : 1));
      return method;
    };
    const { path } = await start({ handler: slow });
    const c = await client(path);
    const order: string[] = [];
    await Promise.all([c.request('status').then((r) => order.push(r as unknown as string)), c.request('cib.query', {}).then((r) => order.push(r as unknown as string))]);
    expect(order).toEqual(['cib.query', 'status']);
  });

  // The socket must not be world-accessible; the group lets haclient members in.
  it('creates the socket 0660 with the configured group and removes it on close', async () => {
    const { server, path } = await start();
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe('660');
    const gid = lookupGroupId('haclient');
    if (process.getuid?.() === 0 && gid !== undefined) {
      expect(st.uid).toBe(0);
      expect(st.gid).toBe(gid);
    }
    await server.close();
    expect(existsSync(path)).toBe(false);
  });

  // A crashed node leaves its socket file behind; a running one must not be displaced.
  it('removes a stale socket but refuses a live one or a non-socket', async () => {
    const stale = sockPath();
    const s = createServer();
    await new Promise<void>((r) => s.listen(stale, r));
    await expect(ApiServer.start({ socketPath: stale, handler })).rejects.toThrow(/another process listens there/);
    s.close();
    await new Promise<void>((r) => s.once('close', r));
    // A crashed node leaves its socket file behind: a child listens, then is killed with SIGKILL.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`]);
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(statSync(stale).isSocket()).toBe(true);
    const server = await ApiServer.start({ socketPath: stale, handler });
    opened.push(server);
    expect((await (await client(stale)).request('status')) as object).toMatchObject({ node: 'node1' });
    const file = sockPath();
    writeFileSync(file, 'not a socket');
    await expect(ApiServer.start({ socketPath: file, handler })).rejects.toThrow(/exists and is not a socket/);
    expect(existsSync(file)).toBe(true);
  });

  // Subscribers get the events of their topics only, and stop getting them after unsubscribing.
  it('publishes events to subscribers of the topic', async () => {
    const { server, path } = await start();
    const a = await client(path);
    const b = await client(path);
    const gotA: ApiEvent[] = [];
    const gotB: ApiEvent[] = [];
    const offA = await a.subscribe(['cib', 'log'], (e) => gotA.push(e));
    await b.subscribe(['cluster'], (e) => gotB.push(e));
    expect(server.publish('cib', { version: '0.6.0' })).toBe(1);
    expect(server.publish('cluster', { dc: 'node1' })).toBe(1);
    expect(server.publish('log', { line: 'x' })).toBe(1);
    await a.request('status'); // replies are ordered after the events on the same connection
    await b.request('status');
    expect(gotA).toEqual([{ event: 'cib', data: { version: '0.6.0' } }, { event: 'log', data: { line: 'x' } }]);
    expect(gotB).toEqual([{ event: 'cluster', data: { dc: 'node1' } }]);
    await offA();
    expect(server.publish('cib', {})).toBe(0);
    await expect(a.request('subscribe', { topics: ['weather'] })).rejects.toMatchObject({ code: 'bad-params' });
  });

  // Garbage gets an error reply and the connection survives, up to a bound; then it is closed.
  it('answers bad frames, oversize frames, and closes after too many', async () => {
    const { server, path } = await start({ frameBytesMax: 1024, frameBytesHardMax: 4096, badFramesMax: 4 });
    const r = await raw(path);
    r.ws.send('{not json');
    expect(await r.next()).toMatchObject({ id: null, ok: false, error: { code: 'bad-frame' } });
    r.ws.send(JSON.stringify({ id: 7, method: 'status', extra: 1 }));
    expect(await r.next()).toMatchObject({ id: 7, ok: false, error: { code: 'bad-request', message: 'unknown field(s) extra' } });
    r.ws.send(JSON.stringify({ id: 8, method: 'status', params: { pad: 'x'.repeat(2000) } }));
    expect(await r.next()).toMatchObject({ id: null, ok: false, error: { code: 'frame-too-large' } });
    r.ws.send(JSON.stringify({ id: 9, method: 'status' }));
    expect(await r.next()).toEqual({ id: 9, ok: true, result: { node: 'node1', transport: 'unix' } });
    r.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await r.next()).toMatchObject({ error: { code: 'bad-frame' } });
    expect(await r.closed).toBe(1008);
    expect(server.counters).toMatchObject({ badFrames: 4, oversizeFrames: 1, closedForGarbage: 1 });
    // Beyond the hard bound the frame is not buffered: the connection is closed at once.
    const r2 = await raw(path);
    r2.ws.send('x'.repeat(5000));
    expect(await r2.closed).toBe(1009);
  });

  // Pending requests must fail promptly when the node goes away, not hang the CLI.
  it('rejects pending requests with closed when the server stops, and times out', async () => {
    const never: ApiHandler = () => new Promise(() => undefined);
    const { server, path } = await start({ handler: never });
    const c = await client(path);
    await expect(c.request('status', undefined, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'timeout' });
    const pending = expect(c.request('status')).rejects.toMatchObject({ code: 'closed' });
    await server.close();
    await pending;
    expect(c.open).toBe(false);
    await expect(ApiClient.connect({ socket: path })).rejects.toMatchObject({ code: 'connect-failed' });
  });
});

describe('ApiServer over TCP', () => {
  const tokenPath = join(dir, 'token');
  const token = 'tok-0123456789abcdef0123456789';
  writeFileSync(tokenPath, `${token}\n`, { mode: 0o600 });

  // Remote administration needs the token; anyone else is refused before the WebSocket opens.
  it('accepts the right token by header or query, refuses others', async () => {
    const { server } = await start({ tcp: { host: '127.0.0.1', port: 0, tokenPath } });
    const { port } = server.tcpAddress!;
    const url = `ws://127.0.0.1:${port}`;
    const c = await ApiClient.connect({ url, token });
    opened.push(c);
    expect(await c.request('status')).toEqual({ node: 'node1', transport: 'tcp' });
    await expect(ApiClient.connect({ url, token: 'wrong' })).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(ApiClient.connect({ url, token: `${token}x` })).rejects.toBeInstanceOf(ApiError);
    const q = new WebSocket(`${url}/?token=${token}`);
    await new Promise((r, j) => (q.once('open', r), q.once('error', j)));
    q.close();
    const none = new WebSocket(url);
    const status = await new Promise<number>((r) => none.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)));
    none.on('error', () => undefined);
    none.terminate();
    expect(status).toBe(401);
    expect(server.counters.unauthorized).toBe(3);
  });

  // A token others can read is no secret: refuse to start rather than serve with it.
  it('refuses a token file readable by others, and an absent one', async () => {
    const loose = join(dir, 'loose-token');
    writeFileSync(loose, token);
    chmodSync(loose, 0o644);
    const path = sockPath();
    await expect(ApiServer.start({ socketPath: path, handler, tcp: { host: '127.0.0.1', port: 0, tokenPath: loose } })).rejects.toThrow(/mode 644 lets others read it/);
    expect(existsSync(path)).toBe(false);
    await expect(ApiServer.start({ socketPath: sockPath(), handler, tcp: { host: '127.0.0.1', port: 0, tokenPath: join(dir, 'absent') } })).rejects.toThrow(/ENOENT/);
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'abcd')).toBe(false);
    expect(tokenMatches('abc', undefined)).toBe(false);
  });
});
