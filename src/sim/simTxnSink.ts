/**
 * A standalone server's TxnSink over the simulated disk, doing what the real one
 * (src/storage/database.ts FileTxnSink) does: each batch logged, committed (`onDurable`) once an
 * fsync covers it, and a snapshot of the tree at exactly its zxid every snapCount txns.
 */
import type { TxnSink } from '../server/txnSink.js';
import { snapshotSourceOf } from '../storage/database.js';
import type { ZkDatabase } from '../txn/database.js';
import { encodeTxn, type Txn } from '../txn/txn.js';
import type { PeerDisk } from './peerDisk.js';

export class SimTxnSink implements TxnSink {
  private sinceSnapshot = 0;

  constructor(
    private readonly disk: PeerDisk,
    private readonly db: ZkDatabase,
    private readonly snapCount: number,
    /** Told of each batch as it becomes durable, before the server applies it. */
    private readonly durable: (txns: readonly { zxid: bigint; bytes: Buffer }[]) => void,
  ) {}

  append(txns: readonly Txn[], onDurable: () => void): void {
    const logged = txns.map((t) => ({ zxid: t.header.zxid, bytes: encodeTxn(t) }));
    this.disk.append(logged, () => {
      this.durable(logged);
      onDurable();
      this.sinceSnapshot += txns.length;
      if (this.sinceSnapshot >= this.snapCount) {
        this.sinceSnapshot = 0;
        const zxid = this.db.lastProcessedZxid;
        void this.disk.snapshot(zxid, snapshotSourceOf(this.db, zxid));
      }
    });
  }

  async close(): Promise<void> {}
}
