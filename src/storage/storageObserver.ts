/**
 * What the storage layer reports as it works, for the server's metrics (ZooKeeper's
 * SyncRequestProcessor, FileTxnLog and FileTxnSnapLog figures). Storage knows no metric names;
 * the server's ServerMetrics turns these into fsynctime, snapshottime, sync_processor_*, ….
 */
export interface StorageObserver {
  /** `txns` were queued for the log while `waiting` others already waited for the next write. */
  logQueued(txns: number, waiting: number): void;
  /** A batch was written and forced: each of its runs of txns with when it was queued (performance.now ms). */
  logWritten(batch: LoggedBatch): void;
  /** One log file forced to disk (ms). */
  fsync(ms: number): void;
  /** A snapshot was written (ms). */
  snapshot(ms: number): void;
  /** The dataDir was recovered: snapshot read, then `txns` read from the log. */
  recovered(r: { snapshot_ms: number; txns: number; txns_ms: number }): void;
}

export interface LoggedBatch {
  readonly txns: number;
  /** [queued at, txns] per append. */
  readonly runs: ReadonlyArray<readonly [number, number]>;
  /** When the write began, and when the batch was durable (performance.now ms). */
  readonly started: number;
  readonly durable: number;
}
