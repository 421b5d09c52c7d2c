/**
 * Real-process suite: ocf:paceline:IPaddr inside a network namespace this suite creates (a veth
 * pair with a /24 and a /64) and deletes. ocf-tester runs through `ip netns exec`, for IPv4 with
 * a label and for IPv6; then the interface and netmask found from the routing table, the
 * gratuitous ARP seen from the peer, a link going down, and bad parameters.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/env.js';
import { createNetns, OCF, ocfAgent, ocfTester, runAgent, testerReport } from './support.js';

const why = missing({ tools: ['ocf-tester', 'xmllint', 'ip', 'arping'], root: true, netns: true });
const agent = ocfAgent('IPaddr');

describe.skipIf(!!why)(`IPaddr in a network namespace (real-process suite) ${why ?? ''}`, () => {
  let ns: ReturnType<typeof createNetns>;
  let peer: ReturnType<typeof createNetns>;

  beforeAll(() => {
    // The agent's node (pl0) and a neighbour (pl1) on one link, each in its own namespace.
    ns = createNetns('ipaddr');
    peer = createNetns('ippeer');
    ns.ip('link', 'add', 'pl0', 'type', 'veth', 'peer', 'name', 'pl1', 'netns', peer.name);
    ns.ip('addr', 'add', '10.77.0.1/24', 'dev', 'pl0');
    ns.ip('addr', 'add', 'fd77::1/64', 'dev', 'pl0', 'nodad');
    peer.ip('addr', 'add', '10.77.0.2/24', 'dev', 'pl1');
    ns.ip('link', 'set', 'pl0', 'up');
    peer.ip('link', 'set', 'pl1', 'up');
  });
  afterAll(() => {
    ns?.remove();
    peer?.remove();
  });

  const run = (action: string, params: Record<string, string>, env: Record<string, string> = {}) => runAgent(agent, action, { params, netns: ns.name, env });
  const addrs = () => ns.ip('-o', 'addr', 'show');

  it('passes ocf-tester with an IPv4 address and a label', () => {
    // The floating IP is the most common cluster resource; it must pass the reference checks.
    const r = ocfTester(agent, { ip: '10.77.0.100', label: 'vip' }, { netns: ns.name, name: 'vip4' });
    expect(r.rc, testerReport(r)).toBe(0);
    expect(addrs()).not.toContain('10.77.0.100');
  });

  it('passes ocf-tester with an IPv6 address', () => {
    // IPv6 goes through duplicate address detection before start may return.
    const r = ocfTester(agent, { ip: 'fd77::100' }, { netns: ns.name, name: 'vip6' });
    expect(r.rc, testerReport(r)).toBe(0);
    expect(addrs()).not.toContain('fd77::100');
  });

  it('finds nic and netmask from the connected route, labels the address and removes it on stop', () => {
    // Operators usually give only the address; the agent must pick the interface of its subnet.
    const params = { ip: '10.77.0.101', label: 'web' };
    expect(run('start', params).rc).toBe(OCF.SUCCESS);
    const line = addrs().split('\n').find((l) => l.includes('10.77.0.101')) ?? '';
    expect(line).toMatch(/pl0\s+inet 10\.77\.0\.101\/24 brd 10\.77\.0\.255 .*pl0:web/);
    expect(run('monitor', params).rc).toBe(OCF.SUCCESS);
    expect(run('stop', params).rc).toBe(OCF.SUCCESS);
    expect(addrs()).not.toContain('10.77.0.101');
    expect(run('stop', params).rc).toBe(OCF.SUCCESS);
  });

  it('honours an explicit nic and a dotted netmask', () => {
    // A /32 on a given interface is how addresses outside any local subnet are floated.
    const params = { ip: '192.0.2.10', nic: 'pl0', cidr_netmask: '255.255.255.255' };
    expect(run('start', params).rc).toBe(OCF.SUCCESS);
    expect(addrs()).toMatch(/pl0\s+inet 192\.0\.2\.10\/32/);
    expect(run('stop', params).rc).toBe(OCF.SUCCESS);
  });

  it('announces the address with gratuitous ARP seen by the neighbour', () => {
    // Switches and neighbours learn the new owner only from these announcements.
    const params = { ip: '10.77.0.102', arp_bg: 'false', arp_count: '3', arp_interval_ms: '100' };
    // Watch the neighbour's table: Linux takes gratuitous ARP into it with arp_accept=1.
    execFileSync('ip', ['netns', 'exec', peer.name, 'sysctl', '-q', '-w', 'net.ipv4.conf.pl1.arp_accept=1']);
    peer.ip('neigh', 'flush', 'dev', 'pl1');
    try {
      const r = run('start', params);
      expect(r.rc).toBe(OCF.SUCCESS);
      expect(r.stderr).toContain('announcing 10.77.0.102 on pl0');
      expect(peer.ip('neigh', 'show', 'dev', 'pl1')).toContain('10.77.0.102');
    } finally {
      run('stop', params);
    }
  });

  it.skipIf(!existsSync('/proc/sys/net/ipv6/conf/default/accept_untracked_na'))('announces an IPv6 address with unsolicited neighbour advertisements', () => {
    // Without them, neighbours keep sending to the old owner's MAC until their cache entry expires.
    // The neighbour acts as a router that learns from untracked NAs (RFC 9131), so they show up.
    const sysctl = (key: string) => execFileSync('ip', ['netns', 'exec', peer.name, 'sysctl', '-q', '-w', key]);
    sysctl('net.ipv6.conf.pl1.forwarding=1');
    sysctl('net.ipv6.conf.pl1.accept_untracked_na=2');
    peer.ip('addr', 'add', 'fd77::2/64', 'dev', 'pl1', 'nodad');
    peer.ip('-6', 'neigh', 'flush', 'dev', 'pl1');
    const params = { ip: 'fd77::102' };
    try {
      expect(run('start', params).rc).toBe(OCF.SUCCESS);
      const deadline = Date.now() + 5000;
      while (!peer.ip('-6', 'neigh', 'show', 'dev', 'pl1').includes('fd77::102') && Date.now() < deadline) execFileSync('sleep', ['0.2']);
      expect(peer.ip('-6', 'neigh', 'show', 'dev', 'pl1')).toContain('fd77::102');
    } finally {
      run('stop', params);
      peer.ip('addr', 'del', 'fd77::2/64', 'dev', 'pl1');
    }
  });

  it('monitor fails with a reason when the link loses carrier, and recovers', () => {
    // An address on a dead link serves nobody: the cluster must move it.
    const params = { ip: '10.77.0.103' };
    expect(run('start', params).rc).toBe(OCF.SUCCESS);
    peer.ip('link', 'set', 'pl1', 'down');
    try {
      const r = run('monitor', params);
      expect(r.rc).toBe(OCF.ERR_GENERIC);
      expect(r.exitReason).toMatch(/link of pl0 is down/);
    } finally {
      peer.ip('link', 'set', 'pl1', 'up');
    }
    expect(run('monitor', params).rc).toBe(OCF.SUCCESS);
    expect(run('stop', params).rc).toBe(OCF.SUCCESS);
    expect(run('monitor', params).rc).toBe(OCF.NOT_RUNNING);
  });

  it.each([
    [{ ip: '10.77.0.300' }, /not an IPv4 or IPv6 address/],
    [{ ip: '' }, /ip is required/],
    [{ ip: '10.77.0.5', cidr_netmask: '33' }, /prefix length/],
    [{ ip: '10.77.0.5', cidr_netmask: '255.0.255.0' }, /not a valid netmask/],
    [{ ip: '10.77.0.5', nic: 'nosuchnic0' }, /does not exist/],
    [{ ip: '203.0.113.5' }, /no connected route contains 203\.0\.113\.5/],
    [{ ip: 'fd77::5', label: 'x' }, /IPv4 addresses only/],
    [{ ip: '10.77.0.5', label: 'muchtoolonglabel' }, /longer than 15/],
    [{ ip: '10.77.0.5', arp_count: 'many' }, /arp_count/],
  ])('rejects %j with OCF_ERR_CONFIGURED', (params, reason) => {
    // Bad parameters are a configuration error (rc 6), never a transient one (rc 1).
    const r = run('validate-all', params);
    expect(r.rc).toBe(OCF.ERR_CONFIGURED);
    expect(r.exitReason).toMatch(reason);
  });

  it('a probe of an address with no route here says "not running", and stop succeeds', () => {
    // On a node without the subnet the resource simply is not active; a probe must not fail it.
    const params = { ip: '203.0.113.5' };
    expect(run('monitor', params, { OCF_RESKEY_CRM_meta_interval: '0' }).rc).toBe(OCF.NOT_RUNNING);
    expect(run('stop', params).rc).toBe(OCF.SUCCESS);
    expect(run('monitor', params, { OCF_RESKEY_CRM_meta_interval: '10000' }).rc).toBe(OCF.ERR_CONFIGURED);
  });
});
