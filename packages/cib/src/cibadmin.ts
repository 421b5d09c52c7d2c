/**
 * cibadmin semantics on a document, as pure functions: query, create, modify, replace, delete,
 * erase, bump and patch, by scope (`-o`) or by XPath (`--xpath`), with Pacemaker's error codes.
 *
 * Each operation follows the CIB manager of Pacemaker 2.1 (cib_ops.c and cib_perform_op), checked
 * against cibadmin 2.1.5 by test/cib/cibadmin-oracle.it.test.ts: the same matching rules (tag and
 * id; delete also by every attribute given, ignoring case), the same placement of new elements,
 * the same version handling afterwards (a configuration change bumps epoch and resets
 * num_updates, any other change bumps num_updates, admin_epoch or epoch going backwards is
 * refused). Differences, on purpose:
 * - schema validation is the caller's `validate` hook (Pacemaker checks its RNG schema);
 * - `modify --allow-create` adding an object bumps epoch (2.1.5 bumps only num_updates, because
 *   it adds the object untracked);
 * - `create --xpath` appends to the matched element (2.1.5 ignores the xpath and adds at the root,
 *   which its schema check then refuses);
 * - a malformed XPath is an error for every operation (2.1.5 quietly accepts it for delete);
 * - `name++` values are expanded only in the elements the request brings in.
 */
import type { NodePath } from './edit.js';
import { appendAt, elementAt, removeAt, replaceAt, updateAt, walkElements } from './edit.js';
import type { CibResult } from './errors.js';
import { cibError, cibFail, cibOk } from './errors.js';
import { applyPatch } from './patch.js';
import type { ChangeKind } from './version.js';
import { applyChange, classifyChange, compareCibVersions, parseCounter, readVersion, withAttrs } from './version.js';
import type { XmlElement, XmlNode } from './xml.js';
import { element } from './xml.js';
import { selectXPath } from './xpath.js';

/** The scopes `cibadmin -o` knows, with the element path under `<cib>` and the parent section. */
export const cibScopes = {
  configuration: { path: ['configuration'], parent: 'cib' },
  crm_config: { path: ['configuration', 'crm_config'], parent: 'configuration' },
  nodes: { path: ['configuration', 'nodes'], parent: 'configuration' },
  resources: { path: ['configuration', 'resources'], parent: 'configuration' },
  constraints: { path: ['configuration', 'constraints'], parent: 'configuration' },
  rsc_defaults: { path: ['configuration', 'rsc_defaults'], parent: 'configuration' },
  op_defaults: { path: ['configuration', 'op_defaults'], parent: 'configuration' },
  acls: { path: ['configuration', 'acls'], parent: 'configuration' },
  'fencing-topology': { path: ['configuration', 'fencing-topology'], parent: 'configuration' },
  tags: { path: ['configuration', 'tags'], parent: 'configuration' },
  alerts: { path: ['configuration', 'alerts'], parent: 'configuration' },
  status: { path: ['status'], parent: 'cib' },
} as const satisfies Record<string, { path: readonly string[]; parent: string }>;

export type CibScope = keyof typeof cibScopes;

/** What `cibadmin --erase` leaves when the old root lacks them (Pacemaker 2.1.5's createEmptyCib). */
const emptyCibDefaults = {
  // Pacemaker 2.1.5's CRM_FEATURE_SET; the old root's own value replaces it when present.
  crm_feature_set: '3.16.1',
  // The newest schema Pacemaker 2.1.5 ships; the old root's own value replaces it when present.
  'validate-with': 'pacemaker-3.9',
  epoch: '0',
  num_updates: '0',
  admin_epoch: '0',
} as const;

/** One cibadmin request. `scope` is `-o`; `xpath` is `--xpath` (then `scope` is ignored, as cibadmin does). */
export type CibadminRequest =
  | { readonly op: 'query'; readonly scope?: string; readonly xpath?: string; readonly noChildren?: boolean }
  | { readonly op: 'create'; readonly scope?: string; readonly xpath?: string; readonly xml: XmlElement; readonly allowCreate?: boolean }
  | {
      readonly op: 'modify';
      readonly scope?: string;
      readonly xpath?: string;
      readonly xml: XmlElement;
      readonly allowCreate?: boolean;
      readonly multiple?: boolean;
    }
  | { readonly op: 'replace'; readonly scope?: string; readonly xpath?: string; readonly xml: XmlElement; readonly multiple?: boolean }
  | { readonly op: 'delete'; readonly scope?: string; readonly xpath?: string; readonly xml?: XmlElement; readonly multiple?: boolean }
  | { readonly op: 'erase'; readonly force?: boolean }
  | { readonly op: 'bump' }
  | { readonly op: 'patch'; readonly xml: XmlElement };

export interface CibadminOutcome {
  /** The document after the request (the very same object when nothing changed). */
  readonly cib: XmlElement;
  /** What a query returns (cibadmin prints it). */
  readonly output?: XmlElement;
  /** How the document changed, which decided the version bump. */
  readonly change: ChangeKind;
}

type OpResult = CibResult<{ cib: XmlElement; output?: XmlElement }>;

// ---------------------------------------------------------------------------------------------
// Helpers shared by the operations

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Path of the section for `scope`: [] (the root) for none or an unknown name; undefined when the section is absent. */
function scopeRoot(cib: XmlElement, scope: string | undefined): NodePath | undefined {
  const entry = scope === undefined ? undefined : (cibScopes as Record<string, { path: readonly string[] }>)[scope];
  if (!entry) return [];
  const path: number[] = [];
  let cur = cib;
  for (const name of entry.path) {
    const i = cur.children.findIndex((c) => c.kind === 'element' && c.name === name);
    if (i < 0) return undefined;
    path.push(i);
    cur = cur.children[i] as XmlElement;
  }
  return path;
}

/** Pacemaker's char2score as expand_plus_plus uses it. */
function score(value: string): number {
  const v = value.trim();
  if (/^\+?INFINITY$/i.test(v)) return 1_000_000;
  if (/^-INFINITY$/i.test(v)) return -1_000_000;
  const m = /^[+-]?\d+/.exec(v);
  if (!m) return 0;
  return Math.max(-1_000_000, Math.min(1_000_000, Number.parseInt(m[0], 10)));
}

/** Pacemaker's expand_plus_plus: `value="value++"` or `value="value+=N"` adds to the old value. */
export function expandPlusPlus(name: string, value: string, oldValue: string | undefined): string {
  if (!value.startsWith(name)) return value;
  const rest = value.slice(name.length);
  if (rest.length < 2 || rest[0] !== '+' || (rest[1] !== '+' && rest[1] !== '=')) return value;
  const base = oldValue === undefined ? 0 : score(oldValue);
  const offset = rest[1] === '+' ? 1 : score(rest.slice(2));
  return String(Math.min(base + offset, 1_000_000));
}

/** Sets the attributes of `update` on `target` (copy_in_properties): existing keep their place. */
function copyInProperties(target: XmlElement, update: XmlElement): XmlElement {
  const changes: Record<string, string> = {};
  for (const k in update.attrs) changes[k] = expandPlusPlus(k, update.attrs[k]!, target.attrs[k]);
  return withAttrs(target, changes);
}

/** A copy of a request fragment as Pacemaker stores it: `name++` values expanded from 0. */
function expandFragment(el: XmlElement): XmlElement {
  const attrs: Record<string, string> = {};
  for (const k in el.attrs) attrs[k] = expandPlusPlus(k, el.attrs[k]!, undefined);
  return { ...el, attrs, children: el.children.map((c) => (c.kind === 'element' ? expandFragment(c) : c)) };
}

/**
 * Merges `update` into `target` (add_xml_object / update_cib_object): attributes set, each child
 * merged into the first child with the same tag and id (or id-ref when `byIdRef`, or the first of
 * its tag when it has neither), else appended.
 */
function mergeInto(target: XmlElement, update: XmlElement, byIdRef: boolean): XmlElement {
  let merged = copyInProperties(target, update);
  for (const child of update.children) {
    const kids = merged.children;
    if (child.kind !== 'element') {
      const same = kids.some((k) => k.kind === child.kind && k.text.toLowerCase() === child.text.toLowerCase());
      if (!same) merged = { ...merged, children: [...kids, child] };
      continue;
    }
    const id = child.attrs['id'];
    const idRef = byIdRef && id === undefined ? child.attrs['id-ref'] : undefined;
    const i = kids.findIndex(
      (k) =>
        k.kind === 'element' &&
        k.name === child.name &&
        (id !== undefined ? k.attrs['id'] === id : idRef !== undefined ? k.attrs['id-ref'] === idRef : true),
    );
    const next = mergeInto(i >= 0 ? (kids[i] as XmlElement) : element(child.name), child, byIdRef);
    const children = kids.slice();
    if (i >= 0) children[i] = next;
    else children.push(next);
    merged = { ...merged, children };
  }
  return merged;
}

/** First element in pre-order under `start` (itself included when `includeStart`) that `test` accepts. */
function findFirst(
  cib: XmlElement,
  start: NodePath,
  includeStart: boolean,
  test: (el: XmlElement) => boolean,
): NodePath | undefined {
  const top = elementAt(cib, start);
  if (!top) return undefined;
  let found: NodePath | undefined;
  walkElements(
    top,
    (el, path) => {
      if (!includeStart && path.length === start.length) return false;
      if (test(el)) {
        found = path;
        return true;
      }
      return false;
    },
    start,
  );
  return found;
}

/** update_xml_child: the first element (pre-order, `start` included) with the same tag and id, merged. */
function updateChild(cib: XmlElement, start: NodePath, update: XmlElement): XmlElement | undefined {
  const id = update.attrs['id'];
  const at = findFirst(cib, start, true, (el) => el.name === update.name && el.attrs['id'] === id);
  return at ? updateAt(cib, at, (el) => mergeInto(el, update, true)) : undefined;
}

/** replace_xml_child's match: same tag (any case) and, when the update has an id, the same id. */
function replaceMatch(update: XmlElement, attrsToo: boolean): (el: XmlElement) => boolean {
  const id = update.attrs['id'];
  return (el) => {
    if (!sameName(el.name, update.name)) return false;
    if (id !== undefined && el.attrs['id'] !== id) return false;
    if (!attrsToo) return true;
    for (const k in update.attrs) {
      const v = el.attrs[k];
      if (v === undefined || v.toLowerCase() !== update.attrs[k]!.toLowerCase()) return false;
    }
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// Operations by scope

function query(cib: XmlElement, scope: string | undefined, noChildren: boolean): OpResult {
  const at = scopeRoot(cib, scope);
  const found = at && elementAt(cib, at);
  if (!found) return cibFail('no-such-object', `section ${scope} is not in the CIB`);
  return cibOk({ cib, output: noChildren ? element(found.name, found.attrs) : found });
}

/** Pacemaker's answer to a failed create: `<failed><failed_update ...>object</failed_update></failed>`. */
function failedCreate(obj: XmlElement, code: 'already-exists' | 'invalid-argument', detail: string): OpResult {
  const attrs: Record<string, string> = {};
  if (obj.attrs['id'] !== undefined) attrs['id'] = obj.attrs['id'];
  attrs['object_type'] = obj.name;
  attrs['operation'] = 'cib_create';
  attrs['reason'] = cibError(code, detail).message;
  const output = element('failed', {}, [element('failed_update', attrs, [obj])]);
  return { ok: false, error: { ...cibError(code, detail), output } };
}

function createInSection(cib: XmlElement, scope: string, input: XmlElement): OpResult {
  const at = scopeRoot(cib, scope);
  const objects = sameName(input.name, scope) ? input.children.filter((c): c is XmlElement => c.kind === 'element') : [input];
  let doc = cib;
  for (const obj of objects) {
    const what = `<${obj.name}${obj.attrs['id'] ? ` id="${obj.attrs['id']}"` : ''}>`;
    if (!at) return failedCreate(obj, 'invalid-argument', `cannot create ${what}: section ${scope} is not in the CIB`);
    const section = elementAt(doc, at)!;
    const id = obj.attrs['id'];
    const exists = section.children.some((c) => c.kind === 'element' && c.name === obj.name && (id === undefined || c.attrs['id'] === id));
    if (exists) return failedCreate(obj, 'already-exists', `cannot create ${what} in ${scope}: an object with this tag and id exists`);
    doc = appendAt(doc, at, mergeInto(element(obj.name), obj, false));
  }
  return cibOk({ cib: doc });
}

function modifyInSection(cib: XmlElement, scope: string | undefined, input: XmlElement, allowCreate: boolean): OpResult {
  let doc = cib;
  let at = scopeRoot(doc, scope);
  if (!at) {
    // The section is missing: Pacemaker creates it (empty) under its parent, then merges.
    const entry = cibScopes[scope as CibScope];
    const parentAt = entry.parent === 'cib' ? [] : scopeRoot(doc, entry.parent);
    if (!parentAt) return cibFail('invalid-argument', `cannot create section ${scope}: its parent ${entry.parent} is missing`);
    doc = appendAt(doc, parentAt, element(entry.path[entry.path.length - 1]!));
    at = scopeRoot(doc, scope)!;
  }
  const updated = updateChild(doc, at, input);
  if (updated) return cibOk({ cib: updated });
  if (!allowCreate) return cibFail('no-such-object', `no <${input.name}${input.attrs['id'] ? ` id="${input.attrs['id']}"` : ''}> to modify`);
  return cibOk({ cib: appendAt(doc, at, expandFragment(input)) });
}

function replaceWholeCib(cib: XmlElement, input: XmlElement): OpResult {
  const current = readVersion(cib);
  const replacement = readVersion(input);
  if (compareCibVersions(replacement, current) < 0) {
    return cibFail('old-data', `replacement ${replacement.adminEpoch}.${replacement.epoch}.${replacement.numUpdates} is older than the CIB (${current.adminEpoch}.${current.epoch}.${current.numUpdates})`);
  }
  return cibOk({ cib: input });
}

function replaceInSection(cib: XmlElement, scope: string | undefined, input: XmlElement): OpResult {
  const section = scope === 'all' || (scope !== undefined && sameName(input.name, scope)) ? undefined : scope;
  if (sameName(input.name, 'cib')) return replaceWholeCib(cib, input);
  const at = scopeRoot(cib, section);
  const target = at && findFirst(cib, at, false, replaceMatch(input, false));
  if (!target) return cibFail('no-such-object', `no <${input.name}${input.attrs['id'] ? ` id="${input.attrs['id']}"` : ''}> to replace`);
  return cibOk({ cib: replaceAt(cib, target, input) });
}

function deleteInSection(cib: XmlElement, scope: string | undefined, input: XmlElement | undefined): OpResult {
  if (!input) return cibFail('invalid-argument', 'delete needs the object to delete (-X)');
  const at = scopeRoot(cib, scope);
  if (!at) return cibOk({ cib });
  const objects = scope !== undefined && sameName(input.name, scope) ? input.children.filter((c): c is XmlElement => c.kind === 'element') : [input];
  let doc = cib;
  for (const obj of objects) {
    const target = findFirst(doc, at, false, replaceMatch(obj, true));
    if (target) doc = removeAt(doc, target);
  }
  return cibOk({ cib: doc });
}

function erase(cib: XmlElement, force: boolean): OpResult {
  if (!force) return cibFail('unsafe', 'erase replaces the whole configuration; it needs force');
  const attrs: Record<string, string> = { ...emptyCibDefaults };
  for (const k in cib.attrs) attrs[k] = cib.attrs[k]!;
  attrs['admin_epoch'] = String(parseCounter(cib.attrs['admin_epoch']) + 1);
  const configuration = element('configuration', {}, ['crm_config', 'nodes', 'resources', 'constraints'].map((n) => element(n)));
  return cibOk({ cib: element(cib.name, attrs, [configuration, element('status')]) });
}

function bump(cib: XmlElement): OpResult {
  return cibOk({ cib: withAttrs(cib, { epoch: String(parseCounter(cib.attrs['epoch']) + 1) }) });
}

// ---------------------------------------------------------------------------------------------
// Operations by XPath

function xpathOp(cib: XmlElement, req: CibadminRequest & { xpath: string }): OpResult {
  const selected = selectXPath(cib, req.xpath);
  if (!selected.ok) return cibFail('no-such-object', `cannot use xpath: ${selected.error.message}`);
  const matches = selected.matches;
  if (matches.length === 0) {
    if (req.op === 'delete') return cibOk({ cib });
    return cibFail('no-such-object', `${req.op}: ${req.xpath} does not exist`);
  }
  switch (req.op) {
    case 'query': {
      const pick = (el: XmlElement): XmlElement => (req.noChildren ? element(el.name, el.attrs) : el);
      const output = matches.length === 1 ? pick(matches[0]!.element) : element('xpath-query', {}, matches.map((m) => pick(m.element)));
      return cibOk({ cib, output });
    }
    case 'delete': {
      if (matches[0]!.path.length === 0) return cibFail('invalid-argument', `${req.xpath} addresses the whole /cib`);
      const chosen = req.multiple ? outermost(matches.map((m) => m.path)) : [matches[0]!.path];
      let doc = cib;
      for (const p of chosen.slice().reverse()) doc = removeAt(doc, p);
      return cibOk({ cib: doc });
    }
    case 'modify':
      return xpathModify(cib, matches.map((m) => m.path), req.xml, req.multiple ?? false);
    case 'create':
      return cibOk({ cib: appendAt(cib, matches[0]!.path, expandFragment(req.xml)) });
    case 'replace':
      return xpathReplace(cib, matches.map((m) => m.element), req.xml, req.multiple ?? false);
    default:
      return cibFail('invalid-argument', `${req.op} does not take an xpath`);
  }
}

/** Paths with none of their ancestors in the list (deleting an ancestor deletes the rest). */
function outermost(paths: readonly NodePath[]): NodePath[] {
  return paths.filter((p) => !paths.some((q) => q.length < p.length && q.every((v, i) => p[i] === v)));
}

function xpathModify(cib: XmlElement, paths: NodePath[], input: XmlElement, multiple: boolean): OpResult {
  let doc = cib;
  let missed = false;
  for (const p of multiple ? paths : paths.slice(0, 1)) {
    const updated = updateChild(doc, p, input);
    if (updated) doc = updated;
    else missed = true;
  }
  if (missed) return cibFail('no-such-object', `no <${input.name}${input.attrs['id'] ? ` id="${input.attrs['id']}"` : ''}> under the matched element`);
  return cibOk({ cib: doc });
}

/** Where an element object sits now (matched by identity), or undefined once removed. */
function pathOf(cib: XmlElement, target: XmlElement): NodePath | undefined {
  let found: NodePath | undefined;
  walkElements(cib, (el, path) => {
    if (el === target) {
      found = path;
      return true;
    }
    return false;
  });
  return found;
}

function xpathReplace(cib: XmlElement, targets: XmlElement[], input: XmlElement, multiple: boolean): OpResult {
  let doc = cib;
  for (const t of multiple ? targets : targets.slice(0, 1)) {
    const p = pathOf(doc, t);
    if (!p) continue;
    if (p.length === 0) {
      doc = input;
      continue;
    }
    // Pacemaker frees the match and appends the replacement as the parent's last child.
    doc = appendAt(removeAt(doc, p), p.slice(0, -1), expandFragment(input));
  }
  return cibOk({ cib: doc });
}

// ---------------------------------------------------------------------------------------------
// Entry point

function runOp(cib: XmlElement, req: CibadminRequest): OpResult {
  if ('xpath' in req && req.xpath !== undefined) return xpathOp(cib, req as CibadminRequest & { xpath: string });
  switch (req.op) {
    case 'query':
      return query(cib, req.scope, req.noChildren ?? false);
    case 'create': {
      const scope = req.scope === 'all' || req.scope === 'cib' || sameName(req.xml.name, 'cib') ? undefined : req.scope;
      return scope === undefined ? modifyInSection(cib, undefined, req.xml, req.allowCreate ?? false) : createInSection(cib, scope, req.xml);
    }
    case 'modify':
      return modifyInSection(cib, req.scope, req.xml, req.allowCreate ?? false);
    case 'replace':
      return replaceInSection(cib, req.scope, req.xml);
    case 'delete':
      return deleteInSection(cib, req.scope, req.xml);
    case 'erase':
      return erase(cib, req.force ?? false);
    case 'bump':
      return bump(cib);
    case 'patch': {
      const patched = applyPatch(cib, req.xml);
      return patched.ok ? cibOk({ cib: patched.value }) : patched;
    }
  }
}

/** Refuses results whose admin_epoch, or epoch at the same admin_epoch, went backwards. */
function checkNotBackwards(before: XmlElement, after: XmlElement): CibResult<true> {
  const a = readVersion(before);
  const b = readVersion(after);
  if (b.adminEpoch < a.adminEpoch) return cibFail('old-data', `admin_epoch went backwards: ${a.adminEpoch} -> ${b.adminEpoch}`);
  if (b.adminEpoch === a.adminEpoch && b.epoch < a.epoch) return cibFail('old-data', `epoch went backwards: ${a.epoch} -> ${b.epoch}`);
  return cibOk(true);
}

export interface CibadminOptions {
  /**
   * Checks a changed document before it is accepted, as the CIB manager validates against the
   * schema; a returned message refuses the request with `schema-validation` (exit 78). Like
   * Pacemaker, requests scoped to `status` are not checked.
   */
  readonly validate?: (cib: XmlElement) => string | undefined;
}

/**
 * Runs one cibadmin request on `cib` (the `<cib>` root). On success: the new document with its
 * version set, and the query output if any. On failure: an error with Pacemaker's code; `cib`
 * is untouched (it is immutable).
 */
export function cibadmin(cib: XmlElement, req: CibadminRequest, options: CibadminOptions = {}): CibResult<CibadminOutcome> {
  const result = runOp(cib, req);
  if (!result.ok) return result;
  const after = result.value.cib;
  if (after === cib) return cibOk({ cib, output: result.value.output, change: 'none' });
  const back = checkNotBackwards(cib, after);
  if (!back.ok) return back;
  const change = classifyChange(cib, after);
  const scope = 'scope' in req ? req.scope : undefined;
  if (change !== 'none' && options.validate && scope !== 'status') {
    const problem = options.validate(after);
    if (problem !== undefined) return cibFail('schema-validation', problem);
  }
  const output = result.value.output;
  return cibOk({ cib: change === 'none' ? cib : applyChange(cib, after), change, ...(output ? { output } : {}) });
}

/** Convenience for callers holding a node that may not be an element (e.g. parsed -X input). */
export function asElement(node: XmlNode | undefined): XmlElement | undefined {
  return node?.kind === 'element' ? node : undefined;
}
