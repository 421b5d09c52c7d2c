// `paceline -f SCRIPT` is how crmsh users batch-edit a CIB: it must commit all or nothing.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/env.js';

const built = existsSync(join(repoRoot, 'packages/cli/dist/main.js'));
const paceline = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(repoRoot, 'packages/cli/bin/paceline.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe.skipIf(!built)(`paceline -f SCRIPT on a CIB file${built ? '' : ' (skipped: not built; npm test builds it)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-crm-'));
  const cib = join(dir, 'cib.xml');

  // A good batch lands once, with crmsh's generated ids.
  it('applies a batch and shows it back in crm syntax', () => {
    copyFileSync(join(repoRoot, 'cib-examples/floating-ip.xml'), cib);
    writeFileSync(join(dir, 'ok.crm'), 'configure\nprimitive web ocf:paceline:Dummy op monitor interval=10s\ncolocation web-with-vip inf: web vip\ncommit\n');
    const r = paceline(['-f', join(dir, 'ok.crm'), '--cib-file', cib]);
    expect(r.status).toBe(0);
    expect(readFileSync(cib, 'utf8')).toContain('id="web-monitor-10s"');
    const show = paceline(['configure', 'show'], { CIB_file: cib });
    expect(show.stdout).toMatch(/colocation web-with-vip inf: web vip/);
  });

  // A batch with a syntax error names the line and column and changes nothing.
  it('rejects a bad batch with a position and leaves the CIB exactly as it was', () => {
    const before = readFileSync(cib, 'utf8');
    writeFileSync(join(dir, 'bad.crm'), 'configure\nprimitive p3 ocf:paceline:Dummy\nprimitive\ncommit\n');
    const r = paceline(['-f', join(dir, 'bad.crm'), '--cib-file', cib]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/line 3, column 1/);
    expect(readFileSync(cib, 'utf8')).toBe(before);
  });
});
