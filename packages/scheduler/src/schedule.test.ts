import { parseCib } from '@paceline/cib';
import { describe, expect, it } from 'vitest';
import { renderSummary } from './render.js';
import { explain, schedule, unpackCluster } from './schedule.js';

/** A small CIB: two or three nodes, fencing off, the given resources/constraints/status. */
function cib(opts: { nodes?: string[]; resources: string; constraints?: string; status?: string; props?: string }): string {
  const nodes = opts.nodes ?? ['node1', 'node2'];
  const nodeXml = nodes.map((n) => `<node id="${n}" uname="${n}"/>`).join('');
  const states =
    opts.status ??
    nodes.map((n) => `<node_state id="${n}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member"/>`).join('');
  return `<cib have-quorum="1" epoch="1" num_updates="0" admin_epoch="0"><configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/>${opts.props ?? ''}</cluster_property_set></crm_config>
    <nodes>${nodeXml}</nodes><resources>${opts.resources}</resources><constraints>${opts.constraints ?? ''}</constraints>
  </configuration><status>${states}</status></cib>`;
}

const prim = (id: string, meta = ''): string =>
  `<primitive id="${id}" class="ocf" provider="heartbeat" type="Dummy">${meta}</primitive>`;

function summary(xml: string): string[] {
  return renderSummary(schedule(parseCib(xml)).transition.summary).map((l) => l.replace(/\s+/g, ' ').trim());
}

/** md5 of " <parameters/>\n": the op-digest of a resource without parameters. */
const emptyDigest = 'f2317cad3d54cec5d7d7aa7d0bf35cf8';

/** History entry: a successful start (rc 0) of `rsc` recorded on a node. */
const started = (rsc: string, call = 2, digest = emptyDigest): string =>
  `<lrm_resource id="${rsc}" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="${rsc}_last_0" operation_key="${rsc}_start_0" operation="start" transition-key="1:1:0:x" call-id="${call}" rc-code="0" op-status="0" interval="0"${digest ? ` op-digest="${digest}"` : ''}/></lrm_resource>`;

const onNode = (n: string, lrm: string, attrs = ''): string =>
  `<node_state id="${n}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member">${attrs}<lrm id="${n}"><lrm_resources>${lrm}</lrm_resources></lrm></node_state>`;

describe('schedule', () => {
  // A stopped primitive in a two-node cluster starts on the lowest-sorting node (name tie-break).
  it('starts a new resource on the first node by name', () => {
    expect(summary(cib({ resources: prim('rsc1') }))).toEqual(['* Start rsc1 ( node1 )']);
  });

  // A location preference moves a running resource when it has no stickiness.
  it('moves a resource to a preferred node', () => {
    const xml = cib({
      resources: prim('rsc1'),
      constraints: '<rsc_location id="l1" rsc="rsc1" node="node2" score="100"/>',
      status: onNode('node1', started('rsc1')) + onNode('node2', ''),
    });
    expect(summary(xml)).toEqual(['* Move rsc1 ( node1 -> node2 )']);
  });

  // Stickiness above the preference keeps the resource where it runs: no action at all.
  it('keeps a sticky resource in place', () => {
    const meta = '<meta_attributes id="m"><nvpair id="m1" name="resource-stickiness" value="200"/></meta_attributes>';
    const xml = cib({
      resources: prim('rsc1', meta),
      constraints: '<rsc_location id="l1" rsc="rsc1" node="node2" score="100"/>',
      status: onNode('node1', started('rsc1')) + onNode('node2', ''),
    });
    expect(summary(xml)).toEqual([]);
  });

  // Group members start together on one node, in order.
  it('starts a group on one node', () => {
    const xml = cib({ resources: `<group id="g">${prim('a')}${prim('b')}</group>` });
    expect(summary(xml)).toEqual(['* Start a ( node1 )', '* Start b ( node1 )']);
  });

  // A mandatory anti-colocation sends the dependent to the other node.
  it('honours -INFINITY colocation', () => {
    const xml = cib({
      resources: prim('a') + prim('b'),
      constraints: '<rsc_colocation id="c" rsc="b" with-rsc="a" score="-INFINITY"/>',
    });
    expect(summary(xml)).toEqual(['* Start a ( node1 )', '* Start b ( node2 )']);
  });

  // A failed monitor (rc 7 where 0 was expected) makes the resource "Recover" in place.
  it('recovers a failed resource', () => {
    const failedMonitor =
      '<lrm_resource id="rsc1" class="ocf" provider="heartbeat" type="Dummy">' +
      '<lrm_rsc_op id="rsc1_last_0" operation_key="rsc1_start_0" operation="start" transition-key="1:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0"/>' +
      '<lrm_rsc_op id="rsc1_last_failure_0" operation_key="rsc1_monitor_10000" operation="monitor" transition-key="2:1:0:x" call-id="3" rc-code="7" op-status="0" interval="10000"/>' +
      '</lrm_resource>';
    const xml = cib({ resources: prim('rsc1'), status: onNode('node1', failedMonitor) + onNode('node2', '') });
    expect(summary(xml)).toEqual(['* Recover rsc1 ( node1 )']);
  });

  // Reaching migration-threshold bans the node: the resource moves away (failure handling).
  it('moves away after migration-threshold failures', () => {
    const meta = '<meta_attributes id="m"><nvpair id="m1" name="migration-threshold" value="1"/></meta_attributes>';
    const attrs =
      '<transient_attributes id="t"><instance_attributes id="ti"><nvpair id="f" name="fail-count-rsc1#monitor_10000" value="1"/></instance_attributes></transient_attributes>';
    const xml = cib({ resources: prim('rsc1', meta), status: onNode('node1', started('rsc1'), attrs) + onNode('node2', '') });
    expect(summary(xml)).toEqual(['* Move rsc1 ( node1 -> node2 )']);
  });

  // A mandatory order whose first cannot run stops the "then" resource, saying why.
  it('stops a dependent whose mandatory first cannot start', () => {
    const meta = '<meta_attributes id="m"><nvpair id="m1" name="target-role" value="Stopped"/></meta_attributes>';
    const xml = cib({
      resources: prim('a', meta) + prim('b'),
      constraints: '<rsc_order id="o" first="a" then="b" kind="Mandatory"/>',
      status: onNode('node1', started('b')) + onNode('node2', ''),
    });
    expect(summary(xml)).toEqual(['* Stop b ( node1 ) due to unrunnable a start']);
  });

  // A node that left the cluster with fencing enabled and a device configured is fenced first.
  it('fences a lost node', () => {
    const xml = cib({
      resources: '<primitive id="st" class="stonith" type="fence_dummy"/>' + prim('rsc1'),
      props: '<nvpair id="o2" name="stonith-enabled" value="true"/>',
      status:
        onNode('node1', started('st', 1) + started('rsc1')).replace('in_ccm="true" crmd="online"', 'in_ccm="false" crmd="offline"') +
        onNode('node2', ''),
    }).replace('<nvpair id="o1" name="stonith-enabled" value="false"/>', '');
    const lines = summary(xml);
    expect(lines[0]).toBe("* Fence (reboot) node1 'peer is no longer part of the cluster'");
    expect(lines).toContain('* Move rsc1 ( node1 -> node2 )');
  });

  // A start recorded without a digest (or with another one) means the definition changed: restart (as crm_simulate 2.1.5 does).
  it('restarts a resource whose recorded definition digest is missing', () => {
    const xml = cib({ resources: prim('rsc1'), status: onNode('node1', started('rsc1', 2, '')) + onNode('node2', '') });
    expect(summary(xml)).toEqual(['* Restart rsc1 ( node1 ) due to resource definition change']);
  });

  // Instance attributes are part of the digest: the recorded digest of the same parameters matches.
  it('keeps a resource whose parameters are unchanged', () => {
    const withParam = prim('rsc1', '<instance_attributes id="ia"><nvpair id="ip" name="ip" value="10.0.0.1"/></instance_attributes>');
    // md5 of ' <parameters ip="10.0.0.1"/>\n'
    const xml = cib({ resources: withParam, status: onNode('node1', started('rsc1', 2, 'ba6a72f3ccfb84f58fad1ff6a1d34598')) + onNode('node2', '') });
    expect(summary(xml)).toEqual([]);
  });

  // A resource needing a ticket that is not granted stops (loss-policy=stop); checked with crm_simulate 2.1.5.
  it('stops a resource whose ticket is revoked', () => {
    const xml = cib({
      resources: prim('rsc1'),
      constraints: '<rsc_ticket id="t1" rsc="rsc1" ticket="ticketA" loss-policy="stop"/>',
      status: onNode('node1', started('rsc1')) + onNode('node2', '') + '<tickets><ticket_state id="ticketA" granted="false"/></tickets>',
    });
    expect(summary(xml)).toEqual(['* Stop rsc1 ( node1 ) due to node availability']);
  });

  // Promotable clone: instances spread over nodes and the highest master- score is promoted (crm_simulate agrees).
  it('promotes the instance on the node with the best promotion score', () => {
    const attrs = (v: string): string =>
      `<transient_attributes id="t${v}"><instance_attributes id="ti${v}"><nvpair id="ta${v}" name="master-st" value="${v}"/></instance_attributes></transient_attributes>`;
    const xml = cib({
      nodes: ['node1', 'node2', 'node3'],
      resources:
        '<clone id="ms"><meta_attributes id="msm"><nvpair id="msm1" name="promotable" value="true"/><nvpair id="msm2" name="clone-max" value="2"/></meta_attributes>' +
        '<primitive id="st" class="ocf" provider="pacemaker" type="Stateful"/></clone>',
      status: onNode('node1', '', attrs('5')) + onNode('node2', '', attrs('10')) + onNode('node3', ''),
    });
    expect(summary(xml)).toEqual(['* Promote st:0 ( Stopped -> Promoted node2 )', '* Start st:1 ( node1 )']);
  });

  // An ocf:pacemaker:remote primitive defines a remote node; resources can be placed there once its connection starts.
  it('places a resource on a Pacemaker Remote node', () => {
    const xml = cib({
      nodes: ['node1'],
      resources: '<primitive id="remote1" class="ocf" provider="pacemaker" type="remote"/>' + prim('rsc1'),
      constraints: '<rsc_location id="l1" rsc="rsc1" node="remote1" score="100"/>',
    });
    expect(summary(xml)).toEqual(['* Start remote1 ( node1 )', '* Start rsc1 ( remote1 )']);
  });

  // explain answers "why is it there": each node's score with the constraint and stickiness behind it.
  it('explains a placement with its score contributions', () => {
    const meta = '<meta_attributes id="m"><nvpair id="m1" name="resource-stickiness" value="200"/></meta_attributes>';
    const xml = cib({
      resources: prim('rsc1', meta),
      constraints: '<rsc_location id="prefer-node2" rsc="rsc1" node="node2" score="100"/>',
      status: onNode('node1', started('rsc1')) + onNode('node2', ''),
    });
    const [e] = explain(parseCib(xml), 'rsc1') ?? [];
    expect(e?.assignedTo).toBe('node1');
    expect(e?.nodes.map((n) => [n.node, n.score])).toEqual([['node1', 200], ['node2', 100]]);
    expect(e?.nodes[0]?.contributions).toEqual([{ source: 'stickiness', item: undefined, score: 200 }]);
    expect(e?.nodes[1]?.contributions).toEqual([{ source: 'location', item: 'prefer-node2', score: 100 }]);
  });

  // explain says why a resource cannot start: the unrunnable first action of a mandatory order.
  it('explains what blocks a start', () => {
    const stopped = '<meta_attributes id="m"><nvpair id="m1" name="target-role" value="Stopped"/></meta_attributes>';
    const xml = cib({ resources: prim('a', stopped) + prim('b'), constraints: '<rsc_order id="o" first="a" then="b"/>' });
    expect(explain(parseCib(xml), 'b')?.[0]?.blockedBy).toBe('unrunnable a start');
    expect(explain(parseCib(xml), 'nope')).toBeUndefined();
  });

  // unpackCluster reports node flags and where each resource runs.
  it('unpacks node state and resource locations', () => {
    const st = unpackCluster(parseCib(cib({ resources: prim('rsc1'), status: onNode('node1', started('rsc1')) + onNode('node2', '') })));
    expect(st.nodeByName.get('node1')?.online).toBe(true);
    expect(st.resourceById.get('rsc1')?.runningOn).toEqual(['node1']);
  });

  // A constraint naming an unknown resource is skipped with a diagnostic naming it.
  it('reports ignored constraints', () => {
    const res = schedule(parseCib(cib({ resources: prim('a'), constraints: '<rsc_location id="l9" rsc="nope" node="node1" score="5"/>' })));
    expect(res.diagnostics.map((d) => d.message)).toContain("Ignoring constraint 'l9' because resource 'nope' does not exist");
  });
});
