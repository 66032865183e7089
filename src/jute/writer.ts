const INITIAL_SIZE_BYTES = 256;

/** Growable big-endian output, as jute's BinaryOutputArchive writes it. */
export class JuteWriter {
  private buf: Buffer;
  offset = 0;

  constructor(size_bytes = INITIAL_SIZE_BYTES) {
    this.buf = Buffer.allocUnsafe(size_bytes);
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.offset);
    this.buf = next;
  }

  int(v: number): void {
    this.ensure(4);
    this.offset = this.buf.writeInt32BE(v | 0, this.offset);
  }

  long(v: bigint): void {
    this.ensure(8);
    this.offset = this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.offset);
  }

  /**
   * Makes room for `n` bytes that the caller lays out itself through `view` at the returned
   * offset (a fixed-size record written from columns, without a call per field).
   */
  take(n: number): number {
    this.ensure(n);
    if (this.viewOf !== this.buf) {
      this.viewOf = this.buf;
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }
  /** A view of the current buffer, valid until the next write (see take). */
  view: DataView = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer | undefined;

  boolean(v: boolean): void {
    this.ensure(1);
    this.buf[this.offset++] = v ? 1 : 0;
  }

  ustring(v: string | null): void {
    if (v === null) return this.int(-1);
    const n = Buffer.byteLength(v, 'utf8');
    this.ensure(4 + n);
    this.offset = this.buf.writeInt32BE(n, this.offset);
    this.offset += this.buf.write(v, this.offset, 'utf8');
  }

  buffer(v: Uint8Array | null): void {
    if (v === null) return this.int(-1);
    this.ensure(4 + v.length);
    this.offset = this.buf.writeInt32BE(v.length, this.offset);
    this.buf.set(v, this.offset);
    this.offset += v.length;
  }

  /** Raw bytes with no length prefix (already-encoded records). */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.offset);
    this.offset += v.length;
  }

  /** Reserve 4 bytes for a length prefix and return where to patch it. */
  reserveInt(): number {
    this.ensure(4);
    const at = this.offset;
    this.offset += 4;
    return at;
  }

  patchInt(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }

  /** The bytes written so far (a view: copy it if the writer is reused). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.offset);
  }

  reset(): void {
    this.offset = 0;
  }
}
