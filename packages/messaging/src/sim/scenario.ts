/**
 * Random fault scenarios for the simulation, generated from one seed: a storm phase with loss,
 * duplication, reordering, partitions, one-way link cuts, crashes and restarts under a steady
 * message load and process-group churn, then a quiet phase after which the cluster must have settled.
 */
import { checkOrder, checkSettled, checkViews, checkVirtualSynchrony, quorumIsStateless } from './check.js';
import { Prng } from './prng.js';
import { Simulation } from './sim.js';

export interface ScenarioOptions {
  readonly seed: number;
  readonly stormMs?: number;
  readonly quietMs?: number;
  readonly trace?: boolean;
}

export interface ScenarioResult {
  readonly seed: number;
  readonly violations: string[];
  readonly trace: string[];
  readonly stats: { views: number; deliveries: number; duplicates: number; nodes: number };
}

export function runScenario(opts: ScenarioOptions): ScenarioResult {
  let sim: Simulation | undefined;
  try {
    return runScenarioUnsafe(opts, (s) => (sim = s));
  } catch (err) {
    const what = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return { seed: opts.seed, violations: [`exception at ${sim?.nowMs ?? 0} ms: ${what}`], trace: sim?.trace ?? [], stats: { views: 0, deliveries: 0, duplicates: 0, nodes: 0 } };
  }
}

function runScenarioUnsafe(opts: ScenarioOptions, expose: (s: Simulation) => void): ScenarioResult {
  const plan = new Prng(opts.seed ^ 0x5eed);
  const quorumKind = plan.pick(['plain', 'plain', 'auto-tie-breaker', 'two-node', 'expected-votes'] as const);
  const nodeCount = quorumKind === 'two-node' ? 2 : plan.int(3, 5);
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({ nodeId: i + 1, votes: quorumKind === 'plain' ? plan.int(1, 2) : 1 }));
  const quorum = {
    plain: {},
    'auto-tie-breaker': { autoTieBreaker: true },
    'two-node': { twoNode: true, waitForAll: false },
    'expected-votes': { expectedVotes: nodeCount + 1 },
  }[quorumKind];
  const sim = new Simulation(
    opts.seed,
    {
      clusterName: 'sim',
      nodes,
      quorum,
      // Small fragments and packets so that ordinary messages exercise fragmentation and batching.
      limits: { fragmentBytesMax: 300, packetBytesMax: 1200, orderWindowMax: 256, orderWindowBytesMax: plan.pick([4000, 1 << 20]), submitWindowMax: 64, sendQueueMessagesMax: 500 },
    },
    opts.trace ?? false,
  );
  expose(sim);
  for (const n of nodes) sim.start(n.nodeId);
  sim.run(plan.int(300, 800));
  const stormMs = opts.stormMs ?? 3000;
  const stormEnd = sim.nowMs + stormMs;
  while (sim.nowMs < stormEnd) {
    perturb(sim, plan, nodes.map((n) => n.nodeId));
    const sliceMs = plan.int(50, 400);
    for (let t = 0; t < sliceMs; t += 10) {
      for (const n of nodes) if (plan.chance(0.15)) sim.sendFrom(n.nodeId, plan.chance(0.1) ? plan.int(400, 2500) : plan.int(20, 120));
      if (plan.chance(0.05)) toggleGroup(sim, plan.pick(nodes).nodeId, plan.pick(['aux', 'crmd']));
      sim.run(10);
    }
  }
  sim.heal();
  sim.faults = { lossRate: 0, duplicateRate: 0, delayMinMs: 1, delayMaxMs: 3 };
  for (const id of nodes.map((n) => n.nodeId)) if (!sim.isUp(id) && plan.chance(0.5)) sim.start(id);
  for (let t = 0; t < 300; t += 10) {
    for (const n of nodes) if (plan.chance(0.2)) sim.sendFrom(n.nodeId, 50);
    sim.run(10);
  }
  sim.run(opts.quietMs ?? 2500);
  const config = sim.config;
  const violations = [
    ...checkViews(sim.histories, config, quorumIsStateless(config)),
    ...checkOrder(sim.histories),
    ...checkVirtualSynchrony(sim.histories),
    ...checkSettled(sim),
  ];
  return {
    seed: opts.seed,
    violations,
    trace: sim.trace,
    stats: {
      views: sim.histories.reduce((s, h) => s + h.views.length, 0),
      deliveries: sim.histories.reduce((s, h) => s + h.deliveries.length, 0),
      duplicates: sim.histories.reduce((s, h) => s + h.deliveries.filter((d) => d.duplicate).length, 0),
      nodes: nodeCount,
    },
  };
}

/** Process-group churn: a node joins or leaves one of two extra groups. */
function toggleGroup(sim: Simulation, nodeId: number, group: string): void {
  const core = sim.core(nodeId);
  if (core === undefined) return;
  if (core.status(sim.nowMs).groups.includes(group)) core.leaveGroup(group);
  else core.joinGroup(group);
}

function perturb(sim: Simulation, plan: Prng, ids: readonly number[]): void {
  const roll = plan.next();
  if (roll < 0.2) {
    const shuffled = [...ids].sort(() => plan.next() - 0.5);
    const cut = plan.int(1, ids.length - 1);
    sim.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
  } else if (roll < 0.28) {
    sim.heal();
  } else if (roll < 0.35) {
    const from = plan.pick(ids);
    const to = plan.pick(ids.filter((id) => id !== from));
    sim.cutOneWay(from, to);
  } else if (roll < 0.5) {
    const up = ids.filter((id) => sim.isUp(id));
    if (up.length > 1) sim.crash(plan.pick(up));
  } else if (roll < 0.65) {
    const down = ids.filter((id) => !sim.isUp(id));
    if (down.length > 0) sim.start(plan.pick(down));
  } else {
    sim.faults = {
      lossRate: plan.pick([0, 0.02, 0.05, 0.15]),
      duplicateRate: plan.pick([0, 0.02, 0.1]),
      delayMinMs: 1,
      delayMaxMs: plan.pick([2, 10, 40]),
    };
  }
}
