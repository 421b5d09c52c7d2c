/**
 * `configure show`: the configuration in crm syntax, as crmsh prints it. Objects are sorted by
 * kind (nodes, templates, primitives, bundles, groups, ms, clones, tags, constraints, tickets and
 * fencing, properties, defaults, ACLs, alerts) then by id; each object's parts go on
 * continuation lines (` \` then a tab). Ids are left out as crmsh leaves them out: object ids and
 * `operations $id=` show, rule ids only when a `rule $id-ref=` names them, attribute set, op,
 * nvpair and expression ids never (an edit takes them back from the old object).
 */
import { writeElement, writeXml } from '@paceline/cib';
import { splitCommands, tokenize } from './lexer.js';
import { parseCommand, schemaIsOcf11, xmlObjectTags } from './parser.js';
import type { ConfigSession } from './session.js';
import { cnode, elementsOf, toXml, walk, type CNode } from './tree.js';

/** Sort rank of each object kind (crmsh _sort_cli_order). */
const rank: Record<string, number> = {
  node: 0, template: 1, primitive: 2, bundle: 3, group: 4, master: 5, clone: 6, op: 7, tag: 8,
  rsc_location: 9, rsc_colocation: 9, rsc_order: 9, rsc_ticket: 10, 'fencing-topology': 10,
  cluster_property_set: 11, rsc_defaults: 12, op_defaults: 13, acl_role: 14, acl_target: 15, acl_group: 15, acl_user: 15, alert: 16,
};

export interface ShowObject {
  readonly kind: string;
  readonly id: string;
  readonly node: CNode;
}

/** Every object `show` lists (group members separately), with its kind and id. */
export function showObjects(session: ConfigSession): ShowObject[] {
  return collect(session);
}

function collect(session: ConfigSession): ShowObject[] {
  const out: ShowObject[] = [];
  const conf = session.configuration();
  const pushRes = (n: CNode): void => {
    out.push({ kind: n.tag, id: n.attrs.get('id') ?? '', node: n });
    if (n.tag === 'group' || n.tag === 'clone' || n.tag === 'master' || n.tag === 'bundle') {
      for (const c of elementsOf(n)) if (['primitive', 'group'].includes(c.tag)) pushRes(c);
    }
  };
  for (const sec of elementsOf(conf)) {
    if (sec.tag === 'resources') elementsOf(sec).forEach(pushRes);
    // crmsh lists the section even when it is empty (`fencing_topology` alone).
    else if (sec.tag === 'fencing-topology') out.push({ kind: sec.tag, id: 'fencing_topology', node: sec });
    else if (sec.tag === 'rsc_defaults' || sec.tag === 'op_defaults') {
      for (const s of elementsOf(sec)) out.push({ kind: sec.tag, id: s.attrs.get('id') ?? '', node: s });
    } else for (const n of elementsOf(sec)) out.push({ kind: n.tag, id: n.attrs.get('id') ?? n.attrs.get('uname') ?? '', node: n });
  }
  return out.filter((o) => rank[o.kind] !== undefined);
}

/** Renders `show [ids...]`. */
export function renderShow(session: ConfigSession, ids: readonly string[] = [], sortElements = true): string {
  const objs = collect(session).filter((o) => ids.length === 0 || ids.includes(o.id));
  return renderObjects(objs, sortElements, session);
}

/**
 * Rule ids some `rule $id-ref=` names: crmsh (cliformat.cli_rule, is_id_refd) prints a rule's
 * `$id=` only then, whether the id was generated or given by hand.
 */
let referencedRules: ReadonlySet<string> = new Set();
/** crmsh `show` obscures the values of nvpairs whose names match these (fnmatch) patterns. */
let obscurePatterns: readonly RegExp[] = [];
/** The number of nodes, for fencing_topology's short form (crmsh: one device list for every node). */
let nodeCount: number | undefined;

function ruleRefs(session: ConfigSession | undefined, objs: readonly ShowObject[]): Set<string> {
  const out = new Set<string>();
  const roots = session ? [session.configuration()] : objs.map((o) => o.node);
  for (const root of roots) for (const n of walk(root)) if (n.tag === 'rule' && n.attrs.has('id-ref')) out.add(n.attrs.get('id-ref')!);
  return out;
}

/** crmsh's command name for each kind (what `type:` selects). */
const cliType: Record<string, string> = {
  node: 'node', primitive: 'primitive', template: 'rsc_template', group: 'group', clone: 'clone', master: 'ms', bundle: 'bundle', tag: 'tag',
  rsc_location: 'location', rsc_colocation: 'colocation', rsc_order: 'order', rsc_ticket: 'rsc_ticket', 'fencing-topology': 'fencing_topology',
  cluster_property_set: 'property', rsc_defaults: 'rsc_defaults', op_defaults: 'op_defaults', acl_role: 'role', acl_target: 'acl_target', acl_group: 'acl_group', acl_user: 'user', alert: 'alert',
};

function globRe(spec: string): RegExp {
  // fnmatch: * ? [seq] [!seq]; everything else literal.
  const body = spec.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^');
  try {
    return new RegExp(`^${body}$`);
  } catch {
    return new RegExp(`^${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  }
}

/** Ids an object refers to (constraint resources, tag members, container members). */
function refsOf(o: ShowObject): string[] {
  const out: string[] = [];
  const visit = (n: CNode): void => {
    for (const a of ['rsc', 'with-rsc', 'first', 'then']) if (n.attrs.has(a)) out.push(n.attrs.get(a)!);
    if (n.tag === 'resource_ref' || n.tag === 'obj_ref') out.push(n.attrs.get('id') ?? '');
    for (const c of elementsOf(n)) {
      if (c.tag === 'primitive' || c.tag === 'group') out.push(c.attrs.get('id') ?? '');
      else visit(c);
    }
  };
  visit(o.node);
  return out;
}

/**
 * crmsh filter_objects: `show`'s selection. Ids (with `*` and `?` wildcards), `type:KIND`,
 * `tag:TAG` (the tagged resources), `related:ID` (the object and everything naming it, or the
 * primitives of an agent type), `changed` (given by the caller), joined by `or` (the default)
 * or `and`. Undefined selection (no filters): everything. A plain id that matches nothing is an error.
 */
export function selectObjects(session: ConfigSession, filters: readonly string[], changed: readonly string[] = []): { ok: true; objs: ShowObject[] } | { ok: false; missing: string } {
  const all = collect(session);
  if (filters.length === 0) return { ok: true, objs: all };
  let set = new Set<ShowObject>();
  let andSet: Set<ShowObject> | undefined;
  for (const spec of filters) {
    if (spec === 'or') continue;
    if (spec === 'and') {
      andSet = set;
      set = new Set();
      continue;
    }
    let found: ShowObject[];
    if (spec === 'changed') found = all.filter((o) => changed.includes(o.id));
    else if (spec.startsWith('type:')) found = all.filter((o) => cliType[o.kind] === spec.slice(5));
    else if (spec.startsWith('tag:')) {
      const tags = all.filter((o) => o.kind === 'tag' && o.id === spec.slice(4));
      const members = new Set(tags.flatMap((t) => elementsOf(t.node, 'obj_ref').map((r) => r.attrs.get('id'))));
      found = all.filter((o) => o.kind !== 'node' && o.kind !== 'tag' && members.has(o.id));
    } else if (spec.startsWith('related:')) {
      const name = spec.slice(8);
      const parts = name.split(':');
      found = all.filter((o) => o.id === name || refsOf(o).includes(name));
      const self = all.find((o) => o.id === name);
      if (self) for (const r of refsOf(self)) for (const o of all) if (o.id === r && !found.includes(o)) found.push(o);
      const tp = parts[parts.length - 1];
      found.push(...all.filter((o) => o.kind === 'primitive' && tp && o.node.attrs.get('type') === tp && (parts.length < 2 || o.node.attrs.get('class') === parts[0])));
    } else {
      const re = globRe(spec);
      found = all.filter((o) => re.test(o.id) || (o.kind === 'node' && re.test(o.node.attrs.get('uname') ?? '')));
      if (found.length === 0) return { ok: false, missing: spec };
    }
    for (const o of found) set.add(o);
    if (andSet) {
      set = new Set([...set].filter((o) => andSet!.has(o)));
      andSet = undefined;
    }
  }
  return { ok: true, objs: [...set] };
}

/**
 * Renders chosen objects in crmsh's order (kind, then id, or with sort_elements off the
 * session's object list order). With the session, objects whose crm syntax would not read back come out
 * as `xml ...` (as crmsh prints them); `obscure` (fnmatch patterns, crmsh's obscure_pattern
 * `passw*` for `show`) hides matching nvpair values as `******`.
 */
export function renderObjects(objs: readonly ShowObject[], sortElements = true, session?: ConfigSession, obscure: readonly string[] = []): string {
  // Unsorted: crmsh's object list order (document order, then creation order); stable otherwise.
  const place = (o: ShowObject): number => session?.listPosition(o.id) ?? Number.MAX_SAFE_INTEGER;
  const sorted = [...objs].sort((a, b) => rank[a.kind]! - rank[b.kind]! || (sortElements ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : place(a) - place(b)));
  const saved = [referencedRules, nodeCount, obscurePatterns] as const;
  referencedRules = ruleRefs(session, objs);
  nodeCount = session?.nodeNames().length;
  obscurePatterns = obscure.map(globRe);
  try {
    return sorted.map((o) => renderChecked(o, session)).join('\n');
  } finally {
    [referencedRules, nodeCount, obscurePatterns] = saved;
  }
}

/**
 * An object in crm syntax, or as `xml <element ...>` when that syntax does not read back to the
 * same element (crmsh cli_use_validate and nocli: parsed with ids harvested from the object
 * itself, member references resolved to the members, compared attribute for attribute, children
 * in any order but resource sets' and group members' in order).
 */
function renderChecked(o: ShowObject, session: ConfigSession | undefined): string {
  const node = !session || session.asRead(o.id) ? sanitized(o.node) : o.node;
  const patterns = obscurePatterns;
  obscurePatterns = [];
  let text: string;
  try {
    text = renderObject(node, o.kind);
  } finally {
    obscurePatterns = patterns;
  }
  // An empty fencing-topology is `fencing_topology` alone (crmsh prints it so).
  const empty = o.kind === 'fencing-topology' && elementsOf(node).length === 0;
  const ok = !session || empty || (nvsetSections[o.kind] ? nvsetReadsBack(session, { ...o, node }, text) : !xmlObjectTags.has(node.tag) || readsBack(session, node, text));
  if (!ok) return o.kind === 'rsc_defaults' || o.kind === 'op_defaults' ? renderXmlDefaults(o.kind, node) : renderXmlObject(node);
  return patterns.length > 0 ? renderObject(node, o.kind) : text;
}

/**
 * A defaults set crm syntax cannot hold, as `xml <rsc_defaults><meta_attributes ...>...</rsc_defaults>`
 * (resp. op_defaults). crmsh prints the bare `xml <meta_attributes ...>`, which says nothing of
 * its section, so neither crmsh nor paceline reads it back; wrapped in its section it is the
 * element crmsh's own parser makes of `rsc_defaults ...`, which crmsh 4.4 (`load update` of a
 * file) and paceline read back with every id kept. A deliberate difference from crmsh (see README).
 */
function renderXmlDefaults(kind: 'rsc_defaults' | 'op_defaults', set: CNode): string {
  return renderXmlObject(cnode(kind, {}, [set]));
}

/** Attributes at their defaults, which crmsh drops when it reads a CIB (sanitize_cib). */
const attrDefaults: Record<string, Record<string, string>> = {
  node: { type: 'normal' }, resource_set: { sequential: 'true', 'require-all': 'true' }, rule: { 'boolean-op': 'and' }, expression: { type: 'string' },
};
const containerKinds = new Set(['group', 'clone', 'master', 'bundle']);

/**
 * An object as crmsh holds it after reading the CIB (xmlutil.sanitize_cib): attributes at their
 * defaults dropped, a container's attribute sets before its members. Only what show prints.
 */
export function sanitized(n: CNode): CNode {
  const defaults = attrDefaults[n.tag];
  const attrs = new Map([...n.attrs].filter(([k, v]) => defaults?.[k] !== v));
  let children = n.children.map(sanitized);
  if (containerKinds.has(n.tag)) children = [...children.filter((c) => c.tag !== 'primitive' && c.tag !== 'group'), ...children.filter((c) => c.tag === 'primitive' || c.tag === 'group')];
  return { ...n, attrs, children };
}

const nvsetSections: Record<string, string> = { cluster_property_set: 'crm_config', rsc_defaults: 'rsc_defaults', op_defaults: 'op_defaults' };

/** The same check for a property or defaults set: ids harvested from its section (crmsh _get_oldnode). */
function nvsetReadsBack(session: ConfigSession, o: ShowObject, text: string): boolean {
  const parsed = parseShown(session, text);
  if (!parsed) return false;
  const set = parsed.tag === 'cluster_property_set' ? parsed : elementsOf(parsed)[0];
  const section = elementsOf(session.configuration(), nvsetSections[o.kind]!)[0];
  return set !== undefined && section !== undefined && sameUnordered(o.node, session.withIdsFrom(set, section));
}

function parseShown(session: ConfigSession, text: string): CNode | undefined {
  const cmds = splitCommands(text);
  if (cmds.length !== 1) return undefined;
  const lexed = tokenize(cmds[0]!);
  if (!lexed.ok) return undefined;
  const parsed = parseCommand(lexed.tokens, {
    ocf11: schemaIsOcf11(session.cib.attrs.get('validate-with')),
    resolveIdRef: (t, id) => session.resolveIdRef(t, id),
    nodeNames: () => session.nodeNames(),
  });
  return parsed.ok ? parsed.node : undefined;
}

function readsBack(session: ConfigSession, obj: CNode, text: string): boolean {
  const parsed = parseShown(session, text);
  if (parsed === undefined) return false;
  // crmsh resolve_references: a container's member references become copies of the members.
  const members = elementsOf(obj);
  const resolved = {
    ...parsed,
    children: parsed.children.map((c) => (c.tag === 'crmsh-ref' ? members.find((m) => m.attrs.get('id') === c.attrs.get('id')) ?? c : c)),
  };
  return sameUnordered(obj, session.withIdsFrom(resolved, obj));
}

/** crmsh xmlutil.xml_equals_unordered (comments aside). */
export function sameUnordered(a: CNode, b: CNode): boolean {
  if (a.tag !== b.tag || a.attrs.size !== b.attrs.size) return false;
  for (const [k, v] of a.attrs) if (b.attrs.get(k) !== v) return false;
  const ak = elementsOf(a);
  const bk = elementsOf(b);
  if (ak.length !== bk.length) return false;
  if (a.tag === 'resource_set') return ak.every((c, i) => sameUnordered(c, bk[i]!));
  const key = (n: CNode): string => (n.tag === 'primitive' ? n.tag : n.tag + [...n.attrs.keys(), ...n.attrs.values()].sort().join(''));
  const order = (l: CNode[]): CNode[] => [...l].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  const as = order(ak);
  const bs = order(bk);
  return as.every((c, i) => sameUnordered(c, bs[i]!));
}

/** crmsh _repr_cli_xml: `xml` and the element pretty-printed, continued with ` \` lines. */
function renderXmlObject(n: CNode): string {
  const lines = writeElement(toXml(n)).split('\n').filter((l) => l.trim() !== '');
  return `xml ${lines.join(' \\\n')}`;
}

/** crmsh quote_wrap: bare when only word characters, dots and dashes, else in double quotes. */
function quote(v: string): string {
  if (/^[\w.-]+$/.test(v)) return v;
  return `"${v.replace(/"/g, '\\"')}"`;
}

function nvpairs(set: CNode): string[] {
  return elementsOf(set, 'nvpair').map((nv) => {
    if (nv.attrs.has('id-ref')) return `@${nv.attrs.get('id-ref')}${nv.attrs.has('name') ? `:${nv.attrs.get('name')}` : ''}`;
    const name = nv.attrs.get('name') ?? '';
    const value = nv.attrs.get('value');
    if (value === undefined) return name;
    return `${name}=${quote(obscurePatterns.some((re) => re.test(name)) ? '******' : value)}`;
  });
}

function score(attrs: Map<string, string>): string {
  if (attrs.has('score-attribute')) return `${attrs.get('score-attribute')}:`;
  const s = attrs.get('score');
  if (s === undefined) return '';
  // crmsh get_score: INFINITY written inf, its sign kept (+INFINITY is +inf).
  return `${s.replace('INFINITY', 'inf')}:`;
}

function renderExpression(e: CNode): string {
  if (e.tag === 'date_expression') {
    const op = e.attrs.get('operation');
    if (op === 'lt') return `date lt ${quote(e.attrs.get('end') ?? '')}`;
    if (op === 'gt') return `date gt ${quote(e.attrs.get('start') ?? '')}`;
    const parts: string[] = [];
    for (const k of ['start', 'end']) if (e.attrs.has(k)) parts.push(`${k}=${quote(e.attrs.get(k)!)}`);
    for (const sub of elementsOf(e)) for (const [k, v] of sub.attrs) if (k !== 'id') parts.push(`${k}=${quote(v)}`);
    return `date ${op === 'in_range' ? 'in' : 'spec'} ${parts.join(' ')}`;
  }
  const op = e.attrs.get('operation') ?? '';
  const attr = e.attrs.get('attribute') ?? '';
  if (op === 'defined' || op === 'not_defined') return `${op} ${attr}`;
  const type = e.attrs.get('type');
  const value = e.attrs.has('value-source') ? `${e.attrs.get('value-source')}{${e.attrs.get('value')}}` : quote(e.attrs.get('value') ?? '');
  return `${attr} ${type ? `${type}:` : ''}${op} ${value}`;
}

function renderRule(rule: CNode): string {
  const parts = ['rule'];
  const id = rule.attrs.get('id');
  if (rule.attrs.has('id-ref')) return `rule $id-ref=${rule.attrs.get('id-ref')}`;
  if (id !== undefined && referencedRules.has(id)) parts.push(`$id=${id}`);
  if (rule.attrs.has('role')) parts.push(`$role=${rule.attrs.get('role')}`);
  const sc = score(rule.attrs);
  if (sc && sc !== 'inf:') parts.push(sc);
  const op = rule.attrs.get('boolean-op') ?? 'and';
  parts.push(elementsOf(rule).map(renderExpression).join(` ${op} `));
  return parts.join(' ');
}

function renderSet(keyword: string, set: CNode): string {
  if (set.attrs.has('id-ref')) return `${keyword} $id-ref=${set.attrs.get('id-ref')}`;
  // crmsh (_attr_set_str) prints a set's $id only when is_id_refd finds it, which its lookup
  // never does: the id stays out (edit and filter keep it, harvesting it from the old set).
  const parts = [keyword];
  if (set.attrs.has('score')) parts.push(`${set.attrs.get('score')}:`);
  for (const r of elementsOf(set, 'rule')) parts.push(renderRule(r));
  parts.push(...nvpairs(set));
  return parts.join(' ');
}

function attributeLines(n: CNode, id: string, map: Record<string, string>): string[] {
  const lines: string[] = [];
  for (const c of elementsOf(n)) {
    const kw = map[c.tag];
    if (kw) lines.push(renderSet(kw, c));
  }
  return lines;
}

function renderOp(op: CNode, rscId: string): string[] {
  const parts = ['op', op.attrs.get('name') ?? ''];
  for (const [k, v] of op.attrs) if (k !== 'name' && k !== 'id') parts.push(`${k}=${quote(v)}`);
  const lines = [parts.join(' ')];
  const opId = op.attrs.get('id') ?? `${rscId}-${op.attrs.get('name')}`;
  for (const c of elementsOf(op)) {
    if (c.tag === 'instance_attributes') lines.push(renderSet('op_params', c));
    if (c.tag === 'meta_attributes') lines.push(renderSet('op_meta', c));
  }
  return lines;
}

function raType(n: CNode): string {
  const cls = n.attrs.get('class');
  const prov = n.attrs.get('provider');
  const type = n.attrs.get('type') ?? '';
  if (cls === 'ocf' && prov === 'heartbeat') return type;
  return [cls, prov, type].filter((x) => x !== undefined).join(':');
}

function refWithRole(id: string, role: string | undefined): string {
  return role ? `${id}:${role}` : id;
}

/** Resource sets in crm syntax (crmsh cliformat.rsc_set_constraint), `_rsc_set_` marking a degenerate one. */
function renderSets(n: CNode, q: 'role' | 'action', kind: string): string {
  const col: string[] = [];
  let cnt = 0;
  let sequential: boolean | undefined;
  let requireAll: boolean | undefined;
  const bool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : ['true', 'yes', 'on', '1'].includes(v.toLowerCase()));
  for (const set of elementsOf(n, 'resource_set')) {
    sequential = bool(set.attrs.get('sequential'));
    requireAll = bool(set.attrs.get('require-all'));
    if (requireAll === false) col.push('[');
    else if (sequential === false) col.push('(');
    const qual = set.attrs.get(q);
    for (const r of elementsOf(set, 'resource_ref')) {
      col.push(qual ? `${r.attrs.get('id')}:${qual}` : (r.attrs.get('id') ?? ''));
      cnt++;
    }
    if (requireAll === false) {
      if (sequential === undefined || sequential) col.push('sequential=true');
      col.push(']');
    } else if (sequential === false) col.push(')');
  }
  const isTicket = kind === 'rsc_ticket';
  const isLocation = kind === 'rsc_location';
  const seqAll = (sequential === undefined || sequential) && (requireAll === undefined || requireAll);
  if (!isLocation && ((seqAll && !isTicket && cnt <= 2) || (isTicket && cnt <= 1))) col.unshift('_rsc_set_');
  return col.join(' ');
}

function renderObject(n: CNode, kind: string): string {
  const id = n.attrs.get('id') ?? '';
  let head: string;
  let lines: string[] = [];
  switch (kind) {
    case 'node': {
      const uname = n.attrs.get('uname') ?? id;
      head = `node ${id && id !== uname ? `${id}: ` : ''}${uname}${n.attrs.has('type') && n.attrs.get('type') !== 'normal' ? `:${n.attrs.get('type')}` : ''}`;
      lines = attributeLines(n, id, { instance_attributes: 'attributes', utilization: 'utilization' });
      break;
    }
    case 'primitive':
    case 'template': {
      head = `${kind === 'template' ? 'rsc_template' : 'primitive'} ${id} ${n.attrs.has('template') ? `@${n.attrs.get('template')}` : raType(n)}`;
      // Parts in document order, as crmsh prints them (ops before meta when they came first).
      const setNames: Record<string, string> = { instance_attributes: 'params', meta_attributes: 'meta', utilization: 'utilization' };
      for (const c of elementsOf(n)) {
        if (setNames[c.tag]) lines.push(renderSet(setNames[c.tag]!, c));
        else if (c.tag === 'operations') {
          if (c.attrs.has('id-ref')) lines.push(`operations  $id-ref=${c.attrs.get('id-ref')}`);
          else if (c.attrs.has('id')) lines.push(`operations $id=${c.attrs.get('id')}`);
          for (const op of elementsOf(c, 'op')) lines.push(...renderOp(op, id));
        }
      }
      break;
    }
    case 'group': {
      const children = elementsOf(n).filter((c) => c.tag === 'primitive').map((c) => c.attrs.get('id'));
      head = `group ${id} ${children.join(' ')}`;
      lines = attributeLines(n, id, { instance_attributes: 'params', meta_attributes: 'meta' });
      break;
    }
    case 'clone':
    case 'master': {
      const child = elementsOf(n).find((c) => c.tag === 'primitive' || c.tag === 'group');
      head = `${kind === 'master' ? 'ms' : 'clone'} ${id} ${child?.attrs.get('id') ?? ''}`;
      lines = attributeLines(n, id, { instance_attributes: 'params', meta_attributes: 'meta' });
      break;
    }
    case 'rsc_location': {
      const rsc = n.attrs.has('rsc-pattern') ? `/${n.attrs.get('rsc-pattern')}/` : (n.attrs.get('rsc') ?? (elementsOf(n, 'resource_set').length ? `{ ${renderSets(n, 'role', 'rsc_location')} }` : ''));
      head = `location ${id} ${rsc}`;
      for (const k of ['role', 'resource-discovery']) if (n.attrs.has(k)) head += ` ${k}=${n.attrs.get(k)}`;
      if (n.attrs.has('node')) head += ` ${score(n.attrs)} ${n.attrs.get('node')}`;
      lines = elementsOf(n, 'rule').map((r) => renderRule(r));
      break;
    }
    case 'rsc_colocation': {
      head = `colocation ${id} ${score(n.attrs)} `;
      head += n.attrs.has('rsc')
        ? `${refWithRole(n.attrs.get('rsc')!, n.attrs.get('rsc-role'))} ${refWithRole(n.attrs.get('with-rsc') ?? '', n.attrs.get('with-rsc-role'))}`
        : renderSets(n, 'role', 'rsc_colocation');
      if (n.attrs.has('node-attribute')) head += ` node-attribute=${n.attrs.get('node-attribute')}`;
      break;
    }
    case 'rsc_order': {
      const kindAttr = n.attrs.get('kind');
      const how = kindAttr ? `${kindAttr}:` : score(n.attrs);
      head = `order ${id} ${how === '' ? '' : `${how} `}`;
      head += n.attrs.has('first')
        ? `${refWithRole(n.attrs.get('first')!, n.attrs.get('first-action'))} ${refWithRole(n.attrs.get('then') ?? '', n.attrs.get('then-action'))}`
        : renderSets(n, 'action', 'rsc_order');
      if (n.attrs.has('symmetrical')) head += ` symmetrical=${n.attrs.get('symmetrical')}`;
      break;
    }
    case 'rsc_ticket': {
      head = `rsc_ticket ${id} ${n.attrs.get('ticket')}: `;
      head += n.attrs.has('rsc') ? refWithRole(n.attrs.get('rsc')!, n.attrs.get('rsc-role')) : renderSets(n, 'role', 'rsc_ticket');
      if (n.attrs.has('loss-policy')) head += ` loss-policy=${n.attrs.get('loss-policy')}`;
      break;
    }
    case 'fencing-topology':
      head = renderFencing(n);
      break;
    case 'tag':
      head = `tag ${id} ${elementsOf(n, 'obj_ref').map((r) => r.attrs.get('id')).join(' ')}`;
      break;
    case 'cluster_property_set':
    case 'rsc_defaults':
    case 'op_defaults': {
      const kw = kind === 'cluster_property_set' ? 'property' : kind;
      head = `${kw} ${id}:`;
      // In document order, as crmsh prints them: a rule after an nvpair does not read back
      // (the grammar takes rules first), so such a set comes out as XML, as crmsh's does.
      const pairs = nvpairs(n);
      lines = elementsOf(n)
        .filter((c) => c.tag === 'rule' || c.tag === 'nvpair')
        .map((c) => (c.tag === 'rule' ? renderRule(c) : pairs.shift()!));
      break;
    }
    case 'bundle':
      head = `bundle ${id}`;
      lines = renderBundle(n, id);
      break;
    case 'acl_role':
      head = `role ${id}`;
      lines = elementsOf(n, 'acl_permission').map(renderPermission);
      break;
    case 'acl_target':
    case 'acl_group':
      head = `${kind} ${id}`;
      lines = elementsOf(n, 'role').map((r) => r.attrs.get('id') ?? '');
      break;
    case 'acl_user':
      head = `user ${id}`;
      lines = elementsOf(n).map((c) => (c.tag === 'role_ref' ? `role:${c.attrs.get('id')}` : `${c.tag} ${[...c.attrs].filter(([k]) => k !== 'id').map(([k, v]) => `${k}:${v}`).join(' ')}`));
      break;
    case 'alert':
      head = `alert ${id} "${n.attrs.get('path') ?? ''}"`;
      lines = renderAlertBody(n, id);
      break;
    default:
      head = `${kind} ${id}`;
  }
  // crmsh repr_cli: an object's description is the first continuation line, whatever the object.
  const desc = n.attrs.get('description');
  return [head.trimEnd(), ...(desc !== undefined && kind !== 'fencing-topology' ? [`description=${quote(desc)}`] : []), ...lines].join(' \\\n\t');
}

/**
 * crmsh CibFencingOrder: levels by target (in order of appearance), each target's devices by
 * index; one device list for all when every target has the same and there are as many targets
 * as nodes, else a continuation line per target (`attr:NAME=VALUE` and `pattern:RE` without colon).
 */
function renderFencing(n: CNode): string {
  const byTarget = new Map<string, Array<{ index: number; devices: string }>>();
  for (const l of elementsOf(n, 'fencing-level')) {
    const t = l.attrs.has('target') ? `${l.attrs.get('target')!}:` : l.attrs.has('target-pattern') ? `pattern:${l.attrs.get('target-pattern')}` : `attr:${l.attrs.get('target-attribute')}=${l.attrs.get('target-value')}`;
    if (!byTarget.has(t)) byTarget.set(t, []);
    byTarget.get(t)!.push({ index: Number(l.attrs.get('index') ?? 0), devices: l.attrs.get('devices') ?? '' });
  }
  const lists = new Map([...byTarget].map(([t, ls]) => [t, [...ls].sort((a, b) => a.index - b.index).map((x) => x.devices).join(' ')]));
  const distinct = new Set(lists.values());
  if (distinct.size === 1 && (nodeCount === undefined || byTarget.size === nodeCount)) return `fencing_topology ${[...distinct][0]!}`;
  return ['fencing_topology', ...[...lists].map(([t, d]) => `${t} ${d}`)].join(' \\\n\t');
}

function renderBundle(n: CNode, id: string): string[] {
  const lines: string[] = [];
  for (const c of elementsOf(n)) {
    if (c.tag === 'meta_attributes') lines.push(renderSet('meta', c));
    else if (c.tag === 'primitive') lines.push(`primitive ${c.attrs.get('id')}`);
    else if (['docker', 'rkt', 'podman', 'network', 'storage'].includes(c.tag)) {
      const parts = [c.tag, ...[...c.attrs].map(([k, v]) => `${k}=${quote(v)}`)];
      for (const m of elementsOf(c)) parts.push(m.tag, ...[...m.attrs].map(([k, v]) => `${k}=${quote(v)}`));
      lines.push(parts.join(' '));
    }
  }
  return lines;
}

/** crmsh's ACL shortcuts, tried in order when printing an xpath back. */
const aclShortcutsRev: Array<[string, string[]]> = [
  ['meta', ["//primitive[@id='@@']/meta_attributes", "/nvpair[@name='@@']"]],
  ['params', ["//primitive[@id='@@']/instance_attributes", "/nvpair[@name='@@']"]],
  ['utilization', ["//primitive[@id='@@']/utilization"]],
  ['location', ["//rsc_location[@id='cli-prefer-@@' and @rsc='@@']"]],
  ['property', ['//crm_config/cluster_property_set', "/nvpair[@name='@@']"]],
  ['nodeattr', ['//nodes/node/instance_attributes', "/nvpair[@name='@@']"]],
  ['nodeutil', ['//nodes/node/utilization', "[@uname='@@']"]],
  ['node', ['//nodes/node', "[@uname='@@']"]],
  ['status', ['/cib/status']],
  ['cib', ['/cib']],
];

function xpathShortcut(xpath: string): string | undefined {
  for (const [key, parts] of aclShortcutsRev) {
    for (let k = parts.length; k >= 1; k--) {
      const pattern = parts
        .slice(0, k)
        .join('')
        .split('@@')
        .map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join("([^']+)");
      const m = new RegExp(`^${pattern}$`).exec(xpath);
      if (m) return m.length > 1 ? `${key}:${m.slice(1).join(':')}` : key;
    }
  }
  return undefined;
}

function renderPermission(p: CNode): string {
  const parts = [p.attrs.get('kind') ?? ''];
  const id = p.attrs.get('id');
  if (p.attrs.has('description')) parts.push(`description=${quote(p.attrs.get('description')!)}`);
  if (p.attrs.has('xpath')) {
    const x = p.attrs.get('xpath')!;
    parts.push(xpathShortcut(x) ?? `xpath:"${x}"`);
  }
  if (p.attrs.has('reference')) parts.push(`ref:${p.attrs.get('reference')}`);
  if (p.attrs.has('attribute')) parts.push(`attr:${p.attrs.get('attribute')}`);
  if (p.attrs.has('object-type')) parts.push(`type:${p.attrs.get('object-type')}`);
  void id;
  return parts.join(' ');
}

function renderAlertBody(n: CNode, id: string): string[] {
  const lines: string[] = [];
  for (const c of elementsOf(n)) {
    if (c.tag === 'instance_attributes') lines.push(renderSet('attributes', c));
    else if (c.tag === 'meta_attributes') lines.push(renderSet('meta', c));
    else if (c.tag === 'select') {
      const parts = ['select'];
      for (const sel of elementsOf(c)) {
        const what = sel.tag.replace(/^select_/, '');
        if (what === 'attributes' && elementsOf(sel, 'attribute').length > 0) parts.push(`attributes { ${elementsOf(sel, 'attribute').map((a) => a.attrs.get('name')).join(' ')} }`);
        else parts.push(what);
      }
      lines.push(parts.join(' '));
    } else if (c.tag === 'recipient') {
      const rid = c.attrs.get('id') ?? '';
      const sets = [
        ...elementsOf(c, 'instance_attributes').map((a) => renderSet('attributes', a)),
        ...elementsOf(c, 'meta_attributes').map((a) => renderSet('meta', a)),
      ];
      const value = quote(c.attrs.get('value') ?? '');
      const desc = c.attrs.has('description') ? ` description=${quote(c.attrs.get('description')!)}` : '';
      lines.push(sets.length > 0 ? `to { ${value}${desc} ${sets.join(' ')} }` : `to ${value}${desc}`);
    }
  }
  return lines;
}

/**
 * `show xml [ids...]`: the selected objects inside `<cib><configuration>` with the four main
 * sections always present, as crmsh prints it (objects in document order).
 */
export function renderShowXml(session: ConfigSession, ids: readonly string[] = []): string {
  const conf = cnode('configuration');
  const want = (n: CNode): boolean => ids.length === 0 || ids.includes(n.attrs.get('id') ?? '') || ids.includes(n.attrs.get('uname') ?? '');
  const main = ['crm_config', 'nodes', 'resources', 'constraints'];
  for (const name of main) conf.children.push(cnode(name));
  for (const sec of elementsOf(session.configuration())) {
    let out = conf.children.find((c) => c.tag === sec.tag);
    const picked = sec.tag === 'fencing-topology' ? (ids.length === 0 || ids.includes('fencing_topology') ? [sec] : []) : elementsOf(sec).filter(want);
    if (picked.length === 0) continue;
    if (sec.tag === 'fencing-topology') {
      conf.children.push(sec);
      continue;
    }
    if (!out) {
      out = cnode(sec.tag);
      conf.children.push(out);
    }
    out.children.push(...picked);
  }
  const body = writeXml({ before: [], root: toXml(cnode('cib', {}, [conf])), after: [] }).trimEnd();
  return `<?xml version="1.0" ?>\n${body}`;
}
