/**
 * Reads the typed model (model.ts) from the lossless XML tree (xml.ts).
 *
 * Reading is pure and total: any well-formed XML yields a model (a missing required attribute reads
 * as "" for ids and undefined elsewhere; validation reports it). Unmodelled children are listed in
 * each object's `unknown`. id-refs are resolved the way Pacemaker's `expand_idref` does it: the one
 * element anywhere in the document with the same element name and that `id` (none or several
 * matches: unresolved).
 */
import type {
  AclEntry,
  Acls,
  AgentFields,
  Alert,
  AlertRecipient,
  Bundle,
  BundleContainer,
  BundleNetwork,
  BundlePortMapping,
  BundleStorageMapping,
  Cib,
  CibAttributes,
  Clone,
  ColocationConstraint,
  Configuration,
  Constraint,
  Constraints,
  CrmConfig,
  DateExpression,
  DateFields,
  Defaults,
  Expression,
  FencingLevel,
  FencingTopology,
  Group,
  LocationConstraint,
  Lrm,
  LrmResource,
  LrmRscOp,
  Master,
  Node,
  NodeState,
  NvPair,
  NvSet,
  NvSetKind,
  OpExpression,
  Operation,
  Operations,
  OrderConstraint,
  Primitive,
  Resource,
  ResourceCommon,
  ResourceRef,
  Resources,
  ResourceSet,
  ResourceTemplate,
  RscExpression,
  Rule,
  RuleCondition,
  Status,
  Tag,
  TicketConstraint,
  TicketState,
  TransientAttributes,
  XmlAttrs,
} from './model.js';
import { parseXml, parseXmlPieces } from './xml.js';
import type { XmlDocument, XmlElement } from './xml.js';

/**
 * Per-read state: the document root (id-ref lookups search it) and a lazily built index from
 * "element name + id" to the unique element carrying it.
 */
class Reader {
  private index: Map<string, XmlElement | null> | undefined;
  private templates: Map<string, XmlElement> | undefined;
  private readonly refCache = new Map<XmlElement, unknown>();

  constructor(readonly root: XmlElement) {}

  /**
   * The first `<template>` directly under configuration/resources with this id, as Pacemaker's
   * expand_template finds it (first match, unlike id-refs).
   */
  template(id: string): XmlElement | undefined {
    if (!this.templates) {
      this.templates = new Map();
      const resources = firstNamed(firstNamed(this.root, 'configuration') ?? this.root, 'resources');
      for (const c of resources?.children ?? []) {
        const tid = c.kind === 'element' && c.name === 'template' ? c.attrs['id'] : undefined;
        if (c.kind === 'element' && tid !== undefined && !this.templates.has(tid)) this.templates.set(tid, c);
      }
    }
    return this.templates.get(id);
  }

  /** The unique element named `name` with `id`, as Pacemaker's expand_idref finds it. */
  lookup(name: string, id: string): XmlElement | undefined {
    if (!this.index) this.index = buildIdIndex(this.root);
    return this.index.get(`${name}\u0000${id}`) ?? undefined;
  }

  /**
   * Resolves `el`'s id-ref to a model object read (once per document) by `read`, which is called
   * without resolving the target's own id-ref (Pacemaker expands one level).
   */
  resolve<T>(el: XmlElement, read: (target: XmlElement) => T): T | undefined {
    const idRef = el.attrs['id-ref'];
    if (idRef === undefined) return undefined;
    const target = this.lookup(el.name, idRef);
    if (!target || target === el) return undefined;
    return this.resolveElement(target, read);
  }

  /** Reads `target` once per document, so every reference shares one model object. */
  resolveElement<T>(target: XmlElement, read: (target: XmlElement) => T): T {
    const cached = this.refCache.get(target);
    if (cached !== undefined) return cached as T;
    const value = read(target);
    this.refCache.set(target, value);
    return value;
  }
}

function buildIdIndex(root: XmlElement): Map<string, XmlElement | null> {
  const index = new Map<string, XmlElement | null>();
  const stack: XmlElement[] = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    const id = el.attrs['id'];
    if (id !== undefined) {
      const key = `${el.name}\u0000${id}`;
      index.set(key, index.has(key) ? null : el);
    }
    for (const c of el.children) if (c.kind === 'element') stack.push(c);
  }
  return index;
}

/** Splits `el`'s element children into those named in `known` (by name) and the rest. */
function partition(el: XmlElement, known: ReadonlySet<string>): { byName: Map<string, XmlElement[]>; unknown: XmlElement[] } {
  const byName = new Map<string, XmlElement[]>();
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (!known.has(c.name)) {
      unknown.push(c);
      continue;
    }
    const list = byName.get(c.name);
    if (list) list.push(c);
    else byName.set(c.name, [c]);
  }
  return { byName, unknown };
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

const ruleChildren = new Set(['rule', 'expression', 'date_expression', 'rsc_expression', 'op_expression']);

function readRule(r: Reader, el: XmlElement, resolveRef = true): Rule {
  const a = el.attrs;
  const expressions: RuleCondition[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    const cond = ruleChildren.has(c.name) ? readCondition(r, c) : undefined;
    if (cond) expressions.push(cond);
    else unknown.push(c);
  }
  return {
    kind: 'rule',
    xml: el, attrs: el.attrs,
    id: a['id'],
    idRef: a['id-ref'],
    ref: resolveRef ? r.resolve(el, (t) => readRule(r, t, false)) : undefined,
    score: a['score'],
    scoreAttribute: a['score-attribute'],
    booleanOp: a['boolean-op'],
    role: a['role'],
    expressions,
    unknown,
  };
}

function readCondition(r: Reader, el: XmlElement): RuleCondition | undefined {
  const a = el.attrs;
  switch (el.name) {
    case 'rule':
      return readRule(r, el);
    case 'expression':
      return readExpression(el);
    case 'date_expression':
      return readDateExpression(el);
    case 'rsc_expression':
      return { kind: 'rsc_expression', xml: el, attrs: el.attrs, id: a['id'], class: a['class'], provider: a['provider'], type: a['type'] } satisfies RscExpression;
    case 'op_expression':
      return { kind: 'op_expression', xml: el, attrs: el.attrs, id: a['id'], name: a['name'], interval: a['interval'] } satisfies OpExpression;
    default:
      return undefined;
  }
}

function readExpression(el: XmlElement): Expression {
  const a = el.attrs;
  return {
    kind: 'expression',
    xml: el, attrs: el.attrs,
    id: a['id'],
    attribute: a['attribute'],
    operation: a['operation'],
    value: a['value'],
    type: a['type'],
    valueSource: a['value-source'],
  };
}

function readDateFields(el: XmlElement | undefined): DateFields | undefined {
  if (!el) return undefined;
  const fields: Record<string, string> = {};
  for (const k in el.attrs) if (k !== 'id') fields[k] = el.attrs[k]!;
  return { xml: el, attrs: el.attrs, id: el.attrs['id'], fields };
}

function firstNamed(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (c.kind === 'element' && c.name === name) return c;
  return undefined;
}

function readDateExpression(el: XmlElement): DateExpression {
  const a = el.attrs;
  return {
    kind: 'date_expression',
    xml: el, attrs: el.attrs,
    id: a['id'],
    operation: a['operation'],
    start: a['start'],
    end: a['end'],
    dateSpec: readDateFields(firstNamed(el, 'date_spec')),
    duration: readDateFields(firstNamed(el, 'duration')),
  };
}

// ---------------------------------------------------------------------------------------------
// Name/value sets
// ---------------------------------------------------------------------------------------------

function readNvPair(r: Reader, el: XmlElement, resolveRef = true): NvPair {
  const a = el.attrs;
  return {
    xml: el, attrs: el.attrs,
    id: a['id'],
    idRef: a['id-ref'],
    ref: resolveRef ? r.resolve(el, (t) => readNvPair(r, t, false)) : undefined,
    name: a['name'],
    value: a['value'],
  };
}

function readNvSet(r: Reader, el: XmlElement, resolveRef = true): NvSet {
  const a = el.attrs;
  const rules: Rule[] = [];
  const nvpairs: NvPair[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'nvpair') nvpairs.push(readNvPair(r, c));
    else if (c.name === 'rule') rules.push(readRule(r, c));
    else unknown.push(c);
  }
  return {
    kind: el.name as NvSetKind,
    xml: el, attrs: el.attrs,
    id: a['id'],
    idRef: a['id-ref'],
    ref: resolveRef ? r.resolve(el, (t) => readNvSet(r, t, false)) : undefined,
    score: a['score'],
    rules,
    nvpairs,
    unknown,
  };
}

function readSets(r: Reader, els: readonly XmlElement[] | undefined): NvSet[] {
  return els ? els.map((e) => readNvSet(r, e)) : [];
}

// ---------------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------------

const nodeChildren = new Set(['instance_attributes', 'utilization']);

function readNode(r: Reader, el: XmlElement): Node {
  const a = el.attrs;
  const { byName, unknown } = partition(el, nodeChildren);
  return {
    xml: el, attrs: el.attrs,
    id: a['id'] ?? '',
    uname: a['uname'],
    type: a['type'],
    description: a['description'],
    score: a['score'],
    instanceAttributes: readSets(r, byName.get('instance_attributes')),
    utilization: readSets(r, byName.get('utilization')),
    unknown,
  };
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

const opChildren = new Set(['meta_attributes', 'instance_attributes']);

function readOperation(r: Reader, el: XmlElement, resolveRef = true): Operation {
  const a = el.attrs;
  const { byName, unknown } = partition(el, opChildren);
  return {
    xml: el, attrs: el.attrs,
    id: a['id'],
    idRef: a['id-ref'],
    ref: resolveRef ? r.resolve(el, (t) => readOperation(r, t, false)) : undefined,
    name: a['name'],
    interval: a['interval'],
    role: a['role'],
    timeout: a['timeout'],
    onFail: a['on-fail'],
    enabled: a['enabled'],
    recordPending: a['record-pending'],
    startDelay: a['start-delay'],
    intervalOrigin: a['interval-origin'],
    requires: a['requires'],
    description: a['description'],
    meta: readSets(r, byName.get('meta_attributes')),
    instanceAttributes: readSets(r, byName.get('instance_attributes')),
    unknown,
  };
}

function readOperations(r: Reader, el: XmlElement, resolveRef = true): Operations {
  const a = el.attrs;
  const ops: Operation[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'op') ops.push(readOperation(r, c));
    else unknown.push(c);
  }
  return {
    xml: el, attrs: el.attrs,
    id: a['id'],
    idRef: a['id-ref'],
    ref: resolveRef ? r.resolve(el, (t) => readOperations(r, t, false)) : undefined,
    ops,
    unknown,
  };
}

const setNames = ['meta_attributes', 'instance_attributes', 'utilization'];

function readCommon(r: Reader, el: XmlElement, byName: Map<string, XmlElement[]>, unknown: XmlElement[]): ResourceCommon {
  return {
    xml: el, attrs: el.attrs,
    id: el.attrs['id'] ?? '',
    description: el.attrs['description'],
    meta: readSets(r, byName.get('meta_attributes')),
    instanceAttributes: readSets(r, byName.get('instance_attributes')),
    utilization: readSets(r, byName.get('utilization')),
    unknown,
  };
}

const agentChildren = new Set([...setNames, 'operations']);

function readAgentFields(r: Reader, el: XmlElement, byName: Map<string, XmlElement[]>): AgentFields {
  const opsEl = byName.get('operations')?.[0];
  const operations = opsEl ? readOperations(r, opsEl) : undefined;
  return {
    class: el.attrs['class'],
    provider: el.attrs['provider'],
    type: el.attrs['type'],
    operations,
    ops: operations ? (operations.ref ?? operations).ops : [],
  };
}

/** Children beyond the first `<operations>` are unknown (Pacemaker reads only the first). */
function splitExtraOperations(byName: Map<string, XmlElement[]>, unknown: XmlElement[]): XmlElement[] {
  const ops = byName.get('operations');
  if (!ops || ops.length < 2) return unknown;
  return [...unknown, ...ops.slice(1)];
}

function readTemplate(r: Reader, el: XmlElement): ResourceTemplate {
  const { byName, unknown } = partition(el, agentChildren);
  return { kind: 'template', ...readCommon(r, el, byName, splitExtraOperations(byName, unknown)), ...readAgentFields(r, el, byName) };
}

function readPrimitive(r: Reader, el: XmlElement): Primitive {
  const { byName, unknown } = partition(el, agentChildren);
  const template = el.attrs['template'];
  const templateEl = template === undefined ? undefined : r.template(template);
  return {
    kind: 'primitive',
    ...readCommon(r, el, byName, splitExtraOperations(byName, unknown)),
    ...readAgentFields(r, el, byName),
    template,
    templateRef: templateEl ? r.resolveElement(templateEl, () => readTemplate(r, templateEl)) : undefined,
  };
}

const groupChildren = new Set([...setNames, 'primitive']);

function readGroup(r: Reader, el: XmlElement): Group {
  const { byName, unknown } = partition(el, groupChildren);
  return {
    kind: 'group',
    ...readCommon(r, el, byName, unknown),
    children: (byName.get('primitive') ?? []).map((c) => readPrimitive(r, c)),
  };
}

const cloneChildren = new Set(setNames);

function readCloneLike(r: Reader, el: XmlElement): Omit<Clone, 'kind'> {
  const { byName, unknown } = partition(el, cloneChildren);
  let child: Primitive | Group | undefined;
  const rest: XmlElement[] = [];
  for (const c of unknown) {
    if (!child && c.name === 'primitive') child = readPrimitive(r, c);
    else if (!child && c.name === 'group') child = readGroup(r, c);
    else rest.push(c);
  }
  return { ...readCommon(r, el, byName, rest), child };
}

const bundleChildren = new Set([...setNames, 'docker', 'podman', 'rkt', 'network', 'storage', 'primitive']);

function readContainer(el: XmlElement): BundleContainer {
  const a = el.attrs;
  return {
    kind: el.name as BundleContainer['kind'],
    xml: el, attrs: el.attrs,
    image: a['image'],
    replicas: a['replicas'],
    replicasPerHost: a['replicas-per-host'],
    promotedMax: a['promoted-max'] ?? a['masters'],
    network: a['network'],
    runCommand: a['run-command'],
    options: a['options'],
  };
}

function readPortMapping(el: XmlElement): BundlePortMapping {
  const a = el.attrs;
  return { xml: el, attrs: el.attrs, id: a['id'], port: a['port'], internalPort: a['internal-port'], range: a['range'] };
}

function readNetwork(el: XmlElement): BundleNetwork {
  const a = el.attrs;
  const portMappings: BundlePortMapping[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'port-mapping') portMappings.push(readPortMapping(c));
    else unknown.push(c);
  }
  return {
    xml: el, attrs: el.attrs,
    ipRangeStart: a['ip-range-start'],
    controlPort: a['control-port'],
    hostInterface: a['host-interface'],
    hostNetmask: a['host-netmask'],
    addHost: a['add-host'],
    portMappings,
    unknown,
  };
}

function readStorageMapping(el: XmlElement): BundleStorageMapping {
  const a = el.attrs;
  return {
    xml: el, attrs: el.attrs,
    id: a['id'],
    sourceDir: a['source-dir'],
    sourceDirRoot: a['source-dir-root'],
    targetDir: a['target-dir'],
    options: a['options'],
  };
}

function readBundle(r: Reader, el: XmlElement): Bundle {
  const { byName, unknown } = partition(el, bundleChildren);
  const rest = [...unknown];
  let container: BundleContainer | undefined;
  for (const c of el.children) {
    if (c.kind !== 'element' || (c.name !== 'docker' && c.name !== 'podman' && c.name !== 'rkt')) continue;
    if (container) rest.push(c);
    else container = readContainer(c);
  }
  const storage: BundleStorageMapping[] = [];
  for (const s of byName.get('storage') ?? []) {
    for (const c of s.children) {
      if (c.kind !== 'element') continue;
      if (c.name === 'storage-mapping') storage.push(readStorageMapping(c));
      else rest.push(c);
    }
  }
  const [networkEl, ...extraNetworks] = byName.get('network') ?? [];
  const [primitiveEl, ...extraPrimitives] = byName.get('primitive') ?? [];
  rest.push(...extraNetworks, ...extraPrimitives);
  return {
    kind: 'bundle',
    ...readCommon(r, el, byName, rest),
    container,
    network: networkEl ? readNetwork(networkEl) : undefined,
    storage,
    primitive: primitiveEl ? readPrimitive(r, primitiveEl) : undefined,
  };
}

/** Reads a resource element (primitive, group, clone, master, bundle), or undefined for others. */
function readResourceElement(r: Reader, el: XmlElement): Resource | undefined {
  switch (el.name) {
    case 'primitive':
      return readPrimitive(r, el);
    case 'group':
      return readGroup(r, el);
    case 'clone':
      return { kind: 'clone', ...readCloneLike(r, el) } satisfies Clone;
    case 'master':
      return { kind: 'master', ...readCloneLike(r, el) } satisfies Master;
    case 'bundle':
      return readBundle(r, el);
    default:
      return undefined;
  }
}

function readResources(r: Reader, el: XmlElement): Resources {
  const resources: Resource[] = [];
  const templates: ResourceTemplate[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'template') {
      templates.push(r.resolveElement(c, () => readTemplate(r, c)));
      continue;
    }
    const res = readResourceElement(r, c);
    if (res) resources.push(res);
    else unknown.push(c);
  }
  return { xml: el, attrs: el.attrs, resources, templates, unknown };
}

const defaultsChildren = new Set(['meta_attributes', 'instance_attributes']);

function readDefaults(r: Reader, el: XmlElement): Defaults {
  const { byName, unknown } = partition(el, defaultsChildren);
  return {
    xml: el, attrs: el.attrs,
    meta: readSets(r, byName.get('meta_attributes')),
    instanceAttributes: readSets(r, byName.get('instance_attributes')),
    unknown,
  };
}

// ---------------------------------------------------------------------------------------------
// Constraints
// ---------------------------------------------------------------------------------------------

function readResourceSet(r: Reader, el: XmlElement, resolveRef = true): ResourceSet {
  const a = el.attrs;
  const resources: ResourceRef[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'resource_ref') resources.push({ xml: c, attrs: c.attrs, id: c.attrs['id'] ?? '' });
    else unknown.push(c);
  }
  return {
    xml: el, attrs: el.attrs,
    id: a['id'],
    idRef: a['id-ref'],
    ref: resolveRef ? r.resolve(el, (t) => readResourceSet(r, t, false)) : undefined,
    sequential: a['sequential'],
    requireAll: a['require-all'],
    ordering: a['ordering'],
    action: a['action'],
    role: a['role'],
    score: a['score'],
    orderKind: a['kind'],
    resources,
    unknown,
  };
}

/** Resource sets, rules (location only) and the rest of a constraint's children. */
function constraintChildren(r: Reader, el: XmlElement, withRules: boolean): { sets: ResourceSet[]; rules: Rule[]; unknown: XmlElement[] } {
  const sets: ResourceSet[] = [];
  const rules: Rule[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'resource_set') sets.push(readResourceSet(r, c));
    else if (withRules && c.name === 'rule') rules.push(readRule(r, c));
    else unknown.push(c);
  }
  return { sets, rules, unknown };
}

function readLocation(r: Reader, el: XmlElement): LocationConstraint {
  const a = el.attrs;
  const { sets, rules, unknown } = constraintChildren(r, el, true);
  return {
    kind: 'rsc_location',
    xml: el, attrs: el.attrs,
    id: a['id'] ?? '',
    sets,
    unknown,
    rsc: a['rsc'],
    rscPattern: a['rsc-pattern'],
    node: a['node'],
    score: a['score'],
    role: a['role'],
    resourceDiscovery: a['resource-discovery'],
    rules,
  };
}

function readColocation(r: Reader, el: XmlElement): ColocationConstraint {
  const a = el.attrs;
  const { sets, unknown } = constraintChildren(r, el, false);
  return {
    kind: 'rsc_colocation',
    xml: el, attrs: el.attrs,
    id: a['id'] ?? '',
    sets,
    unknown,
    rsc: a['rsc'],
    withRsc: a['with-rsc'],
    rscRole: a['rsc-role'],
    withRscRole: a['with-rsc-role'],
    rscInstance: a['rsc-instance'],
    withRscInstance: a['with-rsc-instance'],
    score: a['score'],
    nodeAttribute: a['node-attribute'],
    influence: a['influence'],
  };
}

function readOrder(r: Reader, el: XmlElement): OrderConstraint {
  const a = el.attrs;
  const { sets, unknown } = constraintChildren(r, el, false);
  return {
    kind: 'rsc_order',
    xml: el, attrs: el.attrs,
    id: a['id'] ?? '',
    sets,
    unknown,
    first: a['first'],
    then: a['then'],
    firstAction: a['first-action'],
    thenAction: a['then-action'],
    firstInstance: a['first-instance'],
    thenInstance: a['then-instance'],
    orderKind: a['kind'],
    score: a['score'],
    symmetrical: a['symmetrical'],
    requireAll: a['require-all'],
  };
}

function readTicket(r: Reader, el: XmlElement): TicketConstraint {
  const a = el.attrs;
  const { sets, unknown } = constraintChildren(r, el, false);
  return {
    kind: 'rsc_ticket',
    xml: el, attrs: el.attrs,
    id: a['id'] ?? '',
    sets,
    unknown,
    ticket: a['ticket'],
    rsc: a['rsc'],
    rscRole: a['rsc-role'],
    lossPolicy: a['loss-policy'],
  };
}

function readConstraint(r: Reader, el: XmlElement): Constraint | undefined {
  switch (el.name) {
    case 'rsc_location':
      return readLocation(r, el);
    case 'rsc_colocation':
      return readColocation(r, el);
    case 'rsc_order':
      return readOrder(r, el);
    case 'rsc_ticket':
      return readTicket(r, el);
    default:
      return undefined;
  }
}

function readConstraints(r: Reader, el: XmlElement): Constraints {
  const constraints: Constraint[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    const con = readConstraint(r, c);
    if (con) constraints.push(con);
    else unknown.push(c);
  }
  return { xml: el, attrs: el.attrs, constraints, unknown };
}

// ---------------------------------------------------------------------------------------------
// Fencing topology, tags, alerts, ACLs
// ---------------------------------------------------------------------------------------------

function readFencingLevel(el: XmlElement): FencingLevel {
  const a = el.attrs;
  const devices = a['devices'];
  return {
    xml: el, attrs: el.attrs,
    id: a['id'],
    index: a['index'],
    target: a['target'],
    targetPattern: a['target-pattern'],
    targetAttribute: a['target-attribute'],
    targetValue: a['target-value'],
    devices,
    deviceIds: devices === undefined ? [] : devices.split(',').filter((d) => d !== ''),
  };
}

function readFencingTopology(el: XmlElement): FencingTopology {
  const levels: FencingLevel[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'fencing-level') levels.push(readFencingLevel(c));
    else unknown.push(c);
  }
  return { xml: el, attrs: el.attrs, levels, unknown };
}

function readTag(el: XmlElement): Tag {
  const refs: string[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'obj_ref') refs.push(c.attrs['id'] ?? '');
    else unknown.push(c);
  }
  return { xml: el, attrs: el.attrs, id: el.attrs['id'] ?? '', refs, unknown };
}

const recipientChildren = new Set(['meta_attributes', 'instance_attributes']);
const alertChildren = new Set(['meta_attributes', 'instance_attributes', 'recipient', 'select']);

function readRecipient(r: Reader, el: XmlElement): AlertRecipient {
  const a = el.attrs;
  const { byName, unknown } = partition(el, recipientChildren);
  return {
    xml: el, attrs: el.attrs,
    id: a['id'],
    value: a['value'],
    description: a['description'],
    meta: readSets(r, byName.get('meta_attributes')),
    instanceAttributes: readSets(r, byName.get('instance_attributes')),
    unknown,
  };
}

function readAlert(r: Reader, el: XmlElement): Alert {
  const a = el.attrs;
  const { byName, unknown } = partition(el, alertChildren);
  const selects = byName.get('select') ?? [];
  return {
    xml: el, attrs: el.attrs,
    id: a['id'],
    path: a['path'],
    description: a['description'],
    select: selects[0],
    meta: readSets(r, byName.get('meta_attributes')),
    instanceAttributes: readSets(r, byName.get('instance_attributes')),
    recipients: (byName.get('recipient') ?? []).map((c) => readRecipient(r, c)),
    unknown: selects.length > 1 ? [...unknown, ...selects.slice(1)] : unknown,
  };
}

function readAcls(el: XmlElement): Acls {
  const entries: AclEntry[] = [];
  for (const c of el.children) if (c.kind === 'element') entries.push({ xml: c, attrs: c.attrs, kind: c.name, id: c.attrs['id'] });
  return { xml: el, attrs: el.attrs, entries };
}

function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  if (el) for (const c of el.children) if (c.kind === 'element' && c.name === name) out.push(c);
  return out;
}

/** Element children of `el` that are not named `name`. */
function childrenNotNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  if (el) for (const c of el.children) if (c.kind === 'element' && c.name !== name) out.push(c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

const configurationChildren = new Set([
  'crm_config',
  'nodes',
  'resources',
  'constraints',
  'rsc_defaults',
  'op_defaults',
  'fencing-topology',
  'tags',
  'alerts',
  'acls',
]);

function readCrmConfig(r: Reader, el: XmlElement): CrmConfig {
  return {
    xml: el, attrs: el.attrs,
    propertySets: readSets(r, childrenNamed(el, 'cluster_property_set')),
    unknown: childrenNotNamed(el, 'cluster_property_set'),
  };
}

function readConfiguration(r: Reader, el: XmlElement): Configuration {
  const { byName, unknown: rest } = partition(el, configurationChildren);
  const unknown = [...rest];
  const first = (name: string): XmlElement | undefined => {
    const list = byName.get(name);
    if (list && list.length > 1) unknown.push(...list.slice(1));
    return list?.[0];
  };
  const crmConfig = first('crm_config');
  const nodes = first('nodes');
  const resources = first('resources');
  const constraints = first('constraints');
  const rscDefaults = first('rsc_defaults');
  const opDefaults = first('op_defaults');
  const fencing = first('fencing-topology');
  const tags = first('tags');
  const alerts = first('alerts');
  const acls = first('acls');
  return {
    xml: el, attrs: el.attrs,
    crmConfig: crmConfig ? readCrmConfig(r, crmConfig) : undefined,
    nodes: childrenNamed(nodes, 'node').map((n) => readNode(r, n)),
    nodesXml: nodes,
    resources: resources ? readResources(r, resources) : undefined,
    constraints: constraints ? readConstraints(r, constraints) : undefined,
    rscDefaults: rscDefaults ? readDefaults(r, rscDefaults) : undefined,
    opDefaults: opDefaults ? readDefaults(r, opDefaults) : undefined,
    fencingTopology: fencing ? readFencingTopology(fencing) : undefined,
    tags: childrenNamed(tags, 'tag').map(readTag),
    tagsXml: tags,
    alerts: childrenNamed(alerts, 'alert').map((a) => readAlert(r, a)),
    alertsXml: alerts,
    acls: acls ? readAcls(acls) : undefined,
    unknown,
  };
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

/**
 * Status sections repeat these per resource and node (100 000s in a large cluster): lists without
 * entries share one frozen array, and lists are allocated at their exact size.
 */
const noElements: readonly XmlElement[] = Object.freeze([]);

/** Element children of `el`, or the shared empty list. */
function elementChildren(el: XmlElement): readonly XmlElement[] {
  if (el.children.length === 0) return noElements;
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.kind === 'element') out.push(c);
  return out.length === 0 ? noElements : out;
}

/**
 * `<lrm_rsc_op>` as the model reads it. A status section holds one per resource, node and
 * operation (130 000 in a 32-node, 4000-resource cluster), so the view keeps only the element and
 * reads each field from its attributes when asked: two dozen copied fields per operation were a
 * sixth of the memory of scheduling such a cluster. The fields are getters on the prototype, so
 * the view is read-only like the rest of the model; compare views by their `xml`, not structurally.
 */
class LrmRscOpView implements LrmRscOp {
  constructor(
    readonly xml: XmlElement,
    readonly unknown: readonly XmlElement[],
  ) {}

  get attrs(): XmlAttrs {
    return this.xml.attrs;
  }
  get id(): string {
    return this.xml.attrs['id'] ?? '';
  }
  get operation(): string | undefined {
    return this.xml.attrs['operation'];
  }
  get operationKey(): string | undefined {
    return this.xml.attrs['operation_key'];
  }
  get callId(): string | undefined {
    return this.xml.attrs['call-id'];
  }
  get rcCode(): string | undefined {
    return this.xml.attrs['rc-code'];
  }
  get opStatus(): string | undefined {
    return this.xml.attrs['op-status'];
  }
  get interval(): string | undefined {
    return this.xml.attrs['interval'];
  }
  get lastRcChange(): string | undefined {
    return this.xml.attrs['last-rc-change'];
  }
  get lastRun(): string | undefined {
    return this.xml.attrs['last-run'];
  }
  get execTime(): string | undefined {
    return this.xml.attrs['exec-time'];
  }
  get queueTime(): string | undefined {
    return this.xml.attrs['queue-time'];
  }
  get opDigest(): string | undefined {
    return this.xml.attrs['op-digest'];
  }
  get opForceRestart(): string | undefined {
    return this.xml.attrs['op-force-restart'];
  }
  get opRestartDigest(): string | undefined {
    return this.xml.attrs['op-restart-digest'];
  }
  get opSecureParams(): string | undefined {
    return this.xml.attrs['op-secure-params'];
  }
  get opSecureDigest(): string | undefined {
    return this.xml.attrs['op-secure-digest'];
  }
  get transitionKey(): string | undefined {
    return this.xml.attrs['transition-key'];
  }
  get transitionMagic(): string | undefined {
    return this.xml.attrs['transition-magic'];
  }
  get onNode(): string | undefined {
    return this.xml.attrs['on_node'];
  }
  get exitReason(): string | undefined {
    return this.xml.attrs['exit-reason'];
  }
  get crmFeatureSet(): string | undefined {
    return this.xml.attrs['crm_feature_set'];
  }
  get crmDebugOrigin(): string | undefined {
    return this.xml.attrs['crm-debug-origin'];
  }
  get migrateSource(): string | undefined {
    return this.xml.attrs['migrate_source'];
  }
  get migrateTarget(): string | undefined {
    return this.xml.attrs['migrate_target'];
  }
}

function readLrmRscOp(el: XmlElement): LrmRscOp {
  return new LrmRscOpView(el, elementChildren(el));
}

/**
 * `<lrm_resource>` as the model reads it: like LrmRscOpView, one per resource and node, so the
 * attribute fields are read from the element when asked; the operations are read once.
 */
class LrmResourceView implements LrmResource {
  constructor(
    readonly xml: XmlElement,
    readonly ops: readonly LrmRscOp[],
    readonly unknown: readonly XmlElement[],
  ) {}

  get attrs(): XmlAttrs {
    return this.xml.attrs;
  }
  get id(): string {
    return this.xml.attrs['id'] ?? '';
  }
  get class(): string | undefined {
    return this.xml.attrs['class'];
  }
  get provider(): string | undefined {
    return this.xml.attrs['provider'];
  }
  get type(): string | undefined {
    return this.xml.attrs['type'];
  }
  get container(): string | undefined {
    return this.xml.attrs['container'];
  }
  get shutdownLock(): string | undefined {
    return this.xml.attrs['shutdown-lock'];
  }
}

function readLrmResource(el: XmlElement): LrmResource {
  let opCount = 0;
  let otherCount = 0;
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'lrm_rsc_op') opCount++;
    else otherCount++;
  }
  const ops: LrmRscOp[] = new Array<LrmRscOp>(opCount);
  const others = new Array<XmlElement>(otherCount);
  let opAt = 0;
  let otherAt = 0;
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'lrm_rsc_op') ops[opAt++] = readLrmRscOp(c);
    else others[otherAt++] = c;
  }
  return new LrmResourceView(el, ops, otherCount === 0 ? noElements : others);
}

function readLrm(el: XmlElement): Lrm {
  const lists = childrenNamed(el, 'lrm_resources');
  const resourcesXml = lists[0];
  const unknown = [...childrenNotNamed(el, 'lrm_resources'), ...lists.slice(1)];
  const resources: LrmResource[] = [];
  if (resourcesXml) {
    for (const c of resourcesXml.children) {
      if (c.kind !== 'element') continue;
      if (c.name === 'lrm_resource') resources.push(readLrmResource(c));
      else unknown.push(c);
    }
  }
  return { xml: el, attrs: el.attrs, id: el.attrs['id'], resourcesXml, resources, unknown };
}

const transientChildren = new Set(['instance_attributes', 'utilization']);

function readTransient(r: Reader, el: XmlElement): TransientAttributes {
  const sets: NvSet[] = [];
  const unknown: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (transientChildren.has(c.name)) sets.push(readNvSet(r, c));
    else unknown.push(c);
  }
  return { xml: el, attrs: el.attrs, id: el.attrs['id'], sets, unknown };
}

const nodeStateChildren = new Set(['transient_attributes', 'lrm']);

function readNodeState(r: Reader, el: XmlElement): NodeState {
  const a = el.attrs;
  const { byName, unknown } = partition(el, nodeStateChildren);
  const transient = byName.get('transient_attributes') ?? [];
  const lrm = byName.get('lrm') ?? [];
  return {
    xml: el, attrs: el.attrs,
    id: a['id'] ?? '',
    uname: a['uname'],
    inCcm: a['in_ccm'],
    crmd: a['crmd'],
    join: a['join'],
    expected: a['expected'],
    crmDebugOrigin: a['crm-debug-origin'],
    shutdown: a['shutdown'],
    ha: a['ha'],
    remoteNode: a['remote_node'],
    nodeFenced: a['node_fenced'],
    clearShutdown: a['clear_shutdown'],
    nodeInMaintenance: a['node_in_maintenance'],
    transientAttributes: transient[0] ? readTransient(r, transient[0]) : undefined,
    lrm: lrm[0] ? readLrm(lrm[0]) : undefined,
    unknown: [...unknown, ...transient.slice(1), ...lrm.slice(1)],
  };
}

function readTicketState(el: XmlElement): TicketState {
  const a = el.attrs;
  return { xml: el, attrs: el.attrs, id: a['id'] ?? '', granted: a['granted'], lastGranted: a['last-granted'], standby: a['standby'] };
}

function readStatus(r: Reader, el: XmlElement): Status {
  const nodeStates: NodeState[] = [];
  const unknown: XmlElement[] = [];
  let ticketsXml: XmlElement | undefined;
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.name === 'node_state') nodeStates.push(readNodeState(r, c));
    else if (c.name === 'tickets' && !ticketsXml) ticketsXml = c;
    else unknown.push(c);
  }
  const tickets = childrenNamed(ticketsXml, 'ticket_state').map(readTicketState);
  if (ticketsXml) unknown.push(...childrenNotNamed(ticketsXml, 'ticket_state'));
  return { xml: el, attrs: el.attrs, nodeStates, ticketsXml, tickets, unknown };
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

function readCibAttributes(el: XmlElement): CibAttributes {
  const a = el.attrs;
  return {
    adminEpoch: a['admin_epoch'],
    epoch: a['epoch'],
    numUpdates: a['num_updates'],
    validateWith: a['validate-with'],
    crmFeatureSet: a['crm_feature_set'],
    haveQuorum: a['have-quorum'],
    dcUuid: a['dc-uuid'],
    cibLastWritten: a['cib-last-written'],
    updateOrigin: a['update-origin'],
    updateClient: a['update-client'],
    updateUser: a['update-user'],
    noQuorumPanic: a['no-quorum-panic'],
    remoteTlsPort: a['remote-tls-port'],
    remoteClearPort: a['remote-clear-port'],
    executionDate: a['execution-date'],
  };
}

/**
 * Reads the typed model from a parsed document or its root element. Any root element is accepted
 * (a non-`cib` root yields a model with no configuration or status); the model's `xml` is the root.
 */
export function readCib(doc: XmlDocument | XmlElement): Cib {
  const root = 'root' in doc ? doc.root : doc;
  const r = new Reader(root);
  const configs = childrenNamed(root, 'configuration');
  const statuses = childrenNamed(root, 'status');
  const unknown: XmlElement[] = [];
  for (const c of root.children) {
    if (c.kind === 'element' && c !== configs[0] && c !== statuses[0]) unknown.push(c);
  }
  return {
    xml: root, attrs: root.attrs,
    cib: readCibAttributes(root),
    configuration: configs[0] ? readConfiguration(r, configs[0]) : undefined,
    status: statuses[0] ? readStatus(r, statuses[0]) : undefined,
    unknown,
  };
}

/** parseXml + readCib. Malformed XML throws XmlSyntaxError (with line and column). */
export function parseCib(text: string): Cib {
  return readCib(parseXml(text));
}

/**
 * parseXmlPieces + readCib: a CIB whose text arrives in pieces (a file read in chunks), never held
 * whole. `pieces` is called once, or twice when the document needs the whole text (see
 * parseXmlPieces); malformed XML throws XmlSyntaxError as `parseCib` does.
 */
export function parseCibPieces(pieces: () => Iterable<string>): Cib {
  return readCib(parseXmlPieces(pieces));
}

// ---------------------------------------------------------------------------------------------
// Helpers consumers need on the model
// ---------------------------------------------------------------------------------------------

/** The set that applies for `set` (its id-ref target when it has one). */
export function effectiveNvSet(set: NvSet): NvSet {
  return set.ref ?? set;
}

/** Name and value of an nvpair, following its id-ref. */
export function effectiveNvPair(pair: NvPair): { name: string | undefined; value: string | undefined } {
  const p = pair.ref ?? pair;
  return { name: p.name ?? pair.name, value: p.value ?? pair.value };
}

/** The rule that applies for `rule` (its id-ref target when it has one). */
export function effectiveRule(rule: Rule): Rule {
  return rule.ref ?? rule;
}

/** A primitive's agent (class, provider, type), falling back to its template's. */
export function primitiveAgent(p: Primitive): { class: string | undefined; provider: string | undefined; type: string | undefined } {
  const t = p.templateRef;
  return { class: p.class ?? t?.class, provider: p.provider ?? t?.provider, type: p.type ?? t?.type };
}

/** The direct children of a resource (group members, a clone's child, a bundle's primitive). */
export function resourceChildren(res: Resource): readonly Resource[] {
  switch (res.kind) {
    case 'primitive':
      return [];
    case 'group':
      return res.children;
    case 'clone':
    case 'master':
      return res.child ? [res.child] : [];
    case 'bundle':
      return res.primitive ? [res.primitive] : [];
    default: {
      const never: never = res;
      return never;
    }
  }
}

/** Every resource in the configuration, depth-first in document order (parents before children). */
export function allResources(cib: Cib): Resource[] {
  const out: Resource[] = [];
  const visit = (r: Resource): void => {
    out.push(r);
    for (const c of resourceChildren(r)) visit(c);
  };
  for (const r of cib.configuration?.resources?.resources ?? []) visit(r);
  return out;
}
