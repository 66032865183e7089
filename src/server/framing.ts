/**
 * Length-prefixed frames (4-byte big-endian length, then the body) from a byte stream split at
 * any byte. Frames that lie inside one chunk are handed out as views (no copy); only a frame
 * that straddles chunks is assembled.
 */
export class FrameError extends Error {}

export class FrameDecoder {
  private pending: Buffer | undefined;

  constructor(private readonly maxFrame_bytes: number) {}

  /**
   * Feeds a chunk; calls onFrame(buf, start, end) for each complete frame in order. `peekFirst`
   * sees the first 4 bytes of the stream as an int before any frame (for four-letter words);
   * returning true stops decoding.
   */
  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => boolean | void): void {
    let buf = chunk;
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    const n = buf.length;
    while (n - at >= 4) {
      const len = buf.readInt32BE(at);
      if (len < 0 || len > this.maxFrame_bytes) throw new FrameError(`Len error ${len}`);
      if (n - at - 4 < len) break;
      const start = at + 4;
      at = start + len;
      if (onFrame(buf, start, at) === true) return;
    }
    if (at < n) this.pending = buf.subarray(at);
  }

  /** The first int of (buffered bytes + chunk), if 4 bytes are there. */
  peekInt(chunk: Buffer): number | undefined {
    const p = this.pending;
    if (p === undefined) return chunk.length >= 4 ? chunk.readInt32BE(0) : undefined;
    if (p.length + chunk.length < 4) return undefined;
    return Buffer.concat([p, chunk]).readInt32BE(0);
  }

  get buffered_bytes(): number {
    return this.pending?.length ?? 0;
  }
}
