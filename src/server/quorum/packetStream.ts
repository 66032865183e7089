/**
 * Framing on the quorum port: ZooKeeper writes each QuorumPacket as a bare jute record (no
 * length prefix) on a buffered stream, so a reader must know the record's layout to find its end:
 *   int type | long zxid | buffer data (int length, -1 = null) | vector<Id> authinfo
 *   (int count, -1 = null; each Id = ustring scheme, ustring id).
 */
import { decodeQuorumMessage, encodeQuorumMessage, type QuorumMessage } from '../../zab/index.js';

/** Largest quorum packet accepted: a SNAP carries a whole serialized tree. */
export const QUORUM_PACKET_BYTES_MAX = 1024 * 1024 * 1024;

export class QuorumStreamError extends Error {
  override name = 'QuorumStreamError';
}

/** Bytes of the QuorumPacket starting at `off`, or undefined when not all of it is here yet. */
export function quorumPacketLength(buf: Buffer, off: number): number | undefined {
  let p = off + 12;
  if (buf.length < p + 4) return undefined;
  const dataLen = buf.readInt32BE(p);
  p += 4;
  if (dataLen < -1 || dataLen > QUORUM_PACKET_BYTES_MAX) throw new QuorumStreamError(`quorum packet data length ${dataLen} out of bounds`);
  if (dataLen > 0) p += dataLen;
  if (buf.length < p + 4) return undefined;
  const count = buf.readInt32BE(p);
  p += 4;
  if (count < -1 || count > 1024) throw new QuorumStreamError(`quorum packet authinfo count ${count} out of bounds`);
  for (let i = 0; i < count * 2; i++) {
    if (buf.length < p + 4) return undefined;
    const n = buf.readInt32BE(p);
    if (n < -1 || n > 1024 * 1024) throw new QuorumStreamError(`quorum packet authinfo string length ${n} out of bounds`);
    p += 4 + Math.max(0, n);
  }
  return buf.length < p ? undefined : p - off;
}

/** Accumulates socket chunks and yields whole decoded quorum messages, in order. */
export class QuorumPacketDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onMessage: (m: QuorumMessage) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let off = 0;
    for (;;) {
      const n = quorumPacketLength(this.pending, off);
      if (n === undefined) break;
      onMessage(decodeQuorumMessage(this.pending.subarray(off, off + n)));
      off += n;
    }
    this.pending = off === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(off);
  }
}

export { encodeQuorumMessage };
