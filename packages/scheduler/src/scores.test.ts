import { parseCib } from '@paceline/cib';
import { describe, expect, it } from 'vitest';
import { schedule } from './schedule.js';
import { formatScoreLine, formatScores } from './scores.js';

/** A two-node cluster, fencing off, with the given resources and node states. */
function cib(resources: string, states: string): string {
  return `<cib have-quorum="1" epoch="1" num_updates="0" admin_epoch="0"><configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="node1" uname="node1"/><node id="node2" uname="node2"/></nodes>
    <resources>${resources}</resources><constraints/></configuration><status>${states}</status></cib>`;
}

const online = (n: string, lrm = ''): string =>
  `<node_state id="${n}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="${n}"><lrm_resources>${lrm}</lrm_resources></lrm></node_state>`;

const startedRsc1 =
  '<lrm_resource id="rsc1" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="rsc1_last_0" operation_key="rsc1_start_0" operation="start" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/></lrm_resource>';

describe('allocation scores', () => {
  // The two line shapes crm_simulate -s prints: assignment scores and promotion scores.
  it('formats allocation and promotion lines as Pacemaker 2.1.5', () => {
    expect(formatScoreLine({ fn: 'pcmk__primitive_assign', rsc: 'rsc1', node: 'node1', score: -1000000, contributions: [] })).toBe(
      'pcmk__primitive_assign: rsc1 allocation score on node1: -INFINITY',
    );
    expect(formatScoreLine({ fn: 'promotion', rsc: 'ms:0', node: 'none', score: 5, contributions: [] })).toBe('ms:0 promotion score on none: 5');
  });

  // Checked against crm_simulate 2.1.5 -s on the same CIB, in the same order: an unmanaged
  // resource is held where it runs (INFINITY there), a clone's scores list its instances, and an lsb
  // clone asked to be globally unique is forced anonymous with at most one instance per node.
  it('prints what crm_simulate -s prints for an unmanaged primitive and a forced-anonymous clone', () => {
    const xml = cib(
      '<primitive id="rsc1" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="m"><nvpair id="m1" name="is-managed" value="false"/></meta_attributes></primitive>' +
        '<clone id="c1"><primitive id="lsb1" class="lsb" type="LSBDummy"/><meta_attributes id="cm"><nvpair id="cm1" name="globally-unique" value="true"/><nvpair id="cm2" name="clone-max" value="4"/></meta_attributes></clone>',
      online('node1') + online('node2', startedRsc1),
    );
    const result = schedule(parseCib(xml));
    expect(formatScores(result.scores)).toEqual([
      'pcmk__primitive_assign: rsc1 allocation score on node1: 0',
      'pcmk__primitive_assign: rsc1 allocation score on node2: INFINITY',
      'pcmk__clone_allocate: c1 allocation score on node1: 0',
      'pcmk__clone_allocate: c1 allocation score on node2: 0',
      'pcmk__clone_allocate: lsb1:0 allocation score on node1: 0',
      'pcmk__clone_allocate: lsb1:0 allocation score on node2: 0',
      'pcmk__clone_allocate: lsb1:1 allocation score on node1: 0',
      'pcmk__clone_allocate: lsb1:1 allocation score on node2: 0',
      'pcmk__primitive_assign: lsb1:0 allocation score on node1: 0',
      'pcmk__primitive_assign: lsb1:0 allocation score on node2: 0',
      'pcmk__primitive_assign: lsb1:1 allocation score on node1: -INFINITY',
      'pcmk__primitive_assign: lsb1:1 allocation score on node2: 0',
    ]);
    expect(result.diagnostics.map((d) => d.code)).toContain('clone-forced-anonymous');
  });
});
