import { describe, expect, it } from 'vitest';
import {
  CONN_F, DirectorCore, IPPROTO, SYNC_WIRE, decodeSyncMessage, emptyTable, encodeSyncMessages, formatDaemons, inetAton, parseIpvsadm, runIpvsadm,
  type Endpoint, type RuleTable, type SyncConn,
} from './index.js';

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
const RULES = ['-A -t 10.0.0.1:80 -s rr -p 300', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m'];

const conn = (over: Partial<SyncConn> = {}): SyncConn => ({
  protocol: IPPROTO.tcp, flags: 0, state: 1, clientAddr: ip('192.0.2.7'), clientPort: 40000, vaddr: ip('10.0.0.1'), vport: 80,
  daddr: ip('10.1.1.2'), dport: 80, fwmark: 0, timeoutS: 900, ...over,
});
const template = (over: Partial<SyncConn> = {}): SyncConn => conn({ flags: CONN_F.template, state: 0, clientPort: 0, timeoutS: 300, ...over });

describe('sync wire format (IPVS sync protocol v1)', () => {
  it('lays out header and entry as the kernel does, byte for byte', () => {
    // struct ip_vs_sync_mesg + struct ip_vs_sync_v4, network order.
    const [m] = encodeSyncMessages(9, [conn({ timeoutS: 899.2 })]);
    expect(m!.length).toBe(8 + 36);
    expect([...m!.subarray(0, 8)]).toEqual([0, 9, 0, 44, 1, 1, 0, 0]);
    const e = m!.subarray(8);
    expect(e.readUInt8(0)).toBe(0); // type: IPv4
    expect(e.readUInt8(1)).toBe(6);
    expect(e.readUInt16BE(2)).toBe(36); // version 0 << 12 | size
    expect(e.readUInt16BE(8)).toBe(1); // ESTABLISHED
    expect(e.readUInt16BE(10)).toBe(40000);
    expect(e.readUInt32BE(20)).toBe(900); // seconds, rounded up
    expect(e.readUInt32BE(24)).toBe(ip('192.0.2.7'));
    expect(e.readUInt32BE(32)).toBe(ip('10.1.1.2'));
  });

  it('round-trips entries and splits by maxlen and 255 entries per message', () => {
    const many = Array.from({ length: 600 }, (_, i) => conn({ clientPort: 1000 + i }));
    const big = encodeSyncMessages(1, many, 65507);
    expect(big.map((m) => m.readUInt8(4))).toEqual([255, 255, 90]);
    const small = encodeSyncMessages(1, many.slice(0, 100), SYNC_WIRE.maxlenDefault);
    expect(small.map((m) => m.readUInt8(4))).toEqual([40, 40, 20]);
    const back = small.flatMap((m) => { const r = decodeSyncMessage(m, { syncid: 1 }); if (!r.ok) throw new Error(r.detail); return r.conns; });
    expect(back).toEqual(many.slice(0, 100));
  });

  it('drops malformed messages with a reason', () => {
    const [good] = encodeSyncMessages(3, [conn(), template()]);
    const mut = (f: (b: Buffer) => void): Buffer => { const b = Buffer.from(good!); f(b); return b; };
    const reason = (b: Buffer, syncid = 0): string => { const r = decodeSyncMessage(b, { syncid }); return r.ok ? 'ok' : r.reason; };
    expect(reason(good!)).toBe('ok');
    expect(reason(good!.subarray(0, 5))).toBe('short');
    expect(reason(good!.subarray(0, good!.length - 4))).toBe('size');
    expect(reason(Buffer.concat([good!, Buffer.alloc(4)]))).toBe('size');
    expect(reason(good!, 4)).toBe('syncid');
    expect(reason(mut((b) => b.writeInt8(0, 5)))).toBe('version');
    expect(reason(mut((b) => b.writeUInt8(1, 0)))).toBe('version');
    expect(reason(mut((b) => b.writeUInt8(3, 4)))).toBe('truncated');
    expect(reason(mut((b) => b.writeUInt16BE(0x1000 | 36, 8 + 2)))).toBe('entry-version');
    expect(reason(mut((b) => b.writeUInt8(1, 8)))).toBe('ipv6');
    expect(reason(mut((b) => b.writeUInt16BE(11, 8 + 8)))).toBe('state');
    expect(reason(mut((b) => b.writeUInt8(132, 8 + 1)))).toBe('protocol');
    expect(reason(mut((b) => { b.writeUInt8(0, 44 + 1); b.writeUInt32BE(0, 44 + 16); }))).toBe('protocol');
    // An entry whose size leaves room for options must carry well-formed ones.
    const withOpt = Buffer.alloc(8 + 40);
    good!.copy(withOpt, 0, 0, 8 + 36);
    withOpt.writeUInt16BE(48, 2); withOpt.writeUInt8(1, 4); withOpt.writeUInt16BE(40, 8 + 2);
    withOpt.writeUInt8(9, 44); withOpt.writeUInt8(2, 45);
    expect(reason(withOpt)).toBe('option');
    withOpt.writeUInt8(9 | SYNC_WIRE.optFParam, 44); // optional: skipped
    expect(reason(withOpt)).toBe('ok');
  });

  it('authenticates with a key: a wrong key, a changed byte or a missing trailer is dropped', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const [m] = encodeSyncMessages(1, [template()], 1472, key);
    expect(m!.length).toBe(8 + 36 + 32);
    expect(decodeSyncMessage(m!, { key }).ok).toBe(true);
    const r = decodeSyncMessage(m!, { key: Buffer.from('another key of 32 bytes, not it!') });
    expect(r.ok ? 'ok' : r.reason).toBe('auth');
    const changed = Buffer.from(m!); changed.writeUInt32BE(ip('10.1.1.1'), 8 + 32);
    expect((decodeSyncMessage(changed, { key }) as { reason?: string }).reason).toBe('auth');
    const [plain] = encodeSyncMessages(1, [template()]);
    expect((decodeSyncMessage(plain!, { key }) as { reason?: string }).reason).toBe('size');
  });
});

describe('sync table merge', () => {
  it('the master sends new templates and connections once, then refreshes a controlling template after half its timeout', () => {
    const core = new DirectorCore({}, tableOf(RULES));
    expect(core.drainSync(0)).toEqual([]); // off until a master runs
    core.setSyncOut(true);
    const r = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 40000, vip: VIP, nowMs: 0 });
    expect(r.ok).toBe(true);
    const first = core.drainSync(0);
    expect(first).toHaveLength(2);
    const tpl = first.find((c) => c.flags & CONN_F.template)!;
    expect(tpl).toMatchObject({ protocol: 6, clientAddr: ip('192.0.2.7'), clientPort: 0, vaddr: ip('10.0.0.1'), vport: 80, timeoutS: 300 });
    expect(core.drainSync(1000)).toEqual([]);
    expect(core.drainSync(150_000).filter((c) => c.flags & CONN_F.template)).toHaveLength(1);
    if (r.ok) core.closed(r.conn, 151_000);
    const closed = core.drainSync(151_000, false);
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ state: 5, flags: CONN_F.inactive, timeoutS: 120 });
  });

  it('a backup that takes over sends the client to the synced real server, where its own scheduler would not', () => {
    // The point of sync: persistence survives a director failover.
    const master = new DirectorCore({}, tableOf(RULES));
    master.setSyncOut(true);
    const warm = master.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.1'), clientPort: 1, vip: VIP, nowMs: 0 });
    const client = master.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 2, vip: VIP, nowMs: 0 });
    if (!warm.ok || !client.ok) throw new Error('connect');
    expect(client.conn.dest.addr).not.toBe(warm.conn.dest.addr);
    const wire = encodeSyncMessages(0, master.drainSync(0));
    const backup = new DirectorCore({}, tableOf(RULES));
    for (const m of wire) { const d = decodeSyncMessage(m); if (!d.ok) throw new Error(d.detail); backup.applySync(d.conns, 10_000); }
    expect(backup.syncedCounts()).toMatchObject({ held: 4, templates: 2 });
    expect(backup.connections(10_000).filter((c) => c.state === 'NONE').map((c) => c.expiresS)).toEqual([300, 300]);
    const again = backup.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 3, vip: VIP, nowMs: 20_000 });
    expect(again.ok && again.conn.dest.addr).toBe(client.conn.dest.addr);
    expect(backup.syncedCounts().adopted).toBe(1);
    // Without the synced entry, the backup's rr starts at the list head: the other server.
    const fresh = new DirectorCore({}, tableOf(RULES)).connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 3, vip: VIP, nowMs: 0 });
    expect(fresh.ok && fresh.conn.dest.addr).not.toBe(client.conn.dest.addr);
  });

  it('synced entries expire by their timeouts; an expired template is not used', () => {
    const core = new DirectorCore({}, tableOf(RULES));
    core.applySync([template({ timeoutS: 10 }), conn({ timeoutS: 5 }), template({ clientAddr: ip('192.0.2.8'), timeoutS: 0 })], 0);
    expect(core.syncedCounts().held).toBe(3);
    core.tick(5_000);
    expect(core.syncedCounts()).toMatchObject({ held: 2, templates: 2 });
    core.tick(10_000);
    expect(core.syncedCounts()).toMatchObject({ held: 1, templates: 1 });
    core.tick(180_000);
    expect(core.syncedCounts().held).toBe(0);
    core.applySync([template({ timeoutS: 10 })], 200_000);
    const late = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 3, vip: VIP, nowMs: 211_000 });
    expect(late.ok && core.syncedCounts().adopted).toBe(0);
  });

  it('a synced template naming a server this director does not have is not used', () => {
    const core = new DirectorCore({}, tableOf(RULES));
    core.applySync([template({ daddr: ip('10.9.9.9') })], 0);
    const r = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 3, vip: VIP, nowMs: 1 });
    expect(r.ok && r.conn.dest.addr).toBe(ip('10.1.1.2')); // rr's first pick (list head)
    expect(core.syncedCounts().adopted).toBe(0);
  });

  it('replaces an idle local template, keeps one that controls connections, and bounds the table', () => {
    const core = new DirectorCore({ connectionsMax: 3 }, tableOf(RULES));
    const a = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 3, vip: VIP, nowMs: 0 });
    if (!a.ok) throw new Error('connect');
    const other = a.conn.dest.addr === ip('10.1.1.1') ? ip('10.1.1.2') : ip('10.1.1.1');
    core.applySync([template({ daddr: other })], 0);
    expect(core.syncedCounts().held).toBe(0); // the local one controls a connection
    core.closed(a.conn, 0);
    core.tick(121_000); // the connection expires; the template idles
    core.applySync([template({ daddr: other })], 121_000);
    expect(core.syncedCounts().held).toBe(1);
    const b = core.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 4, vip: VIP, nowMs: 122_000 });
    expect(b.ok && b.conn.dest.addr).toBe(other);
    const r = core.applySync([1, 2, 3, 4].map((i) => conn({ clientPort: i })), 122_000);
    expect(r).toEqual({ accepted: 3, refused: 1 });
  });

  it('maps fwmark and port-zero templates to the same keys as local ones', () => {
    const marks = new Map([[1, [{ ...VIP, port: 80 }, { ...VIP, port: 443 }] as Endpoint[]]]);
    const rules = ['-A -f 1 -s rr -p 300', '-a -f 1 -r 10.1.1.1:0 -m', '-a -f 1 -r 10.1.1.2:0 -m'];
    const master = new DirectorCore({ marks }, tableOf(rules));
    master.setSyncOut(true);
    master.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.1'), clientPort: 1, vip: VIP, nowMs: 0 });
    const c = master.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 2, vip: VIP, nowMs: 0 });
    const sent = master.drainSync(0);
    expect(sent.filter((x) => x.flags & CONN_F.template).map((x) => [x.protocol, x.vaddr, x.vport, x.fwmark])).toEqual([[0, 1, 0, 1], [0, 1, 0, 1]]);
    const backup = new DirectorCore({ marks }, tableOf(rules));
    backup.applySync(sent, 0);
    expect(backup.connections(0).filter((x) => x.protocol === 'ip')).toHaveLength(2);
    const r = backup.connect({ protocol: 'tcp', clientAddr: ip('192.0.2.7'), clientPort: 3, vip: { ...VIP, port: 443 }, nowMs: 1 });
    expect(r.ok && c.ok && r.conn.dest.addr === c.conn.dest.addr).toBe(true);
  });
});

describe('ipvsadm daemon commands', () => {
  it('parses the daemon options with ipvsadm\'s checks, and the unicast peer extension', () => {
    const p = parseIpvsadm(['--start-daemon', 'master', '--mcast-interface', 'eth0', '--syncid', '7', '--mcast-group', '224.0.0.90', '--mcast-port', '9000', '--mcast-ttl', '2', '--sync-maxlen', '1400']);
    expect(p.ok && p.command).toEqual({ kind: 'start-daemon', state: 'master', daemon: { mcastIfn: 'eth0', syncid: 7, group: { kind: 'multicast', addr: ip('224.0.0.90') }, port: 9000, ttl: 2, maxlen: 1400 } });
    const u = parseIpvsadm(['--start-daemon', 'master', '--mcast-group', '10.0.0.1,10.0.0.2:9001']);
    expect(u.ok && u.command.kind === 'start-daemon' && u.command.daemon.group).toEqual({ kind: 'unicast', peers: [{ addr: ip('10.0.0.1'), port: 0 }, { addr: ip('10.0.0.2'), port: 9001 }] });
    const msg = (args: string[]): string => { const r = parseIpvsadm(args); return r.ok ? 'ok' : `${r.exitCode} ${r.message}`; };
    expect(msg(['--start-daemon', 'master', '--syncid', '256'])).toBe('2 illegal syncid specified');
    expect(msg(['--start-daemon', 'master', '--mcast-port', '0'])).toBe('2 illegal mcast-port specified');
    expect(msg(['--start-daemon', 'master', '--mcast-ttl', '300'])).toBe('2 illegal mcast-ttl specified');
    expect(msg(['--start-daemon', 'master', '--mcast-group', '10.0.0.1,239.1.1.1'])).toBe('2 invalid mcast-group address');
    expect(msg(['--start-daemon', 'master', '--mcast-group', 'nonsense'])).toBe('2 invalid mcast-group address');
    expect(msg(['--start-daemon', 'sideways'])).toBe('2 illegal start-daemon parameter specified');
    expect(msg(['--stop-daemon', 'master', '--mcast-interface', 'eth0'])).toBe("2 Illegal 'mcast-interface' option with the 'stop-daemon' command");
  });

  it('without sync daemons (a bare rule table) the commands fail as on a kernel without them; -L --daemon prints as ipvsadm', () => {
    const r = runIpvsadm(emptyTable(), ['--start-daemon', 'master']);
    expect([r.exitCode, r.stderr]).toEqual([255, 'Protocol not available\n']);
    expect(formatDaemons([{ state: 'backup', mcastIfn: 'eth1', syncid: 2 }, { state: 'master', mcastIfn: 'eth0', syncid: 1 }]))
      .toBe('master sync daemon (mcast=eth0, syncid=1)\nbackup sync daemon (mcast=eth1, syncid=2)\n');
  });
});
