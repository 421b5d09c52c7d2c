/**
 * Multicast sync (IPVS's default transport, 224.0.0.81:8848) between two directors, inside a
 * network namespace this test creates (with a veth pair as the sync link) and removes.
 * The directors run in one node process inside the namespace (fixtures/mcast-sync.mjs, on the
 * built package). Needs root and ip netns.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, repoRoot } from '../support/env.js';

const why = missing({ root: true, netns: true, paths: [join(repoRoot, 'packages/ipvs/dist/sync.js')] });
const ns = `ismc${process.pid % 10000}`;

describe.skipIf(!!why)(`multicast connection sync in a network namespace ${why ?? ''}`, () => {
  afterAll(() => { spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); });

  it('the backup receives the master\'s template and connection over multicast on the sync interface', () => {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    const ip = (...args: string[]): void => { execFileSync('ip', args, { stdio: 'pipe' }); };
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // A veth pair with both ends in the namespace: a multicast-capable link of its own.
    ip('-n', ns, 'link', 'add', 'sync0', 'type', 'veth', 'peer', 'name', 'sync1');
    ip('-n', ns, 'link', 'set', 'sync1', 'up');
    ip('-n', ns, 'link', 'set', 'sync0', 'up');
    ip('-n', ns, 'addr', 'add', '10.250.0.1/24', 'dev', 'sync0');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, join(repoRoot, 'test/ipvs/fixtures/mcast-sync.mjs'), 'sync0'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { errors: string[]; daemons: string[]; connected: boolean; backupTable: string; backupStatus: { backup: { messages: number; dropped: Record<string, number> } } };
    expect(out.errors).toEqual([]);
    expect(out.daemons).toEqual(['master sync daemon (mcast=sync0, syncid=9)\n', 'backup sync daemon (mcast=sync0, syncid=9)\n']);
    expect(out.connected).toBe(true);
    expect(out.backupTable).toMatch(/^TCP +02:00 +NONE +192\.0\.2\.44:0 +10\.251\.0\.100:80 +10\.251\.0\.11:80$/m);
    expect(out.backupTable).toMatch(/^TCP +1[45]:\d\d +ESTABLISHED +192\.0\.2\.44:40000 +10\.251\.0\.100:80 +10\.251\.0\.11:80$/m);
    expect(out.backupStatus.backup.dropped).toEqual({});
  });
});
