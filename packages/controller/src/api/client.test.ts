import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiClient } from './client.js';
import type { ApiEvent } from './protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'paceline-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A scripted peer speaking the wire format (the daemon's server is tested in packages/daemon). */
async function peer(onRequest: (ws: WebSocket, req: { id: number; method: string; params?: unknown }) => void): Promise<{ path: string; wss: WebSocketServer; seen: string[]; http: Server }> {
  const path = join(dir, `p${Math.random().toString(36).slice(2)}.sock`);
  const seen: string[] = [];
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => ws.on('message', (d) => {
    seen.push(d.toString());
    onRequest(ws, JSON.parse(d.toString()) as { id: number; method: string });
  }));
  await new Promise<void>((r) => http.listen(path, r));
  return { path, wss, seen, http };
}

describe('ApiClient', () => {
  // Events reach only listeners of their topic; a frame the client cannot read is counted, not thrown.
  it('routes events by topic, ignores late and invalid frames', async () => {
    const { path, wss, seen, http } = await peer((ws, req) => {
      if (req.method === 'subscribe' || req.method === 'unsubscribe') {
        ws.send('garbage');
        ws.send(JSON.stringify({ id: 999, ok: true, result: 'late' }));
        ws.send(JSON.stringify({ event: 'cib', data: 1 }));
        ws.send(JSON.stringify({ event: 'log', data: 2 }));
        ws.send(JSON.stringify({ id: req.id, ok: true, result: req.params }));
      }
    });
    const c = await ApiClient.connect({ socket: path });
    const a: ApiEvent[] = [];
    const b: ApiEvent[] = [];
    const offA = await c.subscribe(['cib'], (e) => a.push(e));
    const offB = await c.subscribe(['cib', 'log'], (e) => b.push(e));
    expect(a.map((e) => e.data)).toEqual([1, 1]);
    expect(b.map((e) => e.data)).toEqual([1, 2]);
    expect(c.invalidFrames).toBe(2);
    await offA(); // 'cib' is still wanted by B: no unsubscribe request
    await offB(); // now both topics go
    expect(seen.map((s) => JSON.parse(s) as { method: string; params: unknown }).map((r) => [r.method, r.params])).toEqual([
      ['subscribe', { topics: ['cib'] }],
      ['subscribe', { topics: ['cib', 'log'] }],
      ['unsubscribe', { topics: ['cib', 'log'] }],
    ]);
    await c.close();
    expect(c.open).toBe(false);
    await expect(c.request('status')).rejects.toMatchObject({ code: 'closed' });
    await new Promise((r) => wss.close(r));
    await new Promise((r) => http.close(r));
  });

  it('fails to connect with connect-failed', async () => {
    await expect(ApiClient.connect({ socket: join(dir, 'absent.sock') })).rejects.toMatchObject({ code: 'connect-failed', message: expect.stringMatching(/absent\.sock: .*ENOENT/) });
  });
});
