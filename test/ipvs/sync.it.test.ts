/**
 * Connection sync between two userspace directors on loopback (two state directories, unicast
 * sync on 127.0.0.1 with ports of their own): director A serves a persistent (-p) service and
 * runs the master sync daemon, B runs the backup; the client's template reaches B's table
 * (ipvsadm -L -c -n), A stops, B takes the rules over (as the ipvs agent's start does on the
 * new active node), and the same client reaches the same real server through B, although
 * B's scheduler alone would send it elsewhere. Also: authentication, malformed datagrams (sent
 * raw to the backup's port),
 * the daemon commands' errors. Bounded: a handful of connections, waits of at most a few seconds.
 */
import * as dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONN_F, Director, controlRequest, encodeSyncMessages, inetAton, type DirectorConfig, type DirectorStatus, type SyncConn } from '@paceline/ipvs';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function nameServer(name: string): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on('error', () => undefined); s.on('close', () => sockets.delete(s)); s.end(name); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
  return (server.address() as net.AddressInfo).port;
}

async function freePort(host: string, kind: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
    const port = s.address().port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, host, () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function fetchName(host: string, port: number, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress });
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => { data += c; });
    s.on('close', () => resolve(data));
    s.on('error', reject);
  });
}

async function startDirector(config: DirectorConfig = { version: 1 }): Promise<{ d: Director; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ipvs-sync-'));
  const d = new Director(dir, config);
  await d.start();
  cleanups.push(async () => { await d.stop(); rmSync(dir, { recursive: true, force: true }); });
  return { d, dir };
}

async function ok(d: Director, line: string): Promise<string> {
  const r = await d.ipvsadmAsync(line.split(' '));
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return r.stdout;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('connection sync between two userspace directors', () => {
  it('after A stops and B takes over, a persistent client goes to the same real server through B', async () => {
    const names = new Map([[await nameServer('X'), 'X'], [await nameServer('Y'), 'Y']]);
    const [px, py] = [...names.keys()];
    const vip = '127.0.0.21';
    const vport = await freePort(vip);
    const syncPort = await freePort('127.0.0.1', 'udp');
    const keyFile = join(mkdtempSync(join(tmpdir(), 'ipvs-key-')), 'sync.key');
    writeFileSync(keyFile, 'a shared secret of enough bytes\n');
    cleanups.push(() => rmSync(join(keyFile, '..'), { recursive: true, force: true }));
    const rules = [`-A -t ${vip}:${vport} -s rr -p 300`, `-a -t ${vip}:${vport} -r 127.0.0.1:${px} -m`, `-a -t ${vip}:${vport} -r 127.0.0.1:${py} -m`];

    const b = await startDirector({ version: 1, syncKeyFile: keyFile });
    await ok(b.d, `--start-daemon backup --mcast-interface lo --syncid 7 --mcast-group 127.0.0.1 --mcast-port ${syncPort}`);
    expect(await ok(b.d, '-L --daemon')).toBe('backup sync daemon (mcast=lo, syncid=7)\n');

    const a = await startDirector({ version: 1, syncKeyFile: keyFile });
    for (const r of rules) await ok(a.d, r);
    await ok(a.d, `--start-daemon master --mcast-interface lo --syncid 7 --mcast-group 127.0.0.1:${syncPort}`);
    expect(await ok(a.d, '-L --daemon')).toBe('master sync daemon (mcast=lo, syncid=7)\n');

    // rr: a first client takes the list head, so the client under test gets the other server,
    // which is not what a fresh director's rr would give it first.
    const warm = await fetchName(vip, vport, '127.0.0.54');
    const first = await fetchName(vip, vport, '127.0.0.55');
    expect(first).not.toBe(warm);
    expect(await fetchName(vip, vport, '127.0.0.55')).toBe(first);
    const firstPort = [...names].find(([, n]) => n === first)![0];

    // The template is in B's connection table before the failover.
    const template = new RegExp(`^TCP\\s+\\S+\\s+NONE\\s+127\\.0\\.0\\.55:0\\s+${vip.replace(/\./g, '\\.')}:${vport}\\s+127\\.0\\.0\\.1:${firstPort}$`, 'm');
    let listed = '';
    await until(() => { listed = b.d.ipvsadm(['-L', '-c', '-n']).stdout; return template.test(listed); }, 5000, 'synced template in B');
    expect(listed).toMatch(new RegExp(`^TCP .* 127\\.0\\.0\\.55:\\d+ +${vip.replace(/\./g, '\\.')}:${vport} +127\\.0\\.0\\.1:${firstPort}$`, 'm'));
    const st = (await controlRequest(b.dir, { version: 1, op: 'status' })).status as DirectorStatus;
    expect(st.sync.backup).toMatchObject({ syncid: 7, dropped: {} });
    expect(st.sync.heldTemplates).toBe(2);

    // Failover: A goes away, B gets the rules and serves the VIP.
    await a.d.stop();
    const restored = await b.d.ipvsadmAsync(['-R'], rules.join('\n') + '\n');
    expect(restored.exitCode).toBe(0);
    await until(() => b.d.status().listeners.length === 1, 2000, 'B listening');
    await new Promise((r) => setTimeout(r, 50));
    expect(await fetchName(vip, vport, '127.0.0.55')).toBe(first);
    expect(await fetchName(vip, vport, '127.0.0.55')).toBe(first);
    // A client B never heard of is scheduled by B's own rr: the list head, i.e. not `first`.
    expect(await fetchName(vip, vport, '127.0.0.56')).toBe(warm);
    expect(b.d.status().sync.adopted).toBe(1);
  });

  it('drops and counts malformed, unauthenticated and foreign-syncid datagrams, and keeps a good one', async () => {
    const key = Buffer.from('another shared secret, 32 bytes.');
    const keyFile = join(mkdtempSync(join(tmpdir(), 'ipvs-key-')), 'sync.key');
    writeFileSync(keyFile, key);
    cleanups.push(() => rmSync(join(keyFile, '..'), { recursive: true, force: true }));
    const syncPort = await freePort('127.0.0.1', 'udp');
    const b = await startDirector({ version: 1, syncKeyFile: keyFile });
    await ok(b.d, `--start-daemon backup --syncid 3 --mcast-group 127.0.0.1 --mcast-port ${syncPort}`);
    const entry: SyncConn = { protocol: 6, flags: CONN_F.template, state: 0, clientAddr: inetAton('192.0.2.9')!, clientPort: 0, vaddr: inetAton('127.0.0.22')!, vport: 80, daddr: inetAton('127.0.0.1')!, dport: 8080, fwmark: 0, timeoutS: 60 };
    const datagrams = [
      Buffer.from('hello'), // short
      ...encodeSyncMessages(3, [entry]), // no trailer: size
      ...encodeSyncMessages(3, [entry], 1472, Buffer.from('not the key but just as long....')), // auth
      ...encodeSyncMessages(4, [entry], 1472, key), // syncid
      ...encodeSyncMessages(3, [entry], 1472, key), // good
    ];
    const raw = dgram.createSocket('udp4');
    cleanups.push(() => new Promise((resolve) => raw.close(() => resolve())));
    for (const m of datagrams) await new Promise<void>((resolve) => raw.send(m, syncPort, '127.0.0.1', () => resolve()));
    await until(() => (b.d.status().sync.backup?.messages ?? 0) >= datagrams.length, 5000, 'datagrams received');
    expect(b.d.status().sync).toMatchObject({ backup: { messages: 5, entries: 1, dropped: { short: 1, size: 1, auth: 1, syncid: 1 } }, held: 1, heldTemplates: 1 });
    expect(b.d.ipvsadm(['-L', '-c', '-n']).stdout).toMatch(/^TCP +01:00 +NONE +192\.0\.2\.9:0 +127\.0\.0\.22:80 +127\.0\.0\.1:8080$/m);
  });

  it('answers the daemon commands as ipvsadm does: running twice, stopping what does not run, unknown interface, busy port', async () => {
    const a = await startDirector();
    const port = await freePort('127.0.0.1', 'udp');
    await ok(a.d, `--start-daemon backup --mcast-group 127.0.0.1 --mcast-port ${port}`);
    const twice = await a.d.ipvsadmAsync(['--start-daemon', 'backup', '--mcast-group', '127.0.0.1']);
    expect([twice.exitCode, twice.stderr]).toEqual([255, 'Daemon has already run\n']);
    const none = await a.d.ipvsadmAsync(['--stop-daemon', 'master']);
    expect([none.exitCode, none.stderr]).toEqual([255, 'No daemon is running\n']);
    const dev = await a.d.ipvsadmAsync(['--start-daemon', 'master', '--mcast-interface', 'nosuchif0']);
    expect([dev.exitCode, dev.stderr]).toEqual([255, 'No such device\n']);
    const b = await startDirector();
    const busy = await b.d.ipvsadmAsync(['--start-daemon', 'backup', '--mcast-group', '127.0.0.1', '--mcast-port', String(port)]);
    expect(busy.exitCode).toBe(255);
    expect(busy.stderr).toMatch(/EADDRINUSE/);
    expect(b.d.ipvsadm(['-L', '--daemon']).stdout).toBe('');
    await ok(a.d, '--stop-daemon backup');
    expect(a.d.ipvsadm(['-L', '--daemon']).stdout).toBe('');
  });
});
