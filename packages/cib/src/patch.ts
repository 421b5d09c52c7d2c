/**
 * Diff and patch in Pacemaker's `<diff format="2">` patchset format, as crm_diff and
 * `cibadmin --patch` use it.
 *
 * `diffCib` follows Pacemaker's change detection step by step (children matched by tag and id,
 * id-less elements by tag, comments by position and text; moves found by comparing positions
 * that skip nodes already accounted for), so the patch it writes is the one crm_diff writes for
 * the same pair. `applyPatch` follows Pacemaker's application: version check first, then
 * deletes and modifies in order, then creates and moves sorted by position. Any failure returns
 * an error value and the input tree is untouched (it is immutable; the result shares every
 * subtree the patch does not touch).
 */
import { createHash } from 'node:crypto';
import type { CibErrorCode, CibResult } from './errors.js';
import { cibFail, cibOk } from './errors.js';
import { parseCounter, versionAttrs } from './version.js';
import type { XmlElement, XmlNode } from './xml.js';
import { element, writeElement } from './xml.js';

// ---------------------------------------------------------------------------------------------
// Diff

/** Working node of the diff: Pacemaker's change flags live here, never on the input trees. */
class DNode {
  /** Element name, or libxml2's node name for comments ("comment") and text ("text"). */
  readonly name: string;
  readonly id: string | undefined;
  private skipFlag = false;
  processed = false;
  /** The same object on both sides and addressable by paths: nothing below can differ. */
  same = false;
  created = false;
  moved = false;
  /** Attribute changes for a modify, in Pacemaker's order; undefined when none. */
  attrChanges: AttrChange[] | undefined;
  /** First child element per `name\0id` (or `name` for the first of that tag), built on demand. */
  index: Map<string, DNode> | undefined;
  private kids: DNode[] | undefined;

  /** Fenwick tree over the children's skip flags: positions in O(log n), not O(siblings). */
  private skipCounts: Int32Array | undefined;

  constructor(
    readonly node: XmlNode,
    readonly parent: DNode | undefined,
    /** Index among the parent's children. */
    readonly index0: number,
  ) {
    this.name = nodeName(node);
    this.id = node.kind === 'element' ? node.attrs['id'] : undefined;
  }

  /** Children, wrapped on first use. */
  get children(): DNode[] {
    if (!this.kids) this.kids = this.node.kind === 'element' ? this.node.children.map((c, i) => new DNode(c, this, i)) : [];
    return this.kids;
  }

  get skip(): boolean {
    return this.skipFlag;
  }

  set skip(value: boolean) {
    if (value === this.skipFlag) return;
    this.skipFlag = value;
    if (this.parent) this.parent.addSkipped(this.index0, value ? 1 : -1);
  }

  private addSkipped(index: number, delta: number): void {
    const counts = (this.skipCounts ??= new Int32Array(this.children.length + 1));
    for (let i = index + 1; i < counts.length; i += i & -i) counts[i]! += delta;
  }

  /** How many of the first `count` children are flagged skip. */
  skippedBefore(count: number): number {
    const counts = this.skipCounts;
    if (!counts) return 0;
    let sum = 0;
    for (let i = count; i > 0; i -= i & -i) sum += counts[i]!;
    return sum;
  }
}

interface AttrChange {
  readonly name: string;
  readonly op: 'set' | 'unset';
  readonly value?: string;
}

function nodeName(n: XmlNode): string {
  return n.kind === 'element' ? n.name : n.kind;
}

/** Position among siblings, not counting those flagged skip (pcmk__xml_position). */
function skipPosition(d: DNode): number {
  return d.parent ? d.index0 - d.parent.skippedBefore(d.index0) : 0;
}

function plainPosition(d: DNode): number {
  return d.index0;
}

/** Pacemaker's pcmk__xe_match: the first child element with the tag and (when given) the id. */
function matchElement(haystack: DNode, needle: DNode): DNode | undefined {
  if (!haystack.index) {
    const index = new Map<string, DNode>();
    for (const c of haystack.children) {
      if (c.node.kind !== 'element') continue;
      if (!index.has(c.name)) index.set(c.name, c);
      if (c.id !== undefined && !index.has(`${c.name}\0${c.id}`)) index.set(`${c.name}\0${c.id}`, c);
    }
    haystack.index = index;
  }
  return haystack.index.get(needle.id === undefined ? needle.name : `${needle.name}\0${needle.id}`);
}

/** Pacemaker's exact comment match: the node at the same (skip-adjusted) position, same text ignoring case. */
function matchCommentLike(haystack: DNode, needle: DNode): DNode | undefined {
  const want = skipPosition(needle);
  const text = (needle.node as { text: string }).text.toLowerCase();
  for (const c of haystack.children) {
    const pos = skipPosition(c);
    if (pos < want) continue;
    if (pos > want) return undefined;
    if (c.skip) continue;
    if (c.node.kind === needle.node.kind && (c.node as { text: string }).text.toLowerCase() === text) return c;
    return undefined;
  }
  return undefined;
}

function match(haystack: DNode, needle: DNode): DNode | undefined {
  return needle.node.kind === 'element' ? matchElement(haystack, needle) : matchCommentLike(haystack, needle);
}

/** Pacemaker's xpath for a node: each ancestor's tag with `[@id='...']` when it has an id. */
function dnodePath(d: DNode): string {
  const parts: string[] = [];
  for (let cur: DNode | undefined = d; cur; cur = cur.parent) {
    parts.push(cur.id === undefined ? `/${cur.name}` : `/${cur.name}[@id='${cur.id}']`);
  }
  return parts.reverse().join('');
}

/** Attribute positions skipping attributes flagged skip (per side). */
function attrPosition(names: readonly string[], skipped: ReadonlySet<string>, name: string): number {
  let pos = 0;
  for (const n of names) {
    if (n === name) return pos;
    if (!skipped.has(n)) pos++;
  }
  return pos;
}

function diffAttrs(o: DNode, n: DNode): void {
  if (o.node.kind !== 'element' || n.node.kind !== 'element') return;
  const oldAttrs = o.node.attrs;
  const newAttrs = n.node.attrs;
  if (oldAttrs === newAttrs) return;
  const oldNames = Object.keys(oldAttrs);
  const newNames = Object.keys(newAttrs);
  if (oldNames.length === newNames.length && oldNames.every((k, i) => newNames[i] === k && newAttrs[k] === oldAttrs[k])) return;
  const oldSkip = new Set<string>();
  const newSkip = new Set<string>();
  const dirty = new Set<string>();
  const deleted: string[] = [];
  for (const name of oldNames) {
    if (!(name in newAttrs)) {
      deleted.push(name);
      continue;
    }
    if (newAttrs[name] !== oldAttrs[name]) {
      dirty.add(name);
      continue;
    }
    const oldPos = attrPosition(oldNames, oldSkip, name);
    const newPos = attrPosition(newNames, newSkip, name);
    if (oldPos !== newPos) {
      dirty.add(name);
      (oldPos > newPos ? oldSkip : newSkip).add(name);
    }
  }
  for (const name of newNames) if (!(name in oldAttrs)) dirty.add(name);
  const changes: AttrChange[] = [];
  for (const name of newNames) if (dirty.has(name)) changes.push({ name, op: 'set', value: newAttrs[name]! });
  for (const name of deleted) changes.push({ name, op: 'unset' });
  if (changes.length > 0) n.attrChanges = changes;
}

interface Deleted {
  readonly path: string;
  readonly position: number | undefined;
}

/**
 * Remembers which subtrees every child of can be singled out by a path (no two siblings with the
 * same tag and id, no id-less element sharing its tag with a sibling, no two equal comments or
 * texts). For such a subtree shared by both sides, Pacemaker's matching finds every node's own
 * counterpart, so the diff can skip it; elsewhere it must run in full to report what crm_diff
 * reports. Trees are immutable, so a cache stays valid as long as its trees live.
 */
export interface DiffCache {
  readonly addressable: WeakMap<XmlElement, boolean>;
}

export function createDiffCache(): DiffCache {
  return { addressable: new WeakMap() };
}

function siblingsAddressable(el: XmlElement): boolean {
  if (el.children.length < 2) return true;
  const keys = new Set<string>();
  const idlessTags = new Set<string>();
  const tags = new Set<string>();
  for (const c of el.children) {
    let key: string;
    if (c.kind === 'element') {
      const id = c.attrs['id'];
      if (id === undefined) {
        if (tags.has(c.name)) return false;
        idlessTags.add(c.name);
      } else if (idlessTags.has(c.name)) return false;
      tags.add(c.name);
      key = id === undefined ? `e\0${c.name}` : `e\0${c.name}\0${id}`;
    } else key = `${c.kind}\0${c.text.toLowerCase()}`;
    if (keys.has(key)) return false;
    keys.add(key);
  }
  return true;
}

function addressable(el: XmlElement, cache: DiffCache): boolean {
  const known = cache.addressable.get(el);
  if (known !== undefined) return known;
  let result = siblingsAddressable(el);
  for (const c of el.children) if (result && c.kind === 'element') result = addressable(c, cache);
  cache.addressable.set(el, result);
  return result;
}

function markChanges(o: DNode, n: DNode, deleted: Deleted[], cache: DiffCache): void {
  if (n.processed) return;
  n.processed = true;
  if (o.node === n.node && n.node.kind === 'element' && addressable(n.node, cache)) {
    n.same = true;
    return;
  }
  diffAttrs(o, n);
  for (const oc of o.children) {
    const nc = match(n, oc);
    if (nc) markChanges(oc, nc, deleted, cache);
    else {
      const seg = oc.id === undefined ? `/${oc.name}` : `/${oc.name}[@id='${oc.id}']`;
      const position = oc.node.kind === 'element' ? undefined : skipPosition(oc);
      deleted.push({ path: dnodePath(n) + seg, position });
      oc.skip = true;
    }
  }
  for (const nc of n.children) {
    const oc = match(o, nc);
    if (!oc) {
      nc.skip = true;
      nc.created = true;
      continue;
    }
    const pNew = skipPosition(nc);
    const pOld = skipPosition(oc);
    if (pOld !== pNew) {
      nc.moved = true;
      (pOld > pNew ? oc : nc).skip = true;
    }
  }
}

function changeElement(op: string, path: string, extra: Record<string, string> = {}, children: XmlNode[] = []): XmlElement {
  return element('change', { operation: op, path, ...extra }, children);
}

function addChanges(d: DNode, out: XmlElement[]): void {
  if (d.created) {
    out.push(changeElement('create', dnodePath(d.parent!), { position: String(plainPosition(d)) }, [d.node]));
    return;
  }
  if (d.attrChanges && d.node.kind === 'element') {
    const list = d.attrChanges.map((c) =>
      element('change-attr', c.op === 'set' ? { name: c.name, operation: 'set', value: c.value! } : { name: c.name, operation: 'unset' }),
    );
    const result = element(d.node.name, d.node.attrs);
    out.push(changeElement('modify', dnodePath(d), {}, [element('change-list', {}, list), element('change-result', {}, [result])]));
  }
  if (!d.same) for (const c of d.children) addChanges(c, out);
  if (d.moved) out.push(changeElement('move', dnodePath(d), { position: String(plainPosition(d)) }));
}

function versionElement(name: string, cib: XmlElement): XmlElement {
  const attrs: Record<string, string> = {};
  for (const a of versionAttrs) attrs[a] = cib.attrs[a] ?? '1';
  return element(name, attrs);
}

/**
 * The patch that turns `a` into `b`, as crm_diff writes it (format 2, with the version block).
 * Identical trees give a patch with no `change` elements (crm_diff prints nothing then), with
 * one exception inherited from the format: id-less siblings with the same tag, or siblings with
 * the same tag and id, cannot be told apart by a path, and Pacemaker's matching then reports
 * moves (crm_diff does the same; such a patch cannot rebuild the order of those siblings). The
 * output depends only on the values of `a` and `b`: subtrees they share are skipped only where
 * that cannot change the result. Pass one `cache` across diffs of the same document lineage (a
 * CIB manager diffing each update against the previous one) to make each diff cost about the
 * size of the change.
 * Contract: both roots have the same tag and id (two CIBs); otherwise this throws.
 */
export function diffCib(a: XmlElement, b: XmlElement, cache: DiffCache = createDiffCache()): XmlElement {
  if (a.name !== b.name || a.attrs['id'] !== b.attrs['id']) {
    throw new Error(`diffCib: roots differ (<${a.name}> and <${b.name}>)`);
  }
  const o = new DNode(a, undefined, 0);
  const n = new DNode(b, undefined, 0);
  const deleted: Deleted[] = [];
  markChanges(o, n, deleted, cache);
  const changes: XmlElement[] = deleted.map((d) =>
    changeElement('delete', d.path, d.position === undefined ? {} : { position: String(d.position) }),
  );
  addChanges(n, changes);
  const version = element('version', {}, [versionElement('source', a), versionElement('target', b)]);
  return element('diff', { format: '2' }, [version, ...changes]);
}

/** Attributes Pacemaker leaves out of digests: they record who wrote the CIB and when. */
const digestFilteredAttrs = new Set(['crm-debug-origin', 'cib-last-written', 'update-origin', 'update-client', 'update-user']);

/** `el` without the filtered attributes; untouched subtrees are returned as they are. */
function withoutFilteredAttrs(el: XmlElement): XmlElement {
  let attrs = el.attrs;
  for (const k in el.attrs) {
    if (digestFilteredAttrs.has(k)) {
      const kept: Record<string, string> = {};
      for (const j in el.attrs) if (!digestFilteredAttrs.has(j)) kept[j] = el.attrs[j]!;
      attrs = kept;
      break;
    }
  }
  let children = el.children;
  for (let i = 0; i < el.children.length; i++) {
    const c = el.children[i]!;
    if (c.kind !== 'element') continue;
    const f = withoutFilteredAttrs(c);
    if (f !== c) {
      if (children === el.children) children = el.children.slice();
      (children as XmlNode[])[i] = f;
    }
  }
  return attrs === el.attrs && children === el.children ? el : { ...el, attrs, children };
}

/**
 * Pacemaker's digest of a CIB (calculate_xml_digest_v2 with filtering, used from feature set
 * 3.0.5 on): the MD5 of the element written on one line, attributes in document order, without
 * the attributes that record who wrote it and when.
 */
export function cibDigest(cib: XmlElement): string {
  return createHash('md5').update(writeElement(withoutFilteredAttrs(cib), { indentSpaces: 0 })).digest('hex');
}

/** Whether Pacemaker uses `cibDigest` for a document with this crm_feature_set (3.0.5 or later). */
function digestApplies(featureSet: string | undefined): boolean {
  if (featureSet === undefined) return false;
  const [a = 0, b = 0, c = 0] = featureSet.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return a > 3 || (a === 3 && (b > 0 || c >= 5));
}

/** The patch with the target's digest, as `crm_diff --cib` writes it; appliers then check the result. */
export function withPatchDigest(patch: XmlElement, target: XmlElement): XmlElement {
  const attrs: Record<string, string> = {};
  for (const k in patch.attrs) if (k !== 'digest') attrs[k] = patch.attrs[k]!;
  attrs['digest'] = cibDigest(target);
  return { ...patch, attrs };
}

/** The `change` elements of a patch. */
export function patchChanges(patch: XmlElement): XmlElement[] {
  return patch.children.filter((c): c is XmlElement => c.kind === 'element' && c.name === 'change');
}

// ---------------------------------------------------------------------------------------------
// Apply

/** Working node of an application: copy-on-write over the immutable tree, with stable identity. */
class MNode {
  attrs: Record<string, string> | undefined;
  private kids: MNode[] | undefined;
  dirty = false;
  constructor(
    readonly orig: XmlNode,
    public parent: MNode | undefined,
  ) {}

  get name(): string {
    return nodeName(this.orig);
  }
  get id(): string | undefined {
    return this.orig.kind === 'element' ? this.orig.attrs['id'] : undefined;
  }
  get children(): MNode[] {
    if (!this.kids) {
      this.kids = this.orig.kind === 'element' ? this.orig.children.map((c) => new MNode(c, this)) : [];
    }
    return this.kids;
  }
  touch(): void {
    for (let cur: MNode | undefined = this; cur && !cur.dirty; cur = cur.parent) cur.dirty = true;
  }
  index(): number {
    return this.parent ? this.parent.children.indexOf(this) : 0;
  }
  remove(): void {
    const p = this.parent!;
    p.children.splice(p.children.indexOf(this), 1);
    p.touch();
  }
  insert(child: MNode, at: number): void {
    child.parent = this;
    this.children.splice(at, 0, child);
    this.touch();
  }
  freeze(): XmlNode {
    if (!this.dirty || this.orig.kind !== 'element') return this.orig;
    const attrs = this.attrs ?? this.orig.attrs;
    const children = this.kids ? this.kids.map((k) => k.freeze()) : this.orig.children;
    return { kind: 'element', name: this.orig.name, attrs, children };
  }
}

/** Splits a Pacemaker patch path into (tag, id) steps as search_v2_xpath reads it; undefined when malformed. */
function parsePatchPath(path: string): { tag: string; id: string | undefined }[] | undefined {
  if (!path.startsWith('/')) return undefined;
  const steps: { tag: string; id: string | undefined }[] = [];
  for (const section of path.slice(1).split('/')) {
    if (section === '') return undefined;
    const m = /^([^[]+)(?:\[@id='([^']*)')?/.exec(section);
    if (!m) return undefined;
    steps.push({ tag: m[1]!, id: m[2] });
  }
  return steps;
}

function findChild(parent: MNode, tag: string, id: string | undefined, position: number): MNode | undefined {
  const kids = parent.children;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.name !== tag) continue;
    if (id !== undefined && c.id !== id) continue;
    if (c.orig.kind === 'comment' && position >= 0 && i !== position) continue;
    return c;
  }
  return undefined;
}

/** Finds the node a change addresses; `position` narrows the last step to a comment at that index. */
function locate(doc: MNode, path: string, position: number): MNode | undefined | 'malformed' {
  const steps = parsePatchPath(path);
  if (!steps) return 'malformed';
  let cur: MNode | undefined;
  for (let i = 0; i < steps.length; i++) {
    const { tag, id } = steps[i]!;
    const pos = i === steps.length - 1 ? position : -1;
    if (i === 0) cur = doc.name === tag && (id === undefined || doc.id === id) ? doc : undefined;
    else cur = findChild(cur!, tag, id, pos);
    if (!cur) return undefined;
  }
  return cur;
}

function intAttr(el: XmlElement, name: string, dflt: number): number {
  const v = el.attrs[name];
  if (v === undefined) return dflt;
  const m = /^\s*[+-]?\d+/.exec(v);
  return m ? Number.parseInt(m[0], 10) : dflt;
}

function childElement(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c): c is XmlElement => c.kind === 'element' && c.name === name);
}

/** Pacemaker's xml_patch_version_check: the document must be exactly at the source version. */
function checkPatchVersion(doc: XmlElement, patch: XmlElement): CibResult<true> {
  const current = versionAttrs.map((a) => parseCounter(doc.attrs[a]));
  const del = current.slice();
  const add = [current[0]!, current[1]!, current[2]! + 1];
  const version = childElement(patch, 'version');
  const source = childElement(version, 'source');
  const target = childElement(version, 'target');
  versionAttrs.forEach((a, i) => {
    if (source) del[i] = intAttr(source, a, del[i]!);
    if (target) add[i] = intAttr(target, a, add[i]!);
  });
  const show = (v: number[]): string => v.join('.');
  for (let i = 0; i < 3; i++) {
    if (current[i]! < del[i]!) {
      return cibFail('diff-resync', `current ${versionAttrs[i]} is too low (${show(current)} < ${show(del)})`);
    }
    if (current[i]! > del[i]!) {
      return cibFail('old-data', `current ${versionAttrs[i]} is too high (${show(current)} > ${show(del)})`);
    }
  }
  if (!add.some((v, i) => v > del[i]!)) return cibFail('old-data', `versions did not change in patch ${show(add)}`);
  return cibOk(true);
}

export interface ApplyPatchOptions {
  /** Check that the document is at the patch's source version (as the CIB manager and `crm_diff -c` do). Default true. */
  readonly checkVersion?: boolean;
}

interface Deferred {
  readonly change: XmlElement;
  readonly op: 'create' | 'move';
  readonly match: MNode;
  readonly position: number;
}

/** First pass: deletes and modifies now; creates and moves deferred (moves parked at the end). */
function firstPass(root: MNode, patch: XmlElement, problems: string[], lastCode: { value: CibErrorCode }): Deferred[] {
  const deferred: Deferred[] = [];
  const bad = (detail: string): void => {
    problems.push(detail);
    lastCode.value = 'diff-failed';
  };
  for (const change of patch.children) {
    if (change.kind !== 'element') continue;
    const op = change.attrs['operation'];
    if (op === undefined) continue;
    const path = change.attrs['path'] ?? '';
    const found = locate(root, path, op === 'delete' ? intAttr(change, 'position', -1) : -1);
    if (found === 'malformed') {
      bad(`${op}: malformed path "${path}"`);
      continue;
    }
    if (!found) {
      if (op !== 'delete') bad(`${op}: no match for ${path}`);
      continue;
    }
    if (op === 'create' || op === 'move') {
      deferred.push({ change, op, match: found, position: intAttr(change, 'position', 0) });
      if (op === 'move' && found.parent) {
        found.remove();
        found.parent.insert(found, found.parent.children.length);
      }
    } else if (op === 'delete') {
      if (!found.parent) bad(`delete: cannot delete the root ${path}`);
      else found.remove();
    } else if (op === 'modify') {
      const result = childElement(change, 'change-result')?.children[0];
      if (!result || result.kind !== 'element') {
        problems.push(`modify: no change-result for ${path}`);
        lastCode.value = 'no-message';
        continue;
      }
      found.attrs = { ...result.attrs };
      found.touch();
    } else bad(`unknown operation "${op}"`);
  }
  return deferred;
}

function secondPass(deferred: Deferred[], problems: string[]): void {
  const sorted = deferred.slice().sort((x, y) => x.position - y.position);
  for (const d of sorted) {
    const path = d.change.attrs['path'];
    if (d.op === 'create') {
      const content = d.change.children[0];
      if (!content) {
        problems.push(`create: nothing to create at ${path}`);
        continue;
      }
      const at = d.position >= 0 && d.position < d.match.children.length ? d.position : d.match.children.length;
      d.match.insert(new MNode(content, d.match), at);
      continue;
    }
    const parent = d.match.parent;
    if (!parent) {
      problems.push(`move: cannot move the root ${path}`);
      continue;
    }
    const current = d.match.index();
    if (d.position !== current) {
      let p = d.position;
      if (p > current) p++;
      const before = p >= 0 && p < parent.children.length ? parent.children[p] : undefined;
      d.match.remove();
      parent.insert(d.match, before ? parent.children.indexOf(before) : parent.children.length);
    }
    if (d.match.index() !== d.position) {
      problems.push(`move: ${path} ended at position ${d.match.index()} instead of ${d.position}`);
    }
  }
}

/**
 * Applies a format-2 patch to `doc` (the `<cib>` root). On success the value is the patched
 * tree; on any failure an error names the problem and `doc` is unchanged.
 * When the patch carries a `digest` and the result's feature set is 3.0.5 or later, the result
 * must have that digest (as Pacemaker checks), else the patch is refused with `diff-failed`.
 */
export function applyPatch(doc: XmlElement, patch: XmlElement, options: ApplyPatchOptions = {}): CibResult<XmlElement> {
  if (patch.name !== 'diff') return cibFail('invalid-argument', `a patch is a <diff> element, not <${patch.name}>`);
  const format = intAttr(patch, 'format', 1);
  if (format !== 2) return cibFail('invalid-argument', `unsupported patch format ${format} (only format 2 is supported)`);
  if (options.checkVersion !== false) {
    const v = checkPatchVersion(doc, patch);
    if (!v.ok) return v;
  }
  const root = new MNode(doc, undefined);
  const problems: string[] = [];
  const lastCode: { value: CibErrorCode } = { value: 'diff-failed' };
  const deferred = firstPass(root, patch, problems, lastCode);
  secondPass(deferred, problems);
  // Pacemaker keeps the code of the last failure: a missing change-result is ENOMSG, the rest pcmk_err_diff_failed.
  if (problems.length > 0) return cibFail(lastCode.value, problems.join('; '));
  const result = root.freeze() as XmlElement;
  const digest = patch.attrs['digest'];
  if (digest !== undefined && digestApplies(result.attrs['crm_feature_set'])) {
    const actual = cibDigest(result);
    if (actual.toLowerCase() !== digest.toLowerCase()) return cibFail('diff-failed', `digest mismatch: the patched CIB has ${actual}, the patch expects ${digest}`);
  }
  return cibOk(result);
}
