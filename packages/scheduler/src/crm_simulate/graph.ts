/**
 * crm_simulate's artifacts: `-D` (dot, pcmk_simulate.c write_sim_dotfile) and `-G` (the
 * transition graph XML, pcmk_graph_producer.c).
 *
 * The dot output follows Pacemaker's action naming (create_action_name) and styles: actions in the
 * graph bold green, optional ones dashed blue (only with -a), unrunnable ones dashed red, pseudo
 * actions with orange text. The graph XML carries synapses, actions with their target node and
 * resource agent, and inputs (triggers name the action only, as Pacemaker's do). An agent action's
 * `<attributes>` are its planned parameters and CRM_meta_* values (plan.ts, the same the controller
 * executes); pseudo and cluster actions carry only their interval and fencing action.
 */
import { escapeAttr, type Cib } from '@paceline/cib';
import type { Action, ScheduleResult } from '../types.js';
import type { PlannedAction } from '../plan-types.js';
import { planTransition } from '../plan.js';
import { clusterTasks, graphOrder, inGraph, lrmNameOf, stonithActionOf } from '../graph-info.js';

/** create_action_name (not verbose). */
function actionName(a: Action): string {
  const host = a.node ?? (a.pseudo ? undefined : '<none>');
  if (a.task === 'stonith') {
    const op = stonithActionOf(a);
    return `stonith '${op}' ${host ?? ''}`.trimEnd();
  }
  const prefix = a.task === 'cancel' ? 'Cancel ' : '';
  if (host !== undefined) return `${prefix}${a.key} ${host}`;
  return a.key;
}

export function renderDot(result: ScheduleResult, allActions: boolean): string {
  const { transition, state } = result;
  const lines: string[] = [' digraph "g" {'];
  const dumped = new Set<number>();
  for (const a of transition.actions) {
    const rsc = a.rsc !== undefined ? state.resourceById.get(a.rsc) : undefined;
    let style = 'dashed';
    let color = 'black';
    let font = a.pseudo ? 'orange' : 'black';
    if (inGraph(a, state)) {
      style = 'bold';
      color = 'green';
    } else if (rsc && !rsc.managed) {
      color = 'red';
      font = 'purple';
      if (!allActions) continue;
    } else if (a.optional) {
      color = 'blue';
      if (!allActions) continue;
    } else color = 'red';
    dumped.add(a.id);
    lines.push(`"${actionName(a)}" [ style=${style} color="${color}" fontcolor="${font}"]`);
  }
  const byId = new Map(transition.actions.map((a) => [a.id, a]));
  const graph = new Set(transition.actions.filter((a) => inGraph(a, state)).map((a) => a.id));
  for (const a of transition.actions) {
    for (const id of a.inputs) {
      const before = byId.get(id);
      if (!before) continue;
      const bold = graph.has(a.id) && graph.has(id);
      if (!bold && !allActions) continue;
      lines.push(`"${actionName(before)}" -> "${actionName(a)}" [ style = ${bold ? 'bold' : 'dashed'}]`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function attr(name: string, value: string | undefined): string {
  return value === undefined ? '' : ` ${name}="${escapeAttr(value)}"`;
}

/** The feature set Pacemaker 2.1.5's graph writes into each action's attributes. */
const graphFeatureSet = '3.16.1';

/** An agent action's `<attributes>`: parameters and CRM_meta_* values, sorted (sorted_xml). */
function plannedAttributes(p: PlannedAction): string {
  const all: Record<string, string> = { ...(p.params ?? {}), crm_feature_set: graphFeatureSet };
  for (const [k, v] of Object.entries(p.meta ?? {})) all[`CRM_meta_${k}`] = v;
  const names = Object.keys(all).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return names.map((n) => attr(n, all[n])).join('');
}

/**
 * The element one action becomes in the graph (create_graph_action): in a trigger only its
 * identity, in an action set with its resource and attributes.
 */
function actionXml(a: Action, result: ScheduleResult, indent: string, planned: PlannedAction | undefined, trigger: boolean): string {
  const nodeId = a.node !== undefined ? result.state.nodeByName.get(a.node)?.id : undefined;
  const common = `${attr('id', String(a.id))}${attr('operation', a.task)}${attr('operation_key', a.key)}`;
  const target = a.node !== undefined && (!a.pseudo || a.task === 'stonith') ? `${attr('on_node', a.node)}${attr('on_node_uuid', nodeId)}` : '';
  const kind = a.pseudo ? 'pseudo_event' : a.rsc === undefined || a.task === 'stonith' || clusterTasks.has(a.task) ? 'crm_event' : 'rsc_op';
  if (trigger) return `${indent}<${kind}${common}${target}/>\n`;
  const meta = `${indent}  <attributes CRM_meta_interval="${a.intervalMs}"${a.task === 'stonith' ? attr('CRM_meta_stonith_action', stonithActionOf(a)) : ''}/>\n`;
  if (kind !== 'rsc_op' || a.rsc === undefined) return `${indent}<${kind}${common}${target}>\n${meta}${indent}</${kind}>\n`;
  const rsc = result.state.resourceById.get(a.rsc);
  const agent = (rsc?.agent ?? '').split(':');
  const cls = planned?.agent?.class ?? agent[0];
  const provider = planned?.agent ? planned.agent.provider : agent.length >= 3 ? agent[1] : undefined;
  const type = planned?.agent?.type ?? (agent.length >= 3 ? agent.slice(2).join(':') : agent[1]);
  const configured = planned?.lrmId ?? (rsc ? lrmNameOf(rsc, a.rsc) : a.rsc);
  const longId = configured !== a.rsc ? attr('long-id', a.rsc) : '';
  const attributes = planned ? `${indent}  <attributes${plannedAttributes(planned)}/>\n` : meta;
  return (
    `${indent}<rsc_op${common}${target}>\n` +
    `${indent}  <primitive${attr('id', configured)}${longId}${attr('class', cls)}${attr('provider', provider)}${attr('type', type)}/>\n` +
    attributes +
    `${indent}</rsc_op>\n`
  );
}

export function renderGraphXml(result: ScheduleResult, cib: Cib): string {
  const { state, transition } = result;
  const order = graphOrder(transition, state);
  const byId = new Map(transition.actions.map((a) => [a.id, a]));
  const planned = new Map(planTransition(cib, result).actions.map((p) => [p.id, p]));
  const opt = (name: string, dflt: string): string => state.options.get(name) ?? dflt;
  let xml = `<transition_graph cluster-delay="${escapeAttr(opt('cluster-delay', '60s'))}" stonith-timeout="${escapeAttr(opt('stonith-timeout', '60s'))}" failed-stop-offset="INFINITY" failed-start-offset="INFINITY" batch-limit="${escapeAttr(opt('batch-limit', '0'))}" transition_id="0">\n`;
  order.forEach((a, i) => {
    xml += `  <synapse id="${i}">\n    <action_set>\n${actionXml(a, result, '      ', planned.get(a.id), false)}    </action_set>\n    <inputs>\n`;
    for (const id of a.inputs) {
      const input = byId.get(id);
      if (!input || (!inGraph(input, state) && input.optional)) continue;
      xml += `      <trigger>\n${actionXml(input, result, '        ', undefined, true)}      </trigger>\n`;
    }
    xml += '    </inputs>\n  </synapse>\n';
  });
  xml += '</transition_graph>\n';
  return xml;
}
