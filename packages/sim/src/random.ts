/**
 * Random whole-cluster runs: one seed draws a cluster (2 to 5 nodes, a few Dummy resources, maybe
 * a group, a clone and constraints, fencing on or off), then a storm of faults (partitions, crashes
 * and restarts, failing monitors, starts and stops, failing fence devices, lossy links, torn
 * writes) with client updates in between, then heals everything and requires the cluster to
 * converge within a bound. The checkers run throughout; the result lists what they found.
 */
import { Prng } from '@paceline/messaging';
import { convergence } from './checks.js';
import { ClusterSim, type SimNodeSpec } from './world.js';

export interface RandomRunOptions {
  readonly seed: number;
  /** Simulated time of the fault phase (default 20 s). */
  readonly stormMs?: number;
  /** How long the cluster has to converge once faults stop (default 90 s). */
  readonly convergeMs?: number;
}

export interface RandomRunResult {
  readonly seed: number;
  readonly description: string;
  readonly violations: string[];
  readonly trace: string[];
  readonly simulatedMs: number;
  readonly stats: { starts: number; fences: number; joins: number; acked: number; updates: number; faults: number; dcSplits: number; toleratedDoubles: number };
}

interface Draw {
  readonly nodes: SimNodeSpec[];
  readonly twoNode: boolean;
  readonly stonith: boolean;
  readonly resources: string[];
  readonly clone: boolean;
  readonly cibXml: string;
  readonly description: string;
}

/** The cluster a seed runs: nodes, configuration, fencing. */
function drawCluster(plan: Prng): Draw {
  const twoNode = plan.chance(0.15);
  const count = twoNode ? 2 : plan.pick([3, 3, 3, 4, 5]);
  const nodes = Array.from({ length: count }, (_, i) => ({ id: i + 1, name: `node${i + 1}` }));
  const stonith = twoNode || plan.chance(0.7);
  const rscCount = plan.int(2, 5);
  const resources = Array.from({ length: rscCount }, (_, i) => `rsc${i + 1}`);
  const grouped = rscCount >= 3 && plan.chance(0.4);
  const clone = plan.chance(0.3);
  const threshold = plan.pick(['INFINITY', '1', '3']);
  const stickiness = plan.pick([0, 100]);
  const prim = (id: string): string => {
    const interval = plan.pick(['2s', '5s', '10s']);
    return `<primitive id="${id}" class="ocf" provider="pacemaker" type="Dummy"><operations><op id="${id}-monitor" name="monitor" interval="${interval}" timeout="10s"/><op id="${id}-start" name="start" interval="0" timeout="5s"/><op id="${id}-stop" name="stop" interval="0" timeout="5s"/></operations></primitive>`;
  };
  const parts: string[] = [];
  const constraints: string[] = [];
  if (grouped) {
    parts.push(`<group id="grp">${prim(resources[0]!)}${prim(resources[1]!)}</group>`);
    for (const r of resources.slice(2)) parts.push(prim(r));
  } else for (const r of resources) parts.push(prim(r));
  if (clone) parts.push(`<clone id="cl"><meta_attributes id="cl-meta"><nvpair id="cl-meta-im" name="interleave" value="true"/></meta_attributes>${prim('ping')}</clone>`);
  const devices: string[] = [];
  if (stonith) {
    for (const n of nodes) {
      // One device per target, as with IPMI; in a two-node cluster node1's has a delay, so that
      // in a fence race node1 survives.
      const delay = twoNode && n.id === 1 ? '<nvpair id="f-node1-delay" name="pcmk_delay_base" value="2s"/>' : '';
      devices.push(
        `<primitive id="f-${n.name}" class="stonith" type="fence_sim"><instance_attributes id="f-${n.name}-ia"><nvpair id="f-${n.name}-ip" name="ipaddr" value="bmc-${n.name}"/><nvpair id="f-${n.name}-hl" name="pcmk_host_list" value="${n.name}"/>${delay}</instance_attributes><operations><op id="f-${n.name}-mon" name="monitor" interval="60s"/></operations></primitive>`,
      );
      constraints.push(`<rsc_location id="f-${n.name}-not-self" rsc="f-${n.name}" node="${n.name}" score="-INFINITY"/>`);
    }
  }
  if (!grouped && rscCount >= 2 && plan.chance(0.5)) constraints.push(`<rsc_colocation id="col-1-2" rsc="rsc2" with-rsc="rsc1" score="INFINITY"/>`);
  if (plan.chance(0.5)) constraints.push(`<rsc_location id="loc-1" rsc="${grouped ? 'grp' : 'rsc1'}" node="${plan.pick(nodes).name}" score="${plan.pick([50, 200])}"/>`);
  if (plan.chance(0.3)) constraints.push(`<rsc_order id="ord-1" first="rsc${rscCount - 1}" then="rsc${rscCount}" kind="Mandatory"/>`);
  const props = [
    `<nvpair id="o-stonith" name="stonith-enabled" value="${stonith}"/>`,
    `<nvpair id="o-nqp" name="no-quorum-policy" value="stop"/>`,
  ].join('');
  const defaults = [
    `<nvpair id="d-stick" name="resource-stickiness" value="${stickiness}"/>`,
    `<nvpair id="d-mt" name="migration-threshold" value="${threshold}"/>`,
  ].join('');
  const cibXml =
    `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration>` +
    `<crm_config><cluster_property_set id="cib-bootstrap-options">${props}</cluster_property_set></crm_config>` +
    `<nodes>${nodes.map((n) => `<node id="${n.id}" uname="${n.name}"/>`).join('')}</nodes>` +
    `<resources>${parts.join('')}${devices.join('')}</resources><constraints>${constraints.join('')}</constraints>` +
    `<rsc_defaults><meta_attributes id="rsc-defaults">${defaults}</meta_attributes></rsc_defaults>` +
    `</configuration><status/></cib>`;
  const description = `${count} nodes${twoNode ? ' (two-node)' : ''}, stonith ${stonith ? 'on' : 'off'}, ${rscCount} Dummy${grouped ? ' (2 grouped)' : ''}${clone ? ' + clone' : ''}, stickiness ${stickiness}, migration-threshold ${threshold}`;
  return { nodes, twoNode, stonith, resources: [...resources, ...(clone ? ['ping'] : [])], clone, cibXml, description };
}

/** Runs one seed; never throws (an exception is a violation with its stack). */
export function runRandomCluster(opts: RandomRunOptions): RandomRunResult {
  const plan = new Prng((opts.seed * 2654435761) >>> 0 || 1);
  const draw = drawCluster(plan);
  const stats = { starts: 0, fences: 0, joins: 0, acked: 0, updates: 0, faults: 0, dcSplits: 0, toleratedDoubles: 0 };
  let sim: ClusterSim | undefined;
  const violations: string[] = [];
  try {
    sim = new ClusterSim({ seed: opts.seed, nodes: draw.nodes, ...(draw.twoNode ? { quorum: { twoNode: true } } : {}), initialCibXml: draw.cibXml, rebootDownMs: 3_000 });
    storm(sim, plan, draw, opts.stormMs ?? 20_000, stats);
    quiet(sim, draw);
    const convergeMs = opts.convergeMs ?? 90_000;
    const world = sim;
    if (!sim.runUntil(() => convergence(world) === undefined, CLEANUP_AFTER_MS)) {
      // What an administrator does after a storm: clean up every resource (a stop that failed
      // without fencing blocks a resource, and what depends on it, until then).
      cleanupAll(sim, draw);
      if (!sim.runUntil(() => convergence(world) === undefined, convergeMs)) sim.checker.violation(`did not converge within ${convergeMs} ms after the faults healed and a cleanup: ${convergence(sim)}`);
    }
    sim.checker.finalChecks();
    violations.push(...sim.checker.violations);
  } catch (e) {
    violations.push(`exception at ${sim?.nowMs ?? 0} ms: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  if (sim) Object.assign(stats, { starts: sim.checker.seen.starts, fences: sim.fences.length, joins: sim.checker.seen.joins, acked: sim.checker.seen.acked, dcSplits: sim.checker.seen.dcSplits, toleratedDoubles: sim.checker.seen.toleratedDoubles });
  return { seed: opts.seed, description: draw.description, violations, trace: sim?.trace ?? [], simulatedMs: sim?.nowMs ?? 0, stats };
}

function storm(sim: ClusterSim, plan: Prng, draw: Draw, stormMs: number, stats: RandomRunResult['stats']): void {
  for (const n of draw.nodes) sim.start(n.name);
  sim.run(plan.int(2_000, 5_000));
  const end = sim.nowMs + stormMs;
  let partitioned = false;
  let marker = 0;
  const names = draw.nodes.map((n) => n.name);
  while (sim.nowMs < end) {
    const roll = plan.next();
    const up = names.filter((n) => sim.isUp(n));
    const down = names.filter((n) => !sim.isUp(n));
    stats.faults++;
    if (roll < 0.12 && names.length > 1) {
      const shuffled = [...names].sort(() => plan.next() - 0.5);
      const cut = plan.int(1, names.length - 1);
      sim.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      partitioned = true;
    } else if (roll < 0.22) {
      sim.heal();
      partitioned = false;
    } else if (roll < 0.3 && up.length > 1) {
      sim.crash(plan.pick(up), 'crash (random)');
    } else if (roll < 0.42 && down.length > 0) {
      sim.start(plan.pick(down));
    } else if (roll < 0.56) {
      const active = [...sim.agents.activeMap()].filter(([r]) => !r.includes('('));
      if (active.length > 0) {
        const [rsc, nodes] = plan.pick(active);
        const node = plan.pick(nodes);
        const s = sim.agents.state(node, rsc);
        if (plan.chance(0.6)) s.active = false;
        else s.monitorRc = 1;
        sim.log(`fail ${rsc} on ${node} ${s.active ? 'rc=1' : 'rc=7'}`);
      }
    } else if (roll < 0.62) {
      const s = sim.agents.state(plan.pick(names), plan.pick(draw.resources));
      s.startFault = plan.chance(0.7) ? { rc: 1 } : 'hang';
    } else if (roll < 0.65) {
      const s = sim.agents.state(plan.pick(names), plan.pick(draw.resources));
      s.stopFault = plan.chance(0.7) ? { rc: 1 } : 'hang';
    } else if (roll < 0.68 && draw.stonith) {
      const target = plan.pick(names);
      if (sim.agents.fenceFailsFor.has(target)) sim.agents.fenceFailsFor.delete(target);
      else sim.agents.fenceFailsFor.add(target);
    } else if (roll < 0.72) {
      sim.setNetwork({ lossRate: plan.pick([0, 0, 0.02, 0.1]), duplicateRate: plan.pick([0, 0.02, 0.1]), delayMinMs: 1, delayMaxMs: plan.pick([2, 5, 30]) });
    } else if (roll < 0.74 && up.length > 0) {
      const rt = sim.runtimeByName(plan.pick(up));
      if (rt) rt.crashOnNextWrite = true;
    } else if (up.length > 0 && !(draw.twoNode && partitioned)) {
      // A client update that adds a marker the checker looks for once it is acknowledged.
      marker++;
      const id = `sim-mark-${marker}`;
      const xml = `<cluster_property_set id="sim-marks"><nvpair id="${id}" name="${id}" value="${marker}"/></cluster_property_set>`;
      sim.request(plan.pick(up), { kind: 'cib-update', request: { op: 'modify', scope: 'crm_config', xml, allowCreate: true } }, id);
      stats.updates++;
    }
    sim.run(plan.int(50, 1_500));
    if (sim.checker.violations.length > 0) return;
  }
}

/** How long a healed cluster gets before the administrator's cleanup. */
const CLEANUP_AFTER_MS = 30_000;

function cleanupAll(sim: ClusterSim, draw: Draw): void {
  const rt = sim.up().find((r) => r.controller.isDc) ?? sim.up()[0];
  if (!rt) return;
  sim.log('cleanup of every resource');
  for (const r of draw.resources) sim.request(rt.spec.name, { kind: 'cleanup', lrmId: r });
}

/** Faults stop: links heal, knobs clear, every node boots. */
function quiet(sim: ClusterSim, draw: Draw): void {
  sim.heal();
  sim.setNetwork({ lossRate: 0, duplicateRate: 0, delayMinMs: 1, delayMaxMs: 2 });
  sim.agents.fenceFailsFor.clear();
  for (const n of draw.nodes) {
    for (const r of draw.resources) {
      const s = sim.agents.state(n.name, r);
      s.startFault = undefined;
      s.stopFault = undefined;
      s.monitorRc = undefined;
    }
    sim.heldDown.delete(n.name);
  }
  for (const n of draw.nodes) if (!sim.isUp(n.name)) sim.start(n.name);
  sim.log('quiet: faults healed, every node started');
}
