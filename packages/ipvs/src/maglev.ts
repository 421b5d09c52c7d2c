/**
 * The kernel's maglev hashing scheduler (ip_vs_mh.c): a 4093-entry lookup table (the default
 * CONFIG_IP_VS_MH_TAB_INDEX 12) filled from
 * per-destination permutations (offset and skip from hsiphash of the destination address +
 * port with the kernel's fixed keys), weights scaled by their gcd; lookups hash the source
 * address (+ port with flag-2 "mh-port"); flag-1 "mh-fallback" walks on past unavailable dests.
 */
import { SVC_F } from './model.js';
import type { SchedDest, SchedPacket, Scheduler } from './schedulers.js';

/** primes[CONFIG_IP_VS_MH_TAB_INDEX - 8] with the default index 12. */
const MH_TAB_SIZE = 4093;
/** CONFIG_IP_VS_MH_TAB_INDEX / 2. */
const MH_TAB_BITS = 6;
const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;

/** hsiphash on 64-bit kernels: SipHash-1-3 over one u32, result truncated to 32 bits. */
export function hsiphash32(value: number, k0: bigint, k1: bigint): number {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const b = (4n << 56n) | BigInt(value >>> 0);
  v3 ^= b; round(); v0 ^= b;
  v2 ^= 0xffn; round(); round(); round();
  return Number((v0 ^ v1 ^ v2 ^ v3) & 0xffffffffn);
}

const HASH1: [bigint, bigint] = [2654435761n, 2654435761n];
const HASH2: [bigint, bigint] = [2654446892n, 2654446892n];

function mhKey(addr: number, port: number, key: [bigint, bigint], offset: number): number {
  return hsiphash32((offset + port + addr) >>> 0, key[0], key[1]);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export class MaglevHashing implements Scheduler {
  readonly name = 'mh';
  private lookup: (SchedDest | undefined)[] = [];
  constructor(private readonly flags: number) {}

  update(dests: readonly SchedDest[]): void {
    this.lookup = new Array(MH_TAB_SIZE).fill(undefined);
    if (dests.length === 0) return;
    // The kernel builds the table from last_weight: a quiescent (weight 0) dest keeps its slots.
    const lw = (d: SchedDest): number => d.lastWeight ?? d.weight;
    let g = 0;
    for (const d of dests) if (lw(d) > 0) g = g ? gcd(lw(d), g) : lw(d);
    if (g < 1) return;
    const mw = Math.trunc(Math.max(...dests.map(lw)) / g);
    const rshift = Math.max(0, (mw > 0 ? 32 - Math.clz32(mw) : 0) - MH_TAB_BITS);
    const setup = dests.map((d) => {
      const offset = mhKey(d.addr, d.port, HASH1, 0) % MH_TAB_SIZE;
      const skip = (mhKey(d.addr, d.port, HASH2, 0) % (MH_TAB_SIZE - 1)) + 1;
      const turns = Math.trunc(lw(d) / g) >> rshift || (lw(d) !== 0 ? 1 : 0);
      return { perm: offset, skip, turns };
    });
    const used = new Uint8Array(MH_TAB_SIZE);
    let filled = 0;
    if (setup.every((s) => s.turns === 0)) return;
    for (let di = 0; filled < MH_TAB_SIZE; di = (di + 1) % dests.length) {
      const ds = setup[di]!;
      for (let i = 0; i < ds.turns && filled < MH_TAB_SIZE; i++) {
        let c = ds.perm;
        while (used[c]) {
          ds.perm += ds.skip;
          if (ds.perm >= MH_TAB_SIZE) ds.perm -= MH_TAB_SIZE;
          c = ds.perm;
        }
        used[c] = 1;
        this.lookup[c] = dests[di];
        filled++;
      }
    }
  }

  schedule(_dests: readonly SchedDest[], p: SchedPacket): SchedDest | undefined {
    const port = this.flags & SVC_F.sched2 ? p.srcPort : 0;
    const bad = (d: SchedDest): boolean => d.weight <= 0 || d.overloaded;
    const ihash = mhKey(p.srcAddr, port, HASH1, 0) % MH_TAB_SIZE;
    const first = this.lookup[ihash];
    if (!first) return undefined;
    if (!bad(first)) return first;
    if (!(this.flags & SVC_F.sched1)) return undefined;
    for (let offset = 0; offset < MH_TAB_SIZE; offset++) {
      const d = this.lookup[mhKey(p.srcAddr, port, HASH1, (offset + ihash) % MH_TAB_SIZE) % MH_TAB_SIZE];
      if (!d) break;
      if (!bad(d)) return d;
    }
    return undefined;
  }
}
