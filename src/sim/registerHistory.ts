/**
 * What clients saw of the registers, judged against the committed sequence: linearizable writes
 * (per register, commit order tried as the witness first) and ZooKeeper's read rules (a read
 * returns the committed value at the zxid it read at, reads of a session never go back, a
 * sync+read sees every write completed before the sync).
 */
import { zxidStr } from '../zab/types.js';
import { fail } from './committedSequence.js';
import type { Op, WriteOp } from './history.js';
import { checkRegister } from './linearizability.js';

interface KeyChange {
  zxid: bigint;
  version: number;
  value: string;
}

export class RegisterHistory {
  private readonly keyHistory = new Map<string, KeyChange[]>();
  /** Write values (unique per op) per register, in commit order: a candidate linearization. */
  private readonly commitOrder = new Map<string, string[]>();

  /** A committed write of `value` to `key`: `version` is the register's new version, or null for a failed compare-and-set. */
  record(key: string, zxid: bigint, value: string, version: number | null): void {
    let co = this.commitOrder.get(key);
    if (co === undefined) this.commitOrder.set(key, (co = []));
    co.push(value);
    if (version === null) return;
    let h = this.keyHistory.get(key);
    if (h === undefined) this.keyHistory.set(key, (h = []));
    h.push({ zxid, version, value });
  }

  /** The zxid of the first committed change to `key` after `after` and at most `upTo`, if any. */
  changeBetween(key: string, after: bigint, upTo: bigint): bigint | undefined {
    return this.keyHistory.get(key)?.find((h) => h.zxid > after && h.zxid <= upTo)?.zxid;
  }

  /** The register's committed value at the state with zxid z. */
  valueAt(key: string, z: bigint): { version: number; value: string } {
    const h = this.keyHistory.get(key) ?? [];
    let lo = 0;
    let hi = h.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid]!.zxid <= z) ((best = mid), (lo = mid + 1));
      else hi = mid - 1;
    }
    return best < 0 ? { version: 0, value: '' } : { version: h[best]!.version, value: h[best]!.value };
  }

  check(ops: readonly Op[]): void {
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
      // The witness maps committed values back to ops: a repeated value would make it wrong, and
      // the search that follows can be too large to finish (seed 138 of the core reconfig sim).
      if (byValue.size !== w.length) throw new Error(`simulator bug: two writes of one value to register ${key}`);
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
        fail(
          'reads',
          `client ${o.client} read ${o.key}=v${o.version}:${o.value} at ${zxidStr(o.zxid)}, committed state there is v${want.version}:${want.value}`,
        );
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
