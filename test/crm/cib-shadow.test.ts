/**
 * The crm shell offline on a shadow CIB: with $CIB_shadow=NAME and no $CIB_file, `paceline crm`
 * (runCrm) and the configure one-shots work on the shadow file in $CIB_shadow_dir, as Pacemaker's
 * tools do (live.ts offlineCibFile), and never reach for the cluster.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCrm, runCrmCommand } from '../../packages/cli/src/commands/crm.js';

const cib = '<cib validate-with="pacemaker-3.0" epoch="3" num_updates="0" admin_epoch="0"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration><status/></cib>\n';

describe('crm shell on $CIB_shadow', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-crm-shadow-'));
    vi.stubEnv('CIB_file', undefined);
    vi.stubEnv('CIB_shadow_dir', dir);
    // Nobody answers here: going live would fail with "Could not connect".
    vi.stubEnv('PACELINE_API_SOCKET', join(dir, 'no-such.sock'));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits a script to the shadow file $CIB_shadow names', async () => {
    writeFileSync(join(dir, 'shadow.work'), cib);
    vi.stubEnv('CIB_shadow', 'work');
    const out = await runCrm('configure\nprimitive p1 ocf:heartbeat:Dummy\ncommit\n');
    expect(out.output).not.toMatch(/ERROR/);
    expect(out.exitCode).toBe(0);
    const after = readFileSync(join(dir, 'shadow.work'), 'utf8');
    expect(after).toContain('<primitive id="p1" class="ocf" provider="heartbeat" type="Dummy"/>');
    expect(after).toContain('epoch="4"');
  });

  it('runs one-shot configure commands on it too', () => {
    writeFileSync(join(dir, 'shadow.work'), cib);
    vi.stubEnv('CIB_shadow', 'work');
    expect(runCrmCommand('primitive p2 ocf:heartbeat:Dummy').exitCode).toBe(0);
    expect(readFileSync(join(dir, 'shadow.work'), 'utf8')).toContain('id="p2"');
  });

  it('prefers $CIB_file to $CIB_shadow', async () => {
    writeFileSync(join(dir, 'shadow.work'), cib);
    writeFileSync(join(dir, 'file.xml'), cib);
    vi.stubEnv('CIB_shadow', 'work');
    vi.stubEnv('CIB_file', join(dir, 'file.xml'));
    expect((await runCrm('configure primitive p3 ocf:heartbeat:Dummy\n')).exitCode).toBe(0);
    expect(readFileSync(join(dir, 'file.xml'), 'utf8')).toContain('id="p3"');
    expect(readFileSync(join(dir, 'shadow.work'), 'utf8')).not.toContain('id="p3"');
  });

  it('reports a missing shadow or a bad name instead of going live', async () => {
    vi.stubEnv('CIB_shadow', 'absent');
    const missingShadow = await runCrm('configure show\n');
    expect(missingShadow.exitCode).toBe(66);
    expect(missingShadow.output).toContain(join(dir, 'shadow.absent'));
    vi.stubEnv('CIB_shadow', 'a/b');
    const bad = await runCrm('configure show\n');
    expect(bad.exitCode).toBe(66);
    expect(bad.output).toMatch(/invalid shadow name/);
  });
});
