/**
 * `paceline drill lvs`: an LVS director pair (cib-examples/lvs-director.xml in the lab). The
 * floating IP `lvs-vip` and the virtual service `lvs-web` (ocf:paceline:ipvs, colocated with the
 * address and started after it) run on one of two lab nodes; the service is TCP port 80 of the
 * floating IP, weighted round robin over three real servers (weights 3:1:1) in extra namespaces
 * on the lab bridge (rs1..rs3, 10.77.X.51-53, python3's http.server, each page naming its
 * server). This kernel has no IPVS, so the agent runs paceline's userspace director, which
 * forwards by masquerading (a layer-4 proxy): the lab uses method=masq where the example uses
 * route, and no persistence (-p), so that the one client's requests are spread.
 *
 * The agent finds the director through `paceline=LAB_DIR/lvs/paceline`, a wrapper that runs this
 * repository's CLI with the node's own director state directory ($HA_RSCTMP/director): every
 * node has its own director, as on separate machines. The agent runs that CLI once per rule (and
 * for every check), each a Node.js start: on a loaded machine a start takes 10-20 s, so the lab
 * gives lvs-web 90 s to start and 60 s to monitor (the example's 20 s would time out).
 *
 * One run: the client GETs http://VIP/ every 20 ms; the drill powers off the active director.
 * failover_ms: from the fault to the first good answer after the outage; metrics: longest_gap_ms
 * (the longest time without a good answer around the fault), all_servers_back_ms (the fault to
 * the moment every real server had answered again: the agent adds them one at a time) and the
 * answers per real server from then on. Invariants: single-mac, fencing-before-recovery (the lost director fenced
 * before lvs-vip started elsewhere), cib-same-on-every-node, no-resource-left-stopped and
 * spread-over-real-servers (every real server answered after the failover).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labCib, vipHolder, esc, floatingIpPrimitive } from './drill.js';
import { arpHolderAt, fencingInvariant, macTable, servedByOther, lostNodeTimeline, recoveryDc, settledInvariants, singleMacInvariant, verdict, type DrillScenarioDef, type RunCtx, type RunOutcome, READY_MS } from './drill-common.js';
import { plugHost, startHostServer } from './drill-hosts.js';
import { failuresAfter, flapReason, longestGap, serviceBack, watchHttp, type ProbeSample } from './drill-probe.js';
import type { InvariantResult } from './drill-render.js';
import { readNodeLogs } from './drill-timeline.js';
import { backToFull } from './drill-web.js';
import { faults } from './faults.js';
import { repoRoot, sleep, type LabState } from './lab.js';
import { subnet } from './netns.js';
import { analyze, watchIp, type Sample } from './watch.js';

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The real servers: name, last octet, weight. */
export const REAL_SERVERS: readonly { name: string; octet: number; weight: number }[] = [
  { name: 'rs1', octet: 51, weight: 3 },
  { name: 'rs2', octet: 52, weight: 1 },
  { name: 'rs3', octet: 53, weight: 1 },
];

/** The wrapper the ipvs agent runs as `paceline`: this repository's CLI with the node's own director state directory. */
export function directorWrapper(): string {
  return [
    '#!/bin/sh',
    "# paceline for a lab node's ipvs agent: the repository's CLI, with the node's own userspace",
    '# director state directory (in its HA_RSCTMP, which a power cycle clears as it clears /run).',
    'PACELINE_DIRECTOR_DIR="${HA_RSCTMP:?HA_RSCTMP is not set}/director"',
    'export PACELINE_DIRECTOR_DIR',
    `exec ${shq(process.execPath)} ${shq(join(repoRoot, 'packages/cli/bin/paceline.js'))} "$@"`,
    '',
  ].join('\n');
}

/** lvs-director.xml's resources and constraints with the lab's addresses, masq forwarding and the wrapper. */
export function lvsCib(o: { labDir: string; nodes: readonly string[]; stonith: boolean; vip: string; servers: readonly string[]; paceline: string }): string {
  return labCib({
    labDir: o.labDir,
    nodes: o.nodes,
    stonith: o.stonith,
    resources: `${floatingIpPrimitive('lvs-vip', o.vip, '5s', '      ')}
      <primitive id="lvs-web" class="ocf" provider="paceline" type="ipvs">
        <instance_attributes id="lvs-web-ia">
          <nvpair id="lvs-web-service" name="service" value="-t ${esc(o.vip)}:80 -s wrr"/>
          <nvpair id="lvs-web-servers" name="servers" value="${esc(o.servers.join(' '))}"/>
          <nvpair id="lvs-web-method" name="method" value="masq"/>
          <nvpair id="lvs-web-backend" name="backend" value="paceline"/>
          <nvpair id="lvs-web-paceline" name="paceline" value="${esc(o.paceline)}"/>
        </instance_attributes>
        <operations>
          <op id="lvs-web-monitor" name="monitor" interval="10s" timeout="60s"/>
          <op id="lvs-web-start" name="start" interval="0s" timeout="90s"/>
          <op id="lvs-web-stop" name="stop" interval="0s" timeout="60s"/>
        </operations>
      </primitive>
`,
    constraints: `      <rsc_colocation id="lvs-web-with-vip" rsc="lvs-web" with-rsc="lvs-vip" score="INFINITY"/>
      <rsc_order id="lvs-vip-before-web" first="lvs-vip" then="lvs-web" kind="Mandatory"/>
`,
  });
}

export const lvsScenario: DrillScenarioDef = {
  name: 'lvs',
  description: 'power off the active LVS director (IP + ipvs userspace director, 2 nodes, 3 real servers)',
  nodes: 2,
  tools: ['python3'],
  async prepare(p) {
    const base = join(p.dir, 'lvs');
    mkdirSync(base, { recursive: true });
    const wrapper = join(base, 'paceline');
    writeFileSync(wrapper, directorWrapper(), { mode: 0o755 });
    const servers = REAL_SERVERS.map((r) => ({ ...r, address: `${subnet(p.subnetIndex)}.${r.octet}`, root: join(base, r.name) }));
    for (const s of servers) {
      mkdirSync(s.root, { recursive: true });
      writeFileSync(join(s.root, 'index.html'), `${s.name}\n`);
    }
    return {
      cib: lvsCib({ labDir: p.dir, nodes: p.nodes, stonith: p.stonith, vip: p.vip, servers: servers.map((s) => `${s.address}:80@${s.weight}`), paceline: wrapper }),
      async afterUp(lab) {
        for (const s of servers) {
          plugHost(lab, s.name, s.address);
          await startHostServer(lab, s.name, s.address, s.root);
          p.log(`real server ${s.name}: ${s.address}:80 (weight ${s.weight})`);
        }
      },
      run: (lab, c) => lvsRun(lab, c),
    };
  },
};

/** Answers per real server among the good answers sent after `from`. */
export function answersPerServer(samples: readonly ProbeSample[], from: number): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(REAL_SERVERS.map((r) => [r.name, 0]));
  for (const s of samples) if (s.ok && s.sent > from) out[s.text] = (out[s.text] ?? 0) + 1;
  return out;
}

/** spread-over-real-servers: every real server answered after the failover (and nothing else did). */
export function spreadInvariant(per: Readonly<Record<string, number>>): InvariantResult {
  const detail = Object.entries(per).map(([k, v]) => `${k}=${v}`).join(' ');
  const silent = REAL_SERVERS.filter((r) => (per[r.name] ?? 0) === 0).map((r) => r.name);
  const strangers = Object.keys(per).filter((k) => !REAL_SERVERS.some((r) => r.name === k));
  if (silent.length > 0 || strangers.length > 0) return { name: 'spread-over-real-servers', status: 'violated', detail: `${detail}${silent.length ? `; no answer from ${silent.join(',')}` : ''}${strangers.length ? `; unknown answers ${strangers.join(',')}` : ''}` };
  return { name: 'spread-over-real-servers', status: 'ok', detail };
}

/** How long a run waits for the service (and every real server) to answer again after the fault. */
export const RECOVERY_TIMEOUT_MS = 45_000;

/** When every real server had answered (a good answer sent after `back` was sent); undefined: not yet. */
export function allServersBack(samples: readonly ProbeSample[], back: ProbeSample): number | undefined {
  let last = 0;
  for (const r of REAL_SERVERS) {
    const first = samples.filter((s) => s.ok && s.text === r.name && s.sent >= back.sent).sort((a, b) => a.t - b.t)[0];
    if (first === undefined) return undefined;
    last = Math.max(last, first.t);
  }
  return last;
}

/** One lvs run (see the file comment). */
export async function lvsRun(lab: LabState, c: RunCtx): Promise<RunOutcome> {
  const from = await vipHolder(lab, 'lvs-vip');
  if (from === undefined) throw new Error('lvs-vip runs nowhere before the fault');
  const reasons: string[] = [];
  const macs = macTable(lab);
  const arp = watchIp({ netns: lab.client!.netns, ip: c.vip });
  const http = watchHttp({ netns: lab.client!.netns, host: c.vip, intervalMs: 20, timeoutMs: 1000 });
  let faultAt = 0;
  let back: ProbeSample | undefined;
  let arpSamples: Sample[] = [];
  let httpSamples: ProbeSample[] = [];
  try {
    await Promise.all([arp.ready(READY_MS), http.ready(READY_MS)]);
    const end0 = Date.now() + 5000;
    while (new Set(http.samples.filter((s) => s.ok).map((s) => s.text)).size < REAL_SERVERS.length && Date.now() < end0) await sleep(20);
    const before = answersPerServer(http.samples, 0);
    if (REAL_SERVERS.some((r) => before[r.name] === 0)) reasons.push(`before the fault, not every real server answered through ${c.vip} (${JSON.stringify(before)})`);
    await sleep(c.preFaultMs);
    faultAt = await faults(lab.dir).powerOff(from);
    c.log(`power off ${from}`);
    // Until every real server answered again (the agent adds them one by one) and 1 s more.
    const end = faultAt + RECOVERY_TIMEOUT_MS;
    while (Date.now() < end) {
      await sleep(50);
      back = serviceBack(http.samples, faultAt, (x) => servedByOther(macs, arp.samples, x.t, from));
      const all = back === undefined ? undefined : allServersBack(http.samples, back);
      if (all !== undefined && Date.now() - all >= 1000) break;
    }
  } finally {
    [arpSamples, httpSamples] = await Promise.all([arp.stop(), http.stop()]);
  }
  const until = Date.now();
  back = serviceBack(httpSamples, faultAt, (x) => servedByOther(macs, arpSamples, x.t, from));
  const o = analyze(arpSamples, faultAt);
  const to = o.macAfter?.length === 1 ? macs.get(o.macAfter[0]!) : undefined;
  if (back === undefined) reasons.push(httpSamples.some((s) => s.sent > faultAt && !s.ok) ? `no good answer through ${c.vip} within ${RECOVERY_TIMEOUT_MS} ms of the fault` : `no request through ${c.vip} failed after the fault: the fault did not take the service down`);
  const allBack = back === undefined ? undefined : allServersBack(httpSamples, back);
  if (back !== undefined && allBack === undefined) reasons.push(`not every real server answered again within ${RECOVERY_TIMEOUT_MS} ms of the fault`);
  if (to === from) reasons.push(`${c.vip} answers from ${from}, the director that was powered off`);
  const gap = longestGap(httpSamples, faultAt - 1000, until);
  const per = answersPerServer(allBack === undefined ? [] : httpSamples, allBack ?? 0);
  const flaps = back === undefined ? [] : failuresAfter(httpSamples, back);
  if (back !== undefined && flaps.length > 0) reasons.push(flapReason(flaps, back, faultAt, (t) => arpHolderAt(macs, arpSamples, t), 'the service'));
  const settled = await backToFull(lab, from, c, reasons);
  const survivors = lab.nodes.map((n) => n.name).filter((n) => n !== from);
  const logs = readNodeLogs(lab.dir, survivors);
  const fault = `power off ${from}`;
  const timeline = lostNodeTimeline(lab, { faultAt, fault, lost: [from], logs, ...(back === undefined ? {} : { answeredAt: back.t }), ...(to === undefined ? {} : { answeredBy: to }), until });
  const invariants: InvariantResult[] = [
    singleMacInvariant(o.twoMacSamples.length),
    fencingInvariant(c.stonith, logs, recoveryDc(timeline, survivors), from, to, faultAt, 'lvs-vip'),
    ...settledInvariants(settled, lab.nodes.map((n) => n.name)),
    spreadInvariant(per),
  ];
  const run = verdict(c.run, fault, back === undefined ? undefined : back.t - faultAt, reasons, invariants, timeline, from, to);
  return { run: { ...run, metrics: { longest_gap_ms: gap.gapMs, ...(allBack === undefined ? {} : { all_servers_back_ms: allBack - faultAt }), ...per } }, unsettled: settled.length === 0 };
}
