/**
 * The drill's timeline builder, invariants and renderings on canned node logs (lines as the
 * daemon writes them, from a real three-node run where node1 lost power), and the watcher's
 * final-recovery analysis on canned samples. No lab, no root.
 */
import { describe, expect, it } from 'vitest';
import {
  buildTimeline,
  drillHtml,
  drillMarkdown,
  fencingBeforeRecovery,
  finalRecovery,
  formatDrillText,
  parseActionKey,
  parseNodeLog,
  seededRandom,
  seriesSummary,
  settledInvariants,
  timelineSvg,
  type DrillReport,
  type DrillRun,
  type NodeStatus,
  type Sample,
} from '@paceline/lab';

const T0 = Date.parse('2026-11-21T23:54:55.560Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const line = (node: string, ms: number, event: string, data: Record<string, unknown>): string => JSON.stringify({ ts: at(ms), level: 'info', node, event, ...data });

const NODE2 = [
  line('node2', -500, 'action-result', { host: 'node1', rsc: 'vip', task: 'start', interval: 0, rc: 0 }),
  line('node2', 321, 'late-heartbeat', { nodeId: 1, silentMs: 306 }),
  line('node2', 624, 'peer-lost', { nodeId: 1, silentMs: 608 }),
  line('node2', 679, 'view', { view: '2@2:1795305294337', members: [2, 3], quorate: true, joined: [], left: [1] }),
  line('node2', 687, 'membership', { members: ['node2', 'node3'], quorate: true, view: '2@2:1795305294337' }),
  line('node2', 708, 'dc', { dc: 'node2' }),
  line('node2', 739, 'transition-start', { transition: 1, actions: 7 }),
  line('node2', 739, 'fence-request', { target: 'node1', action: 'reboot', device: 'fence-lab', delayMs: 0, attempt: 1 }),
  line('node2', 1428, 'fence-ok', { target: 'node1', action: 'reboot', by: 'node2', device: 'fence-lab' }),
  line('node2', 1452, 'action-dispatch', { host: 'node2', transition: 2, action: 'vip_start_0' }),
  line('node2', 1452, 'action-dispatch', { host: 'node2', transition: 2, action: 'dummy_start_0' }),
  'node2: a line that is no JSON',
  line('node2', 1571, 'action-result', { host: 'node2', rsc: 'vip', task: 'start', interval: 0, rc: 0 }),
  line('node2', 1580, 'action-dispatch', { host: 'node2', transition: 2, action: 'vip_monitor_2000' }),
  line('node2', 1600, 'action-result', { host: 'node2', rsc: 'dummy', task: 'start', interval: 0, rc: 0 }),
  line('node2', 9000, 'action-result', { host: 'node1', rsc: 'fence-lab', task: 'start', interval: 0, rc: 0 }),
].join('\n');

const NODE3 = [
  line('node3', 610, 'peer-lost', { nodeId: 1, silentMs: 601 }),
  line('node3', 690, 'membership', { members: ['node2', 'node3'], quorate: true, view: '2@2:1795305294337' }),
  line('node3', 1430, 'fence-ok', { target: 'node1', action: 'reboot', by: 'node2', device: 'fence-lab' }),
  line('node3', 1572, 'action-result', { host: 'node2', rsc: 'vip', task: 'start', interval: 0, rc: 0 }),
].join('\n');

const ids = new Map([
  [1, 'node1'],
  [2, 'node2'],
  [3, 'node3'],
]);

function timeline() {
  const logs = new Map([
    ['node2', parseNodeLog(NODE2, 'node2')],
    ['node3', parseNodeLog(NODE3, 'node3')],
  ]);
  return buildTimeline({ faultAt: T0, fault: 'power off node1', lost: ['node1'], ids, logs, answeredAt: T0 + 1540, answeredBy: 'node2', until: T0 + 5000 });
}

describe('drill timeline', () => {
  it('parses JSON log lines (ISO or epoch-ms ts) and skips the rest', () => {
    const evs = parseNodeLog(`${NODE2}\n{"ts":${T0},"event":"dc","dc":"node3"}\n{"event":"no-ts"}\n`, 'node2');
    expect(evs).toHaveLength(16);
    expect(evs.at(-1)).toMatchObject({ t: T0, event: 'dc', node: 'node2' });
    expect(evs[2]).toMatchObject({ t: T0 + 624, event: 'peer-lost', data: { nodeId: 1 } });
    expect(parseActionKey('fence-lab_monitor_60000')).toEqual({ rsc: 'fence-lab', task: 'monitor', interval: 60000 });
    expect(parseActionKey('nonsense')).toBeUndefined();
  });

  it('orders the milestones with offsets from the fault, each action once, within the window', () => {
    const tl = timeline();
    expect(tl.map((e) => [e.offsetMs, e.kind, e.node ?? '', e.rsc ?? ''])).toEqual([
      [0, 'fault', 'node1', ''],
      [610, 'detection', 'node3', ''],
      [687, 'view', 'node2', ''],
      [708, 'dc', 'node2', ''],
      [739, 'fence-request', 'node2', ''],
      [1428, 'fence', 'node2', ''],
      [1452, 'start', 'node2', 'vip'],
      [1452, 'start', 'node2', 'dummy'],
      [1540, 'answering', 'node2', ''],
      [1571, 'started', 'node2', 'vip'],
      [1600, 'started', 'node2', 'dummy'],
    ]);
    expect(tl.find((e) => e.kind === 'detection')!.detail).toContain('peer node1 lost');
    expect(tl.find((e) => e.kind === 'dc')!.detail).toBe('node2: DC is node2');
  });

  it('leaves out milestones no log shows', () => {
    const tl = buildTimeline({ faultAt: T0, fault: 'power off node1', lost: ['node1'], ids, logs: new Map([['node3', parseNodeLog(NODE3, 'node3').slice(0, 2)]]), until: T0 + 5000 });
    expect(tl.map((e) => e.kind)).toEqual(['fault', 'detection', 'view']);
  });

  it('checks fencing before recovery in the DC log, both ways', () => {
    const dcLog = parseNodeLog(NODE2, 'node2');
    expect(fencingBeforeRecovery(dcLog, 'node1', 'vip', 'node2', T0)).toBeUndefined();
    const early = dcLog.filter((e) => e.event !== 'fence-ok');
    expect(fencingBeforeRecovery(early, 'node1', 'vip', 'node2', T0)).toMatch(/no fence-ok for node1/);
    const swapped = [...dcLog.filter((e) => e.event !== 'fence-ok'), ...dcLog.filter((e) => e.event === 'fence-ok')];
    expect(fencingBeforeRecovery(swapped, 'node1', 'vip', 'node2', T0)).toMatch(/before node1 was fenced/);
    expect(fencingBeforeRecovery(dcLog, 'node1', 'vip', 'node3', T0)).toMatch(/no start of vip on node3/);
  });

  it('checks the settled cluster: same CIB version, nothing stopped', () => {
    const st = (node: string, cibVersion: string, vipNodes: string[]): NodeStatus => ({
      node,
      dc: 'node2',
      quorate: true,
      nodes: ['node1', 'node2', 'node3'].map((name) => ({ name, online: true })),
      transition: { state: 'idle', id: 3 },
      cibVersion,
      resources: [{ id: 'vip', role: vipNodes.length ? 'Started' : 'Stopped', nodes: vipNodes, failed: false }],
    });
    const names = ['node1', 'node2', 'node3'];
    const good = settledInvariants([st('node1', '0.6.3', ['node2']), st('node2', '0.6.3', ['node2']), st('node3', '0.6.3', ['node2'])], names);
    expect(good.map((i) => i.status)).toEqual(['ok', 'ok']);
    const bad = settledInvariants([st('node1', '0.6.3', ['node2']), st('node2', '0.6.4', []), st('node3', '0.6.3', ['node2'])], names);
    expect(bad.map((i) => i.status)).toEqual(['violated', 'violated']);
    expect(bad[1]!.detail).toContain('vip stopped (as node2 sees it)');
    expect(settledInvariants([], names).every((i) => i.status === 'violated')).toBe(true);
  });

  it('summarises a series and seeds its pauses deterministically', () => {
    expect(seriesSummary([900, 700, 1300, 800])).toEqual({ count: 4, min: 700, median: 850, max: 1300 });
    expect(seriesSummary([])).toEqual({ count: 0 });
    const a = seededRandom(7);
    const b = seededRandom(7);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(new Set(xs).size).toBe(3);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('final recovery from the watcher', () => {
  const icmp = (t: number, up: boolean): Sample => ({ t: T0 + t, probe: 'icmp', up });
  const arp = (t: number, macs: string[]): Sample => ({ t: T0 + t, probe: 'arp', up: macs.length > 0, macs });

  it('measures to the first reply after the last miss and lists an answer in the middle of the outage', () => {
    const samples = [icmp(-10, true), arp(-5, ['aa']), icmp(20, false), arp(25, []), arp(800, ['aa']), icmp(805, true), arp(830, []), icmp(850, false), icmp(1400, false), arp(1510, ['bb']), icmp(1515, true), icmp(1525, true)];
    const r = finalRecovery(samples, T0);
    expect(r.failoverMs).toBe(1515);
    expect(r.answeredAt).toBe(T0 + 1515);
    expect(r.early).toEqual([{ offsetMs: 800, macs: ['aa'] }]);
  });

  it('is 0 without a miss and undefined while still down', () => {
    expect(finalRecovery([icmp(10, true), icmp(20, true)], T0).failoverMs).toBe(0);
    expect(finalRecovery([icmp(10, false), icmp(20, false)], T0).failoverMs).toBeUndefined();
    expect(finalRecovery([icmp(10, false), arp(995, ['bb']), icmp(1000, false), icmp(1010, true)], T0).early).toEqual([]);
  });
});

describe('drill renderings', () => {
  const run: DrillRun = {
    run: 1,
    passed: true,
    failover_ms: 1540,
    fault: 'power off node1',
    from: 'node1',
    to: 'node2',
    reasons: [],
    invariants: [{ name: 'single-mac', status: 'ok' }],
    timeline: timeline(),
  };
  const report: DrillReport = { scenario: 'vip-failover', seed: 3, startedAt: '2026-11-22T00:00:00.000Z', requested: 3, stoppedEarly: 'the cluster did not settle after run 2', runs: [run, { ...run, run: 2, passed: false, failover_ms: -1, reasons: ['10.77.0.100 did not answer <again> & "never"'] }], summary: { count: 1, passed: 1, min: 1540, median: 1540, max: 1540 } };

  it('prints a table per run and the series figures', () => {
    const text = formatDrillText(report);
    expect(text).toMatch(/run 1: PASSED {2}power off node1 -> node2 {2}failover 1540 ms/);
    expect(text).toMatch(/\n +1428 {2}fence +node2 +node2: node1 fenced/);
    expect(text).toContain('1/2 passed; failover min 1540 ms, median 1540 ms, max 1540 ms');
    expect(text).toMatch(/^drill vip-failover \(seed 3\), 2 of 3 run\(s\)\nseries stopped early: the cluster did not settle after run 2\n/);
  });

  it('draws an SVG with one marker per timeline entry, escaping text', () => {
    const svg = timelineSvg(report.runs[1]!, 'run <2> & co');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(run.timeline.length);
    expect(svg).toContain('run &lt;2&gt; &amp; co');
    expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;)/);
  });

  it('writes Markdown and HTML series reports', () => {
    const md = drillMarkdown(report, ['svg/vip-failover-run1.svg']);
    expect(md).toContain('| median | 1540 |');
    expect(md).toContain('![run 1 timeline](svg/vip-failover-run1.svg)');
    expect(md).toContain('| 2 | **FAILED** |');
    const html = drillHtml(report);
    expect(html).toContain('<td>median</td><td class="n">1540</td>');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('did not answer &lt;again&gt; &amp; &quot;never&quot;');
  });
});
