/**
 * votequorum's arithmetic as pure functions. The view leader merges the members' quorum state
 * and ships it inside the install message, so every member of a view computes the same answer.
 */
import type { NodeEntry, QuorumConfig } from './config.js';
import type { QuorumState } from './messages.js';

export interface QuorumInfo {
  readonly quorate: boolean;
  /** Votes of the view's members. */
  readonly totalVotes: number;
  readonly expectedVotes: number;
  /** Votes needed: floor(expected / 2) + 1, or 1 for a two-node cluster. */
  readonly quorumVotes: number;
  readonly waitForAll: boolean;
  readonly waitForAllMet: boolean;
  /** Quorate only thanks to auto_tie_breaker. */
  readonly tieBroken: boolean;
}

export function configuredExpectedVotes(cfg: QuorumConfig, nodes: readonly NodeEntry[]): number {
  return cfg.expectedVotes ?? nodes.reduce((sum, n) => sum + n.votes, 0);
}

/** wait_for_all defaults to on for two_node clusters without auto_tie_breaker (as votequorum). */
export function waitForAllEnabled(cfg: QuorumConfig): boolean {
  return cfg.waitForAll ?? (cfg.twoNode && !cfg.autoTieBreaker);
}

export function initialQuorumState(cfg: QuorumConfig, nodes: readonly NodeEntry[]): QuorumState {
  return { expectedVotes: configuredExpectedVotes(cfg, nodes), waitForAllMet: false };
}

function votesOf(nodes: readonly NodeEntry[], memberIds: readonly number[]): number {
  let total = 0;
  for (const id of memberIds) total += nodes.find((n) => n.nodeId === id)?.votes ?? 0;
  return total;
}

/**
 * Quorum of a view with the given members, starting from the agreed state. Returns the answer
 * and the state to carry forward (expected votes never below the votes present, as votequorum).
 */
export function evaluateQuorum(
  cfg: QuorumConfig,
  nodes: readonly NodeEntry[],
  memberIds: readonly number[],
  state: QuorumState,
): { info: QuorumInfo; next: QuorumState } {
  const totalVotes = votesOf(nodes, memberIds);
  const expectedVotes = Math.max(state.expectedVotes, totalVotes);
  const quorumVotes = cfg.twoNode && expectedVotes === 2 ? 1 : Math.floor(expectedVotes / 2) + 1;
  const waitForAll = waitForAllEnabled(cfg);
  const waitForAllMet = state.waitForAllMet || totalVotes >= configuredExpectedVotes(cfg, nodes);
  const lowestId = nodes[0]?.nodeId;
  const byVotes = totalVotes >= quorumVotes;
  const tieBroken = !byVotes && cfg.autoTieBreaker && totalVotes * 2 === expectedVotes && lowestId !== undefined && memberIds.includes(lowestId);
  const quorate = (byVotes || tieBroken) && (!waitForAll || waitForAllMet);
  return {
    info: { quorate, totalVotes, expectedVotes, quorumVotes, waitForAll, waitForAllMet, tieBroken },
    next: { expectedVotes, waitForAllMet },
  };
}

/** Merges the states members bring into a new view: the highest expected votes, wait_for_all met if anyone met it. */
export function mergeQuorumStates(states: readonly QuorumState[], fallback: QuorumState): QuorumState {
  if (states.length === 0) return fallback;
  return {
    expectedVotes: Math.max(...states.map((s) => s.expectedVotes)),
    waitForAllMet: states.some((s) => s.waitForAllMet),
  };
}

/**
 * last_man_standing: after a quorate view stayed unchanged for the window, expected votes drop
 * to the votes present, but never below 2 (going down to one node needs auto_tie_breaker,
 * which then decides the 1-of-2 split).
 */
export function lastManStandingExpected(state: QuorumState, totalVotes: number): number {
  return Math.min(state.expectedVotes, Math.max(totalVotes, 2));
}
