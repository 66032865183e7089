/**
 * Adler-32 (RFC 1950), the checksum ZooKeeper puts on every txn log entry and over a whole
 * snapshot (java.util.zip.Adler32). Incremental so a snapshot can be checksummed as it streams.
 */
const MOD_ADLER = 65521;
/** Largest run of bytes whose sums cannot overflow 2^53 before reduction (zlib uses 5552 for 32 bits). */
const CHUNK_BYTES_MAX = 5552;

export class Adler32 {
  private a = 1;
  private b = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let a = this.a;
    let b = this.b;
    let i = start;
    while (i < end) {
      const stop = Math.min(end, i + CHUNK_BYTES_MAX);
      for (; i < stop; i++) {
        a += buf[i]!;
        b += a;
      }
      a %= MOD_ADLER;
      b %= MOD_ADLER;
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** The checksum as Java's Checksum.getValue() returns it: an unsigned 32-bit value in a long. */
  value(): bigint {
    return BigInt(((this.b << 16) | this.a) >>> 0);
  }
}

export function adler32(buf: Uint8Array, start = 0, end = buf.length): bigint {
  return new Adler32().update(buf, start, end).value();
}
