import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childElements, firstChild, parseXml, readCib, writeElement, type XmlElement } from '@paceline/cib';
import { schedule } from './schedule.js';
import { planTransition } from './plan.js';
import { inGraph } from './graph-info.js';
import type { PlannedAction, TransitionPlan } from './plan-types.js';
import type { ScheduleResult } from './types.js';
import {
  OP_STATUS, clearNodeHistory, clearResourceHistory, recordOpResult, setNodeAttribute, setNodeState, type OpResultRecord,
} from './status-record.js';

const examples = join(import.meta.dirname, '..', '..', '..', 'cib-examples');
const NOW = 1_700_000_000;
const nodeIds: Record<string, string> = { alpha: '1', beta: '2', n1: '1', n2: '2', n3: '3' };

function scheduleRoot(root: XmlElement, nowSec = NOW): { result: ScheduleResult; plan: TransitionPlan } {
  const cib = readCib(root);
  const result = schedule(cib, { nowSec });
  return { result, plan: planTransition(cib, result) };
}

/** The in-graph actions that are not pseudo-actions (what a controller would execute). */
function work(result: ScheduleResult): string[] {
  return result.transition.actions.filter((a) => inGraph(a, result.state) && !a.pseudo).map((a) => `${a.key}@${a.node ?? ''}`);
}

/** A result record for a planned agent action, as the controller would build it. */
function resultOf(a: PlannedAction, callId: number, over: Partial<OpResultRecord> = {}): OpResultRecord {
  return {
    node: a.node!,
    nodeId: nodeIds[a.node!]!,
    lrmId: a.lrmId!,
    agent: a.agent!,
    task: a.task,
    intervalMs: a.intervalMs,
    callId,
    rc: a.expectedRc,
    opStatus: OP_STATUS.done,
    targetRc: a.expectedRc,
    transitionKey: `${a.id}:1:${a.expectedRc}:6b2a4c5e-0000-4000-8000-000000000001`,
    lastRcChangeSec: NOW,
    lastRunSec: NOW,
    execMs: 12,
    queueMs: 0,
    ...(a.opDigest !== undefined ? { opDigest: a.opDigest } : {}),
    ...(a.migrateSource !== undefined ? { migrateSource: a.migrateSource } : {}),
    ...(a.migrateTarget !== undefined ? { migrateTarget: a.migrateTarget } : {}),
    ...(a.task === 'notify' ? { notifyType: a.meta!.notify_type!, notifyOperation: a.meta!.notify_operation! } : {}),
    ...over,
  };
}

/**
 * Runs a plan as the graph consumer does (passes over the synapses in order, firing those whose
 * inputs are done), every agent action succeeding, recording each result.
 */
function runPlan(root: XmlElement, plan: TransitionPlan, calls: { n: number }): XmlElement {
  let out = root;
  const done = new Set<number>();
  for (let progress = true; progress; ) {
    progress = false;
    for (const a of plan.actions) {
      if (done.has(a.id) || a.blocked || !a.inputs.every((i) => done.has(i))) continue;
      done.add(a.id);
      progress = true;
      if (a.kind === 'rsc') out = recordOpResult(out, resultOf(a, ++calls.n));
    }
  }
  expect(done.size).toBe(plan.actions.filter((a) => !a.blocked).length);
  return out;
}

function ops(root: XmlElement, uname: string, lrmId: string): XmlElement[] {
  const status = firstChild(root, 'status')!;
  const ns = childElements(status, 'node_state').find((e) => e.attrs.uname === uname);
  const res = ns && firstChild(ns, 'lrm') && firstChild(firstChild(ns, 'lrm')!, 'lrm_resources');
  const rsc = res && childElements(res, 'lrm_resource').find((e) => e.attrs.id === lrmId);
  return rsc ? childElements(rsc, 'lrm_rsc_op') : [];
}

describe('status-record: the scheduler reads back what was recorded (floating-ip.xml)', () => {
  const root0 = parseXml(readFileSync(join(examples, 'floating-ip.xml'), 'utf8')).root;
  const calls = { n: 0 };
  const first = scheduleRoot(root0);
  const placed = runPlan(root0, first.plan, calls);

  it('records probes, the start and the recurring monitor as Pacemaker does', () => {
    expect(placed).not.toBe(root0);
    expect(writeElement(root0)).toBe(writeElement(parseXml(readFileSync(join(examples, 'floating-ip.xml'), 'utf8')).root));
    const vip = ops(placed, 'alpha', 'vip');
    expect(vip.map((e) => e.attrs.id).sort()).toEqual(['vip_last_0', 'vip_monitor_5000']);
    const last = vip.find((e) => e.attrs.id === 'vip_last_0')!;
    expect(last.attrs).toMatchObject({ operation_key: 'vip_start_0', operation: 'start', 'rc-code': '0', 'op-status': '0', interval: '0', on_node: 'alpha', 'exit-reason': '', 'last-rc-change': String(NOW), 'exec-time': '12', 'queue-time': '0' });
    expect(last.attrs['transition-magic']).toBe(`0:0;${last.attrs['transition-key']}`);
    expect(last.attrs['op-digest']).toBe(first.plan.actions.find((a) => a.key === 'vip_start_0')!.opDigest);
    const mon = vip.find((e) => e.attrs.id === 'vip_monitor_5000')!;
    expect(mon.attrs).toMatchObject({ operation_key: 'vip_monitor_5000', operation: 'monitor', interval: '5000', 'rc-code': '0' });
    // the probe on beta: rc 7 as expected, recorded as the last op
    expect(ops(placed, 'beta', 'vip').map((e) => [e.attrs.id, e.attrs['rc-code'], e.attrs.operation_key])).toEqual([['vip_last_0', '7', 'vip_monitor_0']]);
    const node = childElements(firstChild(placed, 'status')!, 'node_state')[0]!;
    const rsc = childElements(firstChild(firstChild(node, 'lrm')!, 'lrm_resources')!, 'lrm_resource').find((e) => e.attrs.id === 'vip')!;
    expect(rsc.attrs).toEqual({ id: 'vip', type: 'IPaddr', class: 'ocf', provider: 'paceline' });
  });

  it('leaves nothing to do: resources where started, no probe again, no restart (digests match)', () => {
    const again = scheduleRoot(placed, NOW + 60);
    expect(again.result.state.resourceById.get('vip')?.runningOn).toEqual(['alpha']);
    expect(again.result.state.resourceById.get('fence-alpha')?.runningOn).toEqual(['beta']);
    expect(again.result.state.resourceById.get('fence-beta')?.runningOn).toEqual(['alpha']);
    expect(work(again.result)).toEqual([]);
    expect(again.plan.summary).toEqual([]);
  });

  const monitor = first.plan.actions.find((a) => a.key === 'vip_monitor_5000')!;
  const failed = setNodeAttribute(
    setNodeAttribute(
      recordOpResult(placed, resultOf(monitor, ++calls.n, { rc: 7, exitReason: 'address gone', lastRcChangeSec: NOW + 100, lastRunSec: NOW + 100 })),
      { id: '1', uname: 'alpha' },
      'transient',
      'fail-count-vip#monitor_5000',
      '1',
    ),
    { id: '1', uname: 'alpha' },
    'transient',
    'last-failure-vip#monitor_5000',
    String(NOW + 100),
  );

  it('records a failed recurring monitor as last_failure and the scheduler recovers it in place', () => {
    const fail = ops(failed, 'alpha', 'vip').find((e) => e.attrs.id === 'vip_last_failure_0')!;
    expect(fail.attrs).toMatchObject({ operation_key: 'vip_monitor_5000', 'rc-code': '7', 'exit-reason': 'address gone', interval: '5000', 'last-rc-change': String(NOW + 100) });
    // the monitor entry itself keeps its last successful result
    expect(ops(failed, 'alpha', 'vip').find((e) => e.attrs.id === 'vip_monitor_5000')!.attrs['rc-code']).toBe('0');
    const { result, plan } = scheduleRoot(failed, NOW + 120);
    const vip = result.state.resourceById.get('vip')!;
    expect(vip.failed).toBe(true);
    expect(vip.failCounts.find((f) => f.node === 'alpha')?.count).toBe(1);
    expect(plan.summary.some((l) => /^Recover\s+vip\s+\(\s*alpha\s*\)$/.test(l))).toBe(true);
    expect(plan.actions.map((a) => `${a.key}@${a.node ?? ''}`)).toEqual(expect.arrayContaining(['vip_stop_0@alpha', 'vip_start_0@alpha', 'vip_monitor_5000@alpha']));
  });

  it('records the stop: last_0 is the stop, the recurring entry is gone, the failure stays', () => {
    const { plan } = scheduleRoot(failed, NOW + 120);
    const stop = plan.actions.find((a) => a.key === 'vip_stop_0')!;
    const stopped = recordOpResult(failed, resultOf(stop, ++calls.n));
    const ids = ops(stopped, 'alpha', 'vip').map((e) => e.attrs.id).sort();
    expect(ids).toEqual(['vip_last_0', 'vip_last_failure_0']);
    expect(ops(stopped, 'alpha', 'vip').find((e) => e.attrs.id === 'vip_last_0')!.attrs.operation).toBe('stop');
    const { result } = scheduleRoot(stopped, NOW + 130);
    const vip = result.state.resourceById.get('vip')!;
    expect(vip.runningOn).toEqual([]);
    expect(vip.failCounts.find((f) => f.node === 'alpha')?.count).toBe(1);
    expect(work(result)).toEqual(expect.arrayContaining(['vip_start_0@alpha']));
    expect(work(result)).not.toContain('vip_stop_0@alpha');
  });

  it('a cleanup removes the history and the fail counts, and the scheduler probes again', () => {
    const cleaned = clearResourceHistory(failed, 'alpha', 'vip');
    expect(ops(cleaned, 'alpha', 'vip')).toEqual([]);
    expect(writeElement(cleaned)).not.toContain('fail-count-vip');
    expect(writeElement(cleaned)).not.toContain('last-failure-vip');
    expect(ops(cleaned, 'beta', 'vip')).toHaveLength(1);
    const { result } = scheduleRoot(cleaned, NOW + 140);
    expect(result.state.resourceById.get('vip')!.failCounts.filter((f) => f.count > 0)).toEqual([]);
    expect(work(result)).toContain('vip_monitor_0@alpha');
    expect(clearResourceHistory(cleaned, 'alpha', 'vip')).toBe(cleaned);
  });

  it('a cancelled recurring monitor loses its entry', () => {
    const cancelled = recordOpResult(placed, resultOf(monitor, ++calls.n, { opStatus: OP_STATUS.cancelled }));
    expect(ops(cancelled, 'alpha', 'vip').map((e) => e.attrs.id)).toEqual(['vip_last_0']);
  });
});

describe('status-record: nodes', () => {
  const root0 = parseXml(readFileSync(join(examples, 'floating-ip.xml'), 'utf8')).root;

  it('fencing: the node goes down with its history and transient attributes cleared', () => {
    const calls = { n: 0 };
    const placed = runPlan(root0, scheduleRoot(root0).plan, calls);
    const withAttr = setNodeAttribute(placed, { id: '1', uname: 'alpha' }, 'transient', 'pingd', '100');
    expect(writeElement(withAttr)).toContain('<nvpair id="status-1-pingd" name="pingd" value="100"/>');
    const down = clearNodeHistory(setNodeState(withAttr, { id: '1', uname: 'alpha' }, { in_ccm: 'false', crmd: 'offline', join: 'down', expected: 'down' }), 'alpha');
    const ns = childElements(firstChild(down, 'status')!, 'node_state').find((e) => e.attrs.uname === 'alpha')!;
    expect(ns.attrs).toMatchObject({ in_ccm: 'false', crmd: 'offline', join: 'down', expected: 'down' });
    expect(childElements(ns)).toEqual([]);
    const { result } = scheduleRoot(down, NOW + 10);
    expect(result.state.nodeByName.get('alpha')?.online).toBe(false);
    expect(result.state.nodeByName.get('alpha')?.unclean).toBe(false);
    expect(result.state.resourceById.get('vip')?.runningOn).toEqual([]);
    expect(work(result)).toContain('vip_start_0@beta');
  });

  it('creates a missing node_state; only named attributes change', () => {
    const r = setNodeState(root0, { id: '3', uname: 'gamma' }, { crmd: 'online' });
    const ns = childElements(firstChild(r, 'status')!, 'node_state').find((e) => e.attrs.uname === 'gamma')!;
    expect(ns.attrs).toEqual({ id: '3', uname: 'gamma', crmd: 'online' });
    expect(setNodeState(r, { id: '3', uname: 'gamma' }, { crmd: 'online' })).toBe(r);
  });

  it('permanent attributes: standby moves the resources away; deleting it brings them back', () => {
    const placed = runPlan(root0, scheduleRoot(root0).plan, { n: 0 });
    const standby = setNodeAttribute(placed, { id: '1', uname: 'alpha' }, 'permanent', 'standby', 'on');
    expect(writeElement(standby)).toContain('<node id="1" uname="alpha">');
    expect(writeElement(standby)).toContain('<instance_attributes id="nodes-1">');
    expect(writeElement(standby)).toContain('<nvpair id="nodes-1-standby" name="standby" value="on"/>');
    const { plan } = scheduleRoot(standby, NOW + 10);
    expect(plan.summary.some((l) => /^Move\s+vip\s+\(\s*alpha -> beta\s*\)$/.test(l))).toBe(true);
    const back = setNodeAttribute(standby, { id: '1', uname: 'alpha' }, 'permanent', 'standby', undefined);
    expect(writeElement(back)).not.toContain('standby');
    expect(work(scheduleRoot(back, NOW + 10).result)).toEqual([]);
  });

  it('transient attribute names are sanitized into ids; undefined deletes', () => {
    const r = setNodeAttribute(root0, { id: '2', uname: 'beta' }, 'transient', 'fail-count-web:0#start_0', 'INFINITY');
    expect(writeElement(r)).toContain('<transient_attributes id="2">');
    expect(writeElement(r)).toContain('<nvpair id="status-2-fail-count-web.0.start_0" name="fail-count-web:0#start_0" value="INFINITY"/>');
    const r2 = setNodeAttribute(r, { id: '2', uname: 'beta' }, 'transient', 'fail-count-web:0#start_0', '2');
    expect(writeElement(r2)).toContain('value="2"');
    expect(writeElement(setNodeAttribute(r2, { id: '2', uname: 'beta' }, 'transient', 'fail-count-web:0#start_0', undefined))).not.toContain('fail-count');
  });
});

describe('status-record: a clone with notifications', () => {
  const text = readFileSync(join(import.meta.dirname, 'plan.test.ts'), 'utf8');
  const cloneXml = /const cloneCib = `([^`]*)`/.exec(text)![1]!;
  const root0 = parseXml(cloneXml).root;

  it('records instances under the configured id and notifications under their notify key; nothing left to do', () => {
    const first = scheduleRoot(root0);
    const placed = runPlan(root0, first.plan, { n: 0 });
    const dummyNodes = first.plan.actions.filter((a) => a.key.startsWith('dummy:') && a.task === 'start').map((a) => a.node!);
    expect(dummyNodes).toHaveLength(2);
    for (const n of dummyNodes) {
      const ids = ops(placed, n, 'dummy').map((e) => e.attrs.id).sort();
      expect(ids).toEqual(['dummy_last_0', 'dummy_monitor_10000', 'dummy_post_notify_start_0']);
      const notify = ops(placed, n, 'dummy').find((e) => e.attrs.id === 'dummy_post_notify_start_0')!;
      expect(notify.attrs).toMatchObject({ operation: 'notify', operation_key: 'dummy_notify_0', 'rc-code': '0' });
    }
    const again = scheduleRoot(placed, NOW + 60);
    expect(work(again.result)).toEqual([]);
    expect(again.result.state.resourceById.get('dummy-clone')?.children.flatMap((c) => again.result.state.resourceById.get(c)?.runningOn ?? []).sort()).toEqual([...dummyNodes].sort());
  });

  it('rejects a notify result without its type', () => {
    const first = scheduleRoot(root0);
    const notify = first.plan.actions.find((a) => a.task === 'notify' && a.kind === 'rsc')!;
    const { notifyType: _t, ...bad } = resultOf(notify, 1);
    void _t;
    expect(() => recordOpResult(root0, bad)).toThrow(/notifyType/);
  });
});
