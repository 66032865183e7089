import type { Action, PeerState } from './state.js';
import { activateIfReconfig, noteLogged, recomputeLastSeen } from './reconfig.js';
import { assert, maxBig, minBig, type Txn, type Zxid } from './types.js';

/** The peer's in-memory view of its txn log (txns after snapZxid) and what it applied. */

export function lastLogged(s: PeerState): Zxid {
  return s.log.length > 0 ? s.log[s.log.length - 1]!.zxid : s.snapZxid;
}

/** Index of the txn with this zxid, or -1. */
export function indexOf(s: PeerState, z: Zxid): number {
  let lo = 0;
  let hi = s.log.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = s.log[mid]!.zxid;
    if (v === z) return mid;
    if (v < z) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Index of the first txn with zxid > z. */
export function firstAfter(s: PeerState, z: Zxid): number {
  let lo = 0;
  let hi = s.log.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.log[mid]!.zxid <= z) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function appendTxn(s: PeerState, txn: Txn, out: Action[]): void {
  assert(txn.zxid > lastLogged(s), `append out of order: ${txn.zxid} after ${lastLogged(s)}`);
  s.log.push(txn);
  noteLogged(s, txn, out);
  out.push({ type: 'append', txns: [txn] });
}

/** Drop txns after z (TRUNC). Only the uncommitted suffix may go. */
export function truncateAfter(s: PeerState, z: Zxid, out: Action[]): void {
  assert(s.committedZxid <= z, `truncate to ${z} below applied ${s.committedZxid}`);
  assert(z >= s.snapZxid, `truncate to ${z} below snapshot ${s.snapZxid}`);
  s.log.length = firstAfter(s, z);
  s.durableZxid = minBig(s.durableZxid, z);
  recomputeLastSeen(s);
  out.push({ type: 'truncate', zxid: z });
}

/** Apply logged txns in order up to z. */
export function applyThrough(s: PeerState, z: Zxid, out: Action[]): void {
  if (z <= s.committedZxid) return;
  let i = firstAfter(s, s.committedZxid);
  assert(indexOf(s, z) >= 0, `commit of ${z} which is not in the log (last ${lastLogged(s)})`);
  for (; i < s.log.length && s.log[i]!.zxid <= z; i++) {
    const txn = s.log[i]!;
    out.push({ type: 'apply', txn });
    activateIfReconfig(s, txn, out);
    s.committedZxid = txn.zxid;
    s.commitsSinceSnapshot++;
  }
  if (s.commitsSinceSnapshot >= s.config.snapCount) takeSnapshot(s, out);
}

/** Persist the tree at committedZxid; in memory keep only the last commitLogCount txns up to it. */
export function takeSnapshot(s: PeerState, out: Action[]): void {
  const z = s.committedZxid;
  out.push({ type: 'takeSnapshot', zxid: z });
  const drop = Math.max(0, firstAfter(s, z) - s.config.commitLogCount);
  if (drop > 0) {
    s.logFloor = s.log[drop - 1]!.zxid;
    s.log.splice(0, drop);
  }
  s.snapZxid = z;
  s.durableZxid = maxBig(s.durableZxid, z);
  s.commitsSinceSnapshot = 0;
}
