/**
 * Allocation and promotion scores as `crm_simulate -s` (Pacemaker 2.1.5) prints them: a pure
 * formatter over `ScheduleResult.scores`.
 */
import { scoreToString } from '@paceline/cib';
import type { ScoreContribution, ScoreLine } from './types.js';

/** `pcmk__primitive_assign: rsc1 allocation score on node1: INFINITY` or `rsc:0 promotion score on node1: 5`. */
export function formatScoreLine(s: ScoreLine): string {
  if (s.fn === 'promotion') return `${s.rsc} promotion score on ${s.node}: ${scoreToString(s.score)}`;
  return `${s.fn}: ${s.rsc} allocation score on ${s.node}: ${scoreToString(s.score)}`;
}

/** Every score line, in the order the engine computed them. */
export function formatScores(scores: readonly ScoreLine[]): string[] {
  return scores.map(formatScoreLine);
}

/**
 * The scores one run records, compact: one entry per printed table (a resource's nodes and their
 * scores at that moment) instead of one object per resource and node. `lines()` expands them, on
 * demand, into `ScoreLine`s in recording order.
 */
export class ScoreLog {
  private readonly tables: ScoreTable[] = [];
  /**
   * The node names of the last table, sorted, and as a set: most tables have the same nodes (every
   * node of the cluster), and share one sorted list instead of sorting a copy each.
   */
  private lastNodes: readonly string[] = [];
  private lastNodeSet: ReadonlySet<string> = new Set();

  /**
   * Records `scores` (node -> score) of `rsc` for `fn`, nodes in name order. Contribution lists
   * only grow, so a table keeps each list with its length now and copies it when expanded.
   */
  table(fn: string, rsc: string, scores: ReadonlyMap<string, number>, contributions: ReadonlyMap<string, readonly ScoreContribution[]>): void {
    const nodes = this.sortedNodes(scores);
    const values = new Array<number>(nodes.length);
    let traced: Traced[] | undefined;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i] as string;
      values[i] = scores.get(n) ?? 0;
      const list = contributions.get(n);
      if (list && list.length > 0) {
        traced ??= new Array<Traced>(nodes.length);
        traced[i] = { list, length: list.length };
      }
    }
    this.tables.push({ fn, rsc, nodes, values, traced });
  }

  /** The keys of `scores` in name order: the last table's list when the names are the same. */
  private sortedNodes(scores: ReadonlyMap<string, number>): readonly string[] {
    if (scores.size === this.lastNodes.length) {
      let same = true;
      for (const n of scores.keys()) {
        if (!this.lastNodeSet.has(n)) {
          same = false;
          break;
        }
      }
      if (same) return this.lastNodes;
    }
    const nodes = [...scores.keys()].sort();
    this.lastNodes = nodes;
    this.lastNodeSet = new Set(nodes);
    return nodes;
  }

  /** Records one line (promotion scores). */
  line(fn: string, rsc: string, node: string, score: number): void {
    this.tables.push({ fn, rsc, nodes: [node], values: [score], traced: undefined });
  }

  lines(): ScoreLine[] {
    const out: ScoreLine[] = [];
    for (const t of this.tables) {
      for (let i = 0; i < t.nodes.length; i++) {
        const tr = t.traced?.[i];
        out.push({
          fn: t.fn,
          rsc: t.rsc,
          node: t.nodes[i] as string,
          score: t.values[i] ?? 0,
          contributions: tr ? tr.list.slice(0, tr.length) : noContributions,
        });
      }
    }
    return out;
  }
}

/** A contribution list as it was when a table was recorded: the first `length` entries. */
interface Traced {
  readonly list: readonly ScoreContribution[];
  readonly length: number;
}

interface ScoreTable {
  readonly fn: string;
  readonly rsc: string;
  readonly nodes: readonly string[];
  readonly values: readonly number[];
  readonly traced: readonly (Traced | undefined)[] | undefined;
}

const noContributions: readonly ScoreContribution[] = Object.freeze([]);
