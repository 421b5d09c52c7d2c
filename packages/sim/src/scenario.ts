/**
 * Scenario files: a cluster's story, one command a line, run against a ClusterSim.
 *
 *   # a comment
 *   seed 7
 *   nodes 3                               nodes node1..node3 (or `nodes alpha,beta`; add `two-node`)
 *   load-cib cib-examples/floating-ip.xml before `start`: every node's initial CIB; after: a client update
 *   configure ... end                     the same, with the XML inline (a <cib> or a <configuration>)
 *   property stonith-enabled=false        a client update of crm_config (after `start`)
 *   start all | start node2               boot nodes (restart is the same)
 *   crash node2 | restart node2 | shutdown node2 | hold node2 | torn-write node2
 *   partition 1,2|3 | heal | cut node1>node2 | network loss=0.05 dup=0.01 delay=1..20
 *   reboot-after 5s                       a node fenced with reboot boots again after this long
 *   fail rsc1 on node2 rc=7               the resource dies (rc=7) or its monitor answers rc
 *   fail-start rsc1 on node2 rc=1|hang    fail-stop likewise; `fix rsc1 on node2` clears the knobs
 *   fence-fails node2 | fence-works node2
 *   fence-fails node2 via ipaddr=pdu-a    only devices with that parameter fail to fence node2
 *   fence-history-cleanup [node2]         stonith_admin --cleanup --history (no node: all)
 *   stonith_admin reboot node3 from node1 stonith_admin --reboot node3 run on node1 (waits for its answer)
 *   fence-takes node3 3s                  fencing node3 takes 3 s (default: 50-500 ms)
 *   standby node2 on|off | cleanup rsc1 [on node2] | attr node2 name=value
 *   refresh [rsc1] [on node2]             crm_resource --refresh (no resource: every resource)
 *   tick 10s                              let time pass (also: run)
 *   settle [60s]                          run until the cluster converged (fails after the bound)
 *   expect running vip on node1 | expect stopped vip | expect dc node1 | expect no-dc node3
 *   expect fenced node3 | expect not-fenced node3 | expect up node2 | expect down node2
 *   expect self-fenced node3              node3 fenced itself (its own device, or a hard stop and exit)
 *   expect fence-history node3 [ok|failed] [level=2] [devices=d1,d2] [tried=1,2] [entries=N]
 *                                         the newest outcome for node3 in every running node's
 *                                         history (the same everywhere): its result, level, the
 *                                         level's devices, the levels tried; entries: how many
 *   expect quorate node1 | expect not-quorate node3 | expect converged | expect failcount rsc on node = N
 *   expect reply ok|error                 the last client request's answer
 *   expect property NAME=VALUE            a cluster option in the DC's CIB
 *
 * Node references are names or ids. Errors name the file and line. File reads go through the
 * caller (`readFile`), so the simulator itself does no I/O.
 */
import { firstChild, parseXml, readCib, writeElement, type XmlElement } from '@paceline/cib';
import { emptyCibXml } from '@paceline/controller';
import { unpackCluster } from '@paceline/scheduler';
import { convergence, clonedPrimitives } from './checks.js';
import { ClusterSim, type ClientCall, type SimNodeSpec } from './world.js';

export interface ScenarioCommand {
  readonly line: number;
  readonly verb: string;
  readonly args: readonly string[];
  /** The XML of a `configure` block. */
  readonly body?: string;
}

export class ScenarioError extends Error {
  readonly code = 'scenario-syntax';
}

/** Arity and shape of each verb: min and max argument counts (Infinity: any). */
const VERBS: Readonly<Record<string, readonly [number, number]>> = {
  seed: [1, 1],
  nodes: [1, 2],
  'add-nodes': [1, 2],
  'load-cib': [1, 1],
  configure: [0, 0],
  property: [1, 1],
  start: [1, 1],
  restart: [1, 1],
  crash: [1, 1],
  shutdown: [1, 1],
  hold: [1, 1],
  'torn-write': [1, 1],
  partition: [1, 1],
  heal: [0, 0],
  cut: [1, 1],
  network: [1, 3],
  'reboot-after': [1, 1],
  fail: [3, 4],
  'fail-start': [4, 4],
  'fail-stop': [4, 4],
  fix: [3, 3],
  'fence-fails': [1, 3],
  'fence-history-cleanup': [0, 1],
  'fence-works': [1, 1],
  standby: [2, 2],
  cleanup: [1, 3],
  refresh: [0, 3],
  attr: [2, 2],
  tick: [1, 1],
  run: [1, 1],
  settle: [0, 1],
  expect: [1, 8],
  'fence-takes': [2, 2],
  stonith_admin: [4, 4],
};

const EXPECTS: Readonly<Record<string, readonly [number, number]>> = {
  running: [3, 3],
  stopped: [1, 1],
  dc: [1, 1],
  'no-dc': [1, 1],
  fenced: [1, 1],
  'not-fenced': [1, 1],
  'self-fenced': [1, 1],
  'fence-history': [1, 7],
  up: [1, 1],
  down: [1, 1],
  quorate: [1, 1],
  'not-quorate': [1, 1],
  converged: [0, 0],
  failcount: [5, 5],
  reply: [1, 1],
  property: [1, 1],
};

/** Parses a scenario; throws ScenarioError naming `file:line` on the first bad line. */
export function parseScenario(text: string, file = 'scenario'): ScenarioCommand[] {
  const out: ScenarioCommand[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.replace(/#.*$/, '').trim();
    if (raw === '') continue;
    const [verb, ...args] = raw.split(/\s+/) as [string, ...string[]];
    const fail = (why: string): never => {
      throw new ScenarioError(`${file}:${lineNo}: ${why}\n    ${lines[i]!.trim()}`);
    };
    const arity = VERBS[verb];
    if (!arity) fail(`unknown command "${verb}" (known: ${Object.keys(VERBS).join(', ')})`);
    if (args.length < arity![0] || args.length > arity![1]) fail(`"${verb}" takes ${arity![0] === arity![1] ? arity![0] : `${arity![0]} to ${arity![1]}`} argument(s), got ${args.length}`);
    if (verb === 'configure') {
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && lines[j]!.trim() !== 'end'; j++) body.push(lines[j]!);
      if (j >= lines.length) fail('"configure" block has no closing "end" line');
      const xml = body.join('\n');
      try {
        parseXml(xml);
      } catch (e) {
        fail(`the configure block is not well-formed XML: ${e instanceof Error ? e.message : String(e)}`);
      }
      out.push({ line: lineNo, verb, args, body: xml });
      i = j;
      continue;
    }
    validateArgs(verb, args, fail);
    out.push({ line: lineNo, verb, args });
  }
  return out;
}

function validateArgs(verb: string, args: readonly string[], fail: (why: string) => never): void {
  switch (verb) {
    case 'seed':
      if (!/^\d+$/.test(args[0]!)) fail('seed is a non-negative integer');
      return;
    case 'nodes':
    case 'add-nodes':
      if (!/^\d+$/.test(args[0]!) && !/^[A-Za-z][\w.-]*(,[A-Za-z][\w.-]*)*$/.test(args[0]!)) fail('nodes takes a count or a comma-separated list of names');
      if (args[1] !== undefined && args[1] !== 'two-node') fail(`unknown nodes option "${args[1]}" (known: two-node)`);
      return;
    case 'tick':
    case 'run':
    case 'reboot-after':
      parseDurationOrFail(args[0]!, fail);
      return;
    case 'settle':
      if (args[0] !== undefined) parseDurationOrFail(args[0], fail);
      return;
    case 'partition':
      if (!/^[^|]+(\|[^|]+)+$/.test(args[0]!)) fail('partition takes groups of nodes separated by |, e.g. 1,2|3');
      return;
    case 'cut':
      if (!/^[^>]+>[^>]+$/.test(args[0]!)) fail('cut takes FROM>TO, e.g. node1>node2');
      return;
    case 'network':
      for (const a of args) if (!/^(loss|dup)=(0(\.\d+)?|1)$/.test(a) && !/^delay=\d+\.\.\d+$/.test(a)) fail(`bad network setting "${a}" (loss=P dup=P delay=MIN..MAX)`);
      return;
    case 'property':
    case 'attr':
      if (!/^[^=]+=.*$/.test(args[verb === 'attr' ? 1 : 0]!)) fail(`${verb} takes NAME=VALUE`);
      return;
    case 'standby':
      if (args[1] !== 'on' && args[1] !== 'off') fail('standby takes NODE on|off');
      return;
    case 'cleanup':
      if (args.length !== 1 && !(args.length === 3 && args[1] === 'on')) fail('cleanup takes RSC [on NODE]');
      return;
    case 'refresh':
      if (!(args.length <= 1 && args[0] !== 'on') && !(args.length === 2 && args[0] === 'on') && !(args.length === 3 && args[1] === 'on')) fail('refresh takes [RSC] [on NODE]');
      return;
    case 'fail':
      if (args[1] !== 'on') fail('fail takes RSC on NODE [rc=N]');
      if (args[3] !== undefined && !/^rc=\d+$/.test(args[3])) fail('fail takes rc=N as its last argument');
      return;
    case 'fail-start':
    case 'fail-stop':
      if (args[1] !== 'on' || !/^(rc=\d+|hang)$/.test(args[3]!)) fail(`${verb} takes RSC on NODE rc=N|hang`);
      return;
    case 'fix':
      if (args[1] !== 'on') fail('fix takes RSC on NODE');
      return;
    case 'fence-takes':
      parseDurationOrFail(args[1]!, fail);
      return;
    case 'stonith_admin':
      if (!['reboot', 'off', 'on'].includes(args[0]!) || args[2] !== 'from') fail('stonith_admin takes reboot|off|on TARGET from NODE');
      return;
    case 'fence-fails':
      if (args.length !== 1 && !(args.length === 3 && args[1] === 'via' && /^[^=]+=.*$/.test(args[2]!))) fail('fence-fails takes NODE [via NAME=VALUE]');
      return;
    case 'expect': {
      const [what, ...rest] = args as [string, ...string[]];
      const arity = EXPECTS[what];
      if (!arity) fail(`unknown expectation "${what}" (known: ${Object.keys(EXPECTS).join(', ')})`);
      if (rest.length < arity![0] || rest.length > arity![1]) fail(`"expect ${what}" takes ${arity![0]} argument(s), got ${rest.length}`);
      if (what === 'running' && rest[1] !== 'on') fail('expect running RSC on NODE');
      if (what === 'failcount' && (rest[1] !== 'on' || rest[3] !== '=' || !/^(\d+|INFINITY)$/.test(rest[4]!))) fail('expect failcount RSC on NODE = N');
      if (what === 'reply' && rest[0] !== 'ok' && rest[0] !== 'error') fail('expect reply ok|error');
      if (what === 'property' && !/^[^=]+=.*$/.test(rest[0]!)) fail('expect property NAME=VALUE');
      if (what === 'fence-history') {
        for (const x of rest.slice(1)) if (x !== 'ok' && x !== 'failed' && !/^(level|devices|tried|by|entries)=\S*$/.test(x)) fail(`expect fence-history NODE [ok|failed] [level=N] [devices=A,B] [tried=1,2] [by=NODE] [entries=N]: bad "${x}"`);
      }
      return;
    }
    default:
      return;
  }
}

/** "10s", "500ms", "2m", "1h" (a bare number is seconds). */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) return undefined;
  const unit = m[2] ?? 's';
  return Math.round(Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

function parseDurationOrFail(text: string, fail: (why: string) => never): number {
  const d = parseDuration(text);
  if (d === undefined) return fail(`bad duration "${text}" (e.g. 500ms, 10s, 2m)`);
  return d;
}

export interface ScenarioRunOptions {
  /** Overrides the scenario's `seed` line (replaying with PACELINE_SIM_SEED). */
  readonly seed?: number;
  readonly file?: string;
  /** Reads a file named by `load-cib` (the caller resolves relative paths). */
  readonly readFile?: (path: string) => string;
}

export interface ScenarioResult {
  readonly seed: number;
  /** Expectations that did not hold and errors while running, each naming its line. */
  readonly failures: string[];
  /** Checker violations. */
  readonly violations: string[];
  readonly trace: string[];
  readonly simulatedMs: number;
  readonly sim: ClusterSim | undefined;
}

const SETTLE_DEFAULT_MS = 60_000;

/** Runs a parsed (or textual) scenario to its end or its first failure. */
export function runScenario(source: string | readonly ScenarioCommand[], opts: ScenarioRunOptions = {}): ScenarioResult {
  const file = opts.file ?? 'scenario';
  const commands = typeof source === 'string' ? parseScenario(source, file) : source;
  const seedLine = commands.find((c) => c.verb === 'seed');
  const seed = opts.seed ?? (seedLine ? Number(seedLine.args[0]) : 1);
  const run = new ScenarioRun(seed, file, opts);
  for (const c of commands) {
    try {
      run.exec(c);
    } catch (e) {
      run.failures.push(`${file}:${c.line}: ${c.verb} ${c.args.join(' ')}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (run.failures.length > 0 || (run.sim?.checker.violations.length ?? 0) > 0) break;
  }
  run.sim?.checker.finalChecks();
  return { seed, failures: run.failures, violations: run.sim?.checker.violations ?? [], trace: run.sim?.trace ?? [], simulatedMs: run.sim?.nowMs ?? 0, sim: run.sim };
}

class ScenarioRun {
  readonly failures: string[] = [];
  sim: ClusterSim | undefined;
  private nodes: SimNodeSpec[] = [];
  private twoNode = false;
  private initialCib: string | undefined;
  private rebootDownMs: number | undefined = 5_000;
  private lastCall: ClientCall | undefined;
  private propertyCount = 0;

  constructor(
    readonly seed: number,
    readonly file: string,
    readonly opts: ScenarioRunOptions,
  ) {}

  private world(): ClusterSim {
    if (this.sim) return this.sim;
    if (this.nodes.length === 0) throw new Error('no nodes: start with a "nodes" line');
    this.sim = new ClusterSim({
      seed: this.seed,
      nodes: this.nodes,
      ...(this.twoNode ? { quorum: { twoNode: true } } : {}),
      ...(this.initialCib !== undefined ? { initialCibXml: this.initialCib } : {}),
      ...(this.rebootDownMs !== undefined ? { rebootDownMs: this.rebootDownMs } : {}),
    });
    return this.sim;
  }

  private node(ref: string): string {
    return this.world().spec(ref).name;
  }

  exec(c: ScenarioCommand): void {
    const a = c.args;
    switch (c.verb) {
      case 'seed':
        return;
      case 'nodes':
      case 'add-nodes': {
        if (this.sim) throw new Error('nodes must be declared before the first "start"');
        const names = /^\d+$/.test(a[0]!) ? Array.from({ length: Number(a[0]) }, (_, i) => `node${i + 1}`) : a[0]!.split(',');
        this.nodes = names.map((name, i) => ({ id: i + 1, name }));
        this.twoNode = a[1] === 'two-node';
        return;
      }
      case 'reboot-after':
        if (this.sim) throw new Error('reboot-after must come before the first "start"');
        this.rebootDownMs = parseDuration(a[0]!);
        return;
      case 'load-cib': {
        if (!this.opts.readFile) throw new Error('this runner cannot read files');
        return this.setConfiguration(this.opts.readFile(a[0]!));
      }
      case 'configure':
        return this.setConfiguration(c.body ?? '');
      case 'property': {
        const [name, value] = splitPair(a[0]!);
        this.propertyCount++;
        const xml = `<cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-${name}" name="${name}" value="${value}"/></cluster_property_set>`;
        return this.update({ kind: 'cib-update', request: { op: 'modify', scope: 'crm_config', xml, allowCreate: true } });
      }
      case 'start':
      case 'restart': {
        const sim = this.world();
        const names = a[0] === 'all' ? sim.specs.map((s) => s.name) : [this.node(a[0]!)];
        for (const n of names) if (!sim.isUp(n)) sim.start(n);
        return;
      }
      case 'crash':
        return this.world().crash(this.node(a[0]!), 'crash (scenario)');
      case 'shutdown':
        return this.world().shutdown(this.node(a[0]!));
      case 'hold':
        this.world().heldDown.add(this.node(a[0]!));
        return;
      case 'torn-write': {
        const rt = this.world().runtimeByName(this.node(a[0]!));
        if (!rt) throw new Error(`${a[0]} is not running`);
        rt.crashOnNextWrite = true;
        return;
      }
      case 'partition':
        return this.world().partition(a[0]!.split('|').map((g) => g.split(',').map((n) => this.node(n))));
      case 'heal':
        return this.world().heal();
      case 'cut': {
        const [from, to] = a[0]!.split('>') as [string, string];
        const sim = this.world();
        sim.net.cutOneWay(sim.spec(from).id, sim.spec(to).id);
        return;
      }
      case 'network': {
        const f: { lossRate?: number; duplicateRate?: number; delayMinMs?: number; delayMaxMs?: number } = {};
        for (const s of a) {
          const [k, v] = splitPair(s);
          if (k === 'loss') f.lossRate = Number(v);
          else if (k === 'dup') f.duplicateRate = Number(v);
          else {
            const [lo, hi] = v.split('..').map(Number) as [number, number];
            f.delayMinMs = lo;
            f.delayMaxMs = hi;
          }
        }
        return this.world().setNetwork(f);
      }
      case 'fail': {
        const s = this.world().agents.state(this.node(a[2]!), a[0]!);
        const rc = a[3] !== undefined ? Number(a[3].slice(3)) : 7;
        if (rc === 7) s.active = false;
        else s.monitorRc = rc;
        this.world().log(`fail ${a[0]} on ${a[2]} rc=${rc}`);
        return;
      }
      case 'fail-start':
      case 'fail-stop': {
        const s = this.world().agents.state(this.node(a[2]!), a[0]!);
        const fault = a[3] === 'hang' ? ('hang' as const) : { rc: Number(a[3]!.slice(3)) };
        if (c.verb === 'fail-start') s.startFault = fault;
        else s.stopFault = fault;
        return;
      }
      case 'fix': {
        const s = this.world().agents.state(this.node(a[2]!), a[0]!);
        s.startFault = undefined;
        s.stopFault = undefined;
        s.monitorRc = undefined;
        return;
      }
      case 'fence-fails': {
        const target = this.node(a[0]!);
        const agents = this.world().agents;
        if (a.length === 1) return void agents.fenceFailsFor.add(target);
        const via = agents.fenceFailsVia.get(target) ?? new Set<string>();
        via.add(a[2]!);
        agents.fenceFailsVia.set(target, via);
        return;
      }
      case 'fence-takes':
        return void this.world().agents.fenceMsFor.set(this.node(a[0]!), parseDuration(a[1]!)!);
      case 'stonith_admin': {
        // stonith_admin reboot|off|on TARGET from NODE: the outcome is awaited like any request's.
        const sim = this.world();
        const call = sim.requestFence(this.node(a[3]!), this.node(a[1]!), a[0] as 'off' | 'on' | 'reboot');
        this.lastCall = call;
        sim.runUntil(() => call.reply !== undefined, 60_000);
        if (!call.reply) throw new Error(`no answer from ${call.node} within 60 s`);
        return;
      }
      case 'fence-works':
        this.world().agents.fenceFailsFor.delete(this.node(a[0]!));
        this.world().agents.fenceFailsVia.delete(this.node(a[0]!));
        return;
      case 'fence-history-cleanup':
        return this.update({ kind: 'fence-history-clear', ...(a[0] !== undefined ? { target: this.node(a[0]) } : {}) });
      case 'standby':
        return this.update({ kind: 'attr', node: this.node(a[0]!), name: 'standby', value: a[1] === 'on' ? 'on' : 'off', lifetime: 'forever' });
      case 'cleanup':
        return this.update({ kind: 'cleanup', lrmId: a[0]!, ...(a[2] !== undefined ? { node: this.node(a[2]) } : {}) });
      case 'refresh': {
        const rsc = a[0] !== undefined && a[0] !== 'on' ? a[0] : undefined;
        const on = a.indexOf('on');
        return this.update({ kind: 'refresh', ...(rsc !== undefined ? { lrmId: rsc } : {}), ...(on >= 0 ? { node: this.node(a[on + 1]!) } : {}) });
      }
      case 'attr': {
        const [name, value] = splitPair(a[1]!);
        return this.update({ kind: 'attr', node: this.node(a[0]!), name, value, lifetime: 'forever' });
      }
      case 'tick':
      case 'run':
        return this.world().run(parseDuration(a[0]!)!);
      case 'settle': {
        const maxMs = a[0] !== undefined ? parseDuration(a[0])! : SETTLE_DEFAULT_MS;
        const sim = this.world();
        if (!sim.runUntil(() => convergence(sim) === undefined, maxMs)) this.fail(c, `did not converge within ${maxMs} ms: ${convergence(sim)}`);
        return;
      }
      case 'expect':
        return this.expect(c);
      default:
        throw new Error(`unhandled command ${c.verb}`);
    }
  }

  /** Before any node started: the initial CIB; afterwards: a client update replacing the configuration. */
  private setConfiguration(xml: string): void {
    const root = parseXml(xml).root;
    if (!this.sim || this.sim.up().length === 0) {
      if (this.sim) throw new Error('the configuration can only be loaded before "start" or while nodes run');
      if (root.name === 'cib') this.initialCib = writeElement(root);
      else if (root.name === 'configuration') {
        const empty = parseXml(emptyCibXml()).root;
        this.initialCib = writeElement({ ...empty, children: empty.children.map((c) => (c.kind === 'element' && c.name === 'configuration' ? root : c)) });
      } else throw new Error(`expected a <cib> or a <configuration>, got <${root.name}>`);
      return;
    }
    const config = root.name === 'cib' ? firstChild(root, 'configuration') : root;
    if (!config || config.name !== 'configuration') throw new Error(`expected a <cib> or a <configuration>, got <${root.name}>`);
    this.update({ kind: 'cib-update', request: { op: 'replace', scope: 'configuration', xml: writeElement(config) } });
  }

  /** A client request through the DC (or the first running node); waits up to 10 s for its answer. */
  private update(req: Parameters<ClusterSim['request']>[1]): void {
    const sim = this.world();
    const up = sim.up();
    if (up.length === 0) throw new Error('no node is running');
    const dc = up.find((rt) => rt.controller.isDc) ?? up[0]!;
    const call = sim.request(dc.spec.name, req);
    this.lastCall = call;
    sim.runUntil(() => call.reply !== undefined, 10_000);
    if (!call.reply) throw new Error(`no answer from ${dc.spec.name} within 10 s`);
  }

  private fail(c: ScenarioCommand, why: string): void {
    const sim = this.sim;
    const state = sim ? `\n    at ${sim.nowMs} ms; cluster: ${convergence(sim) ?? 'converged'}; active: ${[...sim.agents.activeMap()].map(([r, n]) => `${r}@${n.join('+')}`).join(' ') || 'nothing'}` : '';
    this.failures.push(`${this.file}:${c.line}: ${c.verb} ${c.args.join(' ')}: ${why}${state}`);
  }

  private expect(c: ScenarioCommand): void {
    const [what, ...r] = c.args as [string, ...string[]];
    const sim = this.world();
    switch (what) {
      case 'running': {
        const node = this.node(r[2]!);
        const real = sim.agents.activeOn(r[0]!);
        const dc = this.dcRuntime();
        const cloned = dc ? clonedPrimitives(dc.controller.cib).has(r[0]!) : false;
        if (!real.includes(node) || (!cloned && real.length !== 1)) return this.fail(c, `${r[0]} is active on [${real.join(', ')}]`);
        const cib = dc ? cibRunningOn(dc, r[0]!, sim.wallMs()) : undefined;
        if (cib && !cib.includes(node)) return this.fail(c, `the DC's CIB says ${r[0]} runs on [${cib.join(', ')}]`);
        return;
      }
      case 'stopped': {
        const real = sim.agents.activeOn(r[0]!);
        if (real.length > 0) this.fail(c, `${r[0]} is active on [${real.join(', ')}]`);
        return;
      }
      case 'dc': {
        const node = this.node(r[0]!);
        const rt = sim.runtimeByName(node);
        if (!rt?.controller.isDc) return this.fail(c, `${node} is not the DC (it sees DC ${rt?.controller.dc ?? 'none'})`);
        for (const o of sim.up()) {
          if (o.controller.currentMembership?.viewKey === rt.controller.currentMembership?.viewKey && o.controller.dc !== rt.spec.id) this.fail(c, `${o.spec.name} sees DC ${o.controller.dc ?? 'none'}`);
        }
        return;
      }
      case 'no-dc': {
        const rt = sim.runtimeByName(this.node(r[0]!));
        if (rt?.controller.isDc) this.fail(c, `${r[0]} is DC`);
        return;
      }
      case 'fenced':
      case 'not-fenced': {
        const node = this.node(r[0]!);
        const fenced = sim.fences.some((f) => f.target === node);
        if (fenced !== (what === 'fenced')) this.fail(c, fenced ? `${node} was fenced` : `${node} was never fenced (fences: ${sim.fences.map((f) => f.target).join(', ') || 'none'})`);
        return;
      }
      case 'self-fenced': {
        const node = this.node(r[0]!);
        const byDevice = sim.fences.some((f) => f.target === node && f.by === node);
        if (!byDevice && !sim.selfFences.some((f) => f.node === node)) this.fail(c, `${node} did not fence itself (fences: ${sim.fences.map((f) => `${f.target} by ${f.by}`).join(', ') || 'none'})`);
        return;
      }
      case 'fence-history':
        return this.expectFenceHistory(c, r);
      case 'up':
      case 'down': {
        const node = this.node(r[0]!);
        if (sim.isUp(node) !== (what === 'up')) this.fail(c, `${node} is ${sim.isUp(node) ? 'up' : 'down'}`);
        return;
      }
      case 'quorate':
      case 'not-quorate': {
        const node = this.node(r[0]!);
        const q = sim.runtimeByName(node)?.controller.currentMembership?.quorate ?? false;
        if (q !== (what === 'quorate')) this.fail(c, `${node} is ${q ? '' : 'not '}quorate`);
        return;
      }
      case 'converged': {
        const why = convergence(sim);
        if (why !== undefined) this.fail(c, why);
        return;
      }
      case 'failcount': {
        const dc = this.dcRuntime();
        if (!dc) return this.fail(c, 'no DC to ask');
        const state = unpackCluster(readCib(dc.controller.cib), { nowSec: Math.floor(sim.wallMs() / 1000) });
        const node = this.node(r[2]!);
        const count = state.resourceById.get(r[0]!)?.failCounts.find((f) => f.node === node)?.count ?? 0;
        const want = r[4] === 'INFINITY' ? 1_000_000 : Number(r[4]);
        if (count !== want) this.fail(c, `fail count is ${count}`);
        return;
      }
      case 'reply': {
        const call = this.lastCall;
        if (!call?.reply) return this.fail(c, 'no client request answered yet');
        if (call.reply.ok !== (r[0] === 'ok')) this.fail(c, `the answer was ${JSON.stringify(call.reply)}`);
        return;
      }
      case 'property': {
        const [name, value] = splitPair(r[0]!);
        const rt = this.dcRuntime() ?? sim.up()[0];
        if (!rt) return this.fail(c, 'no node is running');
        const state = unpackCluster(readCib(rt.controller.cib), { nowSec: Math.floor(sim.wallMs() / 1000) });
        const got = state.options.get(name);
        if (got !== value) this.fail(c, `${rt.spec.name}'s CIB has ${name}=${got ?? '(unset)'}`);
        return;
      }
      default:
        throw new Error(`unhandled expectation ${what}`);
    }
  }

  /** `expect fence-history NODE [ok|failed] [level=N] [devices=a,b] [tried=1,2] [entries=N]`. */
  private expectFenceHistory(c: ScenarioCommand, r: readonly string[]): void {
    const sim = this.world();
    const node = this.node(r[0]!);
    const up = sim.up();
    if (up.length === 0) return this.fail(c, 'no node is running');
    const views = up.map((rt) => ({ name: rt.spec.name, entries: rt.controller.fenceHistory.filter((h) => h.target === node) }));
    const shown = (e: (typeof views)[number]['entries'][number] | undefined): string =>
      e ? `${e.ok ? 'ok' : 'failed'} level=${e.level ?? '-'} devices=${(e.devices ?? [e.device ?? '-']).join(',')} tried=${(e.attempts ?? []).map((x) => x.level ?? '-').join(',') || '-'}` : 'none';
    const first = JSON.stringify(views[0]!.entries);
    for (const v of views.slice(1)) {
      if (JSON.stringify(v.entries) !== first) return this.fail(c, `the histories differ: ${views.map((x) => `${x.name} has ${x.entries.length} (newest ${shown(x.entries.at(-1))})`).join('; ')}`);
    }
    const entries = views[0]!.entries;
    const newest = entries.at(-1);
    for (const arg of r.slice(1)) {
      if (arg === 'ok' || arg === 'failed') {
        if (!newest || newest.ok !== (arg === 'ok')) return this.fail(c, `the newest outcome is ${shown(newest)}`);
        continue;
      }
      const [key, value] = splitPair(arg);
      const got =
        key === 'entries' ? String(entries.length)
        : key === 'level' ? String(newest?.level ?? '-')
        : key === 'devices' ? (newest?.devices ?? [newest?.device ?? '-']).join(',')
        : key === 'tried' ? (newest?.attempts ?? []).map((x) => x.level ?? '-').join(',')
        : newest?.by ?? '-';
      if (got !== value) return this.fail(c, `${key} is ${got} (newest: ${shown(newest)}; ${entries.length} entries)`);
    }
  }

  private dcRuntime() {
    return this.sim?.up().find((rt) => rt.controller.isDc);
  }
}

function splitPair(s: string): [string, string] {
  const eq = s.indexOf('=');
  return [s.slice(0, eq), s.slice(eq + 1)];
}

function cibRunningOn(rt: { controller: { cib: XmlElement } }, rsc: string, wallMs: number): string[] {
  const state = unpackCluster(readCib(rt.controller.cib), { nowSec: Math.floor(wallMs / 1000) });
  const out = new Set<string>();
  for (const r of state.resources) if (r.variant === 'primitive' && r.id.replace(/:\d+$/, '') === rsc) for (const n of r.runningOn) out.add(n);
  return [...out].sort();
}

