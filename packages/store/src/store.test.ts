import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { compareCibVersions, Store, StoreError } from './store.js';

const dirs: string[] = [];
function tempPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'paceline-store-'));
  dirs.push(d);
  return join(d, 'state.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('store', () => {
  // A node restarting must find the CIB it acknowledged before it went down.
  it('keeps the current CIB across close and reopen', () => {
    const path = tempPath();
    const a = new Store(path);
    a.saveCib('<cib epoch="1"/>', { adminEpoch: 0, epoch: 1, numUpdates: 0 }, 1000);
    a.saveCib('<cib epoch="2"/>', { adminEpoch: 0, epoch: 2, numUpdates: 0 }, 2000);
    a.close();
    const b = new Store(path);
    expect(b.currentCib()?.xml).toBe('<cib epoch="2"/>');
    expect(b.currentCib()?.version.epoch).toBe(2);
    expect(b.cibAtVersion({ adminEpoch: 0, epoch: 1, numUpdates: 0 })?.xml).toBe('<cib epoch="1"/>');
    b.close();
  });

  // History must not grow without bound on a cluster that runs for years.
  it('bounds the CIB archive and the scheduler inputs', () => {
    const s = new Store(':memory:', { cibVersionsMax: 3, peInputsMax: 2 });
    for (let i = 1; i <= 10; i++) {
      s.saveCib(`<cib epoch="${i}"/>`, { adminEpoch: 0, epoch: i, numUpdates: 0 }, i);
      s.savePeInput(`<cib epoch="${i}"/>`, 1_700_000_000 + i, i);
    }
    expect(s.cibHistory(100).map((c) => c.version.epoch)).toEqual([10, 9, 8, 7]);
    expect(s.listPeInputs().map((p) => p.seq)).toEqual([9, 10]);
    expect(s.peInput(10)?.nowSec).toBe(1_700_000_010);
    expect(s.peInput(1)).toBeUndefined();
    s.close();
  });

  // The journal is how a failover is reconstructed afterwards: order and content must hold.
  it('journals events in order and filters them by kind', () => {
    const s = new Store(':memory:');
    s.journal('view', { members: [1, 2] }, 10);
    s.journal('fence', { node: 'n3' }, 20);
    s.journal('view', { members: [1] }, 30);
    expect(s.events().map((e) => e.kind)).toEqual(['view', 'fence', 'view']);
    expect(s.events(0, 10, 'view').map((e) => e.data)).toEqual([{ members: [1, 2] }, { members: [1] }]);
    expect(s.events(2).map((e) => e.seq)).toEqual([3]);
    s.close();
  });

  // An older paceline must not misread a store written by a newer one.
  it('refuses a store with a newer schema', () => {
    const path = tempPath();
    const a = new Store(path);
    (a as unknown as { db: { pragma(s: string): void } }).db.pragma('user_version = 99');
    a.close();
    expect(() => new Store(path)).toThrow(StoreError);
  });

  // Versions order as Pacemaker orders them.
  it('compares versions by admin_epoch, epoch, then num_updates', () => {
    expect(compareCibVersions({ adminEpoch: 1, epoch: 0, numUpdates: 0 }, { adminEpoch: 0, epoch: 9, numUpdates: 9 })).toBeGreaterThan(0);
    expect(compareCibVersions({ adminEpoch: 0, epoch: 2, numUpdates: 0 }, { adminEpoch: 0, epoch: 1, numUpdates: 7 })).toBeGreaterThan(0);
    expect(compareCibVersions({ adminEpoch: 0, epoch: 1, numUpdates: 1 }, { adminEpoch: 0, epoch: 1, numUpdates: 1 })).toBe(0);
  });
});

describe('Store meta values', () => {
  it('keeps a named value across reopening, and replaces it', () => {
    // The controller keeps its quorate version here: it must survive a restart like the CIB.
    const d = mkdtempSync(join(tmpdir(), 'paceline-store-meta-'));
    try {
      const path = join(d, 'p.db');
      const a = new Store(path);
      expect(a.meta('quorate-version')).toBeUndefined();
      a.setMeta('quorate-version', '{"adminEpoch":0,"epoch":3,"numUpdates":1}');
      a.setMeta('quorate-version', '{"adminEpoch":0,"epoch":4,"numUpdates":0}');
      a.close();
      const b = new Store(path);
      expect(b.meta('quorate-version')).toBe('{"adminEpoch":0,"epoch":4,"numUpdates":0}');
      b.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('store: fence history', () => {
  // stonith_admin --history must survive a daemon restart, and the history stays bounded.
  it('keeps the fence history and its cleanup markers across close and reopen, bounded', () => {
    const path = tempPath();
    const a = new Store(path, { fenceHistoryEntriesMax: 3 });
    const entry = (i: number) => ({ id: `node1:${i}:1`, wallMs: 1000 * i, target: 'node3', action: 'reboot', ok: i % 2 === 0, level: 2 });
    a.saveFenceHistory({ entries: [entry(5), entry(1), entry(2), entry(4), entry(3)], cleared: { node2: 500 } });
    a.close();
    const b = new Store(path, { fenceHistoryEntriesMax: 3 });
    const h = b.fenceHistory();
    expect(h.entries.map((e) => e.id)).toEqual(['node1:3:1', 'node1:4:1', 'node1:5:1']);
    expect(h.entries[1]).toEqual(entry(4));
    expect(h.cleared).toEqual({ node2: 500 });
    b.saveFenceHistory({ entries: [], cleared: { '*': 6000 } });
    expect(b.fenceHistory()).toEqual({ entries: [], cleared: { '*': 6000 } });
    b.close();
  });

  // A store written by the previous schema (2, before the fence history) opens with an empty one.
  it('upgrades a schema-2 store to one with an empty fence history', () => {
    const path = tempPath();
    const a = new Store(path);
    a.saveCib('<cib epoch="1"/>', { adminEpoch: 0, epoch: 1, numUpdates: 0 }, 1000);
    a.close();
    const raw = new Database(path);
    raw.exec('DROP TABLE fence_history; PRAGMA user_version = 2;');
    raw.close();
    const b = new Store(path);
    expect(b.fenceHistory()).toEqual({ entries: [], cleared: {} });
    expect(b.currentCib()?.xml).toBe('<cib epoch="1"/>');
    b.close();
  });
});
