/**
 * The leader's TxnSink: the pipeline's prepared txns become ZAB proposals, and a batch is
 * "durable" (applied and answered by ServerCore) once ZAB commits its last txn — that is, once a
 * quorum has it on disk. Commits come strictly in zxid order, so batches complete in order.
 */
import { encodeTxn, type Txn } from '../../txn/txn.js';
import type { TxnSink } from '../txnSink.js';

interface PendingBatch {
  first: bigint;
  last: bigint;
  onDurable: () => void;
  /** Each txn as proposed, in zxid order. */
  proposed: { zxid: bigint; data: Buffer }[];
}

export class ZabTxnSink implements TxnSink {
  private readonly pending: PendingBatch[] = [];

  constructor(
    private readonly propose: (data: Buffer) => void,
    /** The peer's own txn-log fsync figures for mntr (every member logs, whatever its role). */
    readonly metrics?: () => ReadonlyArray<readonly [string, number]>,
  ) {}

  get pendingBatches(): number {
    return this.pending.length;
  }

  append(txns: readonly Txn[], onDurable: () => void): void {
    if (txns.length === 0) return onDurable();
    const proposed = txns.map((t) => ({ zxid: t.header.zxid, data: encodeTxn(t) }));
    for (const t of proposed) this.propose(t.data);
    this.pending.push({ first: txns[0]!.header.zxid, last: txns[txns.length - 1]!.header.zxid, onDurable, proposed });
  }

  /** True when `zxid` was proposed through this sink and is not yet committed. */
  owns(zxid: bigint): boolean {
    const head = this.pending[0];
    return head !== undefined && zxid >= head.first && zxid <= this.pending[this.pending.length - 1]!.last;
  }

  /** ZAB committed `zxid`; a batch whose last txn it is gets applied and answered. */
  committed(zxid: bigint): void {
    const head = this.pending[0];
    if (head === undefined || zxid < head.first || zxid > head.last) throw new Error(`commit of 0x${zxid.toString(16)} out of the pending batches' order`);
    if (zxid === head.last) {
      this.pending.shift();
      head.onDurable();
    }
  }

  /**
   * Txns committed through `committedZxid` that the tree does not hold yet: a batch is applied
   * only once its last txn commits, so these are the head batch's committed part, in zxid order.
   */
  committedUnapplied(committedZxid: bigint): { zxid: bigint; data: Buffer }[] {
    const head = this.pending[0];
    if (head === undefined || committedZxid < head.first) return [];
    return head.proposed.filter((t) => t.zxid <= committedZxid);
  }

  async close(): Promise<void> {
    this.pending.length = 0;
  }

  /** A learner's pipeline forwards every write; nothing may reach its sink. */
  static learnerSink(metrics?: () => ReadonlyArray<readonly [string, number]>): TxnSink {
    return {
      metrics,
      append() {
        throw new Error('a learner prepared a txn itself instead of forwarding the request');
      },
      async close() {},
    };
  }
}
