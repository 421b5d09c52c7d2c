import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, ENTRY_KIND, MESSAGE_TYPE, type ProtocolMessage } from './messages.js';
import { Prng } from './sim/prng.js';

const view = { epoch: 7, leader: 2, leaderIncarnation: 1_700_000_000_000 };
const frag = { submitId: 3, kind: ENTRY_KIND.data, group: 'crmd', msgId: 11, fragIndex: 0, fragCount: 2, data: Buffer.from('abc') };
const SAMPLES: ProtocolMessage[] = [
  { t: 'heartbeat', view, epochMax: 9 },
  { t: 'heartbeat', view: undefined, epochMax: 0 },
  { t: 'heartbeat', view, epochMax: 9, nodelistVersion: 4 },
  { t: 'heartbeat', view, epochMax: 9, nodelistVersion: 4, pace: 3 },
  { t: 'propose', epoch: 8, members: [{ nodeId: 1, incarnation: 5 }, { nodeId: 2, incarnation: 6 }] },
  { t: 'flush', epoch: 8, oldView: view, prefixSeq: 10, deliveredSeq: 9, quorum: { expectedVotes: 3, waitForAllMet: true }, groups: ['a', 'b'] },
  { t: 'reject', epochPromised: 12 },
  {
    t: 'install',
    epoch: 8,
    members: [{ nodeId: 1, incarnation: 5 }],
    cuts: [{ oldView: view, cutSeq: 9 }],
    quorum: { expectedVotes: 3, waitForAllMet: false },
    groupTable: [{ nodeId: 1, groups: ['crmd'] }],
  },
  { t: 'installed', epoch: 8 },
  { t: 'submit', epoch: 8, fragments: [frag, { ...frag, submitId: 4, fragIndex: 1, data: Buffer.alloc(0) }] },
  { t: 'ordered', epoch: 8, stableSeq: 4, entries: [{ ...frag, seq: 5, sender: 3 }] },
  { t: 'ordered', epoch: 8, stableSeq: 4, entries: [] },
  { t: 'ack', epoch: 8, prefixSeq: 5, nack: true },
];

function normalize(m: unknown): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v)));
}

describe('protocol message codec', () => {
  // Every message type survives a round trip unchanged: the wire format is the contract between versions.
  it.each(SAMPLES.map((m) => [m.t, m] as const))('round-trips %s', (_t, m) => {
    const back = decodeMessage(MESSAGE_TYPE[m.t], encodeMessage(m));
    expect(normalize(back)).toEqual(normalize(m));
  });

  // Truncation, trailing bytes, a wrong type or random bytes are rejected as values, never thrown.
  it('rejects truncated, padded, mistyped and random payloads without throwing', () => {
    const prng = new Prng(7);
    for (const m of SAMPLES) {
      const bytes = encodeMessage(m);
      // A heartbeat's optional trailing fields: cut exactly before one, it is the shorter heartbeat.
      const shorter = new Map<number, ProtocolMessage>();
      if (m.t === 'heartbeat' && m.nodelistVersion !== undefined) {
        const { nodelistVersion, pace, ...base } = m;
        shorter.set(encodeMessage(base).length, base);
        if (pace !== undefined) shorter.set(encodeMessage({ ...base, nodelistVersion }).length, { ...base, nodelistVersion });
      }
      for (let cut = 0; cut < bytes.length; cut++) {
        const got = decodeMessage(MESSAGE_TYPE[m.t], bytes.subarray(0, cut));
        if (shorter.has(cut)) expect(got).toEqual(shorter.get(cut));
        else expect(got).toBeUndefined();
      }
      expect(decodeMessage(MESSAGE_TYPE[m.t], Buffer.concat([bytes, Buffer.from([0])]))).toBeUndefined();
      expect(decodeMessage(200, bytes)).toBeUndefined();
    }
    for (let i = 0; i < 5000; i++) {
      const junk = Buffer.from(Array.from({ length: prng.int(0, 64) }, () => prng.int(0, 255)));
      expect(() => decodeMessage(prng.int(0, 12), junk)).not.toThrow();
    }
  });

  // A hostile list length must not make the decoder allocate or loop without bound.
  it('refuses list lengths above the decode bounds', () => {
    const b = Buffer.alloc(6 + 4);
    b.writeUIntBE(1, 0, 6);
    b.writeUInt32BE(0xffffffff, 6);
    expect(decodeMessage(MESSAGE_TYPE.propose, b)).toBeUndefined();
  });
});
