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
});
