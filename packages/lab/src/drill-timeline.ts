/**
 * A drill's timeline, built from the nodes' logs and the outside watcher.
 *
 * Every node appends JSON lines to LAB_DIR/nodes/NODE/log (`{"ts": ISO-8601 or epoch ms,
 * "node": ..., "event": ..., ...}`). `parseNodeLog` reads them (other lines are skipped);
 * `buildTimeline` picks, within the run's window, the milestones of a failover (detection, new
 * view, DC, fence, stops and starts) and places them, with the fault and the moment the service
 * answered again, at millisecond offsets from the fault. No I/O here except `readNodeLogs`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One JSON line of a node's log. */
export interface LogEvent {
  /** Wall-clock ms. */
  readonly t: number;
  /** The node whose log holds the line. */
  readonly node: string;
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type TimelineKind = 'fault' | 'detection' | 'view' | 'dc' | 'fence-request' | 'fence' | 'stop' | 'stopped' | 'start' | 'started' | 'answering' | 'heal' | 'node-stop' | 'node-start';

/** One milestone of a run. */
export interface TimelineEntry {
  /** Milliseconds after the fault (negative: before it). */
  readonly offsetMs: number;
  readonly kind: TimelineKind;
  /** The node that logged it (or, for fault/answering, the node concerned). */
  readonly node?: string;
  /** For stops and starts: the resource. */
  readonly rsc?: string;
  readonly detail: string;
}

/** The ms of a log line's `ts` (ISO-8601 text or epoch ms), or undefined. */
export function logTime(ts: unknown): number | undefined {
  if (typeof ts === 'number' && Number.isFinite(ts)) return ts;
  if (typeof ts === 'string') {
    const n = Date.parse(ts);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/** Parses a node's log text: every line that is a JSON object with `ts` and `event`. */
export function parseNodeLog(text: string, node: string): LogEvent[] {
  const out: LogEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof o !== 'object' || o === null) continue;
    const r = o as Record<string, unknown>;
    const t = logTime(r['ts']);
    if (t === undefined || typeof r['event'] !== 'string') continue;
    out.push({ t, node, event: r['event'], data: r });
  }
  return out;
}

/** Reads nodes/NODE/log of the named nodes (a missing log is an empty one). */
export function readNodeLogs(labDir: string, nodes: readonly string[]): Map<string, LogEvent[]> {
  const out = new Map<string, LogEvent[]>();
  for (const n of nodes) {
    let text = '';
    try {
      text = readFileSync(join(labDir, 'nodes', n, 'log'), 'utf8');
    } catch {
      text = '';
    }
    out.set(n, parseNodeLog(text, n));
  }
  return out;
}

/** `vip_start_0` → { rsc: vip, task: start, interval: 0 }. */
export function parseActionKey(key: string): { rsc: string; task: string; interval: number } | undefined {
  const m = /^(.+)_([a-z-]+)_(\d+)$/.exec(key);
  return m === null ? undefined : { rsc: m[1]!, task: m[2]!, interval: Number(m[3]) };
}

export interface TimelineInput {
  /** Wall-clock ms of the fault. */
  readonly faultAt: number;
  /** What the fault was ("power off node1"). */
  readonly fault: string;
  /** The node (or nodes) cut off by the fault: detection, fencing and views are about them. */
  readonly lost: readonly string[];
  /** Node id → name (views and peer-lost name nodes by id). */
  readonly ids: ReadonlyMap<number, string>;
  /** The logs to read, by node (usually the survivors'). */
  readonly logs: ReadonlyMap<string, readonly LogEvent[]>;
  /** Wall-clock ms the service answered again (from the watcher). */
  readonly answeredAt?: number;
  /** Node that answers afterwards. */
  readonly answeredBy?: string;
  /** End of the window (wall-clock ms); later log lines are ignored. */
  readonly until: number;
}

/**
 * The milestones of a failover, ordered by time: the fault; the first `peer-lost` of a lost
 * node (detection); the first membership without the lost nodes (view); the first `dc` (or
 * `join-complete`) after the fault; the fence request and its `fence-ok`; the dispatch and the
 * result of every stop and start (each action once, though several logs hold it); the service
 * answering again. Milestones without a log line are absent, never invented.
 */
export function buildTimeline(input: TimelineInput): TimelineEntry[] {
  const events = [...input.logs.values()]
    .flat()
    .filter((e) => e.t >= input.faultAt && e.t <= input.until)
    .sort((a, b) => a.t - b.t);
  const off = (t: number): number => t - input.faultAt;
  const lost = new Set(input.lost);
  const out: TimelineEntry[] = [{ offsetMs: 0, kind: 'fault', detail: input.fault, ...(input.lost.length === 1 ? { node: input.lost[0]! } : {}) }];
  const first = (pred: (e: LogEvent) => boolean): LogEvent | undefined => events.find(pred);

  const detect = first((e) => e.event === 'peer-lost' && lost.has(input.ids.get(Number(e.data['nodeId'])) ?? ''));
  if (detect) out.push({ offsetMs: off(detect.t), kind: 'detection', node: detect.node, detail: `${detect.node}: peer ${input.ids.get(Number(detect.data['nodeId']))} lost (silent ${String(detect.data['silentMs'] ?? '?')} ms)` });

  const view = first((e) => e.event === 'membership' && Array.isArray(e.data['members']) && !(e.data['members'] as unknown[]).some((m) => lost.has(String(m))));
  if (view) out.push({ offsetMs: off(view.t), kind: 'view', node: view.node, detail: `${view.node}: view ${String(view.data['view'] ?? '?')} members ${(view.data['members'] as unknown[]).join(',')}${view.data['quorate'] === false ? ' (no quorum)' : ''}` });

  const dc = first((e) => e.event === 'dc' && typeof e.data['dc'] === 'string') ?? first((e) => e.event === 'join-complete' && typeof e.data['dc'] === 'string');
  if (dc) out.push({ offsetMs: off(dc.t), kind: 'dc', node: dc.node, detail: `${dc.node}: DC is ${String(dc.data['dc'])}` });

  const freq = first((e) => e.event === 'fence-request' && lost.has(String(e.data['target'])));
  if (freq) out.push({ offsetMs: off(freq.t), kind: 'fence-request', node: freq.node, detail: `${freq.node}: fence ${String(freq.data['action'] ?? '')} ${String(freq.data['target'])} via ${String(freq.data['device'] ?? '?')}` });
  const fok = first((e) => e.event === 'fence-ok' && lost.has(String(e.data['target'])));
  if (fok) out.push({ offsetMs: off(fok.t), kind: 'fence', node: fok.node, detail: `${fok.node}: ${String(fok.data['target'])} fenced (${String(fok.data['action'] ?? '')} by ${String(fok.data['by'] ?? '?')})` });

  const seen = new Set<string>();
  for (const e of events) {
    let rsc: string | undefined;
    let task: string | undefined;
    let host: string | undefined;
    let kind: TimelineKind | undefined;
    if (e.event === 'action-dispatch') {
      const a = parseActionKey(String(e.data['action'] ?? ''));
      if (a === undefined || a.interval !== 0) continue;
      ({ rsc, task } = a);
      host = String(e.data['host'] ?? e.data['node'] ?? '?');
      kind = task === 'start' ? 'start' : task === 'stop' ? 'stop' : undefined;
    } else if (e.event === 'action-result') {
      rsc = String(e.data['rsc']);
      task = String(e.data['task']);
      host = String(e.data['host'] ?? '?');
      if (Number(e.data['interval'] ?? 0) !== 0) continue;
      kind = task === 'start' ? 'started' : task === 'stop' ? 'stopped' : undefined;
    }
    if (kind === undefined || rsc === undefined) continue;
    const key = `${kind}|${rsc}|${host}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const rc = e.event === 'action-result' ? ` rc=${String(e.data['rc'])}` : '';
    out.push({ offsetMs: off(e.t), kind, node: host!, rsc, detail: `${rsc} ${kind} on ${host}${rc}` });
  }

  if (input.answeredAt !== undefined) out.push({ offsetMs: off(input.answeredAt), kind: 'answering', ...(input.answeredBy ? { node: input.answeredBy } : {}), detail: `the service answers again${input.answeredBy ? ` from ${input.answeredBy}` : ''}` });
  return out.sort((a, b) => a.offsetMs - b.offsetMs || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
}

const KIND_ORDER: readonly TimelineKind[] = ['fault', 'node-stop', 'detection', 'view', 'dc', 'fence-request', 'fence', 'stop', 'stopped', 'start', 'started', 'answering', 'heal', 'node-start'];

/** The first entry of a kind (for a resource, when given). */
export function firstOf(timeline: readonly TimelineEntry[], kind: TimelineKind, rsc?: string): TimelineEntry | undefined {
  return timeline.find((e) => e.kind === kind && (rsc === undefined || e.rsc === rsc));
}

/**
 * Fencing before recovery, from one node's log (the DC's): the `fence-ok` of `target` comes
 * before the dispatch (or, with no dispatch line, the result) of `rsc`'s start on `on`.
 * Returns undefined when it holds, else why not.
 */
export function fencingBeforeRecovery(log: readonly LogEvent[], target: string, rsc: string, on: string, after: number): string | undefined {
  const ev = log.filter((e) => e.t >= after);
  const fence = ev.findIndex((e) => e.event === 'fence-ok' && e.data['target'] === target);
  const isStart = (e: LogEvent): boolean =>
    (e.event === 'action-dispatch' && e.data['host'] === on && parseActionKey(String(e.data['action'] ?? ''))?.rsc === rsc && parseActionKey(String(e.data['action']))?.task === 'start') ||
    (e.event === 'action-result' && e.data['host'] === on && e.data['rsc'] === rsc && e.data['task'] === 'start');
  const start = ev.findIndex(isStart);
  if (start < 0) return `no start of ${rsc} on ${on} in the log`;
  if (fence < 0) return `${rsc} started on ${on} but the log has no fence-ok for ${target}`;
  if (fence > start) return `${rsc} started on ${on} before ${target} was fenced`;
  return undefined;
}

/** min / median / max of a series (undefined fields when it is empty). */
export function seriesSummary(xs: readonly number[]): { count: number; min?: number; median?: number; max?: number } {
  if (xs.length === 0) return { count: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[m]! : Math.round((s[m - 1]! + s[m]!) / 2);
  return { count: s.length, min: s[0]!, median, max: s.at(-1)! };
}
