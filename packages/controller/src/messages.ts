/**
 * The messages controllers exchange in the `crmd` process group. The messaging layer delivers
 * them to every member of a view in one total order (virtual synchrony), so every member applies
 * the CIB mutations among them in the same order and keeps the same CIB: the CIB is a replicated
 * state machine. Everything a mutation's effect depends on (times, ids) travels in the message;
 * applying one never reads a clock.
 *
 * Encoding: one JSON object per message (UTF-8). Unknown or malformed messages are dropped and
 * counted by the core.
 */
import type { OpResultRecord, PlannedAction } from '@paceline/scheduler';
import type { FenceHistoryRecord, FenceLevelAttempt } from './fencing.js';

/** A cibadmin request as it travels: the XML as text (parsed on apply, the same way everywhere). */
export interface WireCibRequest {
  readonly op: 'create' | 'modify' | 'replace' | 'delete' | 'erase' | 'bump' | 'patch';
  readonly scope?: string;
  readonly xpath?: string;
  readonly xml?: string;
  readonly multiple?: boolean;
  readonly allowCreate?: boolean;
}

export type CrmMessage =
  /**
   * Every member, once per membership: its CIB version and digest, whether its previous membership
   * was quorate, its node name, and its own resource history as its executor knows it.
   */
  | {
      readonly t: 'hello';
      readonly m: string;
      readonly version: readonly [number, number, number];
      readonly digest: string;
      readonly wasQuorate: boolean;
      /** The version its CIB last had when changed in a quorate partition (absent: 0.0.0). */
      readonly quorateVersion?: readonly [number, number, number];
      readonly node: string;
      readonly records: readonly OpResultRecord[];
      /**
       * This controller has not completed a join since it started: the node (re)started, and
       * the transient attributes the CIB still holds for it belong to its previous run.
       */
      readonly fresh?: boolean;
      /** Digest of its fence history (fencing.ts fenceHistoryDigest); absent from older nodes. */
      readonly fh?: string;
    }
  /** The member with the best CIB (see core.ts chooseSyncSource) sends it in full. */
  | { readonly t: 'sync'; readonly m: string; readonly xml: string }
  /** A client's CIB change, based on a version (rejected everywhere alike when it conflicts). */
  | { readonly t: 'update'; readonly req: string; readonly origin: number; readonly base?: string; readonly request: WireCibRequest }
  /** "I applied and persisted update `req`" (for the origin's quorum-acknowledgement). */
  | { readonly t: 'ack'; readonly req: string; readonly node: number }
  /** A result of an action run by `node`'s executor, with the transition action it answers, if any. */
  | { readonly t: 'op'; readonly rec: OpResultRecord; readonly ref?: { readonly dc: number; readonly tr: number; readonly action: number } }
  /** The DC asks `node` to run a planned action. */
  | { readonly t: 'exec'; readonly dc: number; readonly tr: number; readonly action: PlannedAction }
  /** The DC records a node's membership state (and, with `configure`, adds it to the nodes section). */
  | {
      readonly t: 'node';
      readonly node: string;
      readonly id: string;
      readonly attrs: Readonly<Record<string, string>>;
      readonly configure?: boolean;
    }
  /** A node attribute: transient (status, gone when the node leaves) or permanent (configuration). */
  | { readonly t: 'attr'; readonly node: string; readonly id: string; readonly name: string; readonly value?: string; readonly kind: 'transient' | 'permanent'; readonly req?: string }
  /** A fencing outcome, applied by every member (the target's status is cleared when it succeeded). */
  | {
      readonly t: 'fenced';
      readonly target: string;
      readonly targetId: string;
      readonly action: string;
      readonly ok: boolean;
      readonly by: string;
      readonly device: string | undefined;
      readonly reason: string | undefined;
      readonly wallSec: number;
      /** The fence history entry's id (absent from older nodes: derived from the other fields). */
      readonly id?: string;
      /** Completion time in wall ms (more precise than wallSec). */
      readonly wallMs?: number;
      /** Fencing topology: the level that fenced (or the last tried), its devices, every level tried. */
      readonly level?: number;
      readonly devices?: readonly string[];
      readonly attempts?: readonly FenceLevelAttempt[];
      /** An administrator's request (stonith_admin). */
      readonly manual?: boolean;
    }
  /**
   * `by` has started fencing `target` outside any transition (stonith_admin), for up to
   * `timeoutMs`: a DC that comes to fence the same node meanwhile waits for that outcome instead
   * of fencing it a second time (Pacemaker's fencer merges identical requests the same way).
   */
  | { readonly t: 'fencing'; readonly target: string; readonly action: string; readonly by: string; readonly timeoutMs: number }
  /**
   * A member's fence history, sent after a join when the members' histories differ (their hello
   * digests): every member merges it into its own (fencing.ts mergeFenceHistory), so all agree.
   */
  | { readonly t: 'fence-history'; readonly entries: readonly FenceHistoryRecord[]; readonly cleared: Readonly<Record<string, number>> }
  /** stonith_admin --cleanup --history: forget the outcomes (of `target`, or all) completed up to `atMs`. */
  | { readonly t: 'fence-history-clear'; readonly target?: string; readonly atMs: number; readonly req?: string }
  /**
   * Forget a resource's history (and fail counts) on a node, or on every node: probes follow.
   * With `failed` (an administrator's cleanup), only on nodes where the resource has failures (a
   * fail count or a recorded failed operation), as `crm_resource --cleanup`; without it always
   * (the scheduler's lrm_delete).
   */
  | { readonly t: 'cleanup'; readonly node?: string; readonly lrmId: string; readonly req?: string; readonly failed?: boolean }
  /**
   * `crm_resource --refresh`: forget the whole operation history and the fail counts of a
   * resource (or, without `lrmId`, of every resource) on a node (or on every node), whatever its
   * failures; the scheduler then probes again.
   */
  | { readonly t: 'refresh'; readonly node?: string; readonly lrmId?: string; readonly req?: string }
  /** A recurring operation was cancelled on `node`: its history entry goes. */
  | { readonly t: 'cancelled'; readonly node: string; readonly lrmId: string; readonly intervalMs: number }
  /** The DC lets a node that asked to shut down go (do_shutdown). */
  | { readonly t: 'shutdown-ok'; readonly node: string };

export type CrmMessageType = CrmMessage['t'];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeCrm(m: CrmMessage): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

const TYPES: ReadonlySet<string> = new Set(['hello', 'sync', 'update', 'ack', 'op', 'exec', 'node', 'attr', 'fenced', 'fencing', 'cleanup', 'refresh', 'cancelled', 'shutdown-ok', 'fence-history', 'fence-history-clear']);

/** Decodes a message; undefined for anything that is not a well-formed controller message. */
export function decodeCrm(data: Uint8Array): CrmMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const t = (v as { t?: unknown }).t;
  if (typeof t !== 'string' || !TYPES.has(t)) return undefined;
  return v as CrmMessage;
}
