/**
 * What a leader must do on the quorum wire, checked on every packet the simulator delivers:
 * rules that a tszk learner tolerates but a ZooKeeper 3.8 learner does not (mixed ensembles found
 * each of them first).
 * - No PING to a learner before its sync packet (DIFF, TRUNC or SNAP): a ZooKeeper learner
 *   reading the sync exits on it.
 * - A learner's SYNC comes after the COMMITs of every write that learner forwarded before its sync
 *   REQUEST: a ZooKeeper follower pairs each SYNC or COMMIT with its oldest pending request.
 */
import type { QuorumMessage } from '../zab/packets.js';
import { fail } from './committedSequence.js';
import type { QuorumConn } from './world.js';

type Forwarded = { kind: 'write'; sessionId: bigint; cxid: number } | { kind: 'sync' };

interface ConnState {
  syncSent: boolean;
  /** The learner's REQUESTs not yet answered by a COMMIT (writes) or a SYNC (syncs), in order. */
  outstanding: Forwarded[];
}

export class WireRules {
  private readonly conns = new WeakMap<QuorumConn, ConnState>();

  constructor(
    /** The session and cxid of a committed txn. */
    private readonly originOf: (zxid: bigint) => { sessionId: bigint; cxid: number } | undefined,
  ) {}

  delivered(conn: QuorumConn, from: number, to: number, msg: QuorumMessage): void {
    let st = this.conns.get(conn);
    if (st === undefined) this.conns.set(conn, (st = { syncSent: false, outstanding: [] }));
    // The learner opened the connection (conn.a); the leader accepted it (conn.b).
    if (from === conn.a) {
      if (msg.type !== 'REQUEST') return;
      if (msg.sync) st.outstanding.push({ kind: 'sync' });
      else if (msg.data.length >= 12) st.outstanding.push({ kind: 'write', sessionId: msg.data.readBigInt64BE(0), cxid: msg.data.readInt32BE(8) });
      return;
    }
    switch (msg.type) {
      case 'DIFF':
      case 'TRUNC':
      case 'SNAP':
        st.syncSent = true;
        return;
      case 'PING':
        if (!st.syncSent) fail('wire', `leader ${from} PINGed learner ${to} before its sync packet`);
        return;
      case 'COMMIT':
      case 'INFORM': {
        const o = this.originOf(msg.zxid);
        if (o === undefined) return;
        const i = st.outstanding.findIndex((f) => f.kind === 'write' && f.sessionId === o.sessionId && f.cxid === o.cxid);
        if (i >= 0) st.outstanding.splice(i, 1);
        return;
      }
      case 'SYNC': {
        const i = st.outstanding.findIndex((f) => f.kind === 'sync');
        const before = st.outstanding.slice(0, Math.max(0, i)).find((f) => f.kind === 'write');
        if (before !== undefined && before.kind === 'write')
          fail(
            'wire',
            `leader ${from} answered learner ${to}'s sync before the COMMIT of its earlier write (session 0x${before.sessionId.toString(16)}, cxid ${before.cxid})`,
          );
        if (i >= 0) st.outstanding.splice(i, 1);
        return;
      }
      default:
        return;
    }
  }
}
