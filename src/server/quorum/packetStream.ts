/**
 * Framing on the quorum port: ZooKeeper writes each QuorumPacket as a bare jute record (no
 * length prefix) on a buffered stream, so a reader must know the record's layout to find its end:
 *   int type | long zxid | buffer data (int length, -1 = null) | vector<Id> authinfo
 *   (int count, -1 = null; each Id = ustring scheme, ustring id).
 */
import { decodeQuorumMessage, encodeQuorumMessage, type QuorumMessage, type Zxid } from '../../zab/index.js';
import { SnapFileBuilder, snapPacket, snapStreamFromBody, SnapStreamScanner, type SnapLoad } from './snapStream.js';

/** Largest quorum packet accepted: a SNAP carries a whole serialized tree. */
export const QUORUM_PACKET_BYTES_MAX = 1024 * 1024 * 1024;

/** Starting size of a connection's receive buffer. */
const DECODER_BUFFER_BYTES_INITIAL = 64 * 1024;
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
 * Accumulates socket chunks and yields whole decoded quorum messages, in order. After a SNAP
 * packet it reads the streamed snapshot (snapStream.ts) and yields the SNAP with the snapshot,
 * rebuilt as a sealed snapshot file, as its data; or, given `loadSnap`, hands each record to a
 * loader as it arrives and yields the SNAP with what the loader's `end` gives. Either way the
 * stream's records leave the receive buffer as soon as they are scanned, so the buffer stays the
 * size of a record or a socket read.
 */
export class QuorumPacketDecoder {
  private buf = Buffer.alloc(DECODER_BUFFER_BYTES_INITIAL);
  private start = 0;
  private end = 0;
  /** Bytes from `start` needed before parsing is worth trying again. */
  private needed = 0;
  private snap: { zxid: Zxid; scanner: SnapStreamScanner; file: SnapFileBuilder | undefined; load: SnapLoad | undefined } | undefined;

  constructor(private readonly loadSnap?: () => SnapLoad) {}

  push(chunk: Buffer, onMessage: (m: QuorumMessage) => void): void {
    this.append(chunk);
    if (this.end - this.start < this.needed) return;
    this.needed = 0;
    for (;;) {
      if (this.snap !== undefined) {
        const { scanner: sc, file, load, zxid } = this.snap;
        const done = sc.advance(this.buf, this.start, this.end);
        file?.append(this.buf, this.start, this.start + (done ? sc.bodyBytes : sc.pos));
        this.start += sc.pos;
        sc.rebase();
        if (!done) break;
        this.snap = undefined;
        onMessage({ type: 'SNAP', zxid, data: load !== undefined ? load.end(zxid) : file!.file() });
        continue;
      }
      const n = quorumPacketLength(this.buf.subarray(this.start, this.end), 0);
      if (n < 0) {
        this.needed = -n;
        break;
      }
      const m = decodeQuorumMessage(this.buf.subarray(this.start, this.start + n));
      this.start += n;
      // ZooKeeper's SNAP packet is followed by the serialized database.
      if (m.type === 'SNAP') {
        const load = this.loadSnap?.();
        this.snap = { zxid: m.zxid, scanner: new SnapStreamScanner(load?.visitor), file: load === undefined ? new SnapFileBuilder() : undefined, load };
      } else onMessage(m);
    }
    if (this.start === this.end) this.start = this.end = 0;
  }

  private append(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length > QUORUM_PACKET_BYTES_MAX * 2) throw new QuorumStreamError('quorum stream buffer over its bound');
      const cap = Math.max(this.buf.length, live + chunk.length, this.needed) * (live + chunk.length > this.buf.length / 2 ? 2 : 1);
      const next = cap > this.buf.length ? Buffer.alloc(cap) : this.buf;
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }
}

/** QuorumPacket SNAP followed by the snapshot stream (sessions, tree, signature), as ZooKeeper sends it. */
export function encodeSnapWithStream(zxid: bigint, snapshotBody: Buffer): Buffer {
  return Buffer.concat([snapPacket(zxid), snapStreamFromBody(snapshotBody)]);
}

export { encodeQuorumMessage };
