/**
 * Crafted CIBs, each with one configuration problem, for the validation suites: the pure suite
 * checks paceline reports the expected diagnostic; the oracle suite checks the real crm_verify
 * also rejects (or logs) each one, so our verdicts are grounded in Pacemaker's.
 */

export interface BadCib {
  readonly name: string;
  /** What is wrong, in words. */
  readonly why: string;
  readonly xml: string;
  /** The diagnostic code paceline must report. */
  readonly code: string;
  readonly severity: 'error' | 'warning';
  /**
   * What crm_verify 2.1.5 does: 'rejects' (non-zero exit), 'logs' (exit 0 but an error or warning
   * line about it), 'accepts' (nothing: paceline's warning is its own advice).
   */
  readonly crmVerify: 'rejects' | 'logs' | 'accepts';
  /** For 'logs': a fragment of the line crm_verify prints. */
  readonly logged?: string;
}

interface Parts {
  readonly options?: string;
  readonly resources?: string;
  readonly constraints?: string;
  readonly stonith?: boolean;
  readonly extra?: string;
}

/** A small valid two-node CIB with one IP resource, plus the given fragments. */
export function craftCib(p: Parts = {}): string {
  const stonith = p.stonith ?? false;
  return `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith" name="stonith-enabled" value="${stonith}"/>${p.options ?? ''}
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="node1"/>
      <node id="2" uname="node2"/>
    </nodes>
    <resources>
      <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="ip-params"><nvpair id="ip-params-ip" name="ip" value="192.0.2.10"/></instance_attributes>
        <operations><op id="ip-monitor" name="monitor" interval="10s" timeout="20s"/></operations>
      </primitive>${p.resources ?? ''}
    </resources>
    <constraints>${p.constraints ?? ''}</constraints>${p.extra ?? ''}
  </configuration>
  <status/>
</cib>
`;
}

const dummy = (id: string, inner = ''): string => `
      <primitive id="${id}" class="ocf" provider="heartbeat" type="Dummy">${inner}</primitive>`;

export const BAD_CIBS: readonly BadCib[] = [
  {
    name: 'duplicate-id',
    why: 'two elements share an id',
    xml: craftCib({ resources: dummy('ip-monitor') }),
    code: 'id-duplicate',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'location-unknown-id',
    why: 'a location constraint names an id that does not exist',
    xml: craftCib({ constraints: '<rsc_location id="l1" rsc="nothere" node="node1" score="100"/>' }),
    code: 'ref-unknown-resource',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'location-not-a-resource',
    why: 'a location constraint names an id that is not a resource',
    xml: craftCib({ constraints: '<rsc_location id="l1" rsc="opt-stonith" node="node1" score="100"/>' }),
    code: 'ref-unknown-resource',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'order-set-not-a-resource',
    why: 'a resource set names an id that is not a resource',
    xml: craftCib({
      resources: dummy('d'),
      constraints: '<rsc_order id="o"><resource_set id="s1"><resource_ref id="ip"/><resource_ref id="opt-stonith"/></resource_set></rsc_order>',
    }),
    code: 'ref-unknown-resource',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'colocation-unknown-with-rsc',
    why: 'a colocation names a resource that does not exist',
    xml: craftCib({ constraints: '<rsc_colocation id="c" rsc="ip" with-rsc="ghost" score="INFINITY"/>' }),
    code: 'ref-unknown-resource',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'score-not-a-number',
    why: 'a constraint score is a word',
    xml: craftCib({ constraints: '<rsc_location id="l1" rsc="ip" node="node1" score="lots"/>' }),
    code: 'score-invalid',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'expression-unknown-operation',
    why: 'a rule expression uses an operation that does not exist',
    xml: craftCib({
      constraints:
        '<rsc_location id="l1" rsc="ip"><rule id="r1" score="100"><expression id="e1" attribute="a" operation="like" value="x"/></rule></rsc_location>',
    }),
    code: 'expression-bad-operation',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'rule-without-expressions',
    why: 'a rule contains nothing',
    xml: craftCib({ constraints: '<rsc_location id="l1" rsc="ip"><rule id="r1" score="100"/></rsc_location>' }),
    code: 'rule-empty',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'cluster-option-bad-enum',
    why: 'no-quorum-policy has a value Pacemaker does not know',
    xml: craftCib({ options: '<nvpair id="o2" name="no-quorum-policy" value="panic"/>' }),
    code: 'option-value-invalid',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'cluster-option-bad-boolean',
    why: 'symmetric-cluster is not a boolean',
    xml: craftCib({ options: '<nvpair id="o2" name="symmetric-cluster" value="maybe"/>' }),
    code: 'option-value-invalid',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'cluster-option-bad-duration',
    why: 'stonith-timeout is not a duration',
    xml: craftCib({ options: '<nvpair id="o2" name="stonith-timeout" value="soon"/>' }),
    code: 'option-value-invalid',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'target-role-promoted-not-promotable',
    why: 'target-role Promoted on a resource that is not a promotable clone',
    xml: craftCib({ resources: dummy('d', '<meta_attributes id="d-m"><nvpair id="d-m1" name="target-role" value="Promoted"/></meta_attributes>') }),
    code: 'target-role-not-promotable',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'target-role-unknown',
    why: 'target-role is not a role',
    xml: craftCib({ resources: dummy('d', '<meta_attributes id="d-m"><nvpair id="d-m1" name="target-role" value="Running"/></meta_attributes>') }),
    code: 'meta-value-invalid',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'duplicate-operation',
    why: 'two monitors with the same interval (10s and 10000ms)',
    xml: craftCib({ resources: dummy('d', '<operations><op id="d1" name="monitor" interval="10s"/><op id="d2" name="monitor" interval="10000ms"/></operations>') }),
    code: 'op-duplicate',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'recurring-start',
    why: 'a start operation with an interval',
    xml: craftCib({ resources: dummy('d', '<operations><op id="d1" name="start" interval="10s"/></operations>') }),
    code: 'op-cannot-recur',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'primitive-without-type',
    why: 'a primitive has no agent type',
    xml: craftCib({ resources: '<primitive id="d" class="ocf" provider="heartbeat"/>' }),
    code: 'attribute-missing',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'op-without-interval',
    why: 'an operation has no interval',
    xml: craftCib({ resources: dummy('d', '<operations><op id="d1" name="monitor"/></operations>') }),
    code: 'attribute-missing',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'order-bad-kind',
    why: 'an order constraint kind Pacemaker does not know',
    xml: craftCib({ resources: dummy('d'), constraints: '<rsc_order id="o" first="ip" then="d" kind="Sometimes"/>' }),
    code: 'value-invalid',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'colocation-bad-influence',
    why: 'influence is not a boolean',
    xml: craftCib({ resources: dummy('d'), constraints: '<rsc_colocation id="c" rsc="d" with-rsc="ip" score="INFINITY" influence="strong"/>' }),
    code: 'value-invalid',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'empty-group',
    why: 'a group without members',
    xml: craftCib({ resources: '<group id="g"/>' }),
    code: 'group-empty',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'dangling-nvset-reference',
    why: 'meta_attributes id-ref names nothing',
    xml: craftCib({ resources: dummy('d', '<meta_attributes id-ref="no-such-set"/>') }),
    code: 'ref-unknown-id',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'fencing-enabled-without-device',
    why: 'stonith-enabled is true and there is no fencing resource',
    xml: craftCib({ stonith: true }),
    code: 'fencing-no-device',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'fencing-level-two-kinds-of-target',
    why: 'a fencing level names its targets both by name and by pattern',
    xml: craftCib({ extra: '<fencing-topology><fencing-level id="fl1" index="1" target="node1" target-pattern="^node" devices="ip"/></fencing-topology>' }),
    code: 'attribute-conflict',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'fencing-level-attribute-without-value',
    why: 'a fencing level by node attribute without the value to match',
    xml: craftCib({ extra: '<fencing-topology><fencing-level id="fl1" index="1" target-attribute="rack" devices="ip"/></fencing-topology>' }),
    code: 'attribute-missing',
    severity: 'error',
    crmVerify: 'rejects',
  },
  {
    name: 'date-unparseable',
    why: 'a date expression start that is not a date',
    xml: craftCib({
      constraints:
        '<rsc_location id="l1" rsc="ip"><rule id="r1" score="100"><date_expression id="d1" operation="in_range" start="yesterday"/></rule></rsc_location>',
    }),
    code: 'date-unparseable',
    severity: 'error',
    crmVerify: 'logs',
    logged: 'not a valid ISO 8601',
  },
  {
    name: 'interval-unparseable',
    why: 'an operation interval that is not a duration',
    xml: craftCib({ resources: dummy('d', '<operations><op id="d1" name="monitor" interval="often"/></operations>') }),
    code: 'op-interval-invalid',
    severity: 'warning',
    crmVerify: 'logs',
    logged: "Using 0 instead of 'often'",
  },
  {
    name: 'stickiness-not-a-score',
    why: 'resource-stickiness is a word',
    xml: craftCib({ resources: dummy('d', '<meta_attributes id="d-m"><nvpair id="d-m1" name="resource-stickiness" value="sticky"/></meta_attributes>') }),
    code: 'meta-value-invalid',
    severity: 'warning',
    crmVerify: 'logs',
    logged: "Could not parse integer from 'sticky'",
  },
  {
    name: 'location-unknown-node',
    why: 'a location constraint names a node that is not configured',
    xml: craftCib({ constraints: '<rsc_location id="l1" rsc="ip" node="node9" score="100"/>' }),
    code: 'ref-unknown-node',
    severity: 'warning',
    crmVerify: 'accepts',
  },
  {
    name: 'unknown-cluster-option',
    why: 'a cluster option Pacemaker does not have (a typo?)',
    xml: craftCib({ options: '<nvpair id="o2" name="stonith-enable" value="false"/>' }),
    code: 'option-unknown',
    severity: 'warning',
    crmVerify: 'accepts',
  },
];
