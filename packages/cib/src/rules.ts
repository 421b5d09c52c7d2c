/**
 * Rules: `<rule>`, `<expression>`, `<date_expression>`, `<rsc_expression>`, `<op_expression>`,
 * evaluated exactly as Pacemaker 2.1.5 evaluates them (lib/pengine/rules.c), quirks included.
 *
 * Two steps, so a rule is read once and evaluated many times (per node, per resource):
 * 1. `compileRule(rule)` reads a rule (XML element or model `Rule`) into a `CompiledRule` and
 *    reports what cannot be read as diagnostics (unknown operation, unparseable date, bad range).
 *    It never throws; an unreadable part evaluates the way Pacemaker evaluates it (usually false).
 * 2. `evaluateRule(compiled, context)` is pure: "now" and every attribute come from `context`.
 *    It returns whether the rule passed and `nextChange`, the earliest time at which the result
 *    could differ (for cluster-recheck), when one is known.
 *
 * Semantics worth knowing (all Pacemaker's):
 * - `boolean-op` is "and" unless it is exactly "or" (any case); evaluation short-circuits, and
 *   `nextChange` only considers expressions that were evaluated. A rule without expressions passes.
 * - Node attribute expressions (including `#uname`, `#id`, `#kind`, `#is_dc`, `#cluster-name`,
 *   `#site-name`: the caller puts these in `nodeAttrs`) fail when there is no node (`nodeAttrs`
 *   undefined). `#role` is special: it tests `context.role`.
 * - Without `type`, lt/lte/gt/gte compare as "number" when either value contains '.', else as
 *   "integer"; eq/ne compare as "string". Strings compare case-insensitively. Numbers that do not
 *   parse fall back to string comparison. An unknown type compares as equal.
 * - Dates: an unparseable `start`/`end` is treated as absent; in_range is inclusive at both ends.
 */
import {
  addToTime,
  compareTimes,
  gregorianOf,
  isoWeekOf,
  parseIsoDateTime,
  timeOfDay,
  type CrmTime,
  type TimeUnit,
} from './iso8601.js';
import type { Rule as ModelRule } from './model.js';
import { parseScore } from './model.js';
import { parseIntervalMs } from './options.js';
import type { Diagnostic } from './validate.js';
import { childElements, type XmlElement } from './xml.js';

// ---------------------------------------------------------------------------------------------
// Compiled form
// ---------------------------------------------------------------------------------------------

export type AttrOperation = 'lt' | 'gt' | 'lte' | 'gte' | 'eq' | 'ne' | 'defined' | 'not_defined';
export const ATTR_OPERATIONS: readonly AttrOperation[] = ['lt', 'gt', 'lte', 'gte', 'eq', 'ne', 'defined', 'not_defined'];
export const ATTR_TYPES = ['string', 'integer', 'number', 'version'] as const;
export const VALUE_SOURCES = ['literal', 'param', 'meta'] as const;
export const DATE_OPERATIONS = ['in_range', 'gt', 'lt', 'date_spec'] as const;

/** date_spec fields in Pacemaker's evaluation order. */
export const DATE_SPEC_FIELDS = ['years', 'months', 'monthdays', 'hours', 'minutes', 'seconds', 'yeardays', 'weekyears', 'weeks', 'weekdays', 'moon'] as const;
export type DateSpecField = (typeof DATE_SPEC_FIELDS)[number];
/** duration fields, in the order Pacemaker adds them. */
export const DURATION_FIELDS: readonly TimeUnit[] = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds'];

export interface CompiledRule {
  readonly kind: 'rule';
  readonly id: string | undefined;
  readonly or: boolean;
  readonly score: string | undefined;
  readonly scoreAttribute: string | undefined;
  readonly role: string | undefined;
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledAttrExpression {
  readonly kind: 'expression';
  readonly id: string | undefined;
  readonly attribute: string | undefined;
  /** As written (lower-cased); unknown operations evaluate to false. */
  readonly operation: string | undefined;
  readonly value: string | undefined;
  readonly type: string | undefined;
  readonly valueSource: string | undefined;
}

/** A range from a date_spec field: `low`/`high` undefined = open end. `undefined` range = unparseable (ignored). */
export interface SpecRange {
  readonly low: number | undefined;
  readonly high: number | undefined;
}

export interface CompiledDateExpression {
  readonly kind: 'date_expression';
  readonly id: string | undefined;
  readonly operation: string;
  readonly start: CrmTime | undefined;
  /** Explicit end, or start + duration. */
  readonly end: CrmTime | undefined;
  readonly spec: Readonly<Partial<Record<DateSpecField, SpecRange>>> | undefined;
}

export interface CompiledRscExpression {
  readonly kind: 'rsc_expression';
  readonly id: string | undefined;
  readonly class: string | undefined;
  readonly provider: string | undefined;
  readonly type: string | undefined;
}

export interface CompiledOpExpression {
  readonly kind: 'op_expression';
  readonly id: string | undefined;
  readonly name: string | undefined;
  readonly interval: string | undefined;
  /** Parsed interval; undefined when absent; null when it does not parse (never matches). */
  readonly intervalMs: number | undefined | null;
}

/** A child Pacemaker does not know; Pacemaker's evaluator fails it. */
export interface CompiledUnknown {
  readonly kind: 'unknown';
  readonly tag: string;
}

export type CompiledCondition =
  | CompiledRule
  | CompiledAttrExpression
  | CompiledDateExpression
  | CompiledRscExpression
  | CompiledOpExpression
  | CompiledUnknown;

export interface CompileOptions {
  /** Finds the element an `id-ref` names (rules can be references). */
  readonly resolveId?: (id: string) => XmlElement | undefined;
  /** Local zone for dates written without one (seconds east of UTC; default 0). */
  readonly localOffsetSeconds?: number;
  /** Needed only for dates written as a bare time of day (`12:00`), which Pacemaker puts on today. */
  readonly now?: CrmTime;
}

export interface Compiled {
  readonly rule: CompiledRule;
  readonly diagnostics: readonly Diagnostic[];
}

// ---------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------

class Compiler {
  readonly diagnostics: Diagnostic[] = [];
  private readonly refStack = new Set<string>();
  constructor(private readonly options: CompileOptions) {}

  private report(el: XmlElement, code: string, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.diagnostics.push({ code, severity, element: el.name, id: el.attrs.id, message });
  }

  rule(input: XmlElement): CompiledRule {
    const ref = input.attrs['id-ref'];
    const el = this.deref(input);
    if (ref !== undefined && el !== input) this.refStack.add(ref);
    try {
      return this.ruleBody(el, el === input && ref !== undefined);
    } finally {
      if (ref !== undefined && el !== input) this.refStack.delete(ref);
    }
  }

  private ruleBody(el: XmlElement, unresolvedRef: boolean): CompiledRule {
    const op = el.attrs['boolean-op'];
    if (op !== undefined && op !== 'and' && op !== 'or') {
      this.report(el, 'rule-bad-boolean-op', `boolean-op "${op}" is not "and" or "or" (Pacemaker treats it as "and")`);
    }
    // Pacemaker evaluates an unresolvable id-ref as an empty rule, which passes.
    const conditions = unresolvedRef ? [] : childElements(el).map((c) => this.condition(c));
    if (conditions.length === 0 && !unresolvedRef) {
      this.report(el, 'rule-empty', 'a rule must contain at least one expression (Pacemaker lets an empty rule pass)', 'warning');
    }
    return {
      kind: 'rule',
      id: el.attrs.id,
      or: op?.toLowerCase() === 'or',
      score: el.attrs.score,
      scoreAttribute: el.attrs['score-attribute'],
      role: el.attrs.role,
      conditions,
    };
  }

  /** The rule an id-ref names, or `el` itself when it is not a reference or cannot be resolved. */
  private deref(el: XmlElement): XmlElement {
    const ref = el.attrs['id-ref'];
    if (ref === undefined) return el;
    if (this.refStack.has(ref)) {
      this.report(el, 'rule-ref-loop', `id-ref "${ref}" refers back to a rule that contains it`);
      return el;
    }
    const target = this.options.resolveId?.(ref);
    if (!target) {
      this.report(el, 'rule-ref-unknown', `id-ref "${ref}" names no element`);
      return el;
    }
    if (target.name !== 'rule') {
      this.report(el, 'rule-ref-kind', `id-ref "${ref}" names a <${target.name}>, not a <rule>`);
      return el;
    }
    return target;
  }

  private condition(el: XmlElement): CompiledCondition {
    switch (el.name) {
      case 'rule':
        return this.rule(el);
      case 'expression':
        return this.attrExpression(el);
      case 'date_expression':
        return this.dateExpression(el);
      case 'rsc_expression':
        return { kind: 'rsc_expression', id: el.attrs.id, class: el.attrs.class, provider: el.attrs.provider, type: el.attrs.type };
      case 'op_expression':
        return this.opExpression(el);
      default:
        this.report(el, 'rule-unknown-element', `<${el.name}> is not a rule expression (Pacemaker fails it)`);
        return { kind: 'unknown', tag: el.name };
    }
  }

  private attrExpression(el: XmlElement): CompiledAttrExpression {
    const a = el.attrs;
    if (a.attribute === undefined) this.report(el, 'expression-missing-attribute', 'expression has no "attribute" (it never passes)');
    const operation = a.operation?.toLowerCase();
    if (operation === undefined) this.report(el, 'expression-missing-operation', 'expression has no "operation" (it never passes)');
    else if (!(ATTR_OPERATIONS as readonly string[]).includes(operation)) {
      this.report(el, 'expression-bad-operation', `operation "${a.operation}" is not one of ${ATTR_OPERATIONS.join(', ')}`);
    } else if (operation !== 'defined' && operation !== 'not_defined' && a.value === undefined) {
      this.report(el, 'expression-missing-value', `operation "${operation}" needs a "value"`, 'warning');
    }
    if (a.type !== undefined && !(ATTR_TYPES as readonly string[]).includes(a.type.toLowerCase())) {
      this.report(el, 'expression-bad-type', `type "${a.type}" is not one of ${ATTR_TYPES.join(', ')} (Pacemaker then compares as equal)`);
    }
    if (a['value-source'] !== undefined && !(VALUE_SOURCES as readonly string[]).includes(a['value-source'].toLowerCase())) {
      this.report(el, 'expression-bad-value-source', `value-source "${a['value-source']}" is not one of ${VALUE_SOURCES.join(', ')}`);
    }
    return { kind: 'expression', id: a.id, attribute: a.attribute, operation, value: a.value, type: a.type, valueSource: a['value-source'] };
  }

  private date(el: XmlElement, attr: 'start' | 'end'): CrmTime | undefined {
    const text = el.attrs[attr];
    if (text === undefined) return undefined;
    const r = parseIsoDateTime(text, { localOffsetSeconds: this.options.localOffsetSeconds, now: this.options.now });
    if (!r.ok) {
      this.report(el, 'date-unparseable', `${attr}="${text}": ${r.problem} (Pacemaker ignores it)`);
      return undefined;
    }
    for (const w of r.warnings) this.report(el, 'date-offset-ignored', `${attr}="${text}": ${w}`, 'warning');
    return r.value;
  }

  private dateExpression(el: XmlElement): CompiledDateExpression {
    const operation = (el.attrs.operation ?? 'in_range').toLowerCase();
    if (!(DATE_OPERATIONS as readonly string[]).includes(operation)) {
      this.report(el, 'date-bad-operation', `operation "${el.attrs.operation}" is not one of ${DATE_OPERATIONS.join(', ')} (it never passes)`);
    }
    const start = this.date(el, 'start');
    let end = this.date(el, 'end');
    const durationEl = childElements(el, 'duration')[0];
    if (start && !end && durationEl) end = this.applyDuration(start, durationEl);
    const specEl = childElements(el, 'date_spec')[0];
    this.checkDateShape(el, operation, start, end, specEl);
    return { kind: 'date_expression', id: el.attrs.id, operation, start, end, spec: specEl ? this.spec(specEl) : undefined };
  }

  private checkDateShape(el: XmlElement, op: string, start: CrmTime | undefined, end: CrmTime | undefined, spec: XmlElement | undefined): void {
    if (op === 'in_range' && !start && !end) this.report(el, 'date-missing-bound', 'in_range needs a valid start or end (it never passes)');
    if (op === 'gt' && !start) this.report(el, 'date-missing-bound', 'gt needs a valid start (it never passes)');
    if (op === 'lt' && !end) this.report(el, 'date-missing-bound', 'lt needs a valid end (it never passes)');
    if (op === 'date_spec' && !spec) this.report(el, 'date-missing-spec', 'operation date_spec needs a <date_spec> (it always passes without one)', 'warning');
  }

  private applyDuration(start: CrmTime, durationEl: XmlElement): CrmTime {
    let end = start;
    for (const unit of DURATION_FIELDS) {
      const text = durationEl.attrs[unit];
      if (text === undefined) continue;
      const n = scanLongLong(text);
      if (!n.ok) {
        this.report(durationEl, 'duration-bad-value', `${unit}="${text}" is not an integer (ignored)`);
        continue;
      }
      if (n.value !== 0 && Math.abs(n.value) <= 2_147_483_647) end = addToTime(end, unit, n.value);
    }
    return end;
  }

  private spec(specEl: XmlElement): Partial<Record<DateSpecField, SpecRange>> {
    const out: Partial<Record<DateSpecField, SpecRange>> = {};
    for (const field of DATE_SPEC_FIELDS) {
      const text = specEl.attrs[field];
      if (text === undefined) continue;
      const range = parseRange(text);
      if (range === undefined) {
        this.report(specEl, 'date-spec-bad-range', `${field}="${text}" is not a number or range like 1-5 (ignored)`);
        continue;
      }
      out[field] = range;
    }
    if (specEl.attrs.moon !== undefined) this.report(specEl, 'date-spec-moon-deprecated', 'moon is deprecated', 'warning');
    return out;
  }

  private opExpression(el: XmlElement): CompiledOpExpression {
    const interval = el.attrs.interval;
    let intervalMs: number | undefined | null;
    if (interval !== undefined) {
      const parsed = parseIntervalMs(interval);
      intervalMs = parsed.ok ? parsed.ms : null;
      if (!parsed.ok) this.report(el, 'op-expression-bad-interval', `interval "${interval}" does not parse (it never matches)`);
    }
    if (el.attrs.name === undefined) this.report(el, 'op-expression-missing-name', 'op_expression needs a "name"');
    return { kind: 'op_expression', id: el.attrs.id, name: el.attrs.name, interval, intervalMs };
  }
}

/** Pacemaker's pcmk__parse_ll_range: "5", "1-5", "-5" (up to), "5-" (from); undefined if malformed. */
export function parseRange(text: string): SpecRange | undefined {
  if (text === '' || text === '-') return undefined;
  if (text.startsWith('-')) {
    const hi = scanLongLong(text.slice(1));
    return hi.ok && hi.rest === '' ? { low: undefined, high: hi.value } : undefined;
  }
  const lo = scanLongLong(text);
  if (!lo.ok) return undefined;
  if (lo.rest === '') return { low: lo.value, high: lo.value };
  if (!lo.rest.startsWith('-')) return undefined;
  if (lo.rest.length === 1) return { low: lo.value, high: undefined };
  const hi = scanLongLong(lo.rest.slice(1));
  return hi.ok && hi.rest === '' ? { low: lo.value, high: hi.value } : undefined;
}

/** Read a rule (XML or model) into the compiled form; problems become diagnostics. */
export function compileRule(rule: XmlElement | ModelRule, options: CompileOptions = {}): Compiled {
  let opts = options;
  if (rule.kind === 'rule' && !options.resolveId) {
    const refs = new Map<string, XmlElement>();
    collectModelRefs(rule, refs);
    if (refs.size > 0) opts = { ...options, resolveId: (id) => refs.get(id) };
  }
  const compiler = new Compiler(opts);
  const compiled = compiler.rule(rule.kind === 'rule' ? rule.xml : rule);
  return { rule: compiled, diagnostics: compiler.diagnostics };
}

/** The model resolves id-refs already; hand its targets to the compiler. */
function collectModelRefs(rule: ModelRule, refs: Map<string, XmlElement>, seen = new Set<ModelRule>()): void {
  if (seen.has(rule)) return;
  seen.add(rule);
  if (rule.idRef !== undefined && rule.ref) refs.set(rule.idRef, rule.ref.xml);
  for (const c of [...rule.expressions, ...(rule.ref ? rule.ref.expressions : [])]) {
    if (c.kind === 'rule') collectModelRefs(c, refs, seen);
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/** Resource roles, in Pacemaker's order (Unknown < Stopped < Started < Unpromoted < Promoted). */
export type RscRole = 'Stopped' | 'Started' | 'Unpromoted' | 'Promoted';
const ROLE_RANK: Readonly<Record<RscRole, number>> = { Stopped: 1, Started: 2, Unpromoted: 3, Promoted: 4 };

/** Pacemaker's text2role (case-insensitive, legacy Slave/Master accepted); 0 = unknown. */
export function roleRank(text: string | undefined): number {
  switch (text?.toLowerCase()) {
    case 'stopped':
      return 1;
    case 'started':
      return 2;
    case 'unpromoted':
    case 'slave':
      return 3;
    case 'promoted':
    case 'master':
      return 4;
    default:
      return 0;
  }
}

type Attrs = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

function lookup(attrs: Attrs | undefined, name: string): string | undefined {
  if (!attrs) return undefined;
  if (attrs instanceof Map) return (attrs as ReadonlyMap<string, string>).get(name);
  return Object.prototype.hasOwnProperty.call(attrs, name) ? (attrs as Record<string, string>)[name] : undefined;
}

export interface RuleContext {
  /** The time to evaluate at (Pacemaker's "now", usually local time of the DC). */
  readonly now: CrmTime;
  /** The node's attributes, with #uname, #id, #kind, #is_dc, #cluster-name, #site-name filled in by the caller. Undefined = no node: node expressions fail. */
  readonly nodeAttrs?: Attrs;
  /**
   * Resource parameters for value-source="param" (location rules). Undefined: the value is taken
   * literally. Location rules always have "match data" in Pacemaker: pass `{}` rather than
   * undefined there, so an empty `value` counts as absent as it does in Pacemaker.
   */
  readonly rscParams?: Attrs;
  /** Resource meta-attributes for value-source="meta" (location rules). Undefined: the value is taken literally. */
  readonly rscMeta?: Attrs;
  /** Submatches of a location constraint's rsc-pattern, for %0..%9 in attribute names. */
  readonly reMatches?: readonly (string | undefined)[];
  /** The resource's role, for #role expressions. Undefined = unknown: #role expressions fail. */
  readonly role?: RscRole;
  /** The resource, for rsc_expression (rsc_defaults/op_defaults rules). Undefined: rsc_expression fails. */
  readonly rsc?: { readonly standard: string; readonly provider?: string; readonly agent: string };
  /** The operation, for op_expression (op_defaults rules). Undefined: op_expression fails. */
  readonly op?: { readonly name: string; readonly intervalMs: number };
}

export interface RuleResult {
  readonly passed: boolean;
  /** Earliest time the result could change, when known (Pacemaker's next_change). */
  readonly nextChange?: CrmTime;
}

class NextChange {
  value: CrmTime | undefined;
  offer(t: CrmTime): void {
    if (!this.value || compareTimes(t, this.value) < 0) this.value = t;
  }
}

/** Evaluate a rule (compiled, XML or model) in a context. Never throws. */
export function evaluateRule(rule: CompiledRule | XmlElement | ModelRule, context: RuleContext, options: CompileOptions = {}): RuleResult {
  const compiled = isCompiled(rule) ? rule : compileRule(rule, { now: context.now, ...options }).rule;
  const next = new NextChange();
  const passed = evalRule(compiled, context, next);
  return next.value ? { passed, nextChange: next.value } : { passed };
}

/**
 * Evaluate a list of rules as Pacemaker's pe_eval_rules (the rules of one nvset or a lifetime):
 * passes if any rule passes; an empty list passes.
 */
export function evaluateRules(rules: readonly (CompiledRule | XmlElement | ModelRule)[], context: RuleContext, options: CompileOptions = {}): RuleResult {
  const next = new NextChange();
  let passed = rules.length === 0;
  for (const r of rules) {
    const res = evaluateRule(r, context, options);
    if (res.nextChange) next.offer(res.nextChange);
    if (res.passed) {
      passed = true;
      break;
    }
  }
  return next.value ? { passed, nextChange: next.value } : { passed };
}

function isCompiled(rule: CompiledRule | XmlElement | ModelRule): rule is CompiledRule {
  return rule.kind === 'rule' && 'conditions' in rule;
}

function evalRule(rule: CompiledRule, ctx: RuleContext, next: NextChange): boolean {
  for (const c of rule.conditions) {
    const ok = evalCondition(c, ctx, next);
    if (ok && rule.or) return true;
    if (!ok && !rule.or) return false;
  }
  return !rule.or;
}

function evalCondition(c: CompiledCondition, ctx: RuleContext, next: NextChange): boolean {
  switch (c.kind) {
    case 'rule':
      return evalRule(c, ctx, next);
    case 'expression':
      return c.attribute === '#role' ? evalRole(c, ctx) : evalAttr(c, ctx);
    case 'date_expression':
      return evalDate(c, ctx.now, next);
    case 'rsc_expression':
      return evalRsc(c, ctx);
    case 'op_expression':
      return evalOp(c, ctx);
    case 'unknown':
      return false;
    default: {
      const never: never = c;
      throw new Error(`unknown condition ${JSON.stringify(never)}`);
    }
  }
}

/** %0..%9 in an attribute name replaced by rsc-pattern submatches (unmatched groups are dropped). */
function expandMatches(attribute: string, matches: readonly (string | undefined)[] | undefined): string {
  if (!matches) return attribute;
  return attribute.replace(/%([0-9])/g, (whole, digit: string) => {
    const m = matches[Number(digit)];
    return m === undefined || m === '' ? whole : m;
  });
}

function evalAttr(e: CompiledAttrExpression, ctx: RuleContext): boolean {
  if (e.attribute === undefined || ctx.nodeAttrs === undefined) return false;
  const attribute = expandMatches(e.attribute, ctx.reMatches);
  let value = e.value;
  // With match data (a location rule: the caller passes rscParams/rscMeta/reMatches), Pacemaker
  // reads an empty value as no value.
  const hasMatchData = ctx.rscParams !== undefined || ctx.rscMeta !== undefined || ctx.reMatches !== undefined;
  if (value === '' && hasMatchData) value = undefined;
  const source = e.valueSource?.toLowerCase();
  if (value !== undefined && source === 'param' && ctx.rscParams) value = lookup(ctx.rscParams, value);
  else if (value !== undefined && source === 'meta' && ctx.rscMeta) value = lookup(ctx.rscMeta, value);
  return acceptAttr(lookup(ctx.nodeAttrs, attribute), value, e.type, e.operation);
}

/** Pacemaker's accept_attr_expr: does `nodeValue OP ruleValue` hold? */
export function acceptAttr(nodeValue: string | undefined, ruleValue: string | undefined, type: string | undefined, op: string | undefined): boolean {
  const o = op?.toLowerCase();
  if (o === 'defined') return nodeValue !== undefined;
  if (o === 'not_defined') return nodeValue === undefined;
  const cmp = compareValues(nodeValue, ruleValue, type, o);
  if (o === 'eq') return cmp === 0;
  if (o === 'ne') return cmp !== 0;
  if (nodeValue === undefined || ruleValue === undefined) return false;
  if (o === 'lt') return cmp < 0;
  if (o === 'lte') return cmp <= 0;
  if (o === 'gt') return cmp > 0;
  if (o === 'gte') return cmp >= 0;
  return false;
}

/** Pacemaker's compare_attr_expr_vals. */
export function compareValues(l: string | undefined, r: string | undefined, type: string | undefined, op: string | undefined): number {
  if (l === undefined || r === undefined) return l === r ? 0 : r === undefined ? 1 : -1;
  let t = type?.toLowerCase();
  if (t === undefined) {
    if (op === 'lt' || op === 'lte' || op === 'gt' || op === 'gte') t = l.includes('.') || r.includes('.') ? 'number' : 'integer';
    else t = 'string';
  }
  switch (t) {
    case 'string':
      return compareCaseless(l, r);
    case 'integer': {
      const a = scanLongLong(l);
      const b = scanLongLong(r);
      if (!a.ok || !b.ok || a.overflow || b.overflow) return compareCaseless(l, r);
      return a.big < b.big ? -1 : a.big > b.big ? 1 : 0;
    }
    case 'number': {
      const a = scanDouble(l);
      const b = scanDouble(r);
      if (a === undefined || b === undefined) return compareCaseless(l, r);
      return a < b ? -1 : a > b ? 1 : 0;
    }
    case 'version':
      return compareVersions(l, r);
    default:
      return 0;
  }
}

/** strcasecmp (ASCII case folding, byte order). */
function compareCaseless(a: string, b: string): number {
  const x = a.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const y = b.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return x < y ? -1 : x > y ? 1 : 0;
}

/** strtoll prefix parse, as pcmk__scan_ll: `ok` if digits were found; `overflow` when out of long long range. */
export function scanLongLong(text: string): { ok: boolean; value: number; big: bigint; overflow: boolean; rest: string } {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(text);
  if (!m) return { ok: false, value: 0, big: 0n, overflow: false, rest: text };
  const big = BigInt(`${m[1]}${m[2]}`);
  const max = 9223372036854775807n;
  const overflow = big > max || big < -max - 1n;
  const clipped = big > max ? max : big < -max - 1n ? -max - 1n : big;
  return { ok: true, value: Number(clipped), big: clipped, overflow, rest: text.slice(m[0].length) };
}

/** strtod prefix parse as pcmk__scan_double; undefined when nothing parses or it overflows. */
function scanDouble(text: string): number | undefined {
  const t = text.replace(/^[ \t\n\v\f\r]+/, '');
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?/.exec(t);
  if (hex && ((hex[2] ?? '') !== '' || (hex[3] ?? '') !== '')) return finite(hexValue(hex));
  const m = /^[+-]?(?:inf(?:inity)?|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/i.exec(t);
  if (!m) return undefined;
  const s = m[0].toLowerCase();
  const sign = s.startsWith('-') ? -1 : 1;
  const body = s.replace(/^[+-]/, '');
  if (body.startsWith('inf')) return sign * Infinity;
  if (body === 'nan') return NaN;
  return finite(Number(s));
}

function hexValue(m: RegExpExecArray): number {
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  let v = int === '' ? 0 : Number.parseInt(int, 16);
  for (let i = 0; i < frac.length; i++) v += Number.parseInt(frac[i] ?? '0', 16) / 16 ** (i + 1);
  if (m[4] !== undefined) v *= 2 ** Number(m[4]);
  return m[1] === '-' ? -v : v;
}

/** strtod reports ERANGE for overflow, which Pacemaker treats as a parse failure. */
function finite(v: number): number | undefined {
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Pacemaker's compare_version: read a number with strtol, skip one '.', repeat; an exhausted side
 * reads as 0. strtol cannot move past other characters ("1e3"): that side reads 0 from then on.
 * Where Pacemaker 2.1.5 would loop forever (both sides stuck or exhausted with equal components),
 * the versions compare equal here.
 */
export function compareVersions(a: string, b: string): number {
  const x = { text: a, pos: 0 as number | undefined };
  const y = { text: b, pos: 0 as number | undefined };
  for (let steps = 0; steps <= a.length + b.length + 1; steps++) {
    if (x.pos === undefined && y.pos === undefined) return 0;
    const dx = versionStep(x);
    const dy = versionStep(y);
    if (dx !== dy) return dx < dy ? -1 : 1;
  }
  return 0;
}

/** One strtol + '.' skip on a version cursor; `pos` undefined = exhausted (reads 0). */
function versionStep(c: { text: string; pos: number | undefined }): number {
  if (c.pos === undefined) return 0;
  const m = /^[ \t\n\v\f\r]*[+-]?[0-9]+/.exec(c.text.slice(c.pos));
  const value = m ? Number.parseInt(m[0], 10) : 0;
  if (m) c.pos += m[0].length;
  if (c.text[c.pos] === '.') c.pos++;
  if (c.pos >= c.text.length) c.pos = undefined;
  return value;
}

function evalRole(e: CompiledAttrExpression, ctx: RuleContext): boolean {
  if (ctx.role === undefined) return false;
  const role = ROLE_RANK[ctx.role];
  switch (e.operation) {
    case 'defined':
      return role > ROLE_RANK.Started;
    case 'not_defined':
      return role < ROLE_RANK.Unpromoted;
    case 'eq':
      return roleRank(e.value) === role;
    case 'ne':
      return role >= ROLE_RANK.Unpromoted && roleRank(e.value) !== role;
    default:
      return false;
  }
}

function evalRsc(e: CompiledRscExpression, ctx: RuleContext): boolean {
  const rsc = ctx.rsc;
  if (!rsc) return false;
  if (e.class !== undefined && e.class !== rsc.standard) return false;
  if (e.provider !== rsc.provider) return false;
  if (e.type !== undefined && e.type !== rsc.agent) return false;
  return true;
}

function evalOp(e: CompiledOpExpression, ctx: RuleContext): boolean {
  const op = ctx.op;
  if (!op || e.intervalMs === null) return false;
  if (e.intervalMs !== undefined && e.intervalMs !== op.intervalMs) return false;
  return e.name === op.name;
}

function evalDate(e: CompiledDateExpression, now: CrmTime, next: NextChange): boolean {
  switch (e.operation) {
    case 'in_range':
      if (!e.start && !e.end) return false;
      if (e.start && compareTimes(now, e.start) < 0) {
        next.offer(e.start);
        return false;
      }
      if (e.end && compareTimes(now, e.end) > 0) return false;
      if (e.end) next.offer(addToTime(e.end, 'seconds', 1));
      return true;
    case 'gt':
      if (!e.start) return false;
      if (compareTimes(now, e.start) > 0) return true;
      next.offer(addToTime(e.start, 'seconds', 1));
      return false;
    case 'lt':
      if (!e.end) return false;
      if (compareTimes(now, e.end) < 0) {
        next.offer(e.end);
        return true;
      }
      return false;
    case 'date_spec': {
      const passed = dateSpecSatisfied(e.spec ?? {}, now);
      const change = dateSpecNextChange(e.spec ?? {}, now);
      if (change) next.offer(change);
      return passed;
    }
    default:
      return false;
  }
}

/** Pacemaker's phase_of_the_moon (0 = new .. 4 = full .. 7). */
export function moonPhase(now: CrmTime): number {
  const goldn = (now.years % 19) + 1;
  let epact = (11 * goldn + 18) % 30;
  if ((epact === 25 && goldn > 11) || epact === 24) epact++;
  return (Math.trunc((((now.days + epact) * 6 + 11) % 177) / 22)) & 7;
}

function dateSpecValues(now: CrmTime): Record<DateSpecField, number> {
  const g = gregorianOf(now);
  const t = timeOfDay(now);
  const w = isoWeekOf(now);
  return {
    years: g.year,
    months: g.month,
    monthdays: g.day,
    hours: t.hour,
    minutes: t.minute,
    seconds: t.second,
    yeardays: now.days,
    weekyears: w.weekYear,
    weeks: w.week,
    weekdays: w.weekday,
    moon: moonPhase(now),
  };
}

/** Pacemaker's pe_cron_range_satisfied: every given (parseable) field must contain the current value. */
export function dateSpecSatisfied(spec: Readonly<Partial<Record<DateSpecField, SpecRange>>>, now: CrmTime): boolean {
  const values = dateSpecValues(now);
  for (const field of DATE_SPEC_FIELDS) {
    const range = spec[field];
    if (!range) continue;
    const v = values[field];
    if (range.low !== undefined && v < range.low) return false;
    if (range.high !== undefined && v > range.high) return false;
  }
  return true;
}

/**
 * When a date_spec could next change its answer. Pacemaker leaves this undone (@TODO); we give
 * the start of the next unit of the finest field the spec uses (next second, minute, hour or day),
 * which is never later than the real change, so a recheck then is always safe.
 */
function dateSpecNextChange(spec: Readonly<Partial<Record<DateSpecField, SpecRange>>>, now: CrmTime): CrmTime | undefined {
  const t = timeOfDay(now);
  if (spec.seconds) return addToTime(now, 'seconds', 1);
  if (spec.minutes) return addToTime(now, 'seconds', 60 - t.second);
  if (spec.hours) return addToTime(now, 'seconds', 3600 - t.minute * 60 - t.second);
  if (Object.keys(spec).length > 0) return addToTime(now, 'seconds', 86_400 - now.seconds);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Location rule scores
// ---------------------------------------------------------------------------------------------

/**
 * The score a location rule gives a node (Pacemaker's get_node_score): `score` as written, or the
 * value of the node attribute named by `score-attribute` (-INFINITY when the node lacks it), or 0
 * when the rule has neither.
 */
export function ruleScore(rule: CompiledRule, nodeAttrs: Attrs | undefined): number {
  if (rule.score !== undefined) return parseScore(rule.score);
  if (rule.scoreAttribute === undefined) return 0;
  const v = lookup(nodeAttrs, rule.scoreAttribute);
  return v === undefined ? parseScore('-INFINITY') : parseScore(v);
}
