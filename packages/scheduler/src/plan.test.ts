import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseXml, readCib, type Cib } from '@paceline/cib';
import { schedule } from './schedule.js';
import { planTransition } from './plan.js';
import { crmSimulate } from './crm_simulate/run.js';
import { formatSummary } from './crm_simulate/summary.js';
import { renderGraphXml } from './crm_simulate/graph.js';
import type { PlannedAction, TransitionPlan } from './plan-types.js';
import type { ScheduleResult } from './types.js';

const examples = join(import.meta.dirname, '..', '..', '..', 'cib-examples');

function load(text: string): { cib: Cib; result: ScheduleResult; plan: TransitionPlan } {
  const cib = readCib(parseXml(text));
  const result = schedule(cib, { nowSec: 1_700_000_000 });
  return { cib, result, plan: planTransition(cib, result) };
}

function find(plan: TransitionPlan, key: string, node?: string): PlannedAction {
  const a = plan.actions.find((x) => x.key === key && (node === undefined || x.node === node));
  if (!a) throw new Error(`no ${key}${node !== undefined ? ` on ${node}` : ''} in ${plan.actions.map((x) => `${x.key}@${x.node ?? ''}`).join(', ')}`);
  return a;
}

/** A clone with notifications (two of three nodes) and a promotable clone; op_defaults timeout 45 s. */
const cloneCib = `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.7" epoch="5" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/><node id="3" uname="n3"/></nodes>
    <resources>
      <clone id="dummy-clone">
        <meta_attributes id="dc-m"><nvpair id="dc-m1" name="notify" value="true"/><nvpair id="dc-m2" name="clone-max" value="2"/></meta_attributes>
        <primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy">
          <instance_attributes id="d-i"><nvpair id="d-i1" name="state" value="/tmp/x"/></instance_attributes>
          <operations><op id="d-mon" name="monitor" interval="10s" timeout="30s" start-delay="2s"><instance_attributes id="d-mon-i"><nvpair id="d-mon-i1" name="OCF_CHECK_LEVEL" value="10"/></instance_attributes></op></operations>
        </primitive>
      </clone>
      <clone id="ms">
        <meta_attributes id="ms-m"><nvpair id="ms-m1" name="promotable" value="true"/></meta_attributes>
        <primitive id="stateful" class="ocf" provider="pacemaker" type="Stateful">
          <operations><op id="s-mon1" name="monitor" interval="10s" role="Promoted"/><op id="s-mon2" name="monitor" interval="11s" role="Unpromoted"/></operations>
        </primitive>
      </clone>
    </resources>
    <constraints/>
    <op_defaults><meta_attributes id="od"><nvpair id="od1" name="timeout" value="45s"/></meta_attributes></op_defaults>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>`;

describe('planTransition: floating-ip.xml initial placement', () => {
  const text = readFileSync(join(examples, 'floating-ip.xml'), 'utf8');
  const { result, plan } = load(text);

  it('probes every resource on every node, expecting "not running"', () => {
    for (const rsc of ['vip', 'fence-alpha', 'fence-beta']) {
      for (const node of ['alpha', 'beta']) {
        const p = find(plan, `${rsc}_monitor_0`, node);
        expect(p).toMatchObject({ kind: 'rsc', task: 'monitor', intervalMs: 0, expectedRc: 7, lrmId: rsc, blocked: false, inputs: [] });
        expect(p.meta).toMatchObject({ op_target_rc: '7', on_node: node, on_node_uuid: node === 'alpha' ? '1' : '2', timeout: '20000' });
      }
    }
  });

  it('starts the address on alpha with its parameters, after both probes, then monitors it', () => {
    const start = find(plan, 'vip_start_0');
    expect(start).toMatchObject({ kind: 'rsc', node: 'alpha', expectedRc: 0, timeoutMs: 20_000, agent: { class: 'ocf', provider: 'paceline', type: 'IPaddr' } });
    expect(start.params).toEqual({ ip: '192.0.2.10', cidr_netmask: '24' });
    expect(start.meta).toEqual({ name: 'start', timeout: '20000', on_node: 'alpha', on_node_uuid: '1' });
    const probes = plan.actions.filter((a) => a.key === 'vip_monitor_0').map((a) => a.id);
    expect([...start.inputs].sort()).toEqual([...probes].sort());
    const mon = find(plan, 'vip_monitor_5000');
    expect(mon).toMatchObject({ node: 'alpha', intervalMs: 5000, timeoutMs: 20_000, expectedRc: 0, inputs: [start.id] });
    expect(mon.meta).toEqual({ name: 'monitor', interval: '5000', timeout: '20000', on_node: 'alpha', on_node_uuid: '1' });
  });

  it('lists only graph actions, each input a planned action, in graph order (a monitor before its start)', () => {
    const ids = new Set(plan.actions.map((a) => a.id));
    for (const a of plan.actions) for (const i of a.inputs) expect(ids.has(i)).toBe(true);
    const pos = (key: string): number => plan.actions.findIndex((a) => a.key === key);
    expect(pos('vip_monitor_5000')).toBeLessThan(pos('vip_start_0'));
  });

  it('records the digests crm_simulate records for the same results', () => {
    const sim = crmSimulate(text, { simulate: true, saveOutput: true, quiet: true, currentTimeSec: 1_700_000_000 });
    const out = sim.outputCib ?? '';
    const digestOf = (id: string, node: string): string | undefined =>
      new RegExp(`<lrm_rsc_op id="${id}"[^>]*on_node="${node}"[^>]*op-digest="([0-9a-f]+)"`).exec(out)?.[1];
    expect(digestOf('vip_monitor_5000', 'alpha')).toMatch(/^[0-9a-f]{32}$/);
    expect(digestOf('vip_monitor_5000', 'alpha')).toBe(find(plan, 'vip_monitor_5000').opDigest);
    expect(digestOf('vip_last_0', 'alpha')).toBe(find(plan, 'vip_start_0').opDigest);
    expect(digestOf('fence-alpha_monitor_60000', 'beta')).toBe(find(plan, 'fence-alpha_monitor_60000').opDigest);
  });

  it("gives crm_simulate -G the planned attributes (Pacemaker 2.1.5's line for the monitor)", () => {
    const xml = renderGraphXml(result, readCib(parseXml(text)));
    expect(xml).toContain(
      '<attributes CRM_meta_interval="5000" CRM_meta_name="monitor" CRM_meta_on_node="alpha" CRM_meta_on_node_uuid="1" CRM_meta_timeout="20000" cidr_netmask="24" crm_feature_set="3.16.1" ip="192.0.2.10"/>',
    );
    expect(xml).toContain('<trigger>\n        <rsc_op id="');
  });

  it('describes both fence devices', () => {
    expect(plan.fenceDevices).toEqual([
      {
        id: 'fence-alpha',
        agent: { class: 'stonith', type: 'fence_ssh' },
        params: { ip: 'alpha', pcmk_host_list: 'alpha', pcmk_delay_base: '5s' },
        hostList: ['alpha'],
        delayBaseMs: 5000,
        priority: 0,
        runningOn: ['beta'],
        timeoutMs: 60_000,
      },
      {
        id: 'fence-beta',
        agent: { class: 'stonith', type: 'fence_ssh' },
        params: { ip: 'beta', pcmk_host_list: 'beta' },
        hostList: ['beta'],
        delayBaseMs: 0,
        priority: 0,
        runningOn: ['alpha'],
        timeoutMs: 60_000,
      },
    ]);
  });

  it('carries the Transition Summary lines', () => {
    expect(plan.summary).toEqual(formatSummary(result.transition.summary));
    expect(plan.summary.some((l) => /^Start\s+vip\s+\(\s*alpha\s*\)$/.test(l))).toBe(true);
  });

  it('blocks an action whose mandatory input is outside the graph; drops optional ones', () => {
    const start = result.transition.actions.find((a) => a.key === 'vip_start_0')!;
    const maxId = Math.max(...result.transition.actions.map((a) => a.id));
    const unrunnable = { ...start, id: maxId + 1, key: 'other_start_0', rsc: 'other', runnable: false, inputs: [] };
    const optional = { ...start, id: maxId + 2, key: 'opt_start_0', rsc: 'opt', optional: true, inputs: [] };
    const changed: ScheduleResult = {
      ...result,
      transition: {
        ...result.transition,
        actions: [
          ...result.transition.actions.map((a) => (a.id === start.id ? { ...a, inputs: [...a.inputs, optional.id] } : a)),
          optional,
        ],
      },
    };
    const p1 = planTransition(readCib(parseXml(text)), changed);
    expect(find(p1, 'vip_start_0').blocked).toBe(false);
    expect(find(p1, 'vip_start_0').inputs).not.toContain(optional.id);
    const blocked: ScheduleResult = {
      ...result,
      transition: {
        ...result.transition,
        actions: [...result.transition.actions.map((a) => (a.id === start.id ? { ...a, inputs: [...a.inputs, unrunnable.id] } : a)), unrunnable],
      },
    };
    const p2 = planTransition(readCib(parseXml(text)), blocked);
    expect(find(p2, 'vip_start_0').blocked).toBe(true);
    expect(p2.actions.some((a) => a.key === 'other_start_0')).toBe(false);
  });
});

describe('planTransition: clones (meta as Pacemaker 2.1.5 puts them in the graph)', () => {
  const { plan } = load(cloneCib);

  it('passes the clone meta and the op meta to an instance monitor', () => {
    const mon = plan.actions.find((a) => a.task === 'monitor' && a.intervalMs === 10_000 && a.rsc?.startsWith('dummy:'))!;
    expect(mon).toMatchObject({ lrmId: 'dummy', timeoutMs: 30_000, startDelayMs: 2000, expectedRc: 0 });
    expect(mon.params).toEqual({ OCF_CHECK_LEVEL: '10', state: '/tmp/x' });
    expect(mon.meta).toMatchObject({
      clone: mon.rsc!.slice('dummy:'.length),
      clone_max: '2',
      clone_node_max: '1',
      globally_unique: 'false',
      interval: '10000',
      name: 'monitor',
      notify: 'true',
      start_delay: '2000',
      timeout: '30000',
    });
  });

  it("gives a probe the minimum-interval monitor's timeout, else op_defaults", () => {
    const probe = plan.actions.find((a) => a.key.startsWith('dummy:') && a.key.endsWith('_monitor_0'))!;
    expect(probe.timeoutMs).toBe(30_000);
    expect(probe.expectedRc).toBe(7);
    const sprobe = plan.actions.find((a) => a.key.startsWith('stateful:') && a.key.endsWith('_monitor_0'))!;
    expect(sprobe.timeoutMs).toBe(45_000);
  });

  it('passes the promotable limits (new and legacy names) and the op role', () => {
    const mon = plan.actions.find((a) => a.rsc?.startsWith('stateful:') && a.intervalMs === 11_000)!;
    expect(mon.meta).toMatchObject({
      clone_max: '3',
      master_max: '1',
      master_node_max: '1',
      promoted_max: '1',
      promoted_node_max: '1',
      notify: 'false',
      role: 'Unpromoted',
      timeout: '45000',
    });
    expect(mon.expectedRc).toBe(0);
  });

  it('gives notifications and starts the notify lists Pacemaker computes', () => {
    const notify = plan.actions.filter((a) => a.kind === 'rsc' && a.task === 'notify');
    expect(notify.map((a) => a.key).sort()).toEqual(['dummy:0_post_notify_start_0', 'dummy:1_post_notify_start_0']);
    const lists = {
      notify_active_resource: ' ',
      notify_active_uname: ' ',
      notify_all_uname: 'n1 n2 n3',
      notify_available_uname: 'n1 n2 n3',
      notify_demote_resource: ' ',
      notify_demote_uname: ' ',
      notify_inactive_resource: 'dummy:0 dummy:1',
      notify_master_resource: ' ',
      notify_master_uname: ' ',
      notify_promote_resource: ' ',
      notify_promote_uname: ' ',
      notify_promoted_resource: ' ',
      notify_promoted_uname: ' ',
      notify_slave_resource: ' ',
      notify_slave_uname: ' ',
      notify_start_resource: 'dummy:0 dummy:1',
      notify_start_uname: 'n1 n2',
      notify_stop_resource: ' ',
      notify_stop_uname: ' ',
      notify_unpromoted_resource: ' ',
      notify_unpromoted_uname: ' ',
    };
    for (const a of notify) {
      expect(a.meta).toMatchObject({ ...lists, notify_type: 'post', notify_operation: 'start', notify_key_type: 'post', notify_key_operation: 'running', timeout: '45000' });
      expect(a.lrmId).toBe('dummy');
    }
    const start = find(plan, 'dummy:0_start_0');
    expect(start.meta).toMatchObject(lists);
    expect(start.meta?.notify_type).toBeUndefined();
    // pseudo-actions carry no agent details
    const pseudo = find(plan, 'dummy-clone_running_0');
    expect(pseudo).toMatchObject({ kind: 'pseudo', expectedRc: 0 });
    expect(pseudo.agent).toBeUndefined();
  });
});

describe('planTransition: fencing', () => {
  it('plans the fencing of an unclean node with the stonith-timeout and a pcmk_host_map device', () => {
    const text = `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.7" epoch="5" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="true"/><nvpair id="o2" name="stonith-timeout" value="90s"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/><node id="3" uname="n3"/></nodes>
    <resources>
      <primitive id="fence-all" class="stonith" type="fence_lab">
        <instance_attributes id="f-i">
          <nvpair id="f-i1" name="pcmk_host_map" value="n1:1;n2:2;n3:3"/>
          <nvpair id="f-i2" name="pcmk_reboot_timeout" value="2min"/>
          <nvpair id="f-i3" name="pcmk_delay_base" value="n1:2s;n2:0s"/>
        </instance_attributes>
        <meta_attributes id="f-m"><nvpair id="f-m1" name="priority" value="10"/></meta_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="3" uname="n3" in_ccm="false" crmd="offline" join="down" expected="member"/>
  </status>
</cib>`;
    const { plan } = load(text);
    const fence = plan.actions.find((a) => a.kind === 'fence');
    expect(fence).toMatchObject({ task: 'stonith', node: 'n3', fenceAction: 'reboot', timeoutMs: 90_000, expectedRc: 0 });
    expect(plan.summary.some((l) => l.startsWith('Fence (reboot) n3'))).toBe(true);
    expect(plan.fenceDevices).toHaveLength(1);
    expect(plan.fenceDevices[0]).toMatchObject({
      id: 'fence-all',
      hostList: ['n1', 'n2', 'n3'],
      delayBaseMs: 0,
      delayBaseByHostMs: { n1: 2000, n2: 0 },
      priority: 10,
      timeoutMs: 120_000,
    });
  });
});
