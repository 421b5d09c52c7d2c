/**
 * The floating-IP watcher against an outage made by hand: the address leaves node1 and, 300 ms
 * later, appears on node2 (announced with a gratuitous ARP, as the IPaddr agent does). The
 * client's ping sees the outage, the ARP prober sees the MAC change; the address on two nodes at
 * once shows as ARP answers from two MACs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, labDown, labUp, listNamespaces, macOf, nodeByMac, transitions, watchIp, type LabState } from '@paceline/lab';
import { missing } from '../support/env.js';
import { labName, sleep, STANDIN } from './support.js';

const why = missing({ root: true, tools: ['ip', 'ping', 'arping', 'python3', 'setsid'], netns: true });
const LAB = labName('tw');

function inNs(ns: string, ...argv: string[]): void {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

describe.skipIf(!!why)(`lab: floating-IP watcher ${why ?? ''}`, () => {
  let dir = '';
  let lab: LabState;
  let vip = '';
  const ns = (i: number) => lab.nodes[i - 1]!.netns!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-lab-watch-'));
    lab = await labUp({ name: LAB, nodes: 2, driver: 'netns', dir, nodeCommand: STANDIN, settle: false });
    vip = lab.vips[0]!;
  });

  afterAll(async () => {
    try {
      await labDown(dir, { name: LAB });
    } finally {
      for (const n of listNamespaces()) if (n.startsWith(`pl-${LAB}-`)) spawnSync('ip', ['netns', 'del', n]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  const clearVip = (): void => {
    for (const i of [1, 2]) spawnSync('ip', ['-n', ns(i), 'addr', 'del', `${vip}/24`, 'dev', 'eth0'], { stdio: 'ignore' });
  };

  it('measures a failover made by moving the address, and sees the MAC change', async () => {
    clearVip();
    inNs(ns(1), 'ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0');
    const w = watchIp({ netns: lab.client!.netns, ip: vip });
    await w.ready();
    await sleep(300);
    const faultAt = Date.now();
    inNs(ns(1), 'ip', 'addr', 'del', `${vip}/24`, 'dev', 'eth0');
    await sleep(300);
    inNs(ns(2), 'ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0');
    inNs(ns(2), 'arping', '-U', '-c', '1', '-I', 'eth0', vip);
    await sleep(700);
    const samples = await w.stop();
    expect(w.errors).toEqual([]);
    const o = analyze(samples, faultAt);
    const icmp = samples.filter((s) => s.probe === 'icmp');
    const arp = samples.filter((s) => s.probe === 'arp');
    // 10 ms probes: about 150 of each in 1.5 s (ping's pacing is a little slower than 10 ms).
    expect(icmp.length).toBeGreaterThan(60);
    expect(arp.length).toBeGreaterThan(60);
    expect(o.failoverMs).toBeGreaterThanOrEqual(290);
    expect(o.failoverMs).toBeLessThan(600);
    expect(o.gapMs).toBeGreaterThanOrEqual(o.failoverMs!);
    expect(o.macBefore).toEqual([macOf(LAB, 'node1')]);
    expect(o.macAfter).toEqual([macOf(LAB, 'node2')]);
    expect(nodeByMac(lab, o.macAfter![0]!)).toBe('node2');
    expect(o.twoMacSamples).toEqual([]);
    const tl = transitions(samples, faultAt).filter((t) => t.probe === 'icmp');
    expect(tl.map((t) => t.up)).toEqual([true, false, true]);
  });

  it('sees the address answering from two MACs at once', async () => {
    clearVip();
    inNs(ns(1), 'ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0');
    inNs(ns(2), 'ip', 'addr', 'add', `${vip}/24`, 'dev', 'eth0');
    const w = watchIp({ netns: lab.client!.netns, ip: vip });
    await w.ready();
    await sleep(300);
    const samples = await w.stop();
    clearVip();
    const o = analyze(samples, Date.now());
    expect(o.twoMacSamples.length).toBeGreaterThan(10);
    expect([...o.twoMacSamples[0]!.macs!].sort()).toEqual([macOf(LAB, 'node1'), macOf(LAB, 'node2')].sort());
  });

  it('reports a watcher that cannot start', async () => {
    expect(() => watchIp({ ip: 'not-an-ip' })).toThrow(/not an IPv4 address/);
    const w = watchIp({ netns: 'pl-nosuchns-client', ip: vip });
    await expect(w.ready(3000)).rejects.toThrow(/exited/);
    await w.stop();
    expect(w.errors.length).toBeGreaterThan(0);
  });
});
