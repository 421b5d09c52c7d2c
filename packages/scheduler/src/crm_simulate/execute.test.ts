import { describe, expect, it } from 'vitest';
import { parseXml, readCib, type XmlElement } from '@paceline/cib';
import type { Action, Transition } from '../types.js';
import { eventText, executeTransition, type ExecEvent } from './execute.js';
import { StatusEditor } from './status-edit.js';
import { clusterState, node, rsc } from './test-fixtures.js';

let nextId = 0;
function action(key: string, over: Partial<Action> = {}): Action {
  const m = /^(.*)_([a-z_]+)_(\d+)$/.exec(key);
  return {
    id: nextId++,
    key,
    rsc: m?.[1],
    task: m?.[2] ?? key,
    intervalMs: Number(m?.[3] ?? 0),
    node: undefined,
    optional: false,
    runnable: true,
    pseudo: false,
    reason: undefined,
    inputs: [],
    ...over,
  };
}

const cibText = `<cib><configuration><nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/><primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/>
<group id="g"><primitive id="m" class="ocf" provider="heartbeat" type="Dummy"/></group></resources></configuration>
<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/>
<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="2"><lrm_resources>
<lrm_resource id="b" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="b_last_0" operation="start" call-id="4" rc-code="0" op-status="0" interval="0"/></lrm_resource>
</lrm_resources></lrm></node_state></status></cib>`;

const state = clusterState(
  [node('n1'), node('n2')],
  [
    rsc('a'),
    rsc('b', { running: { n2: 'Started' } }),
    rsc('g', { variant: 'group', children: ['m'], agent: undefined }),
    rsc('m', { parent: 'g' }),
  ],
);

const agents = new Map([
  ['a', { class: 'ocf', provider: 'heartbeat', type: 'Dummy' }],
  ['b', { class: 'ocf', provider: 'heartbeat', type: 'Dummy' }],
  ['m', { class: 'ocf', provider: 'heartbeat', type: 'Dummy' }],
]);

function run(transition: Transition, opFail: string[] = []): { lines: string[]; editor: StatusEditor; complete: boolean } {
  const editor = new StatusEditor(parseXml(cibText).root);
  const lines: string[] = [];
  const report = (e: ExecEvent): void => {
    lines.push(eventText(e).text);
  };
  const result = executeTransition({ transition, state, editor, agents, promotedMonitors: new Set(), opFail, clockSec: 1000, report });
  return { lines, editor, complete: result.complete };
}

function lrmOps(root: XmlElement, uname: string, rscId: string): Array<Record<string, string>> {
  const cib = readCib(root);
  const ns = cib.status?.nodeStates.find((n) => n.uname === uname);
  return ns?.lrm?.resources.find((r) => r.id === rscId)?.ops.map((o) => ({ ...o.attrs })) ?? [];
}

describe('simulated execution', () => {
  // Synapses fire in graph order (per resource, newest action first) as soon as their inputs are
  // done; a simulated action completes at once, so one pass can run a chain, and anything still
  // waiting is picked up in a later pass.
  it('runs actions in Pacemaker graph order, waiting for inputs', () => {
    nextId = 0;
    const probe = action('a_monitor_0', { node: 'n1' });
    const stopB = action('b_stop_0', { node: 'n2' });
    const startA = action('a_start_0', { node: 'n1', inputs: [probe.id] });
    const gStart = action('g_start_0', { pseudo: true, inputs: [stopB.id] });
    const startM = action('m_start_0', { node: 'n1', inputs: [gStart.id] });
    const gRunning = action('g_running_0', { pseudo: true, inputs: [startM.id] });
    const optional = action('b_start_0', { node: 'n1', optional: true });
    const { lines, complete } = run({ actions: [probe, startA, stopB, gStart, startM, gRunning, optional], summary: [] });
    expect(lines).toEqual([
      'Resource action: a               monitor on n1',
      'Resource action: b               stop on n2',
      'Pseudo action:   g_start_0',
      'Resource action: m               start on n1',
      'Resource action: a               start on n1',
      'Pseudo action:   g_running_0',
    ]);
    expect(complete).toBe(true);
  });

  // Results land in the status section as Pacemaker records them: a probe that found nothing is
  // rc 7 under <rsc>_last_0, a start replaces it, a stop of a running resource records rc 0.
  it('records each result in the resource history', () => {
    nextId = 0;
    const probe = action('a_monitor_0', { node: 'n1' });
    const startA = action('a_start_0', { node: 'n1', inputs: [probe.id] });
    const monA = action('a_monitor_10000', { node: 'n1', inputs: [startA.id] });
    const stopB = action('b_stop_0', { node: 'n2' });
    const { editor } = run({ actions: [probe, startA, monA, stopB], summary: [] });
    const aOps = lrmOps(editor.root, 'n1', 'a');
    expect(aOps.map((o) => [o.id, o.operation, o['rc-code'], o['call-id']])).toEqual([
      ['a_last_0', 'start', '0', '2'],
      ['a_monitor_10000', 'monitor', '0', '3'],
    ]);
    const bOps = lrmOps(editor.root, 'n2', 'b');
    expect(bOps.map((o) => [o.id, o.operation, o['call-id']])).toEqual([['b_last_0', 'stop', '5']]);
  });

  // -F: the failed action is recorded as a failure with a fail count; nothing but pseudo-actions
  // runs after it, and the transition still counts as complete (Pacemaker: "Stopped").
  it('stops at an injected failure', () => {
    nextId = 0;
    const startA = action('a_start_0', { node: 'n1' });
    const startM = action('m_start_0', { node: 'n1' });
    const gRunning = action('g_running_0', { pseudo: true });
    const { lines, editor, complete } = run({ actions: [startA, startM, gRunning], summary: [] }, ['a_start_0@n1=1']);
    expect(lines).toEqual([
      'Resource action: a               start on n1',
      'Pretending action 0 failed with rc=1',
      "Injecting attribute fail-count-a#start_0=value++ into /node_state '1'",
      "Injecting attribute last-failure-a#start_0=1000 into /node_state '1'",
      'Pseudo action:   g_running_0',
    ]);
    expect(complete).toBe(true);
    expect(lrmOps(editor.root, 'n1', 'a').map((o) => o.id)).toEqual(['a_last_failure_0', 'a_last_0']);
  });

  // An input that is required but not in the graph never completes: its dependants never run.
  it('leaves actions blocked by inputs outside the graph', () => {
    nextId = 0;
    const blocked = action('b_stop_0', { node: 'n2', runnable: false });
    const startA = action('a_start_0', { node: 'n1', inputs: [blocked.id] });
    const { lines, complete } = run({ actions: [blocked, startA], summary: [] });
    expect(lines).toEqual([]);
    expect(complete).toBe(false);
  });

  // Fencing takes the node down and forgets what it ran.
  it('fences a node: offline, history cleared', () => {
    nextId = 0;
    const fence = action('stonith-n2-reboot', { task: 'stonith', rsc: undefined, node: 'n2' });
    const { lines, editor } = run({ actions: [fence], summary: [] });
    expect(lines).toEqual(['Fencing n2 (reboot)']);
    const ns = readCib(editor.root).status?.nodeStates.find((n) => n.uname === 'n2');
    expect([ns?.inCcm, ns?.crmd, ns?.join, ns?.expected, ns?.lrm]).toEqual(['false', 'offline', 'down', 'down', undefined]);
  });
});
