/**
 * A configure session on one CIB: the parsed objects are given ids the way crmsh's idmgmt
 * and fix_node_ids give them (`vip-instance_attributes-ip`, `vip-monitor-10s`, a `-0`, `-1`
 * suffix when taken), placed in their CIB section, and the result committed as one change.
 *
 * The session owns a mutable copy of the CIB for the length of one batch; nothing reaches the
 * caller before `result()`, so a failed batch changes nothing.
 */
import { applyChange, didYouMean, type XmlElement } from '@paceline/cib';
import { sameUnordered, sanitized } from './show.js';
import { addChild, cloneNode, cnode, elementsOf, firstOf, fromXml, isComment, parentOf, toXml, walk, type CNode } from './tree.js';

export interface SessionError {
  readonly code: 'id-in-use' | 'no-object' | 'not-primitive' | 'op-exists' | 'invalid-id' | 'child-in-use';
  readonly message: string;
}

/** Sub-id suffixes by element (crmsh constants.subpfx_list). */
const subpfx: Record<string, string> = {
  instance_attributes: 'instance_attributes',
  meta_attributes: 'meta_attributes',
  utilization: 'utilization',
  operations: 'ops',
  rule: 'rule',
  expression: 'expression',
  date_expression: 'expression',
  duration: 'duration',
  date_spec: 'date_spec',
  read: 'read',
  write: 'write',
  deny: 'deny',
};

const idless = new Set(['operations', 'fencing-topology', 'network', 'docker', 'rkt', 'storage', 'select', 'select_attributes', 'select_fencing', 'select_nodes', 'select_resources']);
const isRef = new Set(['resource_ref', 'obj_ref', 'crmsh-ref']);
const hintMap: Record<string, string> = {
  node: 'node', primitive: 'rsc', template: 'rsc', master: 'grp', group: 'grp', clone: 'grp', rsc_location: 'location', 'fencing-topology': 'fencing', tags: 'tag', alerts: 'alert',
};

/** Which configuration section holds each kind of object. */
const sectionOf: Record<string, string> = {
  node: 'nodes',
  primitive: 'resources', template: 'resources', group: 'resources', clone: 'resources', master: 'resources', bundle: 'resources',
  rsc_location: 'constraints', rsc_colocation: 'constraints', rsc_order: 'constraints', rsc_ticket: 'constraints',
  tag: 'tags', alert: 'alerts',
  acl_role: 'acls', acl_target: 'acls', acl_group: 'acls', acl_user: 'acls',
  cluster_property_set: 'crm_config', rsc_defaults: 'rsc_defaults', op_defaults: 'op_defaults',
};
export const resourceTags = new Set(['primitive', 'template', 'group', 'clone', 'master', 'bundle']);
const containerTags = new Set(['group', 'clone', 'master', 'bundle']);
const defaultSetId: Record<string, string> = { cluster_property_set: 'cib-bootstrap-options', rsc_defaults: 'rsc-options', op_defaults: 'op-options' };
const nvsetTags = new Set(['instance_attributes', 'meta_attributes', 'utilization', 'cluster_property_set']);
const validIdRe = /^[A-Za-z_][\w.-]*$/;
const constraintRscAttrs = ['rsc', 'with-rsc', 'first', 'then'];
/** crmsh's processing order of object kinds (_sort_cli_order), used to order deletions. */
const deleteRank: Record<string, number> = {
  node: 0, template: 1, primitive: 2, bundle: 3, group: 4, master: 5, clone: 6, tag: 8,
  rsc_location: 9, rsc_colocation: 9, rsc_order: 9, rsc_ticket: 10, cluster_property_set: 11, rsc_defaults: 12, op_defaults: 13,
  acl_role: 14, acl_target: 15, acl_group: 15, acl_user: 15, alert: 16,
};

function constraintRefs(con: CNode): string[] {
  const refs: string[] = [];
  for (const a of constraintRscAttrs) if (con.attrs.has(a)) refs.push(con.attrs.get(a)!);
  for (const set of elementsOf(con, 'resource_set')) for (const r of elementsOf(set, 'resource_ref')) refs.push(r.attrs.get('id') ?? '');
  return refs;
}

function renameRscRef(con: CNode, oldId: string, newId: string): void {
  for (const a of constraintRscAttrs) if (con.attrs.get(a) === oldId) con.attrs.set(a, newId);
}

/**
 * crmsh rename_rscref: references to `oldId` become `newId`, in simple constraints and in sets;
 * a set reference that became a duplicate is dropped (the later one stays), and a set
 * constraint left with two references becomes a simple one.
 */
function renameRscRefAll(con: CNode, oldId: string, newId: string): void {
  renameRscRef(con, oldId, newId);
  const sets = elementsOf(con, 'resource_set');
  if (sets.length === 0) return;
  const counts = new Map<string, number>();
  for (const set of sets) {
    for (const r of elementsOf(set, 'resource_ref')) {
      if (r.attrs.get('id') === oldId) r.attrs.set('id', newId);
      const id = r.attrs.get('id') ?? '';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  for (const set of sets) {
    set.children = set.children.filter((r) => {
      if (r.tag !== 'resource_ref') return true;
      const id = r.attrs.get('id') ?? '';
      const n = counts.get(id) ?? 0;
      if (n > 1) {
        counts.set(id, n - 1);
        return false;
      }
      return true;
    });
  }
  // crmsh leaves an emptied set behind, which the schema rejects (its commit then fails): drop it.
  con.children = con.children.filter((c) => c.tag !== 'resource_set' || elementsOf(c, 'resource_ref').length > 0);
  let total = 0;
  for (const n of counts.values()) total += n;
  if (total === 2) rsetConvert(con);
}

/** crmsh delete_rscref: drop the references to `id`, then simplify what is left. */
function deleteRscRef(con: CNode, id: string): void {
  let simple = false;
  for (const a of constraintRscAttrs) {
    if (con.attrs.get(a) === id) {
      con.attrs.delete(a);
      simple = true;
    }
  }
  if (simple) return;
  let count = 0;
  let nonseq = false;
  for (const set of elementsOf(con, 'resource_set')) {
    set.children = set.children.filter((r) => !(r.tag === 'resource_ref' && r.attrs.get('id') === id));
    const n = elementsOf(set, 'resource_ref').length;
    if (set.attrs.get('sequential') === 'false' && n > 1) nonseq = true;
    count += n;
  }
  con.children = con.children.filter((c) => c.tag !== 'resource_set' || elementsOf(c, 'resource_ref').length > 0);
  if (!nonseq && count === 2) rsetConvert(con);
}

/** crmsh rset_convert: a colocation or order on two references in sets becomes a simple one. */
function rsetConvert(con: CNode): void {
  if (con.tag !== 'rsc_colocation' && con.tag !== 'rsc_order') return;
  const sets = elementsOf(con, 'resource_set');
  const q = con.tag === 'rsc_order' ? 'action' : 'role';
  const refs: Array<[string, string | undefined]> = [];
  for (const set of sets) for (const r of elementsOf(set, 'resource_ref')) refs.push([r.attrs.get('id') ?? '', set.attrs.get(q)]);
  if (refs.length !== 2) return;
  let [a, b] = refs as [[string, string | undefined], [string, string | undefined]];
  if (sets.length === 1 && con.tag === 'rsc_colocation') [a, b] = [b, a];
  const names = con.tag === 'rsc_order' ? ['first', 'then'] : ['rsc', 'with-rsc'];
  con.children = con.children.filter((c) => c.tag !== 'resource_set');
  const tail = con.attrs.get('symmetrical') ?? con.attrs.get('node-attribute');
  const tailKey = con.attrs.has('symmetrical') ? 'symmetrical' : 'node-attribute';
  con.attrs.delete('symmetrical');
  con.attrs.delete('node-attribute');
  for (const [i, [rid, qual]] of [a, b].entries()) {
    con.attrs.set(names[i]!, rid);
    if (qual) con.attrs.set(`${names[i]}-${q}`, qual);
  }
  if (tail !== undefined) con.attrs.set(tailKey, tail);
}

/** crmsh silly_constraint: a constraint left without enough resources. */
function sillyConstraint(con: CNode, id: string): boolean {
  const alwaysOk = con.tag === 'rsc_location' || con.tag === 'rsc_ticket';
  if (firstOf(con, 'resource_set')) {
    const n = elementsOf(con, 'resource_set').reduce((k, s) => k + elementsOf(s, 'resource_ref').length, 0);
    return alwaysOk ? n < 1 : n <= 1;
  }
  if (con.attrs.has('rsc-pattern')) return false;
  let cnt = 0;
  let self = 0;
  for (const a of constraintRscAttrs) {
    if (!con.attrs.has(a)) continue;
    cnt++;
    if (con.attrs.get(a) === id) self++;
  }
  return alwaysOk ? cnt < 1 : self === 2 || cnt < 2;
}

/** Attributes that make an old element the match of a new one (crmsh xmlutil.match_list). */
const matchList: Record<string, readonly string[]> = {
  node: ['uname'], nvpair: ['name'], op: ['name', 'interval'], rule: ['score', 'score-attribute', 'role'],
  expression: ['attribute', 'operation', 'value'], 'fencing-level': ['target', 'devices'], alert: ['path'], recipient: ['value'],
};

/** crmsh xmlutil.lookup_node: the first unharvested child of `old` that matches `n`. */
function lookupNode(n: CNode, old: CNode | undefined, used: ReadonlySet<CNode>): CNode | undefined {
  if (!old) return undefined;
  const attrs = [...(matchList[n.tag] ?? []), ...(n.attrs.has('id') ? ['id'] : [])];
  return elementsOf(old).find((c) => !used.has(c) && c.tag === n.tag && attrs.every((a) => n.attrs.get(a) === c.attrs.get(a)));
}

/** The key of an element in crmsh's object list: its id (a node's uname when it has none). */
function listKey(n: CNode): string | undefined {
  if (n.tag === 'resource_ref' || n.tag === 'obj_ref') return undefined;
  return n.attrs.get('id') ?? (n.tag === 'node' ? n.attrs.get('uname') : undefined);
}

export class ConfigSession {
  readonly cib: CNode;
  private readonly ids = new Set<string>();
  /** Ids added during a trial run of fixNodeIds, to be taken back after it. */
  private trialIds: string[] | undefined;
  /**
   * crmsh's list of objects (cib_objects), whose order `show` keeps when sort_elements is off:
   * the objects read from the CIB in document order, then those created since, in creation
   * order (a primitive moved into a new clone keeps its place). Rebuilt by `reread`.
   */
  private listed = new Map<string, number>();
  private created = 0;
  /** Objects made or replaced from crm syntax since the CIB was read: crmsh shows them unsanitized. */
  private readonly touched = new Set<string>();

  constructor(private readonly original: XmlElement) {
    this.cib = fromXml(original);
    this.configuration();
    for (const n of walk(this.configuration())) {
      const id = n.attrs.get('id');
      if (id) this.ids.add(id);
    }
    this.listFromDocument();
  }

  /**
   * The CIB as read again after a commit (crmsh re-reads it): the id store holds the ids in the
   * document only, and the object list is in document order.
   */
  reread(): void {
    this.touched.clear();
    this.ids.clear();
    for (const n of walk(this.configuration())) {
      const id = n.attrs.get('id');
      if (id) this.ids.add(id);
    }
    this.listFromDocument();
  }

  /**
   * The second half of crmsh's cli_use_validate: `parsed` (an object read back from the crm
   * syntax `show` printed for `obj`) with its ids filled in as fix_node_ids does with `obj` as the
   * old node. The session is left as it was.
   */
  withIdsFrom(parsed: CNode, obj: CNode): CNode {
    const added: string[] = [];
    this.trialIds = added;
    try {
      const node = cloneNode(parsed);
      this.fixNodeIds(node, obj);
      return node;
    } finally {
      this.trialIds = undefined;
      for (const id of added) this.ids.delete(id);
    }
  }

  /** Lists the objects in document order. */
  private listFromDocument(): void {
    this.listed = new Map();
    for (const id of this.documentOrder()) if (!this.listed.has(id)) this.listed.set(id, this.listed.size);
    this.created = this.listed.size;
  }

  /** True for objects as read from the CIB, false for those made or replaced since (show sanitizes only the former). */
  asRead(id: string): boolean {
    return !this.touched.has(id);
  }

  private touch(node: CNode): void {
    const id = listKey(node);
    if (id !== undefined) this.touched.add(id);
  }

  /** An object's place in crmsh's object list (undefined: not listed, e.g. a nested copy). */
  listPosition(id: string): number | undefined {
    return this.listed.get(id);
  }

  /** Appends a new object to the list (or moves a re-created one to the end, as crmsh does). */
  private listCreated(node: CNode): void {
    this.touch(node);
    for (const n of walk(node)) {
      const id = listKey(n);
      if (id !== undefined && (n === node || (resourceTags.has(n.tag) && !this.listed.has(id)))) this.listed.set(id, this.created++);
    }
  }

  /** Ids in document order (parents before what they hold): objects, nested ones included. */
  private documentOrder(): string[] {
    const out: string[] = [];
    for (const n of walk(this.configuration())) {
      const id = listKey(n);
      if (id !== undefined) out.push(id);
    }
    return out;
  }

  configuration(): CNode {
    let c = firstOf(this.cib, 'configuration');
    if (!c) {
      c = cnode('configuration');
      this.cib.children.unshift(c);
    }
    return c;
  }

  /** The configuration section `name`, created at the end when missing (crmsh get_topnode). */
  section(name: string): CNode {
    const conf = this.configuration();
    let s = firstOf(conf, name);
    if (!s) s = addChild(conf, name);
    return s;
  }

  /** The tags, without creating an empty `<tags>` section when there is none. */
  private tagsIfAny(): CNode[] {
    const t = firstOf(this.configuration(), 'tags');
    return t ? elementsOf(t, 'tag') : [];
  }

  /** The new CIB: the original when nothing changed, else one change with epoch bumped once. */
  result(): XmlElement {
    return applyChange(this.original, toXml(this.cib));
  }

  // --- ids ---------------------------------------------------------------------------------

  private newId(node: CNode, pfxIn: string): string {
    const pfx = /^\d+$/.test(pfxIn) && node.tag !== 'node' ? `num-${pfxIn}` : pfxIn;
    const name = node.attrs.get('name');
    let id: string;
    if (node.tag === 'nvpair') id = `${pfx}-${name}`;
    else if (node.tag === 'op') {
      const interval = node.attrs.get('interval');
      id = interval ? `${pfx}-${name}-${interval}` : `${pfx}-${name}`;
    } else {
      const sub = subpfx[node.tag];
      id = sub ? `${pfx}-${sub}` : pfx;
    }
    if (this.ids.has(id)) {
      for (let cnt = 0; cnt < 99; cnt++) {
        if (!this.ids.has(`${id}-${cnt}`)) {
          id = `${id}-${cnt}`;
          break;
        }
      }
    }
    this.reserve(id);
    return id;
  }

  /** Adds an id to the id store, noting it when a trial run (`withIdsFrom`) must take it back. */
  private reserve(id: string): void {
    if (this.trialIds && !this.ids.has(id)) this.trialIds.push(id);
    this.ids.add(id);
  }

  private setId(node: CNode, hint: string, required = true): void {
    const id = node.attrs.get('id') ?? node.attrs.get('uname');
    if (id) this.reserve(id);
    const newId = id ?? (required ? this.newId(node, hint) : undefined);
    if (newId) node.attrs.set('id', newId);
  }

  /**
   * crmsh fix_node_ids: ids for every element that needs one, prefixed by its nearest id. With
   * `old` (the object being replaced, its ids already freed), an element without an id takes the
   * id of the old element it matches (xmlutil.lookup_node: same tag and match attributes, each
   * old element harvested once), so an edit keeps the ids of what it did not change.
   */
  fixNodeIds(node: CNode, old?: CNode): void {
    const used = new Set<CNode>();
    const recurse = (n: CNode, oldParent: CNode | undefined, prefix: string): void => {
      const ref = lookupNode(n, oldParent, used);
      const needsId = !isRef.has(n.tag) && !n.attrs.has('id-ref') && !idless.has(n.tag);
      if (needsId) {
        const oldId = ref?.attrs.get('id');
        if (!n.attrs.has('id') && oldId !== undefined) {
          n.attrs.set('id', oldId);
          used.add(ref!);
        }
        this.setId(n, prefix);
      }
      let next = prefix;
      if (n.tag === 'node' && n.attrs.has('uname')) next = n.attrs.get('uname')!;
      else if (n.attrs.has('id')) next = n.attrs.get('id')!;
      for (const c of n.children) if (!isComment(c)) recurse(c, ref ?? oldParent, next);
    };
    recurse(node, old, hintMap[node.tag] ?? '');
  }

  // --- lookups -----------------------------------------------------------------------------

  findById(id: string): CNode | undefined {
    for (const n of walk(this.configuration())) if (n.attrs.get('id') === id && n.tag !== 'resource_ref' && n.tag !== 'obj_ref') return n;
    return undefined;
  }

  /** ` (did you mean "x"?)` for an id that was not found: the nearest resource ids, or object ids. */
  near(id: string, resourcesOnly = false): string {
    const ids: string[] = [];
    for (const n of walk(this.configuration())) {
      const nid = n.attrs.get('id');
      if (nid !== undefined && resourceTags.has(n.tag)) ids.push(nid);
    }
    if (!resourcesOnly) for (const o of this.objects()) if (o.attrs.get('id') !== undefined) ids.push(o.attrs.get('id')!);
    return didYouMean(id, ids);
  }

  findResource(id: string): CNode | undefined {
    for (const n of walk(this.section('resources'))) if (resourceTags.has(n.tag) && n.attrs.get('id') === id) return n;
    return undefined;
  }

  /** Top-level objects in configuration order, as `show` lists them. */
  objects(): CNode[] {
    const out: CNode[] = [];
    for (const sec of elementsOf(this.configuration())) out.push(...elementsOf(sec));
    return out;
  }

  /** crmsh resolve_id_ref: an object id given where an attribute list is meant. */
  resolveIdRef(listType: string, idRef: string): string {
    const obj = this.objects().find((o) => o.attrs.get('id') === idRef) ?? this.findResource(idRef);
    if (obj) {
      for (const n of walk(obj)) if (n !== obj && n.tag === listType && n.attrs.get('id')) return n.attrs.get('id')!;
    }
    return idRef;
  }

  nodeNames(): string[] {
    return elementsOf(this.section('nodes'), 'node').map((n) => n.attrs.get('uname') ?? n.attrs.get('id') ?? '');
  }

  // --- adding objects ----------------------------------------------------------------------

  /** Adds a parsed object (crmsh create_from_cli). */
  add(parsed: CNode): SessionError | undefined {
    const node = cloneNode(parsed);
    if (node.tag === 'cluster_property_set' || node.tag === 'rsc_defaults' || node.tag === 'op_defaults') return this.addNvset(node);
    if (node.tag === 'op') return this.addOp(node);
    if (node.tag === 'fencing-topology') return this.addFencing(node);
    const id = node.attrs.get('id') ?? node.attrs.get('uname');
    if (node.tag === 'node') {
      const existing = elementsOf(this.section('nodes'), 'node').find((n) => (n.attrs.get('id') ?? n.attrs.get('uname')) === id || n.attrs.get('uname') === node.attrs.get('uname'));
      if (existing) {
        this.fixNodeIds(node);
        this.touch(existing);
        this.mergeNodes(existing, node);
        return undefined;
      }
    } else if (id !== undefined && !validIdRe.test(id)) return { code: 'invalid-id', message: `${id}: invalid object id` };
    if (id !== undefined && this.idTaken(id, node.tag === 'node')) return { code: 'id-in-use', message: `id ${id} is already in use` };
    // A container given as XML (`xml <bundle ...>`, as show prints one) holds its members itself:
    // top-level resources of the same ids (show lists members on their own too) give way to them.
    if (containerTags.has(node.tag)) {
      for (const member of elementsOf(node).filter((c) => resourceTags.has(c.tag))) {
        const there = this.findResource(member.attrs.get('id') ?? '');
        const at = there ? parentOf(this.configuration(), there) : undefined;
        if (!there || !at || at.tag !== 'resources') continue;
        at.children.splice(at.children.indexOf(there), 1);
        for (const n of walk(there)) if (n.attrs.get('id')) this.ids.delete(n.attrs.get('id')!);
      }
    }
    this.fixNodeIds(node);
    const err = this.resolveReferences(node);
    if (err) return err;
    this.section(sectionOf[node.tag] ?? node.tag).children.push(node);
    this.listCreated(node);
    if (containerTags.has(node.tag)) this.redirectChildrenConstraints(node);
    return undefined;
  }

  /** crmsh _redirect_children_constraints: constraints on the new container's children move to it. */
  private redirectChildrenConstraints(container: CNode): void {
    const id = container.attrs.get('id')!;
    const constraints = (): CNode[] => elementsOf(this.section('constraints'));
    for (const child of elementsOf(container).filter((c) => resourceTags.has(c.tag))) {
      const childId = child.attrs.get('id')!;
      for (const con of constraints()) if (constraintRefs(con).includes(childId)) renameRscRefAll(con, childId, id);
    }
    for (const con of constraints()) if (constraintRefs(con).includes(id) && sillyConstraint(con, id)) this.removeObject(con);
  }

  /** Nodes and resources may share an id (crmsh keeps them apart); anything else may not. */
  private idTaken(id: string, isNode: boolean): boolean {
    const holders: CNode[] = [];
    for (const n of walk(this.configuration())) if (n.attrs.get('id') === id && n.tag !== 'resource_ref' && n.tag !== 'obj_ref') holders.push(n);
    if (holders.length === 0) return !isNode && this.ids.has(id) && !elementsOf(this.section('nodes'), 'node').some((n) => n.attrs.get('uname') === id);
    return holders.some((h) => (h.tag === 'node') === isNode);
  }

  private mergeNodes(dnode: CNode, snode: CNode): void {
    for (const sc of elementsOf(snode)) {
      const dc = elementsOf(dnode, sc.tag)[0];
      if (!dc) {
        if (nvsetTags.has(sc.tag) || sc.tag === 'operations') dnode.children.push(cloneNode(sc));
      } else if (nvsetTags.has(dc.tag)) this.mergeAttributes(dc, sc, 'nvpair');
      else if (dc.tag === 'operations') this.mergeAttributes(dc, sc, 'op');
    }
  }

  private mergeAttributes(dnode: CNode, snode: CNode, tag: string): void {
    for (const c of elementsOf(snode, tag)) {
      const name = c.attrs.get('name');
      const dc = elementsOf(dnode, tag).find((d) => d.attrs.get('name') === name);
      if (dc) {
        const v = c.attrs.get('value');
        if (v !== undefined) dc.attrs.set('value', v);
      } else dnode.children.push(cloneNode(c));
    }
  }

  /** Children named by `crmsh-ref` move into their new container (crmsh resolve_references). */
  private resolveReferences(node: CNode): SessionError | undefined {
    const refs = node.children.filter((c) => c.tag === 'crmsh-ref');
    for (const ref of refs) {
      const childId = ref.attrs.get('id')!;
      const child = this.findResource(childId);
      const idx = node.children.indexOf(ref);
      if (!child) return { code: 'no-object', message: `${node.attrs.get('id')} refers to missing object ${childId}${this.near(childId, true)}` };
      const parent = parentOf(this.configuration(), child);
      if (parent && parent.tag !== 'resources') return { code: 'child-in-use', message: `${childId} already in use at ${parent.attrs.get('id')}` };
      if (parent) parent.children.splice(parent.children.indexOf(child), 1);
      node.children.splice(idx, 1, child);
    }
    return undefined;
  }

  private addNvset(root: CNode): SessionError | undefined {
    const set = root.tag === 'cluster_property_set' ? root : elementsOf(root)[0]!;
    const secName = sectionOf[root.tag]!;
    if (!set.attrs.get('id')) {
      set.attrs.set('id', defaultSetId[root.tag]!);
      this.ids.add(defaultSetId[root.tag]!);
    }
    const psetId = set.attrs.get('id')!;
    this.touched.add(psetId);
    if (!validIdRe.test(psetId)) return { code: 'invalid-id', message: `${psetId}: invalid object id` };
    // crmsh set_property_cli: the set of that id takes the nvpairs, whichever section holds it
    // (`op_defaults X:` adds to an rsc_defaults set X); another element of that id is a clash.
    const nvsetSections = ['crm_config', 'rsc_defaults', 'op_defaults'];
    const existing = this.findById(psetId);
    const parent = existing ? parentOf(this.configuration(), existing) : undefined;
    if (existing && !(parent && nvsetSections.includes(parent.tag))) return { code: 'id-in-use', message: `id ${psetId} is already in use` };
    this.fixNodeIds(set);
    const section = this.section(secName);
    let obj = existing;
    if (!obj) {
      // A new set keeps what it was given (a score from `xml <cluster_property_set score=...>`).
      obj = cnode(set.tag, { ...Object.fromEntries(set.attrs), id: psetId });
      section.children.push(obj);
    }
    this.copyNvpairs(obj, set);
    return undefined;
  }

  private copyNvpairs(to: CNode, from: CNode): void {
    for (const c of from.children) {
      if (isComment(c)) {
        if (!to.children.some((x) => isComment(x) && x.text === c.text)) to.children.push(cloneNode(c));
      } else if (c.tag === 'nvpair') {
        if (!c.attrs.has('value')) {
          to.children.push(cloneNode(c));
          continue;
        }
        const same = elementsOf(to, 'nvpair').find((n) => n.attrs.get('name') === c.attrs.get('name'));
        if (same) same.attrs.set('value', c.attrs.get('value')!);
        else to.children.push(cloneNode(c));
      } else if (c.attrs.has('id')) {
        const i = to.children.findIndex((x) => x.attrs.get('id') === c.attrs.get('id'));
        if (i >= 0) to.children[i] = cloneNode(c);
        else to.children.push(cloneNode(c));
      } else to.children.push(cloneNode(c));
    }
  }

  private addOp(op: CNode): SessionError | undefined {
    const rscId = op.attrs.get('rsc')!;
    const rsc = this.findResource(rscId);
    if (!rsc) return { code: 'no-object', message: `object ${rscId} does not exist${this.near(rscId)}` };
    if (rsc.tag !== 'primitive') return { code: 'not-primitive', message: `${rscId} is not a primitive` };
    op.attrs.delete('rsc');
    const name = op.attrs.get('name');
    const interval = op.attrs.get('interval');
    let ops = firstOf(rsc, 'operations');
    if (ops && elementsOf(ops, 'op').some((o) => o.attrs.get('name') === name && o.attrs.get('interval') === interval)) {
      return { code: 'op-exists', message: `${rscId} already has a ${name} op with interval ${interval}` };
    }
    this.setId(op, rscId);
    if (!ops) ops = addChild(rsc, 'operations');
    ops.children.push(op);
    return undefined;
  }

  private addFencing(node: CNode): SessionError | undefined {
    const conf = this.configuration();
    const old = firstOf(conf, 'fencing-topology');
    if (old) {
      for (const n of walk(old)) if (n.attrs.get('id')) this.ids.delete(n.attrs.get('id')!);
    }
    this.fixNodeIds(node);
    if (old) conf.children[conf.children.indexOf(old)] = node;
    else conf.children.push(node);
    return undefined;
  }

  // --- delete ------------------------------------------------------------------------------

  /**
   * Removes objects by id (crmsh `delete`): children of a container go back to the top level,
   * tags lose the reference, constraints lose it too (a simple constraint on a container passes
   * to its first child; a set constraint left with two references becomes a simple one; one
   * left pointing at nothing is removed).
   */
  delete(id: string): SessionError | undefined {
    const conf = this.configuration();
    if (id === 'fencing_topology') {
      const ft = firstOf(conf, 'fencing-topology');
      if (!ft) return { code: 'no-object', message: `object ${id} does not exist${this.near(id)}` };
      conf.children.splice(conf.children.indexOf(ft), 1);
      for (const n of walk(ft)) if (n.attrs.get('id')) this.ids.delete(n.attrs.get('id')!);
      return undefined;
    }
    const target = this.objectById(id);
    if (!target) return { code: 'no-object', message: `object ${id} does not exist${this.near(id)}` };
    this.deleteOne(target);
    return undefined;
  }

  /**
   * crmsh `delete ID...`: the objects go in reverse processing order (constraints before the
   * resources they name, containers before their children), as crmsh sorts them.
   */
  deleteMany(ids: readonly string[]): SessionError | undefined {
    const targets: CNode[] = [];
    for (const id of ids) {
      if (id === 'fencing_topology') {
        const err = this.delete(id);
        if (err) return err;
        continue;
      }
      const t = this.objectById(id);
      if (!t) return { code: 'no-object', message: `object ${id} does not exist${this.near(id)}` };
      targets.push(t);
    }
    const key = (n: CNode): [number, string] => [deleteRank[n.tag] ?? 1000, n.attrs.get('id') ?? ''];
    targets.sort((a, b) => {
      const [ra, ia] = key(a);
      const [rb, ib] = key(b);
      return ra - rb || (ia < ib ? -1 : ia > ib ? 1 : 0);
    });
    for (const t of targets.reverse()) if (this.inTree(t)) this.deleteOne(t);
    return undefined;
  }

  private inTree(n: CNode): boolean {
    for (const x of walk(this.configuration())) if (x === n) return true;
    return false;
  }

  /** crmsh _delete_1: an only child takes its container with it (the container goes first). */
  private deleteOne(target: CNode): void {
    const parent = parentOf(this.configuration(), target);
    if (parent && containerTags.has(parent.tag) && elementsOf(parent).filter((c) => resourceTags.has(c.tag)).length === 1) this.deleteOne(parent);
    if (this.inTree(target)) this.removeObject(target);
  }

  /**
   * crmsh `rename`: the object's id changes, and so do the references to it in constraints
   * (simple ones and resource sets) and tags. Ids generated from the old id stay as they are.
   */
  rename(oldId: string, newId: string): SessionError | undefined {
    const obj = this.objectById(oldId);
    if (!obj) return { code: 'no-object', message: `object ${oldId} does not exist${this.near(oldId)}` };
    if (!validIdRe.test(newId)) return { code: 'invalid-id', message: `${newId}: invalid object id` };
    if (this.ids.has(newId) || this.findById(newId)) return { code: 'id-in-use', message: `id ${newId} is already in use` };
    obj.attrs.set('id', newId);
    this.ids.delete(oldId);
    this.ids.add(newId);
    const at = this.listed.get(oldId);
    if (at !== undefined) this.listed.set(newId, at);
    this.listed.delete(oldId);
    if (!resourceTags.has(obj.tag)) return undefined;
    for (const con of elementsOf(this.section('constraints'))) if (constraintRefs(con).includes(oldId)) renameRscRefAll(con, oldId, newId);
    for (const tag of this.tagsIfAny()) for (const r of elementsOf(tag, 'obj_ref')) if (r.attrs.get('id') === oldId) r.attrs.set('id', newId);
    return undefined;
  }

  private removeObject(target: CNode): void {
    const conf = this.configuration();
    const id = target.attrs.get('id') ?? '';
    const children = containerTags.has(target.tag) ? elementsOf(target).filter((c) => resourceTags.has(c.tag)) : [];
    const parent = parentOf(conf, target)!;
    parent.children.splice(parent.children.indexOf(target), 1);
    const resources = this.section('resources');
    for (const c of children) resources.children.push(c);
    for (const n of walk(target)) if (n.attrs.get('id')) this.ids.delete(n.attrs.get('id')!);
    for (const c of children) for (const n of walk(c)) if (n.attrs.get('id')) this.ids.add(n.attrs.get('id')!);
    if (!resourceTags.has(target.tag)) return;
    for (const tag of this.tagsIfAny()) {
      if (!elementsOf(tag, 'obj_ref').some((r) => r.attrs.get('id') === id)) continue;
      tag.children = tag.children.filter((r) => r.attrs.get('id') !== id);
      if (elementsOf(tag, 'obj_ref').length === 0) this.removeObject(tag);
    }
    for (const con of elementsOf(this.section('constraints'))) {
      if (!constraintRefs(con).includes(id)) continue;
      if (!firstOf(con, 'resource_set') && children.length > 0) renameRscRefAll(con, id, children[0]!.attrs.get('id')!);
      deleteRscRef(con, id);
      if (sillyConstraint(con, id)) this.removeObject(con);
    }
  }

  private objectById(id: string): CNode | undefined {
    for (const n of walk(this.configuration())) {
      if (n.attrs.get('id') !== id && !(n.tag === 'node' && n.attrs.get('uname') === id)) continue;
      if (resourceTags.has(n.tag) || n.tag === 'node' || Object.prototype.hasOwnProperty.call(sectionOf, n.tag)) return n;
      const p = parentOf(this.configuration(), n);
      if (p && (p.tag === 'crm_config' || p.tag === 'rsc_defaults' || p.tag === 'op_defaults')) return n;
    }
    return undefined;
  }

  // --- whole-object updates (edit, filter, modgroup, load) ---------------------------------

  /** A copy of the configuration, for `undo` and `show changed`. */
  snapshot(): CNode {
    return cloneNode(this.configuration());
  }

  /** Puts back a configuration taken by `snapshot()` (the id registry follows it). */
  restore(conf: CNode): void {
    const idx = this.cib.children.indexOf(this.configuration());
    this.cib.children[idx] = cloneNode(conf);
    this.ids.clear();
    for (const n of walk(this.configuration())) if (n.attrs.get('id')) this.ids.add(n.attrs.get('id')!);
  }

  /** The object `id` as `delete`, `rename` and `edit` address it (a node by uname, a property set by id). */
  findObject(id: string): CNode | undefined {
    if (id === 'fencing_topology') return firstOf(this.configuration(), 'fencing-topology');
    return this.objectById(id);
  }

  /**
   * crmsh update_element: the object `old` is replaced in place by a parsed object with the same
   * id. Ids of the old object are freed first, so unchanged parts get the ids they had; a
   * container takes the members it names (its own or top-level ones) and members it no longer
   * names go back to the top level. Constraints are left alone, as crmsh leaves them.
   */
  replaceObject(old: CNode, parsed: CNode): SessionError | undefined {
    let node = cloneNode(parsed);
    // A property or defaults set goes to the section its command names (an edit may move it).
    const home = parsed.tag === 'cluster_property_set' || parsed.tag === 'rsc_defaults' || parsed.tag === 'op_defaults' ? sectionOf[parsed.tag] : undefined;
    if (node.tag === 'rsc_defaults' || node.tag === 'op_defaults') {
      const set = elementsOf(node)[0];
      if (!set) return { code: 'no-object', message: `${node.tag} without attributes` };
      if (!set.attrs.get('id')) set.attrs.set('id', defaultSetId[node.tag]!);
      node = set;
    } else if (node.tag === 'cluster_property_set' && !node.attrs.get('id')) node.attrs.set('id', defaultSetId[node.tag]!);
    const conf = this.configuration();
    const parent = old.tag === 'fencing-topology' ? conf : parentOf(conf, old);
    if (!parent) return { code: 'no-object', message: `object ${old.attrs.get('id')} is not in the configuration` };
    const oldMembers = containerTags.has(old.tag) ? elementsOf(old).filter((c) => resourceTags.has(c.tag)) : [];
    // crmsh update_from_cli keeps the old object's ids reserved (its id store forgets them only
    // on delete or when the CIB is read again): new ids avoid them, matching parts take them back.
    this.fixNodeIds(node, old);
    // crmsh update_element: text that reads back as the object was (sanitized, as read) changes nothing.
    const oldId = listKey(old);
    const moves = home !== undefined && parent.tag !== home;
    if (!moves && !node.children.some((c) => c.tag === 'crmsh-ref') && oldId !== undefined && this.asRead(oldId) && sameUnordered(sanitized(old), node)) return undefined;
    this.touch(node);
    const taken = new Set<CNode>();
    for (const ref of node.children.filter((c) => c.tag === 'crmsh-ref')) {
      const childId = ref.attrs.get('id')!;
      const child = oldMembers.find((m) => m.attrs.get('id') === childId) ?? this.findResource(childId);
      if (!child) return { code: 'no-object', message: `${node.attrs.get('id')} refers to missing object ${childId}${this.near(childId, true)}` };
      const at = parentOf(conf, child);
      if (at && at !== old && at.tag !== 'resources') return { code: 'child-in-use', message: `${childId} already in use at ${at.attrs.get('id')}` };
      if (at && at !== old) at.children.splice(at.children.indexOf(child), 1);
      taken.add(child);
      node.children.splice(node.children.indexOf(ref), 1, child);
    }
    if (moves) {
      parent.children.splice(parent.children.indexOf(old), 1);
      this.section(home).children.push(node);
    } else parent.children[parent.children.indexOf(old)] = node;
    const resources = this.section('resources');
    for (const m of oldMembers) if (!taken.has(m)) resources.children.push(m);
    return undefined;
  }

  /**
   * crmsh create_from_node / update_from_node for `load xml`: an object given as CIB XML (ids
   * as written) is added, or replaces the object with its id. Nested members that exist
   * elsewhere are moved out of their old place first.
   */
  putXmlObject(section: string, el: CNode): SessionError | undefined {
    const node = cloneNode(el);
    const id = node.tag === 'fencing-topology' ? 'fencing_topology' : node.attrs.get('id') ?? node.attrs.get('uname');
    const old = id === undefined ? undefined : this.findObject(id);
    const conf = this.configuration();
    if (containerTags.has(node.tag)) {
      for (const member of walk(node)) {
        if (member === node || !resourceTags.has(member.tag)) continue;
        const there = this.findResource(member.attrs.get('id') ?? '');
        if (!there || (old && [...walk(old)].includes(there))) continue;
        const at = parentOf(conf, there);
        if (at) at.children.splice(at.children.indexOf(there), 1);
      }
    }
    if (old) {
      const parent = old.tag === 'fencing-topology' ? conf : parentOf(conf, old)!;
      for (const n of walk(old)) if (n.attrs.get('id')) this.ids.delete(n.attrs.get('id')!);
      parent.children[parent.children.indexOf(old)] = node;
    } else if (node.tag === 'fencing-topology') conf.children.push(node);
    else this.section(section).children.push(node);
    if (!old) this.listCreated(node);
    else this.touch(node);
    this.fixNodeIds(node);
    for (const n of walk(node)) if (n.attrs.get('id')) this.ids.add(n.attrs.get('id')!);
    return undefined;
  }

  /**
   * crmsh `modgroup GRP add ID [after|before REF]` and `modgroup GRP remove ID`: a top-level
   * primitive joins the group (at the end, or next to REF), or a member leaves it for the top level.
   */
  modgroup(groupId: string, op: 'add' | 'remove', rscId: string, where?: { readonly pos: 'after' | 'before'; readonly ref: string }): SessionError | undefined {
    const group = this.findResource(groupId);
    if (!group) return { code: 'no-object', message: `group ${groupId} does not exist${this.near(groupId, true)}` };
    if (group.tag !== 'group') return { code: 'not-primitive', message: `element ${groupId} is not a group` };
    const members = elementsOf(group).filter((c) => resourceTags.has(c.tag));
    const memberIds = members.map((m) => m.attrs.get('id'));
    if (where && !memberIds.includes(where.ref)) return { code: 'no-object', message: `${where.ref} is not member of ${groupId}` };
    if (op === 'remove') {
      const m = members.find((x) => x.attrs.get('id') === rscId);
      if (!m) return { code: 'no-object', message: `${rscId} is not member of ${groupId}` };
      if (members.length === 1) return { code: 'child-in-use', message: `${rscId} is the last member of ${groupId}: delete the group instead` };
      group.children.splice(group.children.indexOf(m), 1);
      this.section('resources').children.push(m);
      return undefined;
    }
    if (memberIds.includes(rscId)) return { code: 'child-in-use', message: `${rscId} is already a member of ${groupId}` };
    const rsc = this.findResource(rscId);
    if (!rsc) return { code: 'no-object', message: `object ${rscId} does not exist${this.near(rscId)}` };
    const at = parentOf(this.configuration(), rsc)!;
    if (at.tag !== 'resources') return { code: 'child-in-use', message: `${rscId} already in use at ${at.attrs.get('id')}` };
    if (rsc.tag !== 'primitive') return { code: 'not-primitive', message: `${rscId} is not a primitive` };
    at.children.splice(at.children.indexOf(rsc), 1);
    const ref = members.find((x) => x.attrs.get('id') === (where?.ref ?? memberIds[memberIds.length - 1]))!;
    const idx = group.children.indexOf(ref) + (where?.pos === 'before' ? 0 : 1);
    group.children.splice(idx, 0, rsc);
    return undefined;
  }

  /** `erase`: all resources, constraints, tags, alerts and properties go; `erase nodes` also nodes. */
  erase(nodes: boolean): void {
    const conf = this.configuration();
    for (const sec of elementsOf(conf)) {
      if (sec.tag === 'nodes' && !nodes) continue;
      sec.children = [];
    }
    conf.children = conf.children.filter((c) => c.tag !== 'fencing-topology');
    this.ids.clear();
    for (const n of walk(conf)) if (n.attrs.get('id')) this.ids.add(n.attrs.get('id')!);
  }

  /** A meta attribute on a resource, as `crm_resource --meta -p NAME -v VALUE` sets it. */
  setMeta(rscId: string, name: string, value: string): SessionError | undefined {
    const rsc = this.findResource(rscId);
    if (!rsc) return { code: 'no-object', message: `resource ${rscId} does not exist${this.near(rscId, true)}` };
    let meta = firstOf(rsc, 'meta_attributes');
    if (!meta) {
      meta = cnode('meta_attributes');
      const firstRes = rsc.children.findIndex((c) => resourceTags.has(c.tag));
      if (firstRes >= 0) rsc.children.splice(firstRes, 0, meta);
      else rsc.children.push(meta);
      this.setId(meta, rscId);
    }
    const nv = elementsOf(meta, 'nvpair').find((n) => n.attrs.get('name') === name);
    if (nv) nv.attrs.set('value', value);
    else this.setId(addChild(meta, 'nvpair', { name, value }), meta.attrs.get('id')!);
    return undefined;
  }

  /** crmsh `set PATH VALUE`: `rsc.param VALUE` sets an instance attribute. */
  setParam(path: string, value: string): SessionError | undefined {
    const [objId, attr] = path.split('.', 2) as [string, string | undefined];
    const obj = this.findResource(objId);
    if (!obj || !attr) return { code: 'no-object', message: `object ${objId} does not exist${this.near(objId)}` };
    for (const n of walk(obj)) {
      if (n.tag === 'nvpair' && n.attrs.get('name') === attr) {
        n.attrs.set('value', value);
        return undefined;
      }
    }
    let ia = firstOf(obj, 'instance_attributes');
    if (!ia) {
      ia = cnode('instance_attributes');
      obj.children.unshift(ia);
      this.setId(ia, objId);
    }
    const nv = addChild(ia, 'nvpair', { name: attr, value });
    this.setId(nv, ia.attrs.get('id')!);
    return undefined;
  }
}
