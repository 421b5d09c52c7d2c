import { describe, expect, it } from 'vitest';
import type { Bundle, Clone, ColocationConstraint, Group, LocationConstraint, Master, OrderConstraint, Primitive, TicketConstraint } from './model.js';
import { allResources, effectiveNvPair, effectiveNvSet, effectiveRule, parseCib, primitiveAgent, readCib, resourceChildren } from './read.js';
import { parseXml, writeXml, XmlSyntaxError } from './xml.js';

function cib(configuration: string, status = '<status/>', attrs = 'epoch="3" num_updates="7" admin_epoch="1"'): string {
  return `<cib ${attrs} validate-with="pacemaker-3.7"><configuration>${configuration}</configuration>${status}</cib>`;
}

const basics = cib(
  `<crm_config>
     <cluster_property_set id="opts" score="10"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set>
     <cluster_property_set id="opts2"><rule id="opts2-r" boolean-op="and"><expression id="e0" attribute="#uname" operation="eq" value="n1"/></rule><nvpair id="o2" name="no-quorum-policy" value="ignore"/></cluster_property_set>
   </crm_config>
   <nodes>
     <node id="1" uname="n1" type="member" my-extra="x">
       <instance_attributes id="n1-ia"><nvpair id="n1-ia-a" name="site" value="a"/></instance_attributes>
       <utilization id="n1-u"><nvpair id="n1-u-cpu" name="cpu" value="4"/></utilization>
       <x-vendor id="v"/>
     </node>
     <node id="2" uname="n2"/>
   </nodes>
   <resources/><constraints/>
   <x-future-section id="f"/>`,
  '<status/>',
  'epoch="3" num_updates="7" admin_epoch="1" have-quorum="1" dc-uuid="2" execution-date="1600000000" no-quorum-panic="false"',
);

describe('readCib: document, crm_config, nodes', () => {
  // The scheduler reads versions, quorum and the time of a saved input from the cib element.
  it('reads cib attributes as written', () => {
    const m = parseCib(basics);
    expect(m.cib).toMatchObject({ adminEpoch: '1', epoch: '3', numUpdates: '7', validateWith: 'pacemaker-3.7', haveQuorum: '1', dcUuid: '2', executionDate: '1600000000', noQuorumPanic: 'false' });
    expect(m.cib.crmFeatureSet).toBeUndefined();
    expect(m.xml.name).toBe('cib');
  });

  // Cluster options come from several scored, rule-guarded sets.
  it('reads cluster property sets with scores, rules and nvpairs', () => {
    const sets = parseCib(basics).configuration!.crmConfig!.propertySets;
    expect(sets.map((s) => [s.kind, s.id, s.score])).toEqual([
      ['cluster_property_set', 'opts', '10'],
      ['cluster_property_set', 'opts2', undefined],
    ]);
    expect(sets[0]!.nvpairs.map((p) => [p.id, p.name, p.value])).toEqual([['o1', 'stonith-enabled', 'false']]);
    const rule = sets[1]!.rules[0]!;
    expect(rule).toMatchObject({ kind: 'rule', id: 'opts2-r', booleanOp: 'and' });
    expect(rule.expressions[0]).toMatchObject({ kind: 'expression', attribute: '#uname', operation: 'eq', value: 'n1' });
  });

  // Node attributes and utilization feed rules and placement; vendor extensions must survive.
  it('reads nodes with attributes, utilization and unknown children', () => {
    const nodes = parseCib(basics).configuration!.nodes;
    expect(nodes.map((n) => [n.id, n.uname, n.type])).toEqual([
      ['1', 'n1', 'member'],
      ['2', 'n2', undefined],
    ]);
    expect(nodes[0]!.instanceAttributes[0]!.nvpairs[0]).toMatchObject({ name: 'site', value: 'a' });
    expect(nodes[0]!.utilization[0]).toMatchObject({ kind: 'utilization', id: 'n1-u' });
    expect(nodes[0]!.attrs['my-extra']).toBe('x');
    expect(nodes[0]!.unknown.map((u) => u.name)).toEqual(['x-vendor']);
  });

  // Sections paceline does not know yet are listed, and written back unchanged.
  it('lists unknown configuration sections and keeps them in the tree', () => {
    const doc = parseXml(basics);
    const m = readCib(doc);
    expect(m.configuration!.unknown.map((u) => u.name)).toEqual(['x-future-section']);
    expect(writeXml(doc)).toContain('<x-future-section id="f"/>');
  });

  // Malformed XML is an error with a location, never a half-read model.
  it('rejects malformed XML with line and column', () => {
    expect(() => parseCib('<cib>\n<configuration>\n</cib>')).toThrow(XmlSyntaxError);
    try {
      parseCib('<cib>\n  <configuration>\n</cib>');
    } catch (e) {
      expect((e as XmlSyntaxError).line).toBeGreaterThanOrEqual(2);
      expect((e as XmlSyntaxError).column).toBeGreaterThan(0);
    }
  });
});

const resourcesXml = cib(`
  <resources>
    <template id="tpl" class="ocf" provider="heartbeat" type="IPaddr2">
      <operations><op id="tpl-mon" name="monitor" interval="20s"/></operations>
    </template>
    <primitive id="ip" template="tpl">
      <instance_attributes id="ip-ia"><nvpair id="ip-ia-ip" name="ip" value="10.0.0.1"/></instance_attributes>
    </primitive>
    <primitive id="db" class="ocf" provider="heartbeat" type="mysql" description="the db">
      <meta_attributes id="db-meta"><nvpair id="db-meta-tr" name="target-role" value="Started"/></meta_attributes>
      <utilization id="db-u"><nvpair id="db-u-mem" name="memory" value="1024"/></utilization>
      <operations id="db-ops">
        <op id="db-start" name="start" interval="0" timeout="60s" on-fail="restart" record-pending="true"/>
        <op id="db-mon" name="monitor" interval="10s" timeout="30s" role="Promoted" enabled="false" start-delay="5s" interval-origin="02:00">
          <instance_attributes id="db-mon-ia"><nvpair id="db-mon-depth" name="OCF_CHECK_LEVEL" value="10"/></instance_attributes>
          <meta_attributes id="db-mon-meta"><nvpair id="db-mon-meta-x" name="x" value="y"/></meta_attributes>
        </op>
      </operations>
    </primitive>
    <primitive id="db2" class="ocf" provider="heartbeat" type="mysql">
      <operations id-ref="db-ops"/>
    </primitive>
    <group id="g">
      <meta_attributes id-ref="db-meta"/>
      <primitive id="g1" class="ocf" provider="pacemaker" type="Dummy"/>
      <primitive id="g2" class="lsb" type="cron"/>
    </group>
    <clone id="c"><meta_attributes id="c-meta"><nvpair id="c-p" name="promotable" value="true"/></meta_attributes>
      <group id="cg"><primitive id="cg1" class="ocf" provider="pacemaker" type="Stateful"/></group>
    </clone>
    <master id="ms"><primitive id="ms1" class="ocf" provider="pacemaker" type="Stateful"/></master>
    <bundle id="b">
      <docker image="img:1" replicas="3" replicas-per-host="1" masters="1" network="bridge" run-command="/init" options="--x"/>
      <network ip-range-start="10.1.0.1" control-port="3121" host-interface="eth0" host-netmask="24" add-host="true">
        <port-mapping id="b-pm" port="80" internal-port="8080"/>
        <port-mapping id="b-pr" range="9000-9010"/>
      </network>
      <storage>
        <storage-mapping id="b-s1" source-dir="/etc/x" target-dir="/etc/x" options="ro"/>
        <storage-mapping id="b-s2" source-dir-root="/var/log/c" target-dir="/var/log"/>
      </storage>
      <primitive id="bp" class="ocf" provider="heartbeat" type="apache"/>
    </bundle>
    <bundle id="b2"><podman image="img:2"/></bundle>
    <x-unknown-resource id="u"/>
  </resources>`);

describe('readCib: resources', () => {
  // Every resource variant is read into the discriminated union, templates apart.
  it('reads each resource kind in document order', () => {
    const res = parseCib(resourcesXml).configuration!.resources!;
    expect(res.resources.map((r) => [r.kind, r.id])).toEqual([
      ['primitive', 'ip'],
      ['primitive', 'db'],
      ['primitive', 'db2'],
      ['group', 'g'],
      ['clone', 'c'],
      ['master', 'ms'],
      ['bundle', 'b'],
      ['bundle', 'b2'],
    ]);
    expect(res.templates.map((t) => t.id)).toEqual(['tpl']);
    expect(res.unknown.map((u) => u.name)).toEqual(['x-unknown-resource']);
  });

  // A primitive that names a template gets its agent (and the template's ops) from it.
  it('resolves templates', () => {
    const m = parseCib(resourcesXml);
    const ip = m.configuration!.resources!.resources[0] as Primitive;
    expect(ip.template).toBe('tpl');
    expect(ip.class).toBeUndefined();
    expect(ip.templateRef).toBe(m.configuration!.resources!.templates[0]);
    expect(primitiveAgent(ip)).toEqual({ class: 'ocf', provider: 'heartbeat', type: 'IPaddr2' });
    expect(ip.templateRef!.ops.map((o) => o.id)).toEqual(['tpl-mon']);
    expect(ip.instanceAttributes[0]!.nvpairs[0]!.value).toBe('10.0.0.1');
  });

  // Like Pacemaker, a template name resolves to the first template with that id (not an error).
  it('takes the first of two templates with the same id', () => {
    const m = parseCib(
      cib(`<resources>
        <template id="t" class="ocf" provider="heartbeat" type="first"/>
        <template id="t" class="ocf" provider="heartbeat" type="second"/>
        <primitive id="p" template="t"/>
        <primitive id="q" template="missing"/>
      </resources>`),
    );
    const [p, q] = m.configuration!.resources!.resources as Primitive[];
    expect(primitiveAgent(p!).type).toBe('first');
    expect(q!.templateRef).toBeUndefined();
    expect(primitiveAgent(q!)).toEqual({ class: undefined, provider: undefined, type: undefined });
  });

  // Operation attributes decide recurring monitors, failure handling and check depth.
  it('reads operations with their attributes, instance attributes and meta', () => {
    const db = parseCib(resourcesXml).configuration!.resources!.resources[1] as Primitive;
    expect(db).toMatchObject({ kind: 'primitive', class: 'ocf', provider: 'heartbeat', type: 'mysql', description: 'the db' });
    expect(db.meta[0]!.nvpairs[0]).toMatchObject({ name: 'target-role', value: 'Started' });
    expect(db.utilization[0]!.nvpairs[0]).toMatchObject({ name: 'memory', value: '1024' });
    expect(db.operations!.id).toBe('db-ops');
    const [start, mon] = db.ops;
    expect(start).toMatchObject({ id: 'db-start', name: 'start', interval: '0', timeout: '60s', onFail: 'restart', recordPending: 'true' });
    expect(mon).toMatchObject({ name: 'monitor', interval: '10s', role: 'Promoted', enabled: 'false', startDelay: '5s', intervalOrigin: '02:00' });
    expect(mon!.instanceAttributes[0]!.nvpairs[0]).toMatchObject({ name: 'OCF_CHECK_LEVEL', value: '10' });
    expect(mon!.meta[0]!.nvpairs[0]).toMatchObject({ name: 'x', value: 'y' });
  });

  // An operations block may be an id-ref to another primitive's block: both are kept.
  it('resolves an operations id-ref', () => {
    const res = parseCib(resourcesXml).configuration!.resources!.resources;
    const db2 = res[2] as Primitive;
    expect(db2.operations!.idRef).toBe('db-ops');
    expect(db2.operations!.ops).toEqual([]);
    expect(db2.operations!.ref!.id).toBe('db-ops');
    expect(db2.ops.map((o) => o.id)).toEqual(['db-start', 'db-mon']);
  });

  // Groups, clones and bundles nest resources; the generic walkers see all of them.
  it('reads groups, clones, legacy masters and nested children', () => {
    const m = parseCib(resourcesXml);
    const res = m.configuration!.resources!.resources;
    const g = res[3] as Group;
    expect(g.children.map((c) => c.id)).toEqual(['g1', 'g2']);
    expect(g.meta[0]!.idRef).toBe('db-meta');
    expect(effectiveNvSet(g.meta[0]!).nvpairs[0]!.name).toBe('target-role');
    const c = res[4] as Clone;
    expect(c.child?.kind).toBe('group');
    expect(c.meta[0]!.nvpairs[0]).toMatchObject({ name: 'promotable', value: 'true' });
    expect((res[5] as Master).child?.id).toBe('ms1');
    expect(resourceChildren(c).map((r) => r.id)).toEqual(['cg']);
    expect(allResources(m).map((r) => r.id)).toEqual(['ip', 'db', 'db2', 'g', 'g1', 'g2', 'c', 'cg', 'cg1', 'ms', 'ms1', 'b', 'bp', 'b2']);
  });

  // Bundles: container options, networking, storage and the inner primitive.
  it('reads bundles', () => {
    const res = parseCib(resourcesXml).configuration!.resources!.resources;
    const b = res[6] as Bundle;
    expect(b.container).toMatchObject({ kind: 'docker', image: 'img:1', replicas: '3', replicasPerHost: '1', promotedMax: '1', network: 'bridge', runCommand: '/init', options: '--x' });
    expect(b.network).toMatchObject({ ipRangeStart: '10.1.0.1', controlPort: '3121', hostInterface: 'eth0', hostNetmask: '24', addHost: 'true' });
    expect(b.network!.portMappings.map((p) => [p.id, p.port, p.internalPort, p.range])).toEqual([
      ['b-pm', '80', '8080', undefined],
      ['b-pr', undefined, undefined, '9000-9010'],
    ]);
    expect(b.storage.map((s) => [s.id, s.sourceDir, s.sourceDirRoot, s.targetDir, s.options])).toEqual([
      ['b-s1', '/etc/x', undefined, '/etc/x', 'ro'],
      ['b-s2', undefined, '/var/log/c', '/var/log', undefined],
    ]);
    expect(b.primitive?.id).toBe('bp');
    const b2 = res[7] as Bundle;
    expect(b2.container?.kind).toBe('podman');
    expect(b2.primitive).toBeUndefined();
    expect(b2.network).toBeUndefined();
  });
});

const constraintsXml = cib(`
  <resources/>
  <constraints>
    <rsc_location id="l1" rsc="db" node="n1" score="INFINITY" role="Promoted" resource-discovery="exclusive"/>
    <rsc_location id="l2" rsc-pattern="^web" score="-INFINITY" node="n2"/>
    <rsc_location id="l3" rsc="db">
      <rule id="l3-r" score="100" boolean-op="or" role="Started">
        <expression id="l3-e1" attribute="site" operation="eq" value="a" type="string" value-source="param"/>
        <date_expression id="l3-d1" operation="in_range" start="2024-01-01"><duration id="l3-du" months="1" weeks="2"/></date_expression>
        <date_expression id="l3-d2" operation="date_spec"><date_spec id="l3-ds" hours="9-16" weekdays="1-5"/></date_expression>
        <rule id="l3-nested" boolean-op="and"><expression id="l3-e2" attribute="x" operation="defined"/></rule>
      </rule>
      <rule id-ref="l3-nested"/>
    </rsc_location>
    <rsc_location id="l4" score="50" node="n1">
      <resource_set id="l4-s" role="Started"><resource_ref id="a"/><resource_ref id="b"/></resource_set>
    </rsc_location>
    <rsc_location id="l5" rsc="db" score-attribute="ignored"><rule id="l5-r" score-attribute="pingd"><expression id="l5-e" attribute="pingd" operation="gt" value="0" type="integer"/></rule></rsc_location>
    <rsc_colocation id="c1" rsc="web" with-rsc="db" score="INFINITY" rsc-role="Started" with-rsc-role="Promoted" node-attribute="site" influence="false"/>
    <rsc_colocation id="c2" score="-1000">
      <resource_set id="c2-s1" sequential="false"><resource_ref id="a"/></resource_set>
      <resource_set id-ref="l4-s"/>
    </rsc_colocation>
    <rsc_order id="o1" first="db" then="web" first-action="promote" then-action="start" kind="Optional" symmetrical="false" score="0"/>
    <rsc_order id="o2" kind="Serialize">
      <resource_set id="o2-s1" sequential="false" require-all="false" ordering="listed" action="start" role="Started"><resource_ref id="a"/></resource_set>
      <resource_set id="o2-s2"><resource_ref id="b"/><resource_ref id="c"/></resource_set>
    </rsc_order>
    <rsc_ticket id="t1" ticket="T" rsc="db" rsc-role="Promoted" loss-policy="demote"/>
    <rsc_ticket id="t2" ticket="T2" loss-policy="stop"><resource_set id="t2-s"><resource_ref id="a"/></resource_set></rsc_ticket>
    <x-new-constraint id="n"/>
  </constraints>`);

describe('readCib: constraints', () => {
  // Location constraints: node + score, patterns, roles, discovery, sets.
  it('reads simple location constraints', () => {
    const cons = parseCib(constraintsXml).configuration!.constraints!;
    expect(cons.constraints.map((c) => [c.kind, c.id])).toEqual([
      ['rsc_location', 'l1'],
      ['rsc_location', 'l2'],
      ['rsc_location', 'l3'],
      ['rsc_location', 'l4'],
      ['rsc_location', 'l5'],
      ['rsc_colocation', 'c1'],
      ['rsc_colocation', 'c2'],
      ['rsc_order', 'o1'],
      ['rsc_order', 'o2'],
      ['rsc_ticket', 't1'],
      ['rsc_ticket', 't2'],
    ]);
    expect(cons.unknown.map((u) => u.name)).toEqual(['x-new-constraint']);
    const [l1, l2, , l4] = cons.constraints as LocationConstraint[];
    expect(l1).toMatchObject({ rsc: 'db', node: 'n1', score: 'INFINITY', role: 'Promoted', resourceDiscovery: 'exclusive', rules: [], sets: [] });
    expect(l2).toMatchObject({ rsc: undefined, rscPattern: '^web', score: '-INFINITY' });
    expect(l4!.sets[0]!.resources.map((r) => r.id)).toEqual(['a', 'b']);
    expect(l4!.sets[0]!.role).toBe('Started');
  });

  // Rules stay structured (not evaluated): expressions, date expressions, nested rules, id-refs.
  it('reads location rules with every kind of condition', () => {
    const l3 = parseCib(constraintsXml).configuration!.constraints!.constraints[2] as LocationConstraint;
    const [rule, ref] = l3.rules;
    expect(rule).toMatchObject({ id: 'l3-r', score: '100', booleanOp: 'or', role: 'Started' });
    const [e1, d1, d2, nested] = rule!.expressions;
    expect(e1).toMatchObject({ kind: 'expression', attribute: 'site', operation: 'eq', value: 'a', type: 'string', valueSource: 'param' });
    expect(d1).toMatchObject({ kind: 'date_expression', operation: 'in_range', start: '2024-01-01', end: undefined });
    expect(d1!.kind === 'date_expression' && d1!.duration?.fields).toEqual({ months: '1', weeks: '2' });
    expect(d2!.kind === 'date_expression' && d2!.dateSpec?.fields).toEqual({ hours: '9-16', weekdays: '1-5' });
    expect(nested).toMatchObject({ kind: 'rule', id: 'l3-nested', booleanOp: 'and' });
    expect(ref).toMatchObject({ idRef: 'l3-nested', expressions: [] });
    expect(effectiveRule(ref!).id).toBe('l3-nested');
    expect(effectiveRule(ref!).expressions[0]).toMatchObject({ attribute: 'x', operation: 'defined' });
    const l5 = parseCib(constraintsXml).configuration!.constraints!.constraints[4] as LocationConstraint;
    expect(l5.rules[0]!.scoreAttribute).toBe('pingd');
  });

  // Colocations with roles, node-attribute and sets (one an id-ref to another constraint's set).
  it('reads colocations', () => {
    const cons = parseCib(constraintsXml).configuration!.constraints!.constraints;
    expect(cons[5] as ColocationConstraint).toMatchObject({ rsc: 'web', withRsc: 'db', score: 'INFINITY', rscRole: 'Started', withRscRole: 'Promoted', nodeAttribute: 'site', influence: 'false' });
    const c2 = cons[6] as ColocationConstraint;
    expect(c2.sets.map((s) => [s.id, s.idRef, s.sequential])).toEqual([
      ['c2-s1', undefined, 'false'],
      [undefined, 'l4-s', undefined],
    ]);
    expect(c2.sets[1]!.ref!.resources.map((r) => r.id)).toEqual(['a', 'b']);
  });

  // Orders: actions, kinds, symmetry and sets with their own ordering options.
  it('reads orders and tickets', () => {
    const cons = parseCib(constraintsXml).configuration!.constraints!.constraints;
    expect(cons[7] as OrderConstraint).toMatchObject({ first: 'db', then: 'web', firstAction: 'promote', thenAction: 'start', orderKind: 'Optional', symmetrical: 'false', score: '0' });
    const o2 = cons[8] as OrderConstraint;
    expect(o2.orderKind).toBe('Serialize');
    expect(o2.sets[0]).toMatchObject({ sequential: 'false', requireAll: 'false', ordering: 'listed', action: 'start', role: 'Started' });
    expect(o2.sets[1]!.resources.map((r) => r.id)).toEqual(['b', 'c']);
    expect(cons[9] as TicketConstraint).toMatchObject({ ticket: 'T', rsc: 'db', rscRole: 'Promoted', lossPolicy: 'demote' });
    expect((cons[10] as TicketConstraint).sets[0]!.resources[0]!.id).toBe('a');
  });
});

describe('readCib: id-refs', () => {
  // Pacemaker resolves an id-ref only to a unique element of the same name; keep both sides.
  it('resolves nvset and nvpair id-refs, and leaves ambiguous or missing ones unresolved', () => {
    const m = parseCib(
      cib(`<resources>
        <primitive id="a" class="ocf" provider="pacemaker" type="Dummy">
          <instance_attributes id="shared"><nvpair id="p1" name="n" value="v"/></instance_attributes>
        </primitive>
        <primitive id="b" class="ocf" provider="pacemaker" type="Dummy">
          <instance_attributes id-ref="shared"/>
          <meta_attributes id="b-m"><nvpair id-ref="p1"/><nvpair id="b-m-x" id-ref="nope"/></meta_attributes>
          <utilization id-ref="dup"/>
        </primitive>
        <primitive id="c" class="ocf" provider="pacemaker" type="Dummy">
          <utilization id="dup"/>
        </primitive>
        <primitive id="d" class="ocf" provider="pacemaker" type="Dummy">
          <utilization id="dup"/>
          <meta_attributes id-ref="shared"/>
        </primitive>
      </resources>`),
    );
    const [, b, , d] = m.configuration!.resources!.resources as Primitive[];
    expect(b!.instanceAttributes[0]!.ref?.id).toBe('shared');
    expect(effectiveNvSet(b!.instanceAttributes[0]!).nvpairs[0]!.value).toBe('v');
    expect(effectiveNvPair(b!.meta[0]!.nvpairs[0]!)).toEqual({ name: 'n', value: 'v' });
    expect(b!.meta[0]!.nvpairs[1]!.ref).toBeUndefined();
    expect(b!.utilization[0]!.ref).toBeUndefined(); // two <utilization id="dup">
    expect(d!.meta[0]!.ref).toBeUndefined(); // the id names an instance_attributes, not a meta_attributes
  });
});

describe('readCib: defaults, fencing, tags, alerts, acls', () => {
  // The remaining configuration sections, each with its Pacemaker attributes.
  it('reads the other configuration sections', () => {
    const m = parseCib(
      cib(`<resources/><constraints/>
        <rsc_defaults><meta_attributes id="rd"><rule id="rd-r"><rsc_expression id="rd-e" class="ocf" provider="heartbeat" type="IPaddr2"/></rule><nvpair id="rd-s" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>
        <op_defaults><meta_attributes id="od"><rule id="od-r"><op_expression id="od-e" name="monitor" interval="10s"/></rule><nvpair id="od-t" name="timeout" value="30s"/></meta_attributes></op_defaults>
        <fencing-topology>
          <fencing-level id="f1" index="1" target="n1" devices="ipmi1,ipmi2"/>
          <fencing-level id="f2" index="2" target-pattern="^n" devices="pdu"/>
          <fencing-level id="f3" index="1" target-attribute="rack" target-value="r1" devices="pdu2"/>
        </fencing-topology>
        <tags><tag id="web-tag"><obj_ref id="ip"/><obj_ref id="httpd"/></tag></tags>
        <alerts><alert id="al" path="/usr/bin/alert.sh" description="d">
          <select><select_nodes/></select>
          <meta_attributes id="al-m"><nvpair id="al-m-t" name="timeout" value="10s"/></meta_attributes>
          <recipient id="al-r" value="/var/log/a.log"><instance_attributes id="al-r-i"/></recipient>
        </alert></alerts>
        <acls><acl_target id="alice"><role id="r1"/></acl_target><acl_role id="r1"><acl_permission id="p" kind="read" xpath="/cib"/></acl_role></acls>`),
    );
    const conf = m.configuration!;
    const rd = conf.rscDefaults!.meta[0]!;
    expect(rd.rules[0]!.expressions[0]).toMatchObject({ kind: 'rsc_expression', class: 'ocf', provider: 'heartbeat', type: 'IPaddr2' });
    expect(conf.opDefaults!.meta[0]!.rules[0]!.expressions[0]).toMatchObject({ kind: 'op_expression', name: 'monitor', interval: '10s' });
    expect(conf.fencingTopology!.levels.map((l) => [l.id, l.index, l.target, l.targetPattern, l.targetAttribute, l.targetValue, l.deviceIds])).toEqual([
      ['f1', '1', 'n1', undefined, undefined, undefined, ['ipmi1', 'ipmi2']],
      ['f2', '2', undefined, '^n', undefined, undefined, ['pdu']],
      ['f3', '1', undefined, undefined, 'rack', 'r1', ['pdu2']],
    ]);
    expect(conf.tags).toMatchObject([{ id: 'web-tag', refs: ['ip', 'httpd'] }]);
    const al = conf.alerts[0]!;
    expect(al).toMatchObject({ id: 'al', path: '/usr/bin/alert.sh', description: 'd' });
    expect(al.select?.name).toBe('select');
    expect(al.meta[0]!.nvpairs[0]!.value).toBe('10s');
    expect(al.recipients[0]).toMatchObject({ id: 'al-r', value: '/var/log/a.log' });
    expect(al.recipients[0]!.instanceAttributes[0]!.id).toBe('al-r-i');
    expect(conf.acls!.entries.map((e) => [e.kind, e.id])).toEqual([
      ['acl_target', 'alice'],
      ['acl_role', 'r1'],
    ]);
  });
});

const statusXml = cib(
  '<resources/><constraints/>',
  `<status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" crm-debug-origin="do_update_resource" join="member" expected="member" shutdown="0" x-new="1">
      <transient_attributes id="1"><instance_attributes id="status-1"><nvpair id="status-1-fail-count-db#monitor_10000" name="fail-count-db#monitor_10000" value="1"/></instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources>
        <lrm_resource id="db" class="ocf" provider="heartbeat" type="mysql" container="b">
          <lrm_rsc_op id="db_last_0" operation_key="db_start_0" operation="start" crm-debug-origin="do_update_resource" crm_feature_set="3.16.2" transition-key="3:1:0:abc" transition-magic="0:0;3:1:0:abc" exit-reason="" on_node="n1" call-id="6" rc-code="0" op-status="0" interval="0" last-rc-change="1600000000" last-run="1600000000" exec-time="25" queue-time="1" op-digest="d1" op-force-restart=" state " op-restart-digest="d2" op-secure-params=" pw " op-secure-digest="d3"/>
          <lrm_rsc_op id="db_last_failure_0" operation_key="db_monitor_10000" operation="monitor" call-id="7" rc-code="7" op-status="0" interval="10000" exit-reason="not running" migrate_source="n2" migrate_target="n1"/>
        </lrm_resource>
      </lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="false" crmd="offline" join="down" expected="down" remote_node="true" node_fenced="1"/>
    <tickets><ticket_state id="T" granted="true" last-granted="1600000000" standby="false"/></tickets>
  </status>`,
);

describe('readCib: status', () => {
  // Node membership fields decide online/unclean; every attribute is kept as written.
  it('reads node_state attributes and transient attributes', () => {
    const st = parseCib(statusXml).status!;
    const [n1, n2] = st.nodeStates;
    expect(n1).toMatchObject({ id: '1', uname: 'n1', inCcm: 'true', crmd: 'online', crmDebugOrigin: 'do_update_resource', join: 'member', expected: 'member', shutdown: '0' });
    expect(n1!.attrs['x-new']).toBe('1');
    expect(n1!.transientAttributes!.sets[0]!.nvpairs[0]).toMatchObject({ name: 'fail-count-db#monitor_10000', value: '1' });
    expect(n2).toMatchObject({ inCcm: 'false', crmd: 'offline', join: 'down', expected: 'down', remoteNode: 'true', nodeFenced: '1', lrm: undefined });
    expect(st.tickets).toMatchObject([{ id: 'T', granted: 'true', lastGranted: '1600000000', standby: 'false' }]);
  });

  // Operation history drives recovery, digests and failure handling.
  it('reads lrm resources and operation history', () => {
    const lrm = parseCib(statusXml).status!.nodeStates[0]!.lrm!;
    const r = lrm.resources[0]!;
    expect(r).toMatchObject({ id: 'db', class: 'ocf', provider: 'heartbeat', type: 'mysql', container: 'b' });
    const [start, fail] = r.ops;
    expect(start).toMatchObject({
      id: 'db_last_0',
      operationKey: 'db_start_0',
      operation: 'start',
      callId: '6',
      rcCode: '0',
      opStatus: '0',
      interval: '0',
      lastRcChange: '1600000000',
      lastRun: '1600000000',
      execTime: '25',
      queueTime: '1',
      opDigest: 'd1',
      opForceRestart: ' state ',
      opRestartDigest: 'd2',
      opSecureParams: ' pw ',
      opSecureDigest: 'd3',
      transitionKey: '3:1:0:abc',
      transitionMagic: '0:0;3:1:0:abc',
      onNode: 'n1',
      exitReason: '',
      crmFeatureSet: '3.16.2',
      crmDebugOrigin: 'do_update_resource',
    });
    expect(fail).toMatchObject({ exitReason: 'not running', migrateSource: 'n2', migrateTarget: 'n1', interval: '10000' });
  });

  // History entries and stray children interleaved (with comments) keep document order in their
  // own lists, and entries without children list none: the exact-size lists must not drop or
  // reorder anything.
  it('keeps operations and unknown children of an lrm_resource in document order', () => {
    const r = parseCib(
      '<cib><status><node_state id="1"><lrm id="1"><lrm_resources><lrm_resource id="a">' +
        '<lrm_rsc_op id="a1"/><!--c--><x id="u1"/><lrm_rsc_op id="a2"><y/></lrm_rsc_op><z/><lrm_rsc_op id="a3"/>' +
        '</lrm_resource><lrm_resource id="b"/></lrm_resources></lrm></node_state></status></cib>',
    ).status!.nodeStates[0]!.lrm!.resources;
    expect(r[0]!.ops.map((o) => o.id)).toEqual(['a1', 'a2', 'a3']);
    expect(r[0]!.unknown.map((u) => u.name)).toEqual(['x', 'z']);
    expect(r[0]!.ops.map((o) => o.unknown.map((u) => u.name))).toEqual([[], ['y'], []]);
    expect(r[1]!.ops).toEqual([]);
    expect(r[1]!.unknown).toEqual([]);
  });
});
