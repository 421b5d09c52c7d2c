import { describe, expect, it } from 'vitest';
import { parseCib } from '@paceline/cib';
import type { SummaryLine } from '../types.js';
import { compareNodeNames, renderClusterStatus } from './status.js';
import { formatSummary } from './summary.js';
import { TextOutput } from './text.js';
import { clusterState, node, rsc } from './test-fixtures.js';

function summary(over: Partial<SummaryLine>): SummaryLine {
  return {
    change: 'Start',
    rsc: undefined,
    from: undefined,
    to: undefined,
    roleFrom: undefined,
    roleTo: undefined,
    reason: undefined,
    blocked: false,
    fenceAction: undefined,
    fenceResource: undefined,
    details: '',
    ...over,
  };
}

describe('Transition Summary columns', () => {
  // Pacemaker logs the lines before printing them with the same static widths, so every printed
  // line already uses the final widths (seen on crm_simulate -R of cib-examples/floating-ip.xml).
  it('uses the widths of the whole summary on every line', () => {
    const lines = formatSummary([
      summary({ rsc: 'vip', to: 'alpha', details: 'alpha' }),
      summary({ rsc: 'fence-alpha', to: 'beta', details: 'beta' }),
      summary({ rsc: 'fence-beta', to: 'alpha', details: 'alpha' }),
    ]);
    expect(lines).toEqual([
      'Start      vip             ( alpha )',
      'Start      fence-alpha     (  beta )',
      'Start      fence-beta      ( alpha )',
    ]);
  });

  // Reasons follow two spaces; an unrunnable action says "blocked" with or without a reason.
  it('prints reasons, blocked actions and fencing as Pacemaker does', () => {
    const lines = formatSummary([
      summary({ change: 'Fence', to: 'node1', fenceAction: 'reboot', reason: 'peer is no longer part of the cluster', details: 'node1' }),
      summary({ change: 'Stop', rsc: 'rsc1', from: 'node1', details: 'node1', reason: 'node availability' }),
      summary({ change: 'Start', rsc: 'rsc2', to: 'node2', details: 'node2', reason: 'no quorum', blocked: true }),
      summary({ change: 'Move', rsc: 'rsc3', from: 'node1', to: 'node2', details: 'node1 -> node2', blocked: true }),
    ]);
    expect(lines).toEqual([
      "Fence (reboot) node1 'peer is no longer part of the cluster'",
      'Stop       rsc1    (          node1 )  due to node availability',
      'Start      rsc2    (          node2 )  due to no quorum (blocked)',
      'Move       rsc3    ( node1 -> node2 )  blocked',
    ]);
  });
});

describe('node name order', () => {
  // Pacemaker sorts node lists with numbers compared numerically and letters case-insensitively.
  it('sorts node10 after node9 and ignores case', () => {
    const names = ['node10', 'Node2', 'node9', 'c001n08', 'c001n01', 'node1'];
    expect([...names].sort(compareNodeNames)).toEqual(['c001n01', 'c001n08', 'node1', 'Node2', 'node9', 'node10']);
  });
});

function render(state: ReturnType<typeof clusterState>, showPending = true): string {
  const out = new TextOutput(true);
  renderClusterStatus(out, 'Current cluster status', state, undefined, { showPending });
  return out.text();
}

describe('cluster status', () => {
  // The common shapes of the Node List: grouped online/offline names, special states one per line.
  it('lists nodes by state, special states individually', () => {
    const state = clusterState(
      [
        node('n3', { online: false }),
        node('n1'),
        node('n2', { standby: true }),
        node('n4', { unclean: true, online: false }),
        node('n5'),
        node('r1', { kind: 'remote' }),
        node('g1', { kind: 'guest' }),
      ],
      [rsc('ip', { running: { n2: 'Started' } })],
    );
    expect(render(state)).toBe(
      [
        'Current cluster status:',
        '  * Node List:',
        '    * Node n2: standby (with active resources)',
        '    * Node n4: UNCLEAN (offline)',
        '    * Online: [ n1 n5 ]',
        '    * OFFLINE: [ n3 ]',
        '    * RemoteOnline: [ r1 ]',
        '    * GuestOnline: [ g1 ]',
        '',
        '  * Full List of Resources:',
        '    * ip\t(ocf:heartbeat:Dummy):\t Started n2',
        '',
      ].join('\n'),
    );
  });

  // Primitive flags: failed, orphaned, disabled, unmanaged, blocked, multiply active.
  it('prints primitive states and flags', () => {
    const state = clusterState(
      [node('n1'), node('n2')],
      [
        rsc('a', { running: { n1: 'Started' }, failed: true }),
        rsc('b', { meta: new Map([['target-role', 'Stopped']]) }),
        rsc('c', { running: { n1: 'Started' }, managed: false }),
        rsc('d', { running: { n1: 'Started', n2: 'Started' }, blocked: true }),
        rsc('e', { running: { n2: 'Started' }, orphan: true }),
        rsc('f', { orphan: true }),
      ],
    );
    const text = render(state);
    expect(text).toContain('    * a\t(ocf:heartbeat:Dummy):\t FAILED n1\n');
    expect(text).toContain('    * b\t(ocf:heartbeat:Dummy):\t Stopped (disabled)\n');
    expect(text).toContain('    * c\t(ocf:heartbeat:Dummy):\t Started n1 (unmanaged)\n');
    expect(text).toContain('    * d\t(ocf:heartbeat:Dummy):\t Started (blocked) [ n1 n2 ]\n');
    expect(text).toContain('    * e\t(ocf:heartbeat:Dummy):\t ORPHANED Started n2\n');
    expect(text).not.toContain('* f\t');
  });

  // Anonymous clones summarise instances by node; promotable ones split Promoted and Unpromoted.
  it('summarises anonymous and promotable clones', () => {
    const state = clusterState(
      [node('n1'), node('n2'), node('n3')],
      [
        rsc('c', { variant: 'clone', children: ['d:0', 'd:1', 'd:2'], agent: undefined }),
        rsc('d:0', { parent: 'c', running: { n2: 'Started' } }),
        rsc('d:1', { parent: 'c', running: { n1: 'Started' } }),
        rsc('d:2', { parent: 'c' }),
        rsc('ms', { variant: 'clone', children: ['s:0', 's:1'], promotable: true, agent: undefined }),
        rsc('s:0', { parent: 'ms', promotable: true, running: { n1: 'Promoted' } }),
        rsc('s:1', { parent: 'ms', promotable: true, running: { n2: 'Unpromoted' }, failed: true }),
      ],
    );
    expect(render(state)).toContain(
      [
        '    * Clone Set: c [d]:',
        '      * Started: [ n1 n2 ]',
        '      * Stopped: [ n3 ]',
        '    * Clone Set: ms [s] (promotable):',
        '      * s\t(ocf:heartbeat:Dummy):\t FAILED n2',
        '      * Promoted: [ n1 ]',
        '      * Stopped: [ n3 ]',
      ].join('\n'),
    );
  });

  // Unique clone instances are listed one by one under their instance names.
  it('lists unique clone instances and groups', () => {
    const state = clusterState(
      [node('n1')],
      [
        rsc('uc', { variant: 'clone', children: ['u:0', 'u:1'], unique: true }),
        rsc('u:0', { parent: 'uc', unique: true, running: { n1: 'Started' } }),
        rsc('u:1', { parent: 'uc', unique: true }),
        rsc('g', { variant: 'group', children: ['m1', 'm2'], managed: false }),
        rsc('m1', { parent: 'g', running: { n1: 'Started' }, managed: false }),
        rsc('m2', { parent: 'g', managed: false }),
      ],
    );
    expect(render(state)).toContain(
      [
        '    * Clone Set: uc [u] (unique):',
        '      * u:0\t(ocf:heartbeat:Dummy):\t Started n1',
        '      * u:1\t(ocf:heartbeat:Dummy):\t Stopped',
        '    * Resource Group: g (unmanaged):',
        '      * m1\t(ocf:heartbeat:Dummy):\t Started n1 (unmanaged)',
        '      * m2\t(ocf:heartbeat:Dummy):\t Stopped (unmanaged)',
      ].join('\n'),
    );
  });
});

describe('bundles', () => {
  // Bundle replicas print one line each, named after the replica's connection and address, with
  // the bundled resource's state on the container's node (crm_simulate's text for bundles).
  it('prints one line per replica', () => {
    const cib = parseCib(`<cib><configuration><resources>
      <bundle id="web"><docker image="pcmk:http" replicas="3"/>
        <network ip-range-start="192.168.122.131" control-port="3121"/>
        <primitive id="httpd" class="ocf" provider="heartbeat" type="apache"/></bundle>
    </resources></configuration></cib>`);
    const state = clusterState(
      [node('n1'), node('n2'), node('web-0', { kind: 'guest' })],
      [
        rsc('web', { variant: 'bundle', children: [], agent: undefined }),
        rsc('web-docker-0', { agent: 'ocf:heartbeat:docker', running: { n1: 'Started' } }),
        rsc('httpd:0', { agent: 'ocf:heartbeat:apache', running: { 'web-0': 'Started' } }),
        rsc('web-docker-1', { agent: 'ocf:heartbeat:docker', running: { n2: 'Started' } }),
        rsc('httpd:1', { agent: 'ocf:heartbeat:apache', failed: true, running: { 'web-1': 'Started' } }),
      ],
    );
    const out = new TextOutput(true);
    renderClusterStatus(out, 'Current cluster status', state, cib, { showPending: true });
    expect(out.text()).toContain(
      [
        '    * Container bundle set: web [pcmk:http]:',
        '      * web-0 (192.168.122.131)\t(ocf:heartbeat:apache):\t Started n1',
        '      * web-1 (192.168.122.132)\t(ocf:heartbeat:apache):\t FAILED n2',
        '      * web-2 (192.168.122.133)\t(ocf:heartbeat:apache):\t Stopped',
      ].join('\n'),
    );
  });
});
