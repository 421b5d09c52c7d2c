/**
 * A whole cluster in one process: for every node the real messaging core (through the messaging
 * package's Simulation, its fake network and PRNG), the real controller core, the real executor
 * over a simulated clock and simulated agents (agents.ts), the real scheduler (run inline after a
 * simulated delay) and a simulated disk. One seed decides everything: network faults, agent run
 * times, scheduler delays and whatever a random scenario does.
 *
 * The world is driven in 1 ms steps (`run`); after every step the checkers (checks.ts) look at the
 * nodes and the agents' real state and record violations. The driver wiring mirrors the daemon's
 * (packages/daemon/src/node.ts): persist, then journal, send, cancel, exec, schedule, replies.
 */
import { formatVersion, parseCib, readCib, writeElement } from '@paceline/cib';
import {
  ControllerCore,
  encodeCrm,
  type ClientReply,
  type ClientRequest,
  type ControllerOutput,
  type ControllerTiming,
} from '@paceline/controller';
import { Executor, SimClock, SimProcessRunner, type ActionResult } from '@paceline/executor';
import { Prng, Simulation, viewKey, type NetworkFaults, type QuorumConfig, type ViewInfo } from '@paceline/messaging';
import { planTransition, schedule, type TransitionPlan } from '@paceline/scheduler';
import { AgentWorld, simAgentPath, type AgentTiming } from './agents.js';
import { Checker, type CheckOptions } from './checks.js';
import { SimDisk } from './disk.js';

export const CRMD_GROUP = 'crmd';
/** Wall-clock time of simulated time 0 (2026-01-01T00:00:00Z): CIB timestamps look real. */
export const WALL_BASE_MS = 1_767_225_600_000;

export interface SimNodeSpec {
  readonly id: number;
  readonly name: string;
  readonly votes?: number;
}

export interface ClusterSimOptions {
  readonly seed: number;
  readonly nodes: readonly SimNodeSpec[];
  readonly quorum?: Partial<QuorumConfig>;
  /** The CIB every node has on disk at its first start (the daemon's initialCib); empty otherwise. */
  readonly initialCibXml?: string;
  readonly controllerTiming?: Partial<ControllerTiming>;
  readonly agentTiming?: AgentTiming;
  /** The scheduler answers after a delay drawn from [min, max] ms. */
  readonly scheduleDelayMs?: readonly [number, number];
  /** A node fenced with `reboot` is powered on again after this long (undefined: stays off). */
  readonly rebootDownMs?: number;
  readonly checks?: Partial<CheckOptions>;
  /** Lines kept in the trace ring (printed when a seed fails). */
  readonly traceLinesMax?: number;
}

/** One client request through a node's controller, and its answer once there is one. */
export interface ClientCall {
  readonly reqId: string;
  readonly node: string;
  readonly req: ClientRequest;
  readonly sentAtMs: number;
  /** Set by the random workload: the crm_config nvpair id the update adds (the checker looks for it). */
  readonly marker?: string;
  reply?: ClientReply;
  repliedAtMs?: number;
}

/** A node that fenced itself without a device (ControllerOutput.selfFence). */
export interface SelfFenceRecord {
  readonly atMs: number;
  readonly node: string;
  readonly reason: string;
  /** Resources its agents still ran when it exited (a stop failed or hung). */
  readonly leftActive: readonly string[];
}

export interface FenceRecord {
  readonly atMs: number;
  readonly by: string;
  readonly target: string;
  readonly action: string;
}

/** One running incarnation of a node. */
export interface NodeRuntime {
  readonly spec: SimNodeSpec;
  readonly key: string;
  readonly bootMs: number;
  readonly controller: ControllerCore;
  readonly clock: SimClock;
  readonly executor: Executor;
  readonly runner: SimProcessRunner;
  up: boolean;
  view: ViewInfo | undefined;
  crmdMembers: number[];
  /** When the controller last completed a join (journal `join-complete`). */
  joinedAtMs: number | undefined;
  plans: { dueMs: number; token: number; cibXml: string; nowSec: number }[];
  /** Crash right after the next CIB write, before it is synced (a torn write). */
  crashOnNextWrite: boolean;
}

export class ClusterSim {
  readonly seed: number;
  readonly prng: Prng;
  readonly net: Simulation;
  readonly agents: AgentWorld;
  readonly checker: Checker;
  readonly specs: readonly SimNodeSpec[];
  readonly disks = new Map<number, SimDisk>();
  readonly runtimes = new Map<number, NodeRuntime>();
  readonly calls = new Map<string, ClientCall>();
  readonly fences: FenceRecord[] = [];
  readonly selfFences: SelfFenceRecord[] = [];
  readonly trace: string[] = [];
  /** Nodes that stay powered off after a fence until `start` (scenario `hold`). */
  readonly heldDown = new Set<string>();
  private readonly opts: ClusterSimOptions;
  private readonly timers: { atMs: number; order: number; fn: () => void }[] = [];
  private timerOrder = 0;
  private upCache: NodeRuntime[] | undefined;
  private readonly byName = new Map<string, SimNodeSpec>();
  nowMs = 0;

  constructor(opts: ClusterSimOptions) {
    if (opts.nodes.length === 0) throw new Error('a simulated cluster needs at least one node');
    this.opts = opts;
    this.seed = opts.seed;
    this.specs = opts.nodes;
    for (const n of opts.nodes) {
      if (this.byName.has(n.name)) throw new Error(`duplicate node name ${n.name}`);
      this.byName.set(n.name, n);
    }
    this.net = new Simulation(opts.seed, {
      clusterName: 'sim',
      nodes: opts.nodes.map((n) => ({ nodeId: n.id, votes: n.votes ?? 1 })),
      ...(opts.quorum ? { quorum: opts.quorum } : {}),
    });
    // The world's own draws come from a second stream, so that adding a knob does not shift the network's.
    this.prng = new Prng((opts.seed ^ 0x51ab1e) >>> 0);
    this.agents = new AgentWorld(
      this.prng,
      {
        at: (node, delayMs, fn) => this.runtimeByName(node)?.clock.setTimer(delayMs, fn),
        fence: (by, target, action) => this.onFenced(by, target, action),
        startBegins: (node, rsc, agentClass) => this.checker.onStart(node, rsc, agentClass),
      },
      opts.agentTiming,
    );
    this.checker = new Checker(this, opts.checks);
    for (const n of opts.nodes) this.disks.set(n.id, new SimDisk());
  }

  // ------------------------------------------------------------------------------------------
  // Lookups

  spec(nameOrId: string | number): SimNodeSpec {
    const s = typeof nameOrId === 'number' ? this.specs.find((n) => n.id === nameOrId) : (this.byName.get(nameOrId) ?? this.specs.find((n) => String(n.id) === nameOrId));
    if (!s) throw new Error(`no node ${String(nameOrId)} (nodes: ${this.specs.map((n) => n.name).join(', ')})`);
    return s;
  }

  runtimeByName(name: string): NodeRuntime | undefined {
    const s = this.byName.get(name);
    const r = s ? this.runtimes.get(s.id) : undefined;
    return r?.up ? r : undefined;
  }

  /** Running nodes, by id. */
  up(): readonly NodeRuntime[] {
    this.upCache ??= [...this.runtimes.values()].filter((r) => r.up).sort((a, b) => a.spec.id - b.spec.id);
    return this.upCache;
  }

  isUp(name: string): boolean {
    return this.runtimeByName(name) !== undefined;
  }

  wallMs(): number {
    return WALL_BASE_MS + this.nowMs;
  }

  log(line: string): void {
    this.trace.push(`${String(this.nowMs).padStart(7)} ${line}`);
    const max = this.opts.traceLinesMax ?? 3000;
    if (this.trace.length > max) this.trace.splice(0, this.trace.length - max);
  }

  // ------------------------------------------------------------------------------------------
  // Faults and operations

  /** Starts a node that is down: a new messaging incarnation, controller from its disk, fresh executor. */
  start(name: string): void {
    const spec = this.spec(name);
    if (this.runtimes.get(spec.id)?.up) throw new Error(`${spec.name} is already running`);
    this.heldDown.delete(spec.name);
    this.net.start(spec.id);
    const key = this.net.histories.at(-1)!.key;
    this.net.core(spec.id)!.joinGroup(CRMD_GROUP);
    const stored = this.disks.get(spec.id)!.read();
    const controller = new ControllerCore({
      self: { id: spec.id, name: spec.name },
      nodes: this.specs.map((n) => ({ id: n.id, name: n.name })),
      cibXml: stored ? writeElement(stored.root) : this.opts.initialCibXml,
      ...(stored?.quorateVersion ? { quorateVersion: stored.quorateVersion } : {}),
      ...(this.disks.get(spec.id)!.fenceHistory ? { fenceHistory: this.disks.get(spec.id)!.fenceHistory! } : {}),
      ...(this.opts.controllerTiming ? { timing: this.opts.controllerTiming } : {}),
    });
    const clock = new SimClock(WALL_BASE_MS + this.nowMs);
    const runner = new SimProcessRunner(clock, (s) => this.agents.behave(spec.name, s));
    const executor = new Executor({
      clock,
      runner,
      locator: { locate: (a) => ({ path: simAgentPath(a.agentClass, a.provider, a.type) }) },
      actionsParallelMax: 8,
    });
    const rt: NodeRuntime = {
      spec,
      key,
      bootMs: this.nowMs,
      controller,
      clock,
      executor,
      runner,
      up: true,
      view: undefined,
      crmdMembers: [],
      joinedAtMs: undefined,
      plans: [],
      crashOnNextWrite: false,
    };
    this.runtimes.set(spec.id, rt);
    this.upCache = undefined;
    this.log(`${spec.name} start (${key}) cib ${formatVersion(controller.cibVersion)}`);
    this.checker.onBoot(rt);
  }

  /**
   * Power loss: messaging and controller gone, agents stopped, unsynced writes lost. With
   * `keepPower` only the node's processes die (the daemon exits): what its agents run keeps running.
   */
  crash(name: string, why = 'crash', opts: { keepPower?: boolean } = {}): void {
    const spec = this.spec(name);
    const rt = this.runtimes.get(spec.id);
    if (!rt?.up) return;
    this.checker.onCrash(rt);
    rt.up = false;
    this.upCache = undefined;
    rt.executor.close();
    this.net.crash(spec.id);
    this.disks.get(spec.id)!.crash();
    if (!opts.keepPower) this.agents.powerOff(spec.name);
    this.log(`${spec.name} down (${why})`);
  }

  partition(groups: readonly (readonly string[])[]): void {
    const ids = groups.map((g) => g.map((n) => this.spec(n).id));
    const named = new Set(ids.flat());
    const rest = this.specs.map((s) => s.id).filter((id) => !named.has(id));
    this.net.partition(rest.length > 0 ? [...ids, rest] : ids);
    this.log(`partition ${groups.map((g) => g.join(',')).join(' | ')}`);
  }

  heal(): void {
    this.net.heal();
    this.log('heal');
  }

  setNetwork(f: Partial<NetworkFaults>): void {
    this.net.faults = { ...this.net.faults, ...f };
    this.log(`network ${JSON.stringify(this.net.faults)}`);
  }

  /** Sends a client request through `node`'s controller; the reply lands in `calls`. */
  request(node: string, req: ClientRequest, marker?: string): ClientCall {
    const rt = this.runtimeByName(node);
    if (!rt) throw new Error(`${node} is not running`);
    const reqId = rt.controller.newRequestId();
    const call: ClientCall = { reqId, node, req, sentAtMs: this.nowMs, ...(marker !== undefined ? { marker } : {}) };
    this.calls.set(`${node}/${reqId}`, call);
    rt.controller.request(reqId, req, this.nowMs, this.wallMs());
    this.pump(rt);
    return call;
  }

  /**
   * stonith_admin --reboot/--off TARGET on `node`: the controller fences outside any transition,
   * with the devices the CIB configures (as the daemon's fence.request finds them).
   */
  requestFence(node: string, target: string, action: 'off' | 'on' | 'reboot'): ClientCall {
    const rt = this.runtimeByName(node);
    if (!rt) throw new Error(`${node} is not running`);
    const reqId = rt.controller.newRequestId();
    const call: ClientCall = { reqId, node, req: { kind: 'fence', target, action } as unknown as ClientRequest, sentAtMs: this.nowMs };
    this.calls.set(`${node}/${reqId}`, call);
    const model = readCib(rt.controller.cib);
    const devices = planTransition(model, schedule(model)).fenceDevices;
    rt.controller.requestFence(reqId, target, action, devices, this.nowMs, this.wallMs());
    this.pump(rt);
    return call;
  }

  /** Graceful stop: the controller asks the DC to move resources away, then exits. */
  shutdown(node: string): void {
    const rt = this.runtimeByName(node);
    if (!rt) throw new Error(`${node} is not running`);
    rt.controller.requestShutdown(this.nowMs, this.wallMs());
    this.pump(rt);
  }

  /** Runs fn at simulated time atMs (world timers: reboots, scenario events). */
  at(atMs: number, fn: () => void): void {
    this.timers.push({ atMs, order: this.timerOrder++, fn });
  }

  // ------------------------------------------------------------------------------------------
  // Time

  /** Advances simulated time by ms, one millisecond at a time, checking after every step. */
  run(ms: number): void {
    const end = this.nowMs + ms;
    while (this.nowMs < end) this.step();
  }

  /** Runs until pred() holds (checked every 10 ms) or maxMs passes; returns whether it held. */
  runUntil(pred: () => boolean, maxMs: number): boolean {
    const end = this.nowMs + maxMs;
    while (this.nowMs < end) {
      if (this.nowMs % 10 === 0 && pred()) return true;
      this.step();
    }
    return pred();
  }

  step(): void {
    this.nowMs += 1;
    this.net.run(1);
    if (this.net.nowMs !== this.nowMs) throw new Error(`clock skew: world ${this.nowMs}, network ${this.net.nowMs}`);
    this.fireTimers();
    this.consumeNetworkEvents();
    for (const rt of this.up()) if (rt.up) rt.clock.advance(1);
    for (const rt of this.up()) this.runPlans(rt);
    for (const rt of this.up()) {
      if (!rt.up) continue;
      const wake = rt.controller.nextWakeMs();
      if (wake !== undefined && wake <= this.nowMs) {
        rt.controller.tick(this.nowMs, this.wallMs());
        this.pump(rt);
      }
    }
    this.checker.afterStep();
  }

  private fireTimers(): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.timers.length; i++) {
        const t = this.timers[i]!;
        if (t.atMs > this.nowMs) continue;
        if (best < 0 || t.atMs < this.timers[best]!.atMs || (t.atMs === this.timers[best]!.atMs && t.order < this.timers[best]!.order)) best = i;
      }
      if (best < 0) return;
      const [t] = this.timers.splice(best, 1);
      t!.fn();
    }
  }

  private consumeNetworkEvents(): void {
    const events = this.net.events.splice(0);
    for (const { key, event } of events) {
      const nodeId = Number(key.slice(0, key.indexOf(':')));
      const rt = this.runtimes.get(nodeId);
      if (!rt || !rt.up || rt.key !== key) continue;
      switch (event.type) {
        case 'view':
          rt.view = event.view;
          rt.crmdMembers = [...(event.view.groups.find((g) => g.group === CRMD_GROUP)?.members ?? [])];
          this.membershipChanged(rt);
          break;
        case 'group':
          if (event.group !== CRMD_GROUP) break;
          rt.crmdMembers = [...event.members];
          this.membershipChanged(rt);
          break;
        case 'message':
          if (event.group !== CRMD_GROUP) break;
          rt.controller.onMessage(event.sender, event.data, this.nowMs, this.wallMs());
          this.pump(rt);
          break;
        default:
          break;
      }
      // A node can crash while handling an event (a torn write): later events of it are dropped above.
    }
    // Views are also recorded by the messaging simulation's history; keep that bounded here.
    for (const h of this.net.histories) if (h.deliveries.length > 2000) h.deliveries.splice(0, h.deliveries.length - 2000);
  }

  private membershipChanged(rt: NodeRuntime): void {
    const v = rt.view;
    if (!v) return;
    rt.controller.onMembership({ viewKey: viewKey(v.id), members: rt.crmdMembers, quorate: v.quorum.quorate, quorumVotes: v.quorum.quorumVotes }, this.nowMs, this.wallMs());
    this.pump(rt);
  }

  private runPlans(rt: NodeRuntime): void {
    while (rt.up && rt.plans.length > 0 && rt.plans[0]!.dueMs <= this.nowMs) {
      const order = rt.plans.shift()!;
      const plan = computePlan(order.cibXml, order.nowSec);
      if ('error' in plan) this.log(`${rt.spec.name} scheduler error: ${plan.error}`);
      rt.controller.onPlan(order.token, plan, this.nowMs, this.wallMs());
      this.pump(rt);
    }
  }

  // ------------------------------------------------------------------------------------------
  // The driver: the controller's effects, in the order its contract asks

  pump(rt: NodeRuntime): void {
    for (let i = 0; i < 1000 && rt.up; i++) {
      if (!this.apply(rt, rt.controller.ready())) return;
    }
  }

  private apply(rt: NodeRuntime, out: ControllerOutput): boolean {
    let any = false;
    const name = rt.spec.name;
    if (out.persist) {
      any = true;
      const disk = this.disks.get(rt.spec.id)!;
      const quorateVersion = out.quorateVersion ?? disk.read()?.quorateVersion;
      disk.write({ root: rt.controller.cib, version: out.persist, atMs: this.nowMs, ...(quorateVersion ? { quorateVersion } : {}) });
      if (rt.crashOnNextWrite) {
        this.crash(name, 'torn write: crashed between write and sync');
        return false;
      }
      disk.sync();
      this.checker.onPersist(rt, out.persist);
    }
    if (out.fenceHistory) {
      any = true;
      this.disks.get(rt.spec.id)!.fenceHistory = out.fenceHistory;
    }
    for (const e of out.journal) {
      any = true;
      const { event, ...fields } = e;
      this.log(`${name} ${event} ${JSON.stringify(fields)}`);
      if (event === 'join-complete') {
        rt.joinedAtMs = this.nowMs;
        this.checker.onJoin(rt);
      }
    }
    const core = this.net.core(rt.spec.id);
    for (const m of out.send) {
      any = true;
      const r = core?.send(CRMD_GROUP, encodeCrm(m));
      if (r && !r.ok) this.log(`${name} send-failed ${m.t} ${r.code}`);
    }
    for (const c of out.cancel) {
      any = true;
      rt.executor.cancelMatching({ rscId: c.lrmId, ...(c.intervalMs !== undefined ? { intervalMs: c.intervalMs } : {}) });
    }
    for (const x of out.exec) {
      any = true;
      const r = rt.executor.execute(x.request, (result: ActionResult) => {
        if (!rt.up) return;
        rt.controller.onExecResult(x.tag, result, this.nowMs, this.wallMs());
        this.pump(rt);
      });
      if (!r.ok) this.log(`${name} exec-refused ${x.request.rscId} ${x.request.action}: ${r.error.code} ${r.error.message}`);
    }
    for (const s of out.schedule) {
      any = true;
      const [lo, hi] = this.opts.scheduleDelayMs ?? [1, 10];
      rt.plans.push({ dueMs: this.nowMs + this.prng.int(lo, hi), token: s.token, cibXml: s.cibXml, nowSec: s.nowSec });
    }
    for (const r of out.replies) {
      any = true;
      const call = this.calls.get(`${name}/${r.reqId}`);
      if (call && !call.reply) {
        call.reply = r;
        call.repliedAtMs = this.nowMs;
        this.checker.onReply(call);
      }
      this.log(`${name} reply ${r.reqId} ${r.ok ? 'ok' : `${r.error?.code}`}`);
    }
    if (out.selfFence !== undefined) {
      // The daemon exits at once (no graceful shutdown); what a stop could not stop runs on.
      const leftActive = [...this.agents.activeMap()].filter(([, nodes]) => nodes.includes(name)).map(([rsc]) => rsc);
      this.selfFences.push({ atMs: this.nowMs, node: name, reason: out.selfFence, leftActive });
      this.log(`SELF-FENCE ${name}: ${out.selfFence}${leftActive.length > 0 ? ` (still active: ${leftActive.join(', ')})` : ''}`);
      this.crash(name, 'self-fenced: exit', { keepPower: true });
      return false;
    }
    if (out.exit) {
      any = true;
      this.crash(name, 'graceful exit');
      return false;
    }
    return any;
  }

  // ------------------------------------------------------------------------------------------
  // Fencing

  private onFenced(by: string, target: string, action: string): void {
    if (action === 'on') {
      // Power on (unfencing, or the second half of a reboot remapped to off then on): a node that
      // is off boots, after the same time as a rebooted one.
      this.log(`POWER-ON ${target} by ${by}`);
      const downMs = this.opts.rebootDownMs;
      if (this.byName.has(target) && downMs !== undefined) {
        this.at(this.nowMs + downMs, () => {
          if (!this.isUp(target) && !this.heldDown.has(target)) this.start(target);
        });
      }
      return;
    }
    this.fences.push({ atMs: this.nowMs, by, target, action });
    this.log(`FENCE ${target} (${action}) by ${by}`);
    if (this.byName.has(target)) {
      this.crash(target, `fenced by ${by}`);
      // A node that is down already (its daemon exited) may still run resources: the power goes.
      this.agents.powerOff(target);
    }
    this.checker.onFence(target);
    if (!this.byName.has(target)) return;
    const downMs = this.opts.rebootDownMs;
    if (action === 'reboot' && downMs !== undefined) {
      this.at(this.nowMs + downMs, () => {
        if (!this.isUp(target) && !this.heldDown.has(target)) this.start(target);
      });
    }
  }
}

/** The scheduler, as the daemon's worker runs it: CIB XML and time in, plan (or error) out. */
export function computePlan(cibXml: string, nowSec: number): TransitionPlan | { error: string } {
  try {
    const cib = parseCib(cibXml);
    return planTransition(cib, schedule(cib, { nowSec }));
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
