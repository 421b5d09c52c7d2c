/**
 * `paceline crm_mon`: the cluster as crm_mon 2.1.5 shows it, from the local node's API (the CIB
 * from `cib.query`, DC / quorum / CIB version from `status`), or offline from $CIB_file.
 *
 * Text: Cluster Summary, Node List (or nodes with their resources, -n), Active Resources / Full
 * List of Resources (-r), Node Attributes (-A), Operations (-o, -t), Migration Summary (-f),
 * Failed Resource Actions. The node and resource lists are the scheduler's crm_simulate
 * renderer (same pe_output.c layout). `--output-as=xml` gives crm_mon's XML shape,
 * `--output-as=html` a whole HTML document with the same sections (crm_mon's classes and layout
 * for the summary and the node list), `-s` crm_mon's one-line CLUSTER OK / WARN status.
 *
 * Without -1 on a terminal it redraws every 2 s (and on every CIB change) until Ctrl-C; when
 * stdout is not a terminal it prints once, as -1 does.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ApiClient, StatusResult } from '@paceline/controller';
import { parseXml, readCib, withAttrs, type Cib, type LrmRscOp } from '@paceline/cib';
import { compareNodeNames, ocfExitText, renderClusterStatus, TextOutput, unpackCluster, type ClusterState, type NodeInfo, type ResourceInfo } from '@paceline/scheduler';
import { CRM_EX, ToolError, ctime, offlineCibFile, runTool, withApi, withSocketOption, xmlAttr } from './live.js';

/** What crm_mon shows besides the defaults. */
export interface CrmMonOptions {
  /** -r: inactive resources too ("Full List of Resources"). */
  readonly inactive?: boolean;
  /** -f: the Migration Summary (fail counts). */
  readonly failcounts?: boolean;
  /** -n: resources grouped by node. */
  readonly groupByNode?: boolean;
  /** -A: node attributes. */
  readonly attributes?: boolean;
  /** -o: the operation history. */
  readonly operations?: boolean;
  /** -t: timing details of operations (implies -o). */
  readonly timing?: boolean;
}

/** The inputs of one view: the CIB text and, live, the local node's status. */
export interface CrmMonInput {
  readonly cibXml: string;
  readonly status?: StatusResult | undefined;
  /** "now" in epoch seconds (Last updated; failure-timeout). */
  readonly nowSec: number;
}

/** Everything read from one input, shared by the text and the XML renderers. */
interface MonView {
  readonly cib: Cib;
  readonly state: ClusterState;
  readonly status: StatusResult | undefined;
  readonly nowSec: number;
  readonly primitives: readonly ResourceInfo[];
  readonly failures: readonly FailedOp[];
}

/** One failed operation (an lrm_rsc_op `RSC_last_failure_0`). */
interface FailedOp {
  readonly node: string;
  readonly rsc: string;
  readonly op: LrmRscOp;
}

const OCF_RC_TEXT = ocfExitText;
const OP_STATUS_TEXT: Readonly<Record<number, string>> = { [-1]: 'pending', 0: 'complete', 1: 'Cancelled', 2: 'Timed Out', 3: 'NOT SUPPORTED', 4: 'Error', 5: 'Not installed', 6: 'Not connected', 7: 'Invalid parameter', 8: 'Expired' };

const num = (s: string | undefined): number => {
  const n = Number.parseInt(s ?? '0', 10);
  return Number.isFinite(n) ? n : 0;
};

/**
 * The CIB model of a live CIB, with what the running cluster knows and the replica's root may not
 * carry yet: quorum (have-quorum) and the DC (dc-uuid) from the status, so the scheduler sees the
 * cluster as its DC does.
 */
export function liveCib(cibXml: string, status: StatusResult | undefined): Cib {
  try {
    let root = parseXml(cibXml).root;
    if (status) {
      const dcId = status.nodes.find((n) => n.name === status.dc)?.id;
      root = withAttrs(root, { 'have-quorum': status.quorate ? '1' : '0', ...(dcId !== undefined ? { 'dc-uuid': String(dcId) } : {}) });
    }
    return readCib(root);
  } catch (e) {
    throw new ToolError(CRM_EX.dataErr, `the CIB could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function buildView(input: CrmMonInput): MonView {
  const cib = liveCib(input.cibXml, input.status);
  const state = unpackCluster(cib, { nowSec: input.nowSec });
  const failures: FailedOp[] = [];
  for (const ns of cib.status?.nodeStates ?? []) {
    for (const lr of ns.lrm?.resources ?? []) {
      for (const op of lr.ops) if (op.id === `${lr.id}_last_failure_0`) failures.push({ node: ns.uname ?? ns.id, rsc: lr.id, op });
    }
  }
  failures.sort((a, b) => compareNodeNames(a.node, b.node) || (a.rsc < b.rsc ? -1 : a.rsc > b.rsc ? 1 : 0));
  return { cib, state, status: input.status, nowSec: input.nowSec, primitives: state.resources.filter((r) => r.variant === 'primitive'), failures };
}

function sortedNodes(state: ClusterState): NodeInfo[] {
  return [...state.nodes].sort((a, b) => compareNodeNames(a.name, b.name));
}

/** The summary's "Last change" line, from the CIB root's update attributes. */
function lastChange(cib: Cib): string | undefined {
  const a = cib.cib;
  if (a.cibLastWritten === undefined) return undefined;
  const parts = [a.cibLastWritten];
  if (a.updateUser) parts.push(`by ${a.updateUser}`);
  if (a.updateClient) parts.push(`via ${a.updateClient}`);
  if (a.updateOrigin) parts.push(`on ${a.updateOrigin}`);
  return parts.join(' ');
}

/** Counts of configured primitives crm_mon's summary adds ("(1 DISABLED, 2 BLOCKED from further action due to failure)"). */
function resourceCounts(view: MonView): { total: number; disabled: number; blocked: number } {
  // Inactive orphans (history of instances no longer configured) are not counted; active ones are.
  return {
    total: view.primitives.filter((r) => !r.orphan || r.runningOn.length > 0).length,
    disabled: view.primitives.filter((r) => r.targetRole === 'Stopped').length,
    blocked: view.primitives.filter((r) => r.blocked).length,
  };
}

function summaryText(view: MonView): string[] {
  const s = view.status;
  const lines = ['Cluster Summary:', '  * Stack: corosync'];
  if (s) lines.push(`  * Current DC: ${s.dc !== undefined ? `${s.dc} (version paceline-0.1.0)` : 'NONE'} - partition ${s.quorate ? 'with' : 'WITHOUT'} quorum`);
  else lines.push(`  * Current DC: NONE`);
  lines.push(`  * Last updated: ${ctime(view.nowSec)}${s ? ` on ${s.node}` : ''}`);
  const change = lastChange(view.cib);
  if (change !== undefined) lines.push(`  * Last change:  ${change}`);
  lines.push(`  * ${view.state.nodes.length} node${view.state.nodes.length === 1 ? '' : 's'} configured`);
  const c = resourceCounts(view);
  const notes = [c.disabled ? `${c.disabled} DISABLED` : '', c.blocked ? `${c.blocked} BLOCKED from further action due to failure` : ''].filter((x) => x !== '');
  lines.push(`  * ${c.total} resource instance${c.total === 1 ? '' : 's'} configured${notes.length ? ` (${notes.join(', ')})` : ''}`);
  return lines;
}

/**
 * crm_simulate's status block ("Title:" then lists at depth 1) lifted to crm_mon's layout (the
 * lists at depth 0), as sections of lines keyed by their heading.
 */
function scheduledSections(view: MonView, attributes: boolean): Map<string, string[]> {
  const out = new TextOutput(true);
  renderClusterStatus(out, 'status', view.state, view.cib, { showPending: true, showAttributes: attributes });
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of out.text().split('\n').slice(1)) {
    const heading = /^ {2}\* (.+):$/.exec(line);
    if (heading) {
      current = [];
      sections.set(heading[1]!, current);
    } else if (current && line !== '') current.push(line.slice(2));
  }
  return sections;
}

/** Drops the inactive resources from the resource list (crm_mon without -r); empty groups and clones go too. */
export function activeOnly(lines: readonly string[]): string[] {
  const inactive = (l: string): boolean => /:\t Stopped/.test(l) || /^\s*\* Stopped( \([^)]*\))?: \[/.test(l);
  const depth = (l: string): number => (/^( *)/.exec(l)?.[1]?.length ?? 0) / 2;
  const keep: boolean[] = lines.map((l) => !inactive(l));
  // A heading (a line ending in ":" followed by deeper lines) stays only if a deeper line under it stays.
  for (let i = lines.length - 1; i >= 0; i--) {
    const d = depth(lines[i]!);
    const next = lines[i + 1];
    if (next === undefined || depth(next) <= d) continue;
    let any = false;
    for (let j = i + 1; j < lines.length && depth(lines[j]!) > d; j++) if (keep[j]) any = true;
    keep[i] = any;
  }
  return lines.filter((_, i) => keep[i]);
}

function nodeState(n: NodeInfo): string {
  if (n.unclean) return n.online ? 'UNCLEAN (online)' : 'UNCLEAN (offline)';
  if (n.pending) return 'pending';
  if (n.standby) return n.online ? 'standby' : 'OFFLINE (standby)';
  if (n.maintenance) return n.online ? 'maintenance' : 'OFFLINE (maintenance)';
  return n.online ? 'online' : 'OFFLINE';
}

function agentOf(r: ResourceInfo): string {
  return r.agent ?? '';
}

/** -n: each node with the resources active on it. */
function byNodeText(view: MonView, inactive: boolean): string[] {
  const lines = ['Node List:'];
  for (const n of sortedNodes(view.state)) {
    lines.push(`  * Node ${n.name}: ${nodeState(n)}:`);
    const here = view.primitives.filter((r) => r.runningOn.includes(n.name));
    if (here.length === 0) continue;
    lines.push('    * Resources:');
    for (const r of here) lines.push(`      * ${r.id}\t(${agentOf(r)}):\t ${r.failed ? 'FAILED' : (r.activeRoles.get(n.name) ?? r.role)}${r.managed ? '' : ' (unmanaged)'}`);
  }
  if (inactive) {
    const stopped = view.primitives.filter((r) => r.runningOn.length === 0);
    lines.push('', 'Inactive Resources:');
    if (stopped.length === 0) lines.push('  * No inactive resources');
    for (const r of stopped) lines.push(`  * ${r.id}\t(${agentOf(r)}):\t Stopped${r.targetRole === 'Stopped' ? ' (disabled)' : ''}`);
  }
  return lines;
}

function opLine(op: LrmRscOp, timing: boolean): string {
  const interval = num(op.interval);
  const parts: string[] = [];
  if (interval > 0) parts.push(`interval="${interval}ms"`);
  if (timing) {
    if (op.lastRcChange !== undefined) parts.push(`last-rc-change="${ctime(num(op.lastRcChange))}"`);
    if (op.execTime !== undefined) parts.push(`exec-time="${num(op.execTime)}ms"`);
    if (op.queueTime !== undefined) parts.push(`queue-time="${num(op.queueTime)}ms"`);
  }
  const rc = num(op.rcCode);
  if (rc !== 0) parts.push(`rc="${rc}" (${OCF_RC_TEXT[rc] ?? 'unknown'})`);
  return `(${op.callId ?? '?'}) ${op.operation ?? '?'}${parts.length ? `: ${parts.join(' ')}` : ''}`;
}

function migrationThreshold(r: ResourceInfo | undefined): string {
  return r?.meta.get('migration-threshold') ?? '1000000';
}

/** The configured id of an lrm resource (`p:0` records under `p` for anonymous clones). */
function infoOf(view: MonView, lrmId: string): ResourceInfo | undefined {
  return view.state.resourceById.get(lrmId) ?? view.primitives.find((r) => r.id.replace(/:\d+$/, '') === lrmId);
}

/** -o (and -t): each node's operation history, as node_history_list prints it. */
function operationsText(view: MonView, timing: boolean): string[] {
  const lines = ['Operations:'];
  const states = [...(view.cib.status?.nodeStates ?? [])].sort((a, b) => compareNodeNames(a.uname ?? a.id, b.uname ?? b.id));
  for (const ns of states) {
    lines.push(`  * Node: ${ns.uname ?? ns.id}:`);
    for (const lr of ns.lrm?.resources ?? []) {
      const ops = lr.ops.filter((o) => !o.id.endsWith('_last_failure_0')).sort((a, b) => num(a.callId) - num(b.callId));
      if (ops.length === 0) continue;
      const r = infoOf(view, lr.id);
      const fc = r?.failCounts.find((f) => f.node === (ns.uname ?? ns.id));
      lines.push(`    * ${lr.id}: migration-threshold=${migrationThreshold(r)}${fc && fc.count > 0 ? ` fail-count=${fc.count}` : ''}:`);
      for (const op of ops) lines.push(`      * ${opLine(op, timing)}`);
    }
  }
  return lines;
}

/** -f: fail counts per node. */
function migrationText(view: MonView): string[] {
  const lines = ['Migration Summary:'];
  for (const n of sortedNodes(view.state)) {
    const rows = view.primitives.flatMap((r) => r.failCounts.filter((f) => f.node === n.name && f.count > 0).map((f) => ({ r, f })));
    if (rows.length === 0) continue;
    lines.push(`  * Node: ${n.name}:`);
    for (const { r, f } of rows) {
      const last = f.lastFailure > 0 ? ` last-failure='${ctime(f.lastFailure)}'` : '';
      lines.push(`    * ${r.id}: migration-threshold=${migrationThreshold(r)} fail-count=${f.count >= 1_000_000 ? 'INFINITY' : f.count}${last}:`);
    }
  }
  return lines;
}

function failedText(view: MonView): string[] {
  const lines = ['Failed Resource Actions:'];
  for (const f of view.failures) {
    const rc = num(f.op.rcCode);
    const st = num(f.op.opStatus);
    const key = f.op.operationKey ?? `${f.rsc}_${f.op.operation ?? '?'}_${num(f.op.interval)}`;
    const reason = f.op.exitReason ? `, exitreason='${f.op.exitReason}'` : '';
    const when = f.op.lastRcChange !== undefined ? `, last-rc-change='${ctime(num(f.op.lastRcChange))}'` : '';
    lines.push(`  * ${key} on ${f.node} '${OCF_RC_TEXT[rc] ?? 'unknown'}' (${rc}): call=${f.op.callId ?? '?'}, status='${OP_STATUS_TEXT[st] ?? 'unknown'}'${reason}${when}, queued=${num(f.op.queueTime)}ms, exec=${num(f.op.execTime)}ms`);
  }
  return lines;
}

/** crm_mon's text output for one view. */
export function crmMonText(input: CrmMonInput, opts: CrmMonOptions = {}): string {
  const view = buildView(input);
  const sections = scheduledSections(view, opts.attributes === true);
  const blocks: string[][] = [summaryText(view)];
  if (opts.groupByNode) blocks.push(byNodeText(view, opts.inactive === true));
  else {
    blocks.push(['Node List:', ...(sections.get('Node List') ?? []).map((l) => l)]);
    const all = sections.get('Full List of Resources') ?? [];
    if (opts.inactive) blocks.push(['Full List of Resources:', ...(all.length ? all : ['  * No resources'])]);
    else {
      const active = activeOnly(all);
      blocks.push(['Active Resources:', ...(active.length ? active : ['  * No active resources'])]);
    }
  }
  const attrs = sections.get('Node Attributes');
  if (opts.attributes && attrs) blocks.push(['Node Attributes:', ...attrs]);
  if (opts.operations || opts.timing) blocks.push(operationsText(view, opts.timing === true));
  if (opts.failcounts) {
    const m = migrationText(view);
    if (m.length > 1) blocks.push(m);
  }
  if (view.failures.length > 0) blocks.push(failedText(view));
  return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}

const bool = (b: boolean): string => (b ? 'true' : 'false');

function resourceXml(view: MonView, r: ResourceInfo, indent: string): string[] {
  const byName = new Map(view.state.nodes.map((n) => [n.name, n]));
  if (r.variant === 'primitive') {
    const attrs = `id="${xmlAttr(r.id)}" resource_agent="${xmlAttr(agentOf(r))}" role="${r.role}"${r.targetRole === 'Stopped' ? ' target_role="Stopped"' : ''} active="${bool(r.runningOn.length > 0)}" orphaned="${bool(r.orphan)}" blocked="${bool(r.blocked)}" managed="${bool(r.managed)}" failed="${bool(r.failed)}" failure_ignored="false" nodes_running_on="${r.runningOn.length}"`;
    if (r.runningOn.length === 0) return [`${indent}<resource ${attrs}/>`];
    return [`${indent}<resource ${attrs}>`, ...r.runningOn.map((n) => `${indent}  <node name="${xmlAttr(n)}" id="${xmlAttr(byName.get(n)?.id ?? n)}" cached="true"/>`), `${indent}</resource>`];
  }
  const kids = r.children.map((id) => view.state.resourceById.get(id)).filter((c): c is ResourceInfo => c !== undefined);
  const inner = kids.flatMap((c) => resourceXml(view, c, `${indent}  `));
  const head =
    r.variant === 'group'
      ? `<group id="${xmlAttr(r.id)}" number_resources="${kids.length}" managed="${bool(r.managed)}" disabled="${bool(r.targetRole === 'Stopped')}">`
      : r.variant === 'clone'
        ? `<clone id="${xmlAttr(r.id)}" multi_state="${bool(r.promotable)}" unique="${bool(r.unique)}" maintenance="false" managed="${bool(r.managed)}" disabled="${bool(r.targetRole === 'Stopped')}" failed="${bool(r.failed)}" failure_ignored="false">`
        : `<bundle id="${xmlAttr(r.id)}" unique="${bool(r.unique)}" managed="${bool(r.managed)}" failed="${bool(r.failed)}">`;
  return [`${indent}${head}`, ...inner, `${indent}</${r.variant}>`];
}

/** Whether `r` or one of its descendants is active somewhere. */
function anyActive(state: ClusterState, r: ResourceInfo): boolean {
  if (r.runningOn.length > 0) return true;
  return r.children.some((id) => {
    const c = state.resourceById.get(id);
    return c !== undefined && anyActive(state, c);
  });
}

/** crm_mon --output-as=xml for one view (pacemaker-result, api-version 2.25). */
export function crmMonXml(input: CrmMonInput, opts: CrmMonOptions = {}, request = 'crm_mon --output-as=xml'): string {
  const view = buildView(input);
  const s = view.status;
  const st = view.state;
  const c = resourceCounts(view);
  const dcNode = s?.dc !== undefined ? st.nodes.find((n) => n.name === s.dc) : undefined;
  const out = ['<?xml version="1.0"?>', `<pacemaker-result api-version="2.25" request="${xmlAttr(request)}">`, '  <summary>', '    <stack type="corosync"/>'];
  out.push(s?.dc !== undefined ? `    <current_dc present="true" version="paceline-0.1.0" name="${xmlAttr(s.dc)}" id="${xmlAttr(dcNode?.id ?? '')}" with_quorum="${bool(s.quorate)}"/>` : '    <current_dc present="false"/>');
  out.push(`    <last_update time="${xmlAttr(ctime(view.nowSec))}"${s ? ` origin="${xmlAttr(s.node)}"` : ''}/>`);
  const a = view.cib.cib;
  if (a.cibLastWritten !== undefined) out.push(`    <last_change time="${xmlAttr(a.cibLastWritten)}" user="${xmlAttr(a.updateUser ?? '')}" client="${xmlAttr(a.updateClient ?? '')}" origin="${xmlAttr(a.updateOrigin ?? '')}"/>`);
  out.push(`    <nodes_configured number="${st.nodes.length}"/>`, `    <resources_configured number="${c.total}" disabled="${c.disabled}" blocked="${c.blocked}"/>`);
  const opt = (name: string, dflt: string): string => st.options.get(name) ?? dflt;
  out.push(`    <cluster_options stonith-enabled="${bool(st.stonithEnabled)}" symmetric-cluster="${bool(st.symmetric)}" no-quorum-policy="${xmlAttr(opt('no-quorum-policy', 'stop'))}" maintenance-mode="${xmlAttr(opt('maintenance-mode', 'false'))}" stop-all-resources="${xmlAttr(opt('stop-all-resources', 'false'))}"/>`);
  out.push('  </summary>', '  <nodes>');
  for (const n of sortedNodes(st)) {
    const running = view.primitives.filter((r) => r.runningOn.includes(n.name)).length;
    out.push(`    <node name="${xmlAttr(n.name)}" id="${xmlAttr(n.id)}" online="${bool(n.online)}" standby="${bool(n.standby)}" standby_onfail="${bool(n.standbyOnFail)}" maintenance="${bool(n.maintenance)}" pending="${bool(n.pending)}" unclean="${bool(n.unclean)}" shutdown="${bool(n.shutdown)}" expected_up="${bool(n.online)}" is_dc="${bool(n.name === s?.dc)}" resources_running="${running}" type="${n.kind}"/>`);
  }
  out.push('  </nodes>', '  <resources>');
  for (const r of st.resources) {
    if (r.parent !== undefined) continue;
    if (!opts.inactive && !anyActive(st, r)) continue;
    out.push(...resourceXml(view, r, '    '));
  }
  out.push('  </resources>');
  if (opts.attributes) {
    out.push('  <node_attributes>');
    for (const n of sortedNodes(st)) {
      if (!n.online) continue;
      out.push(`    <node name="${xmlAttr(n.name)}">`);
      for (const name of [...n.attributes.keys()].filter((k) => !/^(fail-count|last-failure|shutdown|terminate|standby|#)/.test(k)).sort()) out.push(`      <attribute name="${xmlAttr(name)}" value="${xmlAttr(n.attributes.get(name) ?? '')}"/>`);
      out.push('    </node>');
    }
    out.push('  </node_attributes>');
  }
  out.push('  <node_history>');
  for (const ns of [...(view.cib.status?.nodeStates ?? [])].sort((x, y) => compareNodeNames(x.uname ?? x.id, y.uname ?? y.id))) {
    const node = ns.uname ?? ns.id;
    out.push(`    <node name="${xmlAttr(node)}">`);
    for (const lr of ns.lrm?.resources ?? []) {
      const r = infoOf(view, lr.id);
      const fc = r?.failCounts.find((f) => f.node === node);
      const fcAttrs = fc && fc.count > 0 ? ` fail-count="${fc.count}"${fc.lastFailure ? ` last-failure="${xmlAttr(ctime(fc.lastFailure))}"` : ''}` : '';
      out.push(`      <resource_history id="${xmlAttr(lr.id)}" orphan="${bool(r === undefined)}" migration-threshold="${xmlAttr(migrationThreshold(r))}"${fcAttrs}>`);
      for (const op of lr.ops.filter((o) => !o.id.endsWith('_last_failure_0')).sort((x, y) => num(x.callId) - num(y.callId))) {
        const rc = num(op.rcCode);
        const interval = num(op.interval);
        out.push(`        <operation_history call="${xmlAttr(op.callId ?? '')}" task="${xmlAttr(op.operation ?? '')}"${interval ? ` interval="${interval}ms"` : ''}${op.lastRcChange !== undefined ? ` last-rc-change="${xmlAttr(ctime(num(op.lastRcChange)))}"` : ''} exec-time="${num(op.execTime)}ms" queue-time="${num(op.queueTime)}ms" rc="${rc}" rc_text="${xmlAttr(OCF_RC_TEXT[rc] ?? 'unknown')}"/>`);
      }
      out.push('      </resource_history>');
    }
    out.push('    </node>');
  }
  out.push('  </node_history>');
  if (view.failures.length > 0) {
    out.push('  <failures>');
    for (const f of view.failures) {
      const rc = num(f.op.rcCode);
      out.push(`    <failure op_key="${xmlAttr(f.op.operationKey ?? '')}" node="${xmlAttr(f.node)}" exitstatus="${xmlAttr(OCF_RC_TEXT[rc] ?? 'unknown')}" exitreason="${xmlAttr(f.op.exitReason ?? '')}" exitcode="${rc}" call="${xmlAttr(f.op.callId ?? '')}" status="${xmlAttr(OP_STATUS_TEXT[num(f.op.opStatus)] ?? 'unknown')}"${f.op.lastRcChange !== undefined ? ` last-rc-change="${xmlAttr(ctime(num(f.op.lastRcChange)))}"` : ''} queued="${num(f.op.queueTime)}" exec="${num(f.op.execTime)}" interval="${num(f.op.interval)}" task="${xmlAttr(f.op.operation ?? '')}"/>`);
    }
    out.push('  </failures>');
  }
  out.push('  <status code="0" message="OK"/>', '</pacemaker-result>');
  return `${out.join('\n')}\n`;
}

/** The DC's name: the live status's, else the node the CIB's dc-uuid names (offline). */
function dcName(view: MonView): string | undefined {
  if (view.status) return view.status.dc;
  const id = view.cib.cib.dcUuid;
  return id === undefined ? undefined : view.state.nodes.find((n) => n.id === id)?.name;
}

/**
 * crm_mon -s: one line for monitoring scripts. "CLUSTER OK: N nodes online, M resource instances
 * configured", or "CLUSTER WARN: " with "No DC" and "offline node: X" for each offline node.
 */
export function crmMonSimple(input: CrmMonInput): string {
  const view = buildView(input);
  const offline = sortedNodes(view.state).filter((n) => !n.online && n.kind === 'member');
  const warn = [dcName(view) === undefined ? 'No DC' : '', offline.map((n) => `offline node: ${n.name}`).join(' ')].filter((x) => x !== '');
  if (warn.length > 0) return `CLUSTER WARN: ${warn.join(', ')}\n`;
  const online = view.state.nodes.filter((n) => n.online && n.kind === 'member').length;
  const total = resourceCounts(view).total;
  return `CLUSTER OK: ${online} node${online === 1 ? '' : 's'} online, ${total} resource instance${total === 1 ? '' : 's'} configured\n`;
}

const HTML_STYLE = `.bold { font-weight: bold }
.online { color: green }
.offline { color: red }
.maint { color: blue }
.standby { color: blue }
.health_red { color: red }
.health_yellow { color: GoldenRod }
.rsc-failed { color: red }
.rsc-failure-ignored { color: DarkGreen }
.rsc-managed { color: blue }
.rsc-multiple { color: orange }
.rsc-ok { color: green }
.warning { color: red; font-weight: bold }`;

const html = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Lines of one text section ("  * x" items, nested by two spaces) as nested HTML lists. */
function htmlList(lines: readonly string[], depth = 0): string[] {
  const out = ['<ul>'];
  const pad = ' '.repeat(depth * 2 + 2);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith(`${pad}* `)) continue;
    const item = line.slice(pad.length + 2);
    const kids: string[] = [];
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith(`${pad}  `); j++) kids.push(lines[j]!);
    if (kids.length > 0) out.push('<li>', `<h3>${html(item.replace(/:$/, ''))}</h3>`, ...htmlList(kids, depth + 1), '</li>');
    else {
      const cls = /FAILED|\(blocked\)/.test(item) ? 'rsc-failed' : /unmanaged/.test(item) ? 'rsc-managed' : 'rsc-ok';
      out.push(`<li><span class="${cls}">${html(item)}</span></li>`);
    }
  }
  out.push('</ul>');
  return out;
}

/** crm_mon --output-as=html: a whole HTML document with the sections of the text output. */
export function crmMonHtml(input: CrmMonInput, opts: CrmMonOptions = {}): string {
  const view = buildView(input);
  const out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<title>Cluster Status</title>', '<meta charset="utf-8">', `<style>${HTML_STYLE}</style>`, '</head>', '<body>'];
  const field = (k: string, v: string): string[] => ['<li>', `<span class="bold">${html(k)}: </span><span>${html(v)}</span>`, '</li>'];
  out.push('<h2>Cluster Summary</h2>', '<ul>');
  for (const line of summaryText(view).slice(1)) {
    const m = /^ {2}\* ([^:]+):\s+(.*)$/.exec(line);
    if (m) out.push(...field(m[1]!, m[2]!));
    else out.push(`<li><span>${html(line.replace(/^ {2}\* /, ''))}</span></li>`);
  }
  out.push('</ul>', '<h2>Node List</h2>', '<ul>');
  for (const n of sortedNodes(view.state)) {
    const state = nodeState(n);
    const cls = !n.online ? 'offline' : n.standby ? 'standby' : n.maintenance ? 'maint' : 'online';
    out.push('<li>', `<span class="bold">${html(n.name)}:</span><span class="${cls}"> ${html(state)}</span>`, '</li>');
  }
  out.push('</ul>');
  // The other sections as the text output has them, each list as nested HTML lists.
  const text = crmMonText(input, { ...opts, groupByNode: false });
  for (const block of text.split('\n\n').slice(2)) {
    const [title, ...lines] = block.split('\n').filter((l) => l !== '');
    if (title === undefined) continue;
    out.push(`<h2>${html(title.replace(/:$/, ''))}</h2>`, ...htmlList(lines));
  }
  out.push('</body>', '</html>');
  return `${out.join('\n')}\n`;
}

interface CrmMonFlags extends CrmMonOptions {
  simple?: boolean;
  oneShot?: boolean;
  outputAs: string;
  socket?: string;
}

/** One view's input: live through `api`, or the file named by $CIB_file. */
async function readInput(api: ApiClient | undefined): Promise<CrmMonInput> {
  const nowSec = Math.floor(Date.now() / 1000);
  if (api === undefined) {
    const file = offlineCibFile()!;
    try {
      return { cibXml: readFileSync(file, 'utf8'), nowSec };
    } catch (e) {
      throw new ToolError(CRM_EX.noInput, `cannot read the CIB file ${file}: ${(e as Error).message}`);
    }
  }
  const [q, status] = await Promise.all([api.request('cib.query', {}), api.request('status', undefined)]);
  return { cibXml: q.xml, status, nowSec };
}

function render(input: CrmMonInput, flags: CrmMonFlags): string {
  if (flags.simple) return crmMonSimple(input);
  if (flags.outputAs === 'html') return crmMonHtml(input, flags);
  return flags.outputAs === 'xml' ? crmMonXml(input, flags) : crmMonText(input, flags);
}

/** The refreshing console view: redraws every 2 s and on CIB changes until SIGINT. */
async function watch(api: ApiClient, flags: CrmMonFlags): Promise<number> {
  let stopped = false;
  let redraw: () => void = () => undefined;
  const wake = new Promise<void>((resolve) => process.once('SIGINT', () => ((stopped = true), resolve())));
  const unsubscribe = await api.subscribe(['cib'], () => redraw()).catch(() => undefined);
  try {
    while (!stopped) {
      const text = render(await readInput(api), flags);
      process.stdout.write(`\x1b[H\x1b[2J${text}`);
      await Promise.race([wake, new Promise<void>((resolve) => ((redraw = resolve), setTimeout(resolve, 2000)))]);
    }
  } finally {
    if (typeof unsubscribe === 'function') await Promise.resolve(unsubscribe()).catch(() => undefined);
  }
  return CRM_EX.ok;
}

export function registerCrmMon(program: Command): void {
  withSocketOption(
    program
      .command('crm_mon')
      .description('the cluster status as crm_mon shows it (live from the API; offline from $CIB_file)')
      .option('-1, --one-shot', 'print the status once and exit')
      .option('-r, --inactive', 'show inactive resources too')
      .option('-f, --failcounts', 'show resource fail counts (Migration Summary)')
      .option('-n, --group-by-node', 'group resources by node')
      .option('-A, --show-node-attributes', 'show node attributes')
      .option('-o, --operations', 'show the resource operation history')
      .option('-t, --timing-details', 'show timing details of operations (implies -o)')
      .option('-s, --simple-status', 'one line of status, for monitoring scripts (CLUSTER OK / WARN)')
      .option('--output-as <FORMAT>', 'text, xml or html', 'text'),
  ).action(async (raw: Record<string, unknown>) => {
    const flags: CrmMonFlags = {
      oneShot: raw['oneShot'] === true,
      inactive: raw['inactive'] === true,
      failcounts: raw['failcounts'] === true,
      groupByNode: raw['groupByNode'] === true,
      attributes: raw['showNodeAttributes'] === true,
      operations: raw['operations'] === true,
      timing: raw['timingDetails'] === true,
      simple: raw['simpleStatus'] === true,
      outputAs: String(raw['outputAs']),
      ...(typeof raw['socket'] === 'string' ? { socket: raw['socket'] } : {}),
    };
    await runTool('crm_mon', async () => {
      if (!['text', 'xml', 'html'].includes(flags.outputAs)) throw new ToolError(CRM_EX.usage, `--output-as: unknown format ${JSON.stringify(flags.outputAs)} (text, xml or html)`);
      if (offlineCibFile() !== undefined && flags.socket === undefined) {
        process.stdout.write(render(await readInput(undefined), flags));
        return CRM_EX.ok;
      }
      return withApi(flags.socket, async (api) => {
        if (!flags.oneShot && !flags.simple && flags.outputAs === 'text' && process.stdout.isTTY) return watch(api, flags);
        process.stdout.write(render(await readInput(api), flags));
        return CRM_EX.ok;
      });
    });
  });
}

/** crm_resource --list: the "Full List of Resources" block of one view. */
export function fullResourceListText(input: CrmMonInput): string {
  const lines = scheduledSections(buildView(input), false).get('Full List of Resources') ?? [];
  return `Full List of Resources:\n${(lines.length ? lines : ['  * No resources']).join('\n')}\n`;
}
