// The README's main job: `npm start` runs `paceline demo`: a live local cluster and a failover
// (`--offline`: the scheduler's decision alone).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDemoCib, runDemo } from '../../packages/cli/src/commands/demo.js';
import { repoRoot } from '../support/env.js';

function capture(cib: string): { out: string; err: string; code: number } {
  let out = '';
  let err = '';
  const code = runDemo(cib, { out: (t) => (out += t), err: (t) => (err += t), setExitCode: () => {} });
  return { out, err, code };
}

describe('paceline demo', () => {
  // The embedded default places the address, then fails its node: fence first, then move.
  it('places the floating IP, then fences the failed node and moves the IP to the survivor', () => {
    const { out, code } = capture(defaultDemoCib);
    expect(code).toBe(0);
    expect(out).toMatch(/Start\s+vip\s+\(\s*alpha\s*\)/);
    expect(out).toMatch(/Fence \(reboot\) alpha 'peer is no longer part of the cluster'/);
    expect(out).toMatch(/Move\s+vip\s+\(\s*alpha -> beta\s*\)/);
    expect(out).toMatch(/vip\t\(ocf:paceline:IPaddr\):\t Started beta/);
  });

  // A wrong path must say what is wrong and exit non-zero, not print a stack trace.
  it('fails clearly on a missing CIB', () => {
    const { err, code } = capture('/nonexistent/cib.xml');
    expect(code).toBe(66);
    expect(err).toMatch(/cannot read \/nonexistent\/cib\.xml/);
  });

  const bin = join(repoRoot, 'packages/cli/dist/main.js');
  // The binary users run is the built one: it must work end to end (npm test builds first).
  it.skipIf(!existsSync(bin))(`runs offline through the built binary${existsSync(bin) ? '' : ' (skipped: not built; npm test builds it)'}`, () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'packages/cli/bin/paceline.js'), 'demo', '--offline'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Step 2: node alpha fails');
  });

  // The live main job without root: three node processes on loopback, a power loss, the services
  // move after fencing, and the cluster is taken down again.
  it.skipIf(!existsSync(bin))('starts a local three-node cluster on loopback and fails it over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paceline-demo-test-'));
    try {
      const r = spawnSync(process.execPath, [join(repoRoot, 'packages/cli/bin/paceline.js'), 'demo', '--driver', 'local', '--once', '--dir', dir], { encoding: 'utf8', timeout: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Current DC: node\d - partition with quorum/);
      expect(r.stdout).toMatch(/Online: \[ node1 node2 node3 \]/);
      const holder = /web\t\(ocf:paceline:Dummy\):\t Started (node\d)/.exec(r.stdout)?.[1];
      expect(holder).toBeDefined();
      const moved = /web runs on (node\d) \d+ ms after the power loss/.exec(r.stdout)?.[1];
      expect(moved).toBeDefined();
      expect(moved).not.toBe(holder);
      expect(r.stdout).toContain('The demo cluster is down again');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 130_000);
});
