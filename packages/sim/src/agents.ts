/**
 * Simulated resource agents: what a node's agents "really" do, decided per spawn from a table of
 * resource states, so that the real executor (SimProcessRunner under it) runs them like programs.
 *
 * Semantics are those of ocf:pacemaker:Dummy, for every agent type: `start` makes the resource
 * active, `stop` makes it inactive, `monitor` answers 0 when active and 7 when not. Knobs make a
 * monitor answer another rc, a start or stop fail with an rc or hang until the executor's timeout.
 * Fence agents (class stonith): `reboot`/`off` of a target ask the world to power it off (and, for
 * a reboot, on again; `on` powers a node that is off on), then answer 0; `start`/`stop`/`monitor` of a device behave like Dummy.
 *
 * The table is the ground truth the checkers read (never the CIB): a start counts as active from
 * the moment its process starts, a stop as inactive only when it ends successfully.
 */
import type { SimBehaviour, SpawnSpec } from '@paceline/executor';
import type { Prng } from '@paceline/messaging';

/** Fault knob for start or stop: fail with this rc, or hang until the executor kills it. */
export type ActionFault = { readonly rc: number } | 'hang';

export interface ResourceState {
  active: boolean;
  /** Monitor answers this rc (instead of 0/7) until the next successful stop. */
  monitorRc: number | undefined;
  startFault: ActionFault | undefined;
  stopFault: ActionFault | undefined;
}

/** Where an agent's program "is": the locator gives every agent this path, the runner reads it back. */
export function simAgentPath(agentClass: string, provider: string | undefined, type: string): string {
  return `/sim/agents/${agentClass}/${provider ?? '-'}/${type}`;
}

/** What a spawn is about, read back from the spawn spec the executor built. */
export interface SpawnInfo {
  readonly agentClass: string;
  readonly type: string;
  /** Resource id for ocf (OCF_RESOURCE_INSTANCE); the type for lsb; the device's parameters for stonith. */
  readonly rsc: string;
  readonly action: string;
  /** stonith: the node to act on. */
  readonly target: string | undefined;
  /** stonith: the device's parameters as name=value (what tells two devices of one agent apart). */
  readonly params?: readonly string[];
}

export function describeSpawn(spec: SpawnSpec): SpawnInfo {
  const parts = spec.command.split('/');
  const agentClass = parts[3] ?? 'unknown';
  const type = parts[5] ?? 'unknown';
  if (agentClass === 'stonith') {
    const kv = new Map<string, string>();
    for (const line of (spec.stdin ?? '').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
    }
    const params = [...kv].filter(([k]) => k !== 'action' && k !== 'nodename' && k !== 'port').map(([k, v]) => `${k}=${v}`);
    return { agentClass, type, rsc: `${type}(${params.sort().join(',')})`, action: kv.get('action') ?? '', target: kv.get('nodename'), params };
  }
  const action = spec.args[0] ?? '';
  const rsc = agentClass === 'ocf' ? (spec.env['OCF_RESOURCE_INSTANCE'] ?? type) : type;
  return { agentClass, type, rsc, action: action === 'status' ? 'monitor' : action, target: undefined };
}

/** Timing of simulated agent runs, in ms (drawn uniformly). */
export interface AgentTiming {
  readonly actionMsMin: number;
  readonly actionMsMax: number;
  readonly monitorMsMin: number;
  readonly monitorMsMax: number;
  readonly fenceMsMin: number;
  readonly fenceMsMax: number;
}

export const AGENT_TIMING_DEFAULTS: AgentTiming = {
  actionMsMin: 10,
  actionMsMax: 200,
  monitorMsMin: 2,
  monitorMsMax: 30,
  fenceMsMin: 50,
  fenceMsMax: 500,
};

/** What the world does for the agents: run something when a process ends, power nodes off. */
export interface AgentHost {
  /** Calls fn after delayMs on `node`'s clock, before the process's own end is reported. */
  at(node: string, delayMs: number, fn: () => void): void;
  /** A fence agent on `by` powered `target` off (reboot: it comes back later; on: a node that is off boots). */
  fence(by: string, target: string, action: string): void;
  /** Something a checker should know: a start began on node. */
  startBegins(node: string, rsc: string, agentClass: string): void;
}

/** The resource states of every node, and the behaviour of every simulated agent process. */
export class AgentWorld {
  private readonly table = new Map<string, Map<string, ResourceState>>();
  /** How long a fence of a target takes, when not the timing's random 50-500 ms (scenario `fence-takes`). */
  readonly fenceMsFor = new Map<string, number>();
  /** Targets that every fence attempt fails for (rc 1), until cleared. */
  readonly fenceFailsFor = new Set<string>();
  /** Target -> device parameters (name=value): a device with one of them fails for that target (rc 1). */
  readonly fenceFailsVia = new Map<string, Set<string>>();

  constructor(
    private readonly prng: Prng,
    private readonly host: AgentHost,
    private readonly timing: AgentTiming = AGENT_TIMING_DEFAULTS,
  ) {}

  state(node: string, rsc: string): ResourceState {
    let rscs = this.table.get(node);
    if (!rscs) {
      rscs = new Map();
      this.table.set(node, rscs);
    }
    let s = rscs.get(rsc);
    if (!s) {
      s = { active: false, monitorRc: undefined, startFault: undefined, stopFault: undefined };
      rscs.set(rsc, s);
    }
    return s;
  }

  /** Nodes where `rsc` is active right now. */
  activeOn(rsc: string): string[] {
    const out: string[] = [];
    for (const [node, rscs] of this.table) if (rscs.get(rsc)?.active) out.push(node);
    return out.sort();
  }

  /** Every (resource -> nodes) with the resource active somewhere. */
  activeMap(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [node, rscs] of this.table) {
      for (const [rsc, s] of rscs) {
        if (!s.active) continue;
        const list = out.get(rsc) ?? [];
        list.push(node);
        out.set(rsc, list.sort());
      }
    }
    return out;
  }

  /** A node lost power: nothing runs there any more (knobs stay: they describe the hardware). */
  powerOff(node: string): void {
    for (const s of this.table.get(node)?.values() ?? []) {
      s.active = false;
      s.monitorRc = undefined;
    }
  }

  /** The behaviour of one agent process on `node`, decided now. */
  behave(node: string, spec: SpawnSpec): SimBehaviour {
    const info = describeSpawn(spec);
    if (info.agentClass === 'stonith' && (info.action === 'reboot' || info.action === 'off' || info.action === 'on')) return this.fenceAction(node, info);
    const s = this.state(node, info.rsc);
    const t = this.timing;
    switch (info.action) {
      case 'start': {
        this.host.startBegins(node, info.rsc, info.agentClass);
        s.active = true;
        const fault = s.startFault;
        if (fault === 'hang') return { durationMs: Infinity };
        const durationMs = this.prng.int(t.actionMsMin, t.actionMsMax);
        if (fault) return { durationMs, exitCode: exitCodeFor(info.agentClass, fault.rc) };
        return { durationMs, exitCode: 0 };
      }
      case 'stop': {
        const fault = s.stopFault;
        if (fault === 'hang') return { durationMs: Infinity };
        const durationMs = this.prng.int(t.actionMsMin, t.actionMsMax);
        if (fault) return { durationMs, exitCode: exitCodeFor(info.agentClass, fault.rc) };
        this.host.at(node, durationMs, () => {
          s.active = false;
          s.monitorRc = undefined;
        });
        return { durationMs, exitCode: 0 };
      }
      case 'monitor': {
        const durationMs = this.prng.int(t.monitorMsMin, t.monitorMsMax);
        const rc = s.monitorRc ?? (s.active ? 0 : 7);
        return { durationMs, exitCode: exitCodeFor(info.agentClass, rc) };
      }
      case 'meta-data':
      case 'metadata':
      case 'validate-all':
      case 'reload':
      case 'notify':
        return { durationMs: this.prng.int(t.monitorMsMin, t.monitorMsMax), exitCode: 0 };
      case 'promote':
      case 'demote':
      case 'migrate_to':
      case 'migrate_from':
      default:
        // Not modelled: answer "unimplemented feature" so that a scenario using them fails loudly.
        return { durationMs: 1, exitCode: 3, stderr: `ocf-exit-reason:the simulated agent does not implement ${info.action}\n` };
    }
  }

  private fenceAction(node: string, info: SpawnInfo): SimBehaviour {
    const t = this.timing;
    const random = this.prng.int(t.fenceMsMin, t.fenceMsMax);
    const target = info.target;
    const durationMs = (target !== undefined ? this.fenceMsFor.get(target) : undefined) ?? random;
    if (target === undefined) return { durationMs, exitCode: 1, stderr: 'no target\n' };
    if (this.fenceFailsFor.has(target)) return { durationMs, exitCode: 1, stderr: `simulated: cannot reach the power switch of ${target}\n` };
    const via = this.fenceFailsVia.get(target);
    const broken = via && info.params?.find((p) => via.has(p));
    if (broken) return { durationMs, exitCode: 1, stderr: `simulated: the device with ${broken} cannot reach ${target}\n` };
    this.host.at(node, durationMs, () => this.host.fence(node, target, info.action));
    return { durationMs, exitCode: 0 };
  }
}

/**
 * The exit code with which an agent of this class says OCF rc `rc`: OCF agents exit with the rc;
 * LSB scripts answer "not running" with 3; fence agents with 2 (see the executor's codes.ts).
 */
export function exitCodeFor(agentClass: string, rc: number): number {
  if (agentClass === 'ocf' || rc === 0) return rc;
  if (rc === 7) return agentClass === 'lsb' ? 3 : 2;
  return 1;
}
