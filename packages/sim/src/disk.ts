/**
 * A simulated disk holding one node's persisted CIB. A write lands in the "page cache" and is
 * durable only once synced; a crash between the two loses the write (the node restarts with the
 * last synced CIB). The driver writes and syncs before it sends anything, as the controller's
 * contract asks, so only a crash inside that window (a fault the world can inject) loses one.
 */
import type { CibVersion, XmlElement } from '@paceline/cib';
import type { FenceHistoryState } from '@paceline/controller';

/** A stored CIB: the controller's immutable tree (serialized only when a node boots from it). */
export interface StoredCib {
  readonly root: XmlElement;
  readonly version: CibVersion;
  readonly atMs: number;
  /** The controller's quorate version, persisted with the CIB. */
  readonly quorateVersion?: CibVersion;
}

export class SimDisk {
  private written: StoredCib | undefined;
  private synced: StoredCib | undefined;
  /** Every synced version, in order (what the version checker reads). */
  readonly syncedHistory: { readonly version: CibVersion; readonly atMs: number }[] = [];
  /** Bound on syncedHistory (older entries are dropped; the checker keeps its own high-water mark). */
  static readonly HISTORY_MAX = 1000;
  /**
   * The node's fence history (the daemon keeps it in its store, written in the same transaction
   * as the CIB, before anything is sent): durable once written.
   */
  fenceHistory: FenceHistoryState | undefined;

  constructor(initial?: StoredCib) {
    this.written = initial;
    this.synced = initial;
  }

  write(c: StoredCib): void {
    this.written = c;
  }

  sync(): void {
    if (this.written === this.synced || !this.written) return;
    this.synced = this.written;
    this.syncedHistory.push({ version: this.written.version, atMs: this.written.atMs });
    if (this.syncedHistory.length > SimDisk.HISTORY_MAX) this.syncedHistory.shift();
  }

  /** Power loss: whatever was not synced is gone. */
  crash(): void {
    this.written = this.synced;
  }

  /** What a restarting node reads. */
  read(): StoredCib | undefined {
    return this.synced;
  }

  get hasUnsynced(): boolean {
    return this.written !== this.synced;
  }
}
