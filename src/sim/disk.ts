import type { Persisted } from '../zab/state.js';
import type { Epoch, Txn, Zxid } from '../zab/types.js';
import type { Prng } from './prng.js';
import { RegisterMachine, dataHash } from './machine.js';

/**
 * A peer's disk: epochs and snapshots are written synchronously; log appends sit in a page
 * cache until an fsync covers them. On a crash the un-fsynced tail is lost, except for a random
 * prefix of it that happened to reach the platter.
 */
export class VirtualDisk {
  acceptedEpoch = 0n as Epoch;
  currentEpoch = 0n as Epoch;
  snapshot: { zxid: Zxid; data: Buffer } = { zxid: 0n as Zxid, data: new RegisterMachine().serialize() };
  durable: Txn[] = [];
  /** The config in force (persistConfig: ZooKeeper's dynamic config file). */
  config: { zxid: Zxid; data: Buffer } | null = null;
  pending: { txn: Txn; seq: number }[] = [];
  private writeSeq = 0;
  fsyncInFlight = false;

  append(txns: Txn[]): void {
    for (const txn of txns) this.pending.push({ txn, seq: ++this.writeSeq });
  }

  /** Start an fsync: it will cover every write made so far. */
  startFsync(): number {
    this.fsyncInFlight = true;
    return this.writeSeq;
  }

  /** The fsync covering writes up to `upto` finished; returns the last durable zxid, if any moved. */
  completeFsync(upto: number): Zxid | null {
    this.fsyncInFlight = false;
    let moved = false;
    while (this.pending.length > 0 && this.pending[0]!.seq <= upto) {
      this.durable.push(this.pending.shift()!.txn);
      moved = true;
    }
    if (!moved || this.durable.length === 0) return null;
    return this.durable[this.durable.length - 1]!.zxid;
  }

  truncate(z: Zxid): void {
    this.durable = this.durable.filter((t) => t.zxid <= z);
    this.pending = this.pending.filter((p) => p.txn.zxid <= z);
  }

  takeSnapshot(z: Zxid, data: Buffer): void {
    this.snapshot = { zxid: z, data };
    this.durable = this.durable.filter((t) => t.zxid > z);
    this.pending = this.pending.filter((p) => p.txn.zxid > z);
  }

  crash(prng: Prng): void {
    const keep = prng.int(this.pending.length + 1);
    for (let i = 0; i < keep; i++) this.durable.push(this.pending[i]!.txn);
    this.pending = [];
    this.fsyncInFlight = false;
  }

  persisted(): Persisted {
    const snapZxid = this.snapshot.zxid;
    const config = this.config ?? undefined;
    return {
      acceptedEpoch: this.acceptedEpoch,
      currentEpoch: this.currentEpoch,
      snapZxid,
      log: this.durable.filter((t) => t.zxid > snapZxid),
      ...(config ? { config } : {}),
    };
  }

  /** Is this txn (by zxid and payload) safe on disk: in the durable log or under the snapshot? */
  durablyHolds(z: Zxid, hash: number): boolean {
    if (this.snapshot.zxid >= z) return true;
    let lo = 0;
    let hi = this.durable.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const t = this.durable[mid]!;
      if (t.zxid === z) return dataHash(t.data) === hash;
      if (t.zxid < z) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}
