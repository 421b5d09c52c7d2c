/**
 * `npm run bench:messaging`: three messaging nodes as separate processes over loopback unicast.
 * Prints ordered messages per second (64 B, 1 KB, 64 KB; every node sending), the time from
 * kill -9 of a node to the new view on both survivors (median of 10), idle CPU and RSS per node,
 * and ends with one line: detect_ms_median=N ordered_msgs_per_s_1k=N idle_cpu_pct=N rss_mb=N.
 *
 * Loopback has a 64 KiB MTU, so the bench raises packetBytesMax to 60000 and fragmentBytesMax to
 * 16384 (the defaults, 1400 and 1200, suit a 1500-byte Ethernet LAN); every other setting is the
 * default. Traffic stays on 127.0.0.1.
 *
 * Side by side, when run as root with corosync installed (corosync-bench.ts): three corosync
 * daemons in network namespaces, kill -9 to new view (median of the same number of rounds), idle
 * CPU and RSS, once with corosync's defaults and once with token 1000. Ordered throughput of
 * corosync is not measured here (its cpgbench is not packaged): that column quotes ANCHORS.md.
 * BENCH_KILL_ROUNDS=N changes the rounds (default 10); BENCH_COROSYNC=0 skips corosync.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCorosync, corosyncUnavailable, type CorosyncFigures } from './corosync-bench.js';

const NODE_MAIN = fileURLToPath(new URL('../driver/node-main.js', import.meta.url));
const CLK_TCK = 100;
const SIZES = [
  { label: '64 B', bytes: 64, count: 60_000 },
  { label: '1 KB', bytes: 1024, count: 60_000 },
  { label: '64 KB', bytes: 65_536, count: 1_500 },
] as const;
const KILL_ROUNDS = Number(process.env.BENCH_KILL_ROUNDS ?? 10);
if (!Number.isInteger(KILL_ROUNDS) || KILL_ROUNDS < 1) throw new Error(`BENCH_KILL_ROUNDS must be a positive integer, not ${process.env.BENCH_KILL_ROUNDS}`);

interface Line {
  ev: string;
  atMs: number;
  members?: number[];
  messages?: number;
}

class NodeProc {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  constructor(config: string) {
    this.child = spawn(process.execPath, [NODE_MAIN, '--config', config, '--join', 'bench'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, i)) as Line);
        buf = buf.slice(i + 1);
      }
    });
  }
  send(cmd: object): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }
  async next(pred: (l: Line) => boolean, timeoutMs: number, what: string, since = 0): Promise<Line> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => l.atMs >= since && pred(l));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }
  async count(): Promise<number> {
    const since = Date.now();
    this.send({ op: 'count' });
    return (await this.next((l) => l.ev === 'count', 10_000, 'a count', since)).messages ?? 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePorts(n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createSocket>>((res) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = socks.map((s) => s.address().port);
  socks.forEach((s) => s.close());
  return ports;
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function throughput(nodes: NodeProc[], bytes: number, count: number): Promise<number> {
  const base = await Promise.all(nodes.map((n) => n.count()));
  const per = Math.floor(count / nodes.length);
  const t0 = performance.now();
  for (const n of nodes) n.send({ op: 'send', group: 'bench', size: bytes, count: per });
  const want = per * nodes.length;
  for (;;) {
    await sleep(20);
    const now = await Promise.all(nodes.map((n) => n.count()));
    if (now.every((c, i) => c - base[i]! >= want)) break;
    if (performance.now() - t0 > 120_000) throw new Error(`throughput run of ${bytes} B stalled at ${now.map((c, i) => c - base[i]!).join('/')} of ${want}`);
  }
  return want / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-bench-msg-'));
  const procs: NodeProc[] = [];
  try {
    const keyPath = join(dir, 'authkey');
    writeFileSync(keyPath, randomBytes(256));
    chmodSync(keyPath, 0o400);
    const ports = await freePorts(3);
    const nodes = ports.map((p, i) => ({ nodeId: i + 1, addresses: [`127.0.0.1:${p}`] }));
    const config = (id: number) => {
      const path = join(dir, `n${id}.json`);
      writeFileSync(path, JSON.stringify({ clusterName: 'bench', nodeId: id, authkeyPath: keyPath, nodes, limits: { packetBytesMax: 60_000, fragmentBytesMax: 16_384, ...JSON.parse(process.env.BENCH_LIMITS ?? '{}') } }));
      return path;
    };
    const paths = [1, 2, 3].map(config);
    const start = (i: number) => {
      const p = new NodeProc(paths[i]!);
      procs.push(p);
      return p;
    };
    const cluster = [start(0), start(1), start(2)];
    for (const n of cluster) await n.next((l) => l.ev === 'view' && l.members?.length === 3, 10_000, 'a view of 3');
    console.log('three nodes up on loopback; measuring idle CPU and RSS for 5 s ...');
    await sleep(1000);
    const pids = cluster.map((n) => n.child.pid!);
    const t0 = cpuTicks(pids[0]!) + cpuTicks(pids[1]!) + cpuTicks(pids[2]!);
    await sleep(5000);
    const t1 = cpuTicks(pids[0]!) + cpuTicks(pids[1]!) + cpuTicks(pids[2]!);
    const idleCpuPct = ((t1 - t0) / CLK_TCK / 5 / 3) * 100;
    const rss = Math.max(...pids.map(rssMb));
    console.log(`idle: ${idleCpuPct.toFixed(2)} % of a core per node, RSS ${rss.toFixed(1)} MB (largest node)`);

    const rates: Record<string, number> = {};
    for (const s of SIZES) {
      console.log(`ordered throughput, ${s.label} messages, ${s.count} in total from all three nodes ...`);
      rates[s.label] = await throughput(cluster, s.bytes, s.count);
      console.log(`  ${s.label}: ${Math.round(rates[s.label]!)} ordered msgs/s`);
    }

    const detections: number[] = [];
    for (let round = 1; round <= KILL_ROUNDS; round++) {
      const victim = cluster[2]!;
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      const seen = await Promise.all(
        cluster.slice(0, 2).map((n) => n.next((l) => l.ev === 'view' && l.members?.join() === '1,2', 10_000, 'the survivors view', killedAt)),
      );
      const ms = Math.max(...seen.map((l) => l.atMs)) - killedAt;
      detections.push(ms);
      console.log(`kill -9 round ${round}/${KILL_ROUNDS}: new view on both survivors after ${ms} ms`);
      const restartedAt = Date.now();
      cluster[2] = start(2);
      for (const n of cluster) await n.next((l) => l.ev === 'view' && l.members?.length === 3, 10_000, 'the rejoin', restartedAt);
    }
    const detectMedian = median(detections);
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    const corosync = await measureCorosync();
    printTable(rates, detectMedian, idleCpuPct, rss, corosync);
    console.log(`detect_ms_median=${detectMedian} ordered_msgs_per_s_1k=${Math.round(rates['1 KB']!)} idle_cpu_pct=${idleCpuPct.toFixed(2)} rss_mb=${rss.toFixed(1)}`);
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Corosync with its defaults, then with token 1000; a reason string instead when it cannot run. */
async function measureCorosync(): Promise<CorosyncFigures[] | string> {
  if (process.env.BENCH_COROSYNC === '0') return 'skipped (BENCH_COROSYNC=0)';
  const why = corosyncUnavailable();
  if (why !== undefined) return `not measured: ${why}`;
  const out: CorosyncFigures[] = [];
  for (const tokenMs of [undefined, 1000]) out.push(await benchCorosync(tokenMs, KILL_ROUNDS, (l) => console.log(l)));
  return out;
}

/** The side-by-side table: paceline, then corosync measured (or the reason it was not), then ANCHORS.md. */
function printTable(rates: Record<string, number>, detectMedian: number, idleCpuPct: number, rss: number, corosync: CorosyncFigures[] | string): void {
  const measured = typeof corosync === 'string' ? [] : corosync;
  const heads = measured.map((c) => `corosync 3.1.7 ${c.setting} (measured, token ${c.effectiveTokenMs} ms)`);
  const row = (cells: string[]) => console.log(`| ${cells.join(' | ')} |`);
  console.log('');
  if (typeof corosync === 'string') console.log(`corosync: ${corosync}`);
  row(['measure', 'paceline', ...heads, 'corosync 3.1.7 (ANCHORS.md)']);
  row(Array.from({ length: heads.length + 3 }, () => '---'));
  const reference: Record<string, string> = {
    '64 B': '~20,000 (one node)',
    '1 KB': '~20,000 (one node)',
    '64 KB': '~20,000 up to 40 kB; ~1 GB/s at 1 MB (one node)',
  };
  for (const s of SIZES) {
    const rate = rates[s.label]!;
    row([`ordered msgs/s, ${s.label}`, `${Math.round(rate)} (${((rate * s.bytes) / 1e6).toFixed(1)} MB/s)`, ...measured.map(() => 'not measured'), reference[s.label]!]);
  }
  row([
    `kill -9 to new view, median of ${KILL_ROUNDS}`,
    `${detectMedian} ms`,
    ...measured.map((c) => `${c.detectMsMedian} ms (log: ${c.logMembershipMsMedian} ms)`),
    '7650 ms defaults, 3470 ms token 1000',
  ]);
  row(['idle CPU per node', `${idleCpuPct.toFixed(2)} %`, ...measured.map((c) => `${c.idleCpuPct.toFixed(2)} %`), '0.7 % (with pacemaker)']);
  row(['RSS per node', `${rss.toFixed(1)} MB`, ...measured.map((c) => `${c.rssMb.toFixed(1)} MB`), '103 MB']);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
