/**
 * Safety and liveness checks over a simulation's recorded history. Each returns a list of
 * violations (empty when the property holds), phrased so a failing seed explains itself.
 */
import type { MessagingConfig } from '../config.js';
import { viewKey, type ProcessHistory, type Simulation } from './sim.js';

/**
 * Quorum as votequorum computes it for one partition, written independently of quorum.ts for the
 * stateless options: votes, expected_votes, two_node (with wait_for_all off) and auto_tie_breaker.
 * Stateful options (wait_for_all, last_man_standing) are checked by scenario tests instead.
 */
export function referenceQuorate(config: MessagingConfig, memberIds: readonly number[]): boolean {
  const votes = (ids: readonly number[]) => ids.reduce((s, id) => s + (config.nodes.find((n) => n.nodeId === id)?.votes ?? 0), 0);
  const q = config.quorum;
  const expected = Math.max(q.expectedVotes ?? votes(config.nodes.map((n) => n.nodeId)), votes(memberIds));
  const present = votes(memberIds);
  if (q.twoNode && expected === 2) return present >= 1;
  if (present * 2 > expected) return true;
  const lowest = Math.min(...config.nodes.map((n) => n.nodeId));
  return q.autoTieBreaker && present * 2 === expected && memberIds.includes(lowest);
}

/** Whether referenceQuorate covers this configuration. */
export function quorumIsStateless(config: MessagingConfig): boolean {
  const q = config.quorum;
  return !q.lastManStanding && q.waitForAll !== true && !(q.twoNode && q.waitForAll === undefined && !q.autoTieBreaker);
}

const bodyCount = (body: string): number => Number(body.split('#')[1]);
const bodySender = (body: string): string => body.split('#')[0] ?? '';

/** Views: epochs increase per process, a process is in its own views, one view id means one member list and one quorum. */
export function checkViews(histories: readonly ProcessHistory[], config: MessagingConfig, checkQuorum: boolean): string[] {
  const bad: string[] = [];
  const byId = new Map<string, { members: string; quorate: boolean; groups: string; by: string }>();
  for (const h of histories) {
    let lastEpoch = 0;
    for (const v of h.views) {
      const id = viewKey(v.id);
      if (v.id.epoch <= lastEpoch) bad.push(`${h.key}: view ${id} installed after epoch ${lastEpoch}`);
      lastEpoch = v.id.epoch;
      if (!v.members.split(',').includes(h.key)) bad.push(`${h.key}: installed view ${id} [${v.members}] without itself`);
      const seen = byId.get(id);
      if (seen === undefined) byId.set(id, { members: v.members, quorate: v.quorum.quorate, groups: v.groups, by: h.key });
      else if (seen.members !== v.members || seen.quorate !== v.quorum.quorate || seen.groups !== v.groups) {
        bad.push(`view ${id}: ${seen.by} has [${seen.members}] quorate=${seen.quorate} groups {${seen.groups}}, ${h.key} has [${v.members}] quorate=${v.quorum.quorate} groups {${v.groups}}`);
      }
      if (checkQuorum && v.quorum.quorate !== referenceQuorate(config, v.memberIds)) {
        bad.push(`${h.key}: view ${id} [${v.members}] quorate=${v.quorum.quorate}, votequorum says ${!v.quorum.quorate}`);
      }
    }
  }
  return bad;
}

/** Total order: one entry per (view, seq) everywhere; per process strictly increasing seqs; no duplicates; per-sender FIFO without gaps at the sender. */
export function checkOrder(histories: readonly ProcessHistory[]): string[] {
  const bad: string[] = [];
  const atSeq = new Map<string, { body: string; by: string }>();
  for (const h of histories) {
    const lastSeq = new Map<string, number>();
    const seenBodies = new Set<string>();
    const lastCount = new Map<string, number>();
    for (const d of h.deliveries) {
      const k = `${d.view}/${d.seq}`;
      const seen = atSeq.get(k);
      if (seen === undefined) atSeq.set(k, { body: d.body, by: h.key });
      else if (seen.body !== d.body) bad.push(`order: ${k} is ${seen.body} at ${seen.by} but ${d.body} at ${h.key}`);
      if ((lastSeq.get(d.view) ?? 0) >= d.seq) bad.push(`${h.key}: seq ${d.seq} in view ${d.view} delivered after ${lastSeq.get(d.view)}`);
      lastSeq.set(d.view, d.seq);
      if (d.duplicate) {
        if (!seenBodies.has(d.body)) bad.push(`${h.key}: ${d.body} suppressed as a duplicate but never delivered before`);
        continue;
      }
      if (seenBodies.has(d.body)) bad.push(`${h.key}: duplicate delivery of ${d.body}`);
      seenBodies.add(d.body);
      const sender = bodySender(d.body);
      const count = bodyCount(d.body);
      if ((lastCount.get(sender) ?? 0) >= count) bad.push(`${h.key}: ${d.body} from ${sender} after #${lastCount.get(sender)} (FIFO)`);
      lastCount.set(sender, count);
    }
    const own = h.deliveries.filter((d) => !d.duplicate && bodySender(d.body) === h.key).map((d) => bodyCount(d.body));
    own.forEach((c, i) => {
      if (c !== i + 1) bad.push(`${h.key}: own message #${c} delivered as its ${i + 1}th (gap)`);
    });
  }
  return bad;
}

/**
 * Virtual synchrony: processes that install the same view V and then the same next view deliver
 * the same messages in V (a message suppressed as an at-most-once duplicate counts as delivered).
 */
export function checkVirtualSynchrony(histories: readonly ProcessHistory[]): string[] {
  const bad: string[] = [];
  const byTransition = new Map<string, { set: string; by: string }>();
  for (const h of histories) {
    for (let i = 0; i + 1 < h.views.length; i++) {
      const v = viewKey(h.views[i]!.id);
      const next = viewKey(h.views[i + 1]!.id);
      const set = h.deliveries
        .filter((d) => d.view === v)
        .map((d) => `${d.seq}:${d.body}`)
        .join(' ');
      const k = `${v}->${next}`;
      const seen = byTransition.get(k);
      if (seen === undefined) byTransition.set(k, { set, by: h.key });
      else if (seen.set !== set) bad.push(`virtual synchrony ${k}: ${seen.by} delivered {${seen.set.slice(0, 200)}} but ${h.key} {${set.slice(0, 200)}}`);
    }
  }
  return bad;
}

/** Liveness after a quiet, fault-free period: all live nodes share one view of exactly the live nodes, with nothing left to send. */
export function checkSettled(sim: Simulation): string[] {
  const bad: string[] = [];
  const live = sim.histories.filter((h) => !h.crashed && sim.isUp(h.nodeId));
  const expected = live.map((h) => h.key).sort().join(',');
  for (const h of live) {
    const last = h.views.at(-1);
    const members = last?.members.split(',').sort().join(',');
    if (members !== expected) bad.push(`${h.key}: last view ${last ? viewKey(last.id) : 'none'} [${members ?? ''}] is not the live set [${expected}]`);
    const st = sim.core(h.nodeId)?.status(sim.nowMs);
    if (st && st.order.outbox > 0) bad.push(`${h.key}: ${st.order.outbox} own messages still undelivered after the quiet period`);
    if (st?.frozen) bad.push(`${h.key}: still frozen in a view change after the quiet period`);
  }
  const tables = new Set(live.map((h) => JSON.stringify(sim.core(h.nodeId)?.groupTable() ?? null)));
  if (tables.size > 1) bad.push(`live nodes disagree on process groups: ${[...tables].join(' vs ')}`);
  const ids = new Set(live.map((h) => (h.views.at(-1) ? viewKey(h.views.at(-1)!.id) : 'none')));
  if (ids.size > 1) bad.push(`live nodes end in different views: ${[...ids].join(' ')}`);
  return bad;
}
