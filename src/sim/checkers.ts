import type { PeerState } from '../zab/state.js';
import type { Txn } from '../zab/types.js';
import { CommittedSequence } from './committedSequence.js';
import type { VirtualDisk } from './disk.js';
import type { Op } from './history.js';
import { applyWrite, decodeWrite, type Register, type RegisterMachine } from './machine.js';
import { RegisterHistory } from './registerHistory.js';

export { Violation } from './committedSequence.js';

/**
 * The core simulator's checkers: ZAB's guarantees on the committed sequence (committedSequence.ts),
 * with the register machine's txns giving the registers' committed values for the client checks.
 */
export class Checkers {
  private readonly sequence: CommittedSequence;
  private readonly model = new Map<string, Register>();
  private readonly registers = new RegisterHistory();

  constructor(voterDisks: () => VirtualDisk[]) {
    this.sequence = new CommittedSequence(voterDisks, (txn) => {
      const w = decodeWrite(txn.data);
      const r = applyWrite(this.model, w);
      this.registers.record(w.key, txn.zxid, w.value, r.ok ? r.version : null);
    });
  }

  /** A register in the committed state (undefined while never written). */
  committedRegister(key: string): Register | undefined {
    return this.model.get(key);
  }

  get committed(): CommittedSequence['committed'] {
    return this.sequence.committed;
  }

  /** A peer's tree was (re)loaded from a snapshot: it must be a committed prefix. */
  onTreeLoaded(sid: number, m: RegisterMachine): number {
    return this.sequence.positionOf(m.zxid, m.historyHash, `peer ${sid} loaded a snapshot`);
  }

  onApply(sid: number, at: number, txn: Txn): number {
    return this.sequence.onApply(sid, at, txn);
  }

  checkDurable(when?: string): void {
    this.sequence.checkDurable(when);
  }

  onEstablished(sid: number, epoch: bigint, s: PeerState): void {
    this.sequence.onEstablished(sid, epoch, s);
  }

  /** Client-visible guarantees: linearizable writes, and reads as ZooKeeper promises them. */
  checkHistory(ops: readonly Op[]): void {
    this.registers.check(ops);
  }
}
