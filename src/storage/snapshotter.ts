/**
 * When and how snapshots are taken while writes continue (SyncRequestProcessor): after more than
 * snapCount/2 + rand(snapCount/2) txns (randomised so the servers of an ensemble do not all
 * snapshot at once), roll the log and serialize the tree in the background, one at a time: in a
 * worker thread from a copy frozen when the snapshot starts (snapshotWorker.ts), or, for a source
 * that cannot freeze, on the event loop in slices while writes go on (a fuzzy snapshot).
 */
import path from 'node:path';
import { log } from '../log.js';
import { snapshotFileName } from './names.js';
import { writeSnapshotFile, type SnapshotSource } from './snapshot.js';
import type { SnapshotCompression } from './snapshotCompression.js';
import { writeSnapshotInWorker } from './snapshotWorker.js';
import type { StorageObserver } from './storageObserver.js';
import type { TxnLogWriter } from './txnLogWriter.js';

export const SNAP_COUNT_DEFAULT = 100_000;

export interface SnapshotterOptions {
  snapDir: string;
  snapCount: number;
  /** fsync snapshot files (zookeeper.snapshot.fsync... ZooKeeper syncs them when forceSync). */
  fsync: boolean;
  /** Uniform in [0, 1); injected so tests and the simulator are deterministic. */
  random?: () => number;
  /** zookeeper.snapshot.compression.method (default none). */
  compression?: SnapshotCompression;
  /** Told how long each snapshot took (snapshottime). */
  observer?: StorageObserver;
  /**
   * Write on the event loop in slices (the fuzzy writer) instead of in a worker thread from a copy
   * frozen at the start (the default, for a source that can freeze).
   */
  onLoop?: boolean;
}

export interface SnapshotStats {
  taken: number;
  skippedBusy: number;
  last_ms: number;
  lastBytes: number;
  lastFile: string | undefined;
}

export class Snapshotter {
  private txnsSinceSnapshot = 0;
  private randRoll = 0;
  private running: Promise<string> | undefined;
  private readonly random: () => number;
  readonly stats: SnapshotStats = { taken: 0, skippedBusy: 0, last_ms: 0, lastBytes: 0, lastFile: undefined };

  constructor(
    private readonly opts: SnapshotterOptions,
    private readonly txnLog: TxnLogWriter | undefined,
  ) {
    if (opts.snapCount < 2) throw new Error(`snapCount must be at least 2, got ${opts.snapCount}`);
    this.random = opts.random ?? Math.random;
    this.resetRoll();
  }

  private resetRoll(): void {
    this.randRoll = Math.floor(this.random() * Math.floor(this.opts.snapCount / 2));
  }

  /** The txn count that triggers the next snapshot. */
  get threshold(): number {
    return Math.floor(this.opts.snapCount / 2) + this.randRoll;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /**
   * Call after appending txns to the log. True when a snapshot is due: the caller then calls
   * take() with the tree's last applied zxid.
   */
  noteLogged(count: number): boolean {
    this.txnsSinceSnapshot += count;
    if (this.txnsSinceSnapshot <= this.threshold) return false;
    this.txnsSinceSnapshot = 0;
    this.resetRoll();
    return true;
  }

  /**
   * Rolls the log and writes snapshot.<zxid> from `src` in the background. `zxid` must be the last
   * txn fully applied to the tree when the snapshot starts; later txns may leak into it (fuzzy) and
   * are replayed from the log on recovery. Returns undefined when a snapshot is already running.
   */
  take(zxid: bigint, src: SnapshotSource): Promise<string> | undefined {
    if (this.running) {
      this.stats.skippedBusy++;
      log.warn('too busy to snapshot, skipping');
      return undefined;
    }
    this.txnLog?.roll();
    const file = path.join(this.opts.snapDir, snapshotFileName(zxid, this.opts.compression));
    const t0 = performance.now();
    log.info({ file, zxid: `0x${zxid.toString(16)}` }, 'snapshotting');
    const opts = { fsync: this.opts.fsync, compression: this.opts.compression };
    const written =
      src.freeze !== undefined && this.opts.onLoop !== true ? writeSnapshotInWorker(file, src.freeze(), opts) : writeSnapshotFile(file, src, opts);
    const p = written
      .then((bytes) => {
        this.stats.taken++;
        this.stats.last_ms = performance.now() - t0;
        this.stats.lastBytes = bytes;
        this.stats.lastFile = file;
        log.info({ file, bytes, ms: Math.round(this.stats.last_ms) }, 'snapshot written');
        this.opts.observer?.snapshot(this.stats.last_ms);
        return file;
      })
      .finally(() => (this.running = undefined));
    this.running = p;
    return p;
  }

  /**
   * A snapshot now, for a backup (the AdminServer's `snapshot`): after any running one, of the tree
   * as `at` gives it when this one starts (its last applied zxid). Resolves once the file is durable.
   */
  async takeNow(at: () => { zxid: bigint; src: SnapshotSource }): Promise<{ file: string; zxid: bigint }> {
    for (;;) {
      await this.idle();
      const { zxid, src } = at();
      const p = this.take(zxid, src);
      // Another snapshot started between idle and here: wait for that one too.
      if (p !== undefined) return { file: await p, zxid };
    }
  }

  /** Waits for a running snapshot, if any. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
