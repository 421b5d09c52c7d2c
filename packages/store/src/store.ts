/**
 * Durable state of one node, in one SQLite file (better-sqlite3).
 *
 * What it keeps, each with a named bound so nothing grows without limit:
 * - the current CIB and an archive of earlier versions (`cibVersionsMax`), for history and rollback;
 * - every scheduler input with the time it was computed for (`peInputsMax`), like Pacemaker's
 *   pe-input-N files, so any decision can be replayed with `crm_simulate -x`;
 * - an event journal (`journalEntriesMax`);
 * - the fence history (`fenceHistoryEntriesMax`), so that `stonith_admin --history` survives a
 *   restart, with its cleanup markers.
 *
 * Durability: WAL with synchronous=FULL, so a call that returned has reached the disk; callers
 * that acknowledge a CIB update to a client do so after `saveCib` returns. Documents are stored
 * gzip-compressed (CIB XML compresses about 10:1). Times are passed in by the caller (the store
 * never reads a clock), which keeps it deterministic under the simulator.
 */
import Database from 'better-sqlite3';
import { gzipSync, gunzipSync } from 'node:zlib';

/** A CIB version as Pacemaker orders it: admin_epoch, then epoch, then num_updates. */
export interface CibVersion {
  readonly adminEpoch: number;
  readonly epoch: number;
  readonly numUpdates: number;
}

export interface StoredCib {
  readonly seq: number;
  readonly version: CibVersion;
  readonly xml: string;
  readonly savedAtMs: number;
}

export interface PeInput {
  readonly seq: number;
  /** The time the scheduler was run for, in seconds since the epoch (crm_simulate -t). */
  readonly nowSec: number;
  readonly xml: string;
  readonly savedAtMs: number;
}

export interface JournalEntry {
  readonly seq: number;
  readonly atMs: number;
  readonly kind: string;
  readonly data: unknown;
}

export interface StoreOptions {
  /** Earlier CIB versions kept besides the current one. Default 500: Pacemaker keeps ~100 pe files
   *  per series by default; CIB history is cheaper (compressed) and worth more for rollback. */
  readonly cibVersionsMax?: number;
  /** Scheduler inputs kept. Default 4000, Pacemaker's pe-input-series-max is 4000 too. */
  readonly peInputsMax?: number;
  /** Journal entries kept. Default 100000: several days of a busy cluster's events. */
  readonly journalEntriesMax?: number;
  /** Fence history entries kept. Default 500, as Pacemaker's fencer keeps. */
  readonly fenceHistoryEntriesMax?: number;
}

const defaults = { cibVersionsMax: 500, peInputsMax: 4000, journalEntriesMax: 100_000, fenceHistoryEntriesMax: 500 } as const;

/** Bumped whenever the schema changes; `open` refuses a file written by a newer paceline. */
export const STORE_SCHEMA_VERSION = 3;

/** One fencing outcome as stored: its id and completion time (wall ms) and the rest, opaque to the store. */
export interface FenceHistoryRow {
  readonly id: string;
  readonly wallMs: number;
}

/** The fence history as stored: entries oldest first, and the cleanup markers (target or '*' -> up to wall ms). */
export interface StoredFenceHistory<E extends FenceHistoryRow = FenceHistoryRow> {
  readonly entries: readonly E[];
  readonly cleared: Readonly<Record<string, number>>;
}

export class StoreError extends Error {
  constructor(
    readonly code: 'store-newer-schema' | 'store-corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export function compareCibVersions(a: CibVersion, b: CibVersion): number {
  return a.adminEpoch - b.adminEpoch || a.epoch - b.epoch || a.numUpdates - b.numUpdates;
}

interface CibRow {
  seq: number;
  admin_epoch: number;
  epoch: number;
  num_updates: number;
  xml: Buffer;
  saved_at_ms: number;
}

export class Store {
  private readonly db: Database.Database;
  private readonly bounds: Required<StoreOptions>;

  /** Opens (creating when needed) the store at `path`; ':memory:' gives a throw-away store. */
  constructor(path: string, options: StoreOptions = {}) {
    this.bounds = { ...defaults, ...options };
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > STORE_SCHEMA_VERSION)
      throw new StoreError('store-newer-schema', `store schema ${version} is newer than this paceline's ${STORE_SCHEMA_VERSION}`);
    if (version === STORE_SCHEMA_VERSION) return;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS cib (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        admin_epoch INTEGER NOT NULL, epoch INTEGER NOT NULL, num_updates INTEGER NOT NULL,
        xml BLOB NOT NULL, saved_at_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS pe_input (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, now_sec INTEGER NOT NULL,
        xml BLOB NOT NULL, saved_at_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL, data TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS journal_kind ON journal(kind, seq);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS fence_history (
        id TEXT PRIMARY KEY, wall_ms INTEGER NOT NULL, data TEXT NOT NULL);
      PRAGMA user_version = ${STORE_SCHEMA_VERSION};`);
  }

  /** Saves `xml` as the current CIB; the previous current one joins the archive. */
  saveCib(xml: string, version: CibVersion, savedAtMs: number): number {
    const run = this.db.transaction(() => {
      const info = this.db
        .prepare('INSERT INTO cib (admin_epoch, epoch, num_updates, xml, saved_at_ms) VALUES (?, ?, ?, ?, ?)')
        .run(version.adminEpoch, version.epoch, version.numUpdates, gzipSync(xml), savedAtMs);
      const seq = Number(info.lastInsertRowid);
      this.db.prepare('DELETE FROM cib WHERE seq <= ?').run(seq - this.bounds.cibVersionsMax - 1);
      return seq;
    });
    return run();
  }

  /** The current CIB, or undefined when none was ever saved. */
  currentCib(): StoredCib | undefined {
    const row = this.db.prepare('SELECT * FROM cib ORDER BY seq DESC LIMIT 1').get() as CibRow | undefined;
    return row && toCib(row);
  }

  /** Archived versions, newest first (the current one included), at most `limit`. */
  cibHistory(limit = 50): StoredCib[] {
    const rows = this.db.prepare('SELECT * FROM cib ORDER BY seq DESC LIMIT ?').all(limit) as CibRow[];
    return rows.map(toCib);
  }

  /** The newest saved CIB with exactly this version, for rollback. */
  cibAtVersion(version: CibVersion): StoredCib | undefined {
    const row = this.db
      .prepare('SELECT * FROM cib WHERE admin_epoch = ? AND epoch = ? AND num_updates = ? ORDER BY seq DESC LIMIT 1')
      .get(version.adminEpoch, version.epoch, version.numUpdates) as CibRow | undefined;
    return row && toCib(row);
  }

  /** A small named value kept with the store (e.g. the controller's quorate version). */
  meta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Runs `fn` in one transaction: its writes reach the disk together, with one sync. */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Saves a scheduler input; returns its sequence number (pe-input-N). */
  savePeInput(xml: string, nowSec: number, savedAtMs: number): number {
    const run = this.db.transaction(() => {
      const info = this.db
        .prepare('INSERT INTO pe_input (now_sec, xml, saved_at_ms) VALUES (?, ?, ?)')
        .run(nowSec, gzipSync(xml), savedAtMs);
      const seq = Number(info.lastInsertRowid);
      this.db.prepare('DELETE FROM pe_input WHERE seq <= ?').run(seq - this.bounds.peInputsMax);
      return seq;
    });
    return run();
  }

  peInput(seq: number): PeInput | undefined {
    const row = this.db.prepare('SELECT * FROM pe_input WHERE seq = ?').get(seq) as
      | { seq: number; now_sec: number; xml: Buffer; saved_at_ms: number }
      | undefined;
    return row && { seq: row.seq, nowSec: row.now_sec, xml: gunzipSync(row.xml).toString('utf8'), savedAtMs: row.saved_at_ms };
  }

  /** Sequence numbers and times of the kept inputs, oldest first. */
  listPeInputs(): { seq: number; nowSec: number; savedAtMs: number }[] {
    return (this.db.prepare('SELECT seq, now_sec, saved_at_ms FROM pe_input ORDER BY seq').all() as { seq: number; now_sec: number; saved_at_ms: number }[]).map(
      (r) => ({ seq: r.seq, nowSec: r.now_sec, savedAtMs: r.saved_at_ms }),
    );
  }

  /** Appends an event; `data` must be JSON-serialisable. */
  journal(kind: string, data: unknown, atMs: number): number {
    const info = this.db.prepare('INSERT INTO journal (at_ms, kind, data) VALUES (?, ?, ?)').run(atMs, kind, JSON.stringify(data));
    const seq = Number(info.lastInsertRowid);
    if (seq % 1000 === 0) this.db.prepare('DELETE FROM journal WHERE seq <= ?').run(seq - this.bounds.journalEntriesMax);
    return seq;
  }

  /** Events after `afterSeq`, oldest first, optionally of one kind. */
  events(afterSeq = 0, limit = 1000, kind?: string): JournalEntry[] {
    const rows = (
      kind === undefined
        ? this.db.prepare('SELECT * FROM journal WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit)
        : this.db.prepare('SELECT * FROM journal WHERE seq > ? AND kind = ? ORDER BY seq LIMIT ?').all(afterSeq, kind, limit)
    ) as { seq: number; at_ms: number; kind: string; data: string }[];
    return rows.map((r) => ({ seq: r.seq, atMs: r.at_ms, kind: r.kind, data: JSON.parse(r.data) as unknown }));
  }

  /**
   * Replaces the fence history with `h` (the controller's whole history: it is merged and bounded
   * there), keeping the newest `fenceHistoryEntriesMax` entries; one transaction.
   */
  saveFenceHistory(h: StoredFenceHistory): void {
    const keep = [...h.entries].sort((a, b) => a.wallMs - b.wallMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(-this.bounds.fenceHistoryEntriesMax);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM fence_history').run();
      const insert = this.db.prepare('INSERT OR REPLACE INTO fence_history (id, wall_ms, data) VALUES (?, ?, ?)');
      for (const e of keep) insert.run(e.id, e.wallMs, JSON.stringify(e));
      this.setMeta('fence-history-cleared', JSON.stringify(h.cleared));
    })();
  }

  /** The stored fence history, oldest first (entries as saved); empty when none was saved. */
  fenceHistory(): StoredFenceHistory<FenceHistoryRow & Record<string, unknown>> {
    const rows = this.db.prepare('SELECT data FROM fence_history ORDER BY wall_ms, id').all() as { data: string }[];
    const entries = rows.map((r) => JSON.parse(r.data) as FenceHistoryRow & Record<string, unknown>);
    const raw = this.meta('fence-history-cleared');
    const cleared = raw !== undefined ? (JSON.parse(raw) as Record<string, number>) : {};
    return { entries, cleared };
  }

  close(): void {
    this.db.close();
  }
}

function toCib(row: CibRow): StoredCib {
  return {
    seq: row.seq,
    version: { adminEpoch: row.admin_epoch, epoch: row.epoch, numUpdates: row.num_updates },
    xml: gunzipSync(row.xml).toString('utf8'),
    savedAtMs: row.saved_at_ms,
  };
}
