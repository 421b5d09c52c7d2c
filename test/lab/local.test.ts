/**
 * The local driver (no root): nodes as processes on loopback, with a stand-in node command.
 * Also: waiting to settle times out with a reason and progress lines, and cleans up after itself;
 * parsing of the watcher's probe lines; the settle criterion.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, faults, floatingIpCib, measureNodes, median, formatLabStatus, labDown, labStatus, labProcesses, labUp, nodePid, parseArpLine, parseGroups, parsePingLine, unsettledReason, type LabState, type NodeStatus, type StatusAnswer } from '@paceline/lab';
import { validateCibText } from '@paceline/cib';
import { parseNodeConfig } from '@paceline/daemon';
import { missing, repoRoot } from '../support/env.js';
import { alive, sleep, STANDIN } from './support.js';

const why = missing({ tools: ['sh', 'sleep', 'setsid'] });

describe.skipIf(!!why)(`lab: local driver ${why ?? ''}`, () => {
  let dir = '';
  let lab: LabState;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-lab-local-'));
    lab = await labUp({ name: 'tl', nodes: 3, driver: 'local', dir, nodeCommand: STANDIN, settle: false });
  });

  afterAll(async () => {
    await labDown(dir).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts every node on loopback with distinct ports, its own config, pid and boot script', () => {
    const ports = lab.nodes.map((n) => n.address);
    expect(new Set(ports).size).toBe(3);
    for (const a of ports) expect(a).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const n of lab.nodes) {
      expect(n.netns).toBeUndefined();
      expect(alive(nodePid(n)!)).toBe(true);
      const cfg = JSON.parse(readFileSync(n.config, 'utf8')) as { api: { socket: string }; dataDir: string };
      expect(cfg.api.socket).toBe(join(n.dir, 'api.sock'));
      expect(cfg.dataDir).toBe(join(n.dir, 'data'));
      expect(statSync(join(n.dir, 'boot')).mode & 0o100).not.toBe(0);
      // The daemon's own validator accepts the generated file without a diagnostic.
      const parsed = parseNodeConfig(JSON.parse(readFileSync(n.config, 'utf8')), n.dir);
      expect(parsed.diagnostics).toEqual([]);
      expect(parsed.config?.node).toEqual({ id: n.id, name: n.name });
    }
    expect(labProcesses(dir).length).toBeGreaterThanOrEqual(6);
  });

  it('power off and on a local node; network faults need the netns driver', async () => {
    const f = faults(dir);
    const n2 = lab.nodes[1]!;
    const old = nodePid(n2)!;
    await f.powerOff('node2');
    expect(alive(old)).toBe(false);
    await f.powerOn('node2');
    expect(alive(nodePid(n2)!)).toBe(true);
    expect(() => f.linkDown('node1')).toThrow(/needs the netns driver/);
    expect(() => f.partition([['node1'], ['node2', 'node3']])).toThrow(/needs the netns driver/);
  });

  it('measures the memory and CPU of each node', async () => {
    const u = await measureNodes(lab, 300);
    expect(u.map((x) => x.node)).toEqual(['node1', 'node2', 'node3']);
    for (const x of u) {
      expect(x.rssMb).toBeGreaterThan(0);
      expect(x.rssMb).toBeLessThan(50);
      expect(x.cpuPct).toBeGreaterThanOrEqual(0);
      expect(x.cpuPct).toBeLessThan(50);
    }
  });

  it('down kills every process of the lab, twice is fine', async () => {
    const pids = lab.nodes.map((n) => nodePid(n)!);
    await labDown(dir);
    for (const p of pids) expect(alive(p)).toBe(false);
    expect(labProcesses(dir)).toEqual([]);
    await labDown(dir);
  });

  it('a lab whose nodes never answer times out waiting to settle, reports progress, and is cleaned up', async () => {
    const d = mkdtempSync(join(tmpdir(), 'paceline-lab-settle-'));
    const lines: string[] = [];
    try {
      await expect(labUp({ name: 'ts', nodes: 2, driver: 'local', dir: d, nodeCommand: STANDIN, settleTimeoutMs: 2500, progress: (l) => lines.push(l) })).rejects.toThrow(/did not settle within 2500 ms: node1: /);
      expect(lines.filter((l) => l.startsWith('waiting to settle')).length).toBeGreaterThanOrEqual(2);
      expect(labProcesses(d)).toEqual([]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('waits until every node reports the same DC, quorate and idle (stand-in API nodes)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'paceline-lab-api-'));
    const lines: string[] = [];
    try {
      const cmd = [process.execPath, join(repoRoot, 'test/lab/support-bin/api-standin.mjs'), '{config}', '--settle-after-ms', '1500'];
      const t0 = Date.now();
      await labUp({ name: 'ta', nodes: 3, driver: 'local', dir: d, nodeCommand: cmd, settleTimeoutMs: 15_000, progress: (l) => lines.push(l) });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
      expect(lines.at(-1)).toMatch(/^settled after \d+ ms$/);
      expect(lines.some((l) => /waiting to settle .*node1: no DC/.test(l))).toBe(true);
      const r = await labStatus(d);
      expect(r.nodes.map((n) => n.api.ok && n.api.status.dc)).toEqual(['node1', 'node1', 'node1']);
      expect(formatLabStatus(r)).toMatch(/node2: running \(pid \d+\) 127\.0\.0\.1:\d+ \[power on \d+\]; dc node1, quorate, transition idle, cib 0\.1\.0/);
    } finally {
      await labDown(d);
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('refuses bad input with a clear error', async () => {
    await expect(labUp({ name: 'Bad-Name', nodes: 1, driver: 'local', dir, settle: false })).rejects.toThrow(/bad lab name/);
    await expect(labUp({ name: 'ok', nodes: 0, driver: 'local', dir, settle: false })).rejects.toThrow(/bad node count/);
    await expect(labUp({ name: 'ok', nodes: 1, driver: 'local', dir, cib: '/nonexistent.xml', settle: false })).rejects.toThrow(/does not exist/);
    const d = mkdtempSync(join(tmpdir(), 'paceline-lab-bad-'));
    try {
      await expect(labUp({ name: 'tb', nodes: 1, driver: 'local', dir: d, nodeCommand: ['/nonexistent/daemon'], settle: false })).rejects.toThrow(/node1 did not start/);
      expect(labProcesses(d)).toEqual([]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
    expect(() => parseGroups('1,2')).toThrow(/bad partition/);
    expect(parseGroups('1,2|node3')).toEqual([['node1', 'node2'], ['node3']]);
  });
});

describe('lab: watcher lines and outage analysis', () => {
  it('parses ping -D -O lines and the ARP prober lines', () => {
    expect(parsePingLine('[1795303145.470952] 64 bytes from 10.77.0.100: icmp_seq=1 ttl=64 time=0.183 ms')).toEqual({ t: 1795303145471, probe: 'icmp', up: true, seq: 1 });
    expect(parsePingLine('[1795303145.557715] no answer yet for icmp_seq=7')).toEqual({ t: 1795303145558, probe: 'icmp', up: false, seq: 7 });
    expect(parsePingLine('[1795303145.557715] From 10.77.0.2 icmp_seq=9 Destination Host Unreachable')?.up).toBe(false);
    expect(parsePingLine('PING 10.77.0.100 (10.77.0.100) 56(84) bytes of data.')).toBeUndefined();
    expect(parseArpLine('1795303145470.952 12 aa:bb:cc:dd:ee:ff,aa:bb:cc:dd:ee:00')).toEqual({ t: 1795303145471, probe: 'arp', up: true, macs: ['aa:bb:cc:dd:ee:ff', 'aa:bb:cc:dd:ee:00'], seq: 12 });
    expect(parseArpLine('1795303145470.952 13 -')?.up).toBe(false);
  });

  it('computes failover_ms from the fault to the first reply after the outage', () => {
    const s = (t: number, up: boolean) => ({ t, probe: 'icmp' as const, up });
    const samples = [s(0, true), s(10, true), s(20, true), s(30, false), s(40, false), s(250, false), s(260, true), s(270, true)];
    const o = analyze(samples, 15);
    expect(o).toMatchObject({ lastUpBefore: 10, firstDown: 30, firstUpAfter: 260, failoverMs: 245, gapMs: 250 });
    expect(analyze(samples.slice(0, 5), 15).failoverMs).toBeUndefined();
    expect(analyze([s(0, true), s(10, true), s(20, true)], 5).failoverMs).toBe(0);
  });

  it('settles only when every node answers, agrees on the DC and the CIB, is quorate and idle', () => {
    const st = (over: Partial<NodeStatus> = {}): StatusAnswer => ({
      ok: true,
      status: { node: 'x', dc: 'node1', quorate: true, nodes: [{ name: 'node1', online: true }, { name: 'node2', online: true }], transition: { state: 'idle', id: 3 }, cibVersion: '0.5.2', ...over },
    });
    const nodes = ['node1', 'node2'];
    expect(unsettledReason(nodes, new Map([['node1', st()], ['node2', st()]]))).toBeUndefined();
    expect(unsettledReason(nodes, new Map([['node1', st()]]))).toMatch(/node2: not asked/);
    expect(unsettledReason(nodes, new Map([['node1', st()], ['node2', st({ dc: 'node2' })]]))).toMatch(/DCs differ/);
    expect(unsettledReason(nodes, new Map([['node1', st()], ['node2', st({ cibVersion: '0.5.3' })]]))).toMatch(/CIB versions differ/);
    expect(unsettledReason(nodes, new Map([['node1', st({ transition: { state: 'running', id: 4 } })], ['node2', st()]]))).toMatch(/node1: transition running/);
    expect(unsettledReason(nodes, new Map([['node1', st({ quorate: false })], ['node2', st()]]))).toMatch(/not quorate/);
    expect(unsettledReason(nodes, new Map<string, StatusAnswer>([['node1', { ok: false, error: 'connect-failed' }], ['node2', st()]]))).toMatch(/node1: connect-failed/);
    const { dc: _dc, ...noDc } = (st() as { ok: true; status: NodeStatus }).status;
    expect(unsettledReason(nodes, new Map<string, StatusAnswer>([['node1', { ok: true, status: noDc }], ['node2', st()]]))).toMatch(/node1: no DC/);
  });
});

describe('lab: the failover drill CIB', () => {
  it('is a valid CIB with the address, the colocated Dummy and (with stonith) one fence_lab device', () => {
    for (const stonith of [true, false]) {
      const xml = floatingIpCib({ vip: '10.77.3.100', labDir: '/tmp/lab "x"', nodes: ['node1', 'node2', 'node3'], stonith });
      expect(validateCibText(xml).filter((d) => d.severity === 'error')).toEqual([]);
      expect(xml).toContain('name="ip" value="10.77.3.100"');
      expect(xml).toContain('rsc="dummy" with-rsc="vip" score="INFINITY"');
      expect(xml.includes('type="fence_lab"')).toBe(stonith);
      expect(xml).toContain(`name="stonith-enabled" value="${stonith}"`);
      if (stonith) expect(xml).toContain('value="/tmp/lab &quot;x&quot;"');
    }
    expect(median([900, 700, 800])).toBe(800);
    expect(median([1, 2, 3, 10])).toBe(3);
    expect(median([])).toBeUndefined();
  });
});
