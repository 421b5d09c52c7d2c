import { parseCib } from '@paceline/cib';
import { describe, expect, it } from 'vitest';
import type { Action } from './types.js';
import { schedule } from './schedule.js';

/** A small CIB: two nodes, fencing off, the given resources, constraints and status. */
function cib(opts: { resources: string; constraints?: string; status?: string; props?: string }): string {
  const nodes = ['node1', 'node2'];
  const nodeXml = nodes.map((n) => `<node id="${n}" uname="${n}"/>`).join('');
  const states =
    opts.status ?? nodes.map((n) => `<node_state id="${n}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member"/>`).join('');
  return `<cib have-quorum="1" epoch="1" num_updates="0" admin_epoch="0"><configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/>${opts.props ?? ''}</cluster_property_set></crm_config>
    <nodes>${nodeXml}</nodes><resources>${opts.resources}</resources><constraints>${opts.constraints ?? ''}</constraints>
  </configuration><status>${states}</status></cib>`;
}

const monitorOp = '<operations><op id="m10" name="monitor" interval="10s"/></operations>';
const prim = (id: string, ops = monitorOp): string => `<primitive id="${id}" class="ocf" provider="heartbeat" type="Dummy">${ops}</primitive>`;

const started = (rsc: string, monitor: boolean): string =>
  `<lrm_resource id="${rsc}" class="ocf" provider="heartbeat" type="Dummy">` +
  `<lrm_rsc_op id="${rsc}_last_0" operation_key="${rsc}_start_0" operation="start" transition-key="1:1:0:x" call-id="2" rc-code="0" op-status="0" interval="0" op-digest="f2317cad3d54cec5d7d7aa7d0bf35cf8"/>` +
  (monitor ? `<lrm_rsc_op id="${rsc}_monitor_10000" operation_key="${rsc}_monitor_10000" operation="monitor" transition-key="2:1:0:x" call-id="3" rc-code="0" op-status="0" interval="10000"/>` : '') +
  '</lrm_resource>';

const probed = (rsc: string): string =>
  `<lrm_resource id="${rsc}" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="${rsc}_last_0" operation_key="${rsc}_monitor_0" operation="monitor" transition-key="1:1:7:x" call-id="1" rc-code="7" op-status="0" interval="0"/></lrm_resource>`;

const onNode = (n: string, lrm: string): string =>
  `<node_state id="${n}" uname="${n}" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="${n}"><lrm_resources>${lrm}</lrm_resources></lrm></node_state>`;

function actions(xml: string): Action[] {
  return [...schedule(parseCib(xml)).transition.actions];
}

/** `key@node` of each action, with the same for its inputs. */
function edges(list: readonly Action[]): Map<string, string[]> {
  const name = (a: Action): string => `${a.key}@${a.node ?? ''}`;
  const byId = new Map(list.map((a) => [a.id, a]));
  return new Map(list.map((a) => [name(a), a.inputs.map((i) => name(byId.get(i) as Action)).sort()]));
}

describe('graph actions', () => {
  // A new resource is probed on every node first, then started, then its recurring monitor runs.
  it('probes, starts and monitors a new primitive in order', () => {
    const e = edges(actions(cib({ resources: prim('rsc1') })));
    expect([...e.keys()]).toEqual(['rsc1_monitor_0@node1', 'rsc1_monitor_0@node2', 'rsc1_start_0@node1', 'rsc1_monitor_10000@node1']);
    expect(e.get('rsc1_start_0@node1')).toEqual(['rsc1_monitor_0@node1', 'rsc1_monitor_0@node2']);
    expect(e.get('rsc1_monitor_10000@node1')).toEqual(['rsc1_start_0@node1']);
  });

  // A resource already running with its monitor active, and known stopped elsewhere, needs nothing.
  it('schedules nothing for a settled resource', () => {
    const xml = cib({ resources: prim('rsc1'), status: onNode('node1', started('rsc1', true)) + onNode('node2', probed('rsc1')) });
    expect(actions(xml)).toEqual([]);
  });

  // A running resource whose configured monitor is not active gets the monitor, without a restart.
  it('adds a missing recurring monitor', () => {
    const xml = cib({ resources: prim('rsc1'), status: onNode('node1', started('rsc1', false)) + onNode('node2', probed('rsc1')) });
    expect([...edges(actions(xml)).keys()]).toEqual(['rsc1_monitor_10000@node1']);
  });

  // A recurring monitor removed from the configuration is cancelled where it still runs.
  it('cancels a recurring monitor that is no longer configured', () => {
    const xml = cib({ resources: prim('rsc1', ''), status: onNode('node1', started('rsc1', true)) + onNode('node2', probed('rsc1')) });
    const list = actions(xml);
    expect(list.map((a) => [a.task, a.intervalMs, a.node])).toEqual([['cancel', 10000, 'node1']]);
  });

  // A group's members start in order between the group's start and running pseudo-actions.
  it('wraps group members in start/running pseudo-actions', () => {
    const group = `<group id="g">${prim('a', '')}${prim('b', '')}</group>`;
    const status = onNode('node1', probed('a') + probed('b')) + onNode('node2', probed('a') + probed('b'));
    const e = edges(actions(cib({ resources: group, status })));
    expect(e.get('a_start_0@node1')).toEqual(['g_start_0@']);
    expect(e.get('b_start_0@node1')).toEqual(['a_start_0@node1', 'g_start_0@']);
    expect(e.get('g_running_0@')).toEqual(['a_start_0@node1', 'b_start_0@node1', 'g_start_0@']);
  });

  // Moving a resource stops it before starting it elsewhere; an order makes the dependent follow.
  it('orders stop before start and follows ordering constraints', () => {
    const status = onNode('node1', started('a', false) + probed('b')) + onNode('node2', probed('a') + probed('b'));
    const xml = cib({
      resources: prim('a', '') + prim('b', ''),
      constraints: '<rsc_location id="l" rsc="a" node="node2" score="INFINITY"/><rsc_order id="o" first="a" then="b"/>',
      status,
    });
    const e = edges(actions(xml));
    expect(e.get('a_start_0@node2')).toEqual(['a_stop_0@node1']);
    expect(e.get('b_start_0@node1')).toEqual(['a_start_0@node2']);
  });
});
