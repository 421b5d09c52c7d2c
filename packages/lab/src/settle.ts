/**
 * Waiting for a lab to settle, by asking every node's API for its `status`.
 *
 * `queryStatus` is the one place that talks to a node; everything else works on its answer.
 * It uses `ApiClient` from @paceline/controller (unix socket, JSON frames:
 * {"id":1,"method":"status"} -> {"id":1,"ok":true,"result":StatusResult}).
 */
import { ApiClient } from '@paceline/controller';

/** The part of the `status` result the lab reads (the controller's StatusResult is one). */
export interface NodeStatus {
  readonly node: string;
  readonly dc?: string;
  readonly quorate: boolean;
  readonly nodes: readonly { name: string; online: boolean }[];
  readonly transition: { state: string; id: number };
  readonly cibVersion: string;
  readonly resources?: readonly { id: string; role: string; nodes: readonly string[]; failed: boolean }[];
}

export type StatusAnswer = { ok: true; status: NodeStatus } | { ok: false; error: string };

/** Asks one node's API (unix socket) for its status; never throws. */
export async function queryStatus(socket: string, timeoutMs = 1000): Promise<StatusAnswer> {
  let client: ApiClient | undefined;
  try {
    client = await ApiClient.connect({ socket }, { timeoutMs });
    const status: NodeStatus = await client.request('status', undefined, { timeoutMs });
    return { ok: true, status };
  } catch (err) {
    return { ok: false, error: shortError(err as Error & { code?: string }) };
  } finally {
    await Promise.resolve(client?.close()).catch(() => undefined);
  }
}

/** A one-line reason without the socket path repeated (progress lines list every node). */
function shortError(err: Error & { code?: string }): string {
  if (/ENOENT/.test(err.message)) return 'no API socket yet';
  if (/ECONNREFUSED/.test(err.message)) return 'API socket refuses connections';
  return err.code === undefined ? err.message : `${err.code}: ${err.message}`;
}

/**
 * Whether the answers show a settled cluster: every expected node answered, all name the same
 * DC, are quorate, see every expected node online, have no transition running, and hold the
 * same CIB version. Returns undefined when settled, else what is still missing (one line).
 */
export function unsettledReason(expected: readonly string[], answers: ReadonlyMap<string, StatusAnswer>): string | undefined {
  const problems: string[] = [];
  const dcs = new Set<string>();
  const versions = new Set<string>();
  for (const name of expected) {
    const a = answers.get(name);
    if (a === undefined || !a.ok) {
      problems.push(`${name}: ${a === undefined ? 'not asked' : a.error}`);
      continue;
    }
    const s = a.status;
    if (s.dc === undefined) problems.push(`${name}: no DC`);
    else dcs.add(s.dc);
    if (!s.quorate) problems.push(`${name}: not quorate`);
    if (s.transition.state !== 'idle') problems.push(`${name}: transition ${s.transition.state}`);
    const offline = expected.filter((n) => !s.nodes.some((x) => x.name === n && x.online));
    if (offline.length > 0) problems.push(`${name}: sees ${offline.join(',')} offline`);
    versions.add(s.cibVersion);
  }
  if (dcs.size > 1) problems.push(`DCs differ: ${[...dcs].join(',')}`);
  if (versions.size > 1) problems.push(`CIB versions differ: ${[...versions].join(',')}`);
  return problems.length === 0 ? undefined : problems.join('; ');
}

export interface SettleOptions {
  readonly timeoutMs: number;
  /** Called at least once a second with a one-line progress report. */
  readonly progress?: (line: string) => void;
  readonly pollMs?: number;
}

/** Polls every node until `unsettledReason` is clear; throws with the last reason on timeout. */
export async function waitSettled(nodes: readonly { name: string; apiSocket: string }[], opts: SettleOptions): Promise<Map<string, NodeStatus>> {
  const start = Date.now();
  const expected = nodes.map((n) => n.name);
  let lastReport = 0;
  for (;;) {
    const answers = new Map<string, StatusAnswer>();
    await Promise.all(nodes.map(async (n) => answers.set(n.name, await queryStatus(n.apiSocket))));
    const reason = unsettledReason(expected, answers);
    const elapsed = Date.now() - start;
    if (reason === undefined) {
      opts.progress?.(`settled after ${elapsed} ms`);
      const out = new Map<string, NodeStatus>();
      for (const [k, a] of answers) if (a.ok) out.set(k, a.status);
      return out;
    }
    if (elapsed >= opts.timeoutMs) throw new Error(`the lab did not settle within ${opts.timeoutMs} ms: ${reason}`);
    if (Date.now() - lastReport >= 1000) {
      lastReport = Date.now();
      opts.progress?.(`waiting to settle (${Math.round(elapsed / 1000)} s): ${reason}`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}
