/**
 * The join protocol of `paceline cluster init` / `paceline cluster join`: how a new node gets the
 * cluster's configuration and authkey from the first node without passwordless ssh.
 *
 * The secret is a one-time join token that `init` makes and prints, `pl1.<expiry>.<secret>`:
 * 32 random bytes (base64url) and the second it expires at, so a joining node names an expired
 * token itself even when the join service has already gone. The whole token string is the input
 * key material of HKDF-SHA256 (256 bits of entropy: no password stretching is needed):
 *
 * - the joining node sends one request line (JSON) with a fresh nonce, who it is, and a proof:
 *   HMAC-SHA256 under the token's proof key over the request's other fields. The token itself
 *   never crosses the wire. The service refuses a wrong proof (`bad-token`), an expired offer
 *   (`expired`) and a nonce it saw already (`replay`), and answers nothing secret then;
 * - the service answers one line: the cluster's configuration and the authkey sealed with
 *   AES-256-GCM under a key derived from the token and the request's nonce, the nonce and the
 *   protocol version as additional data. Only a holder of the token can open it, and opening it
 *   proves the answer came from one (a wrong token or an altered answer fails to open: nothing
 *   is written).
 *
 * Wire format (version 1): one JSON object per line each way, at most JOIN_LINE_BYTES_MAX bytes.
 * `decideJoin` is the service's decision as a function of its state, the request and the clock,
 * so it is tested without sockets; `JoinService` and `requestJoin` are the socket edges.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createConnection, createServer, isIP, type Server, type Socket } from 'node:net';

export const JOIN_PROTOCOL_VERSION = 1;
const LABEL = 'paceline-cluster-join-v1';
const TOKEN_SECRET_BYTES = 32;
const NONCE_BYTES = 16;
const GCM_IV_BYTES = 12;
/** Bound of one protocol line: a configuration of 32 nodes and a 4096-byte key fit many times over. */
export const JOIN_LINE_BYTES_MAX = 256 * 1024;
/** A connection that sends no complete request in this time is closed (slow or stray clients). */
export const JOIN_REQUEST_TIMEOUT_MS = 10_000;
/** Nonces remembered against replays: more than any cluster has nodes, bounded. */
const NONCES_MAX = 4096;

// ---------------------------------------------------------------------------------------------
// Token

export interface JoinToken {
  /** The token as printed and typed: the HKDF input. */
  readonly text: string;
  /** When it expires (ms since the epoch; a whole second). */
  readonly expiresAtMs: number;
}

/** A fresh token valid for `ttlMs` from `nowMs`. */
export function newJoinToken(nowMs: number, ttlMs: number): JoinToken {
  const expSec = Math.ceil((nowMs + ttlMs) / 1000);
  return { text: `pl1.${expSec}.${randomBytes(TOKEN_SECRET_BYTES).toString('base64url')}`, expiresAtMs: expSec * 1000 };
}

/** Parses a typed token; an error names what is wrong with it (never its secret). */
export function parseJoinToken(text: string): { ok: true; token: JoinToken } | { ok: false; reason: string } {
  const m = /^pl1\.(\d{1,12})\.([A-Za-z0-9_-]+)$/.exec(text.trim());
  if (m === null) return { ok: false, reason: 'not a join token (expected pl1.<expiry>.<secret>, as `paceline cluster init` prints it)' };
  if (Buffer.from(m[2]!, 'base64url').length !== TOKEN_SECRET_BYTES) return { ok: false, reason: 'the token is truncated or altered (its secret is not 32 bytes): copy the whole line again' };
  return { ok: true, token: { text: text.trim(), expiresAtMs: Number(m[1]) * 1000 } };
}

/** "expired at <ISO>" when the token is past its expiry at `nowMs`. */
export function tokenExpired(token: JoinToken, nowMs: number): string | undefined {
  return nowMs >= token.expiresAtMs ? `the join token expired at ${new Date(token.expiresAtMs).toISOString()}; ask for a new one with \`paceline cluster token\` on a configured node` : undefined;
}

function subKey(token: string, salt: Buffer | string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), typeof salt === 'string' ? Buffer.from(salt) : salt, Buffer.from(`${LABEL} ${info}`), 32));
}

// ---------------------------------------------------------------------------------------------
// Request and its proof

/** Who asks to join; the service picks the node entry from it (`pickNode`). */
export interface JoinIdentity {
  /** The node name asked for (--node-name); undefined: pick by hostname or address. */
  readonly name: string | undefined;
  /** The joining machine's short hostname. */
  readonly hostname: string;
  /** The joining machine's own IP addresses (non-loopback first). */
  readonly addresses: readonly string[];
  /** A node the cluster does not list yet: its messaging address, IP or IP:PORT (--bind; default: its first IPv4, the serving node's port). */
  readonly bind?: string;
  /** A node the cluster does not list yet: the node id it asks for (--node-id; default: the next free one). */
  readonly nodeId?: number;
}

export interface JoinRequest extends JoinIdentity {
  readonly v: number;
  /** base64, NONCE_BYTES random bytes: salts the answer's key and binds the answer to this request. */
  readonly nonce: string;
  /** base64 HMAC-SHA256 of the other fields under the token's proof key. */
  readonly proof: string;
}

const proofInput = (r: Omit<JoinRequest, 'proof'>): string =>
  JSON.stringify([r.v, r.nonce, r.name ?? null, r.hostname, r.addresses, ...(r.bind !== undefined || r.nodeId !== undefined ? [r.bind ?? null, r.nodeId ?? null] : [])]);

function proofOf(token: string, r: Omit<JoinRequest, 'proof'>): Buffer {
  return createHmac('sha256', subKey(token, LABEL, 'proof')).update(proofInput(r)).digest();
}

/** The request a holder of `token` sends. */
export function makeJoinRequest(token: string, who: JoinIdentity): JoinRequest {
  const body = {
    v: JOIN_PROTOCOL_VERSION,
    nonce: randomBytes(NONCE_BYTES).toString('base64'),
    name: who.name,
    hostname: who.hostname,
    addresses: [...who.addresses],
    ...(who.bind !== undefined ? { bind: who.bind } : {}),
    ...(who.nodeId !== undefined ? { nodeId: who.nodeId } : {}),
  };
  return { ...body, proof: proofOf(token, body).toString('base64') };
}

/** Whether the request was made with `token` (constant-time comparison). */
export function proofValid(token: string, r: JoinRequest): boolean {
  const got = Buffer.from(r.proof, 'base64');
  const want = proofOf(token, r);
  return got.length === want.length && timingSafeEqual(got, want);
}

// ---------------------------------------------------------------------------------------------
// Sealed answer

export interface SealedAnswer {
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

const aadOf = (nonce: string): Buffer => Buffer.from(`${LABEL}|${nonce}`);

/** Seals `plaintext` for the holder of `token` who sent `nonce` (AES-256-GCM, fresh IV). */
export function sealAnswer(token: string, nonce: string, plaintext: Buffer): SealedAnswer {
  const iv = randomBytes(GCM_IV_BYTES);
  const c = createCipheriv('aes-256-gcm', subKey(token, Buffer.from(nonce, 'base64'), 'seal'), iv);
  c.setAAD(aadOf(nonce));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { iv: iv.toString('base64'), ct: ct.toString('base64'), tag: c.getAuthTag().toString('base64') };
}

/** Opens a sealed answer; undefined when the token is wrong or the answer was altered. */
export function openAnswer(token: string, nonce: string, a: SealedAnswer): Buffer | undefined {
  try {
    const tag = Buffer.from(a.tag, 'base64');
    if (tag.length !== 16) return undefined;
    const d = createDecipheriv('aes-256-gcm', subKey(token, Buffer.from(nonce, 'base64'), 'seal'), Buffer.from(a.iv, 'base64'));
    d.setAAD(aadOf(nonce));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(Buffer.from(a.ct, 'base64')), d.final()]);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The service's decision

/** One node of the offered nodelist. */
export interface OfferNode {
  readonly id: number;
  readonly name: string;
  readonly addresses: readonly string[];
  readonly votes: number;
}

/** What a joining node receives (sealed): the cluster-wide configuration and the key. */
export interface JoinGrant {
  readonly clusterName: string;
  /** The entry the joining node is. */
  readonly node: { readonly id: number; readonly name: string };
  readonly nodes: readonly OfferNode[];
  /** The version of `nodes` (0 or absent: as init wrote it; see the daemon's nodelistVersion). */
  readonly nodelistVersion?: number;
  /** The joining node was added to the running cluster's nodelist for this join. */
  readonly added?: boolean;
  /** The messaging section without this node's paths (authkeyPath, statusPath, incarnationPath). */
  readonly messaging: Record<string, unknown>;
  /** base64 of the authkey. */
  readonly authkey: string;
}

/** What the service offers: set up once by `init`, handed to the service process. */
export interface JoinOffer {
  readonly token: string;
  readonly expiresAtMs: number;
  readonly clusterName: string;
  /** The node that ran init (it cannot join itself). */
  readonly initNode: string;
  readonly nodes: readonly OfferNode[];
  /** The version of `nodes` in the serving node's configuration. */
  readonly nodelistVersion?: number;
  readonly messaging: Record<string, unknown>;
  readonly authkey: string;
}

export type JoinErrorCode = 'bad-request' | 'version' | 'expired' | 'bad-token' | 'replay' | 'unknown-node' | 'ambiguous' | 'init-node' | 'not-local' | 'add-refused';

export type JoinReply = { v: number; ok: true; sealed: SealedAnswer } | { v: number; ok: false; code: JoinErrorCode; message: string };

/** The service's memory between requests. */
export interface JoinServiceState {
  readonly nonces: Set<string>;
  /** Node names that were answered (a node may join again: its first attempt may have failed locally). */
  readonly joined: Set<string>;
}

const hostOf = (address: string): string => {
  const m = /^\[([^\]]+)\]:\d+$/.exec(address) ?? /^([^:]+):\d+$/.exec(address);
  return m ? m[1]! : address;
};

/** Strips the IPv4-mapped prefix node's sockets report (::ffff:10.0.0.2). */
export const plainIp = (ip: string): string => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

/**
 * The node entry a request stands for: the name it asks for; else the node named like its
 * hostname; else the one node whose address is one of the machine's own (or the address it
 * connected from). Loopback addresses identify nobody: on one machine, every node has them.
 */
export function pickNode(offer: Pick<JoinOffer, 'nodes' | 'initNode'>, who: JoinIdentity, remoteIp: string | undefined): { ok: true; node: OfferNode } | { ok: false; code: JoinErrorCode; message: string } {
  const others = offer.nodes.filter((n) => n.name !== offer.initNode);
  const list = offer.nodes.map((n) => `${n.name} ${n.addresses.join(' ')}`).join(', ');
  if (who.name !== undefined) {
    if (who.name === offer.initNode) return { ok: false, code: 'init-node', message: `${who.name} is the node that ran init; it is configured already` };
    const n = others.find((x) => x.name === who.name);
    if (n) return ownAddress(n, who);
    return { ok: false, code: 'unknown-node', message: `node ${who.name} is not in the cluster's node list (${list}); to add a node to the running cluster, use a token of \`paceline cluster token\` run on a member (see \`paceline cluster --help\`)` };
  }
  const byName = others.find((n) => n.name === who.hostname);
  if (byName) return ownAddress(byName, who);
  const mine = new Set([...who.addresses, ...(remoteIp === undefined ? [] : [plainIp(remoteIp)])].filter((a) => !/^(127\.|::1$)/.test(a)));
  const byAddr = others.filter((n) => n.addresses.some((a) => mine.has(hostOf(a))));
  if (byAddr.length === 1) return { ok: true, node: byAddr[0]! };
  if (byAddr.length > 1) return { ok: false, code: 'ambiguous', message: `this machine has the address of several nodes (${byAddr.map((n) => n.name).join(', ')}): name the node with --node-name` };
  return { ok: false, code: 'unknown-node', message: `no node of the cluster is named ${who.hostname} or has an address of this machine (nodes: ${list}): name the node with --node-name` };
}

/**
 * The node picked must have an address of the joining machine (IP literals only: a name is not
 * checked), or its daemon could not bind it: refused before the node counts as joined.
 */
function ownAddress(n: OfferNode, who: JoinIdentity): { ok: true; node: OfferNode } | { ok: false; code: JoinErrorCode; message: string } {
  const hosts = n.addresses.map(hostOf).filter((h) => isIP(h) !== 0);
  const mine = new Set(who.addresses);
  const foreign = hosts.filter((h) => !mine.has(h));
  if (foreign.length === 0) return { ok: true, node: n };
  return { ok: false, code: 'not-local', message: `node ${n.name}'s address ${foreign.join(', ')} is not an address of the joining machine (${who.addresses.join(', ') || 'none'}): wrong --node-name or -i?` };
}

const fail = (code: JoinErrorCode, message: string): JoinReply => ({ v: JOIN_PROTOCOL_VERSION, ok: false, code, message });

/** Parses one request line; undefined when it is not a well-formed request. */
export function parseJoinRequest(line: string): JoinRequest | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const str = (x: unknown): x is string => typeof x === 'string';
  if (typeof r.v !== 'number' || !str(r.nonce) || !str(r.proof) || !str(r.hostname) || !(r.name === undefined || r.name === null || str(r.name))) return undefined;
  if (!Array.isArray(r.addresses) || !r.addresses.every(str)) return undefined;
  if (!(r.bind === undefined || str(r.bind)) || !(r.nodeId === undefined || Number.isSafeInteger(r.nodeId))) return undefined;
  return {
    v: r.v,
    nonce: r.nonce,
    proof: r.proof,
    hostname: r.hostname,
    name: str(r.name) ? r.name : undefined,
    addresses: r.addresses,
    ...(str(r.bind) ? { bind: r.bind } : {}),
    ...(typeof r.nodeId === 'number' ? { nodeId: r.nodeId } : {}),
  };
}

/** A node to add to the running cluster's nodelist for a join (the API's cluster.add-node params). */
export interface NodeToAdd {
  readonly name: string;
  /** host:port */
  readonly address: string;
  readonly id?: number;
}

const NEW_NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * The entry of a node the offer does not list, for a service that may add nodes: the name asked
 * for (else the hostname), the address asked for (--bind; else the machine's first IPv4 that is
 * not loopback, else its first address) with the serving node's port when none is given; the
 * address must be one of the joining machine's own.
 */
export function nodeToAdd(offer: Pick<JoinOffer, 'nodes' | 'initNode'>, who: JoinIdentity): { ok: true; node: NodeToAdd } | { ok: false; code: JoinErrorCode; message: string } {
  const name = who.name ?? who.hostname;
  if (!NEW_NODE_NAME.test(name)) return { ok: false, code: 'unknown-node', message: `${JSON.stringify(name)} is not a valid node name: name the node with --node-name` };
  const port = Number(/:(\d+)$/.exec(offer.nodes.find((n) => n.name === offer.initNode)?.addresses[0] ?? '')?.[1] ?? 5405);
  const wanted = who.bind ?? who.addresses.find((a) => isIP(a) === 4 && !a.startsWith('127.')) ?? who.addresses[0];
  if (wanted === undefined) return { ok: false, code: 'not-local', message: 'the joining machine reported no address: give its messaging address with --bind' };
  const m = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(wanted) ?? /^([0-9.]+)(?::(\d{1,5}))?$/.exec(wanted) ?? /^([0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)()$/.exec(wanted);
  const host = m?.[1] ?? '';
  const p = m?.[2] ? Number(m[2]) : port;
  if (isIP(host) === 0 || p < 1 || p > 65535) return { ok: false, code: 'bad-request', message: `--bind ${wanted}: expected an IP address with an optional port` };
  if (!who.addresses.includes(host)) return { ok: false, code: 'not-local', message: `${host} is not an address of the joining machine (${who.addresses.join(', ') || 'none'})` };
  const address = isIP(host) === 6 ? `[${host}]:${p}` : `${host}:${p}`;
  return { ok: true, node: { name, address, ...(who.nodeId !== undefined ? { id: who.nodeId } : {}) } };
}

/**
 * The service's answer to one request line at `nowMs`; records the nonce and the node answered
 * in `state`. Checks, in order: form, version, expiry, proof of the token, replay, node entry.
 */
export function decideJoin(offer: JoinOffer, state: JoinServiceState, line: string, remoteIp: string | undefined, nowMs: number): { reply: JoinReply; joined?: string } {
  return decide(offer, state, line, remoteIp, nowMs, false) as { reply: JoinReply; joined?: string };
}

/**
 * decideJoin for a service that may add nodes to the running cluster: a request for a node the
 * offer does not list is answered with `add` (the entry to ask the cluster for, nodeToAdd); the
 * caller asks the cluster, then answers with `grantAdded`.
 */
export function decideJoinOrAdd(offer: JoinOffer, state: JoinServiceState, line: string, remoteIp: string | undefined, nowMs: number): { reply: JoinReply; joined?: string } | { add: NodeToAdd; nonce: string } {
  return decide(offer, state, line, remoteIp, nowMs, true);
}

function decide(
  offer: JoinOffer,
  state: JoinServiceState,
  line: string,
  remoteIp: string | undefined,
  nowMs: number,
  canAdd: boolean,
): { reply: JoinReply; joined?: string } | { add: NodeToAdd; nonce: string } {
  const req = parseJoinRequest(line);
  if (req === undefined) return { reply: fail('bad-request', 'not a join request') };
  if (req.v !== JOIN_PROTOCOL_VERSION) return { reply: fail('version', `join protocol version ${req.v} is not supported (this service speaks ${JOIN_PROTOCOL_VERSION})`) };
  if (nowMs >= offer.expiresAtMs) return { reply: fail('expired', `the join token expired at ${new Date(offer.expiresAtMs).toISOString()}; make a new one with \`paceline cluster token\` on a configured node`) };
  if (Buffer.from(req.nonce, 'base64').length !== NONCE_BYTES || !proofValid(offer.token, req)) return { reply: fail('bad-token', 'wrong join token: this service was started with another one') };
  if (state.nonces.has(req.nonce)) return { reply: fail('replay', 'this request was answered already (a replayed request)') };
  if (state.nonces.size >= NONCES_MAX) state.nonces.clear();
  state.nonces.add(req.nonce);
  const picked = pickNode(offer, req, remoteIp);
  if (!picked.ok && picked.code === 'unknown-node' && canAdd) {
    const add = nodeToAdd(offer, req);
    return add.ok ? { add: add.node, nonce: req.nonce } : { reply: fail(add.code, add.message) };
  }
  if (!picked.ok) return { reply: fail(picked.code, picked.message) };
  const grant: JoinGrant = {
    clusterName: offer.clusterName,
    node: { id: picked.node.id, name: picked.node.name },
    nodes: offer.nodes,
    ...(offer.nodelistVersion !== undefined && offer.nodelistVersion > 0 ? { nodelistVersion: offer.nodelistVersion } : {}),
    messaging: offer.messaging,
    authkey: offer.authkey,
  };
  state.joined.add(picked.node.name);
  return { reply: { v: JOIN_PROTOCOL_VERSION, ok: true, sealed: sealAnswer(offer.token, req.nonce, Buffer.from(JSON.stringify(grant))) }, joined: picked.node.name };
}

/** The answer to a join that added `node` to the running cluster, whose nodelist is now `nodelist`. */
export function grantAdded(offer: JoinOffer, state: JoinServiceState, nonce: string, node: { id: number; name: string }, nodelist: { version: number; nodes: readonly OfferNode[] }): JoinReply {
  const grant: JoinGrant = { clusterName: offer.clusterName, node, nodes: nodelist.nodes, nodelistVersion: nodelist.version, added: true, messaging: offer.messaging, authkey: offer.authkey };
  state.joined.add(node.name);
  return { v: JOIN_PROTOCOL_VERSION, ok: true, sealed: sealAnswer(offer.token, nonce, Buffer.from(JSON.stringify(grant))) };
}

/** Reads a JoinReply from a line; undefined when it is not one. */
export function parseJoinReply(line: string): JoinReply | undefined {
  try {
    const r = JSON.parse(line) as Record<string, unknown>;
    if (r.ok === true && typeof r.sealed === 'object' && r.sealed !== null) {
      const s = r.sealed as Record<string, unknown>;
      if (typeof s.iv === 'string' && typeof s.ct === 'string' && typeof s.tag === 'string') return { v: Number(r.v), ok: true, sealed: { iv: s.iv, ct: s.ct, tag: s.tag } };
    }
    if (r.ok === false && typeof r.code === 'string' && typeof r.message === 'string') return { v: Number(r.v), ok: false, code: r.code as JoinErrorCode, message: r.message };
  } catch {
    // Not JSON: not a reply.
  }
  return undefined;
}

/** The grant inside a sealed answer, checked for form; an error names what is wrong. */
export function openGrant(token: string, nonce: string, sealed: SealedAnswer): { ok: true; grant: JoinGrant } | { ok: false; reason: string } {
  const plain = openAnswer(token, nonce, sealed);
  if (plain === undefined) return { ok: false, reason: 'the answer does not open with this token: it was altered on the way, or it does not come from the join service of this token' };
  let g: JoinGrant;
  try {
    g = JSON.parse(plain.toString('utf8')) as JoinGrant;
  } catch {
    return { ok: false, reason: 'the sealed answer is not JSON' };
  }
  if (typeof g.clusterName !== 'string' || !Array.isArray(g.nodes) || typeof g.authkey !== 'string' || typeof g.node?.name !== 'string' || typeof g.messaging !== 'object') return { ok: false, reason: 'the sealed answer lacks the cluster configuration' };
  return { ok: true, grant: g };
}

// ---------------------------------------------------------------------------------------------
// Socket edges

/** One line from a socket (at most JOIN_LINE_BYTES_MAX bytes), or an error. */
function readLine(sock: Socket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (err: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('error', onError);
      sock.off('end', onEnd);
      if (err) reject(err);
      else resolve(line!);
    };
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(undefined, buf.slice(0, nl));
      else if (buf.length > JOIN_LINE_BYTES_MAX) done(new Error(`line longer than ${JOIN_LINE_BYTES_MAX} bytes`));
    };
    const onError = (e: Error): void => done(e);
    const onEnd = (): void => done(new Error('the connection closed before a whole line arrived'));
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('end', onEnd);
  });
}

export type JoinServiceEvent =
  | { readonly event: 'joined'; readonly node: string; readonly from: string }
  | { readonly event: 'added'; readonly node: string; readonly id: number; readonly address: string; readonly version: number; readonly from: string }
  | { readonly event: 'refused'; readonly code: JoinErrorCode; readonly from: string; readonly message?: string }
  | { readonly event: 'stopped'; readonly reason: StopReason };

type StopReason = 'all-joined' | 'node-added' | 'expired' | 'closed';

/**
 * Adds a node to the running cluster (the API's cluster.add-node through the serving node):
 * resolves with the entry and the nodelist in force once the cluster applied it, or with why not.
 */
export type AddNode = (node: NodeToAdd) => Promise<{ ok: true; node: OfferNode; nodelist: { version: number; nodes: readonly OfferNode[] } } | { ok: false; message: string }>;

/**
 * The join service: a TCP listener that answers join requests for `offer` until every node of
 * the nodelist but the init node has been answered, the offer expires, or `close()`. With
 * `addNode` (`paceline cluster token` on a running node), a node the offer does not list is added
 * to the running cluster through it, and the service then stops: one token adds one node.
 */
export class JoinService {
  private readonly state: JoinServiceState = { nonces: new Set(), joined: new Set() };
  private expiryTimer: NodeJS.Timeout | undefined;
  /** An add is under way or done: this token adds no other node. */
  private adding = false;
  private resolveStopped!: (reason: StopReason) => void;
  /** Resolves once the service stopped listening, with why. */
  readonly stopped = new Promise<StopReason>((r) => (this.resolveStopped = r));

  private constructor(
    private readonly server: Server,
    private readonly offer: JoinOffer,
    private readonly onEvent: (e: JoinServiceEvent) => void,
    private readonly addNode: AddNode | undefined,
  ) {}

  /** Listens on host:port (port 0: any free one); rejects with the listen error (EADDRINUSE, EADDRNOTAVAIL). */
  static async start(opts: { host: string; port: number; offer: JoinOffer; onEvent?: (e: JoinServiceEvent) => void; now?: () => number; addNode?: AddNode }): Promise<JoinService> {
    const server = createServer();
    const svc = new JoinService(server, opts.offer, opts.onEvent ?? (() => undefined), opts.addNode);
    const now = opts.now ?? Date.now;
    server.on('connection', (sock) => void svc.serve(sock, now));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const left = Math.max(0, opts.offer.expiresAtMs - now());
    svc.expiryTimer = setTimeout(() => svc.stop('expired'), Math.min(left, 2 ** 31 - 1));
    return svc;
  }

  /** The port listened on. */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** Node names answered so far. */
  get joined(): readonly string[] {
    return [...this.state.joined];
  }

  close(): void {
    this.stop('closed');
  }

  private stop(reason: StopReason): void {
    if (this.expiryTimer === undefined) return;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.server.close(() => {
      this.onEvent({ event: 'stopped', reason });
      this.resolveStopped(reason);
    });
  }

  private async serve(sock: Socket, now: () => number): Promise<void> {
    const from = `${plainIp(sock.remoteAddress ?? '?')}:${sock.remotePort ?? 0}`;
    sock.on('error', () => undefined);
    let line: string;
    try {
      line = await readLine(sock, JOIN_REQUEST_TIMEOUT_MS);
    } catch {
      sock.destroy();
      return;
    }
    const decision = this.addNode !== undefined ? decideJoinOrAdd(this.offer, this.state, line, sock.remoteAddress, now()) : decideJoin(this.offer, this.state, line, sock.remoteAddress, now());
    if ('add' in decision) {
      await this.serveAdd(sock, decision.add, decision.nonce, from);
      return;
    }
    const { reply, joined } = decision;
    if (joined !== undefined) this.onEvent({ event: 'joined', node: joined, from });
    else if (!reply.ok) this.onEvent({ event: 'refused', code: reply.code, from });
    sock.end(`${JSON.stringify(reply)}\n`);
    const waiting = this.offer.nodes.filter((n) => n.name !== this.offer.initNode && !this.state.joined.has(n.name));
    if (joined !== undefined && waiting.length === 0) sock.once('close', () => this.stop('all-joined'));
  }

  /** Adds the node to the running cluster, then answers with the cluster's new nodelist; one add per service. */
  private async serveAdd(sock: Socket, add: NodeToAdd, nonce: string, from: string): Promise<void> {
    const refuse = (message: string): void => {
      this.onEvent({ event: 'refused', code: 'add-refused', from, message });
      sock.end(`${JSON.stringify(fail('add-refused', message))}\n`);
    };
    if (this.adding || this.addNode === undefined) return refuse('this join token has added a node already: ask for a new one with `paceline cluster token`');
    this.adding = true;
    let r: Awaited<ReturnType<AddNode>>;
    try {
      r = await this.addNode(add);
    } catch (e) {
      r = { ok: false, message: (e as Error).message };
    }
    if (!r.ok) {
      this.adding = false;
      return refuse(`the cluster did not add ${add.name} (${add.address}): ${r.message}`);
    }
    this.onEvent({ event: 'added', node: r.node.name, id: r.node.id, address: r.node.addresses.join(','), version: r.nodelist.version, from });
    sock.end(`${JSON.stringify(grantAdded(this.offer, this.state, nonce, { id: r.node.id, name: r.node.name }, r.nodelist))}\n`);
    sock.once('close', () => this.stop('node-added'));
  }
}

/** The join service answered and refused (or its answer did not open): `code` says why. */
export class JoinRefusedError extends Error {
  constructor(
    readonly code: JoinErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Asks the join service at host:port for the cluster with `token`. Resolves with the opened
 * grant; rejects with a JoinRefusedError when the service refused or its answer does not open
 * with the token, with an Error when it cannot be reached or does not answer.
 */
export async function requestJoin(opts: { host: string; port: number; token: string; who: JoinIdentity; timeoutMs?: number }): Promise<JoinGrant> {
  const timeoutMs = opts.timeoutMs ?? JOIN_REQUEST_TIMEOUT_MS;
  const where = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  const sock = createConnection({ host: opts.host, port: opts.port });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no join service answered at ${where} within ${timeoutMs / 1000} s`)), timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new Error(e.code === 'ECONNREFUSED' ? `no join service at ${where} (connection refused): it stops once every node joined or its token expired; make a new token with \`paceline cluster token\` there` : `cannot reach the join service at ${where}: ${e.message}`));
      });
    });
    const req = makeJoinRequest(opts.token, opts.who);
    sock.write(`${JSON.stringify(req)}\n`);
    // An added node's answer waits for the cluster to agree on the new nodelist.
    const line = await readLine(sock, timeoutMs * 3).catch((e: Error) => {
      throw new Error(`the join service at ${where} did not answer: ${e.message}`);
    });
    const reply = parseJoinReply(line);
    if (reply === undefined) throw new Error(`${where} did not answer as a paceline join service does`);
    if (!reply.ok) throw new JoinRefusedError(reply.code, `the join service refused: ${reply.message}`);
    const g = openGrant(opts.token, req.nonce, reply.sealed);
    if (!g.ok) throw new JoinRefusedError('bad-token', g.reason);
    return g.grant;
  } finally {
    sock.destroy();
  }
}
