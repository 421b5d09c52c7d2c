/**
 * Edits of a CIB's status section the way crm_simulate makes them (pcmk_injections.c): node state
 * changes, resource history entries, fail counts. Used for `-u/-d/-f/-i` before scheduling and for
 * recording the results of the simulated transition (`-S`) before "Revised Cluster Status".
 *
 * Works on a private mutable copy of the XML tree (`StatusEditor.root`), which is a valid
 * `XmlElement` for `readCib`. The input tree is never touched. One editor per simulation run.
 */
import type { XmlElement, XmlNode } from '@paceline/cib';
import { historyEntriesOn, type AgentIdentity, type HistoryEntry, type HistoryView } from '../graph-info.js';

export type { AgentIdentity };

/** A mutable element with the same shape as `XmlElement`. */
interface MutElement {
  kind: 'element';
  name: string;
  attrs: Record<string, string>;
  children: Array<MutElement | XmlNode>;
}

function copyElement(el: XmlElement): MutElement {
  return {
    kind: 'element',
    name: el.name,
    attrs: { ...el.attrs },
    children: el.children.map((c) => (c.kind === 'element' ? copyElement(c) : c)),
  };
}

function childElement(el: MutElement, name: string, pred?: (c: MutElement) => boolean): MutElement | undefined {
  for (const c of el.children) if (c.kind === 'element' && c.name === name && (!pred || pred(c as MutElement))) return c as MutElement;
  return undefined;
}

function ensureChild(el: MutElement, name: string, attrs: Record<string, string> = {}): MutElement {
  const found = childElement(el, name);
  if (found) return found;
  const created: MutElement = { kind: 'element', name, attrs, children: [] };
  el.children.push(created);
  return created;
}

function removeChildren(el: MutElement, name: string): void {
  el.children = el.children.filter((c) => !(c.kind === 'element' && c.name === name));
}

/** One operation result to record (pcmk__create_history_xml). */
export interface OpResult {
  /** The id the history is kept under (the configured id for anonymous clone instances). */
  readonly rscId: string;
  readonly task: string;
  readonly intervalMs: number;
  readonly rc: number;
  /** What the scheduler expected (7 for most probes): an rc other than this is a failure. */
  readonly targetRc: number;
  /** When it ran: crm_simulate stamps results with the wall clock (time()), not the effective date. */
  readonly nowSec: number;
  /** For notify: the notify key Pacemaker records it under. */
  readonly opKey?: string;
  readonly migrateSource?: string;
  readonly migrateTarget?: string;
  /** op-digest of the parameters the action ran with. */
  readonly opDigest?: string;
}

export class StatusEditor implements HistoryView {
  private readonly input: XmlElement;
  /** The private copy, made at the first edit: a run without edits (-R, -s) copies nothing. */
  private copy: MutElement | undefined;

  constructor(cibRoot: XmlElement) {
    this.input = cibRoot;
    if (!cibRoot.children.some((c) => c.kind === 'element' && c.name === 'status')) ensureChild(this.doc, 'status');
  }

  /** The CIB as edited so far: the input itself until the first edit. */
  get root(): XmlElement {
    return this.copy ?? this.input;
  }

  /** The tree edits go to, copied from the input on first use. */
  private get doc(): MutElement {
    this.copy ??= copyElement(this.input);
    return this.copy;
  }

  private get status(): MutElement {
    return ensureChild(this.doc, 'status');
  }

  /** The `<cib>` attribute have-quorum (crm_simulate -q). */
  setQuorum(value: string): void {
    this.doc.attrs['have-quorum'] = value;
  }

  /** node_state of `uname`, created (id = the configured node id, else the name) when absent. */
  nodeState(uname: string): MutElement {
    const found = childElement(this.status, 'node_state', (c) => c.attrs.uname === uname);
    if (found) return found;
    const created: MutElement = { kind: 'element', name: 'node_state', attrs: { id: this.nodeIdOf(uname), uname }, children: [] };
    this.status.children.push(created);
    return created;
  }

  private nodeIdOf(uname: string): string {
    const config = childElement(this.doc, 'configuration');
    const nodes = config ? childElement(config, 'nodes') : undefined;
    const node = nodes ? childElement(nodes, 'node', (c) => c.attrs.uname === uname) : undefined;
    return node?.attrs.id ?? uname;
  }

  /** A crm_config property in the first cluster_property_set (crm_simulate -w sets have-watchdog). */
  setClusterProperty(name: string, value: string): void {
    const config = ensureChild(this.doc, 'configuration');
    const crmConfig = ensureChild(config, 'crm_config');
    const set = ensureChild(crmConfig, 'cluster_property_set', { id: 'cib-bootstrap-options' });
    const existing = childElement(set, 'nvpair', (c) => c.attrs.name === name);
    if (existing) existing.attrs.value = value;
    else set.children.push({ kind: 'element', name: 'nvpair', attrs: { id: `${set.attrs.id ?? 'cib-bootstrap-options'}-${name}`, name, value }, children: [] });
  }

  /** crm_simulate -u: the node in the configuration (when missing) and up. */
  addConfiguredNode(uname: string): void {
    const config = ensureChild(this.doc, 'configuration');
    const nodes = ensureChild(config, 'nodes');
    if (!childElement(nodes, 'node', (c) => c.attrs.uname === uname)) {
      nodes.children.push({ kind: 'element', name: 'node', attrs: { id: uname, uname }, children: [] });
    }
  }

  /** pcmk__inject_node_state_change. */
  setNodeUp(uname: string, up: boolean, origin: string): MutElement {
    const ns = this.nodeState(uname);
    Object.assign(ns.attrs, up
      ? { in_ccm: 'true', crmd: 'online', join: 'member', expected: 'member' }
      : { in_ccm: 'false', crmd: 'offline', join: 'down', expected: 'down' });
    ns.attrs['crm-debug-origin'] = origin;
    return ns;
  }

  /** Node down or fenced: offline, and its resource history and transient attributes cleared. */
  clearNodeHistory(uname: string): void {
    const ns = this.nodeState(uname);
    removeChildren(ns, 'lrm');
    removeChildren(ns, 'transient_attributes');
  }

  /** The newest last-rc-change / last-run recorded in the status (0 when none). */
  latestRecordedSec(): number {
    let latest = 0;
    const visit = (el: MutElement): void => {
      if (el.name === 'lrm_rsc_op') {
        for (const k of ['last-rc-change', 'last-run']) {
          const v = Number.parseInt(el.attrs[k] ?? '0', 10);
          if (Number.isFinite(v) && v > latest) latest = v;
        }
        return;
      }
      for (const c of el.children) if (c.kind === 'element') visit(c as MutElement);
    };
    visit(this.status);
    return latest;
  }

  /** The unames of every node_state, in document order. */
  nodeStateNames(): string[] {
    const out: string[] = [];
    for (const c of this.status.children) if (c.kind === 'element' && c.name === 'node_state') out.push((c as MutElement).attrs.uname ?? '');
    return out;
  }

  /**
   * The lrm_resource entries recorded on `uname`, in document order, each with whether its last
   * operation leaves the resource active there (a rough reading; the engine's unpack is the truth).
   */
  historyOn(uname: string): HistoryEntry[] {
    return historyEntriesOn(childElement(this.doc, 'status'), uname);
  }

  /** pcmk__inject_resource_history: the lrm_resource under `rscId` or `lrmName`, created as `lrmName`. */
  resourceHistory(uname: string, rscId: string, lrmName: string, agent: AgentIdentity): MutElement {
    const ns = this.nodeState(uname);
    const lrm = ensureChild(ns, 'lrm', { id: ns.attrs.id ?? uname });
    const resources = ensureChild(lrm, 'lrm_resources');
    // Pacemaker finds the entry by an XPath that must match exactly once: a duplicated entry (seen
    // in old CIBs) is not found, and a fresh one is created.
    const unique = (id: string): MutElement | undefined => {
      const all = resources.children.filter((c): c is MutElement => c.kind === 'element' && c.name === 'lrm_resource' && (c as MutElement).attrs.id === id);
      return all.length === 1 ? all[0] : undefined;
    };
    const existing = unique(rscId) ?? (lrmName !== rscId ? unique(lrmName) : undefined);
    if (existing) return existing;
    const attrs: Record<string, string> = { id: lrmName };
    if (agent.class !== undefined) attrs.class = agent.class;
    if (agent.provider !== undefined) attrs.provider = agent.provider;
    if (agent.type !== undefined) attrs.type = agent.type;
    const created: MutElement = { kind: 'element', name: 'lrm_resource', attrs, children: [] };
    resources.children.push(created);
    return created;
  }

  /** pcmk__create_history_xml: records `op` in `history`, replacing the entry with the same id. */
  recordOp(history: MutElement, uname: string, op: OpResult): void {
    let task = op.task;
    if (task === 'reload' || task === 'reload-agent') task = 'start';
    const key = `${op.rscId}_${task}_${op.intervalMs}`;
    const callId = nextCallId(history);
    const ids: string[] = [];
    let rc = op.rc;
    if (task === 'notify') {
      ids.push(op.opKey ?? key);
      rc = 0;
    } else if (task === 'migrate_to' || task === 'migrate_from') ids.push(key);
    else if (rc !== op.targetRc) {
      ids.push(`${op.rscId}_last_failure_0`);
      if (op.intervalMs === 0) ids.push(`${op.rscId}_last_0`);
    } else if (op.intervalMs > 0) ids.push(key);
    else ids.push(`${op.rscId}_last_0`);
    const transitionKey = `${callId}:-1:${op.targetRc}:${fakeTeId}`;
    for (const id of ids) {
      const attrs: Record<string, string> = {
        id,
        'operation_key': key,
        operation: task,
        'crm-debug-origin': 'crm_simulate',
        'crm_feature_set': '3.16.2',
        'transition-key': transitionKey,
        'transition-magic': `0:${rc};${transitionKey}`,
        'exit-reason': '',
        'on_node': uname,
        'call-id': String(callId),
        'rc-code': String(rc),
        'op-status': '0',
        interval: String(op.intervalMs),
        'last-rc-change': String(op.nowSec),
        'exec-time': '0',
        'queue-time': '0',
      };
      if (op.opDigest !== undefined) attrs['op-digest'] = op.opDigest;
      if (op.migrateSource !== undefined) attrs['migrate_source'] = op.migrateSource;
      if (op.migrateTarget !== undefined) attrs['migrate_target'] = op.migrateTarget;
      // crm_xml_add on the entry with that id: the attributes set here replace theirs, others stay.
      const existing = childElement(history, 'lrm_rsc_op', (c) => c.attrs.id === id);
      if (existing) existing.attrs = { ...existing.attrs, ...attrs };
      else history.children.push({ kind: 'element', name: 'lrm_rsc_op', attrs, children: [] });
    }
  }

  /**
   * pcmk__inject_failcount: fail-count ++ and last-failure = `nowSec`, unless rc means success.
   * Returns the attributes as crm_simulate announces them ("Injecting attribute N=V into ...").
   */
  injectFailcount(uname: string, rscId: string, task: string, intervalMs: number, rc: number, nowSec: number): string[] {
    if (rc === 0 || (rc === 7 && intervalMs === 0)) return [];
    const ns = this.nodeState(uname);
    const id = ns.attrs.id ?? uname;
    const attrs = ensureChild(ns, 'transient_attributes', { id });
    const set = ensureChild(attrs, 'instance_attributes', { id });
    const suffix = `${rscId}#${task}_${intervalMs}`;
    this.setNvpair(set, `fail-count-${suffix}`, (old) => String((old !== undefined && /^\d+$/.test(old) ? Number(old) : 0) + 1));
    this.setNvpair(set, `last-failure-${suffix}`, () => String(nowSec));
    return [
      `Injecting attribute fail-count-${suffix}=value++ into /node_state '${id}'`,
      `Injecting attribute last-failure-${suffix}=${nowSec} into /node_state '${id}'`,
    ];
  }

  private setNvpair(set: MutElement, name: string, value: (old: string | undefined) => string): void {
    const existing = childElement(set, 'nvpair', (c) => c.attrs.name === name);
    if (existing) {
      existing.attrs.value = value(existing.attrs.value);
      return;
    }
    const id = `${set.attrs.id ?? 'status'}-${name}`;
    set.children.push({ kind: 'element', name: 'nvpair', attrs: { id, name, value: value(undefined) }, children: [] });
  }

  /** Ticket state (crm_simulate -g/-r/-b/-e). */
  setTicket(ticket: string, attr: 'granted' | 'standby', value: boolean): void {
    const tickets = ensureChild(this.status, 'tickets');
    let state = childElement(tickets, 'ticket_state', (c) => c.attrs.id === ticket);
    if (!state) {
      state = { kind: 'element', name: 'ticket_state', attrs: { id: ticket }, children: [] };
      tickets.children.push(state);
    }
    state.attrs[attr] = value ? 'true' : 'false';
  }
}

/** The transition UUID crm_simulate uses for injected results (FAKE_TE_ID). */
const fakeTeId = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';

function nextCallId(history: MutElement): number {
  let max = 0;
  for (const c of history.children) {
    if (c.kind !== 'element') continue;
    const v = Number.parseInt((c as MutElement).attrs['call-id'] ?? '0', 10);
    if (Number.isFinite(v) && v > max) max = v;
  }
  return max + 1;
}
