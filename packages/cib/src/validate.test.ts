import { describe, expect, it } from 'vitest';
import { validateCib, validateCibText, type Diagnostic } from './validate.js';
import { parseXml } from './xml.js';

function cib(opts: { options?: string; resources?: string; constraints?: string; extra?: string; status?: string; stonith?: string } = {}): string {
  return `<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration>
    <crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o-st" name="stonith-enabled" value="${opts.stonith ?? 'false'}"/>${opts.options ?? ''}</cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"><operations><op id="ip-mon" name="monitor" interval="10s"/></operations></primitive>${opts.resources ?? ''}</resources>
    <constraints>${opts.constraints ?? ''}</constraints>${opts.extra ?? ''}</configuration><status>${opts.status ?? ''}</status></cib>`;
}

function codes(diags: readonly Diagnostic[], severity?: 'error' | 'warning'): string[] {
  return diags.filter((d) => severity === undefined || d.severity === severity).map((d) => d.code);
}

describe('validateCib', () => {
  // A clean configuration gives no diagnostics at all: anything else would be noise users learn to ignore.
  it('accepts a clean CIB', () => {
    expect(validateCibText(cib())).toEqual([]);
  });

  // Each problem, in one table: the code, the severity Pacemaker gives it, and the element it names.
  it.each([
    ['duplicate id', cib({ resources: '<primitive id="ip-mon" class="ocf" provider="heartbeat" type="Dummy"/>' }), 'id-duplicate', 'error', 'primitive', 'ip-mon'],
    ['unknown resource', cib({ constraints: '<rsc_location id="l" rsc="ghost" node="n1" score="1"/>' }), 'ref-unknown-resource', 'error', 'rsc_location', 'l'],
    ['order first', cib({ constraints: '<rsc_order id="o" first="ghost" then="ip"/>' }), 'ref-unknown-resource', 'error', 'rsc_order', 'o'],
    ['ticket rsc', cib({ constraints: '<rsc_ticket id="t" ticket="T" rsc="ghost"/>' }), 'ref-unknown-resource', 'error', 'rsc_ticket', 't'],
    ['set member', cib({ constraints: '<rsc_colocation id="c" score="1"><resource_set id="s"><resource_ref id="ghost"/></resource_set></rsc_colocation>' }), 'ref-unknown-resource', 'error', 'resource_ref', 'ghost'],
    ['unknown node', cib({ constraints: '<rsc_location id="l" rsc="ip" node="n9" score="1"/>' }), 'ref-unknown-node', 'warning', 'rsc_location', 'l'],
    ['bad score', cib({ constraints: '<rsc_location id="l" rsc="ip" node="n1" score="high"/>' }), 'score-invalid', 'error', 'rsc_location', 'l'],
    ['bad rule score', cib({ constraints: '<rsc_location id="l" rsc="ip"><rule id="r" score="1.5"><expression id="e" attribute="a" operation="defined"/></rule></rsc_location>' }), 'score-invalid', 'error', 'rule', 'r'],
    ['bad role', cib({ constraints: '<rsc_colocation id="c" rsc="ip" with-rsc="ip" score="1" rsc-role="Boss"/>' }), 'value-invalid', 'error', 'rsc_colocation', 'c'],
    ['bad symmetrical', cib({ constraints: '<rsc_order id="o" first="ip" then="ip" symmetrical="sometimes"/>' }), 'value-invalid', 'error', 'rsc_order', 'o'],
    ['bad option value', cib({ options: '<nvpair id="o2" name="placement-strategy" value="random"/>' }), 'option-value-invalid', 'error', 'nvpair', 'o2'],
    ['unknown option', cib({ options: '<nvpair id="o2" name="default-resource-stickiness" value="1"/>' }), 'option-unknown', 'warning', 'nvpair', 'o2'],
    ['old option name', cib({ options: '<nvpair id="o2" name="crmd-transition-delay" value="0s"/>' }), 'option-deprecated-name', 'warning', 'nvpair', 'o2'],
    ['bad meta value', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="dm"><nvpair id="dm1" name="is-managed" value="perhaps"/></meta_attributes></primitive>' }), 'meta-value-invalid', 'warning', 'nvpair', 'dm1'],
    ['unparseable date', cib({ constraints: '<rsc_location id="l" rsc="ip"><rule id="r" score="1"><date_expression id="d" operation="lt" end="tomorrow"/></rule></rsc_location>' }), 'date-unparseable', 'error', 'date_expression', 'd'],
    ['bad expression op', cib({ constraints: '<rsc_location id="l" rsc="ip"><rule id="r" score="1"><expression id="e" attribute="a" operation="matches" value="x"/></rule></rsc_location>' }), 'expression-bad-operation', 'error', 'expression', 'e'],
    ['dangling id-ref', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><instance_attributes id-ref="nope"/></primitive>' }), 'ref-unknown-id', 'error', 'instance_attributes', undefined],
    ['id-ref of wrong kind', cib({ constraints: '<rsc_location id="l" rsc="ip"><rule id-ref="ip"/></rsc_location>' }), 'ref-wrong-kind', 'warning', 'rule', undefined],
    ['missing provider', cib({ resources: '<primitive id="d" class="ocf" type="Dummy"/>' }), 'attribute-missing', 'error', 'primitive', 'd'],
    ['location without target', cib({ constraints: '<rsc_location id="l" rsc="ip"/>' }), 'location-no-target', 'error', 'rsc_location', 'l'],
    ['bad rsc-pattern', cib({ constraints: '<rsc_location id="l" rsc-pattern="(ip" node="n1" score="1"/>' }), 'pattern-invalid', 'error', 'rsc_location', 'l'],
    ['duplicate op', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="m1" name="monitor" interval="60s"/><op id="m2" name="Monitor" interval="1min"/></operations></primitive>' }), 'op-duplicate', 'error', 'op', 'm2'],
    ['recurring stop', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="s" name="stop" interval="5s"/></operations></primitive>' }), 'op-cannot-recur', 'error', 'op', 's'],
    ['stop on-fail standby', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="s" name="stop" interval="0" on-fail="standby"/></operations></primitive>' }), 'op-on-fail-stop', 'error', 'op', 's'],
    ['demote on start', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="s" name="start" interval="0" on-fail="demote"/></operations></primitive>' }), 'op-on-fail-demote', 'error', 'op', 's'],
    ['fence without fencing', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="s" name="start" interval="0" on-fail="fence"/></operations></primitive>' }), 'op-on-fail-fence', 'warning', 'op', 's'],
    ['timeout as ISO', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="s" name="start" interval="0" timeout="PT30S"/></operations></primitive>' }), 'op-value-invalid', 'warning', 'op', 's'],
    ['promoted not promotable', cib({ resources: '<clone id="c"><meta_attributes id="cm"><nvpair id="cm1" name="target-role" value="Promoted"/></meta_attributes><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></clone>' }), 'target-role-not-promotable', 'error', 'nvpair', 'cm1'],
    ['no fencing device', cib({ stonith: 'true' }), 'fencing-no-device', 'error', 'resources', undefined],
    ['empty clone', cib({ resources: '<clone id="c"/>' }), 'clone-empty', 'error', 'clone', 'c'],
    ['colocated templates', cib({ resources: '<template id="t1" class="ocf" provider="heartbeat" type="Dummy"/><template id="t2" class="ocf" provider="heartbeat" type="Dummy"/>', constraints: '<rsc_colocation id="c" rsc="t1" with-rsc="t2" score="1"/>' }), 'colocation-two-sets', 'error', 'rsc_colocation', 'c'],
    ['clone child referenced', cib({ resources: '<clone id="c"><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></clone>', constraints: '<rsc_location id="l" rsc="d" node="n1" score="1"/>' }), 'ref-clone-child', 'warning', 'rsc_location', 'l'],
    ['fencing level device', cib({ extra: '<fencing-topology><fencing-level id="fl" index="1" target="n1" devices="nodev"/></fencing-topology>' }), 'ref-unknown-device', 'warning', 'fencing-level', 'fl'],
    ['fencing level with two kinds of target', cib({ extra: '<fencing-topology><fencing-level id="fl" index="1" target="n1" target-pattern="^n" devices="d"/></fencing-topology>' }), 'attribute-conflict', 'error', 'fencing-level', 'fl'],
    ['fencing level attribute without value', cib({ extra: '<fencing-topology><fencing-level id="fl" index="1" target-attribute="rack" devices="d"/></fencing-topology>' }), 'attribute-missing', 'error', 'fencing-level', 'fl'],
    ['fencing level devices with a space', cib({ extra: '<fencing-topology><fencing-level id="fl" index="1" target="n1" devices="d, e"/></fencing-topology>' }), 'value-invalid', 'error', 'fencing-level', 'fl'],
    ['fencing level bad pattern', cib({ extra: '<fencing-topology><fencing-level id="fl" index="1" target-pattern="([" devices="d"/></fencing-topology>' }), 'pattern-invalid', 'warning', 'fencing-level', 'fl'],
    ['tag reference', cib({ extra: '<tags><tag id="tg"><obj_ref id="ghost"/></tag></tags>' }), 'ref-unknown-id', 'warning', 'obj_ref', 'ghost'],
    ['tag reference, schema before pacemaker-3.3 (an IDREF there)', cib({ extra: '<tags><tag id="tg"><obj_ref id="ghost"/></tag></tags>' }).replace(/validate-with="[^"]*"/, 'validate-with="pacemaker-3.2"'), 'ref-unknown-id', 'error', 'obj_ref', 'ghost'],
  ] as const)('%s', (_what, xml, code, severity, element, id) => {
    const diags = validateCibText(xml);
    const hit = diags.find((d) => d.code === code);
    expect(hit, JSON.stringify(diags)).toMatchObject({ severity, element });
    if (id !== undefined) expect(hit?.id).toBe(id);
  });

  // Things Pacemaker accepts must not be errors: promotable clones, have-watchdog, #default, templates, tags.
  it.each([
    ['promoted in a promotable clone', cib({ resources: '<clone id="c"><meta_attributes id="cm"><nvpair id="cm0" name="promotable" value="true"/><nvpair id="cm1" name="target-role" value="Promoted"/></meta_attributes><primitive id="d" class="ocf" provider="heartbeat" type="Stateful"/></clone>' })],
    ['legacy master', cib({ resources: '<master id="m"><meta_attributes id="mm"><nvpair id="mm1" name="target-role" value="Master"/></meta_attributes><primitive id="d" class="ocf" provider="heartbeat" type="Stateful"/></master>' })],
    ['watchdog fencing', cib({ stonith: 'true', options: '<nvpair id="w" name="have-watchdog" value="true"/>' })],
    ['#default value', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="dm"><nvpair id="dm1" name="target-role" value="#default"/></meta_attributes></primitive>' })],
    ['constraint on a tag', cib({ extra: '<tags><tag id="tg"><obj_ref id="ip"/></tag></tags>', constraints: '<rsc_location id="l" rsc="tg" node="n1" score="1"/>' })],
    ['rsc-pattern location', cib({ constraints: '<rsc_location id="l" rsc-pattern="^ip" node="n1" score="1"/>' })],
    ['fencing levels by name, pattern and attribute', cib({ resources: '<primitive id="f1" class="stonith" type="fence_ipmilan"/><primitive id="f2" class="stonith" type="fence_apc"/>', extra: '<fencing-topology><fencing-level id="l1" index="1" target="n1" devices="f1"/><fencing-level id="l2" index="2" target="n1" devices="f1,f2"/><fencing-level id="l3" index="1" target-pattern="^n[0-9]+$" devices="f2"/><fencing-level id="l4" index="1" target-attribute="rack" target-value="r1" devices="f2"/></fencing-topology>' })],
    ['same op name, different interval', cib({ resources: '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="m1" name="monitor" interval="10s" role="Promoted"/><op id="m2" name="monitor" interval="11s" role="Unpromoted"/></operations></primitive>' })],
    ['status ids repeat', cib({ status: '<node_state id="1"><lrm id="1"><lrm_resources><lrm_resource id="ip"><lrm_rsc_op id="ip_last_0"/></lrm_resource></lrm_resources></lrm></node_state><node_state id="2"><lrm id="2"><lrm_resources><lrm_resource id="ip"><lrm_rsc_op id="ip_last_0"/></lrm_resource></lrm_resources></lrm></node_state>' })],
  ])('no error for %s', (_what, xml) => {
    expect(codes(validateCibText(xml), 'error')).toEqual([]);
  });

  // Malformed XML is reported with its position rather than thrown.
  it('reports malformed XML with line and column', () => {
    const diags = validateCibText('<cib>\n  <configuration>\n</cib>');
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatchObject({ code: 'xml-syntax', severity: 'error' });
    expect(diags[0]?.line).toBeGreaterThan(0);
  });

  // A document that is not a CIB at all is one error, not a crash.
  it('rejects a non-CIB document', () => {
    expect(codes(validateCib(parseXml('<html/>').root))).toEqual(['cib-root', 'cib-no-configuration']);
  });
});
