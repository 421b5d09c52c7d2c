/**
 * crm_mon's renderers on a fixed CIB (no cluster): the crm_mon 2.1.5 layout of the text, the
 * inactive filter of the default view, the failed actions and fail counts, and the XML shape.
 */
import { describe, expect, it } from 'vitest';
import { childElements, parseXml } from '@paceline/cib';
import type { StatusResult } from '@paceline/controller';
import { activeOnly, crmMonText, crmMonXml, fullResourceListText } from './crm_mon.js';

const CIB = `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0" cib-last-written="Sun Nov 22 00:00:00 2026" update-origin="node1" update-client="cibadmin" update-user="root">
  <configuration>
    <crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="web" class="ocf" provider="paceline" type="Dummy"/>
      <group id="g"><primitive id="a" class="ocf" provider="paceline" type="Dummy"/><primitive id="b" class="ocf" provider="paceline" type="Dummy"/></group>
      <clone id="c"><primitive id="p" class="ocf" provider="paceline" type="Dummy"/></clone>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
      <transient_attributes id="1"><instance_attributes id="s1"><nvpair id="n1" name="fail-count-web#monitor_1000" value="1"/><nvpair id="n2" name="rack" value="r7"/></instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources><lrm_resource id="web" class="ocf" provider="paceline" type="Dummy">
        <lrm_rsc_op id="web_last_0" operation_key="web_start_0" operation="start" transition-key="1:1:0:x" call-id="3" rc-code="0" op-status="0" interval="0" last-rc-change="1700000000" exec-time="5" queue-time="0" on_node="node1"/>
        <lrm_rsc_op id="web_last_failure_0" operation_key="web_monitor_1000" operation="monitor" transition-key="2:1:0:x" call-id="4" rc-code="7" op-status="0" interval="1000" last-rc-change="1700000100" exec-time="1" queue-time="0" on_node="node1" exit-reason="gone"/>
        <lrm_rsc_op id="web_monitor_1000" operation_key="web_monitor_1000" operation="monitor" transition-key="2:1:0:x" call-id="4" rc-code="7" op-status="0" interval="1000" last-rc-change="1700000100" exec-time="1" queue-time="0" on_node="node1"/>
      </lrm_resource></lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>`;

const status: StatusResult = {
  clusterName: 'c',
  node: 'node2',
  dc: 'node1',
  quorate: true,
  viewId: '1',
  nodes: [
    { name: 'node1', id: 1, online: true, standby: false, maintenance: false, unclean: false },
    { name: 'node2', id: 2, online: true, standby: false, maintenance: false, unclean: false },
  ],
  resources: [],
  transition: { state: 'idle', id: 1 },
  cibVersion: '0.1.0',
};
const input = { cibXml: CIB, status, nowSec: 1700000200 };

describe('crm_mon text', () => {
  it('lays the default view out as crm_mon 2.1.5: summary, nodes, active resources only, failed actions', () => {
    const text = crmMonText(input);
    const blocks = text.split('\n\n');
    expect(blocks[0]).toMatch(/^Cluster Summary:\n {2}\* Stack: corosync\n {2}\* Current DC: node1 \(version [^)]+\) - partition with quorum\n {2}\* Last updated: .+ on node2\n {2}\* Last change: {2}Sun Nov 22 00:00:00 2026 by root via cibadmin on node1\n {2}\* 2 nodes configured\n {2}\* 5 resource instances configured$/);
    expect(blocks[1]).toBe('Node List:\n  * Online: [ node1 node2 ]');
    expect(blocks[2]).toBe('Active Resources:\n  * web\t(ocf:paceline:Dummy):\t FAILED node1');
    expect(blocks[3]).toMatch(/^Failed Resource Actions:\n {2}\* web_monitor_1000 on node1 'not running' \(7\): call=4, status='complete', exitreason='gone', last-rc-change='[^']+', queued=0ms, exec=1ms\n$/);
  });

  it('-r shows the inactive resources, groups and clones folded; -f -A -o -t add their sections', () => {
    const text = crmMonText(input, { inactive: true, failcounts: true, attributes: true, timing: true });
    expect(text).toContain('Full List of Resources:\n  * web\t(ocf:paceline:Dummy):\t FAILED node1\n  * Resource Group: g:\n    * a\t(ocf:paceline:Dummy):\t Stopped\n    * b\t(ocf:paceline:Dummy):\t Stopped\n  * Clone Set: c [p]:\n    * Stopped: [ node1 node2 ]\n');
    expect(text).toMatch(/\nNode Attributes:\n {2}\* Node: node1:\n {4}\* rack +\t: r7/);
    expect(text).toMatch(/\nOperations:\n {2}\* Node: node1:\n {4}\* web: migration-threshold=1000000 fail-count=1:\n {6}\* \(3\) start: last-rc-change="[^"]+" exec-time="5ms" queue-time="0ms"\n {6}\* \(4\) monitor: interval="1000ms" .*rc="7" \(not running\)\n/);
    expect(text).toContain('\nMigration Summary:\n  * Node: node1:\n    * web: migration-threshold=1000000 fail-count=1:\n');
  });

  it('-n groups the resources by node and lists the inactive ones with -r', () => {
    const text = crmMonText(input, { groupByNode: true, inactive: true });
    expect(text).toContain('Node List:\n  * Node node1: online:\n    * Resources:\n      * web\t(ocf:paceline:Dummy):\t FAILED\n  * Node node2: online:\n');
    expect(text).toContain('Inactive Resources:\n  * a\t(ocf:paceline:Dummy):\t Stopped\n');
  });

  it('activeOnly drops stopped items and the headings left empty', () => {
    expect(activeOnly(['  * x\t(a):\t Stopped', '  * Resource Group: g:', '    * a\t(x):\t Started n1', '    * b\t(x):\t Stopped', '  * Clone Set: c [p]:', '    * Stopped: [ n1 n2 ]'])).toEqual(['  * Resource Group: g:', '    * a\t(x):\t Started n1']);
  });

  it('crm_resource --list is the full resource list', () => {
    expect(fullResourceListText(input)).toMatch(/^Full List of Resources:\n {2}\* web\t/);
  });
});

describe('crm_mon XML', () => {
  it('has the pacemaker-result shape: summary, nodes, resources, history, failures, status', () => {
    const root = parseXml(crmMonXml(input, { inactive: true })).root;
    expect(root.name).toBe('pacemaker-result');
    expect(childElements(root).map((e) => e.name)).toEqual(['summary', 'nodes', 'resources', 'node_history', 'failures', 'status']);
    const summary = childElements(root, 'summary')[0]!;
    expect(childElements(summary, 'current_dc')[0]!.attrs).toMatchObject({ present: 'true', name: 'node1', id: '1', with_quorum: 'true' });
    const nodes = childElements(childElements(root, 'nodes')[0]!, 'node');
    expect(nodes.map((n) => [n.attrs['name'], n.attrs['is_dc'], n.attrs['resources_running']])).toEqual([['node1', 'true', '1'], ['node2', 'false', '0']]);
    const resources = childElements(childElements(root, 'resources')[0]!);
    expect(resources.map((r) => `${r.name}:${r.attrs['id']}`)).toEqual(['resource:web', 'group:g', 'clone:c']);
    expect(resources[0]!.attrs).toMatchObject({ failed: 'true', active: 'true', nodes_running_on: '1' });
    const failure = childElements(childElements(root, 'failures')[0]!, 'failure')[0]!;
    expect(failure.attrs).toMatchObject({ op_key: 'web_monitor_1000', node: 'node1', exitstatus: 'not running', exitcode: '7', exitreason: 'gone', interval: '1000', task: 'monitor' });
    // Without -r the inactive group and clone are left out.
    const active = childElements(childElements(parseXml(crmMonXml(input)).root, 'resources')[0]!);
    expect(active.map((r) => r.attrs['id'])).toEqual(['web']);
  });
});
