/**
 * CIB versions: the (admin_epoch, epoch, num_updates) triple on the `<cib>` root.
 *
 * Pacemaker orders versions by admin_epoch, then epoch, then num_updates; a missing or
 * unparsable counter counts as 0. A change under `<configuration>` bumps epoch and resets
 * num_updates to 0; any other change (status, root attributes) bumps num_updates.
 */
import type { XmlElement } from './xml.js';
import { firstChild } from './xml.js';

export interface CibVersion {
  readonly adminEpoch: number;
  readonly epoch: number;
  readonly numUpdates: number;
}

/** The three version attributes, in Pacemaker's order of significance. */
export const versionAttrs = ['admin_epoch', 'epoch', 'num_updates'] as const;

/** Parses a counter as Pacemaker's crm_element_value_int does: leading integer, else 0; negatives count as 0. */
export function parseCounter(value: string | undefined): number {
  if (value === undefined) return 0;
  const m = /^\s*[+-]?\d+/.exec(value);
  if (!m) return 0;
  const n = Number.parseInt(m[0], 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

export function readVersion(cib: XmlElement): CibVersion {
  return {
    adminEpoch: parseCounter(cib.attrs['admin_epoch']),
    epoch: parseCounter(cib.attrs['epoch']),
    numUpdates: parseCounter(cib.attrs['num_updates']),
  };
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareCibVersions(a: CibVersion, b: CibVersion): number {
  if (a.adminEpoch !== b.adminEpoch) return a.adminEpoch - b.adminEpoch;
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  return a.numUpdates - b.numUpdates;
}

export function formatVersion(v: CibVersion): string {
  return `${v.adminEpoch}.${v.epoch}.${v.numUpdates}`;
}

/** Sets attributes on an element: existing ones keep their position, new ones are appended. */
export function withAttrs(el: XmlElement, changes: Readonly<Record<string, string>>): XmlElement {
  const attrs: Record<string, string> = { ...el.attrs };
  let changed = false;
  for (const k in changes) {
    if (attrs[k] !== changes[k]) {
      attrs[k] = changes[k]!;
      changed = true;
    }
  }
  return changed ? { ...el, attrs } : el;
}

/** The cib root with its version set to `v` (attributes it lacks are appended). */
export function withVersion(cib: XmlElement, v: CibVersion): XmlElement {
  return withAttrs(cib, {
    admin_epoch: String(v.adminEpoch),
    epoch: String(v.epoch),
    num_updates: String(v.numUpdates),
  });
}

/** Structural equality of two subtrees (attribute order and child order count); shared nodes are equal at once. */
export function sameTree(a: XmlElement | undefined, b: XmlElement | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.name !== b.name || a.children.length !== b.children.length) return false;
  const ak = Object.keys(a.attrs);
  const bk = Object.keys(b.attrs);
  if (ak.length !== bk.length) return false;
  for (let i = 0; i < ak.length; i++) if (ak[i] !== bk[i] || a.attrs[ak[i]!] !== b.attrs[ak[i]!]) return false;
  for (let i = 0; i < a.children.length; i++) {
    const x = a.children[i]!;
    const y = b.children[i]!;
    if (x === y) continue;
    if (x.kind !== y.kind) return false;
    if (x.kind === 'element') {
      if (!sameTree(x, y as XmlElement)) return false;
    } else if (x.text !== (y as { text: string }).text) return false;
  }
  return true;
}

/** What kind of change leads from `before` to `after`, as Pacemaker's change tracking classifies it. */
export type ChangeKind = 'none' | 'status' | 'configuration';

/** Root attributes that are version counters: a change to them alone is not a change of content. */
function rootWithoutVersion(el: XmlElement): XmlElement {
  const attrs: Record<string, string> = {};
  for (const k in el.attrs) if (k !== 'admin_epoch' && k !== 'epoch' && k !== 'num_updates') attrs[k] = el.attrs[k]!;
  return { ...el, attrs };
}

export function classifyChange(before: XmlElement, after: XmlElement): ChangeKind {
  if (before === after) return 'none';
  if (!sameTree(firstChild(before, 'configuration'), firstChild(after, 'configuration'))) return 'configuration';
  return sameTree(before, after) ? 'none' : 'status';
}

/**
 * Sets the version of `after`, an edited copy of `before`, as the CIB manager does after an
 * operation: a configuration change bumps epoch (from `after`'s own epoch, so an operation that
 * set it, like bump, counts) and resets num_updates; any other change bumps num_updates; no change
 * leaves `after` as it is. Counter edits made by the operation itself are kept (bump, erase).
 */
export function applyChange(before: XmlElement, after: XmlElement): XmlElement {
  const kind = classifyChange(before, after);
  if (kind === 'none') return after;
  const v = readVersion(after);
  if (kind === 'configuration') return withVersion(after, { ...v, epoch: v.epoch + 1, numUpdates: 0 });
  return withVersion(after, { ...v, numUpdates: v.numUpdates + 1 });
}

/** True when the configuration is identical and only the counters or status differ. */
export function isStatusOnlyChange(before: XmlElement, after: XmlElement): boolean {
  return classifyChange(before, after) === 'status';
}

/** Exposed for callers that compare content while ignoring the counters. */
export function sameContentIgnoringVersion(a: XmlElement, b: XmlElement): boolean {
  return sameTree(rootWithoutVersion(a), rootWithoutVersion(b));
}
