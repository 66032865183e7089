/**
 * The data of a REQUEST a learner forwards to the leader, laid out as ZooKeeper's
 * Learner.request does: long sessionId | int cxid | int type | the client's request bytes (to the
 * end of the data). The client's auth ids travel beside it, in QuorumPacket.authinfo.
 */
import { JuteReader, JuteWriter } from '../../jute/index.js';
import type { Id } from '../../proto/records.js';
import { OpCode } from '../../proto/opcodes.js';

/** A write a learner does not prepare itself: it goes to the leader as a REQUEST. */
export interface ForwardedWrite {
  sessionId: bigint;
  cxid: number;
  type: number;
  /** The client's request record (after xid and type); createSession: the timeout as an int. */
  body: Buffer;
  authInfo: readonly Id[];
}

/** REQUEST data bytes before the request record. */
const HEAD_BYTES = 16;

export function encodeForwardedWrite(w: ForwardedWrite): { data: Buffer; authinfo: Id[] } {
  const out = new JuteWriter();
  out.long(w.sessionId);
  out.int(w.cxid);
  out.int(w.type);
  return { data: Buffer.concat([Buffer.from(out.bytes()), w.body]), authinfo: [...w.authInfo] };
}

export function decodeForwardedWrite(buf: Buffer, authinfo: readonly Id[]): ForwardedWrite {
  const r = new JuteReader(buf);
  const sessionId = r.long();
  const cxid = r.int();
  const type = r.int();
  return { sessionId, cxid, type, body: buf.subarray(HEAD_BYTES), authInfo: [...authinfo] };
}

/** A forwarded sync (ZooKeeper's leader parses the head and keeps the rest): head | SyncRequest(path). */
export function encodeForwardedSync(sessionId: bigint, cxid: number, path: string): Buffer {
  const out = new JuteWriter();
  out.long(sessionId);
  out.int(cxid);
  out.int(OpCode.sync);
  out.ustring(path);
  return Buffer.from(out.bytes());
}

/** PING reply data from a learner (Learner.ping): (long sessionId, int timeout)*. */
export function encodeSessionActivity(touched: ReadonlyMap<bigint, number>): Buffer {
  const b = Buffer.alloc(touched.size * 12);
  let off = 0;
  for (const [id, timeout] of touched) {
    b.writeBigInt64BE(id, off);
    b.writeInt32BE(timeout, off + 8);
    off += 12;
  }
  return b;
}

export function decodeSessionActivity(b: Buffer): Array<[bigint, number]> {
  const out: Array<[bigint, number]> = [];
  for (let off = 0; off + 12 <= b.length; off += 12) out.push([b.readBigInt64BE(off), b.readInt32BE(off + 8)]);
  return out;
}
