import { describe, expect, it } from 'vitest';
import { DirectorCore, emptyTable, inetAton, runIpvsadm, type Conn, type Endpoint, type RuleTable } from './index.js';
import { createScheduler, hash32, type SchedDest } from './schedulers.js';

const ip = (s: string): number => inetAton(s)!;

function tableOf(lines: string[]): RuleTable {
  let t = emptyTable();
  for (const l of lines) {
    const r = runIpvsadm(t, l.split(' '));
    if (r.exitCode !== 0) throw new Error(`${l}: ${r.stderr}`);
    t = r.table;
  }
  return t;
}

const VIP: Endpoint = { protocol: 'tcp', addr: ip('10.0.0.1'), port: 80 };

/** Open `n` connections from distinct clients; returns how many each real server got. */
function spread(core: DirectorCore, n: number, vip: Endpoint = VIP, client = (i: number) => (ip('172.16.0.0') + i) >>> 0, keep?: Conn[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = core.connect({ protocol: vip.protocol, clientAddr: client(i), clientPort: 1024 + (i % 60000), vip, nowMs: 0 });
    if (!r.ok) throw new Error(r.code);
    const key = `${r.conn.dest.addr & 255}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    keep?.push(r.conn);
  }
  return counts;
}

function closeAll(core: DirectorCore, conns: Conn[]): void {
  for (const c of conns) core.closed(c, 0);
  core.tick(10 * 60 * 1000);
}

describe('rr and wrr', () => {
  it('wrr 3:1 gives 75 % +- 2 over 10,000 connections', () => {
    // The acceptance check for weighted round robin.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s wrr', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 3', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m -w 1']));
    const conns: Conn[] = [];
    const c = spread(core, 10000, VIP, undefined, conns);
    expect(Math.abs((c.get('1') ?? 0) / 10000 - 0.75)).toBeLessThanOrEqual(0.02);
  });

  it('wrr follows the kernel sequence for weights 4,3,2 (gcd stepping, newest dest first)', () => {
    // The kernel walks its list (newest first) lowering cw by the gcd each pass.
    const s = createScheduler('wrr', 0)!;
    const mk = (addr: number, weight: number): SchedDest => ({ addr, port: 80, weight, activeConns: 0, inactConns: 0, overloaded: false, available: true });
    const dests = [mk(1, 4), mk(2, 3), mk(3, 2)];
    s.update(dests);
    const seq = Array.from({ length: 9 }, () => s.schedule(dests, { srcAddr: 0, srcPort: 0, dstAddr: 0, dstPort: 0, nowMs: 0 })!.addr);
    expect(seq).toEqual([1, 1, 2, 1, 2, 3, 1, 2, 3]);
  });

  it('rr skips quiescent (weight 0) servers and walks the rest in turn', () => {
    // Weight 0 is how operators drain a server without cutting its connections.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m -w 0', '-a -t 10.0.0.1:80 -r 10.1.1.3 -m']));
    const c = spread(core, 100);
    expect([c.get('1'), c.get('2'), c.get('3')]).toEqual([50, undefined, 50]);
  });
});

describe('least-connection family with long-held connections', () => {
  const rules = (s: string): string[] => [`-A -t 10.0.0.1:80 -s ${s}`, '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 3', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m -w 1'];

  it('lc ignores weights: 400 held connections split 200/200', () => {
    // lc balances active connections only.
    const core = new DirectorCore({}, tableOf(rules('lc')));
    const c = spread(core, 400);
    expect([c.get('1'), c.get('2')]).toEqual([200, 200]);
  });

  it('wlc splits held connections by weight 3:1', () => {
    // wlc = overhead / weight, the default scheduler.
    const core = new DirectorCore({}, tableOf(rules('wlc')));
    const c = spread(core, 400);
    expect([c.get('1'), c.get('2')]).toEqual([300, 100]);
  });

  it('wlc counts closed connections (TIME_WAIT) as inactive, 256 times lighter than active ones', () => {
    // overhead = active x 256 + inactive: a server with many finished connections still wins.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s wlc', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m']));
    const held: Conn[] = [];
    spread(core, 2, VIP, undefined, held);
    const onFirst = held.find((c) => (c.dest.addr & 255) === 1)!;
    core.closed(onFirst, 0);
    expect(onFirst.dest.inactConns).toBe(1);
    const next = core.connect({ protocol: 'tcp', clientAddr: ip('172.16.9.9'), clientPort: 5000, vip: VIP, nowMs: 0 });
    expect(next.ok && next.conn.dest.addr & 255).toBe(1);
  });

  it('sed keeps a 10:1 pair on the big server while (active+1)/weight is smaller; nq sends to the idle small one at once', () => {
    // sed and nq differ exactly when a small server is idle.
    const lines = (s: string): string[] => [`-A -t 10.0.0.1:80 -s ${s}`, '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 10', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m -w 1'];
    const sed = spread(new DirectorCore({}, tableOf(lines('sed'))), 9);
    expect([sed.get('1'), sed.get('2')]).toEqual([9, undefined]);
    const sed10 = spread(new DirectorCore({}, tableOf(lines('sed'))), 10);
    expect([sed10.get('1'), sed10.get('2')]).toEqual([9, 1]);
    const nq = spread(new DirectorCore({}, tableOf(lines('nq'))), 9);
    expect([nq.get('1'), nq.get('2')]).toEqual([8, 1]);
    const nqMany = spread(new DirectorCore({}, tableOf(rules('nq'))), 400);
    expect([nqMany.get('1'), nqMany.get('2')]).toEqual([300, 100]);
  });

  it('fo sends everything to the heaviest available server, ovf overflows past weight', () => {
    // Failover and overflow schedulers in their simplest use.
    const fo = new DirectorCore({}, tableOf(rules('fo')));
    expect(spread(fo, 10).get('1')).toBe(10);
    const ovf = new DirectorCore({}, tableOf(rules('ovf')));
    const o = spread(ovf, 5);
    expect([o.get('1'), o.get('2')]).toEqual([4, 1]);
  });
});

describe('thresholds and quiescence', () => {
  it('an upper threshold overloads a server until it drops below the lower threshold', () => {
    // IP_VS_DEST_F_OVERLOAD: set at -x connections, cleared below -y.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s wlc', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 100 -x 2 -y 1', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m -w 1']));
    const held: Conn[] = [];
    const c = spread(core, 4, VIP, undefined, held);
    expect([c.get('1'), c.get('2')]).toEqual([2, 2]);
    const big = held.filter((h) => (h.dest.addr & 255) === 1);
    expect(big[0]!.dest.overloaded).toBe(true);
    core.closed(big[0]!, 0);
    core.tick(121_000);
    expect(big[0]!.dest.overloaded).toBe(true);
    core.closed(big[1]!, 121_000);
    core.tick(242_000);
    expect(big[0]!.dest.overloaded).toBe(false);
  });
});

describe('hashing schedulers', () => {
  it('sh sends a source to the same server every time and spreads sources by weight', () => {
    // Source hashing is the stateless stickiness of LVS.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s sh', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 1', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m -w 1', '-a -t 10.0.0.1:80 -r 10.1.1.3 -m -w 2']));
    for (let client = 0; client < 50; client++) {
      const c = spread(core, 20, VIP, () => ip('192.0.2.0') + client);
      expect(c.size).toBe(1);
    }
    const all = spread(core, 4000, VIP, (i) => ip('198.18.0.0') + i * 7919);
    expect(all.size).toBe(3);
    expect((all.get('3') ?? 0) / 4000).toBeGreaterThan(0.4);
    expect(hash32(1, 8)).toBe(0x61);
  });

  it('dh sends a destination address to the same server', () => {
    // Destination hashing (cache clusters) keys on the VIP, not the client.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s dh', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m']));
    expect(spread(core, 100).size).toBe(1);
  });

  it('mh (maglev) is sticky per source and uses every server', () => {
    // Maglev keeps sources on their server with a 4093-slot table.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s mh', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m', '-a -t 10.0.0.1:80 -r 10.1.1.3 -m']));
    for (let client = 0; client < 20; client++) expect(spread(core, 10, VIP, () => ip('192.0.2.0') + client).size).toBe(1);
    const all = spread(core, 3000, VIP, (i) => ip('198.18.0.0') + i * 7919);
    for (const k of ['1', '2', '3']) expect((all.get(k) ?? 0) / 3000).toBeGreaterThan(0.2);
  });

  it('mh keeps every other client in place when a server is quiesced, and mh-fallback moves only its clients', () => {
    // The kernel builds maglev from last_weight, so weight 0 leaves the table as it was.
    const rules = ['-A -t 10.0.0.1:80 -s mh -b mh-fallback', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m', '-a -t 10.0.0.1:80 -r 10.1.1.3 -m'];
    const core = new DirectorCore({}, tableOf(rules));
    const pick = (client: number): number => {
      const r = core.connect({ protocol: 'tcp', clientAddr: ip('198.18.0.0') + client * 7919, clientPort: 1000, vip: VIP, nowMs: 0 });
      if (!r.ok) throw new Error(r.code);
      return r.conn.dest.addr & 255;
    };
    const before = Array.from({ length: 300 }, (_, i) => pick(i));
    core.setTable(tableOf([...rules, '-e -t 10.0.0.1:80 -r 10.1.1.3 -m -w 0']));
    const after = Array.from({ length: 300 }, (_, i) => pick(i));
    for (let i = 0; i < 300; i++) {
      if (before[i] !== 3) expect(after[i]).toBe(before[i]);
      else expect(after[i]).not.toBe(3);
    }
    expect(before.filter((d) => d === 3).length).toBeGreaterThan(50);
  });

  it('lblc keeps a destination address on one server; lblcr too until it overloads', () => {
    // Locality-based schedulers remember destination -> server.
    for (const s of ['lblc', 'lblcr']) {
      const core = new DirectorCore({}, tableOf([`-A -t 10.0.0.1:80 -s ${s}`, '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 50', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m -w 50']));
      expect(spread(core, 40).size).toBe(1);
    }
  });
});

describe('persistence', () => {
  it('PPC: a client stays on its server for one port, and other clients are scheduled normally', () => {
    // -p on a port service: persistence per client per port.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s rr -p 300', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m']));
    expect(spread(core, 10, VIP, () => ip('192.0.2.1')).size).toBe(1);
    expect(spread(core, 10, VIP, (i) => ip('192.0.2.10') + i).size).toBe(2);
  });

  it('PCC: a port-zero service keeps a client on one server across all its ports', () => {
    // Persistent client connections: http and https of one shop on one server.
    const zeroPorts = new Map([[`tcp:${ip('10.0.0.1')}`, [80, 443]]]);
    const core = new DirectorCore({ zeroPorts }, tableOf(['-A -t 10.0.0.1:0 -s rr -p 300', '-a -t 10.0.0.1:0 -r 10.1.1.1:0 -m', '-a -t 10.0.0.1:0 -r 10.1.1.2:0 -m']));
    expect(core.endpoints()).toHaveLength(2);
    for (let client = 0; client < 6; client++) {
      const a = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.0') + client, clientPort: 4000, vip: { ...VIP, port: 80 }, nowMs: 0 });
      const b = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.0') + client, clientPort: 4001, vip: { ...VIP, port: 443 }, nowMs: 1 });
      expect(a.ok && b.ok).toBe(true);
      if (a.ok && b.ok) {
        expect(b.conn.dest).toBe(a.conn.dest);
        expect([a.conn.destPort, b.conn.destPort]).toEqual([80, 443]);
      }
    }
  });

  it('fwmark groups: one mark over ports 80 and 443 keeps a client together; -M groups a /24', () => {
    // PFWMC: the userspace mark is a named set of listening ports.
    const marks = new Map([[1, [{ ...VIP, port: 80 }, { ...VIP, port: 443 }] as Endpoint[]]]);
    const core = new DirectorCore({ marks }, tableOf(['-A -f 1 -s rr -p 300 -M 255.255.255.0', '-a -f 1 -r 10.1.1.1:0 -m', '-a -f 1 -r 10.1.1.2:0 -m']));
    const first = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.1'), clientPort: 4000, vip: { ...VIP, port: 80 }, nowMs: 0 });
    const sameNet = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.200'), clientPort: 4000, vip: { ...VIP, port: 443 }, nowMs: 0 });
    const otherNet = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.3.1'), clientPort: 4000, vip: { ...VIP, port: 443 }, nowMs: 0 });
    expect(first.ok && sameNet.ok && otherNet.ok).toBe(true);
    if (first.ok && sameNet.ok && otherNet.ok) {
      expect(sameNet.conn.dest).toBe(first.conn.dest);
      expect(otherNet.conn.dest).not.toBe(first.conn.dest);
    }
    expect(core.connections(0).filter((c) => c.state === 'NONE')).toHaveLength(2);
  });

  it('a template outlives its connections by the timeout, then the client is rescheduled', () => {
    // Persistence ends persistence-timeout seconds after the last connection.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s rr -p 10', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m']));
    const a = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.1'), clientPort: 4000, vip: VIP, nowMs: 0 });
    if (!a.ok) throw new Error(a.code);
    core.closed(a.conn, 1000);
    core.tick(200_000);
    const other = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.2'), clientPort: 4000, vip: VIP, nowMs: 200_000 });
    const again = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.1'), clientPort: 4001, vip: VIP, nowMs: 200_001 });
    expect(other.ok && again.ok && other.conn.dest !== a.conn.dest && again.conn.dest === a.conn.dest).toBe(true);
  });
});

describe('listing a running table', () => {
  it('shows active/inactive/persistent counts in -L, --thresholds and --persistent-conn, and templates in -Lc', () => {
    // What operators read to see where clients went (rr starts at the newest destination, as the kernel's list does).
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s rr -p 120', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -x 10 -y 2', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m']));
    const held: Conn[] = [];
    spread(core, 2, VIP, (i) => ip('192.0.2.1') + i, held);
    core.closed(held[0]!, 0);
    const ctx = { counters: core.counters(), connections: () => core.connections(30_000) };
    const t = core.getTable();
    expect(runIpvsadm(t, ['-Ln'], ctx).stdout.split('\n').slice(3, 6)).toEqual([
      'TCP  10.0.0.1:80 rr persistent 120',
      '  -> 10.1.1.1:80                  Masq    1      1          0         ',
      '  -> 10.1.1.2:80                  Masq    1      0          1         ',
    ]);
    expect(runIpvsadm(t, ['-Ln', '--persistent-conn'], ctx).stdout.split('\n').slice(1, 6)).toEqual([
      'Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn ',
      '  -> RemoteAddress:Port',
      'TCP  10.0.0.1:80 rr persistent 120',
      '  -> 10.1.1.1:80                  1         1           1          0         ',
      '  -> 10.1.1.2:80                  1         1           0          1         ',
    ]);
    expect(runIpvsadm(t, ['-Ln', '--thresholds'], ctx).stdout.split('\n')[4]).toBe('  -> 10.1.1.1:80                  10         2          1          0         ');
    expect(runIpvsadm(t, ['-Lnc'], ctx).stdout).toBe(
      'IPVS connection entries\n' +
        'pro expire state       source             virtual            destination\n' +
        'TCP 01:30  TIME_WAIT   192.0.2.1:1024     10.0.0.1:80        10.1.1.2:80\n' +
        'TCP 14:30  ESTABLISHED 192.0.2.2:1025     10.0.0.1:80        10.1.1.1:80\n' +
        'TCP 01:30  NONE        192.0.2.1:0        10.0.0.1:80        10.1.1.2:80\n' +
        'TCP 01:30  NONE        192.0.2.2:0        10.0.0.1:80        10.1.1.1:80\n',
    );
  });
});

describe('statistics', () => {
  it('the 2 s estimator converges on the kernel rate (25 conns/s)', () => {
    // CPS as ipvsadm --rate shows it, from ip_vs_est.c's fixed-point averaging.
    const core = new DirectorCore({}, tableOf(['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m']));
    core.tick(0);
    for (let period = 1; period <= 40; period++) {
      for (let i = 0; i < 50; i++) {
        const r = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.1'), clientPort: i, vip: VIP, nowMs: period * 2000 - 1 });
        if (r.ok) core.traffic(r.conn, 'in', 100, period * 2000 - 1);
      }
      core.tick(period * 2000);
    }
    const s = core.counters().service({ fwmark: 0, protocol: 'tcp', addr: VIP.addr, port: 80 });
    expect([s.conns, s.cps, s.inPps, s.inBps, s.inBytes]).toEqual([2000, 25, 25, 2500, 200000]);
    core.zero('all');
    expect(core.counters().service({ fwmark: 0, protocol: 'tcp', addr: VIP.addr, port: 80 }).conns).toBe(0);
  });
});
