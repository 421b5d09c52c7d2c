/**
 * Bundles (bundle.c, pcmk_sched_bundle.c): each replica is a container primitive
 * (`B-docker-N`, `B-podman-N`, `B-rkt-N`), optionally an IP (`B-ip-ADDR`), and, when the bundle
 * wraps a primitive, a Pacemaker Remote connection `B-N` that makes the container a guest node on
 * which instance N of the wrapped primitive (a clone `B-clone`, or `B-master` when promotable)
 * runs.
 */
import type { Bundle } from '@paceline/cib';
import { SCORE_INFINITY } from '@paceline/cib';
import type { WNode, WRsc } from './work.js';

/** The replica layout read from a bundle's configuration. */
export interface BundleLayout {
  readonly id: string;
  readonly runtime: 'docker' | 'podman' | 'rkt';
  readonly replicas: number;
  readonly replicasPerHost: number;
  readonly promotedMax: number;
  /** IP address per replica (ip-range-start, incremented), when configured. */
  readonly ips: readonly (string | undefined)[];
  /** Whether the wrapped primitive can be managed (ip-range-start or control-port). */
  readonly withRemote: boolean;
}

function intAtLeast(text: string | undefined, min: number, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number.parseInt(text, 10);
  return Number.isNaN(n) ? dflt : Math.max(min, n);
}

/** next_ip: the following IPv4 address, or undefined past x.x.254.254. */
function nextIp(ip: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  let [a, b, c, d] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (c > 253) return undefined;
  if (d > 253) {
    c++;
    d = 1;
  } else d++;
  return `${a}.${b}.${c}.${d}`;
}

export function bundleLayout(b: Bundle): BundleLayout | undefined {
  const c = b.container;
  if (!c) return undefined;
  const promotedMax = intAtLeast(c.promotedMax, 0, 0);
  const replicas = c.replicas === undefined && promotedMax > 0 ? promotedMax : intAtLeast(c.replicas, 1, 1);
  const ipStart = b.network?.ipRangeStart;
  const withRemote = b.primitive !== undefined && (ipStart !== undefined || b.network?.controlPort !== undefined);
  const replicasPerHost = b.network?.controlPort !== undefined && ipStart === undefined ? 1 : intAtLeast(c.replicasPerHost, 1, 1);
  const ips: (string | undefined)[] = [];
  let last: string | undefined;
  for (let i = 0; i < replicas; i++) {
    if (ipStart === undefined) ips.push(undefined);
    else {
      last = last === undefined ? ipStart : nextIp(last);
      ips.push(last);
    }
  }
  return { id: b.id, runtime: c.kind, replicas, replicasPerHost, promotedMax, ips, withRemote };
}

/** The guest node names a bundle creates (`B-0`, `B-1`, ...), when it wraps a primitive. */
export function bundleGuestNames(b: Bundle): string[] {
  const l = bundleLayout(b);
  if (!l || !l.withRemote) return [];
  return Array.from({ length: l.replicas }, (_, i) => `${b.id}-${i}`);
}

/** One replica of a built bundle. */
export interface Replica {
  readonly index: number;
  readonly ip: WRsc | undefined;
  readonly container: WRsc;
  readonly remote: WRsc | undefined;
  readonly child: WRsc | undefined;
  readonly node: WNode | undefined;
}

/** A bundle after building: its replicas and the clone of the wrapped primitive. */
export interface BuiltBundle {
  readonly rsc: WRsc;
  readonly layout: BundleLayout;
  readonly replicas: readonly Replica[];
  readonly clone: WRsc | undefined;
}

/** Restrict each replica's instance to its guest node and keep everything else off those nodes. */
export function pinReplicaInstances(b: BuiltBundle, allResources: Iterable<WRsc>): void {
  const guestNames = new Set(b.replicas.map((r) => r.node?.name).filter((x): x is string => x !== undefined));
  for (const r of allResources) {
    for (const name of guestNames) if (r.allowed.has(name)) r.allowed.set(name, -SCORE_INFINITY);
  }
  for (const rep of b.replicas) {
    if (!rep.child || !rep.node) continue;
    rep.child.allowed.clear();
    rep.child.allowed.set(rep.node.name, 500);
    if (b.clone) b.clone.allowed.set(rep.node.name, -SCORE_INFINITY);
  }
}
