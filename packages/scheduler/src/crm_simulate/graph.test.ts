import { describe, expect, it } from 'vitest';
import { parseXml, readCib, type XmlElement } from '@paceline/cib';
import type { Action, ScheduleResult } from '../types.js';
import { renderDot, renderGraphXml } from './graph.js';
import { clusterState, node, rsc } from './test-fixtures.js';

function action(id: number, key: string, over: Partial<Action> = {}): Action {
  const m = /^(.*)_([a-z_]+)_(\d+)$/.exec(key);
  return { id, key, rsc: m?.[1], task: m?.[2] ?? key, intervalMs: Number(m?.[3] ?? 0), node: undefined, optional: false, runnable: true, pseudo: false, reason: undefined, inputs: [], ...over };
}

const state = clusterState([node('n1'), node('n2')], [rsc('a'), rsc('b', { running: { n1: 'Started' } })]);
const result: ScheduleResult = {
  state,
  transition: {
    actions: [
      action(0, 'a_monitor_0', { node: 'n2' }),
      action(1, 'a_start_0', { node: 'n2', inputs: [0] }),
      action(2, 'b_stop_0', { node: 'n1', optional: true }),
      action(3, 'stonith-n1-reboot', { task: 'stonith', rsc: undefined, node: 'n1' }),
      action(4, 'a_monitor_10000', { node: 'n2', inputs: [1], runnable: false }),
    ],
    summary: [],
  },
  scores: [],
  diagnostics: [],
};

describe('crm_simulate -D', () => {
  // The dot file shows what the graph holds (bold green), what cannot run (red), and leaves
  // optional actions out unless -a asks for every action.
  it('draws graph actions, unrunnable ones and their orderings', () => {
    const dot = renderDot(result, false).split('\n');
    expect(dot[0]).toBe(' digraph "g" {');
    expect(dot).toContain('"a_monitor_0 n2" [ style=bold color="green" fontcolor="black"]');
    expect(dot).toContain('"a_monitor_0 n2" -> "a_start_0 n2" [ style = bold]');
    expect(dot).toContain(`"stonith 'reboot' n1" [ style=bold color="green" fontcolor="black"]`);
    expect(dot).toContain('"a_monitor_10000 n2" [ style=dashed color="red" fontcolor="black"]');
    expect(dot.some((l) => l.includes('b_stop_0'))).toBe(false);
    expect(renderDot(result, true)).toContain('"b_stop_0 n1" [ style=dashed color="blue" fontcolor="black"]');
  });
});

describe('crm_simulate -G', () => {
  // One synapse per graph action in Pacemaker's order (per resource, newest first), each listing its
  // inputs; the document is well-formed XML.
  it('writes synapses with their triggers', () => {
    const cib = readCib(parseXml('<cib><configuration/><status/></cib>'));
    const root = parseXml(renderGraphXml(result, cib)).root;
    expect(root.name).toBe('transition_graph');
    const synapses = root.children.filter((c): c is XmlElement => c.kind === 'element');
    expect(synapses.length).toBe(3);
    const keys = synapses.map((s) => {
      const set = s.children.find((c): c is XmlElement => c.kind === 'element' && c.name === 'action_set');
      const first = set?.children.find((c): c is XmlElement => c.kind === 'element');
      return first?.attrs.operation_key;
    });
    expect(keys).toEqual(['a_start_0', 'a_monitor_0', 'stonith-n1-reboot']);
  });
});
