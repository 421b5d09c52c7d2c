import { describe, expect, it } from 'vitest';
import { formatTime, makeTime, type CrmTime } from './iso8601.js';
import { readCib } from './read.js';
import {
  acceptAttr,
  compareVersions,
  compileRule,
  evaluateRule,
  evaluateRules,
  parseRange,
  ruleScore,
  type RuleContext,
} from './rules.js';
import { parseXml, type XmlElement } from './xml.js';

const NOW = makeTime(2024, 3, 5, 12, 0, 0); // a Tuesday, ISO week 10

function rule(xml: string): XmlElement {
  return parseXml(xml).root;
}

function passes(xml: string, ctx: Partial<RuleContext> = {}): boolean {
  return evaluateRule(rule(xml), { now: NOW, nodeAttrs: {}, ...ctx }).passed;
}

function expr(attrs: string): string {
  return `<rule id="r"><expression id="e" ${attrs}/></rule>`;
}

describe('attribute expressions', () => {
  // Each operation and type, with and without a node value, as Pacemaker's accept_attr_expr decides.
  it.each([
    // [node value, op, rule value, type, expected]
    ['5', 'lt', '10', 'integer', true],
    ['10', 'lt', '10', 'integer', false],
    ['10', 'lte', '10', 'integer', true],
    ['11', 'gt', '10', 'integer', true],
    ['10', 'gte', '10', 'integer', true],
    ['9', 'gte', '10', 'integer', false],
    ['010', 'eq', '10', 'integer', true],
    ['10abc', 'eq', '10', 'integer', true], // strtoll reads the leading number
    ['abc', 'lt', 'abd', 'integer', true], // unparseable integers compare as strings
    ['9', 'lt', '10', 'string', false], // string order
    ['9', 'lt', '10', undefined, true], // default for lt is integer
    ['1.5', 'lt', '10', undefined, true], // a '.' makes it a number comparison
    ['9.5', 'gt', '10', undefined, false],
    ['2.5', 'gt', '2.25', 'number', true],
    ['1e3', 'eq', '1000', 'number', true],
    ['x', 'lt', '1', 'number', false], // "x" > "1" as strings
    ['ABC', 'eq', 'abc', undefined, true], // strings compare without case
    ['ABC', 'eq', 'abc', 'string', true],
    ['abc', 'ne', 'abd', undefined, true],
    ['1.10', 'gt', '1.9', 'version', true],
    ['1.2', 'eq', '1.2.0', 'version', true],
    ['2.0.5', 'lt', '2.1', 'version', true],
    ['5', 'eq', '7', 'bogus', true], // an unknown type compares as equal (Pacemaker)
    [undefined, 'lt', '5', 'integer', false], // missing node value never orders
    [undefined, 'ne', '5', undefined, true],
    [undefined, 'eq', '5', undefined, false],
    ['x', 'defined', undefined, undefined, true],
    [undefined, 'defined', undefined, undefined, false],
    [undefined, 'not_defined', undefined, undefined, true],
    ['x', 'not_defined', undefined, undefined, false],
    ['5', 'eq', undefined, undefined, false],
    ['5', 'frob', '5', undefined, false], // unknown operation never passes
  ] as const)('%j %s %j (type %s) -> %s', (node, op, value, type, expected) => {
    expect(acceptAttr(node, value, type, op)).toBe(expected);
    const attrs = [`attribute="a"`, `operation="${op}"`, value !== undefined ? `value="${value}"` : '', type ? `type="${type}"` : ''].join(' ');
    expect(passes(expr(attrs), { nodeAttrs: node === undefined ? {} : { a: node } })).toBe(expected);
  });

  // Built-in node attributes are ordinary lookups once the caller fills them in.
  it.each([
    ['#uname', 'node1', true],
    ['#uname', 'node2', false],
    ['#id', '1', true],
    ['#kind', 'cluster', true],
    ['#is_dc', 'true', true],
    ['#cluster-name', 'prod', true],
    ['#site-name', 'paris', true],
  ])('%s eq %s', (attr, value, expected) => {
    const nodeAttrs = { '#uname': 'node1', '#id': '1', '#kind': 'cluster', '#is_dc': 'true', '#cluster-name': 'prod', '#site-name': 'paris' };
    expect(passes(expr(`attribute="${attr}" operation="eq" value="${value}"`), { nodeAttrs })).toBe(expected);
  });

  // Without a node there is nothing to compare: node expressions fail, even not_defined.
  it('fails node expressions when there is no node', () => {
    expect(evaluateRule(rule(expr('attribute="a" operation="not_defined"')), { now: NOW }).passed).toBe(false);
  });

  // value-source takes the comparison value from the resource's parameters or meta-attributes.
  it('reads the value from resource params and meta', () => {
    const nodeAttrs = { site: 'paris', weight: '7' };
    expect(passes(expr('attribute="site" operation="eq" value="where" value-source="param"'), { nodeAttrs, rscParams: { where: 'paris' } })).toBe(true);
    expect(passes(expr('attribute="site" operation="eq" value="where" value-source="param"'), { nodeAttrs, rscParams: { where: 'rome' } })).toBe(false);
    expect(passes(expr('attribute="weight" operation="gt" value="w" value-source="meta"'), { nodeAttrs, rscMeta: { w: '5' } })).toBe(true);
    // Without resource data, Pacemaker takes the value literally.
    expect(passes(expr('attribute="site" operation="eq" value="paris" value-source="param"'), { nodeAttrs })).toBe(true);
  });

  // rsc-pattern submatches (%1) are expanded in the attribute name.
  it('expands regular-expression submatches in attribute names', () => {
    expect(passes(expr('attribute="allow-%1" operation="eq" value="yes"'), { nodeAttrs: { 'allow-db': 'yes' }, reMatches: ['rsc-db', 'db'] })).toBe(true);
  });
});

describe('#role expressions', () => {
  // #role tests the resource's role, not a node attribute; "ne" is only meaningful for promotable roles.
  it.each([
    ['eq', 'Promoted', 'Promoted', true],
    ['eq', 'Master', 'Promoted', true],
    ['eq', 'Unpromoted', 'Promoted', false],
    ['eq', 'Slave', 'Unpromoted', true],
    ['ne', 'Promoted', 'Unpromoted', true],
    ['ne', 'Promoted', 'Started', false],
    ['defined', '', 'Promoted', true],
    ['defined', '', 'Started', false],
    ['not_defined', '', 'Started', true],
    ['not_defined', '', 'Unpromoted', false],
  ] as const)('%s %s with role %s -> %s', (op, value, role, expected) => {
    expect(passes(expr(`attribute="#role" operation="${op}" value="${value}"`), { role })).toBe(expected);
  });

  // An unknown role (no resource) makes every #role expression fail.
  it('fails without a role', () => {
    expect(passes(expr('attribute="#role" operation="not_defined"'))).toBe(false);
  });
});

describe('boolean combination', () => {
  const yes = '<expression id="y" attribute="a" operation="eq" value="1"/>';
  const no = '<expression id="n" attribute="a" operation="eq" value="2"/>';
  // and/or, nesting, and Pacemaker's defaults (and; empty rule passes; only "or" means or).
  it.each([
    [`<rule id="r">${yes}${yes}</rule>`, true],
    [`<rule id="r">${yes}${no}</rule>`, false],
    [`<rule id="r" boolean-op="or">${no}${yes}</rule>`, true],
    [`<rule id="r" boolean-op="or">${no}${no}</rule>`, false],
    [`<rule id="r" boolean-op="OR">${no}${yes}</rule>`, true],
    [`<rule id="r" boolean-op="xor">${no}${yes}</rule>`, false],
    [`<rule id="r"></rule>`, true],
    [`<rule id="r" boolean-op="or"></rule>`, false],
    [`<rule id="r" boolean-op="or">${no}<rule id="n1">${yes}${yes}</rule></rule>`, true],
    [`<rule id="r">${yes}<rule id="n1" boolean-op="or">${no}${no}</rule></rule>`, false],
    [`<rule id="r">${yes}<frob id="f"/></rule>`, false],
  ])('%s -> %s', (xml, expected) => {
    expect(passes(xml, { nodeAttrs: { a: '1' } })).toBe(expected);
  });

  // Rules referenced by id-ref evaluate as the rule they name.
  it('follows id-ref to another rule', () => {
    const target = rule(`<rule id="t"><expression id="e" attribute="a" operation="eq" value="1"/></rule>`);
    const ref = rule(`<rule id="outer"><rule id-ref="t"/></rule>`);
    const ctx = { now: NOW, nodeAttrs: { a: '2' } };
    expect(evaluateRule(ref, ctx, { resolveId: (id) => (id === 't' ? target : undefined) }).passed).toBe(false);
    const c = compileRule(ref, {});
    expect(c.diagnostics.map((d) => d.code)).toEqual(['rule-ref-unknown']);
  });

  // A set of rules passes if any passes; no rules at all passes.
  it('evaluates rule lists like pe_eval_rules', () => {
    const r1 = rule(`<rule id="a"><expression id="e1" attribute="a" operation="eq" value="2"/></rule>`);
    const r2 = rule(`<rule id="b"><expression id="e2" attribute="a" operation="eq" value="1"/></rule>`);
    expect(evaluateRules([r1, r2], { now: NOW, nodeAttrs: { a: '1' } }).passed).toBe(true);
    expect(evaluateRules([r1], { now: NOW, nodeAttrs: { a: '1' } }).passed).toBe(false);
    expect(evaluateRules([], { now: NOW }).passed).toBe(true);
  });
});

function dateRule(inner: string): string {
  return `<rule id="r">${inner}</rule>`;
}

function at(xml: string, now: CrmTime): { passed: boolean; next?: string } {
  const r = evaluateRule(rule(xml), { now });
  return r.nextChange ? { passed: r.passed, next: formatTime(r.nextChange) } : { passed: r.passed };
}

describe('date expressions', () => {
  const range = dateRule('<date_expression id="d" operation="in_range" start="2024-03-01" end="2024-03-31T23:59:59Z"/>');
  // in_range is inclusive at both ends; next change is the start, or one second after the end.
  it.each([
    [makeTime(2024, 2, 29, 23, 59, 59), false, '2024-03-01 00:00:00Z'],
    [makeTime(2024, 3, 1), true, '2024-04-01 00:00:00Z'],
    [makeTime(2024, 3, 31, 23, 59, 59), true, '2024-04-01 00:00:00Z'],
    [makeTime(2024, 4, 1), false, undefined],
  ])('in_range at %j', (now, passed, next) => {
    expect(at(range, now)).toEqual(next ? { passed, next } : { passed });
  });

  // Each date form works as a bound: week dates, ordinal dates, times with zones.
  it.each([
    ['2024-W10-2', true],
    ['2024-065', true],
    ['2024-065T12:00:01Z', false],
    ['2024-03-05T12:00:00Z', true],
    ['2024-03-05 13:00:00 +02:00', true],
    ['20240306', false],
  ])('gt/in_range start=%s', (start, passed) => {
    expect(at(dateRule(`<date_expression id="d" operation="in_range" start="${start}"/>`), NOW).passed).toBe(passed);
  });

  // A duration element gives the end of an in_range: months clamp like crm_time_add_months.
  it('adds a <duration> to the start', () => {
    const xml = dateRule('<date_expression id="d" operation="in_range" start="2024-01-31"><duration id="du" months="1"/></date_expression>');
    expect(at(xml, makeTime(2024, 2, 29))).toEqual({ passed: true, next: '2024-02-29 00:00:01Z' });
    expect(at(xml, makeTime(2024, 2, 29, 0, 0, 1)).passed).toBe(false);
    const weeks = dateRule('<date_expression id="d" start="2024-03-01"><duration id="du" weeks="1" hours="12"/></date_expression>');
    expect(at(weeks, makeTime(2024, 3, 8, 12)).passed).toBe(true);
    expect(at(weeks, makeTime(2024, 3, 8, 12, 0, 1)).passed).toBe(false);
  });

  // gt is strict (passes one second after start); lt is strict (fails at end).
  it('gt and lt', () => {
    const gt = dateRule('<date_expression id="d" operation="gt" start="2024-03-05T12:00:00Z"/>');
    expect(at(gt, NOW)).toEqual({ passed: false, next: '2024-03-05 12:00:01Z' });
    expect(at(gt, makeTime(2024, 3, 5, 12, 0, 1))).toEqual({ passed: true });
    const lt = dateRule('<date_expression id="d" operation="lt" end="2024-03-05T12:00:00Z"/>');
    expect(at(lt, makeTime(2024, 3, 5, 11, 59, 59))).toEqual({ passed: true, next: '2024-03-05 12:00:00Z' });
    expect(at(lt, NOW)).toEqual({ passed: false });
  });

  // date_spec: each field, ranges, open ranges; the finest field decides the next recheck.
  it.each([
    ['hours="9-16"', true],
    ['hours="13-16"', false],
    ['hours="12"', true],
    ['hours="-11"', false],
    ['hours="12-"', true],
    ['weekdays="1-5"', true],
    ['weekdays="6-7"', false],
    ['monthdays="5"', true],
    ['months="3"', true],
    ['months="4-12"', false],
    ['years="2024"', true],
    ['years="2025-"', false],
    ['yeardays="65"', true],
    ['weeks="10"', true],
    ['weekyears="2024"', true],
    ['minutes="0-4"', true],
    ['seconds="30-59"', false],
    ['moon="0-7"', true],
    ['hours="9-16" weekdays="6-7"', false],
    ['hours="nine"', true], // unparseable fields are ignored, as in Pacemaker
  ])('date_spec %s', (fields, passed) => {
    expect(at(dateRule(`<date_expression id="d" operation="date_spec"><date_spec id="s" ${fields}/></date_expression>`), NOW).passed).toBe(passed);
  });

  // The next recheck for a date_spec is never later than the real change.
  it('gives a safe next change for date_spec', () => {
    const hours = dateRule('<date_expression id="d" operation="date_spec"><date_spec id="s" hours="9-16"/></date_expression>');
    expect(at(hours, makeTime(2024, 3, 5, 16, 59, 30)).next).toBe('2024-03-05 17:00:00Z');
    const days = dateRule('<date_expression id="d" operation="date_spec"><date_spec id="s" weekdays="1-5"/></date_expression>');
    expect(at(days, makeTime(2024, 3, 8, 16, 59, 30)).next).toBe('2024-03-09 00:00:00Z');
  });

  // The rule's next change is the earliest among evaluated expressions.
  it('takes the earliest next change across expressions', () => {
    const xml = `<rule id="r" boolean-op="or">
      <date_expression id="a" operation="lt" end="2024-04-01"/>
      <date_expression id="b" operation="gt" start="2024-03-10"/></rule>`;
    expect(at(xml, NOW)).toEqual({ passed: true, next: '2024-04-01 00:00:00Z' });
  });

  // Unparseable dates are diagnostics, and the expression behaves as Pacemaker's (no bound -> fails).
  it.each([
    ['<date_expression id="d" operation="in_range" start="yesterday"/>', 'date-unparseable'],
    ['<date_expression id="d" operation="gt" end="2024-01-01"/>', 'date-missing-bound'],
    ['<date_expression id="d" operation="sometimes" start="2024-01-01"/>', 'date-bad-operation'],
    ['<date_expression id="d" operation="date_spec"><date_spec id="s" hours="9-x"/></date_expression>', 'date-spec-bad-range'],
    ['<date_expression id="d" operation="in_range" start="2024-02-30"/>', 'date-unparseable'],
    ['<date_expression id="d" operation="in_range" start="2024-01-01T00:00:00+01:00"/>', 'date-offset-ignored'],
  ])('%s -> %s', (inner, code) => {
    const c = compileRule(rule(dateRule(inner)));
    expect(c.diagnostics.map((d) => d.code)).toContain(code);
    expect(c.diagnostics.find((d) => d.code === code)?.element).toMatch(/date_expression|date_spec/);
  });
});

describe('rsc_expression and op_expression', () => {
  // rsc_defaults rules match the agent; provider must match exactly (absent = resource has none).
  it.each([
    ['class="ocf" provider="heartbeat" type="IPaddr2"', true],
    ['class="ocf" provider="heartbeat"', true],
    ['type="IPaddr2" provider="heartbeat"', true],
    ['class="ocf"', false],
    ['class="lsb" provider="heartbeat"', false],
    ['class="ocf" provider="pacemaker" type="IPaddr2"', false],
  ])('rsc_expression %s', (attrs, expected) => {
    const xml = `<rule id="r"><rsc_expression id="e" ${attrs}/></rule>`;
    expect(passes(xml, { rsc: { standard: 'ocf', provider: 'heartbeat', agent: 'IPaddr2' } })).toBe(expected);
    expect(passes(xml)).toBe(false);
  });

  // op_defaults rules match operation name and interval (any interval syntax).
  it.each([
    ['name="monitor"', true],
    ['name="monitor" interval="10s"', true],
    ['name="monitor" interval="10000ms"', true],
    ['name="monitor" interval="PT10S"', true],
    ['name="monitor" interval="20s"', false],
    ['name="start"', false],
    ['name="monitor" interval="often"', false],
  ])('op_expression %s', (attrs, expected) => {
    const xml = `<rule id="r"><op_expression id="e" ${attrs}/></rule>`;
    expect(passes(xml, { op: { name: 'monitor', intervalMs: 10_000 } })).toBe(expected);
  });
});

describe('diagnostics for bad rules', () => {
  // Bad input gives diagnostics naming the element, never an exception.
  it.each([
    [expr('attribute="a" operation="like" value="x"'), 'expression-bad-operation', 'expression'],
    [expr('operation="eq" value="x"'), 'expression-missing-attribute', 'expression'],
    [expr('attribute="a" value="x"'), 'expression-missing-operation', 'expression'],
    [expr('attribute="a" operation="eq" value="x" type="float"'), 'expression-bad-type', 'expression'],
    [expr('attribute="a" operation="eq" value="x" value-source="env"'), 'expression-bad-value-source', 'expression'],
    ['<rule id="r" boolean-op="xor"><expression id="e" attribute="a" operation="defined"/></rule>', 'rule-bad-boolean-op', 'rule'],
    ['<rule id="r"/>', 'rule-empty', 'rule'],
    ['<rule id="r"><frob id="f"/></rule>', 'rule-unknown-element', 'frob'],
    ['<rule id="r"><op_expression id="o" interval="5s"/></rule>', 'op-expression-missing-name', 'op_expression'],
  ])('%s', (xml, code, element) => {
    const c = compileRule(rule(xml));
    const d = c.diagnostics.find((x) => x.code === code);
    expect(d?.element).toBe(element);
    expect(() => evaluateRule(rule(xml), { now: NOW, nodeAttrs: {} })).not.toThrow();
  });
});

describe('ruleScore', () => {
  // Location rules score a node by `score` or by the node attribute named in score-attribute.
  it('reads score and score-attribute', () => {
    const c = (xml: string) => compileRule(rule(xml)).rule;
    expect(ruleScore(c('<rule id="r" score="INFINITY"/>'), {})).toBe(1_000_000);
    expect(ruleScore(c('<rule id="r" score="-50"/>'), {})).toBe(-50);
    expect(ruleScore(c('<rule id="r" score-attribute="pingd"/>'), { pingd: '300' })).toBe(300);
    expect(ruleScore(c('<rule id="r" score-attribute="pingd"/>'), {})).toBe(-1_000_000);
    expect(ruleScore(c('<rule id="r"/>'), {})).toBe(0);
  });
});

describe('helpers', () => {
  // date_spec ranges parse exactly like pcmk__parse_ll_range.
  it.each([
    ['5', { low: 5, high: 5 }],
    ['1-5', { low: 1, high: 5 }],
    ['-5', { low: undefined, high: 5 }],
    ['5-', { low: 5, high: undefined }],
    ['', undefined],
    ['-', undefined],
    ['a-b', undefined],
    ['1-5x', undefined],
    ['1x', undefined],
  ])('parseRange(%j)', (text, expected) => {
    expect(parseRange(text)).toEqual(expected);
  });

  // Version comparison pads missing components with zero.
  it('compares versions', () => {
    expect(compareVersions('2.1.5', '2.1.10')).toBe(-1);
    expect(compareVersions('3.0', '3')).toBe(0);
    expect(compareVersions('10', '9.9')).toBe(1);
    expect(compareVersions('1..2', '1.0.2')).toBe(0);
    // strtol stops at 'e', so "1e3.5" reads 1, 0, 0...: less than 1.5 (and it never terminates in Pacemaker against itself).
    expect(compareVersions('1e3.5', '1.5')).toBe(-1);
    expect(compareVersions('1e3', '1e3')).toBe(0);
  });
});

describe('model rules', () => {
  // The typed model's Rule evaluates the same as its XML, id-refs included.
  it('evaluates a model rule', () => {
    const doc = parseXml(`<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/>
      <resources><primitive id="p" class="ocf" provider="heartbeat" type="Dummy"/></resources>
      <constraints>
        <rsc_location id="l1" rsc="p"><rule id="shared" score="10"><expression id="e" attribute="#uname" operation="eq" value="n1"/></rule></rsc_location>
        <rsc_location id="l2" rsc="p"><rule id-ref="shared"/></rsc_location>
      </constraints></configuration><status/></cib>`);
    const cib = readCib(doc.root);
    const rules = (cib.configuration?.constraints?.constraints ?? []).flatMap((c) => ('rules' in c ? c.rules : []));
    expect(rules.length).toBe(2);
    for (const r of rules) {
      expect(evaluateRule(r, { now: NOW, nodeAttrs: { '#uname': 'n1' } }).passed).toBe(true);
      expect(evaluateRule(r, { now: NOW, nodeAttrs: { '#uname': 'n2' } }).passed).toBe(false);
    }
  });
});
