import { describe, expect, it } from 'vitest';
import type { CibadminRequest } from './cibadmin.js';
import { cibadmin, expandPlusPlus } from './cibadmin.js';
import type { CibErrorCode } from './errors.js';
import { diffCib } from './patch.js';
import type { XmlElement } from './xml.js';
import { parseXml, writeElement } from './xml.js';

const cib = parseXml(`<cib admin_epoch="0" epoch="5" num_updates="3" validate-with="pacemaker-3.9" crm_feature_set="3.16.1">
  <configuration>
    <crm_config><cluster_property_set id="opts"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
      <primitive id="b" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="b-mon" name="monitor" interval="10s"/></operations></primitive>
    </resources>
    <constraints><rsc_location id="l1" rsc="a" node="n1" score="100"/></constraints>
  </configuration>
  <status><node_state id="1" uname="n1"/></status>
</cib>`).root;

const x = (text: string): XmlElement => parseXml(text).root;

function text(el: XmlElement | undefined): string {
  return el ? writeElement(el, { indentSpaces: 0 }) : '';
}

function version(el: XmlElement): string {
  return `${el.attrs['admin_epoch']}.${el.attrs['epoch']}.${el.attrs['num_updates']}`;
}

describe('cibadmin', () => {
  // Each successful request: the version it leaves and a fragment the document must then contain (or lack).
  it.each<[string, CibadminRequest, string, string | undefined, string | undefined]>([
    ['create a primitive (-C -o resources)', { op: 'create', scope: 'resources', xml: x('<primitive id="c" class="ocf" provider="heartbeat" type="Dummy"/>') }, '0.6.0', '<primitive id="c" class="ocf" provider="heartbeat" type="Dummy"/></resources>', undefined],
    ['create in status bumps num_updates', { op: 'create', scope: 'status', xml: x('<node_state id="2" uname="n2"/>') }, '0.5.4', '<node_state id="2" uname="n2"/></status>', undefined],
    ['create several via the section wrapper', { op: 'create', scope: 'constraints', xml: x('<constraints><rsc_location id="l2" rsc="b" node="n2" score="1"/><rsc_order id="o" first="a" then="b"/></constraints>') }, '0.6.0', '<rsc_location id="l2" rsc="b" node="n2" score="1"/><rsc_order id="o" first="a" then="b"/></constraints>', undefined],
    ['modify merges attributes (-M)', { op: 'modify', xml: x('<primitive id="b" description="web"/>') }, '0.6.0', '<primitive id="b" class="ocf" provider="heartbeat" type="Dummy" description="web">', undefined],
    ['modify merges children by tag and id', { op: 'modify', xml: x('<primitive id="b"><operations><op id="b-mon" interval="20s"/><op id="b-start" name="start" interval="0"/></operations></primitive>') }, '0.6.0', '<operations><op id="b-mon" name="monitor" interval="20s"/><op id="b-start" name="start" interval="0"/></operations>', undefined],
    ['modify expands value++', { op: 'modify', xml: x('<nvpair id="o1" value="value++"/>') }, '0.6.0', '<nvpair id="o1" name="stonith-enabled" value="1"/>', undefined],
    ['modify --allow-create adds a missing object', { op: 'modify', scope: 'resources', allowCreate: true, xml: x('<primitive id="z" class="ocf" provider="heartbeat" type="Dummy"/>') }, '0.6.0', '<primitive id="z" class="ocf" provider="heartbeat" type="Dummy"/></resources>', undefined],
    ['modify creates a missing section', { op: 'modify', scope: 'rsc_defaults', xml: x('<rsc_defaults><meta_attributes id="rd"/></rsc_defaults>') }, '0.6.0', '</constraints><rsc_defaults><meta_attributes id="rd"/></rsc_defaults></configuration>', undefined],
    ['replace an object in place (-R)', { op: 'replace', scope: 'resources', xml: x('<primitive id="a" class="ocf" provider="pacemaker" type="Stateful"/>') }, '0.6.0', '<resources><primitive id="a" class="ocf" provider="pacemaker" type="Stateful"/><primitive id="b"', undefined],
    ['replace a section', { op: 'replace', scope: 'constraints', xml: x('<constraints/>') }, '0.6.0', '<constraints/>', 'rsc_location'],
    ['replace the whole CIB with a newer one', { op: 'replace', xml: x('<cib admin_epoch="0" epoch="9" num_updates="0"><configuration/><status/></cib>') }, '0.10.0', '<configuration/>', 'primitive'],
    ['delete by tag and id (-D)', { op: 'delete', xml: x('<rsc_location id="l1"/>') }, '0.6.0', '<constraints/>', undefined],
    ['delete matches attribute values ignoring case', { op: 'delete', xml: x('<primitive id="a" type="dummy"/>') }, '0.6.0', undefined, '<primitive id="a"'],
    ['delete by xpath', { op: 'delete', xpath: "//op[@id='b-mon']" }, '0.6.0', '<operations/>', undefined],
    ['delete many by xpath (--delete-all)', { op: 'delete', xpath: '//primitive', multiple: true }, '0.6.0', '<resources/>', undefined],
    ['modify by xpath', { op: 'modify', xpath: '//resources', xml: x('<primitive id="a" description="d"/>') }, '0.6.0', 'type="Dummy" description="d"/>', undefined],
    ['create by xpath appends to the match', { op: 'create', xpath: "//primitive[@id='b']/operations", xml: x('<op id="b-stop" name="stop" interval="0"/>') }, '0.6.0', '<op id="b-stop" name="stop" interval="0"/></operations>', undefined],
    ['replace by xpath puts the replacement last', { op: 'replace', xpath: "//primitive[@id='a']", xml: x('<primitive id="a2" class="ocf" provider="heartbeat" type="Dummy"/>') }, '0.6.0', '</primitive><primitive id="a2"', '<primitive id="a"'],
    ['bump (-B) raises epoch and num_updates', { op: 'bump' }, '0.6.4', undefined, undefined],
    ['erase (-E --force) empties the configuration', { op: 'erase', force: true }, '1.6.0', '<configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/>', 'primitive'],
  ])('%s', (_name, req, expectedVersion, contains, lacks) => {
    const r = cibadmin(cib, req);
    expect(r.ok, r.ok ? '' : r.error.detail).toBe(true);
    if (!r.ok) return;
    expect(version(r.value.cib)).toBe(expectedVersion);
    if (contains) expect(text(r.value.cib)).toContain(contains);
    if (lacks) expect(text(r.value.cib)).not.toContain(lacks);
  });

  // Queries return the section or the matches, and never change the document or its version.
  it.each<[string, CibadminRequest, string]>([
    ['query a scope', { op: 'query', scope: 'nodes' }, '<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>'],
    ['query one xpath match', { op: 'query', xpath: "//node[@uname='n2']" }, '<node id="2" uname="n2"/>'],
    ['query many xpath matches', { op: 'query', xpath: '//node' }, '<xpath-query><node id="1" uname="n1"/><node id="2" uname="n2"/></xpath-query>'],
    ['query without children', { op: 'query', scope: 'resources', noChildren: true }, '<resources/>'],
    ['query an unknown scope returns the whole CIB', { op: 'query', scope: 'no-such-scope' }, '<cib admin_epoch="0" epoch="5"'],
  ])('%s', (_name, req, expected) => {
    const r = cibadmin(cib, req);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(text(r.value.output)).toContain(expected);
    expect(r.value.cib).toBe(cib);
  });

  // Requests that change nothing succeed and leave the very same document, version included.
  it.each<[string, CibadminRequest]>([
    ['delete of a missing object', { op: 'delete', xml: x('<primitive id="nope"/>') }],
    ['delete with a mismatching attribute', { op: 'delete', xml: x('<primitive id="a" type="Other"/>') }],
    ['delete by an xpath that matches nothing', { op: 'delete', xpath: "//primitive[@id='nope']" }],
    ['modify to the same values', { op: 'modify', xml: x('<primitive id="a" type="Dummy"/>') }],
  ])('%s changes nothing', (_name, req) => {
    const r = cibadmin(cib, req);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.cib).toBe(cib);
  });

  const patch = diffCib(cib, x(writeElement(cib).replace('epoch="5" num_updates="3"', 'epoch="6" num_updates="0"').replace('value="false"', 'value="true"')));

  // Every refusal carries Pacemaker's code and exit status, and the document is exactly as before.
  it.each<[string, CibadminRequest, CibErrorCode, number]>([
    ['create with an existing id', { op: 'create', scope: 'resources', xml: x('<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>') }, 'already-exists', 108],
    ['create without a scope of a missing object', { op: 'create', xml: x('<primitive id="q"/>') }, 'no-such-object', 105],
    ['create into a missing section', { op: 'create', scope: 'tags', xml: x('<tag id="t"/>') }, 'invalid-argument', 70],
    ['modify of a missing object', { op: 'modify', xml: x('<primitive id="nope" description="x"/>') }, 'no-such-object', 105],
    ['replace of a missing object', { op: 'replace', scope: 'resources', xml: x('<primitive id="nope"/>') }, 'no-such-object', 105],
    ['replace with an older CIB', { op: 'replace', xml: x('<cib admin_epoch="0" epoch="4" num_updates="9"/>') }, 'old-data', 103],
    ['query of a missing section', { op: 'query', scope: 'rsc_defaults' }, 'no-such-object', 105],
    ['query by an xpath that matches nothing', { op: 'query', xpath: "//primitive[@id='nope']" }, 'no-such-object', 105],
    ['query by a malformed xpath', { op: 'query', xpath: "//primitive[@id='a'" }, 'no-such-object', 105],
    ['delete by a malformed xpath', { op: 'delete', xpath: '//primitive[' }, 'no-such-object', 105],
    ['delete of the whole CIB by xpath', { op: 'delete', xpath: '/cib' }, 'invalid-argument', 70],
    ['delete without an object', { op: 'delete' }, 'invalid-argument', 70],
    ['erase without force', { op: 'erase' }, 'unsafe', 107],
    ['patch applied twice (old base)', { op: 'patch', xml: diffCib(x(writeElement(cib).replace('epoch="5"', 'epoch="4"')), cib) }, 'old-data', 103],
    ['patch from a newer base', { op: 'patch', xml: x(writeElement(patch).replace('<source admin_epoch="0" epoch="5"', '<source admin_epoch="0" epoch="7"')) }, 'diff-resync', 1],
    ['malformed patch', { op: 'patch', xml: x('<diff format="2"><version><source admin_epoch="0" epoch="5" num_updates="3"/><target admin_epoch="0" epoch="6" num_updates="0"/></version><change operation="modify" path="/cib/nowhere"><change-result><x/></change-result></change></diff>') }, 'diff-failed', 1],
    ['replace that moves admin_epoch backwards by xpath', { op: 'replace', xpath: '/cib', xml: x('<cib admin_epoch="0" epoch="1"/>') }, 'old-data', 103],
  ])('refuses %s', (_name, req, code, exitCode) => {
    const snapshot = structuredClone(cib);
    const r = cibadmin(cib, req);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.exitCode).toBe(exitCode);
      expect(r.error.detail.length).toBeGreaterThan(0);
    }
    expect(cib).toEqual(snapshot);
  });

  // A patch the document accepts: applied, then versioned as the CIB manager does (config change: epoch + 1).
  it('applies a patch and bumps epoch after it', () => {
    const r = cibadmin(cib, { op: 'patch', xml: patch });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(version(r.value.cib)).toBe('0.7.0');
      expect(text(r.value.cib)).toContain('value="true"');
    }
  });

  // Pacemaker's `name++` / `name+=N` syntax, with INFINITY as the ceiling.
  it.each<[string, string, string | undefined, string]>([
    ['value', 'value++', '4', '5'],
    ['value', 'value+=10', '4', '14'],
    ['value', 'value++', undefined, '1'],
    ['value', 'value+=INFINITY', '7', '1000000'],
    ['value', 'other++', '4', 'other++'],
    ['value', 'value+', '4', 'value+'],
    ['score', 'score+=-3', '10', '7'],
  ])('expands %s=%s over %s to %s', (name, value, old, expected) => {
    expect(expandPlusPlus(name, value, old)).toBe(expected);
  });

  // The caller's validator stands in for Pacemaker's schema check: a refusal is exit 78 and no change.
  it('refuses a result the validator rejects, except for status requests', () => {
    const noConstraintPrimitives = (doc: XmlElement): string | undefined =>
      text(doc).includes('<primitive id="p"/></constraints>') ? 'primitive is not allowed in constraints' : undefined;
    const bad = cibadmin(cib, { op: 'create', scope: 'constraints', xml: x('<primitive id="p"/>') }, { validate: noConstraintPrimitives });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect([bad.error.code, bad.error.exitCode, bad.error.detail]).toEqual(['schema-validation', 78, 'primitive is not allowed in constraints']);
    const status = cibadmin(cib, { op: 'create', scope: 'status', xml: x('<node_state id="9"/>') }, { validate: () => 'always wrong' });
    expect(status.ok).toBe(true);
  });

  // A refused create answers with the object that failed and why, as cibadmin prints it.
  it('describes a refused create as <failed>', () => {
    const r = cibadmin(cib, { op: 'create', scope: 'resources', xml: x('<primitive id="a" class="ocf"/>') });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(text(r.error.output)).toBe(
        '<failed><failed_update id="a" object_type="primitive" operation="cib_create" reason="File exists"><primitive id="a" class="ocf"/></failed_update></failed>',
      );
    }
  });
});
