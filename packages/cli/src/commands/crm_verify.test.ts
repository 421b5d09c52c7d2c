// crm_verify's checks without the real tool: outputs pinned from Pacemaker 2.1.5's crm_verify on
// the same CIBs (test/cli/pacemaker-oracle.it.test.ts compares against the real tool itself).
import { describe, expect, it } from 'vitest';
import { verifyCibText, verifyOutcome } from './crm_verify.js';

const cib = (props: string, resources: string): string =>
  `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config>${props}</crm_config><nodes/><resources>${resources}</resources><constraints/></configuration><status/></cib>`;
const NO_STONITH = '<cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set>';
const DUMMY = '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>';

describe('crm_verify checks', () => {
  it('no fencing device: the three errors at -V, the verdict and exit 78', () => {
    const r = verifyCibText(cib('', DUMMY), 'f.xml');
    expect(verifyOutcome(r, 0)).toEqual({ exitCode: 78, lines: ['crm_verify: Errors found during check: config not valid', '-V may provide more details'] });
    expect(verifyOutcome(r, 1).lines).toEqual([
      '(unpack_resources) \terror: Resource start-up disabled since no STONITH resources have been defined',
      '(unpack_resources) \terror: Either configure some or disable STONITH with the stonith-enabled option',
      '(unpack_resources) \terror: NOTE: Clusters with shared data need STONITH to ensure data integrity',
      'crm_verify: Errors found during check: config not valid',
    ]);
  });

  it('a clean CIB: nothing but plain warnings at -VV, exit 0', () => {
    const r = verifyCibText(cib(NO_STONITH, DUMMY), 'f.xml');
    expect(verifyOutcome(r, 0)).toEqual({ exitCode: 0, lines: [] });
    expect(verifyOutcome(r, 2).lines).toEqual(['(unpack_config) \twarning: Blind faith: not fencing unseen nodes', '(cluster_status) \twarning: Fencing and resource management disabled due to lack of quorum']);
  });

  it('duplicate operations and a target-role a primitive cannot have', () => {
    const rsc = '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="m1" name="monitor" interval="10s"/><op id="m2" name="monitor" interval="10000ms"/></operations><meta_attributes id="dm"><nvpair id="dm1" name="target-role" value="Promoted"/></meta_attributes></primitive>';
    expect(verifyOutcome(verifyCibText(cib(NO_STONITH, rsc), 'f.xml'), 1).lines).toEqual([
      "(get_target_role) \terror: Ignoring 'target-role' for d because 'Promoted' only makes sense for promotable clones",
      '(is_op_dup) \terror: Operation m2 is duplicate of m1 (do not use same name and interval combination more than once per resource)',
      '(is_op_dup) \terror: Operation m2 is duplicate of m1 (do not use same name and interval combination more than once per resource)',
      'crm_verify: Errors found during check: config not valid',
    ]);
  });

  it('a deprecated group flag is a warning: "Warnings found", exit 78', () => {
    const group = `<group id="g"><meta_attributes id="gm"><nvpair id="gm1" name="ordered" value="false"/></meta_attributes>${DUMMY}</group>`;
    const out = verifyOutcome(verifyCibText(cib(NO_STONITH, group), 'f.xml'), 2);
    expect(out.exitCode).toBe(78);
    expect(out.lines).toContain("(set_group_flag) \twarning: Support for the 'ordered' group meta-attribute is deprecated and will be removed in a future release (use a resource set instead)");
    expect(out.lines.at(-1)).toBe('crm_verify: Warnings found during check: config may not be valid');
  });

  it('a schema violation is reported with its line, and the CIB is not scheduled', () => {
    const text = cib(NO_STONITH, '<primitive id="d" class="ocf" type="Dummy"/>').replace('<resources>', '\n<resources>\n');
    const out = verifyOutcome(verifyCibText(text, 's.xml'), 1);
    expect(out.exitCode).toBe(78);
    expect(out.lines[0]).toMatch(/^s\.xml:3: element primitive: Relax-NG validity error : /);
    expect(out.lines.slice(-2)).toEqual(['(main) \terror: CIB did not pass schema validation', 'crm_verify: Errors found during check: config not valid']);
  });

  it('unparsable XML is an error found, not a crash', () => {
    expect(verifyOutcome(verifyCibText('<cib', 'b.xml'), 0).exitCode).toBe(78);
  });

  it('recorded failures: the result in words (with the exit reason), probes named so, expected results not warned', () => {
    const op = (id: string, attrs: string): string => `<lrm_rsc_op id="${id}" operation_key="x" call-id="5" op-status="0" ${attrs}/>`;
    const status = `<status><node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="1"><lrm_resources>
      <lrm_resource id="d" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="d_last_0" operation_key="d_monitor_0" operation="monitor" call-id="1" rc-code="7" op-status="0" interval="0" transition-key="1:1:7:x"/>${op('d_last_failure_0', 'operation="start" rc-code="1" interval="0" last-rc-change="1533840940" exit-reason="no such file" transition-key="2:1:0:x"')}</lrm_resource>
      <lrm_resource id="e" class="ocf" provider="heartbeat" type="Dummy">${op('e_last_failure_0', 'operation="monitor" rc-code="5" interval="0" transition-key="3:1:7:x"')}</lrm_resource>
      <lrm_resource id="f" class="ocf" provider="heartbeat" type="Dummy">${op('f_last_failure_0', 'operation="monitor" rc-code="0" interval="0" transition-key="4:1:7:x"')}</lrm_resource>
      <lrm_resource id="g" class="ocf" provider="heartbeat" type="Dummy">${op('g_last_failure_0', 'operation="monitor" rc-code="8" interval="10000" transition-key="5:1:8:x"')}</lrm_resource>
    </lrm_resources></lrm></node_state></status>`;
    const text = cib(NO_STONITH, DUMMY + DUMMY.replace('"d"', '"e"') + DUMMY.replace('"d"', '"f"') + DUMMY.replace('"d"', '"g"')).replace('<status/>', status).replace('<nodes/>', '<nodes><node id="1" uname="n1"/></nodes>');
    // The two lines crm_verify 2.1.5 -VV prints for this CIB (in the TZ of the run for the date).
    const lines = verifyOutcome(verifyCibText(text, 'f.xml'), 2).lines.filter((l) => l.startsWith('(unpack_rsc_op_failure)'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\(unpack_rsc_op_failure\) \twarning: Unexpected result \(error: no such file\) was recorded for start of d on n1 at [A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d 2018 \| rc=1 id=d_last_failure_0$/);
    expect(lines[1]).toBe('(unpack_rsc_op_failure) \twarning: Unexpected result (not installed) was recorded for probe of e on n1 at unknown time | rc=5 id=e_last_failure_0');
  });

  it('a priority meta-attribute with characters after its integer: scan_ll\'s warning, once per resource (not for instance attributes)', () => {
    const rsc = '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"><instance_attributes id="di"><nvpair id="di1" name="priority" value="2.0"/></instance_attributes><meta_attributes id="dm"><nvpair id="dm1" name="priority" value="1.0"/></meta_attributes></primitive><primitive id="e" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="em"><nvpair id="em1" name="priority" value="7x"/></meta_attributes></primitive>';
    // Pinned from crm_verify 2.1.5 -VV on this CIB (with have-quorum="1").
    const r = verifyCibText(cib(NO_STONITH, rsc).replace('admin_epoch="0"', 'admin_epoch="0" have-quorum="1"'), 'f.xml');
    expect(verifyOutcome(r, 2)).toEqual({ exitCode: 0, lines: ['(unpack_config) \twarning: Blind faith: not fencing unseen nodes', "(scan_ll) \twarning: Characters left over after parsing '1.0': '.0'", "(scan_ll) \twarning: Characters left over after parsing '7x': 'x'"] });
  });
});
