/**
 * `crm_simulate --output-as xml`: the pacemaker-result document (api-version 2.25) with
 * cluster_status, modifications, actions (the Transition Summary), transition (the simulated
 * execution) and revised_cluster_status, shaped as Pacemaker 2.1.5's XML formatter writes them
 * (pe_output.c node_xml, native.c pe__resource_xml, group/clone XML, pcmk_output.c
 * rsc_action_item_xml and the inject-*-xml messages).
 *
 * Not reproduced yet: bundle replicas (printed as their member resources), node attributes and
 * fail counts sections, node health (always "green").
 */
import { escapeAttr } from '@paceline/cib';
import type { ClusterState, NodeInfo, ResourceInfo, SummaryLine } from '../types.js';
import type { ExecEvent } from './execute.js';
import { compareNodeNames } from './status.js';

function el(name: string, attrs: Record<string, string | undefined>, children?: string[], indent = ''): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeAttr(v!)}"`)
    .join('');
  if (!children || children.length === 0) return `${indent}<${name}${a}/>\n`;
  return `${indent}<${name}${a}>\n${children.join('')}${indent}</${name}>\n`;
}

const bool = (b: boolean): string => (b ? 'true' : 'false');

function nodeXml(n: NodeInfo, state: ClusterState, indent: string): string {
  const running = state.resources.filter((r) => r.variant === 'primitive' && r.runningOn.includes(n.name)).length;
  return el(
    'node',
    {
      name: n.name,
      id: n.id,
      online: bool(n.online),
      standby: bool(n.standby),
      standby_onfail: bool(n.standbyOnFail),
      maintenance: bool(n.maintenance),
      pending: bool(n.pending),
      unclean: bool(n.unclean),
      health: 'green',
      // get_node_feature_set: online cluster nodes only; the attribute exists since 3.15.1.
      feature_set: n.online && n.kind === 'member' ? (n.attributes.get('#feature-set') ?? '<3.15.1') : undefined,
      shutdown: bool(n.shutdown),
      expected_up: bool(n.online),
      is_dc: 'false',
      resources_running: String(running),
      type: n.kind === 'guest' || n.kind === 'remote' ? 'remote' : 'member',
    },
    undefined,
    indent,
  );
}

function primitiveXml(r: ResourceInfo, state: ClusterState, indent: string): string {
  const nodes = r.runningOn.map((name) => el('node', { name, id: state.nodeByName.get(name)?.id ?? name, cached: 'true' }, undefined, `${indent}  `));
  return el(
    'resource',
    {
      id: r.id,
      resource_agent: r.agent,
      role: r.role,
      target_role: r.meta.get('target-role'),
      active: bool(r.runningOn.length > 0),
      orphaned: bool(r.orphan),
      blocked: bool(r.blocked),
      managed: bool(r.managed),
      failed: bool(r.failed),
      failure_ignored: bool(r.failureIgnored === true),
      nodes_running_on: String(r.runningOn.length),
    },
    nodes,
    indent,
  );
}

function resourceXml(r: ResourceInfo, state: ClusterState, indent: string): string {
  const kids = r.children.map((id) => state.resourceById.get(id)).filter((x): x is ResourceInfo => x !== undefined);
  const inner = kids.map((k) => resourceXml(k, state, `${indent}  `));
  const disabled = (r.meta.get('target-role') ?? '').toLowerCase() === 'stopped';
  switch (r.variant) {
    case 'primitive':
      return primitiveXml(r, state, indent);
    case 'group':
      return el('group', { id: r.id, number_resources: String(kids.length), managed: bool(r.managed), disabled: bool(disabled) }, inner, indent);
    case 'clone':
      return el(
        'clone',
        {
          id: r.id,
          multi_state: bool(r.promotable),
          unique: bool(r.unique),
          managed: bool(r.managed),
          disabled: bool(disabled),
          failed: bool(kids.some((k) => k.failed)),
          failure_ignored: 'false',
        },
        inner,
        indent,
      );
    case 'bundle':
      return el('bundle', { id: r.id, type: 'docker', image: r.meta.get('image'), unique: bool(r.unique), managed: bool(r.managed), failed: bool(r.failed) }, inner, indent);
    default: {
      const never: never = r.variant;
      throw new Error(`unknown variant ${String(never)}`);
    }
  }
}

/** `<cluster_status>` / `<revised_cluster_status>`. */
export function statusXml(tag: string, state: ClusterState, indent = '  '): string {
  const nodes = [...state.nodes].sort((a, b) => compareNodeNames(a.name, b.name)).map((n) => nodeXml(n, state, `${indent}    `));
  const top = state.resources.filter((r) => r.parent === undefined && !(r.orphan && r.runningOn.length === 0));
  const resources = top.map((r) => resourceXml(r, state, `${indent}    `));
  return el(tag, {}, [el('nodes', {}, nodes, `${indent}  `), el('resources', {}, resources, `${indent}  `)], indent);
}

/** `<actions>`: the Transition Summary (rsc_action_item_xml / node_action_xml). */
export function actionsXml(lines: readonly SummaryLine[], indent = '  '): string {
  const items = lines.map((l) => {
    if (l.change === 'Fence') {
      return el('node_action', { task: `Fence (${l.fenceAction ?? 'reboot'})`, node: l.to ?? l.from, reason: l.reason }, undefined, `${indent}  `);
    }
    const attrs: Record<string, string | undefined> = { action: l.change.toLowerCase(), resource: l.rsc };
    const needRole = l.roleFrom === 'Promoted' || l.roleTo === 'Promoted' || l.roleTo === 'Unpromoted';
    if (l.from === undefined) Object.assign(attrs, needRole ? { role: l.roleFrom, 'next-role': l.roleTo, dest: l.to } : { node: l.to });
    else if (l.to === undefined) Object.assign(attrs, needRole ? { role: l.roleFrom, node: l.from } : { node: l.from });
    else if (l.from === l.to) Object.assign(attrs, l.roleFrom !== l.roleTo ? { role: l.roleFrom, 'next-role': l.roleTo, source: l.from } : needRole ? { role: l.roleFrom, source: l.from } : { source: l.from });
    else Object.assign(attrs, { source: l.from, dest: l.to, ...(needRole ? { role: l.roleFrom } : {}) });
    if (l.reason !== undefined) attrs.reason = l.reason;
    if (l.blocked) attrs.blocked = 'true';
    return el('rsc_action', attrs, undefined, `${indent}  `);
  });
  return el('actions', {}, items, indent);
}

/** One `<transition>` child per executed action (inject_*_xml). */
export function eventXml(e: ExecEvent, indent = '    '): string {
  switch (e.kind) {
    case 'pseudo':
      return el('pseudo_action', { task: e.task, node: e.node }, undefined, indent);
    case 'rsc':
      return el('rsc_action', { resource: e.rsc, op: e.op, node: e.node, interval: e.intervalMs > 0 ? String(e.intervalMs) : undefined }, undefined, indent);
    case 'fence':
      return el('fencing_action', { target: e.target, op: e.op }, undefined, indent);
    case 'cluster':
      return el('cluster_action', { task: e.task, node: e.node, id: e.rsc }, undefined, indent);
    case 'failed':
    case 'attribute':
      return '';
    default: {
      const never: never = e;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

/** The whole document. */
export function resultXml(request: string, sections: readonly string[], code: number, message: string): string {
  return `<pacemaker-result api-version="2.25" request="${escapeAttr(request)}">\n${sections.join('')}  <status code="${code}" message="${escapeAttr(message)}"/>\n</pacemaker-result>\n`;
}
