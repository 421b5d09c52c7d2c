/**
 * rsc_ticket constraints (pcmk_sched_tickets.c): a resource that depends on a ticket that is not
 * granted (or is in standby) is banned, demoted, frozen or has its nodes fenced, per loss-policy.
 */
import type { Cib, TicketConstraint } from '@paceline/cib';
import { SCORE_INFINITY } from '@paceline/cib';
import type { Diagnostic } from './types.js';
import type { Unpacked } from './unpack.js';
import { banRsc, fenceNode } from './unpack.js';
import { isTrue, parseRole } from './util.js';
import type { RoleNum, WRsc } from './work.js';
import { R_PROMOTED, R_UNKNOWN, roleNum } from './work.js';
import { findConstraintResource } from './constraints.js';

type LossPolicy = 'stop' | 'demote' | 'fence' | 'freeze';

interface TicketState {
  readonly granted: boolean;
  readonly standby: boolean;
}

/** Clones whose promotion needs a ticket they do not have (no instance may be promoted). */
export interface TicketEffects {
  readonly noPromotion: ReadonlySet<WRsc>;
}

export function applyTickets(cib: Cib, u: Unpacked, tags: ReadonlyMap<string, readonly string[]>, diagnostics: Diagnostic[]): TicketEffects {
  const states = new Map<string, TicketState>();
  for (const t of cib.status?.tickets ?? []) states.set(t.id, { granted: isTrue(t.granted), standby: isTrue(t.standby) });
  const noPromotion = new Set<WRsc>();
  for (const c of cib.configuration?.constraints?.constraints ?? []) {
    if (c.kind !== 'rsc_ticket') continue;
    unpackTicket(u, c, states, tags, diagnostics, noPromotion);
  }
  return { noPromotion };
}

function unpackTicket(
  u: Unpacked,
  c: TicketConstraint,
  states: Map<string, TicketState>,
  tags: ReadonlyMap<string, readonly string[]>,
  diagnostics: Diagnostic[],
  noPromotion: Set<WRsc>,
): void {
  const ignore = (why: string): void => {
    diagnostics.push({ severity: 'error', code: 'constraint-ignored', item: c.id, message: `Ignoring constraint '${c.id}' because ${why}` });
  };
  if (c.ticket === undefined) return ignore('it has no ticket');
  const state = states.get(c.ticket) ?? { granted: false, standby: false };
  const expand = (id: string): WRsc[] => {
    const t = tags.get(id);
    if (t) return t.map((x) => findConstraintResource(u, x)).filter((x): x is WRsc => x !== undefined);
    const r = findConstraintResource(u, id);
    return r ? [r] : [];
  };
  const entries: { rsc: WRsc; role: string | undefined }[] = [];
  if (c.sets.length > 0) {
    for (const s0 of c.sets) {
      const s = s0.ref ?? s0;
      for (const ref of s.resources) for (const r of expand(ref.id)) entries.push({ rsc: r, role: s.role });
    }
  } else {
    if (c.rsc === undefined) return ignore('it has no resource');
    const rs = expand(c.rsc);
    if (rs.length === 0) return ignore(`resource '${c.rsc}' does not exist`);
    for (const r of rs) entries.push({ rsc: r, role: c.rscRole });
  }
  for (const { rsc, role } of entries) {
    const r = parseRole(role);
    const roleN: RoleNum = r === undefined || r === 'Started' ? R_UNKNOWN : roleNum(r);
    const policy = lossPolicy(u, c.lossPolicy, roleN);
    if (roleN === R_PROMOTED && (!state.granted || state.standby)) noPromotion.add(rsc);
    if (!state.granted || state.standby) constraintsForTicket(u, rsc, roleN, policy, state);
  }
}

function lossPolicy(u: Unpacked, text: string | undefined, role: RoleNum): LossPolicy {
  const t = (text ?? '').toLowerCase();
  if (t === 'fence') return u.flags.stonithEnabled ? 'fence' : 'stop';
  if (t === 'freeze') return 'freeze';
  if (t === 'demote') return 'demote';
  if (t === 'stop') return 'stop';
  return role === R_PROMOTED ? 'demote' : 'stop';
}

function banEverywhere(u: Unpacked, r: WRsc): void {
  for (const n of u.nodes) banRsc(r, n.name, -SCORE_INFINITY, 'ticket not granted');
}

function constraintsForTicket(u: Unpacked, rsc: WRsc, role: RoleNum, policy: LossPolicy, state: TicketState): void {
  if (rsc.children.length > 0) {
    for (const c of rsc.children) constraintsForTicket(u, c, role, policy, state);
    return;
  }
  const roleMatches = role === R_UNKNOWN || role === rsc.role;
  if (!state.granted && rsc.runningOn.length > 0) {
    switch (policy) {
      case 'stop':
        banEverywhere(u, rsc);
        break;
      case 'demote':
        if (role !== R_PROMOTED) banEverywhere(u, rsc);
        break;
      case 'fence':
        if (!roleMatches) return;
        banEverywhere(u, rsc);
        for (const n of rsc.runningOn) fenceNode(u, n, 'deadman ticket was lost');
        break;
      case 'freeze':
        if (!roleMatches) return;
        rsc.managed = false;
        rsc.blocked = true;
        break;
      default: {
        const never: never = policy;
        void never;
      }
    }
  } else if (!state.granted || state.standby) {
    if (role !== R_PROMOTED || policy === 'stop') banEverywhere(u, rsc);
  }
}
