/**
 * The fencer's pure parts: fencing topology (which devices fence a node, level by level) and the
 * fence history every member keeps (bounded, mergeable, so that the members' histories agree).
 *
 * Fencing topology (Pacemaker Explained, "Fencing Topology"): `<fencing-level id index devices>`
 * in `<fencing-topology>`, naming its targets with `target` (a node name), `target-pattern` (an
 * extended regular expression matched against the node name) or `target-attribute` with
 * `target-value` (a node attribute of the configuration's nodes section). A node's levels are those
 * of one target specification, as Pacemaker's fencer finds them: the levels naming it exactly,
 * otherwise those of the first pattern or attribute (in document order) that matches it. Level 1
 * is tried first; a level succeeds when every one of its devices does, in order; on a failure the
 * next level is tried. A reboot through a level of several devices is done as "off" on each, then
 * "on" on each (Pacemaker's remapped reboot); once the offs succeeded, failed ons do not fail it.
 *
 * The fence history is a list of outcomes ordered by completion time, at most
 * FENCE_HISTORY_ENTRIES_MAX long; `stonith_admin --cleanup --history` leaves a marker ("cleared
 * up to this time, for this target or all") so that a member that missed the cleanup cannot bring
 * the cleared entries back when histories are merged at a join. Merging is a union by entry id
 * then the same bound, so it is commutative and every member ends with the same list.
 */
import { childElements, firstChild, type XmlElement } from '@paceline/cib';

/** The fence history keeps at most this many outcomes (Pacemaker's fencer keeps 500 too). */
export const FENCE_HISTORY_ENTRIES_MAX = 500;

/** One level of a node's fencing topology. */
export interface FenceLevel {
  readonly id: string;
  /** 1 to 9: the order in which levels are tried. */
  readonly index: number;
  /** Device ids, in the order they run. */
  readonly devices: readonly string[];
}

function targetSpec(level: XmlElement): string | undefined {
  const a = level.attrs;
  if (a['target'] !== undefined) return `target=${a['target']}`;
  if (a['target-pattern'] !== undefined) return `pattern=${a['target-pattern']}`;
  if (a['target-attribute'] !== undefined) return `attribute=${a['target-attribute']}=${a['target-value'] ?? ''}`;
  return undefined;
}

/** The permanent attributes of node `name` in the configuration's nodes section. */
function nodeAttributes(cib: XmlElement, name: string): Map<string, string> {
  const out = new Map<string, string>();
  const config = firstChild(cib, 'configuration');
  const nodes = config ? firstChild(config, 'nodes') : undefined;
  for (const n of nodes ? childElements(nodes, 'node') : []) {
    if (n.attrs['uname'] !== name) continue;
    for (const set of childElements(n, 'instance_attributes')) {
      for (const nv of childElements(set, 'nvpair')) if (nv.attrs['name'] !== undefined) out.set(nv.attrs['name'], nv.attrs['value'] ?? '');
    }
  }
  return out;
}

function specMatches(level: XmlElement, target: string, attrs: () => Map<string, string>): boolean {
  const a = level.attrs;
  if (a['target'] !== undefined) return a['target'] === target;
  if (a['target-pattern'] !== undefined) {
    try {
      return new RegExp(a['target-pattern']).test(target);
    } catch {
      return false; // The validator reports the bad pattern; the level fences nothing.
    }
  }
  if (a['target-attribute'] !== undefined) return attrs().get(a['target-attribute']) === (a['target-value'] ?? '');
  return false;
}

/**
 * The fencing levels for `target` in `cib`, lowest index first; empty when the topology has none
 * for it (its fencing then uses every device that can fence it). Levels without devices or with
 * an index outside 1-9 are ignored; of two levels with one index, the later one counts.
 */
export function fenceLevelsFor(cib: XmlElement, target: string): FenceLevel[] {
  const config = firstChild(cib, 'configuration');
  const topology = config ? firstChild(config, 'fencing-topology') : undefined;
  if (!topology) return [];
  const all = childElements(topology, 'fencing-level');
  let attrs: Map<string, string> | undefined;
  const lazyAttrs = (): Map<string, string> => (attrs ??= nodeAttributes(cib, target));
  const exact = all.filter((l) => l.attrs['target'] === target);
  let chosen = exact;
  if (chosen.length === 0) {
    const first = all.find((l) => l.attrs['target'] === undefined && specMatches(l, target, lazyAttrs));
    const spec = first ? targetSpec(first) : undefined;
    chosen = spec === undefined ? [] : all.filter((l) => targetSpec(l) === spec);
  }
  const byIndex = new Map<number, FenceLevel>();
  for (const l of chosen) {
    const index = Number(l.attrs['index']);
    const devices = (l.attrs['devices'] ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '');
    if (!Number.isInteger(index) || index < 1 || index > 9 || devices.length === 0) continue;
    byIndex.set(index, { id: l.attrs['id'] ?? `level-${index}`, index, devices });
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** What one level (or, without topology, one device) did during a fencing operation. */
export interface FenceLevelAttempt {
  /** The topology level; absent without topology. */
  readonly level?: number;
  readonly devices: readonly string[];
  readonly ok: boolean;
  /** Why it failed (the failing device's error). */
  readonly reason?: string;
}

/** One fencing outcome, as every member records it. */
export interface FenceHistoryRecord {
  /** Unique in the cluster: the fencing node and its own sequence. */
  readonly id: string;
  readonly target: string;
  readonly action: string;
  readonly ok: boolean;
  /** The node whose executor ran the device(s). */
  readonly by: string;
  /** The device that fenced (or failed), or the devices of the level, comma-separated. */
  readonly device: string | undefined;
  readonly reason?: string;
  /** When it completed, wall clock ms of the fencing node. */
  readonly wallMs: number;
  /** The topology level that fenced the target (or the last one tried, when all failed). */
  readonly level?: number;
  /** The devices of that level. */
  readonly devices?: readonly string[];
  /** Every level tried, in order (topology only). */
  readonly attempts?: readonly FenceLevelAttempt[];
  /** Requested by an administrator (stonith_admin) rather than by a transition. */
  readonly manual?: boolean;
}

/** The fence history with its cleanup markers (target, or '*' for all, -> cleared up to this wall ms). */
export interface FenceHistoryState {
  readonly entries: readonly FenceHistoryRecord[];
  readonly cleared: Readonly<Record<string, number>>;
}

export const EMPTY_FENCE_HISTORY: FenceHistoryState = { entries: [], cleared: {} };

function byTime(a: FenceHistoryRecord, b: FenceHistoryRecord): number {
  return a.wallMs - b.wallMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function isCleared(e: FenceHistoryRecord, cleared: Readonly<Record<string, number>>): boolean {
  const all = cleared['*'];
  const mine = cleared[e.target];
  return (all !== undefined && e.wallMs <= all) || (mine !== undefined && e.wallMs <= mine);
}

/**
 * The union of two histories (entries by id, markers by their latest time), without cleared
 * entries, oldest first, bounded to the newest `max`. Commutative and associative: members that
 * merge the same histories in any order hold the same one.
 */
export function mergeFenceHistory(a: FenceHistoryState, b: FenceHistoryState, max = FENCE_HISTORY_ENTRIES_MAX): FenceHistoryState {
  const cleared: Record<string, number> = { ...a.cleared };
  for (const [k, v] of Object.entries(b.cleared)) cleared[k] = Math.max(cleared[k] ?? -Infinity, v);
  const byId = new Map<string, FenceHistoryRecord>();
  for (const e of [...a.entries, ...b.entries]) {
    const had = byId.get(e.id);
    // The same id twice (a replay): keep one, chosen the same way everywhere.
    if (!had || JSON.stringify(e) < JSON.stringify(had)) byId.set(e.id, e);
  }
  const entries = [...byId.values()].filter((e) => !isCleared(e, cleared)).sort(byTime);
  return { entries: entries.slice(Math.max(0, entries.length - max)), cleared };
}

/** A short digest of a history (to tell, from the join's hellos, whether the members' differ). */
export function fenceHistoryDigest(h: FenceHistoryState): string {
  // FNV-1a over the ids and the markers: equal histories give equal digests.
  const text = `${h.entries.map((e) => e.id).join(',')}|${Object.entries(h.cleared).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',')}`;
  let x = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    x ^= text.charCodeAt(i);
    x = Math.imul(x, 0x01000193) >>> 0;
  }
  return `${h.entries.length}:${x.toString(16)}`;
}

/** Reads a history received from a peer or a disk; entries that are not well-formed are dropped. */
export function readFenceHistory(v: unknown): FenceHistoryState {
  if (typeof v !== 'object' || v === null) return EMPTY_FENCE_HISTORY;
  const raw = v as { entries?: unknown; cleared?: unknown };
  const entries = Array.isArray(raw.entries) ? raw.entries.filter(isRecord) : [];
  const cleared: Record<string, number> = {};
  if (typeof raw.cleared === 'object' && raw.cleared !== null) {
    for (const [k, t] of Object.entries(raw.cleared as Record<string, unknown>)) if (typeof t === 'number' && Number.isFinite(t)) cleared[k] = t;
  }
  return { entries, cleared };
}

function isRecord(e: unknown): e is FenceHistoryRecord {
  if (typeof e !== 'object' || e === null) return false;
  const r = e as Record<string, unknown>;
  return typeof r['id'] === 'string' && typeof r['target'] === 'string' && typeof r['action'] === 'string' && typeof r['ok'] === 'boolean' && typeof r['by'] === 'string' && typeof r['wallMs'] === 'number';
}
