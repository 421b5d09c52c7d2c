/**
 * A node added to a running cluster, with the real binary on loopback (no root): three daemons
 * of `paceline cluster init` + two joins run; `paceline cluster token` on a member (node2) starts
 * a join service that adds nodes; a fourth machine runs the printed join line with its own name
 * and address. The running cluster agrees on the new nodelist (every member rewrites its
 * configuration), node4 starts with the whole nodelist and becomes a member, quorum holds with
 * expected votes 4, and still holds (3 of 4) with one of the first three killed. That node,
 * restarted from its configuration of before the change, catches up and stores the new list;
 * a live member cannot be removed, a stopped one can (expected votes drop back).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type StatusResult } from '@paceline/controller';
import { freeUdpPorts, waitSettled } from '@paceline/lab';
import { until } from '../support/cluster.js';
import { missing, repoRoot } from '../support/env.js';

const bin = join(repoRoot, 'packages/cli/bin/paceline.js');
const reason = missing({ paths: [join(repoRoot, 'packages/cli/dist/main.js')] });
const FIRST = ['node1', 'node2', 'node3'] as const;
const ALL = [...FIRST, 'node4'] as const;

function paceline(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 40_000 });
}

interface ConfigFile {
  node: { id: number; name: string };
  nodes: { id: number; name: string; addresses: string[]; votes: number }[];
  nodelistVersion?: number;
}

interface MessagingStatus {
  quorum: { quorate: boolean; totalVotes: number; expectedVotes: number; quorumVotes: number };
  nodelist: { version: number; nodes: { nodeId: number; name: string }[] };
  view: { members: { nodeId: number }[] } | undefined;
}

describe.skipIf(reason !== undefined)(`a node added to a running cluster ${reason ? `(skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let ports: number[] = [];
  const daemons = new Map<string, number>();
  const nodeDir = (n: string): string => join(dir, n);
  const configPath = (n: string): string => join(nodeDir(n), 'paceline.json');
  const socket = (n: string): string => join(nodeDir(n), 'api.sock');
  const files = (n: string): string[] => ['--config', configPath(n), '--data-dir', join(nodeDir(n), 'data'), '--socket', socket(n)];
  const config = (n: string): ConfigFile => JSON.parse(readFileSync(configPath(n), 'utf8')) as ConfigFile;
  const messagingStatus = (n: string): MessagingStatus | undefined => {
    try {
      return JSON.parse(readFileSync(join(nodeDir(n), 'messaging-status.json'), 'utf8')) as MessagingStatus;
    } catch {
      return undefined; // not written yet, or being replaced
    }
  };
  const status = async (n: string): Promise<StatusResult> => {
    const c = await ApiClient.connect({ socket: socket(n) });
    try {
      return (await c.request('status', undefined)) as StatusResult;
    } finally {
      c.close();
    }
  };
  const start = (n: string): void => {
    const log = openSync(join(nodeDir(n), 'log'), 'a');
    const child = spawn(process.execPath, ['--max-semi-space-size=1', bin, 'node', 'start', '--config', configPath(n)], { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    child.unref();
    daemons.set(n, child.pid!);
  };
  const kill = (n: string): void => {
    const pid = daemons.get(n);
    daemons.delete(n);
    if (pid !== undefined && ours(pid)) process.kill(-pid, 'SIGKILL');
  };
  /** A process this suite started, still running what it started (a pid may be reused). */
  const ours = (pid: number): boolean => {
    try {
      return /paceline\.js\0(node\0start|cluster\0serve-join)/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  };
  let node3Before = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-add-'));
    ports = await freeUdpPorts(4);
    const listed = FIRST.flatMap((n, i) => ['-N', `${n}=127.0.0.1:${ports[i]}`]);
    const init = paceline(['cluster', 'init', '-n', 'cjadd', '--node-name', 'node1', ...listed, ...files('node1'), '--join-listen', '127.0.0.1:0', '--ttl', '10m', '--no-start', '-q']);
    expect(init.stderr).toBe('');
    const args = init.stdout.trim().split(' ').slice(1);
    for (const n of ['node2', 'node3']) expect(paceline([...args, '--node-name', n, ...files(n), '--no-start', '-q']).status).toBe(0);
    node3Before = readFileSync(configPath('node3'), 'utf8');
    for (const n of FIRST) start(n);
    await waitSettled(FIRST.map((name) => ({ name, apiSocket: socket(name) })), { timeoutMs: 30_000 });
    // No fence device in this test: without this, the CIB does not validate, and no change of its configuration is taken.
    expect(paceline(['crm_attribute', '-n', 'stonith-enabled', '-v', 'false', '--socket', socket('node1')]).status).toBe(0);
  }, 45_000);

  afterAll(() => {
    for (const pid of daemons.values()) if (ours(pid)) process.kill(-pid, 'SIGKILL');
    const log = join(nodeDir('node2'), 'data', 'join-service.log');
    const services = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"listening"')).map((l) => (JSON.parse(l) as { pid: number }).pid) : [];
    for (const pid of services.filter(ours)) process.kill(-pid, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a token from a member lets a new machine join: the running cluster adds it to every configuration', async () => {
    const tok = paceline(['cluster', 'token', '--config', configPath('node2'), '--join-listen', '127.0.0.1:0', '--ttl', '2m', '-q']);
    expect(tok.stderr).toBe('');
    expect(tok.status).toBe(0);
    const args = tok.stdout.trim().split(' ').slice(1);
    const addr = `127.0.0.1:${ports[3]}`;
    const r = paceline([...args, '--node-name', 'node4', '--bind', addr, ...files('node4'), '--no-start']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Joined cluster cjadd as node4 (node 4 of node1, node2, node3, node4, added to the running cluster as ${addr})`);
    expect(config('node4')).toMatchObject({ node: { id: 4, name: 'node4' }, nodelistVersion: 1 });
    expect(config('node4').nodes.map((n) => `${n.id}:${n.name}:${n.addresses[0]}`)).toEqual(ALL.map((n, i) => `${i + 1}:${n}:127.0.0.1:${ports[i]}`));
    await until('every member stored the new nodelist', async () => FIRST.every((n) => config(n).nodelistVersion === 1), 5_000);
    for (const n of FIRST) expect(config(n).nodes.map((x) => x.name)).toEqual([...ALL]);
    // One token, one new node: the service has stopped.
    const again = paceline([...args, '--node-name', 'node5', '--bind', '127.0.0.1', ...files('node5'), '--no-start']);
    expect(again.status).toBe(69);
    // Expected votes grew by one while node4 is not running yet: 3 of 4, still quorate.
    await until('expected votes 4 on node1', async () => messagingStatus('node1')?.quorum.expectedVotes === 4, 5_000);
    expect(messagingStatus('node1')?.quorum).toMatchObject({ quorate: true, totalVotes: 3, quorumVotes: 3 });
  }, 40_000);

  it('node4 starts with the whole nodelist and becomes a member; crm_node -l lists four', async () => {
    start('node4');
    await waitSettled(ALL.map((name) => ({ name, apiSocket: socket(name) })), { timeoutMs: 30_000 });
    const s = await status('node1');
    expect(s.quorate).toBe(true);
    expect(s.nodes.filter((n) => n.online).map((n) => n.name).sort()).toEqual([...ALL]);
    const l = paceline(['crm_node', '-l', '--socket', socket('node4')]);
    expect(l.status).toBe(0);
    expect(l.stdout.trim().split('\n').sort()).toEqual(ALL.map((n, i) => `${i + 1} ${n} member`));
  }, 40_000);

  it('with node3 killed, 3 of 4 votes keep quorum; node3 restarted from its old configuration catches up', async () => {
    kill('node3');
    await until('node3 offline, still quorate', async () => {
      const s = await status('node1');
      return s.quorate && s.nodes.find((n) => n.name === 'node3')?.online === false;
    }, 10_000);
    await until('node1 sees 3 of 4 votes', async () => messagingStatus('node1')?.quorum.totalVotes === 3, 5_000);
    expect(messagingStatus('node1')?.quorum).toMatchObject({ quorate: true, totalVotes: 3, expectedVotes: 4, quorumVotes: 3 });
    writeFileSync(configPath('node3'), node3Before);
    expect(config('node3').nodes).toHaveLength(3);
    start('node3');
    await waitSettled(ALL.map((name) => ({ name, apiSocket: socket(name) })), { timeoutMs: 30_000 });
    await until('node3 stored the nodelist it caught up with', async () => config('node3').nodelistVersion === 1, 5_000);
    expect(config('node3').nodes.map((n) => n.name)).toEqual([...ALL]);
  }, 50_000);

  it('a live member cannot be removed; a stopped one can, and expected votes drop back', async () => {
    const live = paceline(['cluster', 'remove', 'node4', '--socket', socket('node1')]);
    expect(live.status).toBe(64);
    expect(live.stderr).toMatch(/node 4 is a member of the current view: stop it before removing it/);
    kill('node4');
    await until('node4 offline', async () => (await status('node1')).nodes.find((n) => n.name === 'node4')?.online === false, 20_000);
    const r = paceline(['cluster', 'remove', '-c', 'node4', '--socket', socket('node1')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Removed node4 (node 4) from the nodelist of the cluster: node1, node2, node3 (version 2).');
    await until('expected votes 3', async () => FIRST.every((n) => messagingStatus(n)?.quorum.expectedVotes === 3 && config(n).nodelistVersion === 2), 15_000);
    // As crm_node --remove: node4 left the CIB as well.
    await until('node4 gone from the CIB', async () => !(await status('node2')).nodes.some((n) => n.name === 'node4'), 15_000);
    const l = paceline(['crm_node', '-l', '--socket', socket('node2')]);
    expect(l.stdout.trim().split('\n').sort()).toEqual(FIRST.map((n, i) => `${i + 1} ${n} member`));
    // crm_node -R goes the same way: a node no longer in the nodelist is an error naming it.
    const again = paceline(['crm_node', '-R', 'node4', '--socket', socket('node2')]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/node4/);
  }, 60_000);
});
