/**
 * Bootstrap without passwordless ssh, with the real binary on loopback (no root): `paceline
 * cluster init` on node1 prints a join line; node2 and node3 run it and get the configuration
 * and the authkey over the join service; the three daemons form a cluster of three members with
 * quorum. A wrong or expired token gets a clear error and nothing written; the join service
 * stops once every listed node joined; the crm shell's `cluster token` starts a new one, and a
 * join that would bind a port in use writes nothing.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResult } from '@paceline/controller';
import { freeUdpPorts, waitSettled } from '@paceline/lab';
import { until } from '../support/cluster.js';
import { missing, repoRoot } from '../support/env.js';
import { ApiClient } from '@paceline/controller';

const bin = join(repoRoot, 'packages/cli/bin/paceline.js');
const reason = missing({ paths: [join(repoRoot, 'packages/cli/dist/main.js')] });
const NAMES = ['node1', 'node2', 'node3'] as const;

/** The binary, as a user runs it. */
function paceline(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
}

/** Pids in a join service log's "listening" lines. */
function servicePids(log: string): number[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"listening"')).map((l) => (JSON.parse(l) as { pid: number }).pid);
}

describe.skipIf(reason !== undefined)(`cluster init and join on loopback, through the join service ${reason ? `(skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let joinLine = '';
  const daemons: number[] = [];
  const nodeDir = (n: string): string => join(dir, n);
  const files = (n: string): string[] => ['--config', join(nodeDir(n), 'paceline.json'), '--data-dir', join(nodeDir(n), 'data'), '--socket', join(nodeDir(n), 'api.sock')];
  const serviceLog = (): string => join(nodeDir('node1'), 'data', 'join-service.log');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-cj-'));
    const ports = await freeUdpPorts(3);
    const nodes = NAMES.flatMap((n, i) => ['-N', `${n}=127.0.0.1:${ports[i]}`]);
    const init = paceline(['cluster', 'init', '-n', 'cjboot', '--node-name', 'node1', ...nodes, ...files('node1'), '--join-listen', '127.0.0.1:0', '--ttl', '10m', '--no-start', '-q']);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    joinLine = init.stdout.trim();
  }, 30_000);

  afterAll(() => {
    // Only processes this suite started, still running what it started (a pid may be reused).
    const ours = (pid: number): boolean => {
      try {
        return /paceline\.js\0(node\0start|cluster\0serve-join)/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      } catch {
        return false;
      }
    };
    for (const pid of [...daemons, ...servicePids(serviceLog())].filter(ours)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('init writes the configuration and a 0400 authkey and prints one join line with a one-time token', () => {
    expect(joinLine).toMatch(/^paceline cluster join --from 127\.0\.0\.1:\d+ --token pl1\.\d+\.[A-Za-z0-9_-]{43}$/);
    const cfg = JSON.parse(readFileSync(join(nodeDir('node1'), 'paceline.json'), 'utf8')) as { clusterName: string; node: { id: number }; nodes: unknown[] };
    expect(cfg).toMatchObject({ clusterName: 'cjboot', node: { id: 1, name: 'node1' } });
    expect(cfg.nodes).toHaveLength(3);
    expect(statSync(join(nodeDir('node1'), 'authkey')).mode & 0o777).toBe(0o400);
    // A second init refuses to replace them.
    const again = paceline(['cluster', 'init', '--node-name', 'node1', '-N', 'node1=127.0.0.1:9', ...files('node1'), '--no-start']);
    expect(again.status).toBe(73);
    expect(again.stderr).toMatch(/exist: this node is configured already \(--force/);
  });

  it('a wrong or expired token gets a clear error and nothing is written', () => {
    const args = joinLine.split(' ').slice(1);
    const token = args[args.indexOf('--token') + 1]!;
    const wrong = token.slice(0, -2) + (token.endsWith('AA') ? 'BA' : 'AA');
    const bad = paceline([...args.map((a) => (a === token ? wrong : a)), '--node-name', 'node2', ...files('node2'), '--no-start']);
    expect(bad.status).toBe(77);
    expect(bad.stderr).toMatch(/wrong join token/);
    const expired = paceline([...args.map((a) => (a === token ? token.replace(/^pl1\.\d+\./, 'pl1.1000000000.') : a)), '--node-name', 'node2', ...files('node2'), '--no-start']);
    expect(expired.status).toBe(77);
    expect(expired.stderr).toMatch(/expired at 2001-09-09/);
    expect(existsSync(nodeDir('node2'))).toBe(false);
  });

  it('node2 and node3 join with the printed line; the join service then stops', async () => {
    const args = joinLine.split(' ').slice(1);
    for (const n of ['node2', 'node3']) {
      const r = paceline([...args, '--node-name', n, ...files(n), '--no-start']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Joined cluster cjboot as ${n}`);
      expect(readFileSync(join(nodeDir(n), 'authkey')).equals(readFileSync(join(nodeDir('node1'), 'authkey')))).toBe(true);
      expect(statSync(join(nodeDir(n), 'authkey')).mode & 0o777).toBe(0o400);
    }
    await until('the join service stopped', async () => readFileSync(serviceLog(), 'utf8').includes('"reason":"all-joined"'), 5_000);
    const after = paceline([...args, '--node-name', 'node3', ...files('node3'), '--no-start', '--force']);
    expect(after.status).toBe(69);
    expect(after.stderr).toMatch(/no join service at 127\.0\.0\.1:\d+ \(connection refused\)/);
  });

  it('the three daemons form a cluster of three members with quorum', async () => {
    for (const n of NAMES) {
      const log = openSync(join(nodeDir(n), 'log'), 'a');
      const child = spawn(process.execPath, ['--max-semi-space-size=1', bin, 'node', 'start', '--config', join(nodeDir(n), 'paceline.json')], { detached: true, stdio: ['ignore', log, log] });
      closeSync(log);
      child.unref();
      daemons.push(child.pid!);
    }
    const nodes = NAMES.map((name) => ({ name, apiSocket: join(nodeDir(name), 'api.sock') }));
    await waitSettled(nodes, { timeoutMs: 30_000 });
    const c = await ApiClient.connect({ socket: nodes[2]!.apiSocket });
    try {
      const s = (await c.request('status', undefined)) as StatusResult;
      expect(s.clusterName).toBe('cjboot');
      expect(s.quorate).toBe(true);
      expect(s.nodes.filter((n) => n.online).map((n) => n.name).sort()).toEqual([...NAMES]);
    } finally {
      c.close();
    }
    const st = paceline(['cluster', 'status', '--socket', nodes[1]!.apiSocket]);
    expect(st.status).toBe(0);
    expect(st.stdout).toContain('Cluster cjboot: 3 of 3 nodes online, partition with quorum');
  }, 45_000);

  it("the crm shell's cluster token starts a new join service; a join onto a busy port writes nothing", () => {
    const tok = paceline(['crm', '--socket', join(nodeDir('node1'), 'api.sock'), 'cluster', 'token', '--config', join(nodeDir('node1'), 'paceline.json'), '--join-listen', '127.0.0.1:0', '--ttl', '20s', '-q']);
    expect(tok.status).toBe(0);
    const line = tok.stdout.trim();
    expect(line).toMatch(/^paceline cluster join --from 127\.0\.0\.1:\d+ --token pl1\./);
    // node2 runs already: its messaging port is taken, so a second configuration for it is refused.
    const other = join(dir, 'node2b');
    const r = paceline([...line.split(' ').slice(1), '--node-name', 'node2', '--config', join(other, 'paceline.json'), '--data-dir', join(other, 'data'), '--socket', join(other, 'api.sock'), '--no-start']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/cannot bind 127\.0\.0\.1:\d+\/udp: the port is in use/);
    expect(existsSync(join(other, 'paceline.json'))).toBe(false);
    expect(existsSync(join(other, 'authkey'))).toBe(false);
  });
});
