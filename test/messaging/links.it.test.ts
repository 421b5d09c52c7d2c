/**
 * Real sockets on loopback, in one process: three node runtimes with two unicast links each
 * (127.0.0.1 and 127.0.0.2), then three with one multicast link on the loopback interface.
 * Network traffic stays on loopback (multicast is sent with TTL 1 on interface 127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFileConfig, type NodeEvent } from '../../packages/messaging/src/index.js';
import { NodeRuntime } from '../../packages/messaging/src/driver/runtime.js';

async function freePorts(host: string, n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createSocket>>((res) => {
      const s = createSocket('udp4');
      s.bind(0, host, () => res(s));
    })),
  );
  const ports = socks.map((s) => s.address().port);
  socks.forEach((s) => s.close());
  return ports;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('messaging: two links per node with failover (loopback)', () => {
  const runtimes: NodeRuntime[] = [];
  afterAll(() => runtimes.forEach((r) => r.stop()));

  // With link 0 of one node shut, its peers keep hearing it over link 1: no node is lost and
  // messages keep flowing; this is what lets a node survive the loss of one network.
  it('fails over to the second link without a membership change', async () => {
    const [p0, p1] = [await freePorts('127.0.0.1', 3), await freePorts('127.0.0.2', 3)];
    const nodes = [1, 2, 3].map((nodeId, i) => ({ nodeId, addresses: [`127.0.0.1:${p0[i]}`, `127.0.0.2:${p1[i]}`] }));
    const key = randomBytes(64);
    const events: NodeEvent[][] = [[], [], []];
    for (const [i, nodeId] of [1, 2, 3].entries()) {
      const { config } = parseFileConfig({ clusterName: 'links', nodeId, nodes, links: [{ transport: 'udpu' }, { transport: 'udpu' }] });
      const rt = new NodeRuntime(config!, key, 1000 + i, (e) => events[i]!.push(e));
      await rt.start();
      rt.command({ op: 'join', group: 'g' });
      runtimes.push(rt);
    }
    const lastView = (i: number) => [...events[i]!].reverse().find((e) => e.type === 'view');
    for (let t = 0; t < 300 && ![0, 1, 2].every((i) => lastView(i)?.type === 'view' && lastView(i)!.type === 'view' && (lastView(i) as Extract<NodeEvent, { type: 'view' }>).view.members.length === 3); t++) await sleep(10);
    const viewsBefore = events.map((es) => es.filter((e) => e.type === 'view').length);
    expect(viewsBefore.every((n) => n >= 1)).toBe(true);

    expect(runtimes[2]!.shutLink(0)).toBe(true);
    await sleep(1500);
    runtimes[2]!.command({ op: 'send', group: 'g', data: Buffer.from('over link 1') });
    await sleep(300);
    const lost = events.flatMap((es) => es.filter((e) => e.type === 'peer-lost'));
    expect(lost).toEqual([]);
    expect(events.map((es) => es.filter((e) => e.type === 'view').length)).toEqual(viewsBefore);
    const got = events.map((es) => es.filter((e) => e.type === 'message').map((e) => (e.type === 'message' ? Buffer.from(e.data).toString() : '')));
    expect(got).toEqual([['over link 1'], ['over link 1'], ['over link 1']]);
    const link0 = runtimes[0]!.linkStatus().find((l) => l.linkId === 0)!;
    expect(link0.peers.find((p) => p.nodeId === 3)?.connected).toBe(false);
    const link1 = runtimes[0]!.linkStatus().find((l) => l.linkId === 1)!;
    expect(link1.peers.find((p) => p.nodeId === 3)?.connected).toBe(true);
  });

  // Multicast transport (corosync's default), here with AES-256-GCM encryption: the group carries
  // traffic to several nodes, a view forms, messages flow, and the loss of a node is detected.
  it('forms views and delivers over a multicast link on loopback', async () => {
    const ports = await freePorts('127.0.0.1', 4);
    const group = `239.192.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const nodes = [1, 2, 3].map((nodeId, i) => ({ nodeId, addresses: [`127.0.0.1:${ports[i]}`] }));
    const link = { transport: 'udp' as const, mcastGroup: group, mcastPort: ports[3], mcastInterface: '127.0.0.1', ttl: 1 };
    const key = randomBytes(64);
    const events: NodeEvent[][] = [[], [], []];
    const mine: NodeRuntime[] = [];
    for (const [i, nodeId] of [1, 2, 3].entries()) {
      const { config } = parseFileConfig({ clusterName: 'mcast', nodeId, nodes, links: [link], crypto: { mode: 'aes-256-gcm', encrypt: true } });
      const rt = new NodeRuntime(config!, key, 2000 + i, (e) => events[i]!.push(e));
      await rt.start();
      rt.command({ op: 'join', group: 'g' });
      runtimes.push(rt);
      mine.push(rt);
    }
    const members = (i: number) => {
      const v = [...events[i]!].reverse().find((e) => e.type === 'view');
      return v?.type === 'view' ? v.view.members.map((m) => m.nodeId).join(',') : '';
    };
    for (let t = 0; t < 300 && ![0, 1, 2].every((i) => members(i) === '1,2,3'); t++) await sleep(10);
    expect([0, 1, 2].map(members)).toEqual(['1,2,3', '1,2,3', '1,2,3']);
    mine[0]!.command({ op: 'send', group: 'g', data: Buffer.from('to the group') });
    await sleep(300);
    const got = events.map((es) => es.filter((e) => e.type === 'message').length);
    expect(got).toEqual([1, 1, 1]);
    // Multicast loops back to the sender, which drops its own packets: proof the group carried traffic.
    expect(mine[0]!.codec.counters.dropped['own-packet']).toBeGreaterThan(0);
    mine[2]!.stop();
    for (let t = 0; t < 300 && ![0, 1].every((i) => members(i) === '1,2'); t++) await sleep(10);
    expect([0, 1].map(members)).toEqual(['1,2', '1,2']);
  });
});
