/**
 * The drill registry and the pure parts of the web, mysql and lvs scenarios (no lab, no root):
 * the scenario list, the CIBs they load (checked by the scheduler's own CIB reader through
 * crm_verify's code path is out of scope here: we check the XML's resources and constraints),
 * the probe line parser, and the verdict functions on made-up samples.
 */
import { describe, expect, it } from 'vitest';
import {
  allServersBack,
  answersPerServer,
  contentInvariant,
  dataInvariant,
  DRILL_SCENARIOS,
  failuresAfter,
  drillScenario,
  drillScenarios,
  longestGap,
  lvsCib,
  mysqlCib,
  parseProbeLine,
  serviceBack,
  servedByOther,
  spreadInvariant,
  webCib,
  type ProbeSample,
  type Sample,
} from '@paceline/lab';

const ok = (sent: number, t: number, text: string, node?: string): ProbeSample => ({ sent, t, ok: true, text, ...(node ? { node } : {}) });
const fail = (sent: number, t: number): ProbeSample => ({ sent, t, ok: false, text: 'timeout' });

describe('drill registry', () => {
  it('lists every scenario once, with a lab size and a description, and refuses unknown names', () => {
    expect(DRILL_SCENARIOS).toEqual(drillScenarios().map((s) => s.name));
    expect(new Set(DRILL_SCENARIOS).size).toBe(DRILL_SCENARIOS.length);
    for (const name of ['vip-failover', 'partition', 'web', 'mysql', 'lvs']) expect(DRILL_SCENARIOS).toContain(name);
    for (const s of drillScenarios()) {
      expect(s.nodes).toBeGreaterThanOrEqual(2);
      expect(s.description.length).toBeGreaterThan(10);
    }
    expect(drillScenario('lvs').nodes).toBe(2);
    expect(() => drillScenario('nonsense')).toThrow(/unknown drill scenario 'nonsense' \(vip-failover, partition/);
  });
});

describe('scenario CIBs', () => {
  const base = { labDir: '/tmp/lab', nodes: ['node1', 'node2', 'node3'], stonith: true, vip: '10.77.5.100' };
  it('web: the group fs, vip, server in that order, with the loop device and fence_lab', () => {
    const x = webCib({ ...base, device: '/dev/loop7', mountPoint: '/tmp/lab/shared/mnt', apacheConfig: '/tmp/lab/web/apache2.conf' });
    expect([...x.matchAll(/<primitive id="([^"]+)"/g)].map((m) => m[1])).toEqual(['web-fs', 'web-vip', 'web-server', 'fence-lab']);
    expect(x).toMatch(/<group id="web">/);
    expect(x).toContain('value="/dev/loop7"');
    expect(x).toContain('name="stonith-enabled" value="true"');
  });
  it('mysql: datadir, socket and pid file on the shared disk', () => {
    const x = mysqlCib({ ...base, device: '/dev/loop7', mountPoint: '/m', config: '/c/my.cnf' });
    expect([...x.matchAll(/<primitive id="([^"]+)"/g)].map((m) => m[1])).toEqual(['db-fs', 'db-vip', 'db-server', 'fence-lab']);
    for (const v of ['value="/m/mysql"', 'value="/m/run/mysqld.sock"', 'value="/m/run/mysqld.pid"']) expect(x).toContain(v);
  });
  it('lvs: ipvs colocated with and ordered after the address, masquerading over the real servers', () => {
    const x = lvsCib({ ...base, nodes: ['node1', 'node2'], servers: ['10.77.5.51:80@3', '10.77.5.52:80@1'], paceline: '/tmp/lab/lvs/paceline' });
    expect(x).toContain('<rsc_colocation id="lvs-web-with-vip" rsc="lvs-web" with-rsc="lvs-vip" score="INFINITY"/>');
    expect(x).toContain('<rsc_order id="lvs-vip-before-web" first="lvs-vip" then="lvs-web" kind="Mandatory"/>');
    expect(x).toContain('value="-t 10.77.5.100:80 -s wrr"');
    expect(x).toContain('value="10.77.5.51:80@3 10.77.5.52:80@1"');
    expect(x).toContain('name="method" value="masq"');
  });
});

describe('probe lines and verdicts', () => {
  it('parses the probers\' lines and skips anything else', () => {
    expect(parseProbeLine('1700000000123.456 1700000000150.000 ok 200 node2 page-1')).toEqual({ sent: 1700000000123, t: 1700000000150, ok: true, status: 200, node: 'node2', text: 'page-1' });
    expect(parseProbeLine('1.0 2.0 fail 0 - ConnectionRefusedError')).toEqual({ sent: 1, t: 2, ok: false, text: 'ConnectionRefusedError' });
    expect(parseProbeLine('5 6 ok 0 - 42', false)).toEqual({ sent: 5, t: 6, ok: true, text: '42' });
    expect(parseProbeLine('5 6 ok 0 - ', false)).toEqual({ sent: 5, t: 6, ok: true, text: '' });
    expect(parseProbeLine('Traceback (most recent call last):')).toBeUndefined();
  });

  it('finds the service back at the first good answer served by another node, failures after it, and the longest gap', () => {
    // 90/100: answered before the outage; 101 by the dying node just after the fault; 110 and 130
    // time out; 120 is answered late by the new node (a retransmitted SYN) at 1500, 1490 at 1495.
    const s = [ok(90, 95, 'a'), ok(100, 102, 'a'), ok(101, 105, 'a'), fail(110, 1110), fail(130, 1130), ok(120, 1500, 'b'), ok(1490, 1495, 'b'), ok(1520, 1525, 'b')];
    const newNodeFrom = (t0: number) => (x: ProbeSample): boolean => x.t >= t0;
    expect(serviceBack(s, 100, newNodeFrom(1400))!.t).toBe(1495);
    expect(serviceBack(s, 100, newNodeFrom(1498))!.t).toBe(1500);
    expect(serviceBack(s, 100, () => false)).toBeUndefined();
    expect(failuresAfter(s, serviceBack(s, 100, newNodeFrom(1400))!)).toEqual([]);
    const flapping = [...s, fail(1600, 2600)];
    expect(failuresAfter(flapping, serviceBack(flapping, 100, newNodeFrom(1400))!).map((x) => x.sent)).toEqual([1600]);
    expect(longestGap(s, 0, 2000)).toEqual({ gapMs: 1390, start: 105, end: 1495 });
    expect(longestGap([], 0, 500).gapMs).toBe(500);
  });

  it('servedByOther reads the ARP holder at a moment', () => {
    const macs = new Map([['aa', 'node1'], ['bb', 'node2']]);
    const arp: Sample[] = [
      { t: 10, probe: 'arp', up: true, macs: ['aa'] },
      { t: 20, probe: 'arp', up: false, macs: [] },
      { t: 30, probe: 'arp', up: true, macs: ['bb'] },
    ];
    expect(servedByOther(macs, arp, 15, 'node1')).toBe(false);
    expect(servedByOther(macs, arp, 25, 'node1')).toBe(false);
    expect(servedByOther(macs, arp, 35, 'node1')).toBe(true);
    expect(servedByOther(macs, arp, 5, 'node1')).toBe(false);
  });

  it('content-from-shared-storage: every good answer is the token, and the new node served it', () => {
    const good = [ok(1, 2, 'tok', 'node1'), ok(200, 210, 'tok', 'node2')];
    expect(contentInvariant(good, 'tok', 'node2', 100).status).toBe('ok');
    expect(contentInvariant([...good, ok(300, 301, 'old', 'node3')], 'tok', 'node2', 100)).toMatchObject({ status: 'violated', detail: expect.stringMatching(/'old' from node3/) });
    expect(contentInvariant([ok(1, 2, 'tok', 'node1')], 'tok', 'node2', 100).status).toBe('violated');
    expect(contentInvariant(good, 'tok', undefined, 100).status).toBe('violated');
  });

  it('data-intact: same fingerprint and all of the run\'s rows', () => {
    expect(dataInvariant('40\tabc', '40\tabc', 20, 20).status).toBe('ok');
    expect(dataInvariant('40\tabc', '39\tabd', 19, 20).status).toBe('violated');
    expect(dataInvariant('40\tabc', '40\tabc', 19, 20).status).toBe('violated');
    expect(dataInvariant('40\tabc', undefined, undefined, 20).status).toBe('violated');
  });

  it('lvs: answers per real server once all are back, and the spread invariant', () => {
    const back = ok(100, 110, 'rs1');
    const s = [back, ok(120, 125, 'rs1'), ok(140, 150, 'rs2'), ok(160, 170, 'rs1'), ok(180, 190, 'rs3'), ok(200, 210, 'rs1'), ok(220, 230, 'rs2')];
    expect(allServersBack(s, back)).toBe(190);
    expect(allServersBack(s.slice(0, 4), back)).toBeUndefined();
    const per = answersPerServer(s, 170);
    expect(per).toEqual({ rs1: 1, rs2: 1, rs3: 1 });
    expect(spreadInvariant(per).status).toBe('ok');
    expect(spreadInvariant({ rs1: 5, rs2: 0, rs3: 2 })).toMatchObject({ status: 'violated', detail: expect.stringMatching(/no answer from rs2/) });
    expect(spreadInvariant({ ...per, 'Connection_reset': 1 })).toMatchObject({ status: 'violated', detail: expect.stringMatching(/unknown answers/) });
  });
});
