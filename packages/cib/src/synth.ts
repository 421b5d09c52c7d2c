/**
 * A deterministic generator of synthetic CIBs for benchmarks (bench:cib, the scheduler benchmark).
 *
 * The shape follows the scheduler anchor (../shared/docs/ANCHORS.md): N nodes, R ocf:pacemaker:Dummy
 * primitives in groups of 4-5 with location preferences, some orderings and anti-colocations, all
 * started, optionally node 1 lost. With status, every node has the history Pacemaker itself would
 * record: on the node running a resource its last non-recurring op (the start, after the probe) and
 * its recurring monitor; on every other node the probe (monitor_0, rc 7 = not running). Operation
 * digests are the ones Pacemaker computes for these parameters, so the scheduler sees no changes.
 * With `history: 'running-node'` only the node running a resource records it, so Pacemaker probes
 * every resource on every other online node. The same options and seed always give the same
 * document.
 *
 * Calibration against the anchor (ANCHORS.md "Scheduler": crm_simulate -R 8 x 400 0.27 s / 59 MB,
 * 16 x 1000 8.0 s / 196 MB, 32 x 4000 429 s / 1.3 GB; its generator is not available). Debian's
 * crm_simulate 2.1.5 -R -x on this generator, node 1 lost, seed 1, measured 2026-11-22 on a 2-core
 * AMD EPYC (32 MB L3) under load, 3 runs each, /usr/bin/time:
 *
 *   history       8 x 400               16 x 1000              20 x 2000
 *   every-node    0.26-0.29 s cpu 76 MB 1.35-1.38 s cpu 274 MB  -
 *   running-node  0.27-0.30 s     60 MB 3.7-4.0 s       190 MB  62 s  425 MB
 *
 * Orderings, anti-colocations and locations barely move these (every group ordered after the
 * previous one, anti-colocated with the previous one or three, three preferred nodes per group:
 * 16 x 1000 within noise of the base, or more memory than the anchor). What grows superlinearly is
 * the probes: for every probe, pcmk__order_probes (add_restart_orderings_for_rsc) clears a flag
 * on every scheduled action, so its cost is probes x actions, about (R x N)^2. The 'running-node'
 * shape matches the anchor's memory at every size (about 27 MB + 10.2 KB per node x resource cell:
 * 60, 191 and an extrapolated 1.33 GB against 59, 196 and 1.3 GB) and its time at 8 x 400, but
 * here 16 x 1000 takes half the anchor's 8.0 s: that pass is memory-bound, about 9.5 ns per
 * action visited at 16 x 1000 on this machine (the actions still fit its cache) and 36 ns at
 * 20 x 2000; the anchor's figures imply about 26 ns at both 16 x 1000 and 32 x 4000. It is the
 * closest shape found (memory at three sizes, time at one, the growth), so the scheduler benchmark
 * runs it by default (`--shape unprobed`) and 'every-node' with `--shape sparse`.
 */
import { createHash } from 'node:crypto';
import { element } from './xml.js';
import type { XmlDocument, XmlElement } from './xml.js';

export interface SynthOptions {
  readonly nodes: number;
  readonly resources: number;
  /** Members per group; omitted: 4 or 5, chosen per group by the seeded generator. */
  readonly groupSize?: number;
  readonly seed: number;
  /** Add the status section with each resource's history on every node. */
  readonly withStatus: boolean;
  /**
   * Mark node 1 as lost: in_ccm="false", crmd="offline", join="down" with expected="member". Pacemaker
   * reads an expected member that left the membership as unclean ("peer is no longer part of the
   * cluster") and fences it before recovering its resources.
   */
  readonly node1Lost?: boolean;
  /** Add a fencing device (stonith:fence_dummy, started on the last node). Default true. */
  readonly fencing?: boolean;
  /**
   * Which nodes record a resource's history (with `withStatus`). 'every-node' (the default): the
   * node running it (start, monitor) and every other node (its probe, rc 7), so Pacemaker knows
   * each resource's state everywhere and schedules no probe. 'running-node': only the node running
   * it, so Pacemaker probes every resource on every other online node (R x (N - 2) probes with node
   * 1 lost). The scheduler anchor's figures fit this one (see the module comment).
   */
  readonly history?: 'every-node' | 'running-node';
}

/** Seconds since the epoch of the first recorded operation: fixed, so output is reproducible. */
const historyStartSec = 1_700_000_000;
/** Pacemaker 2.1.5's feature set, as it records it in status. */
const featureSet = '3.16.2';
const monitorIntervalMs = 10_000;
const monitorTimeoutMs = 20_000;
/** Every `orderEvery`-th group is ordered after the previous one. */
const orderEvery = 5;
/** Every `antiColocateEvery`-th group avoids the next one. */
const antiColocateEvery = 7;

/** mulberry32: a small, fast, seedable generator (no module state; one per call). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pacemaker's operation digest: md5 of the sorted parameter XML as `dump_xml_for_digest` writes it. */
function paramsDigest(params: Readonly<Record<string, string>>): string {
  const keys = Object.keys(params).sort();
  const body = keys.map((k) => ` ${k}="${params[k]!}"`).join('');
  return createHash('md5').update(` <parameters${body}/>\n`).digest('hex');
}

interface Placement {
  readonly groupId: string;
  readonly members: readonly string[];
  /** Index (0-based) of the node the group prefers and runs on. */
  readonly nodeIndex: number;
}

function nodeName(i: number): string {
  return `node${i + 1}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function planGroups(opts: SynthOptions, random: () => number): Placement[] {
  const groups: Placement[] = [];
  const groupWidth = String(Math.ceil(opts.resources / 4)).length;
  const rscWidth = String(opts.resources).length;
  let next = 0;
  const offset = Math.floor(random() * opts.nodes);
  while (next < opts.resources) {
    const size = opts.groupSize ?? (random() < 0.5 ? 4 : 5);
    const members: string[] = [];
    for (let k = 0; k < size && next < opts.resources; k++) members.push(`rsc${pad(++next, rscWidth)}`);
    const g = groups.length;
    groups.push({ groupId: `grp${pad(g + 1, groupWidth)}`, members, nodeIndex: (g + offset) % opts.nodes });
  }
  return groups;
}

function nvpair(id: string, name: string, value: string): XmlElement {
  return element('nvpair', { id, name, value });
}

function crmConfig(opts: SynthOptions): XmlElement {
  const p = 'cib-bootstrap-options';
  return element('crm_config', {}, [
    element('cluster_property_set', { id: p }, [
      nvpair(`${p}-have-watchdog`, 'have-watchdog', 'false'),
      nvpair(`${p}-dc-version`, 'dc-version', '2.1.5-a3f44794f94'),
      nvpair(`${p}-cluster-infrastructure`, 'cluster-infrastructure', 'corosync'),
      nvpair(`${p}-cluster-name`, 'cluster-name', 'synth'),
      nvpair(`${p}-stonith-enabled`, 'stonith-enabled', opts.fencing === false ? 'false' : 'true'),
    ]),
  ]);
}

function dummyPrimitive(id: string): XmlElement {
  return element('primitive', { id, class: 'ocf', provider: 'pacemaker', type: 'Dummy' }, [
    element('operations', {}, [
      element('op', { id: `${id}-monitor-interval-10s`, name: 'monitor', interval: '10s', timeout: '20s' }),
    ]),
  ]);
}

function fencingPrimitive(): XmlElement {
  return element('primitive', { id: 'fence1', class: 'stonith', type: 'fence_dummy' }, [
    element('operations', {}, [element('op', { id: 'fence1-monitor-interval-10s', name: 'monitor', interval: '10s', timeout: '20s' })]),
  ]);
}

function constraints(groups: readonly Placement[], opts: SynthOptions): XmlElement {
  const out: XmlElement[] = [];
  for (const g of groups) {
    out.push(element('rsc_location', { id: `loc-${g.groupId}`, rsc: g.groupId, node: nodeName(g.nodeIndex), score: '100' }));
  }
  for (let i = 1; i < groups.length; i++) {
    const prev = groups[i - 1]!;
    const cur = groups[i]!;
    if (i % orderEvery === 0) {
      out.push(element('rsc_order', { id: `ord-${prev.groupId}-${cur.groupId}`, first: prev.groupId, then: cur.groupId, kind: 'Mandatory' }));
    }
    if (i % antiColocateEvery === 0 && opts.nodes > 1) {
      out.push(element('rsc_colocation', { id: `anti-${cur.groupId}-${prev.groupId}`, rsc: cur.groupId, 'with-rsc': prev.groupId, score: '-INFINITY' }));
    }
  }
  return element('constraints', {}, out);
}

/** Per-document counters for status records (call ids per node, transition action numbers). */
interface HistoryState {
  readonly dcUuid: string;
  readonly callIds: number[];
  action: number;
}

function opRecord(h: HistoryState, nodeIndex: number, op: { name: string; intervalMs: number; rc: number; key: string; id: string }): XmlElement {
  const callId = ++h.callIds[nodeIndex]!;
  const action = ++h.action;
  const transitionKey = `${action}:1:${op.rc}:${h.dcUuid}`;
  const params: Record<string, string> = op.intervalMs > 0 ? { CRM_meta_timeout: String(monitorTimeoutMs) } : {};
  return element('lrm_rsc_op', {
    id: op.id,
    operation_key: op.key,
    operation: op.name,
    'crm-debug-origin': 'do_update_resource',
    crm_feature_set: featureSet,
    'transition-key': transitionKey,
    'transition-magic': `0:${op.rc};${transitionKey}`,
    'exit-reason': '',
    on_node: nodeName(nodeIndex),
    'call-id': String(callId),
    'rc-code': String(op.rc),
    'op-status': '0',
    interval: String(op.intervalMs),
    'last-rc-change': String(historyStartSec + callId),
    'exec-time': String(10 + (callId % 40)),
    'queue-time': '0',
    'op-digest': paramsDigest(params),
  });
}

function lrmResource(h: HistoryState, rsc: string, agent: { class: string; provider?: string; type: string }, nodeIndex: number, running: boolean): XmlElement {
  const ops: XmlElement[] = [];
  if (running) {
    ops.push(opRecord(h, nodeIndex, { name: 'start', intervalMs: 0, rc: 0, key: `${rsc}_start_0`, id: `${rsc}_last_0` }));
    const key = `${rsc}_monitor_${monitorIntervalMs}`;
    ops.push(opRecord(h, nodeIndex, { name: 'monitor', intervalMs: monitorIntervalMs, rc: 0, key, id: key }));
  } else {
    ops.push(opRecord(h, nodeIndex, { name: 'monitor', intervalMs: 0, rc: 7, key: `${rsc}_monitor_0`, id: `${rsc}_last_0` }));
  }
  return element('lrm_resource', { id: rsc, ...agent }, ops);
}

function nodeState(h: HistoryState, i: number, groups: readonly Placement[], opts: SynthOptions): XmlElement {
  const id = String(i + 1);
  const lost = i === 0 && opts.node1Lost === true;
  const attrs = lost
    ? { id, uname: nodeName(i), in_ccm: 'false', crmd: 'offline', 'crm-debug-origin': 'post_cache_update', join: 'down', expected: 'member' }
    : { id, uname: nodeName(i), in_ccm: 'true', crmd: 'online', 'crm-debug-origin': 'do_update_resource', join: 'member', expected: 'member' };
  const resources: XmlElement[] = [];
  const dummy = { class: 'ocf', provider: 'pacemaker', type: 'Dummy' };
  const everyNode = opts.history !== 'running-node';
  if (opts.fencing !== false && (everyNode || i === opts.nodes - 1)) {
    resources.push(lrmResource(h, 'fence1', { class: 'stonith', type: 'fence_dummy' }, i, i === opts.nodes - 1));
  }
  for (const g of groups) {
    const running = g.nodeIndex === i;
    if (running || everyNode) for (const m of g.members) resources.push(lrmResource(h, m, dummy, i, running));
  }
  return element('node_state', attrs, [
    element('transient_attributes', { id }, [
      element('instance_attributes', { id: `status-${id}` }, [nvpair(`status-${id}-.feature-set`, '#feature-set', featureSet)]),
    ]),
    element('lrm', { id }, [element('lrm_resources', {}, resources)]),
  ]);
}

/** A deterministic synthetic CIB (see the module comment). */
export function synthCib(opts: SynthOptions): XmlDocument {
  if (!(opts.nodes >= 1 && opts.resources >= 0)) throw new RangeError('synthCib needs nodes >= 1 and resources >= 0');
  const random = seededRandom(opts.seed);
  const groups = planGroups(opts, random);
  const dcUuid = [8, 4, 4, 4, 12].map((n) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('')).join('-');
  const nodes = Array.from({ length: opts.nodes }, (_, i) => element('node', { id: String(i + 1), uname: nodeName(i) }));
  const resources: XmlElement[] = [];
  if (opts.fencing !== false) resources.push(fencingPrimitive());
  for (const g of groups) resources.push(element('group', { id: g.groupId }, g.members.map(dummyPrimitive)));
  const configuration = element('configuration', {}, [
    crmConfig(opts),
    element('nodes', {}, nodes),
    element('resources', {}, resources),
    constraints(groups, opts),
  ]);
  const children = [configuration];
  if (opts.withStatus) {
    const h: HistoryState = { dcUuid, callIds: new Array<number>(opts.nodes).fill(0), action: 0 };
    children.push(element('status', {}, Array.from({ length: opts.nodes }, (_, i) => nodeState(h, i, groups, opts))));
  } else {
    children.push(element('status'));
  }
  const dcNode = opts.nodes > 1 ? '2' : '1';
  const root = element(
    'cib',
    {
      crm_feature_set: featureSet,
      'validate-with': 'pacemaker-3.7',
      epoch: String(opts.resources + 10),
      num_updates: opts.withStatus ? String(opts.resources * 3) : '0',
      admin_epoch: '0',
      'cib-last-written': 'Tue Nov 14 22:13:20 2023',
      'update-origin': nodeName(Number(dcNode) - 1),
      'update-client': 'crmd',
      'have-quorum': '1',
      'dc-uuid': dcNode,
    },
    children,
  );
  return { before: [], root, after: [] };
}
