/**
 * The kernel's IPVS schedulers (net/netfilter/ipvs/ip_vs_*.c), pure and deterministic. Each
 * scheduler instance belongs to one service and walks the destinations in the kernel's list
 * order (newest first). Overhead formulas, tie-breaking and comparisons by cross-multiplication
 * follow the kernel; rr/wrr/sh/dh/mh keep the kernel's per-service state.
 */
import { SVC_F } from './model.js';

/** A destination as a scheduler sees it: its rule plus live counters, owned by the director. */
export interface SchedDest {
  readonly addr: number;
  readonly port: number;
  readonly weight: number;
  readonly activeConns: number;
  readonly inactConns: number;
  /** IP_VS_DEST_F_OVERLOAD: set when connections reach the upper threshold. */
  readonly overloaded: boolean;
  /** IP_VS_DEST_F_AVAILABLE: false once removed from the service. */
  readonly available: boolean;
  /** The last non-zero weight (the kernel's last_weight, used by mh); defaults to weight. */
  readonly lastWeight?: number;
}

/** What a scheduler may look at in the first packet of a connection. */
export interface SchedPacket {
  srcAddr: number;
  srcPort: number;
  dstAddr: number;
  dstPort: number;
  nowMs: number;
}

export interface Scheduler {
  readonly name: string;
  /** Called whenever the destination list or a weight changes (the kernel's add/upd/del_dest hooks). */
  update(dests: readonly SchedDest[]): void;
  /** Pick a destination, or undefined ("no destination available"). */
  schedule(dests: readonly SchedDest[], p: SchedPacket): SchedDest | undefined;
}

/** ip_vs_dest_conn_overhead: active x 256 + inactive. */
export function connOverhead(d: SchedDest): number {
  return d.activeConns * 256 + d.inactConns;
}

const usable = (d: SchedDest): boolean => !d.overloaded && d.weight > 0;
const sameDest = (a: { addr: number; port: number }, b: { addr: number; port: number }): boolean => a.addr === b.addr && a.port === b.port;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
function gcdWeight(dests: readonly SchedDest[]): number {
  let g = 0;
  for (const d of dests) if (d.weight > 0) g = g ? gcd(d.weight, g) : d.weight;
  return g || 1;
}

class RoundRobin implements Scheduler {
  readonly name = 'rr';
  /** The last chosen destination (the kernel keeps a list position; removal steps back to the head). */
  private last: { addr: number; port: number } | undefined;
  update(dests: readonly SchedDest[]): void {
    if (this.last && !dests.some((d) => sameDest(d, this.last as SchedDest))) this.last = undefined;
  }
  schedule(dests: readonly SchedDest[]): SchedDest | undefined {
    const n = dests.length;
    const from = this.last ? dests.findIndex((d) => sameDest(d, this.last as SchedDest)) : -1;
    for (let k = 1; k <= n; k++) {
      const d = dests[(from + k) % n]!;
      if (usable(d)) { this.last = { addr: d.addr, port: d.port }; return d; }
    }
    return undefined;
  }
}

class WeightedRoundRobin implements Scheduler {
  readonly name = 'wrr';
  private cl = -1;
  private cw = 0;
  private mw = 0;
  private di = 1;
  update(dests: readonly SchedDest[]): void {
    this.cl = -1;
    this.di = gcdWeight(dests);
    this.mw = Math.max(0, ...dests.map((d) => d.weight)) - (this.di - 1);
    if (this.cw > this.mw || !this.cw) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.trunc(this.cw / this.di) * this.di + 1;
  }
  schedule(dests: readonly SchedDest[]): SchedDest | undefined {
    if (this.mw <= 0) return undefined;
    const last = this.cl;
    let pos = this.cl;
    let stop: number | undefined;
    let lastPass = false;
    let restarted = false;
    for (;;) {
      for (pos = pos + 1; pos < dests.length; pos++) {
        const d = dests[pos]!;
        if (!d.overloaded && d.weight >= this.cw) { this.cl = pos; return d; }
        if (pos === stop) { this.cl = pos; return undefined; }
      }
      pos = -1;
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        if (lastPass || last === -1) { this.cl = -1; return undefined; }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== -1) stop = last;
    }
  }
}

/** Least-connection family helpers: walk in list order, keep the first minimum. */
function leastBy(dests: readonly SchedDest[], skip: (d: SchedDest) => boolean, better: (d: SchedDest, least: SchedDest) => boolean): SchedDest | undefined {
  let least: SchedDest | undefined;
  for (const d of dests) {
    if (skip(d)) continue;
    if (!least || better(d, least)) least = d;
  }
  return least;
}

class LeastConnection implements Scheduler {
  readonly name = 'lc';
  update(): void {}
  schedule(dests: readonly SchedDest[]): SchedDest | undefined {
    return leastBy(dests, (d) => !usable(d), (d, l) => connOverhead(d) < connOverhead(l));
  }
}

/** wlc and the lblc/lblcr fallback: the first usable dest, then loh*w(d) > doh*w(least). */
function weightedLeast(dests: readonly SchedDest[], overhead: (d: SchedDest) => number): SchedDest | undefined {
  const start = dests.findIndex(usable);
  if (start < 0) return undefined;
  let least = dests[start]!;
  let loh = overhead(least);
  for (const d of dests.slice(start + 1)) {
    if (d.overloaded) continue;
    const doh = overhead(d);
    if (loh * d.weight > doh * least.weight) { least = d; loh = doh; }
  }
  return least;
}

class WeightedLeastConnection implements Scheduler {
  readonly name = 'wlc';
  update(): void {}
  schedule(dests: readonly SchedDest[]): SchedDest | undefined { return weightedLeast(dests, connOverhead); }
}

class ShortestExpectedDelay implements Scheduler {
  readonly name = 'sed';
  update(): void {}
  schedule(dests: readonly SchedDest[]): SchedDest | undefined { return weightedLeast(dests, (d) => d.activeConns + 1); }
}

class NeverQueue implements Scheduler {
  readonly name = 'nq';
  update(): void {}
  schedule(dests: readonly SchedDest[]): SchedDest | undefined {
    let least: SchedDest | undefined;
    let loh = 0;
    for (const d of dests) {
      if (!usable(d)) continue;
      const doh = d.activeConns + 1;
      if (d.activeConns === 0) return d;
      if (!least || loh * d.weight > doh * least.weight) { least = d; loh = doh; }
    }
    return least;
  }
}

class WeightedFailover implements Scheduler {
  readonly name = 'fo';
  update(): void {}
  schedule(dests: readonly SchedDest[]): SchedDest | undefined {
    let best: SchedDest | undefined;
    for (const d of dests) if (usable(d) && d.weight > (best?.weight ?? 0)) best = d;
    return best;
  }
}

class WeightedOverflow implements Scheduler {
  readonly name = 'ovf';
  update(): void {}
  schedule(dests: readonly SchedDest[]): SchedDest | undefined {
    let best: SchedDest | undefined;
    for (const d of dests) {
      if (d.overloaded || d.activeConns > d.weight || d.weight === 0) continue;
      if (!best || d.weight > best.weight) best = d;
    }
    return best;
  }
}

/** hash_32(val, bits) with GOLDEN_RATIO_32. */
export function hash32(val: number, bits: number): number {
  return Math.imul(val >>> 0, 0x61c88647) >>> (32 - bits);
}

const SH_TAB_SIZE = 256;

/** Source hashing: 256 buckets filled round the list, each dest taking `weight` buckets in a row. */
class SourceHashing implements Scheduler {
  readonly name = 'sh';
  private buckets: (SchedDest | undefined)[] = [];
  constructor(private readonly flags: number) {}
  update(dests: readonly SchedDest[]): void {
    this.buckets = fillBuckets(dests, SH_TAB_SIZE, (d) => d.weight);
  }
  private key(addr: number, port: number, offset: number): number {
    return (offset + hash32((port + addr) >>> 0, 8)) % SH_TAB_SIZE;
  }
  schedule(_dests: readonly SchedDest[], p: SchedPacket): SchedDest | undefined {
    const port = this.flags & SVC_F.sched2 ? p.srcPort : 0;
    const bad = (d: SchedDest | undefined): boolean => !d || d.weight <= 0 || d.overloaded;
    const ihash = this.key(p.srcAddr, port, 0);
    const first = this.buckets[ihash];
    if (!(this.flags & SVC_F.sched1)) return bad(first) ? undefined : first;
    if (!first) return undefined;
    if (!bad(first)) return first;
    for (let offset = 0; offset < SH_TAB_SIZE; offset++) {
      const d = this.buckets[this.key(p.srcAddr, port, (offset + ihash) % SH_TAB_SIZE)];
      if (!d) break;
      if (!bad(d)) return d;
    }
    return undefined;
  }
}

/** ip_vs_sh_reassign / ip_vs_dh_reassign: walk the list, `turns(dest)` buckets per dest (at least 1). */
function fillBuckets(dests: readonly SchedDest[], size: number, turns: (d: SchedDest) => number): (SchedDest | undefined)[] {
  const out: (SchedDest | undefined)[] = new Array(size).fill(undefined);
  if (dests.length === 0) return out;
  let i = 0;
  let count = 0;
  for (let b = 0; b < size; b++) {
    const d = dests[i]!;
    out[b] = d;
    if (++count >= turns(d)) { i = (i + 1) % dests.length; count = 0; }
  }
  return out;
}

class DestinationHashing implements Scheduler {
  readonly name = 'dh';
  private buckets: (SchedDest | undefined)[] = [];
  update(dests: readonly SchedDest[]): void { this.buckets = fillBuckets(dests, 256, () => 1); }
  schedule(_dests: readonly SchedDest[], p: SchedPacket): SchedDest | undefined {
    const d = this.buckets[Math.imul(p.dstAddr >>> 0, 2654435761 | 0) & 0xff];
    return !d || !d.available || d.weight <= 0 || d.overloaded ? undefined : d;
  }
}

/** lblc/lblcr's is_overloaded: active > weight while some dest is below half its weight. */
function lblcOverloaded(d: SchedDest, dests: readonly SchedDest[]): boolean {
  return d.activeConns > d.weight && dests.some((x) => x.activeConns * 2 < x.weight);
}

/** Expiry of lblc/lblcr cache entries (sysctl lblc_expiration / lblcr_expiration: 24 h). */
export const LBLC_EXPIRATION_MS = 24 * 3600 * 1000;

const current = (d: SchedDest, dests: readonly SchedDest[]): SchedDest | undefined => dests.find((x) => sameDest(x, d));

class LocalityLeastConnection implements Scheduler {
  readonly name = 'lblc';
  private readonly cache = new Map<number, { dest: SchedDest; lastUseMs: number }>();
  update(): void {}
  schedule(dests: readonly SchedDest[], p: SchedPacket): SchedDest | undefined {
    const en = this.cache.get(p.dstAddr);
    if (en && p.nowMs - en.lastUseMs <= LBLC_EXPIRATION_MS) {
      en.lastUseMs = p.nowMs;
      const d = current(en.dest, dests);
      if (d && d.available && d.weight > 0 && !lblcOverloaded(d, dests)) return d;
    }
    const d = weightedLeast(dests, connOverhead);
    if (!d) return undefined;
    this.cache.set(p.dstAddr, { dest: d, lastUseMs: p.nowMs });
    return d;
  }
}

class LocalityLeastConnectionReplicated implements Scheduler {
  readonly name = 'lblcr';
  private readonly cache = new Map<number, { set: SchedDest[]; lastUseMs: number; lastModMs: number }>();
  update(): void {}
  private setMin(set: readonly SchedDest[]): SchedDest | undefined {
    const start = set.findIndex((d) => !d.overloaded && d.weight > 0 && d.available);
    if (start < 0) return undefined;
    let least = set[start]!;
    for (const d of set.slice(start + 1)) {
      if (d.overloaded) continue;
      if (connOverhead(least) * d.weight > connOverhead(d) * least.weight && d.available) least = d;
    }
    return least;
  }
  private setMax(set: readonly SchedDest[]): SchedDest | undefined {
    const start = set.findIndex((d) => d.weight > 0);
    if (start < 0) return undefined;
    let most = set[start]!;
    for (const d of set.slice(start + 1)) if (connOverhead(most) * d.weight < connOverhead(d) * most.weight && d.weight > 0) most = d;
    return most;
  }
  schedule(dests: readonly SchedDest[], p: SchedPacket): SchedDest | undefined {
    const en = this.cache.get(p.dstAddr);
    if (en && p.nowMs - en.lastUseMs <= LBLC_EXPIRATION_MS) {
      en.lastUseMs = p.nowMs;
      en.set = en.set.map((d) => current(d, dests) ?? { ...d, available: false });
      const d = this.setMin(en.set);
      if (en.set.length > 1 && p.nowMs - en.lastModMs > LBLC_EXPIRATION_MS) {
        const m = this.setMax(en.set);
        if (m) { en.set = en.set.filter((x) => x !== m); en.lastModMs = p.nowMs; }
      }
      if (d && !lblcOverloaded(d, dests)) return d;
      const n = weightedLeast(dests, connOverhead);
      if (!n) return undefined;
      if (!en.set.some((x) => sameDest(x, n))) { en.set = [n, ...en.set]; en.lastModMs = p.nowMs; }
      return n;
    }
    const n = weightedLeast(dests, connOverhead);
    if (!n) return undefined;
    this.cache.set(p.dstAddr, { set: [n], lastUseMs: p.nowMs, lastModMs: p.nowMs });
    return n;
  }
}

export { MaglevHashing } from './maglev.js';
import { MaglevHashing } from './maglev.js';

/** Create the named scheduler for a service with the given flags; undefined for unknown names. */
export function createScheduler(name: string, flags: number): Scheduler | undefined {
  switch (name) {
    case 'rr': return new RoundRobin();
    case 'wrr': return new WeightedRoundRobin();
    case 'lc': return new LeastConnection();
    case 'wlc': return new WeightedLeastConnection();
    case 'sed': return new ShortestExpectedDelay();
    case 'nq': return new NeverQueue();
    case 'fo': return new WeightedFailover();
    case 'ovf': return new WeightedOverflow();
    case 'sh': return new SourceHashing(flags);
    case 'dh': return new DestinationHashing();
    case 'lblc': return new LocalityLeastConnection();
    case 'lblcr': return new LocalityLeastConnectionReplicated();
    case 'mh': return new MaglevHashing(flags);
    default: return undefined;
  }
}
