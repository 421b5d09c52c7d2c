/**
 * crm_simulate's core, as a pure function: CIB text and options in, the text crm_simulate 2.1.5
 * prints (and the artifacts it writes: graph XML, dot, output CIB) out. The CLI does the I/O.
 *
 * The flow is pcmk_simulate.c's pcmk__simulate: unpack and print the current status, apply the
 * requested injections (-u/-d/-f/-i/-q/-g/-r/-b/-e) and unpack again, schedule (-R/-S/-s), print
 * scores and the Transition Summary, then (-S) execute the graph, record each action's result in
 * the status section and print the revised status from the updated CIB.
 */
import { readCib, parseXml, writeElement, XmlSyntaxError, scoreToString, type Cib, type XmlElement } from '@paceline/cib';
import { startSchedule, unpackCluster, type StartedSchedule } from '../index.js';
import type { ClusterState, ResourceInfo, ScheduleResult, ScoreLine } from '../types.js';
import { OpParamSource } from '../op-params.js';
import { agentsOf, promotedMonitorsOf } from '../graph-info.js';
import { eventText, executeTransition, type ExecEvent } from './execute.js';
import { actionsXml, eventXml, resultXml, statusXml } from './xml-output.js';
import { renderClusterStatus, sortedNodes } from './status.js';
import { StatusEditor, type AgentIdentity } from './status-edit.js';
import { formatSummary } from './summary.js';
import { TextOutput } from './text.js';
import { renderDot, renderGraphXml } from './graph.js';
import { parseCrmTime, formatCrmTime } from './time.js';

/** crm_simulate's options (names as in `crm_simulate --help`). */
export interface CrmSimulateOptions {
  /** -R: schedule and print the Transition Summary. */
  readonly run?: boolean;
  /** -S: -R, then simulate the transition and print the revised status. */
  readonly simulate?: boolean;
  /** -s */
  readonly showScores?: boolean;
  /** -U */
  readonly showUtilization?: boolean;
  /** Pending actions in the current status (crm_simulate's default: true). */
  readonly showPending?: boolean;
  /** -A: node attributes after each status. */
  readonly showAttributes?: boolean;
  /** -Q */
  readonly quiet?: boolean;
  /** -t: the effective time, ISO 8601. */
  readonly now?: string;
  /**
   * The caller's clock (epoch seconds). crm_simulate uses the current time when neither -t nor the
   * CIB's execution-date gives one, and stamps simulated results and injected failures with it.
   * Default: just after the newest time recorded in the status (so simulated results are newer
   * than the history they follow, as with a real clock), and never before the effective time.
   */
  readonly currentTimeSec?: number;
  readonly nodeUp?: readonly string[];
  readonly nodeDown?: readonly string[];
  readonly nodeFail?: readonly string[];
  readonly opInject?: readonly string[];
  readonly opFail?: readonly string[];
  readonly quorum?: string;
  readonly watchdog?: string;
  readonly ticketGrant?: readonly string[];
  readonly ticketRevoke?: readonly string[];
  readonly ticketStandby?: readonly string[];
  readonly ticketActivate?: readonly string[];
  /** -G: build the graph XML. */
  readonly graph?: boolean;
  /** -D: build the dot graph. */
  readonly dot?: boolean;
  /** -a: every action in the dot graph. */
  readonly allActions?: boolean;
  /** -O/-X: build the output CIB. */
  readonly saveOutput?: boolean;
  /** -I: build the input CIB (after injections). */
  readonly saveInput?: boolean;
  /** --output-as xml: also build the XML document (`CrmSimulateResult.xml`). */
  readonly xml?: boolean;
  /** The command line, for the XML document's `request` attribute. */
  readonly request?: string;
}

/** What a run produces; `exitCode` is crm_simulate's. */
export interface CrmSimulateResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly graphXml: string | undefined;
  readonly dot: string | undefined;
  readonly outputCib: string | undefined;
  readonly inputCib: string | undefined;
  /** The --output-as xml document, when asked for. */
  readonly xml: string | undefined;
  /** The CIB model the scheduler ran on (after injections), when it ran. */
  readonly cib: Cib | undefined;
  /** The scheduler's result (for callers like --explain). */
  readonly scheduled: ScheduleResult | undefined;
}

/** crm_exit_t values crm_simulate uses. */
export const exitCodes = {
  ok: 0,
  error: 1,
  usage: 64,
  dataErr: 65,
  noInput: 66,
  software: 70,
  config: 78,
} as const;

function failure(code: number, message: string): CrmSimulateResult {
  return { stdout: '', stderr: `crm_simulate: ${message}\n`, exitCode: code, graphXml: undefined, dot: undefined, outputCib: undefined, inputCib: undefined, xml: undefined, cib: undefined, scheduled: undefined };
}

/** Parses the CIB text; a value describing the problem when it is not XML or not a CIB. */
export function readCibText(text: string): { ok: true; root: XmlElement } | { ok: false; message: string } {
  let root: XmlElement;
  try {
    root = parseXml(text).root;
  } catch (err) {
    if (err instanceof XmlSyntaxError) return { ok: false, message: `input is not valid XML: ${err.message}` };
    throw err;
  }
  if (root.name !== 'cib') return { ok: false, message: `input is not a CIB: the root element is <${root.name}>, expected <cib>` };
  return { ok: true, root };
}

/** Runs crm_simulate on CIB text. Never throws for bad input; engine bugs propagate. */
export function crmSimulate(cibText: string, options: CrmSimulateOptions = {}): CrmSimulateResult {
  const parsed = readCibText(cibText);
  if (!parsed.ok) return failure(exitCodes.noInput, parsed.message);
  return simulateCib(parsed.root, options);
}

/** The effective time and the line announcing it (set_effective_date). */
function effectiveDate(root: XmlElement, options: CrmSimulateOptions): { nowSec: number; info: string | undefined } | { error: string } {
  if (options.now !== undefined) {
    const t = parseCrmTime(options.now);
    if (t === undefined) return { error: `invalid date/time for --set-datetime: ${options.now}` };
    return { nowSec: t, info: `Setting effective cluster time: ${options.now}` };
  }
  const original = root.attrs['execution-date'];
  const sec = original !== undefined && /^\s*-?\d+/.test(original) ? parseInt(original, 10) : 0;
  if (sec !== 0) return { nowSec: sec, info: `Using the original execution date of: ${formatCrmTime(sec)}` };
  return { nowSec: options.currentTimeSec ?? 0, info: undefined };
}

/** The clock simulated results are stamped with (see `CrmSimulateOptions.currentTimeSec`). */
function clockOf(options: CrmSimulateOptions, editor: StatusEditor, nowSec: number): number {
  return options.currentTimeSec ?? Math.max(nowSec, editor.latestRecordedSec() + 1);
}

export function simulateCib(inputRoot: XmlElement, options: CrmSimulateOptions): CrmSimulateResult {
  const date = effectiveDate(inputRoot, options);
  if ('error' in date) return failure(exitCodes.usage, date.error);
  const run = new SimulationRun(inputRoot, options, date.nowSec, date.info);
  run.printCurrentStatus();
  if (hasInjections(options)) run.inject();
  const inputCib = options.saveInput ? writeElement(run.editor.root) : undefined;
  const process = options.run || options.simulate || options.showScores || options.showUtilization || options.graph || options.dot;
  const scheduled = process ? run.schedule() : undefined;
  if (options.simulate && scheduled) run.simulate(scheduled);
  return run.result(scheduled, inputCib);
}

/**
 * One crm_simulate run, in pcmk__simulate's order. Holds the output being built, the status
 * editor (the "shadow CIB" crm_simulate works on) and the XML sections; used once.
 */
class SimulationRun {
  readonly editor: StatusEditor;
  private readonly out: TextOutput;
  private readonly quiet: boolean;
  private readonly xmlSections: string[] = [];
  private cib: Cib;
  private state: ClusterState;
  /** The run `state` comes from: scheduling goes on from its unpacked status. */
  private started: StartedSchedule;
  private printed = false;
  private exitCode: number = exitCodes.ok;
  private stderr = '';

  constructor(
    inputRoot: XmlElement,
    private readonly options: CrmSimulateOptions,
    private readonly nowSec: number,
    private readonly dateInfo: string | undefined,
  ) {
    this.quiet = options.quiet === true;
    this.out = new TextOutput(!options.showScores && !options.showUtilization);
    this.editor = new StatusEditor(inputRoot);
    this.cib = readCib(this.editor.root);
    this.started = startSchedule(this.cib, { nowSec });
    this.state = this.started.state;
    if (options.xml) this.xmlSections.push(statusXml('cluster_status', this.state));
  }

  printCurrentStatus(): void {
    if (this.quiet) return;
    if (this.dateInfo) this.out.info(this.dateInfo);
    if (printPreamble(this.out, this.state)) this.out.spacer();
    const opts = { showPending: this.options.showPending ?? true, showAttributes: this.options.showAttributes === true };
    renderClusterStatus(this.out, 'Current cluster status', this.state, this.cib, opts);
    this.printed = true;
  }

  /** -u/-d/-f/-i/-q/-w/tickets: applied to the status, then the CIB is read again. */
  inject(): void {
    if (!this.quiet) this.out.spacer();
    applyInjections(this.editor, this.state, this.options, this.quiet ? undefined : this.out, clockOf(this.options, this.editor, this.nowSec));
    this.cib = readCib(this.editor.root);
    this.started = startSchedule(this.cib, { nowSec: this.nowSec });
    this.state = this.started.state;
    this.printed = true;
  }

  /** Scheduling: scores (-s/-U) and the Transition Summary. */
  schedule(): ScheduleResult {
    const scheduled = this.started.schedule();
    const { showScores, showUtilization } = this.options;
    if (showScores || showUtilization) {
      if (this.printed && !this.quiet) this.out.spacer();
      this.out.beginList(showScores && showUtilization ? 'Allocation Scores and Utilization Information' : showScores ? 'Allocation Scores' : 'Utilization Information');
      if (showScores) for (const s of scheduled.scores) this.out.item(scoreLine(s));
      if (showUtilization) for (const l of utilizationLines(scheduled.state)) this.out.item(l);
      this.out.endList();
      this.printed = true;
    }
    if (this.options.xml) this.xmlSections.push(actionsXml(scheduled.transition.summary));
    if (!this.quiet) {
      if (this.printed) this.out.spacer();
      this.out.beginList('Transition Summary');
      for (const line of formatSummary(scheduled.transition.summary)) this.out.item(line);
      this.out.endList();
      this.printed = true;
    }
    return scheduled;
  }

  /** -S: execute the graph, record the results, print the revised status. */
  simulate(scheduled: ScheduleResult): void {
    if (!this.quiet) {
      this.out.spacer();
      this.out.beginList('Executing Cluster Transition');
    }
    const events: string[] = [];
    const report = (e: ExecEvent): void => {
      if (this.options.xml) events.push(eventXml(e));
      if (this.quiet) return;
      const { item, text } = eventText(e);
      if (item) this.out.item(text);
      else this.out.info(text);
    };
    const result = executeTransition({
      transition: scheduled.transition,
      state: scheduled.state,
      editor: this.editor,
      agents: agentsOf(this.cib),
      promotedMonitors: promotedMonitorsOf(this.cib),
      opFail: this.options.opFail ?? [],
      digests: new OpParamSource(this.cib, this.nowSec),
      clockSec: clockOf(this.options, this.editor, this.nowSec),
      report,
    });
    if (this.options.xml) this.xmlSections.push(events.length > 0 ? `  <transition>\n${events.join('')}  </transition>\n` : '  <transition/>\n');
    if (!this.quiet) this.out.endList();
    if (!result.complete) {
      this.stderr += 'crm_simulate: Transition failed: terminated\ncrm_simulate: An invalid transition was produced\n';
      this.exitCode = exitCodes.error; // pcmk_rc_invalid_transition
    }
    if (this.quiet && !this.options.xml) return;
    const revisedCib = readCib(this.editor.root);
    const revised = unpackCluster(revisedCib, { nowSec: this.nowSec });
    if (this.options.xml) this.xmlSections.push(statusXml('revised_cluster_status', revised));
    if (this.quiet) return;
    if (this.dateInfo) this.out.info(this.dateInfo);
    this.out.spacer();
    renderClusterStatus(this.out, 'Revised Cluster Status', revised, revisedCib, { showPending: false, showAttributes: this.options.showAttributes === true });
  }

  result(scheduled: ScheduleResult | undefined, inputCib: string | undefined): CrmSimulateResult {
    const { options } = this;
    return {
      stdout: this.out.text(),
      stderr: this.stderr,
      exitCode: this.exitCode,
      graphXml: options.graph && scheduled ? renderGraphXml(scheduled, this.cib) : undefined,
      dot: options.dot && scheduled ? renderDot(scheduled, options.allActions === true) : undefined,
      outputCib: options.saveOutput ? writeElement(this.editor.root) : undefined,
      inputCib,
      cib: scheduled ? this.cib : undefined,
      xml: options.xml ? resultXml(options.request ?? 'crm_simulate', this.xmlSections, this.exitCode, this.exitCode === 0 ? 'OK' : 'Error occurred') : undefined,
      scheduled,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Pieces
// ---------------------------------------------------------------------------------------------

function isTrue(v: string | undefined): boolean {
  if (v === undefined) return false;
  const l = v.toLowerCase();
  return l === 'true' || l === 'yes' || l === 'on' || l === 'y' || l === '1';
}

/** The maint-mode message and the "N of M resource instances DISABLED" line. */
function printPreamble(out: TextOutput, state: ClusterState): boolean {
  let printed = false;
  // pcmk__simulate prints maint-mode only under maintenance-mode (its stop-all-resources text is
  // crm_mon's).
  if (isTrue(state.options.get('maintenance-mode'))) {
    out.info('\n              *** Resource management is DISABLED ***');
    out.info('  The cluster will not attempt to start, stop or recover services');
    printed = true;
  }
  const counts = instanceCounts(state);
  if (counts.disabled > 0 || counts.blocked > 0) {
    if (printed) out.spacer();
    out.info(`${counts.disabled} of ${counts.instances} resource instances DISABLED and ${counts.blocked} BLOCKED from further action due to failure`);
    printed = true;
  }
  return printed;
}

/** The target-role a resource has, its own or inherited from its parents (meta inheritance). */
export function effectiveTargetRole(state: ClusterState, r: ResourceInfo): string | undefined {
  for (let cur: ResourceInfo | undefined = r; cur; cur = cur.parent !== undefined ? state.resourceById.get(cur.parent) : undefined) {
    const v = cur.meta.get('target-role');
    if (v !== undefined) return v;
  }
  return undefined;
}

/** pe__count_common over every leaf resource. */
function instanceCounts(state: ClusterState): { instances: number; disabled: number; blocked: number } {
  let instances = 0;
  let disabled = 0;
  let blocked = 0;
  for (const r of state.resources) {
    if (r.children.length > 0) continue;
    if (r.orphan && (r.role === 'Stopped' || r.role === 'Unknown')) continue;
    instances++;
    const tr = (effectiveTargetRole(state, r) ?? '').toLowerCase();
    if (tr === 'stopped' || ((tr === 'unpromoted' || tr === 'slave') && isUnderPromotable(state, r))) disabled++;
    if (r.blocked) blocked++;
  }
  return { instances, disabled, blocked };
}

function isUnderPromotable(state: ClusterState, r: ResourceInfo): boolean {
  for (let cur: ResourceInfo | undefined = r; cur; cur = cur.parent !== undefined ? state.resourceById.get(cur.parent) : undefined) {
    if (cur.promotable) return true;
  }
  return false;
}

/** One `crm_simulate -s` line: allocation (`FN: RSC allocation score on NODE: S`) or promotion. */
export function scoreLine(s: ScoreLine): string {
  if (s.fn === '' || s.fn === 'promotion') return `${s.rsc} promotion score on ${s.node}: ${scoreToString(s.score)}`;
  return `${s.fn}: ${s.rsc} allocation score on ${s.node}: ${scoreToString(s.score)}`;
}

/**
 * -U: each node's capacity (pcmk__show_node_capacity "Original"). NOT DONE: the per-assignment
 * "RSC utilization on NODE" and "Remaining" lines, which need the engine's assignment trace.
 */
function utilizationLines(state: ClusterState): string[] {
  const lines: string[] = [];
  for (const n of sortedNodes(state)) {
    const parts = [...n.utilization].map(([k, v]) => ` ${k}=${v}`).join('');
    lines.push(`Original: ${n.name} capacity:${parts}`);
  }
  return lines;
}

/**
 * Whether pcmk__simulate applies injections at all. As in 2.1.5, `-q` alone does not count: the
 * quorum is set only together with another injection.
 */
function hasInjections(o: CrmSimulateOptions): boolean {
  return (
    (o.nodeUp?.length ?? 0) + (o.nodeDown?.length ?? 0) + (o.nodeFail?.length ?? 0) + (o.opInject?.length ?? 0) +
      (o.ticketGrant?.length ?? 0) + (o.ticketRevoke?.length ?? 0) + (o.ticketStandby?.length ?? 0) + (o.ticketActivate?.length ?? 0) >
      0 || o.watchdog !== undefined
  );
}

/** pcmk__inject_scheduler_input. */
function applyInjections(editor: StatusEditor, state: ClusterState, o: CrmSimulateOptions, out: TextOutput | undefined, clockSec: number): void {
  out?.beginList('Performing Requested Modifications');
  if (o.quorum !== undefined) {
    out?.item(`Setting quorum: ${o.quorum}`);
    editor.setQuorum(o.quorum);
  }
  if (o.watchdog !== undefined) {
    out?.item(`Setting watchdog: ${o.watchdog}`);
    editor.setClusterProperty('have-watchdog', o.watchdog);
  }
  for (const node of o.nodeUp ?? []) {
    out?.item(`Bringing node ${node} online`);
    editor.addConfiguredNode(node);
    editor.setNodeUp(node, true, 'crm_simulate');
  }
  for (const node of o.nodeDown ?? []) {
    out?.item(`Taking node ${node} offline`);
    editor.setNodeUp(node, false, 'crm_simulate');
    editor.clearNodeHistory(node);
  }
  for (const node of o.nodeFail ?? []) {
    out?.item(`Failing node ${node}`);
    const ns = editor.setNodeUp(node, true, 'crm_simulate');
    ns.attrs.in_ccm = 'false';
  }
  for (const t of o.ticketGrant ?? []) {
    out?.item(`Granting ticket ${t}`);
    editor.setTicket(t, 'granted', true);
  }
  for (const t of o.ticketRevoke ?? []) {
    out?.item(`Revoking ticket ${t}`);
    editor.setTicket(t, 'granted', false);
  }
  for (const t of o.ticketStandby ?? []) {
    out?.item(`Making ticket ${t} standby`);
    editor.setTicket(t, 'standby', true);
  }
  for (const t of o.ticketActivate ?? []) {
    out?.item(`Activating ticket ${t}`);
    editor.setTicket(t, 'standby', false);
  }
  const agents = agentsOf(readCib(editor.root));
  for (const spec of o.opInject ?? []) {
    out?.item(`Injecting ${spec} into the configuration`);
    injectOp(editor, state, agents, spec, out, clockSec);
  }
  out?.endList();
}

/** `-i rsc_task_interval@node=rc`: a recorded result (inject_action). */
function injectOp(editor: StatusEditor, state: ClusterState, agents: ReadonlyMap<string, AgentIdentity>, spec: string, out: TextOutput | undefined, clockSec: number): void {
  const m = /^([^@]*)@([^=]*)=(-?\d+)/.exec(spec);
  if (!m) {
    out?.info(`Invalid operation spec: ${spec}.  Only found ${spec.includes('@') ? (spec.includes('=') ? 2 : 2) : 1} fields`);
    return;
  }
  const [, key = '', node = '', rcText = '0'] = m;
  const k = /^(.*)_([^_]+)_(\d+)$/.exec(key);
  if (!k) {
    out?.info(`Invalid operation spec: ${spec}`);
    return;
  }
  const [, rscId = '', task = '', intervalText = '0'] = k;
  const rc = Number(rcText);
  const intervalMs = Number(intervalText);
  if (!state.resourceById.has(rscId) && !agents.has(rscId)) {
    out?.info(`Invalid resource name: ${rscId}`);
    return;
  }
  for (const text of editor.injectFailcount(node, rscId, task, intervalMs, rc, clockSec)) out?.item(text);
  const agent = agents.get(rscId) ?? agents.get(rscId.replace(/:\d+$/, '')) ?? { class: undefined, provider: undefined, type: undefined };
  const history = editor.resourceHistory(node, rscId, rscId, agent);
  editor.recordOp(history, node, { rscId: history.attrs.id ?? rscId, task, intervalMs, rc, targetRc: 0, nowSec: clockSec });
}
