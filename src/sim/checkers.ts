import type { PeerState } from '../zab/state.js';
import { counterOf, epochOf, zxidStr, type Txn, type Zxid } from '../zab/types.js';
import type { VirtualDisk } from './disk.js';
import type { Op, WriteOp } from './history.js';
import { checkRegister } from './linearizability.js';
import { applyWrite, chainHash, dataHash, decodeWrite, type Register, type RegisterMachine } from './machine.js';

export class Violation extends Error {
  override name = 'Violation';
  constructor(
    readonly checker: string,
    message: string,
  ) {
    super(`[${checker}] ${message}`);
  }
}

function fail(checker: string, msg: string): never {
  throw new Violation(checker, msg);
}

interface KeyChange {
  zxid: bigint;
  version: number;
  value: string;
}

/**
 * ZAB's guarantees, checked against the one committed sequence the simulator reconstructs from
 * every peer's apply actions.
 */
export class Checkers {
  /** The committed sequence: every peer's applied history must walk along it. */
  readonly committed: { zxid: Zxid; hash: number }[] = [];
  private readonly chain: number[] = [];
  private readonly index = new Map<bigint, number>();
  private readonly model = new Map<string, Register>();
  private readonly keyHistory = new Map<string, KeyChange[]>();
  private readonly epochLeader = new Map<bigint, number>();
  /** Write values (unique per op) per register, in commit order: a candidate linearization. */
  private readonly commitOrder = new Map<string, string[]>();

  constructor(private readonly voterDisks: () => VirtualDisk[]) {}

  /** Index in the committed sequence of the state at zxid z (-1 for the empty state). */
  private positionOf(z: bigint, historyHash: number, what: string): number {
    if (z === 0n) {
      if (historyHash !== 0) fail('agreement', `${what}: empty state with a history`);
      return -1;
    }
    const i = this.index.get(z);
    if (i === undefined) fail('agreement', `${what} at ${zxidStr(z)}, which was never committed`);
    if (this.chain[i] !== historyHash) fail('agreement', `${what} at ${zxidStr(z)} holds a different history than the committed one`);
    return i;
  }

  /** A peer's tree was (re)loaded from a snapshot: it must be a committed prefix. */
  onTreeLoaded(sid: number, m: RegisterMachine): number {
    return this.positionOf(m.zxid, m.historyHash, `peer ${sid} loaded a snapshot`);
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
    const w = decodeWrite(txn.data);
    let co = this.commitOrder.get(w.key);
    if (co === undefined) this.commitOrder.set(w.key, (co = []));
    co.push(w.value);
    const r = applyWrite(this.model, w);
    if (r.ok) {
      let h = this.keyHistory.get(w.key);
      if (h === undefined) this.keyHistory.set(w.key, (h = []));
      h.push({ zxid: txn.zxid, version: r.version, value: w.value });
    }
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
    if (n * 2 <= disks.length)
      fail('durability', `committed ${zxidStr(last.zxid)} is durable on only ${n} of ${disks.length} voters ${when}`);
  }

  /** At most one leader established per epoch, and its initial history holds everything committed. */
  onEstablished(sid: number, epoch: bigint, s: PeerState): void {
    const prior = this.epochLeader.get(epoch);
    if (prior !== undefined && prior !== sid) fail('one leader per epoch', `peers ${prior} and ${sid} both established epoch ${epoch}`);
    this.epochLeader.set(epoch, sid);
    const last = this.committed[this.committed.length - 1];
    if (last === undefined || last.zxid <= s.snapZxid) return;
    const t = s.log.find((x) => x.zxid === last.zxid);
    if (t === undefined || dataHash(t.data) !== last.hash)
      fail('primary integrity', `leader ${sid} of epoch ${epoch} lacks committed ${zxidStr(last.zxid)}`);
  }

  /** The register's committed value at the state with zxid z. */
  private valueAt(key: string, z: bigint): { version: number; value: string } {
    const h = this.keyHistory.get(key) ?? [];
    let lo = 0;
    let hi = h.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.zxid <= z) (best = mid), (lo = mid + 1);
      else hi = mid - 1;
    }
    return best < 0 ? { version: 0, value: '' } : { version: h[best]!.version, value: h[best]!.value };
  }

  /** Client-visible guarantees: linearizable writes, and reads as ZooKeeper promises them. */
  checkHistory(ops: readonly Op[]): void {
    const writesByKey = new Map<string, WriteOp[]>();
    for (const o of ops) {
      if (o.kind !== 'write') continue;
      let l = writesByKey.get(o.key);
      if (l === undefined) writesByKey.set(o.key, (l = []));
      l.push(o); // still pending at the end: it may have taken effect (unknown)
    }
    for (const [key, w] of writesByKey) {
      // Try the commit order as the witness first; search only if it does not hold.
      const byValue = new Map(w.map((o) => [o.value, o]));
      const witness = (this.commitOrder.get(key) ?? []).flatMap((v) => {
        const o = byValue.get(v);
        return o === undefined ? [] : [o];
      });
      if (!checkRegister(w, witness).ok) fail('linearizability', `writes to register ${key} have no linearization:\n${w.map(fmtWrite).join('\n')}`);
    }
    // Acknowledged writes, by completion time, for the sync rule.
    const acked = ops
      .filter((o): o is WriteOp => o.kind === 'write' && o.result !== null && o.result !== 'unknown' && o.zxid !== null)
      .sort((a, b) => a.response! - b.response!);
    const lastSeen = new Map<number, bigint>();
    const byClient = [...ops].filter((o) => o.response !== null).sort((a, b) => a.invoke - b.invoke);
    for (const o of byClient) {
      const seen = lastSeen.get(o.client) ?? 0n;
      if (o.kind === 'write') {
        if (o.zxid !== null && o.result !== 'unknown') lastSeen.set(o.client, o.zxid > seen ? o.zxid : seen);
        continue;
      }
      if (o.failed) continue;
      const want = this.valueAt(o.key, o.zxid);
      if (want.version !== o.version || want.value !== o.value)
        fail('reads', `client ${o.client} read ${o.key}=v${o.version}:${o.value} at ${zxidStr(o.zxid)}, committed state there is v${want.version}:${want.value}`);
      if (o.zxid < seen) fail('reads', `client ${o.client} read at ${zxidStr(o.zxid)} after having seen ${zxidStr(seen)}`);
      lastSeen.set(o.client, o.zxid > seen ? o.zxid : seen);
      if (o.sync) {
        for (const w of acked) {
          if (w.response! >= o.invoke) break;
          if (w.zxid! > o.zxid)
            fail('reads', `client ${o.client} sync+read of ${o.key} at ${zxidStr(o.zxid)} misses write ${zxidStr(w.zxid!)} completed before the sync`);
        }
      }
    }
  }
}

function fmtWrite(o: WriteOp): string {
  const r = o.result === 'unknown' || o.result === null ? 'unknown' : `${o.result.ok ? 'ok' : 'bad'} v${o.result.version}`;
  return `  c${o.client} cas(${o.expectedVersion}, ${o.value}) [${o.invoke}, ${o.response ?? '∞'}] -> ${r}`;
}
