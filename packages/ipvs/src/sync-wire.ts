/**
 * The connection-sync wire format: IPVS's sync protocol version 1 (net/netfilter/ipvs/ip_vs_sync.c,
 * `struct ip_vs_sync_mesg` + `struct ip_vs_sync_v4`), IPv4 entries only, so a capture reads
 * as the kernel's sync traffic. One message:
 *
 *   header (8 bytes):  reserved u8 = 0 | syncid u8 | size be16 (whole message) | nr_conns u8 |
 *                      version s8 = 1 | spare u16 = 0
 *   entry (36 bytes + options, padded to 4):  type u8 (0 = IPv4) | protocol u8 |
 *                      ver_size be16 (version << 12 | entry size) | flags be32 | state be16 |
 *                      cport be16 | vport be16 | dport be16 | fwmark be32 | timeout be32 (s) |
 *                      caddr be32 | vaddr be32 | daddr be32 | options (type u8, len u8, data)
 *
 * Paceline's one addition: with a shared key, every message carries an HMAC-SHA256 trailer
 * (32 bytes after `size`) and messages without a valid one are dropped. Without a key the
 * messages are byte for byte the kernel's. Decoding validates as ip_vs_process_message does,
 * and more strictly (a bad entry drops the whole message), returning the reason of a drop.
 * Pure apart from the HMAC computation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** IPPROTO numbers carried in `protocol`. */
export const IPPROTO = { ip: 0, tcp: 6, udp: 17 } as const;

/** ip_vs.h IP_VS_CONN_F_* bits that travel in sync messages. */
export const CONN_F = {
  masq: 0x0000, localnode: 0x0001, tunnel: 0x0002, droute: 0x0003, fwdMask: 0x0007,
  noOutput: 0x0080, inactive: 0x0100, seqMask: 0x0600, noCport: 0x0800, template: 0x1000,
  /** IP_VS_CONN_F_BACKUP_MASK: what the backup keeps of the flags. */
  backupMask: 0x0007 | 0x0080 | 0x0100 | 0x0600 | 0x0800 | 0x1000,
} as const;

/** ip_vs_proto_tcp.c's states, by number (tcp_state_name_table). */
export const TCP_STATES = ['NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK'] as const;
/** UDP has one state, IP_VS_UDP_S_NORMAL (0), printed "UDP". */
export const UDP_STATE_NORMAL = 0;

export const SYNC_WIRE = {
  /** SYNC_PROTO_VER. */
  version: 1,
  headerBytes: 8,
  /** sizeof(struct ip_vs_sync_v4). */
  entryV4Bytes: 36,
  /** HMAC-SHA256 trailer, when a key is set. */
  macBytes: 32,
  /** nr_conns is a u8. */
  entriesPerMessageMax: 255,
  /** The kernel's default sync_maxlen on a 1500-byte MTU (MTU - IP and UDP headers). */
  maxlenDefault: 1472,
  /** ipvsadm's bound for --sync-maxlen (65535 - 20 - 8). */
  maxlenMax: 65507,
  /** STYPE_F_INET6. */
  typeInet6: 0x01,
  /** IPVS_OPT_SEQ_DATA and the size of struct ip_vs_sync_conn_options (two ip_vs_seq). */
  optSeqData: 1,
  optSeqDataBytes: 24,
  optPeData: 2,
  optPeName: 3,
  /** IPVS_OPT_F_PARAM: options with this bit may be skipped when unknown. */
  optFParam: 0x80,
} as const;

/** One connection or persistence template as synced (addresses IPv4, host order). */
export interface SyncConn {
  /** IPPROTO number: 6 TCP, 17 UDP; 0 (IPPROTO_IP) for fwmark templates. */
  protocol: number;
  /** IP_VS_CONN_F_* (CONN_F.template marks a persistence template). */
  flags: number;
  /** TCP_STATES index, UDP_STATE_NORMAL, or 0 (NONE) for templates. */
  state: number;
  clientAddr: number;
  /** 0 for templates. */
  clientPort: number;
  /** The virtual address; the firewall mark for fwmark templates. */
  vaddr: number;
  /** 0 for port-zero and fwmark templates. */
  vport: number;
  daddr: number;
  dport: number;
  fwmark: number;
  /** Seconds the entry stays valid from its reception. */
  timeoutS: number;
}

export type SyncDropReason =
  | 'short' | 'size' | 'auth' | 'syncid' | 'version' | 'truncated' | 'entry-version'
  | 'ipv6' | 'option' | 'protocol' | 'state';

export type SyncDecodeResult =
  | { ok: true; syncid: number; conns: SyncConn[] }
  | { ok: false; reason: SyncDropReason; detail: string };

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

function writeEntry(b: Buffer, at: number, c: SyncConn): void {
  b.writeUInt8(0, at);
  b.writeUInt8(c.protocol, at + 1);
  b.writeUInt16BE(SYNC_WIRE.entryV4Bytes, at + 2);
  b.writeUInt32BE(c.flags >>> 0, at + 4);
  b.writeUInt16BE(c.state, at + 8);
  b.writeUInt16BE(c.clientPort, at + 10);
  b.writeUInt16BE(c.vport, at + 12);
  b.writeUInt16BE(c.dport, at + 14);
  b.writeUInt32BE(c.fwmark >>> 0, at + 16);
  b.writeUInt32BE(Math.min(0xffffffff, Math.max(0, Math.ceil(c.timeoutS))), at + 20);
  b.writeUInt32BE(c.clientAddr >>> 0, at + 24);
  b.writeUInt32BE(c.vaddr >>> 0, at + 28);
  b.writeUInt32BE(c.daddr >>> 0, at + 32);
}

/**
 * Encode entries into as few messages as fit `maxlen` bytes each (the UDP payload bound,
 * trailer included) and 255 entries each. `key` adds the HMAC trailer.
 */
export function encodeSyncMessages(syncid: number, conns: readonly SyncConn[], maxlen: number = SYNC_WIRE.maxlenDefault, key?: Buffer): Buffer[] {
  if (!Number.isInteger(syncid) || syncid < 0 || syncid > 255) throw new RangeError(`syncid ${syncid} is not 0..255`);
  const room = maxlen - SYNC_WIRE.headerBytes - (key ? SYNC_WIRE.macBytes : 0);
  const perMessage = Math.min(SYNC_WIRE.entriesPerMessageMax, Math.floor(room / SYNC_WIRE.entryV4Bytes));
  if (perMessage < 1) throw new RangeError(`sync maxlen ${maxlen} holds no entry`);
  const out: Buffer[] = [];
  for (let i = 0; i < conns.length; i += perMessage) {
    const chunk = conns.slice(i, i + perMessage);
    const size = SYNC_WIRE.headerBytes + chunk.length * SYNC_WIRE.entryV4Bytes;
    const b = Buffer.alloc(size + (key ? SYNC_WIRE.macBytes : 0));
    b.writeUInt8(0, 0);
    b.writeUInt8(syncid, 1);
    b.writeUInt16BE(size, 2);
    b.writeUInt8(chunk.length, 4);
    b.writeInt8(SYNC_WIRE.version, 5);
    b.writeUInt16BE(0, 6);
    chunk.forEach((c, j) => writeEntry(b, SYNC_WIRE.headerBytes + j * SYNC_WIRE.entryV4Bytes, c));
    if (key) mac(key, b.subarray(0, size)).copy(b, size);
    out.push(b);
  }
  return out;
}

const drop = (reason: SyncDropReason, detail: string): SyncDecodeResult => ({ ok: false, reason, detail });

/** Walk an entry's options (type, len, data); undefined when they are well formed. */
function checkOptions(buf: Buffer, from: number, end: number): SyncDecodeResult | undefined {
  let p = from;
  while (p < end) {
    if (p + 2 > end) return drop('option', 'option header beyond the entry');
    const type = buf.readUInt8(p);
    const len = buf.readUInt8(p + 1);
    p += 2;
    if (len === 0 || p + len > end) return drop('option', `option ${type} length ${len} beyond the entry`);
    const t = type & ~SYNC_WIRE.optFParam;
    if (t === SYNC_WIRE.optSeqData && len !== SYNC_WIRE.optSeqDataBytes) return drop('option', `sequence option of ${len} bytes`);
    if (t !== SYNC_WIRE.optSeqData && t !== SYNC_WIRE.optPeData && t !== SYNC_WIRE.optPeName && !(type & SYNC_WIRE.optFParam)) return drop('option', `unknown mandatory option ${t}`);
    p += len;
  }
  return undefined;
}

function readEntry(buf: Buffer, p: number, size: number): SyncConn | SyncDecodeResult {
  const type = buf.readUInt8(p);
  if (type & SYNC_WIRE.typeInet6) return drop('ipv6', 'IPv6 entry');
  if (size < SYNC_WIRE.entryV4Bytes) return drop('truncated', `entry of ${size} bytes`);
  const bad = checkOptions(buf, p + SYNC_WIRE.entryV4Bytes, p + size);
  if (bad) return bad;
  const c: SyncConn = {
    protocol: buf.readUInt8(p + 1),
    flags: buf.readUInt32BE(p + 4) & CONN_F.backupMask,
    state: buf.readUInt16BE(p + 8),
    clientPort: buf.readUInt16BE(p + 10),
    vport: buf.readUInt16BE(p + 12),
    dport: buf.readUInt16BE(p + 14),
    fwmark: buf.readUInt32BE(p + 16),
    timeoutS: buf.readUInt32BE(p + 20),
    clientAddr: buf.readUInt32BE(p + 24),
    vaddr: buf.readUInt32BE(p + 28),
    daddr: buf.readUInt32BE(p + 32),
  };
  if (c.flags & CONN_F.template) {
    if (c.protocol !== IPPROTO.ip && c.protocol !== IPPROTO.tcp && c.protocol !== IPPROTO.udp) return drop('protocol', `template protocol ${c.protocol}`);
    if (c.protocol === IPPROTO.ip && c.fwmark === 0) return drop('protocol', 'fwmark template without a mark');
  } else if (c.protocol === IPPROTO.tcp) {
    if (c.state >= TCP_STATES.length) return drop('state', `TCP state ${c.state}`);
  } else if (c.protocol === IPPROTO.udp) {
    if (c.state !== UDP_STATE_NORMAL) return drop('state', `UDP state ${c.state}`);
  } else return drop('protocol', `protocol ${c.protocol}`);
  return c;
}

/**
 * Decode and validate one datagram. `syncid` 0 accepts every sync id (as the kernel's backup
 * does); `key` requires and checks the HMAC trailer.
 */
export function decodeSyncMessage(buf: Buffer, opts: { syncid?: number; key?: Buffer } = {}): SyncDecodeResult {
  if (buf.length < SYNC_WIRE.headerBytes) return drop('short', `${buf.length} bytes`);
  const size = buf.readUInt16BE(2);
  const trailer = opts.key ? SYNC_WIRE.macBytes : 0;
  if (buf.length !== size + trailer || size < SYNC_WIRE.headerBytes) return drop('size', `size field ${size}, datagram ${buf.length} bytes`);
  if (opts.key) {
    const want = mac(opts.key, buf.subarray(0, size));
    if (!timingSafeEqual(want, buf.subarray(size))) return drop('auth', 'bad HMAC');
  }
  const syncid = buf.readUInt8(1);
  if (opts.syncid && syncid !== opts.syncid) return drop('syncid', `sync id ${syncid}`);
  if (buf.readInt8(5) !== SYNC_WIRE.version || buf.readUInt8(0) !== 0 || buf.readUInt16BE(6) !== 0) return drop('version', `version ${buf.readInt8(5)} (only version 1 messages are read)`);
  const n = buf.readUInt8(4);
  const conns: SyncConn[] = [];
  let p = SYNC_WIRE.headerBytes;
  for (let i = 0; i < n; i++) {
    if (p + SYNC_WIRE.entryV4Bytes > size) return drop('truncated', `entry ${i + 1} of ${n} beyond the message`);
    const verSize = buf.readUInt16BE(p + 2);
    const esize = verSize & 0x0fff;
    if (verSize >> 12) return drop('entry-version', `entry version ${verSize >> 12}`);
    if (p + esize > size) return drop('truncated', `entry ${i + 1} of ${n} beyond the message`);
    const e = readEntry(buf, p, esize);
    if ('ok' in e) return e;
    conns.push(e);
    p += (esize + 3) & ~3;
  }
  if (p !== size) return drop('size', `${size - p} bytes after the last entry`);
  return { ok: true, syncid, conns };
}
