/**
 * The datagram format and its security: a versioned fixed header, the payload, and a trailer
 * that authenticates both (HMAC-SHA256, or AES-256-GCM with optional encryption of the payload).
 *
 * Contract: `PacketCodec.open()` never throws on any input. A datagram is either returned as an
 * authenticated, fresh packet, or dropped and counted under one stable reason code. Replay
 * protection is per sender: packets carry (incarnation, packetSeq); a lower incarnation, a seq
 * already seen, or a seq older than the window is dropped.
 *
 * Header (big-endian, 36 bytes):
 *   0 magic u32 'PCLN' | 4 version u8 | 5 type u8 | 6 flags u8 | 7 reserved u8 (0)
 *   8 cluster name hash u32 | 12 sender node id u32 | 16 incarnation u64 | 24 packet seq u64
 *   32 payload length u32 | 36 payload | trailer (32-byte HMAC, or 16-byte GCM tag)
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const WIRE_MAGIC = 0x50434c4e; // 'PCLN'
export const WIRE_VERSION = 1;
export const HEADER_BYTES = 36;
/** The largest UDP payload over IPv4; nothing larger can arrive, so nothing larger is accepted. */
export const DATAGRAM_BYTES_MAX = 65507;

const FLAG_GCM = 0x01;
const FLAG_ENCRYPTED = 0x02;
const HMAC_BYTES = 32;
const GCM_TAG_BYTES = 16;
/** u64 fields must stay exact in a JS number. */
const U64_HIGH_MAX = 0x1fffff;

export type CryptoMode = 'hmac-sha256' | 'aes-256-gcm';

export interface SecurityConfig {
  readonly mode: CryptoMode;
  /** Only with aes-256-gcm: encrypt payloads, not only authenticate them. */
  readonly encrypt: boolean;
  /** The shared authkey file's bytes (at least 32). */
  readonly authKey: Uint8Array;
}

export interface PacketHeader {
  readonly version: number;
  readonly type: number;
  readonly flags: number;
  readonly clusterHash: number;
  readonly senderNodeId: number;
  readonly incarnation: number;
  readonly packetSeq: number;
  readonly payloadBytes: number;
}

/** Why a datagram was dropped. Append-only: these names appear in status output and counters. */
export const DROP_REASONS = [
  'too-short',
  'oversized',
  'bad-magic',
  'bad-version',
  'bad-reserved',
  'bad-length',
  'other-cluster',
  'crypto-mismatch',
  'bad-mac',
  'own-packet',
  'unknown-node',
  'stale-incarnation',
  'replay-duplicate',
  'replay-too-old',
  'malformed-payload',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type OpenResult =
  | { readonly ok: true; readonly header: PacketHeader; readonly payload: Buffer }
  | { readonly ok: false; readonly reason: DropReason };

export interface WireCounters {
  sentPackets: number;
  sentBytes: number;
  receivedPackets: number;
  receivedBytes: number;
  dropped: Record<DropReason, number>;
}

export function clusterNameHash(name: string): number {
  return createHash('sha256').update('paceline/cluster/').update(name, 'utf8').digest().readUInt32BE(0);
}

function readU64(buf: Buffer, offset: number): number | undefined {
  const high = buf.readUInt32BE(offset);
  if (high > U64_HIGH_MAX) return undefined;
  return high * 0x1_0000_0000 + buf.readUInt32BE(offset + 4);
}

function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

/** Parses the fixed header only; no authentication. Exported for tests and diagnostics. */
export function parseHeader(buf: Buffer): { ok: true; header: PacketHeader } | { ok: false; reason: DropReason } {
  if (buf.length < HEADER_BYTES) return { ok: false, reason: 'too-short' };
  if (buf.readUInt32BE(0) !== WIRE_MAGIC) return { ok: false, reason: 'bad-magic' };
  const version = buf.readUInt8(4);
  if (version !== WIRE_VERSION) return { ok: false, reason: 'bad-version' };
  if (buf.readUInt8(7) !== 0) return { ok: false, reason: 'bad-reserved' };
  const incarnation = readU64(buf, 16);
  const packetSeq = readU64(buf, 24);
  if (incarnation === undefined || packetSeq === undefined) return { ok: false, reason: 'bad-length' };
  const header: PacketHeader = {
    version,
    type: buf.readUInt8(5),
    flags: buf.readUInt8(6),
    clusterHash: buf.readUInt32BE(8),
    senderNodeId: buf.readUInt32BE(12),
    incarnation,
    packetSeq,
    payloadBytes: buf.readUInt32BE(32),
  };
  return { ok: true, header };
}

/** Sliding replay window of one sender incarnation: ring[seq % size] holds the seq seen there. */
class ReplayWindow {
  private readonly ring: Float64Array;
  private highestSeq = 0;
  constructor(
    readonly incarnation: number,
    size: number,
  ) {
    this.ring = new Float64Array(size);
  }
  /** Checks without recording (the MAC is verified between check and commit). */
  check(seq: number): DropReason | undefined {
    const size = this.ring.length;
    if (seq + size <= this.highestSeq) return 'replay-too-old';
    if (this.ring[seq % size] === seq) return 'replay-duplicate';
    return undefined;
  }
  commit(seq: number): void {
    this.ring[seq % this.ring.length] = seq;
    if (seq > this.highestSeq) this.highestSeq = seq;
  }
}

export interface PacketCodecOptions {
  readonly clusterName: string;
  readonly localNodeId: number;
  readonly incarnation: number;
  readonly security: SecurityConfig;
  /** Packets from node ids outside this set are dropped ('unknown-node'). */
  readonly knownNodeIds: ReadonlySet<number>;
  /** Packets a sender may arrive out of order by and still be accepted. */
  readonly replayWindowPackets?: number;
  readonly datagramBytesMax?: number;
}

const GCM_SUBKEYS_MAX = 256;

/**
 * Seals outgoing datagrams and opens incoming ones for one node incarnation.
 * Holds the packet counter, the per-sender replay windows and the drop counters.
 */
export class PacketCodec {
  readonly counters: WireCounters;
  private readonly clusterHash: number;
  private readonly macKey: Buffer;
  private readonly gcmMasterKey: Buffer;
  private readonly gcmSubkeys = new Map<string, Buffer>();
  private readonly replay = new Map<number, ReplayWindow>();
  private packetSeq = 0;
  private readonly replayWindowPackets: number;
  private readonly datagramBytesMax: number;
  private readonly flags: number;
  private knownNodeIds: ReadonlySet<number>;

  constructor(private readonly opts: PacketCodecOptions) {
    this.knownNodeIds = opts.knownNodeIds;
    if (opts.security.authKey.length < 32) throw new Error('authkey must hold at least 32 bytes');
    if (opts.security.encrypt && opts.security.mode !== 'aes-256-gcm') throw new Error('encryption needs mode aes-256-gcm');
    this.clusterHash = clusterNameHash(opts.clusterName);
    const key = Buffer.from(opts.security.authKey);
    this.macKey = createHmac('sha256', key).update(`paceline/v1/hmac/${opts.clusterName}`).digest();
    this.gcmMasterKey = createHmac('sha256', key).update(`paceline/v1/gcm/${opts.clusterName}`).digest();
    this.replayWindowPackets = opts.replayWindowPackets ?? 4096;
    this.datagramBytesMax = opts.datagramBytesMax ?? DATAGRAM_BYTES_MAX;
    this.flags = (opts.security.mode === 'aes-256-gcm' ? FLAG_GCM : 0) | (opts.security.encrypt ? FLAG_ENCRYPTED : 0);
    this.counters = {
      sentPackets: 0,
      sentBytes: 0,
      receivedPackets: 0,
      receivedBytes: 0,
      dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
    };
  }

  /**
   * Replaces the set of node ids whose packets are accepted (an agreed nodelist change); the
   * replay windows of nodes no longer listed are dropped.
   */
  setKnownNodeIds(ids: ReadonlySet<number>): void {
    this.knownNodeIds = new Set(ids);
    for (const id of [...this.replay.keys()]) if (!ids.has(id)) this.replay.delete(id);
  }

  /** Bytes added to a payload by the header and trailer. */
  get overheadBytes(): number {
    return HEADER_BYTES + (this.flags & FLAG_GCM ? GCM_TAG_BYTES : HMAC_BYTES);
  }

  /** Builds one authenticated datagram. Each call uses the next packet sequence number. */
  seal(type: number, payload: Uint8Array): Buffer {
    const trailer = this.flags & FLAG_GCM ? GCM_TAG_BYTES : HMAC_BYTES;
    const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length + trailer);
    this.packetSeq += 1;
    out.writeUInt32BE(WIRE_MAGIC, 0);
    out.writeUInt8(WIRE_VERSION, 4);
    out.writeUInt8(type, 5);
    out.writeUInt8(this.flags, 6);
    out.writeUInt8(0, 7);
    out.writeUInt32BE(this.clusterHash, 8);
    out.writeUInt32BE(this.opts.localNodeId, 12);
    writeU64(out, 16, this.opts.incarnation);
    writeU64(out, 24, this.packetSeq);
    out.writeUInt32BE(payload.length, 32);
    const header = out.subarray(0, HEADER_BYTES);
    if (this.flags & FLAG_GCM) {
      const cipher = createCipheriv('aes-256-gcm', this.gcmKey(this.opts.localNodeId, this.opts.incarnation), gcmNonce(this.packetSeq));
      if (this.flags & FLAG_ENCRYPTED) {
        cipher.setAAD(header);
        const n = cipher.update(payload).copy(out, HEADER_BYTES);
        cipher.final();
        if (n !== payload.length) throw new Error('aes-256-gcm changed the payload length');
      } else {
        out.set(payload, HEADER_BYTES);
        cipher.setAAD(out.subarray(0, HEADER_BYTES + payload.length));
        cipher.final();
      }
      cipher.getAuthTag().copy(out, HEADER_BYTES + payload.length);
    } else {
      out.set(payload, HEADER_BYTES);
      createHmac('sha256', this.macKey).update(out.subarray(0, HEADER_BYTES + payload.length)).digest().copy(out, HEADER_BYTES + payload.length);
    }
    this.counters.sentPackets += 1;
    this.counters.sentBytes += out.length;
    return out;
  }

  /** Authenticates and checks freshness of one datagram. Never throws. */
  open(datagram: Buffer): OpenResult {
    this.counters.receivedPackets += 1;
    this.counters.receivedBytes += datagram.length;
    const result = this.openUncounted(datagram);
    if (!result.ok) this.counters.dropped[result.reason] += 1;
    return result;
  }

  /** Counts a packet that authenticated but whose payload did not decode. */
  countMalformed(): void {
    this.counters.dropped['malformed-payload'] += 1;
  }

  private openUncounted(datagram: Buffer): OpenResult {
    if (datagram.length > this.datagramBytesMax) return { ok: false, reason: 'oversized' };
    const parsed = parseHeader(datagram);
    if (!parsed.ok) return parsed;
    const h = parsed.header;
    if (h.clusterHash !== this.clusterHash) return { ok: false, reason: 'other-cluster' };
    if (h.flags !== this.flags) return { ok: false, reason: 'crypto-mismatch' };
    const trailer = h.flags & FLAG_GCM ? GCM_TAG_BYTES : HMAC_BYTES;
    if (HEADER_BYTES + h.payloadBytes + trailer !== datagram.length) return { ok: false, reason: 'bad-length' };
    if (h.senderNodeId === this.opts.localNodeId && h.incarnation === this.opts.incarnation) return { ok: false, reason: 'own-packet' };
    if (!this.knownNodeIds.has(h.senderNodeId)) return { ok: false, reason: 'unknown-node' };
    const payload = this.verify(datagram, h);
    if (payload === undefined) return { ok: false, reason: 'bad-mac' };
    const fresh = this.checkReplay(h);
    if (fresh !== undefined) return { ok: false, reason: fresh };
    return { ok: true, header: h, payload };
  }

  /** Returns the (decrypted) payload when the trailer is valid. */
  private verify(datagram: Buffer, h: PacketHeader): Buffer | undefined {
    const end = HEADER_BYTES + h.payloadBytes;
    if (!(h.flags & FLAG_GCM)) {
      const mac = createHmac('sha256', this.macKey).update(datagram.subarray(0, end)).digest();
      return timingSafeEqual(mac, datagram.subarray(end)) ? datagram.subarray(HEADER_BYTES, end) : undefined;
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.gcmKey(h.senderNodeId, h.incarnation), gcmNonce(h.packetSeq));
      decipher.setAuthTag(datagram.subarray(end));
      if (h.flags & FLAG_ENCRYPTED) {
        decipher.setAAD(datagram.subarray(0, HEADER_BYTES));
        const plain = decipher.update(datagram.subarray(HEADER_BYTES, end));
        decipher.final();
        return plain;
      }
      decipher.setAAD(datagram.subarray(0, end));
      decipher.final();
      return datagram.subarray(HEADER_BYTES, end);
    } catch {
      return undefined;
    }
  }

  private checkReplay(h: PacketHeader): DropReason | undefined {
    let w = this.replay.get(h.senderNodeId);
    if (w !== undefined && h.incarnation < w.incarnation) return 'stale-incarnation';
    if (w === undefined || h.incarnation > w.incarnation) {
      w = new ReplayWindow(h.incarnation, this.replayWindowPackets);
      this.replay.set(h.senderNodeId, w);
    }
    const why = w.check(h.packetSeq);
    if (why !== undefined) return why;
    w.commit(h.packetSeq);
    return undefined;
  }

  /**
   * AES-GCM key of one sender incarnation. Deriving a key per (node, incarnation) makes the
   * deterministic nonce (the packet seq) unique per key without any randomness on the wire.
   */
  private gcmKey(nodeId: number, incarnation: number): Buffer {
    const id = `${nodeId}/${incarnation}`;
    let key = this.gcmSubkeys.get(id);
    if (key === undefined) {
      const info = Buffer.alloc(12);
      info.writeUInt32BE(nodeId, 0);
      writeU64(info, 4, incarnation);
      key = createHmac('sha256', this.gcmMasterKey).update(info).digest();
      if (this.gcmSubkeys.size >= GCM_SUBKEYS_MAX) this.gcmSubkeys.clear();
      this.gcmSubkeys.set(id, key);
    }
    return key;
  }
}

function gcmNonce(packetSeq: number): Buffer {
  const nonce = Buffer.alloc(12);
  writeU64(nonce, 4, packetSeq);
  return nonce;
}
