// The README's main job: `npm start` runs `paceline demo`, which must show a real failover decision.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
  it.skipIf(!existsSync(bin))(`runs through the built binary${existsSync(bin) ? '' : ' (skipped: not built; npm test builds it)'}`, () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'packages/cli/bin/paceline.js'), 'demo'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Step 2: node alpha fails');
  });
});
