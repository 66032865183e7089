import type { Txn } from '../txn/txn.js';

/**
 * Where prepared txns go before they are applied: the durable-log step of the pipeline.
 * `onDurable` runs once every txn of the batch is safely stored (for a log: fsynced); the
 * server applies and replies only then, in order.
 */
export interface TxnSink {
  /** Batches must become durable (call onDurable) in the order they were appended. */
  append(txns: readonly Txn[], onDurable: () => void): void;
  close(): Promise<void>;
  /** A snapshot of the tree now, as a file (a durable sink; the AdminServer's `snapshot`). */
  takeSnapshot?(): Promise<SnapshotFile>;
}

/** A snapshot written for a backup: its file and the zxid it is named by. */
export interface SnapshotFile {
  readonly file: string;
  readonly zxid: bigint;
}

/** No durability: every batch is "durable" at once (a server without a dataDir, e.g. in tests; `tszk server` always passes the txn log). */
export class InMemoryTxnSink implements TxnSink {
  append(_txns: readonly Txn[], onDurable: () => void): void {
    onDurable();
  }
  async close(): Promise<void> {}
}
