/**
 * `npm run bench:failover`: three nodes in network namespaces, a floating IP and a Dummy
 * colocated with it, fencing through fence_lab; the node holding the IP is powered off (kill -9
 * of every process, links down) RUNS times while a client pings the IP every 10 ms. Idle CPU and
 * RSS are measured on the settled cluster before the first run. Ends with one line:
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
    await new Promise((r) => setTimeout(r, 3000));
    const usage = await measureNodes(lab, 10_000);
    log(`idle: ${usage.map((u) => `${u.node} ${u.rssMb} MB ${u.cpuPct}%`).join(', ')}`);
    for (let i = 0; i < runs; i++) {
      const r = await vipFailoverRun(lab, { vip, progress: log });
      results.push(r);
      log(`run ${i + 1}/${runs}: ${r.passed ? 'passed' : `FAILED (${r.reasons.join('; ')})`} ${r.from} -> ${r.to ?? '?'} failover_ms=${r.failover_ms ?? 'none'}`);
    }
    if (flag('--json')) process.stdout.write(`${JSON.stringify({ runs: results }, null, 2)}\n`);
    const ms = results.filter((r) => r.failover_ms !== undefined).map((r) => r.failover_ms!);
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
