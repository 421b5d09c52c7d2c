/**
 * The join protocol's envelope and decisions, without sockets: a joining node that holds the
 * token gets the configuration and the authkey sealed for its request only; a wrong token, an
 * altered answer, a replayed request or an expired offer get nothing.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decideJoin,
  decideJoinOrAdd,
  JoinRefusedError,
  JoinService,
  makeJoinRequest,
  nodeToAdd,
  requestJoin,
  type AddNode,
  type JoinServiceEvent,
  type NodeToAdd,
  newJoinToken,
  openAnswer,
  openGrant,
  parseJoinReply,
  parseJoinToken,
  pickNode,
  sealAnswer,
  tokenExpired,
  type JoinOffer,
  type JoinReply,
  type JoinServiceState,
  type SealedAnswer,
} from './cluster-join.js';
import { parseAddress, parseNodeSpec, parseTtl } from './cluster.js';

const NOW = Date.UTC(2026, 10, 22, 5, 0, 0);
const HOUR = 3600_000;

function offerFor(token: string, expiresAtMs = NOW + HOUR): JoinOffer {
  return {
    token,
    expiresAtMs,
    clusterName: 'web',
    initNode: 'node1',
    nodes: [
      { id: 1, name: 'node1', addresses: ['10.0.0.1:5405'], votes: 1 },
      { id: 2, name: 'node2', addresses: ['10.0.0.2:5405'], votes: 1 },
      { id: 3, name: 'node3', addresses: ['10.0.0.3:5405'], votes: 1 },
    ],
    messaging: { crypto: { mode: 'hmac-sha256', encrypt: false }, links: [{ transport: 'udpu' }] },
    authkey: randomBytes(256).toString('base64'),
  };
}

const fresh = (): JoinServiceState => ({ nonces: new Set(), joined: new Set() });
const node2 = { name: 'node2', hostname: 'box2', addresses: ['10.0.0.2', '127.0.0.1'] };

/** Flips one bit of a base64 field. */
function flip(b64: string, byte = 0): string {
  const b = Buffer.from(b64, 'base64');
  b[byte] = b[byte]! ^ 1;
  return b.toString('base64');
}

function sealedOf(reply: JoinReply): SealedAnswer {
  if (!reply.ok) throw new Error(`refused: ${reply.message}`);
  return reply.sealed;
}

describe('join tokens', () => {
  // The token carries its expiry so a joining node names an expired one even when the service is gone.
  it('round-trips, carries its expiry, and refuses malformed or truncated text', () => {
    const t = newJoinToken(NOW, HOUR);
    expect(t.text).toMatch(/^pl1\.\d+\.[A-Za-z0-9_-]{43}$/);
    const p = parseJoinToken(` ${t.text}\n`);
    expect(p).toEqual({ ok: true, token: t });
    expect(t.expiresAtMs).toBe(NOW + HOUR);
    expect(tokenExpired(t, NOW + HOUR - 1)).toBeUndefined();
    expect(tokenExpired(t, NOW + HOUR)).toMatch(/expired at 2026-11-22T06:00:00.000Z/);
    expect(parseJoinToken('hunter2')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a join token/) });
    expect(parseJoinToken(t.text.slice(0, -4))).toMatchObject({ ok: false, reason: expect.stringMatching(/truncated/) });
    expect(newJoinToken(NOW, HOUR).text).not.toBe(t.text);
  });
});

describe('the join envelope', () => {
  // The whole exchange as the service and a joining node run it: the grant opens with the token.
  it('gives the holder of the token the configuration and the authkey, never the token on the wire', () => {
    const t = newJoinToken(NOW, HOUR).text;
    const offer = offerFor(t);
    const req = makeJoinRequest(t, node2);
    const line = JSON.stringify(req);
    expect(line).not.toContain(t.split('.')[2]);
    const state = fresh();
    const { reply, joined } = decideJoin(offer, state, line, '10.0.0.2', NOW);
    expect(joined).toBe('node2');
    const wire = JSON.stringify(reply);
    expect(wire).not.toContain(offer.authkey.slice(0, 24));
    const g = openGrant(t, req.nonce, sealedOf(parseJoinReply(wire)!));
    expect(g.ok && g.grant).toMatchObject({ clusterName: 'web', node: { id: 2, name: 'node2' }, authkey: offer.authkey, messaging: offer.messaging });
    expect(g.ok && g.grant.nodes.map((n) => n.name)).toEqual(['node1', 'node2', 'node3']);
    expect([...state.joined]).toEqual(['node2']);
  });

  // A request made with another token is refused before anything secret is sealed.
  it('refuses a wrong token and records nothing', () => {
    const offer = offerFor(newJoinToken(NOW, HOUR).text);
    const state = fresh();
    const wrong = newJoinToken(NOW, HOUR).text;
    const { reply, joined } = decideJoin(offer, state, JSON.stringify(makeJoinRequest(wrong, node2)), '10.0.0.2', NOW);
    expect(reply).toMatchObject({ ok: false, code: 'bad-token', message: expect.stringMatching(/wrong join token/) });
    expect(joined).toBeUndefined();
    expect(state.joined.size).toBe(0);
    // A forged proof (right shape, wrong bytes) is refused too.
    const req = makeJoinRequest(offer.token, node2);
    expect(decideJoin(offer, fresh(), JSON.stringify({ ...req, proof: flip(req.proof) }), '10.0.0.2', NOW).reply).toMatchObject({ ok: false, code: 'bad-token' });
    // Altered fields after the proof was made (another node name) break it.
    expect(decideJoin(offer, fresh(), JSON.stringify({ ...req, name: 'node3' }), '10.0.0.3', NOW).reply).toMatchObject({ ok: false, code: 'bad-token' });
  });

  // A sealed answer does not open with another token, and any altered byte is detected.
  it('detects a wrong token, an altered ciphertext, tag or IV, and an answer to another request', () => {
    const t = newJoinToken(NOW, HOUR).text;
    const nonce = randomBytes(16).toString('base64');
    const plain = Buffer.from(JSON.stringify({ secret: 'authkey bytes' }));
    const s = sealAnswer(t, nonce, plain);
    expect(openAnswer(t, nonce, s)?.equals(plain)).toBe(true);
    expect(openAnswer(newJoinToken(NOW, HOUR).text, nonce, s)).toBeUndefined();
    expect(openAnswer(t, nonce, { ...s, ct: flip(s.ct, 3) })).toBeUndefined();
    expect(openAnswer(t, nonce, { ...s, tag: flip(s.tag) })).toBeUndefined();
    expect(openAnswer(t, nonce, { ...s, iv: flip(s.iv) })).toBeUndefined();
    expect(openAnswer(t, nonce, { ...s, tag: s.tag.slice(0, 8) })).toBeUndefined();
    expect(openAnswer(t, randomBytes(16).toString('base64'), s)).toBeUndefined();
    expect(openGrant(t, nonce, { ...s, ct: flip(s.ct) })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not open with this token/) });
  });

  // An offer past its expiry answers nothing, even to the right token.
  it('refuses every request once the offer expired', () => {
    const t = newJoinToken(NOW, HOUR);
    const offer = offerFor(t.text, t.expiresAtMs);
    const line = JSON.stringify(makeJoinRequest(t.text, node2));
    expect(decideJoin(offer, fresh(), line, '10.0.0.2', t.expiresAtMs - 1).reply.ok).toBe(true);
    const late = decideJoin(offer, fresh(), line, '10.0.0.2', t.expiresAtMs);
    expect(late.reply).toMatchObject({ ok: false, code: 'expired', message: expect.stringMatching(/expired at .*paceline cluster token/) });
    expect(late.joined).toBeUndefined();
  });

  // A recorded request sent again is refused (its answer would only open for the original sender anyway).
  it('refuses a replayed request, a bad version and garbage', () => {
    const t = newJoinToken(NOW, HOUR).text;
    const offer = offerFor(t);
    const state = fresh();
    const line = JSON.stringify(makeJoinRequest(t, node2));
    expect(decideJoin(offer, state, line, '10.0.0.2', NOW).reply.ok).toBe(true);
    expect(decideJoin(offer, state, line, '10.0.0.2', NOW).reply).toMatchObject({ ok: false, code: 'replay' });
    expect(decideJoin(offer, state, JSON.stringify({ ...makeJoinRequest(t, node2), v: 2 }), '10.0.0.2', NOW).reply).toMatchObject({ ok: false, code: 'version' });
    expect(decideJoin(offer, state, 'GET / HTTP/1.1', '10.0.0.2', NOW).reply).toMatchObject({ ok: false, code: 'bad-request' });
  });
});

describe('which node a joining machine is', () => {
  const offer = offerFor('x');
  // The name asked for wins; else the hostname; else the one node with an address of the machine.
  it('picks by name, hostname, then address; refuses the init node, strangers and foreign addresses', () => {
    expect(pickNode(offer, node2, undefined)).toMatchObject({ ok: true, node: { id: 2 } });
    expect(pickNode(offer, { name: undefined, hostname: 'node3', addresses: ['10.0.0.3'] }, undefined)).toMatchObject({ ok: true, node: { name: 'node3' } });
    expect(pickNode(offer, { name: undefined, hostname: 'box', addresses: ['192.168.1.5'] }, '::ffff:10.0.0.3')).toMatchObject({ ok: true, node: { name: 'node3' } });
    expect(pickNode(offer, { name: undefined, hostname: 'box', addresses: ['10.0.0.2', '10.0.0.3'] }, undefined)).toMatchObject({ ok: false, code: 'ambiguous' });
    expect(pickNode(offer, { name: undefined, hostname: 'box', addresses: ['127.0.0.1'] }, '127.0.0.1')).toMatchObject({ ok: false, code: 'unknown-node', message: expect.stringMatching(/--node-name/) });
    expect(pickNode(offer, { name: 'node1', hostname: 'box', addresses: ['10.0.0.1'] }, undefined)).toMatchObject({ ok: false, code: 'init-node' });
    expect(pickNode(offer, { name: 'node9', hostname: 'box', addresses: [] }, undefined)).toMatchObject({ ok: false, code: 'unknown-node', message: expect.stringMatching(/not in the cluster's node list/) });
    expect(pickNode(offer, { name: 'node2', hostname: 'box', addresses: ['10.0.0.3'] }, undefined)).toMatchObject({ ok: false, code: 'not-local', message: expect.stringMatching(/10\.0\.0\.2 is not an address of the joining machine/) });
  });
});

describe('bootstrap options', () => {
  // Bad input is named with the option it came from.
  it('parses durations, addresses and node specs, and names what is wrong', () => {
    expect(parseTtl('1h')).toBe(HOUR);
    expect(parseTtl('30m')).toBe(HOUR / 2);
    expect(() => parseTtl('5s')).toThrow(/--ttl 5s/);
    expect(() => parseTtl('8d')).toThrow(/7d/);
    expect(() => parseTtl('soon')).toThrow(/30m, 1h or 2d/);
    expect(parseAddress('10.0.0.1', 5405, '--bind')).toEqual({ host: '10.0.0.1', port: 5405 });
    expect(parseAddress('10.0.0.1:6000', 5405, '--bind')).toEqual({ host: '10.0.0.1', port: 6000 });
    expect(parseAddress('[fd00::1]:6000', 5405, '--bind')).toEqual({ host: 'fd00::1', port: 6000 });
    expect(parseAddress('fd00::1', 5405, '--bind')).toEqual({ host: 'fd00::1', port: 5405 });
    expect(() => parseAddress('node2.example.com', 5405, '--from')).toThrow(/--from "node2.example.com": expected an IP address/);
    expect(() => parseAddress('10.0.0.1:70000', 5405, '--from')).toThrow(/expected an IP address/);
    expect(parseNodeSpec('node2=10.0.0.2', 5405)).toEqual({ name: 'node2', host: '10.0.0.2', port: 5405 });
    expect(() => parseNodeSpec('node2', 5405)).toThrow(/NAME=ADDRESS/);
    expect(() => parseNodeSpec('node2=10.0.0', 5405)).toThrow(/--node node2=/);
  });
});

describe('adding a node to a running cluster', () => {
  const box4 = { name: 'node4', hostname: 'box4', addresses: ['10.0.0.4', '127.0.0.1', 'fd00::4'] };

  // The new node's entry: its name, its address (given, else its first IPv4) with the serving node's port by default.
  it('takes the name and address asked for, else the hostname and the first IPv4, and refuses a foreign address', () => {
    const offer = offerFor(newJoinToken(NOW, HOUR).text);
    expect(nodeToAdd(offer, box4)).toEqual({ ok: true, node: { name: 'node4', address: '10.0.0.4:5405' } });
    expect(nodeToAdd(offer, { ...box4, name: undefined, bind: '10.0.0.4:6000', nodeId: 9 })).toEqual({ ok: true, node: { name: 'box4', address: '10.0.0.4:6000', id: 9 } });
    expect(nodeToAdd(offer, { ...box4, bind: 'fd00::4' })).toEqual({ ok: true, node: { name: 'node4', address: '[fd00::4]:5405' } });
    expect(nodeToAdd(offer, { ...box4, bind: '10.0.0.9' })).toMatchObject({ ok: false, code: 'not-local', message: expect.stringMatching(/10\.0\.0\.9 is not an address of the joining machine/) });
    expect(nodeToAdd(offer, { ...box4, name: undefined, hostname: '-bad' })).toMatchObject({ ok: false, code: 'unknown-node' });
    expect(nodeToAdd(offer, { ...box4, bind: 'box4.example' })).toMatchObject({ ok: false, code: 'bad-request' });
  });

  // Only a service that may add nodes answers an unlisted node with an entry to add; listed nodes are answered as before.
  it('answers an unlisted node with the entry to add, a listed one with the grant, and only with the token', () => {
    const t = newJoinToken(NOW, HOUR).text;
    const offer = offerFor(t);
    const req = makeJoinRequest(t, { ...box4, bind: '10.0.0.4:5409', nodeId: 7 });
    expect(decideJoinOrAdd(offer, fresh(), JSON.stringify(req), '10.0.0.4', NOW)).toEqual({ add: { name: 'node4', address: '10.0.0.4:5409', id: 7 }, nonce: req.nonce });
    expect(decideJoin(offer, fresh(), JSON.stringify(req), '10.0.0.4', NOW).reply).toMatchObject({ ok: false, code: 'unknown-node' });
    expect(decideJoinOrAdd(offer, fresh(), JSON.stringify(makeJoinRequest(t, node2)), '10.0.0.2', NOW)).toMatchObject({ joined: 'node2' });
    // --bind and --node-id are covered by the proof: altered on the way, the request is refused.
    const altered = { ...req, bind: '10.0.0.4:9999' };
    expect(decideJoinOrAdd(offer, fresh(), JSON.stringify(altered), '10.0.0.4', NOW)).toMatchObject({ reply: { ok: false, code: 'bad-token' } });
  });

  // Through the sockets: the cluster (here a function standing for the serving node's API) adds the
  // node, the joining node gets the new nodelist, and the service stops: one token, one new node.
  it('adds one node through the service, then stops; a refusal of the cluster reaches the joining node', async () => {
    const t = newJoinToken(Date.now(), HOUR).text;
    const offer = { ...offerFor(t, Date.now() + HOUR), initNode: 'node1' };
    const asked: NodeToAdd[] = [];
    const addNode: AddNode = async (n) => {
      asked.push(n);
      if (n.name === 'nope') return { ok: false, message: 'no-quorum: this partition is not quorate' };
      const node = { id: 4, name: n.name, addresses: [n.address], votes: 1 };
      return { ok: true, node, nodelist: { version: 1, nodes: [...offer.nodes, node] } };
    };
    const events: JoinServiceEvent[] = [];
    const svc = await JoinService.start({ host: '127.0.0.1', port: 0, offer, addNode, onEvent: (e) => events.push(e) });
    try {
      const who = { name: 'nope', hostname: 'box', addresses: ['127.0.0.1'], bind: '127.0.0.1:5409' };
      const refused = await requestJoin({ host: '127.0.0.1', port: svc.port, token: t, who }).then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(JoinRefusedError);
      expect((refused as JoinRefusedError).code).toBe('add-refused');
      expect((refused as Error).message).toMatch(/the cluster did not add nope \(127\.0\.0\.1:5409\): no-quorum/);
      const g = await requestJoin({ host: '127.0.0.1', port: svc.port, token: t, who: { ...who, name: 'node4' } });
      expect(g).toMatchObject({ node: { id: 4, name: 'node4' }, nodelistVersion: 1, added: true, authkey: offer.authkey });
      expect(g.nodes.map((n) => n.name)).toEqual(['node1', 'node2', 'node3', 'node4']);
      expect(asked.map((n) => `${n.name} ${n.address}`)).toEqual(['nope 127.0.0.1:5409', 'node4 127.0.0.1:5409']);
      expect(await svc.stopped).toBe('node-added');
      expect(events.map((e) => e.event)).toEqual(['refused', 'added', 'stopped']);
    } finally {
      svc.close();
    }
  });
});
