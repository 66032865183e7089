/**
 * Adler-32 (RFC 1950), the checksum ZooKeeper puts on every txn log entry and over a whole
 * snapshot (java.util.zip.Adler32). Incremental so a snapshot can be checksummed as it streams.
 * Long runs are summed by zlib (native code): a zlib stream of stored blocks ends with the
 * Adler-32 of its input, and the sums of consecutive runs combine (zlib's adler32_combine).
 */
import zlib from 'node:zlib';

const MOD_ADLER = 65521;
/** Largest run of bytes whose sums cannot overflow 2^53 before reduction (zlib uses 5552 for 32 bits). */
const CHUNK_BYTES_MAX = 5552;
/** Runs at least this long go through zlib: below it the call costs more than the loop. */
const NATIVE_BYTES_MIN = 256 * 1024;
/** Bytes handed to zlib at a time (its output, as long as its input, is garbage at once). */
const NATIVE_CHUNK_BYTES = 1024 * 1024;
/** A zlib stream ends with the Adler-32 of its input, big-endian. */
const ZLIB_TRAILER_BYTES = 4;

export class Adler32 {
  private a = 1;
  private b = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    if (end - start >= NATIVE_BYTES_MIN) return this.updateNative(buf, start, end);
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

  private updateNative(buf: Uint8Array, start: number, end: number): this {
    for (let i = start; i < end; i += NATIVE_CHUNK_BYTES) {
      const run = buf.subarray(i, Math.min(end, i + NATIVE_CHUNK_BYTES));
      const z = zlib.deflateSync(run, { level: 0 });
      const sum = Buffer.from(z.buffer, z.byteOffset, z.length).readUInt32BE(z.length - ZLIB_TRAILER_BYTES);
      // adler32_combine: the sums of this run appended to what was summed so far.
      const n = run.length % MOD_ADLER;
      this.b = (this.b + (sum >>> 16) + ((n * this.a) % MOD_ADLER) + MOD_ADLER - n) % MOD_ADLER;
      this.a = (this.a + (sum & 0xffff) + MOD_ADLER - 1) % MOD_ADLER;
    }
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
