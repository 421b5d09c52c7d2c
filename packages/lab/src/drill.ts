/**
 * The floating-IP failover drill of the controller issue: a lab CIB (IPaddr + a Dummy colocated
 * with it, fencing through fence_lab), and one run of "power off the node holding the address,
 * measure until a client sees it answer from another node".
 */
import { faults } from './faults.js';
import { alive, labStatus, nodeByMac, nodePid, sleep, type LabState } from './lab.js';
import { waitSettled, type NodeStatus } from './settle.js';
import { analyze, transitions, watchIp, type Sample } from './watch.js';

/** A value escaped for an XML attribute (the drills' CIBs are written as text). */
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * The floating IP primitive every drill CIB uses: ocf:paceline:IPaddr on eth0, /24, monitored
 * every `monitor` (ids derived from `id`); `indent` is the indentation of the <primitive> line.
 */
export function floatingIpPrimitive(id: string, vip: string, monitor: string, indent = '      '): string {
  const i = indent;
  return [
    `${i}<primitive id="${id}" class="ocf" provider="paceline" type="IPaddr">`,
    `${i}  <instance_attributes id="${id}-ia">`,
    `${i}    <nvpair id="${id}-ip" name="ip" value="${esc(vip)}"/>`,
    `${i}    <nvpair id="${id}-cidr" name="cidr_netmask" value="24"/>`,
    `${i}    <nvpair id="${id}-nic" name="nic" value="eth0"/>`,
    `${i}  </instance_attributes>`,
    `${i}  <operations><op id="${id}-monitor" name="monitor" interval="${monitor}" timeout="20s"/></operations>`,
    `${i}</primitive>`,
  ].join('\n');
}

/**
 * A lab cluster's CIB: the given resources and constraints, stickiness 100, no-quorum-policy
 * stop, and with `stonith` a fence_lab device (lab_dir, every node in pcmk_host_list) and
 * stonith-enabled. `options` adds nvpairs to the cluster property set.
 */
export function labCib(opts: { labDir: string; nodes: readonly string[]; stonith: boolean; resources: string; constraints?: string; options?: string }): string {
  const fence = opts.stonith
    ? `      <primitive id="fence-lab" class="stonith" type="fence_lab">
        <instance_attributes id="fence-lab-ia">
          <nvpair id="fence-lab-dir" name="lab_dir" value="${esc(opts.labDir)}"/>
          <nvpair id="fence-lab-hosts" name="pcmk_host_list" value="${esc(opts.nodes.join(' '))}"/>
        </instance_attributes>
        <operations><op id="fence-lab-monitor" name="monitor" interval="60s"/></operations>
      </primitive>
`
    : '';
  return `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="${opts.stonith}"/>
        <nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>
${opts.options ?? ''}      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
${opts.resources}${fence}    </resources>
    <constraints>
${opts.constraints ?? ''}    </constraints>
    <rsc_defaults>
      <meta_attributes id="rsc-options">
        <nvpair id="rsc-options-stickiness" name="resource-stickiness" value="100"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
  <status/>
</cib>
`;
}

/**
 * The drill's CIB: `vip` (ocf:paceline:IPaddr on eth0, monitor every 2 s), `dummy` colocated with
 * it, stickiness 100, and with `stonith` a fence_lab device for every node (stonith-enabled).
 */
export function floatingIpCib(opts: { vip: string; labDir: string; nodes: readonly string[]; stonith: boolean }): string {
  return labCib({
    ...opts,
    resources: `${floatingIpPrimitive('vip', opts.vip, '2s')}
      <primitive id="dummy" class="ocf" provider="paceline" type="Dummy">
        <operations><op id="dummy-monitor" name="monitor" interval="5s" timeout="20s"/></operations>
      </primitive>
`,
    constraints: '      <rsc_colocation id="dummy-with-vip" rsc="dummy" with-rsc="vip" score="INFINITY"/>\n',
  });
}

export interface FailoverRun {
  readonly passed: boolean;
  /** Fault to the start of the final answering period (finalRecovery), as the client saw it. */
  readonly failover_ms?: number;
  readonly from: string;
  readonly to?: string;
  readonly reasons: readonly string[];
  readonly timeline: ReturnType<typeof transitions>;
  /** Wall-clock ms: the fault took effect. */
  readonly faultAt: number;
  /** Wall-clock ms: the first ICMP reply after the outage (absent when it never answered). */
  readonly answeredAt?: number;
  /** Wall-clock ms: the watch ended (before the lost node was powered on again). */
  readonly recoveredAt: number;
  /** ARP requests answered from two or more MACs during the run. */
  readonly twoMacProbes: number;
  /** Every node's status once the cluster settled again after the run (three nodes back). */
  readonly settled: readonly NodeStatus[];
  /** The cluster did not settle after the run (settled is empty; a reason says why). */
  readonly unsettled: boolean;
}

/**
 * One run (netns driver, cluster settled, `vip` held by some node): power off the holder, watch
 * until the address answers again for `stableMs` (or `timeoutMs`), then power the node on again
 * and wait until the cluster settled. Fails (passed: false, with reasons) when the address never
 * came back, came back on the same node, answered from two MACs at once, or the cluster did not
 * settle again afterwards (then `unsettled`).
 */
export async function vipFailoverRun(
  state: LabState,
  opts: { vip: string; timeoutMs?: number; stableMs?: number; progress?: (l: string) => void; /** Pause between finding the holder and the fault (default 200 ms). */ preFaultMs?: number; settleTimeoutMs?: number },
): Promise<FailoverRun> {
  if (state.driver !== 'netns' || state.client === undefined) throw new Error('the failover drill needs the netns driver');
  const w = watchIp({ netns: state.client.netns, ip: opts.vip });
  const reasons: string[] = [];
  let samples: Sample[] = [];
  let from: string | undefined;
  let faultAt = 0;
  try {
    await w.ready();
    const end0 = Date.now() + 5000;
    while (from === undefined && Date.now() < end0) {
      const macs = w.samples.filter((s) => s.probe === 'arp' && s.up).at(-1)?.macs;
      if (macs?.length === 1) from = nodeByMac(state, macs[0]!);
      if (from === undefined) await sleep(20);
    }
    if (from === undefined) throw new Error(`${opts.vip} is not answering from one lab node before the fault`);
    await sleep(opts.preFaultMs ?? 200);
    faultAt = await faults(state.dir).powerOff(from);
    opts.progress?.(`power off ${from}`);
    const end = faultAt + (opts.timeoutMs ?? 30_000);
    for (;;) {
      await sleep(50);
      const rec = finalRecovery(w.samples, faultAt);
      if (rec.answeredAt !== undefined && Date.now() - rec.answeredAt >= (opts.stableMs ?? 1000)) break;
      if (Date.now() > end) break;
    }
  } finally {
    samples = await w.stop();
  }
  const recoveredAt = Date.now();
  const o = analyze(samples, faultAt);
  const rec = finalRecovery(samples, faultAt);
  const to = o.macAfter?.length === 1 ? nodeByMac(state, o.macAfter[0]!) : undefined;
  if (rec.failoverMs === undefined) reasons.push(`${opts.vip} did not answer again within ${opts.timeoutMs ?? 30_000} ms`);
  for (const e of rec.early) {
    const who = e.macs.map((m) => nodeByMac(state, m) ?? m).join(',');
    reasons.push(`${opts.vip} answered from ${who} ${e.offsetMs} ms after the fault, before the failover (then stopped answering again)`);
  }
  if (o.twoMacSamples.length > 0) reasons.push(`${opts.vip} answered from two MACs in ${o.twoMacSamples.length} ARP probes`);
  if (to === from) reasons.push(`${opts.vip} answers from ${from}, the node that was powered off`);
  // Back to three nodes for the next run (fencing may have powered it on already).
  const node = state.nodes.find((n) => n.name === from)!;
  if (!alive(nodePid(node))) await faults(state.dir).powerOn(from!);
  let settled = new Map<string, NodeStatus>();
  try {
    settled = await waitSettled(state.nodes, { timeoutMs: opts.settleTimeoutMs ?? 60_000, ...(opts.progress ? { progress: opts.progress } : {}) });
  } catch (err) {
    reasons.push(`after the run: ${(err as Error).message}`);
  }
  return {
    passed: reasons.length === 0,
    unsettled: settled.size === 0,
    ...(rec.failoverMs === undefined ? {} : { failover_ms: rec.failoverMs }),
    from: from!,
    ...(to === undefined ? {} : { to }),
    reasons,
    timeline: transitions(samples, faultAt),
    faultAt,
    ...(rec.answeredAt === undefined ? {} : { answeredAt: rec.answeredAt }),
    recoveredAt,
    twoMacProbes: o.twoMacSamples.length,
    settled: [...settled.values()],
  };
}

/** What the client saw after a fault (see finalRecovery). */
export interface Recovery {
  /** Wall-clock ms of the first ICMP reply of the final answering period (after the last miss). */
  readonly answeredAt?: number;
  /** answeredAt - fault; 0 when no reply was missed after the fault; undefined: not answering at the end. */
  readonly failoverMs?: number;
  /** ARP answers after the first ICMP miss and before the last one: the address came back, then went again. */
  readonly early: readonly { offsetMs: number; macs: readonly string[] }[];
}

/** ICMP misses are reported up to one probe interval late (ping -O): ARP answers this close to the last miss are the recovery itself. */
const EARLY_MARGIN_MS = 50;

/**
 * The failover as the client saw it: the service is back at the first ICMP reply after the
 * LAST missed one (a short answer in the middle of the outage, e.g. from a node powered on
 * with a stale address, is no failover; it is listed in `early`, one entry per MAC set change).
 */
export function finalRecovery(samples: readonly Sample[], faultAt: number): Recovery {
  const after = samples.filter((s) => s.t > faultAt).sort((a, b) => a.t - b.t);
  const icmp = after.filter((s) => s.probe === 'icmp');
  const lastDownIdx = icmp.map((s) => s.up).lastIndexOf(false);
  if (lastDownIdx < 0) return { ...(icmp.length > 0 ? { answeredAt: icmp[0]!.t, failoverMs: 0 } : {}), early: [] };
  const answeredAt = icmp.slice(lastDownIdx + 1).find((s) => s.up)?.t;
  const firstDown = icmp.find((s) => !s.up)!.t;
  const lastDown = icmp[lastDownIdx]!.t;
  const early: { offsetMs: number; macs: readonly string[] }[] = [];
  let prev = '';
  for (const s of after) {
    if (s.probe !== 'arp' || s.t <= firstDown || s.t >= lastDown - EARLY_MARGIN_MS) continue;
    const key = (s.macs ?? []).join(',');
    if (s.up && key !== prev) early.push({ offsetMs: s.t - faultAt, macs: s.macs ?? [] });
    prev = key;
  }
  return { ...(answeredAt === undefined ? {} : { answeredAt, failoverMs: answeredAt - faultAt }), early };
}

/** Where the vip runs according to the cluster (first node's API). */
export async function vipHolder(state: LabState, rsc = 'vip'): Promise<string | undefined> {
  const r = await labStatus(state.dir);
  for (const n of r.nodes) if (n.api.ok) return n.api.status.resources?.find((x) => x.id === rsc)?.nodes[0];
  return undefined;
}

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
}
