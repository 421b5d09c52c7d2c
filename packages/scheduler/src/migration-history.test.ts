/**
 * Live-migration history: partial migrations that continue or are abandoned, and the history
 * order pe__is_newer_op gives pending operations. Expected summaries are what Debian's
 * crm_simulate 2.1.5 printed for these CIBs (`crm_simulate -S -x FILE`).
 */
import { describe, expect, it } from 'vitest';
import { parseCib } from '@paceline/cib';
import type { LrmRscOp } from '@paceline/cib';
import { crmSimulate } from './crm_simulate/run.js';
import { isNewerOp, sortHistory } from './migration-history.js';

/** vm: migrate_to n1 -> n2 done, no migrate_from yet; n2 only probed it. */
function partialMigration(preferN2: string): string {
  return `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="1" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <primitive id="vm" class="ocf" provider="pacemaker" type="Dummy">
        <meta_attributes id="vm-meta"><nvpair id="vm-am" name="allow-migrate" value="true"/></meta_attributes>
      </primitive>
    </resources>
    <constraints><rsc_location id="prefer-n2" rsc="vm" node="n2" score="${preferN2}"/></constraints>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="1"><lrm_resources><lrm_resource id="vm" class="ocf" provider="pacemaker" type="Dummy">
        <lrm_rsc_op id="vm_last_0" operation_key="vm_migrate_to_0" operation="migrate_to" transition-key="3:1:0:abc" transition-magic="0:0;3:1:0:abc" call-id="3" rc-code="0" op-status="0" interval="0" last-rc-change="1000" migrate_source="n1" migrate_target="n2"/>
      </lrm_resource></lrm_resources></lrm>
    </node_state>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member">
      <lrm id="2"><lrm_resources><lrm_resource id="vm" class="ocf" provider="pacemaker" type="Dummy">
        <lrm_rsc_op id="vm_last_0" operation_key="vm_monitor_0" operation="monitor" transition-key="1:0:7:abc" transition-magic="0:7;1:0:7:abc" call-id="1" rc-code="7" op-status="0" interval="0" last-rc-change="900"/>
      </lrm_resource></lrm_resources></lrm>
    </node_state>
  </status>
</cib>`;
}

function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.trim() === '' || /^[A-Z]/.test(l)) break;
    out.push(l.trim().replace(/\s+/g, ' '));
  }
  return out;
}

describe('partial live migrations', () => {
  it('continues towards the same target with migrate_from only', () => {
    const r = crmSimulate(partialMigration('100'), { run: true, simulate: true });
    expect(r.stdout).toMatch(/vm\s+\(ocf:pacemaker:Dummy\):\s+Started \[ n2 n1 \]/);
    expect(section(r.stdout, 'Transition Summary')).toEqual(['* Migrate vm ( n1 -> n2 ) due to resource definition change']);
    const executing = section(r.stdout, 'Executing Cluster Transition');
    expect(executing).toContain('* Resource action: vm migrate_from on n2');
    expect(executing.some((l) => l.includes('migrate_to'))).toBe(false);
  });

  it('stops both sides when the target changes, and reports the move from the first clean node', () => {
    const r = crmSimulate(partialMigration('-INFINITY'), { run: true, simulate: true });
    expect(section(r.stdout, 'Transition Summary')).toEqual(['* Move vm ( n2 -> n1 )']);
    const executing = section(r.stdout, 'Executing Cluster Transition');
    expect(executing).toEqual(expect.arrayContaining(['* Resource action: vm stop on n1', '* Resource action: vm stop on n2', '* Resource action: vm start on n1']));
  });
});

describe('history order (pe__is_newer_op)', () => {
  const ops = (xml: string): readonly LrmRscOp[] => {
    const cib = parseCib(`<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status>
      <node_state id="1" uname="n1"><lrm id="1"><lrm_resources><lrm_resource id="r" class="ocf" provider="pacemaker" type="Dummy">${xml}</lrm_resource></lrm_resources></lrm></node_state></status></cib>`);
    return cib.status?.nodeStates[0]?.lrm?.resources[0]?.ops ?? [];
  };

  it('places a pending operation by its transition number, not its call-id of -1', () => {
    // 764's shape: a start pending in transition 4 after a stop done in transition 1.
    const list = ops(`
      <lrm_rsc_op id="r_start_0" operation="start" call-id="-1" rc-code="-1" op-status="-1" interval="0" transition-key="-1:4:0:u" transition-magic="-1:-1;-1:4:0:u"/>
      <lrm_rsc_op id="r_monitor_5000" operation="monitor" call-id="13" rc-code="0" op-status="0" interval="5000" transition-key="-1:0:0:u" transition-magic="0:0;-1:0:0:u"/>
      <lrm_rsc_op id="r_stop_0" operation="stop" call-id="15" rc-code="0" op-status="0" interval="0" transition-key="-1:1:0:u" transition-magic="0:0;-1:1:0:u"/>`);
    const sorted = sortHistory(list.map((xml) => ({ xml })));
    expect(sorted.map((o) => o.xml.id)).toEqual(['r_monitor_5000', 'r_stop_0', 'r_start_0']);
  });

  it('compares call ids on one node and last-rc-change across nodes', () => {
    const [a, b] = ops(`
      <lrm_rsc_op id="a" operation="start" call-id="5" rc-code="0" op-status="0" interval="0" last-rc-change="200" on_node="n1"/>
      <lrm_rsc_op id="b" operation="stop" call-id="9" rc-code="0" op-status="0" interval="0" last-rc-change="100" on_node="n2"/>`);
    if (!a || !b) throw new Error('test CIB not read');
    expect(isNewerOp(a, b, true)).toBe(1);
    expect(isNewerOp(b, a, true)).toBe(-1);
    const [c, d] = ops(`
      <lrm_rsc_op id="c" operation="start" call-id="5" rc-code="0" op-status="0" interval="0" last-rc-change="200"/>
      <lrm_rsc_op id="d" operation="stop" call-id="9" rc-code="0" op-status="0" interval="0" last-rc-change="100"/>`);
    if (!c || !d) throw new Error('test CIB not read');
    expect(isNewerOp(c, d, true)).toBe(-1);
  });
});
