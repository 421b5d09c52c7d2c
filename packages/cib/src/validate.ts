/**
 * Static validation of a CIB's configuration: the problems Pacemaker 2.1.5 (schema plus scheduler)
 * would reject or silently work around, as diagnostics that name the element and the reason.
 *
 * Severity follows what `crm_verify` does with the same input:
 * - error: the schema rejects it (duplicate ids, missing required attributes, bad scores or enum
 *   values in constraints, dangling id-refs) or the scheduler reports a configuration error
 *   (constraints naming unknown resources, invalid cluster option values, duplicate or recurring
 *   start/stop operations, target-role Promoted on a non-promotable resource, fencing enabled with
 *   no fencing device, impossible on-fail values).
 * - warning: accepted by Pacemaker but probably not what was meant (unknown cluster options,
 *   location constraints naming unknown nodes, meta-attribute values Pacemaker reads as a default,
 *   unparseable intervals, deprecated values).
 * Validation never throws; the status section is not validated (it is Pacemaker's own output).
 */
import { makeTime } from './iso8601.js';
import { checkOptionValue, findOption, isScore, optionsFor, parseBoolean, parseIntervalMs, type OptionScope } from './options.js';
import { compileRule } from './rules.js';
import { didYouMean } from './suggest.js';
import { childElements, firstChild, parseXml, XmlSyntaxError, type XmlElement } from './xml.js';

export interface Diagnostic {
  /** Stable code, e.g. "id-duplicate", "ref-unknown-resource". */
  readonly code: string;
  readonly severity: 'error' | 'warning';
  /** Tag of the element the problem is on. */
  readonly element: string;
  /** Its id, when it has one. */
  readonly id: string | undefined;
  readonly message: string;
  /** For malformed XML: where the parser stopped. */
  readonly line?: number;
  readonly column?: number;
}

/** Elements whose `id` attribute is a reference, not a definition. */
const REFERENCE_ID_ELEMENTS = new Set(['resource_ref', 'obj_ref', 'role', 'role_ref']);
/** Elements whose `id` is free text in the schema (may look like any other id). */
const TEXT_ID_ELEMENTS = new Set(['node']);
const RESOURCE_ELEMENTS = new Set(['primitive', 'group', 'clone', 'master', 'bundle', 'template']);
const NVSET_ELEMENTS = new Set(['instance_attributes', 'meta_attributes', 'utilization', 'cluster_property_set']);
const ROLES = ['Stopped', 'Started', 'Unpromoted', 'Promoted', 'Slave', 'Master'];
const ACTIONS = ['start', 'promote', 'demote', 'stop'];

/** Attributes that must be present (unless the element is an id-ref), per Pacemaker's schema. */
const REQUIRED_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  primitive: ['id'],
  group: ['id'],
  clone: ['id'],
  master: ['id'],
  bundle: ['id'],
  template: ['id', 'class', 'type'],
  op: ['id', 'name', 'interval'],
  nvpair: ['id', 'name'],
  rsc_location: ['id'],
  rsc_colocation: ['id'],
  rsc_order: ['id'],
  rsc_ticket: ['id', 'ticket'],
  node: ['id'],
  rule: ['id'],
  expression: ['id', 'attribute', 'operation'],
  date_expression: ['id'],
  date_spec: ['id'],
  duration: ['id'],
  resource_set: ['id'],
  instance_attributes: ['id'],
  meta_attributes: ['id'],
  utilization: ['id'],
  cluster_property_set: ['id'],
  'fencing-level': ['id', 'index', 'devices'],
  tag: ['id'],
  obj_ref: ['id'],
  resource_ref: ['id'],
  alert: ['id', 'path'],
  recipient: ['id', 'value'],
};

/** Enumerated attributes of constraint elements (schema values). */
const ENUM_ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  rsc_location: { role: ROLES, 'resource-discovery': ['always', 'never', 'exclusive'] },
  rsc_colocation: { 'rsc-role': ROLES, 'with-rsc-role': ROLES },
  rsc_order: { kind: ['Optional', 'Mandatory', 'Serialize'], 'first-action': ACTIONS, 'then-action': ACTIONS },
  rsc_ticket: { 'rsc-role': ROLES, 'loss-policy': ['stop', 'demote', 'fence', 'freeze'] },
  resource_set: { role: ROLES, action: ACTIONS, kind: ['Optional', 'Mandatory', 'Serialize'], ordering: ['group', 'listed'] },
  rule: { 'boolean-op': ['and', 'or'] },
};
const BOOLEAN_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  rsc_order: ['symmetrical', 'require-all'],
  resource_set: ['sequential', 'require-all'],
};
const SCORE_ELEMENTS = new Set(['rsc_location', 'rsc_colocation', 'rsc_order', 'rsc_ticket', 'rule', 'resource_set']);

const CLUSTER_OPTION_NAMES: readonly string[] = optionsFor('cluster').map((o) => o.name);

/** Everything the checks look things up in, built once per document. */
interface Index {
  readonly root: XmlElement;
  readonly configuration: XmlElement | undefined;
  /** Every element with a defining `id`, in the whole document. */
  readonly byId: ReadonlyMap<string, XmlElement>;
  /** Ids a constraint may name: resources, templates, tags, bundle children. */
  readonly constrainable: ReadonlySet<string>;
  readonly nodeNames: ReadonlySet<string>;
  readonly stonithEnabled: boolean;
  readonly hasStonithResource: boolean;
  /** Ids of resources inside a clone, master or bundle (constraints should name the clone). */
  readonly cloneChildren: ReadonlySet<string>;
}

class Collector {
  readonly out: Diagnostic[] = [];
  add(el: XmlElement, code: string, severity: 'error' | 'warning', message: string): void {
    this.out.push({ code, severity, element: el.name, id: el.attrs.id, message });
  }
}

/** Validate a CIB document (the `<cib>` element). Returns every problem found; never throws. */
export function validateCib(root: XmlElement): Diagnostic[] {
  const d = new Collector();
  const configuration = firstChild(root, 'configuration');
  if (root.name !== 'cib') d.add(root, 'cib-root', 'error', `the document element is <${root.name}>, not <cib>`);
  if (!configuration) {
    d.add(root, 'cib-no-configuration', 'error', 'the CIB has no <configuration>');
    return d.out;
  }
  const index = buildIndex(root, configuration, d);
  walk(configuration, (el, parent) => checkElement(el, parent, index, d));
  checkClusterOptions(configuration, d);
  checkResources(configuration, index, d);
  checkConstraints(configuration, index, d);
  checkFencing(configuration, index, d);
  return d.out;
}

/** Parse and validate CIB text; malformed XML gives one error with its line and column. */
export function validateCibText(text: string): Diagnostic[] {
  try {
    return validateCib(parseXml(text).root);
  } catch (e) {
    if (e instanceof XmlSyntaxError) {
      return [{ code: 'xml-syntax', severity: 'error', element: '', id: undefined, message: e.message, line: e.line, column: e.column }];
    }
    throw e;
  }
}

function walk(el: XmlElement, visit: (el: XmlElement, parent: XmlElement | undefined) => void, parent?: XmlElement): void {
  visit(el, parent);
  for (const c of childElements(el)) walk(c, visit, el);
}

// ---------------------------------------------------------------------------------------------
// Index and ids
// ---------------------------------------------------------------------------------------------

function buildIndex(root: XmlElement, configuration: XmlElement, d: Collector): Index {
  const byId = new Map<string, XmlElement>();
  const constrainable = new Set<string>();
  const nodeNames = new Set<string>();
  let hasStonithResource = false;
  walk(configuration, (el) => {
    const id = el.attrs.id;
    if (id !== undefined && !REFERENCE_ID_ELEMENTS.has(el.name) && !TEXT_ID_ELEMENTS.has(el.name)) {
      const prior = byId.get(id);
      if (prior) d.add(el, 'id-duplicate', 'error', `id "${id}" is already used by a <${prior.name}>`);
      else byId.set(id, el);
    }
    if (id !== undefined && (RESOURCE_ELEMENTS.has(el.name) || el.name === 'tag')) constrainable.add(id);
    if (el.name === 'node') {
      if (el.attrs.uname !== undefined) nodeNames.add(el.attrs.uname);
      if (id !== undefined) nodeNames.add(id);
    }
    if (el.name === 'primitive' && el.attrs.class === 'stonith') hasStonithResource = true;
    if (el.name === 'primitive' && el.attrs.template !== undefined) hasStonithResource ||= templateIsStonith(configuration, el.attrs.template);
  });
  const cloneChildren = new Set<string>();
  walk(configuration, (el) => {
    if (el.name === 'clone' || el.name === 'master' || el.name === 'bundle') {
      walk(el, (c) => {
        if (c !== el && RESOURCE_ELEMENTS.has(c.name) && c.attrs.id !== undefined) cloneChildren.add(c.attrs.id);
      });
    }
  });
  // Remote and guest nodes are nodes too (constraints and fencing may name them).
  walk(configuration, (el) => {
    if (el.name === 'primitive' && el.attrs.class === 'ocf' && el.attrs.provider === 'pacemaker' && el.attrs.type === 'remote' && el.attrs.id) nodeNames.add(el.attrs.id);
    if (el.name === 'nvpair' && el.attrs.name === 'remote-node' && el.attrs.value) nodeNames.add(el.attrs.value);
  });
  return {
    root,
    configuration,
    byId,
    constrainable,
    nodeNames,
    stonithEnabled: effectiveClusterOption(configuration, 'stonith-enabled') !== false,
    // have-watchdog=true counts as a fencing device (watchdog self-fencing via SBD), as in unpack_config.
    hasStonithResource: hasStonithResource || effectiveClusterOption(configuration, 'have-watchdog') === true,
    cloneChildren,
  };
}

function templateIsStonith(configuration: XmlElement, templateId: string): boolean {
  let found = false;
  walk(configuration, (el) => {
    if (el.name === 'template' && el.attrs.id === templateId && el.attrs.class === 'stonith') found = true;
  });
  return found;
}

/** The boolean value Pacemaker would use for a cluster option, from rule-less sets; undefined = default. */
function effectiveClusterOption(configuration: XmlElement, name: string): boolean | undefined {
  for (const { pair } of clusterPairs(configuration)) {
    if (pair.attrs.name === name && pair.attrs.value !== undefined) return parseBoolean(pair.attrs.value) ?? false;
  }
  return undefined;
}

/**
 * Cluster option nvpairs in the order Pacemaker reads them: cib-bootstrap-options first, then sets
 * by descending score. `certain` is false for sets guarded by rules (they may not apply).
 */
function clusterPairs(configuration: XmlElement): { pair: XmlElement; certain: boolean }[] {
  const crmConfig = firstChild(configuration, 'crm_config');
  if (!crmConfig) return [];
  const sets = childElements(crmConfig, 'cluster_property_set').map((s, i) => ({ s, i, score: scoreOf(s.attrs.score) }));
  sets.sort((a, b) => (a.s.attrs.id === 'cib-bootstrap-options' ? -1 : b.s.attrs.id === 'cib-bootstrap-options' ? 1 : b.score - a.score || a.i - b.i));
  return sets.flatMap(({ s }) => {
    const certain = childElements(s, 'rule').length === 0;
    return childElements(s, 'nvpair').map((pair) => ({ pair, certain }));
  });
}

function scoreOf(text: string | undefined): number {
  if (text === undefined) return 0;
  if (text === 'INFINITY' || text === '+INFINITY') return 1_000_000;
  if (text === '-INFINITY') return -1_000_000;
  const n = Number.parseInt(text, 10);
  return Number.isNaN(n) ? 0 : Math.max(-1_000_000, Math.min(1_000_000, n));
}

// ---------------------------------------------------------------------------------------------
// Per-element checks: required attributes, id-refs, scores, enums, rules
// ---------------------------------------------------------------------------------------------

function checkElement(el: XmlElement, parent: XmlElement | undefined, index: Index, d: Collector): void {
  const ref = el.attrs['id-ref'];
  if (ref !== undefined) checkIdRef(el, ref, index, d);
  else checkRequired(el, d);
  if (SCORE_ELEMENTS.has(el.name)) checkScore(el, d);
  checkEnums(el, d);
  if (el.name === 'rule' && parent?.name !== 'rule') checkRule(el, index, d);
}

function checkRequired(el: XmlElement, d: Collector): void {
  for (const attr of REQUIRED_ATTRIBUTES[el.name] ?? []) {
    if (el.attrs[attr] === undefined) d.add(el, 'attribute-missing', 'error', `<${el.name}> needs a "${attr}" attribute`);
  }
  if (el.name === 'primitive' && el.attrs.template === undefined) {
    if (el.attrs.class === undefined) d.add(el, 'attribute-missing', 'error', '<primitive> needs a "class" attribute (or a template)');
    if (el.attrs.type === undefined) d.add(el, 'attribute-missing', 'error', '<primitive> needs a "type" attribute (or a template)');
  }
  if ((el.name === 'primitive' || el.name === 'template') && el.attrs.class === 'ocf' && el.attrs.provider === undefined) {
    d.add(el, 'attribute-missing', 'error', 'an ocf resource needs a "provider" attribute');
  }
}

function checkIdRef(el: XmlElement, ref: string, index: Index, d: Collector): void {
  const target = index.byId.get(ref);
  if (!target) {
    d.add(el, 'ref-unknown-id', 'error', `id-ref "${ref}" names no element${didYouMean(ref, index.byId.keys())}`);
  } else if (target.name !== el.name && !(NVSET_ELEMENTS.has(el.name) && NVSET_ELEMENTS.has(target.name))) {
    d.add(el, 'ref-wrong-kind', 'warning', `id-ref "${ref}" names a <${target.name}>, not a <${el.name}> (Pacemaker ignores it)`);
  }
}

function checkScore(el: XmlElement, d: Collector): void {
  const score = el.attrs.score;
  if (score !== undefined && !isScore(score)) d.add(el, 'score-invalid', 'error', `score "${score}" is not an integer, INFINITY or -INFINITY`);
}

function checkEnums(el: XmlElement, d: Collector): void {
  for (const [attr, values] of Object.entries(ENUM_ATTRIBUTES[el.name] ?? {})) {
    const v = el.attrs[attr];
    if (v !== undefined && !values.includes(v)) d.add(el, 'value-invalid', 'error', `${attr}="${v}" is not one of ${values.join(', ')}`);
  }
  for (const attr of BOOLEAN_ATTRIBUTES[el.name] ?? []) {
    const v = el.attrs[attr];
    if (v !== undefined && !['true', 'false', '1', '0'].includes(v)) d.add(el, 'value-invalid', 'error', `${attr}="${v}" is not true or false`);
  }
}

function checkRule(el: XmlElement, index: Index, d: Collector): void {
  const compiled = compileRule(el, { resolveId: (id) => index.byId.get(id), now: makeTime(2000, 1, 1) });
  for (const diag of compiled.diagnostics) {
    // id-ref problems are reported once, by checkIdRef; empty rules by the schema check below.
    if (diag.code.startsWith('rule-ref-')) continue;
    d.out.push(diag.code === 'rule-empty' ? { ...diag, severity: 'error', message: 'a rule must contain at least one expression' } : diag);
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster options
// ---------------------------------------------------------------------------------------------

function checkClusterOptions(configuration: XmlElement, d: Collector): void {
  const seen = new Set<string>();
  for (const { pair, certain } of clusterPairs(configuration)) {
    const name = pair.attrs.name;
    const value = pair.attrs.value;
    if (name === undefined || value === undefined || value === '#default') continue;
    const found = findOption('cluster', name);
    if (!found) {
      d.add(pair, 'option-unknown', 'warning', `"${name}" is not a Pacemaker 2.1 cluster option${didYouMean(name, CLUSTER_OPTION_NAMES)}`);
      continue;
    }
    if (found.viaAlias) d.add(pair, 'option-deprecated-name', 'warning', `"${name}" is an old name for "${found.def.name}"`);
    const effective = certain && !seen.has(found.def.name);
    if (certain) seen.add(found.def.name);
    const check = checkOptionValue(found.def, value);
    if (!check.ok) {
      d.add(pair, 'option-value-invalid', effective ? 'error' : 'warning', `${found.def.name}: ${check.problem}; Pacemaker uses the default (${found.def.defaultValue ?? 'none'})`);
    } else if (check.warning) {
      d.add(pair, 'option-value-questionable', 'warning', `${found.def.name}: ${check.warning}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Resources: meta-attributes, operations, fencing
// ---------------------------------------------------------------------------------------------

function checkResources(configuration: XmlElement, index: Index, d: Collector): void {
  const resources = firstChild(configuration, 'resources');
  if (resources) {
    for (const top of childElements(resources)) checkResourceTree(top, isPromotable(top), d, index);
  }
  for (const section of ['rsc_defaults', 'op_defaults'] as const) {
    const el = firstChild(configuration, section);
    if (el) checkMetaSets(el, section === 'rsc_defaults' ? 'resource' : 'operation', d);
  }
  if (index.stonithEnabled && !index.hasStonithResource) {
    d.add(resources ?? configuration, 'fencing-no-device', 'error', 'stonith-enabled is true but no fencing (class stonith) resource is defined: resources will not start (configure a fence device, or set stonith-enabled=false)');
  }
}

function isPromotable(top: XmlElement): boolean {
  if (top.name === 'master') return true;
  return metaValue(top, 'promotable') === true;
}

function metaValue(el: XmlElement, name: string): boolean | undefined {
  for (const set of childElements(el, 'meta_attributes')) {
    for (const p of childElements(set, 'nvpair')) if (p.attrs.name === name && p.attrs.value !== undefined) return parseBoolean(p.attrs.value) ?? false;
  }
  return undefined;
}

function checkResourceTree(el: XmlElement, promotable: boolean, d: Collector, index: Index): void {
  if (!RESOURCE_ELEMENTS.has(el.name)) return;
  checkMetaSets(el, 'resource', d);
  checkTargetRole(el, promotable, d);
  if (el.name === 'group' && childElements(el, 'primitive').length === 0) d.add(el, 'group-empty', 'error', 'a group must contain at least one primitive');
  if ((el.name === 'clone' || el.name === 'master') && !childElements(el).some((c) => c.name === 'primitive' || c.name === 'group')) {
    d.add(el, 'clone-empty', 'error', `a ${el.name} must contain a primitive or a group`);
  }
  const ops = firstChild(el, 'operations');
  if (ops && (el.name === 'primitive' || el.name === 'template')) checkOperations(el, ops, index, d);
  for (const c of childElements(el)) checkResourceTree(c, promotable, d, index);
}

function checkTargetRole(el: XmlElement, promotable: boolean, d: Collector): void {
  for (const set of childElements(el, 'meta_attributes')) {
    for (const p of childElements(set, 'nvpair')) {
      if (p.attrs.name !== 'target-role' || p.attrs.value === undefined || p.attrs.value === '#default') continue;
      const v = p.attrs.value.toLowerCase();
      if (!ROLES.some((r) => r.toLowerCase() === v)) continue; // reported by checkMetaSets
      if (!promotable && ['unpromoted', 'promoted', 'slave', 'master'].includes(v)) {
        d.add(p, 'target-role-not-promotable', 'error', `target-role "${p.attrs.value}" of ${el.attrs.id ?? el.name} only makes sense for promotable clones (Pacemaker ignores it)`);
      }
    }
  }
}

/** Values of meta-attributes (resource or operation scope) against the options table. */
function checkMetaSets(el: XmlElement, scope: OptionScope, d: Collector): void {
  for (const set of childElements(el, 'meta_attributes')) {
    for (const p of childElements(set, 'nvpair')) {
      const { name, value } = p.attrs;
      if (name === undefined || value === undefined || value === '#default') continue;
      const found = findOption(scope, name);
      if (!found) continue;
      const check = checkOptionValue(found.def, value);
      const severity = name === 'target-role' ? 'error' : 'warning';
      if (!check.ok) d.add(p, 'meta-value-invalid', severity, `${name}: ${check.problem}`);
      else if (check.warning) d.add(p, 'meta-value-questionable', 'warning', `${name}: ${check.warning}`);
    }
  }
}

const CANNOT_RECUR = new Set(['start', 'stop', 'promote', 'demote']);

function checkOperations(rsc: XmlElement, ops: XmlElement, index: Index, d: Collector): void {
  const seen = new Map<string, XmlElement>();
  for (const op of childElements(ops, 'op')) {
    checkMetaSets(op, 'operation', d);
    const name = op.attrs.name;
    const intervalMs = opInterval(op, d);
    if (name === undefined) continue;
    const lower = name.toLowerCase();
    if (intervalMs > 0) {
      const key = `${lower}\0${intervalMs}`;
      const first = seen.get(key);
      if (first) {
        d.add(op, 'op-duplicate', 'error', `operation ${op.attrs.id ?? ''} duplicates ${first.attrs.id ?? ''} (same name and interval) in ${rsc.attrs.id ?? 'a resource'}`);
      } else seen.set(key, op);
      if (CANNOT_RECUR.has(lower)) d.add(op, 'op-cannot-recur', 'error', `a ${name} action cannot be recurring (interval must be 0)`);
    }
    checkOnFail(rsc, op, lower, intervalMs, index, d);
    checkOpValue(op, 'timeout', d);
    for (const attr of ['enabled', 'record-pending', 'role', 'start-delay', 'interval-origin', 'requires'] as const) checkOpValue(op, attr, d);
  }
}

function opInterval(op: XmlElement, d: Collector): number {
  const text = op.attrs.interval;
  if (text === undefined) return 0;
  const parsed = parseIntervalMs(text);
  if (!parsed.ok) {
    d.add(op, 'op-interval-invalid', 'warning', `interval "${text}" does not parse (${parsed.problem}); Pacemaker uses 0`);
    return 0;
  }
  return parsed.ms;
}

function checkOpValue(op: XmlElement, attr: string, d: Collector): void {
  const value = op.attrs[attr];
  const found = findOption('operation', attr);
  if (value === undefined || !found) return;
  const check = checkOptionValue(found.def, value);
  if (!check.ok) d.add(op, 'op-value-invalid', attr === 'role' ? 'error' : 'warning', `${attr}: ${check.problem}`);
  else if (check.warning) d.add(op, 'op-value-questionable', 'warning', `${attr}: ${check.warning}`);
}

function checkOnFail(rsc: XmlElement, op: XmlElement, name: string, intervalMs: number, index: Index, d: Collector): void {
  const onFail = op.attrs['on-fail']?.toLowerCase();
  if (onFail === undefined) return;
  const allowed = ['ignore', 'block', 'stop', 'restart', 'fence', 'standby', 'demote', 'restart-container', 'reset-remote', 'nothing', 'migrate'];
  if (!allowed.includes(onFail)) {
    d.add(op, 'op-on-fail-invalid', 'error', `on-fail "${op.attrs['on-fail']}" is not one of ignore, block, stop, restart, fence, standby, demote`);
    return;
  }
  if (name === 'stop' && ['standby', 'demote', 'stop'].includes(onFail)) {
    d.add(op, 'op-on-fail-stop', 'error', `on-fail "${onFail}" is not allowed for stop actions of ${rsc.attrs.id ?? 'a resource'} (Pacemaker uses the default)`);
  }
  if (onFail === 'demote' && name !== 'promote' && !(name === 'monitor' && intervalMs > 0 && ['promoted', 'master'].includes(op.attrs.role?.toLowerCase() ?? ''))) {
    d.add(op, 'op-on-fail-demote', 'error', 'on-fail "demote" is only allowed for promote actions and recurring monitors with role Promoted');
  }
  if (onFail === 'fence' && !index.stonithEnabled) {
    d.add(op, 'op-on-fail-fence', 'warning', 'on-fail "fence" is not valid when fencing is disabled (Pacemaker uses stop)');
  }
}

// ---------------------------------------------------------------------------------------------
// Constraints
// ---------------------------------------------------------------------------------------------

const CONSTRAINT_REFS: Readonly<Record<string, readonly string[]>> = {
  rsc_location: ['rsc'],
  rsc_colocation: ['rsc', 'with-rsc'],
  rsc_order: ['first', 'then'],
  rsc_ticket: ['rsc'],
};

function checkConstraints(configuration: XmlElement, index: Index, d: Collector): void {
  const constraints = firstChild(configuration, 'constraints');
  if (!constraints) return;
  for (const c of childElements(constraints)) {
    const refs = CONSTRAINT_REFS[c.name];
    if (!refs) continue;
    const sets = childElements(c, 'resource_set');
    for (const attr of refs) checkResourceRef(c, attr, c.attrs[attr], index, d);
    for (const set of sets) for (const r of childElements(set, 'resource_ref')) checkResourceRef(r, 'id', r.attrs.id, index, d, c);
    if (c.name === 'rsc_colocation') checkColocation(c, index, d);
    if (c.name === 'rsc_location') checkLocation(c, sets.length > 0, index, d);
    else if (sets.length === 0) {
      const missing = refs.filter((a) => c.attrs[a] === undefined);
      if (missing.length > 0) d.add(c, 'attribute-missing', 'error', `<${c.name}> needs ${missing.map((a) => `"${a}"`).join(' and ')} or resource sets`);
    }
  }
}

function checkResourceRef(el: XmlElement, attr: string, id: string | undefined, index: Index, d: Collector, owner?: XmlElement): void {
  if (id === undefined) return;
  const where = owner ? ` (in constraint ${owner.attrs.id ?? owner.name})` : '';
  if (index.cloneChildren.has(id)) {
    d.add(el, 'ref-clone-child', 'warning', `${attr}="${id}"${where} names a resource inside a clone or bundle; Pacemaker may not find it: name the clone`);
    return;
  }
  if (index.constrainable.has(id)) return;
  const known = index.byId.get(id);
  const why = known ? `it names a <${known.name}>, not a resource, template or tag` : `no resource, template or tag has that id${didYouMean(id, index.constrainable)}`;
  d.add(el, 'ref-unknown-resource', 'error', `${attr}="${id}"${where}: ${why}; Pacemaker ignores the constraint`);
}

function checkLocation(c: XmlElement, hasSets: boolean, index: Index, d: Collector): void {
  const { rsc, node, score } = c.attrs;
  const pattern = c.attrs['rsc-pattern'];
  if (rsc === undefined && pattern === undefined && !hasSets) d.add(c, 'attribute-missing', 'error', '<rsc_location> needs "rsc", "rsc-pattern" or a resource set');
  if (pattern !== undefined) checkPattern(c, pattern, d);
  const rules = childElements(c, 'rule');
  if (node === undefined && rules.length === 0) d.add(c, 'location-no-target', 'error', '<rsc_location> needs a "node" with a "score", or rules');
  if (node !== undefined && score === undefined && c.attrs['score-attribute'] === undefined) d.add(c, 'attribute-missing', 'error', '<rsc_location> with a node needs a "score"');
  if (node !== undefined && !index.nodeNames.has(node)) d.add(c, 'ref-unknown-node', 'warning', `node "${node}" is not a configured node${didYouMean(node, index.nodeNames)} (the constraint applies only if it joins)`);
}

function checkColocation(c: XmlElement, index: Index, d: Collector): void {
  const influence = c.attrs.influence;
  if (influence !== undefined && parseBoolean(influence) === undefined) {
    d.add(c, 'value-invalid', 'error', `influence="${influence}" is not a boolean (Pacemaker uses the default)`);
  }
  const kind = (id: string | undefined): string | undefined => (id === undefined ? undefined : index.byId.get(id)?.name);
  const a = kind(c.attrs.rsc);
  const b = kind(c.attrs['with-rsc']);
  if ((a === 'template' || a === 'tag') && (b === 'template' || b === 'tag')) {
    d.add(c, 'colocation-two-sets', 'error', 'two templates or tags cannot be colocated with each other (Pacemaker ignores the constraint)');
  }
}

function checkPattern(c: XmlElement, pattern: string, d: Collector): void {
  try {
    new RegExp(pattern);
  } catch {
    d.add(c, 'pattern-invalid', 'error', `rsc-pattern "${pattern}" is not a valid regular expression`);
  }
}

// ---------------------------------------------------------------------------------------------
// Fencing topology and tags
// ---------------------------------------------------------------------------------------------

function isRegExp(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function checkFencing(configuration: XmlElement, index: Index, d: Collector): void {
  const topology = firstChild(configuration, 'fencing-topology');
  for (const level of topology ? childElements(topology, 'fencing-level') : []) {
    const target = level.attrs.target;
    const kinds = (['target', 'target-pattern', 'target-attribute'] as const).filter((k) => level.attrs[k] !== undefined);
    if (kinds.length === 0) {
      d.add(level, 'attribute-missing', 'error', '<fencing-level> needs "target", "target-pattern" or "target-attribute"');
    }
    // Pacemaker's schema (fencing-2.4.rng): exactly one way of naming the targets.
    if (kinds.length > 1) d.add(level, 'attribute-conflict', 'error', `<fencing-level> names its targets one way only, not with ${kinds.map((k) => `"${k}"`).join(' and ')}`);
    if (level.attrs['target-attribute'] !== undefined && level.attrs['target-value'] === undefined) d.add(level, 'attribute-missing', 'error', '<fencing-level> with "target-attribute" needs "target-value"');
    if (level.attrs['target-value'] !== undefined && level.attrs['target-attribute'] === undefined) d.add(level, 'attribute-conflict', 'error', '<fencing-level> "target-value" goes with "target-attribute"');
    const pattern = level.attrs['target-pattern'];
    if (pattern !== undefined && !isRegExp(pattern)) d.add(level, 'pattern-invalid', 'warning', `target-pattern "${pattern}" is not a valid regular expression: the level fences no node`);
    if (level.attrs.devices !== undefined && !/^[a-zA-Z0-9_.-]+(,[a-zA-Z0-9_.-]+)*$/.test(level.attrs.devices)) {
      d.add(level, 'value-invalid', 'error', `devices "${level.attrs.devices}" must be device ids separated by commas (no spaces, no empty entries)`);
    }
    if (target !== undefined && !index.nodeNames.has(target)) d.add(level, 'ref-unknown-node', 'warning', `target "${target}" is not a configured node${didYouMean(target, index.nodeNames)}`);
    for (const dev of (level.attrs.devices ?? '').split(',').filter((x) => x !== '')) {
      const el = index.byId.get(dev);
      if (!el || el.name !== 'primitive') d.add(level, 'ref-unknown-device', 'warning', `device "${dev}" is not a configured fencing resource`);
    }
    const n = Number(level.attrs.index);
    if (level.attrs.index !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 9)) d.add(level, 'value-invalid', 'error', `index "${level.attrs.index}" must be 1 to 9`);
  }
  const tags = firstChild(configuration, 'tags');
  for (const tag of tags ? childElements(tags, 'tag') : []) {
    for (const ref of childElements(tag, 'obj_ref')) {
      // An error where the schema makes obj_ref an IDREF (tags-1.3, before pacemaker-3.3); later
      // schemas take any text, crm_verify 2.1.5 is silent and the scheduler skips it: a warning.
      if (ref.attrs.id !== undefined && !index.byId.has(ref.attrs.id)) {
        d.add(ref, 'ref-unknown-id', tagRefIsIdref(index.root) ? 'error' : 'warning', `tag ${tag.attrs.id ?? ''} refers to unknown id "${ref.attrs.id}"${didYouMean(ref.attrs.id, index.byId.keys())}`);
      }
    }
  }
}

/** True when the CIB's schema (validate-with pacemaker-X.Y) is older than pacemaker-3.3, whose tags' obj_ref ids are IDREFs. */
function tagRefIsIdref(root: XmlElement): boolean {
  const m = /^pacemaker-(\d+)\.(\d+)$/.exec(root.attrs['validate-with'] ?? '');
  if (!m) return false;
  const major = Number(m[1]);
  return major < 3 || (major === 3 && Number(m[2]) < 3);
}
