/**
 * Real-process suite: an HA pair of userspace directors driven by ocf:paceline:ipvs with
 * connection sync, on loopback. Two "nodes" (two director state directories, two HA_RSCTMP
 * directories, unicast sync on 127.0.0.1 with a port per node): each runs the always-on
 * sync=backup instance (the clone), node A runs the service with sync=master; a persistent
 * client's template reaches B; the service moves to B (agent stop on A, start on B) and the
 * client reaches the same real server through B. Needs the built CLI (packages/cli/dist).
 */
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, repoRoot } from '../support/env.js';
import { OCF, ocfAgent, runAgent, tempDir } from '../agents/support.js';

const pacelineBin = join(repoRoot, 'packages/cli/bin/paceline.js');
const why = missing({ paths: [join(repoRoot, 'packages/cli/dist/main.js'), join(repoRoot, 'packages/ipvs/dist/sync.js')] });
const agent = ocfAgent('ipvs');

async function nameServer(name: string, closers: (() => void)[]): Promise<number> {
  const server = net.createServer((s) => { s.on('error', () => undefined); s.end(name); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

async function freePort(host: string, kind: 'tcp' | 'udp'): Promise<number> {
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

/** The name a real server answers through the VIP, retried while the listener is not up (3 s). */
async function fetchName(host: string, port: number, localAddress: string): Promise<string> {
  const until = Date.now() + 3000;
  for (;;) {
    const got = await new Promise<string>((resolve) => {
      const s = net.connect({ host, port, localAddress });
      let data = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => { data += c; });
      s.on('close', () => resolve(data));
      s.on('error', (e) => resolve(`error ${e.message}`));
    });
    if (!got.includes('ECONNREFUSED') || Date.now() > until) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!!why)(`ipvs agent: connection sync between two directors (real-process suite, loopback) ${why ?? ''}`, () => {
  const tmp = tempDir('ipvs-sync');
  const closers: (() => void)[] = [];
  const dirs = { A: join(tmp.path, 'director-a'), B: join(tmp.path, 'director-b') };
  afterAll(() => {
    for (const dir of Object.values(dirs)) {
      if (!existsSync(join(dir, 'director.pid'))) continue;
      spawnSync(pacelineBin, ['director', 'stop', '--state-dir', dir], { stdio: 'ignore', timeout: 15_000 });
      const pidFile = join(dir, 'director.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    for (const c of closers) c();
    tmp.remove();
  });
  const pl = (dir: string, ...args: string[]) => spawnSync(pacelineBin, ['ipvsadm', '--state-dir', dir, ...args], { encoding: 'utf8' });

  it('rejects bad sync parameters with OCF_ERR_CONFIGURED', () => {
    const base = { service: '-t 127.0.0.70:80 -s rr -p', servers: '127.0.0.1:9', backend: 'paceline', paceline: pacelineBin, director_state_dir: dirs.A };
    for (const [params, reason] of [
      [{ ...base, sync: 'primary' }, /sync must be none, master or backup/],
      [{ ...base, sync: 'master', syncid: '256', sync_interface: 'lo' }, /syncid must be 0\.\.255/],
      [{ ...base, sync: 'master' }, /needs sync_interface \(multicast\) or sync_peer/],
      [{ ...base, sync: 'master', sync_peer: '10.0.0.1:99999' }, /port must be 1\.\.65535/],
      [{ ...base, sync: 'master', sync_peer: 'node-b' }, /not ADDR\[:PORT\]/],
      [{ ...base, sync: 'master', sync_interface: 'lo', sync_group: '10.0.0.1' }, /sync_group must be an IPv4 multicast address/],
      [{ ...base, sync: 'backup', sync_interface: 'lo' }, /sync=backup is the always-on sync receiver/],
    ] as const) {
      const r = runAgent(agent, 'validate-all', { params, env: { HA_RSCTMP: tmp.path } });
      expect(r.rc, JSON.stringify(params)).toBe(OCF.ERR_CONFIGURED);
      expect(r.exitReason).toMatch(reason);
    }
  });

  it('the service moves from A to B and a persistent client stays on its real server', async () => {
    const x = await nameServer('X', closers);
    const y = await nameServer('Y', closers);
    const vip = '127.0.0.71';
    const vport = await freePort(vip, 'tcp');
    const port = { A: String(await freePort('127.0.0.1', 'udp')), B: String(await freePort('127.0.0.1', 'udp')) };
    const peers = `127.0.0.1:${port.A} 127.0.0.1:${port.B}`;
    const node = (n: 'A' | 'B') => ({
      env: { HA_RSCTMP: join(tmp.path, `rsctmp-${n}`) },
      common: { backend: 'paceline', paceline: pacelineBin, director_state_dir: dirs[n], syncid: '5', sync_peer: peers, sync_port: port[n] },
    });
    const clone = (n: 'A' | 'B') => ({ params: { ...node(n).common, sync: 'backup' }, env: node(n).env, instance: 'lvs-sync' });
    const lvs = (n: 'A' | 'B') => ({ params: { ...node(n).common, sync: 'master', service: `-t ${vip}:${vport} -s rr -p 300`, servers: `127.0.0.1:${x} 127.0.0.1:${y}` }, env: node(n).env, instance: 'lvs' });

    // Every agent action runs the paceline CLI a few times (node start-up each): few actions.
    expect(runAgent(agent, 'monitor', { ...clone('A'), env: { ...clone('A').env, OCF_RESKEY_CRM_meta_interval: '0' } }).rc, 'probe').toBe(OCF.NOT_RUNNING);
    for (const n of ['A', 'B'] as const) {
      const r = runAgent(agent, 'start', clone(n));
      expect(r.rc, r.stderr).toBe(OCF.SUCCESS);
    }
    const startA = runAgent(agent, 'start', lvs('A'));
    expect(startA.rc, startA.stderr).toBe(OCF.SUCCESS);
    expect(pl(dirs.A, '-L', '--daemon').stdout).toBe('master sync daemon (mcast=, syncid=5)\nbackup sync daemon (mcast=, syncid=5)\n');

    const warm = await fetchName(vip, vport, '127.0.0.74');
    const first = await fetchName(vip, vport, '127.0.0.75');
    expect([warm, first].sort()).toEqual(['X', 'Y']);
    const firstPort = first === 'X' ? x : y;
    const template = new RegExp(`^TCP\\s+\\S+\\s+NONE\\s+127\\.0\\.0\\.75:0\\s+127\\.0\\.0\\.71:${vport}\\s+127\\.0\\.0\\.1:${firstPort}$`, 'm');
    const until = Date.now() + 5000;
    while (!template.test(pl(dirs.B, '-L', '-c', '-n').stdout) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(pl(dirs.B, '-L', '-c', '-n').stdout).toMatch(template);
    // A does not send to its own backup: nothing of its own comes back.
    expect(pl(dirs.A, '-L', '-c', '-n').stdout.match(/NONE/g)).toHaveLength(2);

    // Failover: stop on A (rules and master daemon go), start on B.
    expect(runAgent(agent, 'stop', lvs('A')).rc).toBe(OCF.SUCCESS);
    expect(pl(dirs.A, '-L', '--daemon').stdout).toBe('backup sync daemon (mcast=, syncid=5)\n');
    const startB = runAgent(agent, 'start', lvs('B'));
    expect(startB.rc, startB.stderr).toBe(OCF.SUCCESS);
    expect(await fetchName(vip, vport, '127.0.0.75')).toBe(first);
    expect(await fetchName(vip, vport, '127.0.0.76')).toBe(warm);
    expect(runAgent(agent, 'monitor', lvs('B')).rc).toBe(OCF.SUCCESS);
    // The master daemon gone under the resource is a monitor failure.
    expect(pl(dirs.B, '--stop-daemon', 'master').status).toBe(0);
    const mon = runAgent(agent, 'monitor', lvs('B'));
    expect(mon.rc).toBe(OCF.ERR_GENERIC);
    expect(mon.exitReason).toMatch(/master sync daemon does not run/);
    expect(runAgent(agent, 'stop', lvs('B')).rc).toBe(OCF.SUCCESS);
    expect(runAgent(agent, 'stop', clone('B')).rc).toBe(OCF.SUCCESS);
    expect(runAgent(agent, 'monitor', clone('B')).rc).toBe(OCF.NOT_RUNNING);
    expect(pl(dirs.B, '-L', '--daemon').stdout).toBe('');
  }, 180_000);
});
