import { describe, expect, it } from 'vitest';
import { QUORUM_DEFAULTS, type NodeEntry, type QuorumConfig } from './config.js';
import { evaluateQuorum, initialQuorumState, lastManStandingExpected } from './quorum.js';

const nodes = (n: number, votes: number[] = []): NodeEntry[] => Array.from({ length: n }, (_, i) => ({ nodeId: i + 1, votes: votes[i] ?? 1 }));

interface Row {
  name: string;
  cfg: Partial<QuorumConfig>;
  n: number;
  votes?: number[];
  members: number[];
  waitForAllMet?: boolean;
  expectedVotes?: number;
  quorate: boolean;
}

// votequorum's documented behaviour, one row per rule.
const TABLE: Row[] = [
  { name: '3 nodes, 2 present: majority', cfg: {}, n: 3, members: [1, 2], quorate: true },
  { name: '3 nodes, 1 present: minority', cfg: {}, n: 3, members: [3], quorate: false },
  { name: '4 nodes, 2 present: exactly half is not quorate', cfg: {}, n: 4, members: [1, 2], quorate: false },
  { name: 'weighted votes: node 1 has 3 of 5', cfg: {}, n: 3, votes: [3, 1, 1], members: [1], quorate: true },
  { name: 'expected_votes overrides the node list', cfg: { expectedVotes: 5 }, n: 3, members: [1, 2, 3], quorate: true },
  { name: 'expected_votes 7 with 3 present', cfg: { expectedVotes: 7 }, n: 3, members: [1, 2, 3], quorate: false },
  { name: 'two_node: 1 of 2 is quorate once all were seen', cfg: { twoNode: true }, n: 2, members: [2], waitForAllMet: true, quorate: true },
  { name: 'two_node implies wait_for_all: 1 of 2 at first start is not quorate', cfg: { twoNode: true }, n: 2, members: [1], quorate: false },
  { name: 'two_node with wait_for_all disabled: 1 of 2 quorate at once', cfg: { twoNode: true, waitForAll: false }, n: 2, members: [1], quorate: true },
  { name: 'wait_for_all: all present satisfies it', cfg: { waitForAll: true }, n: 3, members: [1, 2, 3], quorate: true },
  { name: 'wait_for_all: majority at first start is not enough', cfg: { waitForAll: true }, n: 3, members: [1, 2], quorate: false },
  { name: 'auto_tie_breaker: half with the lowest id wins', cfg: { autoTieBreaker: true }, n: 4, members: [1, 3], quorate: true },
  { name: 'auto_tie_breaker: half without the lowest id loses', cfg: { autoTieBreaker: true }, n: 4, members: [2, 4], quorate: false },
  { name: 'auto_tie_breaker does not rescue less than half', cfg: { autoTieBreaker: true }, n: 5, members: [1, 2], quorate: false },
  { name: 'lowered expected votes (last_man_standing) keep 2 of 3 remaining quorate', cfg: { lastManStanding: true }, n: 8, members: [1, 2], expectedVotes: 3, quorate: true },
];

describe('votequorum arithmetic', () => {
  // Each row is one votequorum rule; a wrong answer here means split brain or a needlessly stopped cluster.
  it.each(TABLE.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    const ns = nodes(r.n, r.votes);
    const cfg = { ...QUORUM_DEFAULTS, ...r.cfg };
    const base = initialQuorumState(cfg, ns);
    const state = { expectedVotes: r.expectedVotes ?? base.expectedVotes, waitForAllMet: r.waitForAllMet ?? false };
    expect(evaluateQuorum(cfg, ns, r.members, state).info.quorate).toBe(r.quorate);
  });

  // wait_for_all, once met, stays met: a later partition is judged by votes alone.
  it('remembers that wait_for_all was met', () => {
    const ns = nodes(3);
    const cfg = { ...QUORUM_DEFAULTS, waitForAll: true };
    const all = evaluateQuorum(cfg, ns, [1, 2, 3], initialQuorumState(cfg, ns));
    expect(all.next.waitForAllMet).toBe(true);
    expect(evaluateQuorum(cfg, ns, [1, 2], all.next).info.quorate).toBe(true);
  });

  // last_man_standing lowers expected votes to the survivors but never below 2.
  it('lowers expected votes for last_man_standing down to 2', () => {
    expect(lastManStandingExpected({ expectedVotes: 8, waitForAllMet: true }, 5)).toBe(5);
    expect(lastManStandingExpected({ expectedVotes: 8, waitForAllMet: true }, 1)).toBe(2);
    expect(lastManStandingExpected({ expectedVotes: 3, waitForAllMet: true }, 5)).toBe(3);
  });
});
