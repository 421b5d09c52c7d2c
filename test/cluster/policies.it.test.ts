/**
 * Cluster policies on a local three-node cluster (processes on loopback, no root, fencing off):
 *
 * - failure-timeout: a monitor failure moves `web` away (migration-threshold=1); the fail count
 *   expires failure-timeout (8 s) later, not a recheck interval later (the DC schedules at the
 *   expiry: recheck-by), and `web` returns to the node it prefers;
 * - resource maintenance (meta maintenance=true): its recurring monitor is cancelled, it is neither
 *   stopped nor started; is-managed=false: target-role=Stopped does not stop it;
 * - node maintenance: the node's monitors are cancelled, its resources stay as they are;
 * - refresh (resource.refresh): the resource's history goes on every node and it is probed again
 *   (new probes, call ids above the old ones) without a restart; a node-wide refresh likewise;
 * - no-quorum-policy on a node left alone (the two others frozen, SIGSTOP: the local driver cannot
 *   cut links): freeze keeps what runs there and starts nothing; ignore recovers the frozen nodes'
 *   resources; stop stops what runs there; suicide (fencing on): the node fences itself with its
 *   own device (fence_lab reboots it: its run directory is cleared), and the cluster settles with
 *   web running once when the others come back.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResult } from '@paceline/controller';
import { alive, faultVerbs, labCib, labDown, labUp, waitSettled, type LabState } from '@paceline/lab';

const { freeze, thaw } = faultVerbs;
import { apiCall, until } from '../support/cluster.js';
import { missing, repoRoot } from '../support/env.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const reason = missing({ paths: [built] });

const NODES = ['node1', 'node2', 'node3'];

/** web prefers node1, db node2; fencing off, with a fence_lab device for the suicide test. */
function policiesCib(dir: string): string {
  const xml = labCib({
    labDir: dir,
    nodes: NODES,
    stonith: true,
    resources: `      <primitive id="web" class="ocf" provider="paceline" type="Dummy">
        <meta_attributes id="web-meta">
          <nvpair id="web-mt" name="migration-threshold" value="1"/>
          <nvpair id="web-ft" name="failure-timeout" value="8s"/>
        </meta_attributes>
        <operations><op id="web-monitor" name="monitor" interval="1s" timeout="20s"/></operations>
      </primitive>
      <primitive id="db" class="ocf" provider="paceline" type="Dummy">
        <operations><op id="db-monitor" name="monitor" interval="1s" timeout="20s"/></operations>
      </primitive>
`,
    constraints: `      <rsc_location id="web-on-1" rsc="web" node="node1" score="200"/>
      <rsc_location id="db-on-2" rsc="db" node="node2" score="200"/>
`,
  });
  const off = xml.replace('name="stonith-enabled" value="true"', 'name="stonith-enabled" value="false"');
  if (off === xml) throw new Error('labCib changed: stonith-enabled not found');
  return off;
}

interface Op {
  node: string;
  rsc: string;
  id: string;
  operation: string;
  interval: string;
  callId: number;
}

/** Every lrm_rsc_op of the status section (a regex reading of the XML: attributes in any order). */
function ops(statusXml: string): Op[] {
  const out: Op[] = [];
  for (const ns of statusXml.matchAll(/<node_state\b[^>]*\buname="([^"]+)"[^>]*>([\s\S]*?)<\/node_state>/g)) {
    for (const r of ns[2]!.matchAll(/<lrm_resource\b[^>]*\bid="([^"]+)"[^>]*>([\s\S]*?)<\/lrm_resource>/g)) {
      for (const o of r[2]!.matchAll(/<lrm_rsc_op\b([^>]*)\/?>/g)) {
        const attr = (n: string): string => new RegExp(`\\b${n}="([^"]*)"`).exec(o[1]!)?.[1] ?? '';
        out.push({ node: ns[1]!, rsc: r[1]!, id: attr('id'), operation: attr('operation'), interval: attr('interval'), callId: Number(attr('call-id')) });
      }
    }
  }
  return out;
}

describe.skipIf(reason !== undefined)(`policies on a local three-node cluster ${reason ? `(skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let lab: LabState;
  const name = `cf${process.pid % 100000}`;

  const call = <T>(node: string, method: string, params?: unknown): Promise<T> => apiCall<T>(lab, node, method, params);
  const status = (node = 'node1'): Promise<StatusResult> => call<StatusResult>(node, 'status');
  const where = async (rsc: string, node = 'node1'): Promise<readonly string[]> => (await status(node)).resources.find((r) => r.id === rsc)?.nodes ?? [];
  const settle = (): Promise<unknown> => waitSettled(lab.nodes, { timeoutMs: 30_000 });
  const statusXml = async (node = 'node1'): Promise<string> => (await call<{ xml: string }>(node, 'cib.query', { scope: 'status' })).xml;
  /** Whether the Dummy `rsc` really runs on `node` (its state file, under the node's HA_RSCTMP). */
  const runsOn = (rsc: string, node: string): boolean => existsSync(join(lab.nodes.find((n) => n.name === node)!.dir, 'rsctmp', `paceline-Dummy-${rsc}.state`));
  const really = (rsc: string): string[] => NODES.filter((n) => runsOn(rsc, n));
  const setMeta = (rsc: string, nvName: string, value: string | undefined): Promise<unknown> =>
    value === undefined
      ? call('node1', 'cib.update', { op: 'delete', xpath: `//primitive[@id='${rsc}']/meta_attributes/nvpair[@name='${nvName}']` })
      : call('node1', 'cib.update', { op: 'modify', xpath: `//primitive[@id='${rsc}']`, xml: `<primitive id="${rsc}"><meta_attributes id="${rsc}-meta"><nvpair id="${rsc}-${nvName}" name="${nvName}" value="${value}"/></meta_attributes></primitive>` });
  const setOption = (opt: string, value: string): Promise<unknown> =>
    call('node1', 'cib.update', { op: 'modify', scope: 'crm_config', xml: `<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="opt-${opt}" name="${opt}" value="${value}"/></cluster_property_set></crm_config>` });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-policies-'));
    const cib = join(dir, 'cib.xml');
    writeFileSync(cib, policiesCib(dir));
    lab = await labUp({ name, nodes: 3, driver: 'local', dir, cib, settleTimeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    if (lab) for (const n of NODES) {
      try {
        thaw(lab, n);
      } catch {
        // Not running.
      }
    }
    if (process.env.PACELINE_KEEP_LAB) return console.log(`lab kept in ${dir}`);
    await labDown(dir, { name }).catch(() => undefined);
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('failure-timeout: the fail count expires on time and the resource returns', async () => {
    await settle();
    expect(await where('web')).toEqual(['node1']);
    rmSync(join(lab.nodes.find((n) => n.name === 'node1')!.dir, 'rsctmp', 'paceline-Dummy-web.state'), { force: true });
    const failedAt = Date.now();
    await until('web moved away after its failure', async () => {
      const w = await where('web');
      return w.length === 1 && w[0] !== 'node1';
    });
    expect(await statusXml()).toContain('fail-count-web#monitor_1000');
    // cluster-recheck-interval is 60 s at most: coming back well before that is the recheck-by.
    await until('web back on node1', async () => (await where('web')).join() === 'node1', 30_000);
    const backAfterMs = Date.now() - failedAt;
    if (process.env.PACELINE_TEST_VERBOSE) console.log(`web back on node1 ${backAfterMs} ms after its failure (failure-timeout 8 s)`);
    expect(backAfterMs).toBeGreaterThanOrEqual(7_000);
    expect(backAfterMs).toBeLessThan(20_000);
    expect(really('web')).toEqual(['node1']);
    // The expired fail count is cleared (the scheduler's clear_failcount), not only ignored.
    await until('fail count cleared', async () => !(await statusXml()).includes('fail-count-web'), 10_000);
  }, 45_000);

  it('resource maintenance cancels its monitor and leaves it alone; is-managed=false does not stop it', async () => {
    await settle();
    await setMeta('db', 'maintenance', 'true');
    await settle();
    await until('db monitor cancelled', async () => !ops(await statusXml()).some((o) => o.rsc === 'db' && o.interval === '1000'));
    expect((await status()).resources.find((r) => r.id === 'db')?.managed).toBe(false);
    expect(really('db')).toEqual(['node2']);
    await setMeta('db', 'maintenance', undefined);
    await settle();
    await until('db monitored again', async () => ops(await statusXml()).some((o) => o.rsc === 'db' && o.node === 'node2' && o.interval === '1000'));

    await setMeta('db', 'is-managed', 'false');
    await setMeta('db', 'target-role', 'Stopped');
    await settle();
    expect(really('db')).toEqual(['node2']);
    await setMeta('db', 'is-managed', undefined);
    await settle();
    await until('db stopped once managed', async () => really('db').length === 0);
    await setMeta('db', 'target-role', undefined);
    await settle();
    await until('db started again', async () => really('db').join() === 'node2');
  }, 60_000);

  it('node maintenance cancels the node\'s monitors and leaves its resources', async () => {
    await settle();
    await call('node1', 'node.attribute', { node: 'node2', name: 'maintenance', value: 'on', lifetime: 'forever' });
    await settle();
    await until('node2 monitors cancelled', async () => !ops(await statusXml()).some((o) => o.node === 'node2' && o.interval !== '0' && o.interval !== ''));
    expect(really('db')).toEqual(['node2']);
    expect((await status()).nodes.find((n) => n.name === 'node2')?.maintenance).toBe(true);
    await call('node1', 'node.attribute', { node: 'node2', name: 'maintenance', value: 'off', lifetime: 'forever' });
    await settle();
    await until('node2 monitored again', async () => ops(await statusXml()).some((o) => o.node === 'node2' && o.rsc === 'db' && o.interval === '1000'));
    expect(really('db')).toEqual(['node2']);
  }, 45_000);

  it('refresh forgets the history and probes again, without a restart', async () => {
    await settle();
    const before = ops(await statusXml()).filter((o) => o.rsc === 'db');
    const maxBefore = new Map(NODES.map((n) => [n, Math.max(0, ...before.filter((o) => o.node === n).map((o) => o.callId))]));
    const r = await call<{ resources: string[] }>('node3', 'resource.refresh', { resource: 'db' });
    expect(r.resources).toEqual(['db']);
    await settle();
    const after = ops(await statusXml()).filter((o) => o.rsc === 'db');
    for (const n of NODES) {
      const last = after.find((o) => o.node === n && o.id === 'db_last_0');
      expect(last, `db_last_0 on ${n}`).toBeDefined();
      expect(last!.callId, `a new operation on ${n}`).toBeGreaterThan(maxBefore.get(n)!);
    }
    // Probed, found running where it ran: not restarted (a start would be db_last_0 = start on node2).
    expect(after.find((o) => o.node === 'node2' && o.id === 'db_last_0')?.operation).toBe('monitor');
    expect(after.find((o) => o.node === 'node1' && o.id === 'db_last_0')?.operation).toBe('monitor');
    expect(really('db')).toEqual(['node2']);

    // Node-wide: every resource of node1 is probed again.
    const node1Before = new Map(ops(await statusXml()).filter((o) => o.node === 'node1').map((o) => [o.id, o.callId]));
    await call('node2', 'resource.refresh', { node: 'node1' });
    await settle();
    const node1After = ops(await statusXml()).filter((o) => o.node === 'node1' && o.id.endsWith('_last_0'));
    for (const rsc of ['web', 'db']) {
      const o = node1After.find((x) => x.rsc === rsc);
      expect(o?.callId, `${rsc} on node1`).toBeGreaterThan(node1Before.get(`${rsc}_last_0`) ?? 0);
    }
    await expect(call('node1', 'resource.refresh', { resource: 'nosuch' })).rejects.toMatchObject({ code: 'not-found' });
    expect(really('web')).toEqual(['node1']);
  }, 45_000);

  /** node1 alone (node2 and node3 frozen) under `policy`; `check` runs while it is alone. */
  const alone = async (policy: string, check: () => Promise<void>): Promise<void> => {
    await settle();
    await setOption('no-quorum-policy', policy);
    await settle();
    expect(really('web')).toEqual(['node1']);
    expect(really('db')).toEqual(['node2']);
    freeze(lab, 'node2');
    freeze(lab, 'node3');
    try {
      await until('node1 alone, without quorum', async () => {
        const s = await status('node1');
        return !s.quorate && s.dc === 'node1' && s.transition.state === 'idle';
      }, 20_000);
      await check();
    } finally {
      thaw(lab, 'node2');
      thaw(lab, 'node3');
    }
    await waitSettled(lab.nodes, { timeoutMs: 40_000 });
  };

  it('no-quorum-policy freeze, ignore and stop on a node left alone', async () => {
    await alone('freeze', async () => {
      await new Promise((r) => setTimeout(r, 2_000));
      expect(runsOn('web', 'node1')).toBe(true); // kept
      expect(runsOn('db', 'node1')).toBe(false); // not recovered
    });
    await until('after freeze: db on one node', async () => really('db').length === 1);

    await alone('ignore', async () => {
      await until('db recovered on node1 without quorum', async () => runsOn('db', 'node1'), 15_000);
      expect(runsOn('web', 'node1')).toBe(true);
    });
    // db ran twice (fencing off, the frozen node kept it): the cluster stops the extra copy.
    await until('after ignore: db on one node', async () => really('db').length === 1);
    await until('settled after ignore', async () => (await status()).transition.state === 'idle' && really('db').length === 1);

    await alone('stop', async () => {
      await until('web stopped on node1 without quorum', async () => !runsOn('web', 'node1'), 15_000);
    });
    await settle();
    await setOption('no-quorum-policy', 'stop');
  }, 120_000);

  it('no-quorum-policy suicide: the node left alone fences itself, reboots, and the cluster runs web once', async () => {
    await settle();
    await setOption('stonith-enabled', 'true');
    await setOption('no-quorum-policy', 'suicide');
    await settle();
    await until('web on node1', async () => really('web').join() === 'node1');
    const n1 = lab.nodes.find((n) => n.name === 'node1')!;
    const pidBefore = Number(readFileSync(join(n1.dir, 'pid'), 'utf8'));
    freeze(lab, 'node2');
    freeze(lab, 'node3');
    let offAfterMs = 0;
    const frozenAt = Date.now();
    try {
      // fence_lab, run by node1 against itself, kills node1 (its process group) like a power cut.
      await until('node1 fenced itself', async () => !alive(pidBefore), 20_000);
      offAfterMs = Date.now() - frozenAt;
    } finally {
      thaw(lab, 'node2');
      thaw(lab, 'node3');
    }
    if (process.env.PACELINE_TEST_VERBOSE) console.log(`node1 fenced itself ${offAfterMs} ms after it was left alone`);
    // fence_lab reboots node1 (off, then its boot script). The quorate side does not take the
    // self-fence on trust: had node1 stayed away it would fence it; node1 back first (a new
    // incarnation whose executor reports nothing running, and which is probed), it need not. Either
    // way the cluster settles with web running once.
    const pidNow = (): number | undefined => (existsSync(join(n1.dir, 'pid')) ? Number(readFileSync(join(n1.dir, 'pid'), 'utf8')) || undefined : undefined);
    await until('node1 back', async () => alive(pidNow()), 40_000);
    await waitSettled(lab.nodes, { timeoutMs: 60_000 });
    const events = await call<{ kind: string; data: Record<string, unknown> }[]>('node1', 'events.tail', { after: 0, limit: 100_000 });
    expect(events.some((e) => e.kind === 'self-fence')).toBe(true);
    await until('web running once', async () => really('web').length === 1 && (await where('web')).length === 1);
    await setOption('no-quorum-policy', 'stop');
    await setOption('stonith-enabled', 'false');
    await settle();
  }, 120_000);
});
