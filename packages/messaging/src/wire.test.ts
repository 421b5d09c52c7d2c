import { describe, expect, it } from 'vitest';
import { Prng } from './sim/prng.js';
import { DROP_REASONS, HEADER_BYTES, PacketCodec, parseHeader, type CryptoMode, type DropReason } from './wire.js';

const KEY = Buffer.alloc(256, 1);
const OTHER_KEY = Buffer.alloc(256, 2);

function codec(nodeId: number, opts: { key?: Buffer; cluster?: string; mode?: CryptoMode; encrypt?: boolean; incarnation?: number } = {}) {
  return new PacketCodec({
    clusterName: opts.cluster ?? 'alpha',
    localNodeId: nodeId,
    incarnation: opts.incarnation ?? 1000,
    security: { mode: opts.mode ?? 'hmac-sha256', encrypt: opts.encrypt ?? false, authKey: opts.key ?? KEY },
    knownNodeIds: new Set([1, 2, 3]),
    replayWindowPackets: 64,
  });
}

function reasonOf(receiver: PacketCodec, datagram: Buffer): DropReason | 'ok' {
  const r = receiver.open(datagram);
  return r.ok ? 'ok' : r.reason;
}

describe('wire format and packet security', () => {
  // Round trip in each crypto mode: the payload arrives intact and, when encrypted, is not visible on the wire.
  it.each([
    ['hmac-sha256', false],
    ['aes-256-gcm', false],
    ['aes-256-gcm', true],
  ] as const)('seals and opens in mode %s (encrypt=%s)', (mode, encrypt) => {
    const a = codec(1, { mode, encrypt });
    const b = codec(2, { mode, encrypt });
    const payload = Buffer.from('secret-payload-secret-payload');
    const d = a.seal(7, payload);
    expect(d.includes(payload)).toBe(!encrypt);
    const r = b.open(d);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.header).toMatchObject({ type: 7, senderNodeId: 1, incarnation: 1000, packetSeq: 1, payloadBytes: payload.length });
      expect(Buffer.from(r.payload).equals(payload)).toBe(true);
    }
  });

  // Each way a datagram can be wrong is dropped under its own reason, so status can say why a peer is not heard.
  it('drops and counts bad packets by reason', () => {
    const a = codec(1);
    const good = () => a.seal(1, Buffer.from('hello'));
    const flip = (d: Buffer, at: number, mask = 0x01) => {
      const c = Buffer.from(d);
      c[at] = (c[at] ?? 0) ^ mask;
      return c;
    };
    const cases: [string, () => Buffer, PacketCodec, DropReason | 'ok'][] = [
      ['valid', good, codec(2), 'ok'],
      ['too short', () => good().subarray(0, 10), codec(2), 'too-short'],
      ['oversized', () => Buffer.alloc(70000), codec(2), 'oversized'],
      ['bad magic', () => flip(good(), 0), codec(2), 'bad-magic'],
      ['bad version', () => flip(good(), 4), codec(2), 'bad-version'],
      ['reserved byte set', () => flip(good(), 7), codec(2), 'bad-reserved'],
      ['other cluster name', () => codec(1, { cluster: 'beta' }).seal(1, Buffer.from('x')), codec(2), 'other-cluster'],
      ['wrong key', () => codec(1, { key: OTHER_KEY }).seal(1, Buffer.from('x')), codec(2), 'bad-mac'],
      ['payload bit flipped', () => flip(good(), HEADER_BYTES + 1), codec(2), 'bad-mac'],
      ['sender id changed (1 to 3)', () => flip(good(), 15, 0x02), codec(2), 'bad-mac'],
      ['truncated trailer', () => good().subarray(0, good().length - 1), codec(2), 'bad-length'],
      ['gcm packet to hmac node', () => codec(1, { mode: 'aes-256-gcm' }).seal(1, Buffer.from('x')), codec(2), 'crypto-mismatch'],
      ['unknown node id', () => codec(9).seal(1, Buffer.from('x')), codec(2), 'unknown-node'],
      ['own packet looped back', good, a, 'own-packet'],
    ];
    for (const [name, make, receiver, want] of cases) expect([name, reasonOf(receiver, make())]).toEqual([name, want]);
  });

  // A recorded packet replayed later, or an old incarnation's packets after a restart, must not be accepted.
  it('rejects replays, too-old packets and stale incarnations but accepts reordering within the window', () => {
    const a = codec(1);
    const b = codec(2);
    const packets = Array.from({ length: 100 }, (_, i) => a.seal(1, Buffer.from([i])));
    expect(reasonOf(b, packets[5]!)).toBe('ok');
    expect(reasonOf(b, packets[3]!)).toBe('ok');
    expect(reasonOf(b, packets[5]!)).toBe('replay-duplicate');
    expect(reasonOf(b, packets[99]!)).toBe('ok');
    expect(reasonOf(b, packets[10]!)).toBe('replay-too-old');
    expect(reasonOf(b, packets[60]!)).toBe('ok');
    const restarted = codec(1, { incarnation: 2000 });
    expect(reasonOf(b, restarted.seal(1, Buffer.from('x')))).toBe('ok');
    expect(reasonOf(b, packets[98]!)).toBe('stale-incarnation');
    expect(b.counters.dropped).toMatchObject({ 'replay-duplicate': 1, 'replay-too-old': 1, 'stale-incarnation': 1 });
  });

  // Random garbage and garbled valid packets must never throw and never be accepted.
  it.each(['hmac-sha256', 'aes-256-gcm'] as const)('survives fuzzed datagrams in mode %s', (mode) => {
    const prng = new Prng(42);
    const a = codec(1, { mode, encrypt: mode === 'aes-256-gcm' });
    const b = codec(2, { mode, encrypt: mode === 'aes-256-gcm' });
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const base = a.seal(prng.int(0, 255), Buffer.alloc(prng.int(0, 200), prng.int(0, 255)));
      const d = Buffer.from(base);
      const mutations = prng.int(1, 4);
      for (let k = 0; k < mutations; k++) {
        const what = prng.int(0, 2);
        if (what === 0) d[prng.int(0, d.length - 1)] = prng.int(0, 255);
        else if (what === 1) d.writeUInt32BE(prng.int(0, 0xffffffff), prng.int(0, Math.max(0, Math.min(32, d.length - 4))));
      }
      const cut = prng.chance(0.2) ? d.subarray(0, prng.int(0, d.length)) : d;
      const random = prng.chance(0.2) ? Buffer.from(Array.from({ length: prng.int(0, 120) }, () => prng.int(0, 255))) : cut;
      let r: ReturnType<PacketCodec['open']> | undefined;
      expect(() => (r = b.open(random))).not.toThrow();
      if (r?.ok) accepted += random.equals(base) ? 1 : 1000;
    }
    expect(accepted).toBeLessThan(1000);
    const dropped = Object.values(b.counters.dropped).reduce((s, n) => s + n, 0);
    expect(dropped + accepted).toBe(3000);
  });

  // The header parser is what status tools use on captured packets; it must agree with the sealer.
  it('parses the documented header layout', () => {
    const d = codec(3, { incarnation: 2 ** 40 + 5 }).seal(9, Buffer.from('abc'));
    const h = parseHeader(d);
    expect(h.ok && h.header).toMatchObject({ version: 1, type: 9, senderNodeId: 3, incarnation: 2 ** 40 + 5, packetSeq: 1, payloadBytes: 3 });
    expect(DROP_REASONS.length).toBe(new Set(DROP_REASONS).size);
  });
});
