/**
 * Resource use of lab nodes, read from /proc (Linux): resident memory and CPU time of each
 * node's main process, for the figures of `npm run bench:failover` (rss_mb_max, idle_cpu_pct).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { alive, nodePid, sleep, type LabState } from './lab.js';

export interface ProcUsage {
  /** Resident set size, bytes (VmRSS). */
  readonly rssBytes: number;
  /** Peak resident set size since the process started, bytes (VmHWM). */
  readonly peakRssBytes: number;
  /** User + system CPU time, in clock ticks. */
  readonly cpuTicks: number;
}

let clkTck: number | undefined;
/** Clock ticks per second (getconf CLK_TCK; 100 on Linux when getconf is missing). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** RSS and CPU time of one process; undefined when it is gone. */
export function procUsage(pid: number): ProcUsage | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    const hwmKb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is index 0, utime 11, stime 12 (stat fields 14 and 15).
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    return { rssBytes: rssKb * 1024, peakRssBytes: hwmKb * 1024, cpuTicks };
  } catch {
    return undefined;
  }
}

export interface NodeUsage {
  readonly node: string;
  readonly rssMb: number;
  /** Peak RSS of the node's process since it started (VmHWM). */
  readonly peakRssMb: number;
  /** CPU use over the window, percent of one core. */
  readonly cpuPct: number;
}

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/** Samples every running node's main process over `windowMs` (the cluster should be idle). */
export async function measureNodes(state: LabState, windowMs: number): Promise<NodeUsage[]> {
  const pids = state.nodes.map((n) => ({ node: n.name, pid: nodePid(n) })).filter((p): p is { node: string; pid: number } => alive(p.pid));
  const before = new Map(pids.map((p) => [p.node, procUsage(p.pid)]));
  const t0 = Date.now();
  await sleep(windowMs);
  const secs = (Date.now() - t0) / 1000;
  const out: NodeUsage[] = [];
  for (const p of pids) {
    const a = before.get(p.node);
    const b = procUsage(p.pid);
    if (a === undefined || b === undefined) continue;
    out.push({ node: p.node, rssMb: mb(b.rssBytes), peakRssMb: mb(b.peakRssBytes), cpuPct: Math.round(((b.cpuTicks - a.cpuTicks) / clockTicks() / secs) * 10000) / 100 });
  }
  return out;
}
