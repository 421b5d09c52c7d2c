/**
 * `npm run bench:failover`: three nodes in network namespaces, a floating IP and a Dummy
 * colocated with it, fencing through fence_lab; the node holding the IP is powered off (kill -9
 * of every process, links down) RUNS times while a client pings the IP every 10 ms. Idle CPU and
 * RSS are measured on the settled cluster before the first run, once nothing has happened for
 * IDLE_AFTER_MS (the scheduler's thread, started on demand, has stopped by then), over a window
 * of IDLE_WINDOW_MS, as the Pacemaker lab measures its own (ANCHORS.md: 60 s windows). CPU is
 * the node process's own (every thread), not the resource agents' it runs. The peak RSS of the
 * surviving nodes over the whole series (VmHWM) is printed too. Ends with one line:
 *   failover_ms_median=N rss_mb_max=N idle_cpu_pct=N
 *
 * Options: --runs N (10), --no-stonith (stonith-enabled=false, no fence device), --keep (leave the
 * lab up), --dir DIR, --json (also print every run as JSON). Needs root, ip, nft, ping, python3.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatingIpCib, median, vipFailoverRun, type FailoverRun } from '../drill.js';
import { labDown, labUp } from '../lab.js';
import { pickSubnetIndex, vipAddress } from '../netns.js';
import { measureNodes } from '../usage.js';

const args = process.argv.slice(2);
const flag = (f: string): boolean => args.includes(f);
const value = (f: string, d: string): string => {
  const i = args.indexOf(f);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : d;
};

/** Quiet time before the idle measurement: longer than the scheduler thread's idle stop (30 s). */
const IDLE_AFTER_MS = 40_000;
/** The Pacemaker lab's window (anchors/pacemaker-lab run-all.sh: IDLE_SECONDS=60, after settling and 10 s). */
const IDLE_WINDOW_MS = 60_000;

async function main(): Promise<number> {
  const runs = Number(value('--runs', '10'));
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive whole number');
  const stonith = !flag('--no-stonith');
  const ownDir = !args.includes('--dir');
  const dir = ownDir ? mkdtempSync(join(tmpdir(), 'paceline-bench-failover-')) : value('--dir', '');
  const name = 'bench';
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  const index = pickSubnetIndex();
  const vip = vipAddress(index);
  const nodes = ['node1', 'node2', 'node3'];
  const cib = join(dir, 'cib.xml');
  writeFileSync(cib, floatingIpCib({ vip, labDir: dir, nodes, stonith }));
  const results: FailoverRun[] = [];
  try {
    const lab = await labUp({ name, nodes: 3, driver: 'netns', dir, cib, subnetIndex: index, settleTimeoutMs: 60_000, progress: log });
    log(`waiting ${IDLE_AFTER_MS / 1000} s for the cluster to be idle, then measuring for ${IDLE_WINDOW_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, IDLE_AFTER_MS));
    const usage = await measureNodes(lab, IDLE_WINDOW_MS);
    log(`idle: ${usage.map((u) => `${u.node} ${u.rssMb} MB ${u.cpuPct}%`).join(', ')}`);
    for (let i = 0; i < runs; i++) {
      const r = await vipFailoverRun(lab, { vip, progress: log });
      results.push(r);
      log(`run ${i + 1}/${runs}: ${r.passed ? 'passed' : `FAILED (${r.reasons.join('; ')})`} ${r.from} -> ${r.to ?? '?'} failover_ms=${r.failover_ms ?? 'none'}`);
    }
    if (flag('--json')) process.stdout.write(`${JSON.stringify({ runs: results }, null, 2)}\n`);
    const ms = results.filter((r) => r.failover_ms !== undefined).map((r) => r.failover_ms!);
    const peak = await measureNodes(lab, 0);
    log(`peak RSS over the series (VmHWM, nodes that were not restarted last): ${peak.map((u) => `${u.node} ${u.peakRssMb} MB`).join(', ')}`);
    const rss = Math.max(...usage.map((u) => u.rssMb));
    const cpu = Math.max(...usage.map((u) => u.cpuPct));
    process.stdout.write(`failover_ms_median=${median(ms) ?? 'none'} rss_mb_max=${Math.round(rss)} idle_cpu_pct=${cpu}\n`);
    return results.every((r) => r.passed) ? 0 : 1;
  } finally {
    if (!flag('--keep')) {
      await labDown(dir, { name });
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench-failover: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
