/**
 * A three-node cluster as processes on loopback (no root needed): the node API's administrative
 * requests end to end, and the decisions' replay.
 *
 * - cib.update with a stale base version is refused and changes nothing; a good one is
 *   acknowledged with its version and reaches every node;
 * - move (with a lifetime: a constraint with an end date, so it does not stay forever), clear;
 * - standby moves resources away and back; cleanup forgets a failure and probes again;
 * - maintenance-mode leaves resources alone;
 * - every scheduler input the DC saved replays (crm_simulate -x) to the summary it acted on;
 * - a graceful stop hands the resources over and is not fenced.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResult } from '@paceline/controller';
import { crmSimulate } from '@paceline/scheduler';
import { Store } from '@paceline/store';
import { labDown, labUp, waitSettled, type LabState } from '@paceline/lab';
import { apiCall, until, webDummyCib } from '../support/cluster.js';
import { missing, repoRoot } from '../support/env.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const reason = missing({ paths: [built] });


describe.skipIf(reason !== undefined)(`a local three-node cluster: administration through the API ${reason ? `(skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let lab: LabState;
  const name = `loc${process.pid % 10000}`;

  const call = <T>(node: string, method: string, params?: unknown): Promise<T> => apiCall<T>(lab, node, method, params);
  const status = (node = 'node1'): Promise<StatusResult> => call<StatusResult>(node, 'status');
  const where = async (rsc: string, node = 'node1'): Promise<readonly string[]> => (await status(node)).resources.find((r) => r.id === rsc)?.nodes ?? [];
  const settle = (): Promise<unknown> => waitSettled(lab.nodes, { timeoutMs: 30_000 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-local-'));
    const cib = join(dir, 'cib.xml');
    writeFileSync(cib, webDummyCib(dir));
    lab = await labUp({ name, nodes: 3, driver: 'local', dir, cib, settleTimeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await labDown(dir, { name }).catch(() => undefined);
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('refuses an update based on an old version and changes nothing; applies a good one everywhere', async () => {
    const before = (await status('node2')).cibVersion;
    const stale = call('node2', 'cib.update', { baseVersion: '0.0.1', op: 'modify', scope: 'crm_config', xml: '<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="x1" name="cluster-recheck-interval" value="3min"/></cluster_property_set></crm_config>' });
    await expect(stale).rejects.toMatchObject({ code: 'conflict' });
    expect((await status('node2')).cibVersion).toBe(before);
    const ok = await call<{ version: string; acks: number }>('node3', 'cib.update', { baseVersion: before, op: 'modify', scope: 'crm_config', xml: '<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="x1" name="cluster-recheck-interval" value="3min"/></cluster_property_set></crm_config>' });
    expect(ok.acks).toBeGreaterThanOrEqual(2);
    for (const n of ['node1', 'node2', 'node3']) {
      const q = await call<{ xml: string }>(n, 'cib.query', { scope: 'crm_config' });
      expect(q.xml).toContain('value="3min"');
    }
    const bad = call('node1', 'cib.update', { op: 'create', scope: 'resources', xml: '<primitive id="broken"' });
    await expect(bad).rejects.toMatchObject({ code: 'bad-params' });
  }, 30_000);

  it('moves a resource with a lifetime (a constraint with an end date) and clears it', async () => {
    await settle();
    const from = (await where('web'))[0]!;
    const to = ['node1', 'node2', 'node3'].find((n) => n !== from)!;
    await call('node2', 'resource.move', { rsc: 'web', node: to, lifetime: 'PT10M' });
    await until(`web on ${to}`, async () => (await where('web')).join() === to);
    const q = await call<{ xml: string }>('node1', 'cib.query', { scope: 'constraints' });
    expect(q.xml).toMatch(/<rsc_location id="cli-prefer-web"[^>]*>\s*<rule[^>]*score="INFINITY"/);
    expect(q.xml).toMatch(/<date_expression [^>]*operation="lt" end="\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ"/);
    await call('node1', 'resource.clear', { rsc: 'web' });
    const q2 = await call<{ xml: string }>('node1', 'cib.query', { scope: 'constraints' });
    expect(q2.xml).not.toContain('cli-prefer-web');
    await settle();
    expect(await where('web')).toEqual([to]); // stickiness keeps it
  }, 40_000);

  it('standby moves resources away; online lets them stay where they are', async () => {
    await settle();
    const holder = (await where('web'))[0]!;
    await call('node1', 'node.standby', { node: holder, on: true });
    await until('web off the standby node', async () => {
      const w = await where('web');
      return w.length === 1 && w[0] !== holder;
    });
    const s = await status();
    expect(s.nodes.find((n) => n.name === holder)?.standby).toBe(true);
    const moved = (await where('web'))[0];
    await call('node1', 'node.standby', { node: holder, on: false });
    await settle();
    expect(await where('web')).toEqual([moved]);
  }, 40_000);

  it('cleanup forgets a failure: the monitor failure is recovered, then the fail count goes away', async () => {
    await settle();
    const holder = (await where('web'))[0]!;
    const n = lab.nodes.find((x) => x.name === holder)!;
    // The Dummy's state file is under the node's HA_RSCTMP: removing it makes the monitor fail (rc 7).
    rmSync(join(n.dir, 'rsctmp', 'paceline-Dummy-web.state'), { force: true });
    await until('a recorded failure', async () => (await call<{ xml: string }>('node1', 'cib.query', { scope: 'status' })).xml.includes('fail-count-web#monitor_1000'));
    await settle();
    expect((await where('web')).length).toBe(1);
    await call('node2', 'resource.cleanup', { rsc: 'web' });
    await until('fail count gone', async () => !(await call<{ xml: string }>('node1', 'cib.query', { scope: 'status' })).xml.includes('fail-count-web'));
    await settle();
    expect((await where('web')).length).toBe(1);
  }, 40_000);

  it('maintenance-mode leaves resources alone', async () => {
    await settle();
    await call('node1', 'cib.update', { op: 'modify', scope: 'crm_config', xml: '<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="mm" name="maintenance-mode" value="true"/></cluster_property_set></crm_config>' });
    await settle();
    const s = await status();
    expect(s.resources.find((r) => r.id === 'web')?.managed).toBe(false);
    await call('node1', 'cib.update', { op: 'delete', xpath: "//nvpair[@id='mm']" });
    await settle();
    expect((await status()).resources.find((r) => r.id === 'web')?.managed).toBe(true);
  }, 40_000);

  it('replays every saved scheduler input to the summary the DC acted on', async () => {
    await settle();
    const s = await status();
    const dc = lab.nodes.find((n) => n.name === s.dc)!;
    const events = await call<{ kind: string; data: { summary?: string[] } }[]>(dc.name, 'events.tail', { after: 0, limit: 100_000 });
    const acted = events.filter((e) => e.kind === 'transition-start').map((e) => (e.data.summary ?? []).join('\n'));
    expect(acted.length).toBeGreaterThan(0);
    const store = new Store(join(dc.dir, 'data', 'paceline.db'));
    let replayed: string[];
    try {
      replayed = store.listPeInputs().map((p) => {
        const r = crmSimulate(store.peInput(p.seq)!.xml, { run: true });
        const m = /Transition Summary:\n([\s\S]*?)(?:\n\n|$)/.exec(r.stdout);
        return (m?.[1] ?? '').split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/^ {2}\* /, '')).join('\n');
      });
    } finally {
      store.close();
    }
    // Every transition the DC started is the replay of one of its saved inputs.
    for (const a of acted) expect(replayed).toContain(a);
  }, 40_000);

  it('a graceful stop hands the resources over without fencing', async () => {
    await settle();
    const holder = (await where('web'))[0]!;
    const n = lab.nodes.find((x) => x.name === holder)!;
    const pid = Number((await import('node:fs')).readFileSync(join(n.dir, 'pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    const other = lab.nodes.find((x) => x.name !== holder)!.name;
    await until('web elsewhere', async () => {
      const w = await where('web', other).catch(() => [] as string[]);
      return w.length === 1 && w[0] !== holder;
    });
    await until('the stopped node offline, clean', async () => {
      const st = await status(other);
      const node = st.nodes.find((x) => x.name === holder);
      return node !== undefined && !node.online && !node.unclean && st.transition.state === 'idle';
    });
    const events = await call<{ kind: string; data: Record<string, unknown> }[]>(other, 'events.tail', { after: 0, limit: 100_000 });
    expect(events.filter((e) => e.kind === 'fence-request' && e.data['target'] === holder)).toEqual([]);
  }, 60_000);
});
