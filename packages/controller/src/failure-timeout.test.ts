import { describe, expect, it } from 'vitest';
import { parseXml } from '@paceline/cib';
import { failureTimeoutEntries, nextFailureExpirySec } from './core.js';
import { checkParams } from './api/protocol.js';

function cib(opts: { meta?: string; defaults?: string; attrs: string }): ReturnType<typeof parseXml>['root'] {
  return parseXml(`<cib epoch="1" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.9"><configuration><crm_config/>
  <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
  <resources>
    <primitive id="web" class="ocf" provider="pacemaker" type="Dummy">${opts.meta ?? ''}</primitive>
    <group id="g"><primitive id="db" class="ocf" provider="pacemaker" type="Dummy"/></group>
  </resources><constraints/>${opts.defaults ?? ''}</configuration>
  <status><node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member">
    <transient_attributes id="1"><instance_attributes id="status-1">${opts.attrs}</instance_attributes></transient_attributes>
  </node_state></status></cib>`).root;
}

const failed = (rsc: string, last: number, count = '1'): string =>
  `<nvpair id="f-${rsc}" name="fail-count-${rsc}#monitor_10000" value="${count}"/><nvpair id="l-${rsc}" name="last-failure-${rsc}#monitor_10000" value="${last}"/>`;

describe('failure-timeout recheck (recheck-by)', () => {
  it('is the first second at which the scheduler counts the failure as expired', () => {
    const c = cib({ meta: '<meta_attributes id="m"><nvpair id="m1" name="failure-timeout" value="20s"/></meta_attributes>', attrs: failed('web', 1000) });
    expect(nextFailureExpirySec(c, 1005)).toBe(1021);
    expect(nextFailureExpirySec(c, 1020)).toBe(1021);
    // Expired: nothing left to wait for.
    expect(nextFailureExpirySec(c, 1021)).toBeUndefined();
    expect(failureTimeoutEntries(c, 1021)).toEqual([{ node: 'node1', rsc: 'web', lastSec: 1000, timeoutSec: 20, attrs: ['fail-count-web#monitor_10000', 'last-failure-web#monitor_10000'] }]);
  });

  it('takes the earliest of several, ISO durations, rsc_defaults and a group\'s meta', () => {
    const c = cib({
      meta: '<meta_attributes id="m"><nvpair id="m1" name="failure-timeout" value="PT1M"/></meta_attributes>',
      defaults: '<rsc_defaults><meta_attributes id="d"><nvpair id="d1" name="failure-timeout" value="10"/></meta_attributes></rsc_defaults>',
      attrs: failed('web', 1000) + failed('db', 1040),
    });
    expect(nextFailureExpirySec(c, 1041)).toBe(1051);
    expect(nextFailureExpirySec(c, 1051)).toBe(1061);
  });

  it('has nothing to wait for without failure-timeout, without failures or without last-failure', () => {
    expect(nextFailureExpirySec(cib({ attrs: failed('web', 1000) }), 1001)).toBeUndefined();
    expect(nextFailureExpirySec(cib({ meta: '<meta_attributes id="m"><nvpair id="m1" name="failure-timeout" value="20s"/></meta_attributes>', attrs: '' }), 1001)).toBeUndefined();
    expect(nextFailureExpirySec(cib({ meta: '<meta_attributes id="m"><nvpair id="m1" name="failure-timeout" value="20s"/></meta_attributes>', attrs: '<nvpair id="f" name="fail-count-web#monitor_10000" value="1"/>' }), 1001)).toBeUndefined();
  });
});

describe('resource.refresh params', () => {
  it('takes an optional resource (or rsc) and node, nothing else', () => {
    expect(checkParams('resource.refresh', {})).toBeUndefined();
    expect(checkParams('resource.refresh', { resource: 'web', node: 'node1' })).toBeUndefined();
    expect(checkParams('resource.refresh', { rsc: 'web' })).toBeUndefined();
    expect(checkParams('resource.refresh', { resource: 3 })).toMatch(/must be a string/);
    expect(checkParams('resource.refresh', { force: true })).toMatch(/unknown param force/);
  });
});
