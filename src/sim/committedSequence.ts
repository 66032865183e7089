/**
 * ZAB's guarantees, checked against the one committed sequence the simulators reconstruct from
 * every peer's apply actions: agreement, primary order, durability on a quorum, one leader per
 * epoch, primary integrity. Shared by the core simulator (checkers.ts) and the one that runs real
 * servers (serverCheckers.ts); each adds what its state machine means.
 */
import type { PeerState } from '../zab/state.js';
import { counterOf, epochOf, zxidStr, type Txn, type Zxid } from '../zab/types.js';
import { chainHash, dataHash } from './machine.js';

export class Violation extends Error {
  override name = 'Violation';
  constructor(
    readonly checker: string,
    message: string,
  ) {
    super(`[${checker}] ${message}`);
  }
}

export function fail(checker: string, msg: string): never {
  throw new Violation(checker, msg);
}

/** A voter's disk, as the durability check sees it. */
export interface DurableView {
  /** Is the txn with this zxid and payload hash safe on disk (logged durably, or under a snapshot)? */
  durablyHolds(zxid: Zxid, hash: number): boolean;
}

export class CommittedSequence {
  /** The committed sequence: every peer's applied history must walk along it. */
  readonly committed: { zxid: Zxid; hash: number }[] = [];
  private readonly chain: number[] = [];
  private readonly index = new Map<bigint, number>();
  private readonly epochLeader = new Map<bigint, number>();

  constructor(
    private readonly voterDisks: () => DurableView[],
    /** Told of each txn the first time any peer commits it, in order. */
    private readonly onCommitted: (txn: Txn) => void,
  ) {}

  /**
   * Index in the committed sequence of the state at zxid z (-1 for the empty state). With a
   * history hash, the state must also hold exactly the committed history up to z.
   */
  positionOf(z: bigint, historyHash: number | undefined, what: string): number {
    if (z === 0n) {
      if (historyHash !== undefined && historyHash !== 0) fail('agreement', `${what}: empty state with a history`);
      return -1;
    }
    const i = this.index.get(z);
    if (i === undefined) fail('agreement', `${what} at ${zxidStr(z)}, which was never committed`);
    if (historyHash !== undefined && this.chain[i] !== historyHash)
      fail('agreement', `${what} at ${zxidStr(z)} holds a different history than the committed one`);
    return i;
  }

  /** A peer applied txn; `at` is the position of the state it applied on. Returns the new position. */
  onApply(sid: number, at: number, txn: Txn): number {
    const hash = dataHash(txn.data);
    const next = at + 1;
    if (next < this.committed.length) {
      const e = this.committed[next]!;
      if (e.zxid !== txn.zxid || e.hash !== hash)
        fail('agreement', `peer ${sid} applied ${zxidStr(txn.zxid)} where the committed sequence has ${zxidStr(e.zxid)}`);
      return next;
    }
    const last = this.committed[this.committed.length - 1];
    if (last !== undefined) {
      if (txn.zxid <= last.zxid) fail('primary order', `peer ${sid} committed ${zxidStr(txn.zxid)} after ${zxidStr(last.zxid)}`);
      const sameEpoch = epochOf(txn.zxid) === epochOf(last.zxid);
      if (sameEpoch && counterOf(txn.zxid) !== counterOf(last.zxid) + 1n)
        fail('primary order', `hole in the committed sequence: ${zxidStr(last.zxid)} then ${zxidStr(txn.zxid)}`);
    }
    if ((last === undefined || epochOf(txn.zxid) !== epochOf(last.zxid)) && counterOf(txn.zxid) !== 1n)
      fail('primary order', `epoch ${epochOf(txn.zxid)} starts committing at ${zxidStr(txn.zxid)}`);
    this.committed.push({ zxid: txn.zxid, hash });
    this.chain.push(chainHash(this.chain[this.chain.length - 1] ?? 0, txn.zxid, txn.data));
    this.index.set(txn.zxid, next);
    this.onCommitted(txn);
    this.checkDurable(`when ${zxidStr(txn.zxid)} was first committed (by peer ${sid})`);
    return next;
  }

  /** A txn committed anywhere is durable on a quorum (checked for the newest; older ones sit under it). */
  checkDurable(when = 'after a step'): void {
    const last = this.committed[this.committed.length - 1];
    if (last === undefined) return;
    const disks = this.voterDisks();
    let n = 0;
    for (const d of disks) if (d.durablyHolds(last.zxid, last.hash)) n++;
    if (n * 2 <= disks.length) fail('durability', `committed ${zxidStr(last.zxid)} is durable on only ${n} of ${disks.length} voters ${when}`);
  }

  /** At most one leader established per epoch, and its initial history holds everything committed. */
  onEstablished(sid: number, epoch: bigint, s: PeerState): void {
    const prior = this.epochLeader.get(epoch);
    if (prior !== undefined && prior !== sid) fail('one leader per epoch', `peers ${prior} and ${sid} both established epoch ${epoch}`);
    this.epochLeader.set(epoch, sid);
    const last = this.committed[this.committed.length - 1];
    if (last === undefined || last.zxid <= s.snapZxid) return;
    const t = s.log.find((x) => x.zxid === last.zxid);
    if (t === undefined || dataHash(t.data) !== last.hash) fail('primary integrity', `leader ${sid} of epoch ${epoch} lacks committed ${zxidStr(last.zxid)}`);
  }
}
