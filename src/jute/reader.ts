/** Thrown when bytes do not form a valid jute record (truncated, negative length, over a limit). */
export class JuteError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'JuteError';
  }
}

/** Largest single string/buffer/vector length accepted while decoding; the frame limit bounds it anyway. */
export const JUTE_LENGTH_MAX = 0x7fffffff;

/** Big-endian cursor over a byte buffer, as jute's BinaryInputArchive reads it. */
export class JuteReader {
  offset: number;
  constructor(
    readonly buf: Buffer,
    offset = 0,
    readonly end = buf.length,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): number {
    const at = this.offset;
    if (n < 0 || at + n > this.end) throw new JuteError(`need ${n} bytes, have ${this.end - at}`, at);
    this.offset = at + n;
    return at;
  }

  int(): number {
    return this.buf.readInt32BE(this.need(4));
  }

  long(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }

  /** Skips `n` bytes the caller reads itself from `buf` at the returned offset (a fixed-size record read into columns). */
  skip(n: number): number {
    return this.need(n);
  }

  boolean(): boolean {
    return this.buf[this.need(1)] !== 0;
  }

  /** A length prefix: -1 means null; any other negative is malformed. */
  length(): number {
    const at = this.offset;
    const n = this.int();
    if (n < -1) throw new JuteError(`negative length ${n}`, at);
    if (n > this.end - this.offset) throw new JuteError(`length ${n} exceeds the ${this.end - this.offset} bytes left`, at);
    return n;
  }

  ustring(): string {
    const n = this.length();
    if (n <= 0) return '';
    const at = this.need(n);
    return this.buf.toString('utf8', at, at + n);
  }

  buffer(): Buffer | null {
    const n = this.length();
    if (n < 0) return null;
    const at = this.need(n);
    // Copy so that a record never pins the whole socket chunk it came from.
    return Buffer.from(this.buf.subarray(at, at + n));
  }
}
