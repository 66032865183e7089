/**
 * The data of a REQUEST a learner forwards to the leader, laid out as ZooKeeper's
 * Learner.request does: long sessionId | int cxid | int type | the client's request bytes.
 * ZooKeeper carries the client's auth ids in QuorumPacket.authinfo; the core's REQUEST has no field
 * for them, so they follow the request record here as a jute vector<Id> (a reader of the request
 * record alone stops before them).
 */
import { JuteReader, JuteWriter } from '../../jute/index.js';
import { Id } from '../../proto/records.js';
import type { ForwardedWrite } from '../standalone.js';

export function encodeForwardedWrite(w: ForwardedWrite): Buffer {
  const out = new JuteWriter();
  out.long(w.sessionId);
  out.int(w.cxid);
  out.int(w.type);
  const head = Buffer.from(out.bytes());
  const auth = new JuteWriter();
  auth.int(w.authInfo.length);
  for (const id of w.authInfo) Id.write(auth, id);
  const lenBuf = Buffer.alloc(4);
  lenBuf.writeInt32BE(w.body.length);
  // The body length lets us find the auth ids without parsing the request record.
  return Buffer.concat([head, w.body, Buffer.from(auth.bytes()), lenBuf]);
}

export function decodeForwardedWrite(buf: Buffer): ForwardedWrite {
  const r = new JuteReader(buf);
  const sessionId = r.long();
  const cxid = r.int();
  const type = r.int();
  const bodyLen = buf.readInt32BE(buf.length - 4);
  if (bodyLen < 0 || 16 + bodyLen > buf.length - 4) throw new Error(`forwarded request body length ${bodyLen} out of bounds`);
  const body = buf.subarray(16, 16 + bodyLen);
  const ar = new JuteReader(buf, 16 + bodyLen, buf.length - 4);
  const authInfo: Id[] = [];
  for (let n = ar.int(); n > 0; n--) authInfo.push(Id.read(ar));
  return { sessionId, cxid, type, body, authInfo };
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
