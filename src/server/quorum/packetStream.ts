/**
 * Framing on the quorum port: ZooKeeper writes each QuorumPacket as a bare jute record (no
 * length prefix) on a buffered stream, so a reader must know the record's layout to find its end:
 *   int type | long zxid | buffer data (int length, -1 = null) | vector<Id> authinfo
 *   (int count, -1 = null; each Id = ustring scheme, ustring id).
 */
import { decodeQuorumMessage, encodeQuorumMessage, type QuorumMessage } from '../../zab/index.js';

/** Largest quorum packet accepted: a SNAP carries a whole serialized tree. */
export const QUORUM_PACKET_BYTES_MAX = 1024 * 1024 * 1024;

/** Bounds on the authinfo a packet may carry. */
const AUTHINFO_COUNT_MAX = 1024;
const AUTHINFO_STRING_BYTES_MAX = 1024 * 1024;

export class QuorumStreamError extends Error {
  override name = 'QuorumStreamError';
}

/**
 * Bytes of the QuorumPacket starting at `off`; when not all of it is here yet, the negated number
 * of bytes (from `off`) known to be needed so far.
 */
export function quorumPacketLength(buf: Buffer, off: number): number {
  let p = off + 12;
  if (buf.length < p + 4) return -(p + 4 - off);
  const dataLen = buf.readInt32BE(p);
  p += 4;
  if (dataLen < -1 || dataLen > QUORUM_PACKET_BYTES_MAX) throw new QuorumStreamError(`quorum packet data length ${dataLen} out of bounds`);
  if (dataLen > 0) p += dataLen;
  if (buf.length < p + 4) return -(p + 4 - off);
  const count = buf.readInt32BE(p);
  p += 4;
  if (count < -1 || count > AUTHINFO_COUNT_MAX) throw new QuorumStreamError(`quorum packet authinfo count ${count} out of bounds`);
  for (let i = 0; i < count * 2; i++) {
    if (buf.length < p + 4) return -(p + 4 - off);
    const n = buf.readInt32BE(p);
    if (n < -1 || n > AUTHINFO_STRING_BYTES_MAX) throw new QuorumStreamError(`quorum packet authinfo string length ${n} out of bounds`);
    p += 4 + Math.max(0, n);
  }
  return buf.length < p ? -(p - off) : p - off;
}

/**
 * Accumulates socket chunks and yields whole decoded quorum messages, in order. Chunks of a large
 * packet (a SNAP) are only joined once all of its bytes are here.
 */
export class QuorumPacketDecoder {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** Bytes needed before parsing is worth trying again. */
  private needed = 0;

  push(chunk: Buffer, onMessage: (m: QuorumMessage) => void): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes < this.needed) return;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    let off = 0;
    for (;;) {
      const n = quorumPacketLength(buf, off);
      if (n < 0) {
        this.needed = -n;
        break;
      }
      onMessage(decodeQuorumMessage(buf.subarray(off, off + n)));
      off += n;
    }
    const rest = buf.subarray(off);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.bytes = rest.length;
  }
}

export { encodeQuorumMessage };
