/**
 * The node's structured log: one JSON object per line, e.g.
 *
 *   {"ts":"2026-11-21T23:10:02.123Z","level":"info","node":"node1","event":"view","members":[1,2]}
 *
 * `ts` is an ISO timestamp with milliseconds (UTC), `event` a short kebab-case name (view, dc,
 * join, cib-update, transition-start, action-result, fence-request, ...); the other fields are the
 * event's own. Lines go to stderr or are appended to a file (reopened by `reopen()`, which a
 * SIGHUP handler calls after logrotate moved the file). The last lines are kept in memory and
 * handed to listeners, so the API serves them on its `log` topic.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where lines go: the process's stderr, or a file opened for appending. */
export type LogTarget = { readonly kind: 'stderr' } | { readonly kind: 'file'; readonly path: string };

/** 1000 lines: a few minutes of a busy node's log; about 200 KB of memory. */
export const LOG_HISTORY_LINES_DEFAULT = 1000;

/** Parses a target as written in the config file: "stderr" or "file:PATH". */
export function parseLogTarget(text: string): LogTarget | undefined {
  if (text === 'stderr') return { kind: 'stderr' };
  if (text.startsWith('file:') && text.length > 'file:'.length) return { kind: 'file', path: text.slice('file:'.length) };
  return undefined;
}

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
}

/** One parsed log line. */
export interface LogRecord {
  readonly ts: string;
  readonly level: LogLevel;
  readonly node?: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

export type LogListener = (line: string, record: LogRecord) => void;

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly target?: LogTarget;
  /** Written as `node` on every line. */
  readonly node?: string;
  readonly historyLinesMax?: number;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  readonly nowMs?: () => number;
}

const RESERVED = new Set(['ts', 'level', 'node', 'event']);
const rank = (l: LogLevel): number => LOG_LEVELS.indexOf(l);

/**
 * Writes log lines. Writes are synchronous: lines keep their order, and the last line before a
 * crash is on disk. A failed write (disk full, closed stderr) is counted, never thrown.
 */
export class Logger {
  private level: LogLevel;
  private readonly target: LogTarget;
  private readonly node: string | undefined;
  private readonly historyMax: number;
  private readonly nowMs: () => number;
  private readonly history: string[] = [];
  private readonly listeners = new Set<LogListener>();
  private fd: number | undefined;
  /** Lines that could not be written. */
  writeFailures = 0;

  constructor(opts: LoggerOptions = {}) {
    this.level = opts.level ?? 'info';
    this.target = opts.target ?? { kind: 'stderr' };
    this.node = opts.node;
    this.historyMax = opts.historyLinesMax ?? LOG_HISTORY_LINES_DEFAULT;
    this.nowMs = opts.nowMs ?? Date.now;
    if (this.target.kind === 'file') this.fd = openLogFile(this.target.path);
  }

  /** Logs `name` with `fields` at `level` (default info). Fields named ts/level/node/event are
   *  renamed with a `field.` prefix rather than overwriting the line's own. */
  event(name: string, fields: Readonly<Record<string, unknown>> = {}, level: LogLevel = 'info'): void {
    if (rank(level) < rank(this.level)) return;
    const record: Record<string, unknown> = { ts: new Date(this.nowMs()).toISOString(), level };
    if (this.node !== undefined) record.node = this.node;
    record.event = name;
    for (const [k, v] of Object.entries(fields)) record[RESERVED.has(k) ? `field.${k}` : k] = v;
    const line = serialise(record);
    this.write(line);
    this.history.push(line);
    if (this.history.length > this.historyMax) this.history.splice(0, this.history.length - this.historyMax);
    for (const l of this.listeners) l(line, record as unknown as LogRecord);
  }

  debug(name: string, fields?: Readonly<Record<string, unknown>>): void {
    this.event(name, fields, 'debug');
  }
  info(name: string, fields?: Readonly<Record<string, unknown>>): void {
    this.event(name, fields, 'info');
  }
  warn(name: string, fields?: Readonly<Record<string, unknown>>): void {
    this.event(name, fields, 'warn');
  }
  error(name: string, fields?: Readonly<Record<string, unknown>>): void {
    this.event(name, fields, 'error');
  }

  enabled(level: LogLevel): boolean {
    return rank(level) >= rank(this.level);
  }

  setLevel(level: LogLevel): void {
    this.level = level;
  }

  /** The last lines written (at most `limit`, oldest first). */
  recent(limit = this.historyMax): string[] {
    return this.history.slice(Math.max(0, this.history.length - limit));
  }

  /** Calls `listener` for every line written from now on; returns the function that removes it. */
  onLine(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reopens the log file (after logrotate renamed it); no-op for stderr. */
  reopen(): void {
    if (this.target.kind !== 'file') return;
    const old = this.fd;
    this.fd = openLogFile(this.target.path);
    if (old !== undefined) closeSync(old);
  }

  /** Installs a SIGHUP handler that reopens the file; returns the function that removes it. */
  reopenOnSighup(): () => void {
    const handler = (): void => {
      try {
        this.reopen();
        this.info('log-reopened', { target: this.target.kind === 'file' ? this.target.path : 'stderr' });
      } catch (err) {
        this.writeFailures++;
        process.stderr.write(`paceline: cannot reopen log: ${(err as Error).message}\n`);
      }
    };
    process.on('SIGHUP', handler);
    return () => process.off('SIGHUP', handler);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.listeners.clear();
  }

  private write(line: string): void {
    try {
      if (this.target.kind === 'stderr') process.stderr.write(line + '\n');
      else if (this.fd !== undefined) writeSync(this.fd, line + '\n');
    } catch {
      this.writeFailures++;
    }
  }
}

function openLogFile(path: string): number {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  return openSync(path, 'a', 0o640);
}

/** JSON of a record: Errors become {message, code?, stack}, bigints strings, cycles "[circular]". */
function serialise(record: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      return { message: value.message, ...(code !== undefined ? { code } : {}), stack: value.stack };
    }
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[circular]';
      seen.add(value);
    }
    return value;
  });
}
