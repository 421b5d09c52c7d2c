/**
 * Applying a whole configuration text to a session, as crmsh's CibObjectSet.save and CibDiff do
 * for `edit`, `filter`, `modgroup` and `load`: the text is parsed in full first (a syntax error
 * changes nothing and names its line and column), then objects in the text that exist are
 * updated in place, new ones are created, and, when `remove` is set, objects of the edited set
 * missing from the text are deleted. Pure: the text comes from the caller.
 */
import { parseXml } from '@paceline/cib';
import { splitCommands, tokenize } from './lexer.js';
import { configureObjectCommands, parseCommand } from './parser.js';
import type { ConfigSession, SessionError } from './session.js';
import { showObjects } from './show.js';
import { fromXml, elementsOf, type CNode } from './tree.js';

/** What went wrong, with the position in the text when it is a syntax error. */
export interface ApplyError {
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

export interface ApplyOptions {
  /** Delete objects of `scope` that the text no longer has (edit, filter, load push). */
  readonly remove: boolean;
  /** 'update' merges property sets instead of replacing them (load update, load push). */
  readonly method: 'replace' | 'update';
  /** The ids the text stands for (edit of some objects); all objects when undefined. */
  readonly scope?: readonly string[];
  /** OCF 1.1 role names allowed by the CIB's schema. */
  readonly ocf11: boolean;
}

const objectCommands = new Set<string>(configureObjectCommands);

/** Processing order of kinds on create (crmsh processing_sort): members before containers, resources before constraints. */
const createRank: Record<string, number> = {
  node: 0, template: 1, primitive: 2, bundle: 3, group: 4, master: 5, clone: 6, tag: 8,
  rsc_location: 9, rsc_colocation: 9, rsc_order: 9, rsc_ticket: 10, 'fencing-topology': 10, cluster_property_set: 11, rsc_defaults: 12, op_defaults: 13,
  acl_role: 14, acl_target: 15, acl_group: 15, acl_user: 15, alert: 16,
};
const constraintTags = new Set(['rsc_location', 'rsc_colocation', 'rsc_order', 'rsc_ticket']);
const containerTags = new Set(['group', 'clone', 'master', 'bundle']);
const defaultSetId: Record<string, string> = { cluster_property_set: 'cib-bootstrap-options', rsc_defaults: 'rsc-options', op_defaults: 'op-options' };

/** The id crmsh files a parsed object under (id_for_node). */
export function objectIdOf(node: CNode): string | undefined {
  if (node.tag === 'node') return node.attrs.get('uname') ?? node.attrs.get('id');
  if (node.tag === 'fencing-topology') return 'fencing_topology';
  if (node.tag === 'cluster_property_set') return node.attrs.get('id') ?? defaultSetId[node.tag];
  if (node.tag === 'rsc_defaults' || node.tag === 'op_defaults') return elementsOf(node)[0]?.attrs.get('id') ?? defaultSetId[node.tag];
  return node.attrs.get('id');
}

interface Item {
  readonly id: string;
  readonly node: CNode;
  readonly isNode: boolean;
}

/** Parses every command of a crm-syntax text; the first error stops it. */
export function parseText(session: ConfigSession, text: string, ocf11: boolean): { ok: true; items: Item[] } | { ok: false; error: ApplyError } {
  const items: Item[] = [];
  for (const cmd of splitCommands(text)) {
    if (cmd.text.trim().startsWith('#')) continue;
    const lexed = tokenize(cmd);
    if (!lexed.ok) return { ok: false, error: { message: lexed.message, line: lexed.line, column: lexed.column } };
    const first = lexed.tokens[0]!;
    const kw = first.text.toLowerCase();
    if (!objectCommands.has(kw) || kw === 'monitor') return { ok: false, error: { message: `expected an object definition (primitive, group, location, property, ...), found '${first.text}'`, line: first.line, column: first.column } };
    const parsed = parseCommand(lexed.tokens, { ocf11, resolveIdRef: (t, id) => session.resolveIdRef(t, id), nodeNames: () => session.nodeNames() });
    if (!parsed.ok) return { ok: false, error: { message: `syntax in ${kw}: ${parsed.message}`, line: parsed.line, column: parsed.column } };
    const id = objectIdOf(parsed.node);
    if (id === undefined) return { ok: false, error: { message: `${kw} has no id`, line: first.line, column: first.column } };
    const isNode = parsed.node.tag === 'node';
    if (items.some((i) => i.id === id && i.isNode === isNode)) return { ok: false, error: { message: `duplicate ${isNode ? 'node' : 'object'} ${id}`, line: first.line, column: first.column } };
    items.push({ id, node: parsed.node, isNode });
  }
  return { ok: true, items };
}

/** Top-level objects of a CIB XML text (a whole `<cib>`, a `<configuration>`, or one section). */
export function parseXmlObjects(text: string): { ok: true; items: Array<Item & { section: string }> } | { ok: false; error: ApplyError } {
  let root: CNode;
  try {
    root = fromXml(parseXml(text).root);
  } catch (e) {
    return { ok: false, error: { message: `not XML: ${(e as Error).message}` } };
  }
  const conf = root.tag === 'cib' ? elementsOf(root, 'configuration')[0] : root.tag === 'configuration' ? root : undefined;
  if (!conf) return { ok: false, error: { message: `expected <cib> or <configuration>, found <${root.tag}>` } };
  const items: Array<Item & { section: string }> = [];
  for (const sec of elementsOf(conf)) {
    if (sec.tag === 'fencing-topology') {
      items.push({ id: 'fencing_topology', node: sec, isNode: false, section: 'configuration' });
      continue;
    }
    for (const o of elementsOf(sec)) {
      const id = o.tag === 'node' ? o.attrs.get('uname') ?? o.attrs.get('id') : o.attrs.get('id');
      if (!id) return { ok: false, error: { message: `<${o.tag}> in <${sec.tag}> has no id` } };
      items.push({ id, node: o, isNode: o.tag === 'node', section: sec.tag });
    }
  }
  return { ok: true, items };
}

function existingIds(session: ConfigSession, scope: readonly string[] | undefined): Item[] {
  const all = showObjects(session).map((o) => ({ id: o.kind === 'node' ? o.node.attrs.get('uname') ?? o.id : o.id, node: o.node, isNode: o.kind === 'node' }));
  return scope === undefined ? all : all.filter((o) => scope.includes(o.id));
}

const key = (i: { id: string; isNode: boolean }): string => `${i.isNode ? 'n' : 'r'}:${i.id}`;

/**
 * crmsh CibDiff.apply in cli mode: constraints and containers to delete go first, then new
 * objects are created (in processing order), existing ones updated, and the rest deleted.
 */
export function applyText(session: ConfigSession, text: string, opts: ApplyOptions): ApplyError | undefined {
  const parsed = parseText(session, text, opts.ocf11);
  if (!parsed.ok) return parsed.error;
  return applyItems(session, parsed.items, opts, (item, old) => (old ? session.replaceObject(old, item.node) : session.add(item.node)));
}

/** `load xml`: the same, with objects given as CIB XML (ids as written). */
export function applyXml(session: ConfigSession, text: string, opts: ApplyOptions): ApplyError | undefined {
  const parsed = parseXmlObjects(text);
  if (!parsed.ok) return parsed.error;
  return applyItems(session, parsed.items, opts, (item) => session.putXmlObject((item as Item & { section: string }).section, item.node));
}

function applyItems(session: ConfigSession, items: readonly Item[], opts: ApplyOptions, put: (item: Item, old: CNode | undefined) => SessionError | undefined): ApplyError | undefined {
  const scope = existingIds(session, opts.scope);
  const all = existingIds(session, undefined);
  const inScope = new Set(scope.map(key));
  const input = new Set(items.map(key));
  for (const i of items) {
    if (!inScope.has(key(i)) && all.some((o) => key(o) === key(i))) return { message: `element ${i.id} already exists (it was not picked for editing)` };
  }
  const del = opts.remove ? scope.filter((o) => !input.has(key(o))) : [];
  const first = del.filter((o) => constraintTags.has(o.node.tag) || containerTags.has(o.node.tag));
  const rest = del.filter((o) => !first.includes(o));
  const run = (ids: Item[]): ApplyError | undefined => {
    if (ids.length === 0) return undefined;
    const err = session.deleteMany(ids.map((o) => o.id));
    return err ? { message: err.message } : undefined;
  };
  let err = run(first);
  if (err) return err;
  const create = items.filter((i) => !inScope.has(key(i))).sort((a, b) => (createRank[a.node.tag] ?? 99) - (createRank[b.node.tag] ?? 99));
  for (const i of create) {
    const e = put(i, undefined);
    if (e) return { message: `${i.id}: ${e.message}` };
  }
  for (const i of items.filter((x) => inScope.has(key(x)))) {
    const old = session.findObject(i.id);
    const nvset = i.node.tag === 'cluster_property_set' || i.node.tag === 'rsc_defaults' || i.node.tag === 'op_defaults';
    const e = nvset && opts.method === 'update' ? session.add(i.node) : put(i, old);
    if (e) return { message: `${i.id}: ${e.message}` };
  }
  err = run(rest.filter((o) => session.findObject(o.id) !== undefined));
  return err;
}
