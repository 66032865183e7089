/**
 * Compressed snapshot files, as ZooKeeper 3.6+ writes them with
 * `zookeeper.snapshot.compression.method` (SnapStream): `snapshot.<zxid>.gz` is a gzip stream,
 * `snapshot.<zxid>.snappy` is snappy-java's stream format (a 16-byte header — magic, version 1,
 * oldest compatible version 1 — then blocks of `int32 compressed length` + a raw Snappy block).
 * The bytes inside are the plain snapshot, Adler32 seal included. ZooKeeper reads every kind
 * whatever its own setting; so does tszk, and it writes them only when asked.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type * as Snappy from 'snappyjs';
import { StorageError, errorMessage } from './errors.js';

/** snappyjs is loaded on the first snappy snapshot: not on every server's start (config.ts reads this module). */
let snappyModule: typeof Snappy | undefined;
async function snappy(): Promise<typeof Snappy> {
  return (snappyModule ??= await import('snappyjs'));
}

export type SnapshotCompression = 'none' | 'gz' | 'snappy';
export const SNAPSHOT_COMPRESSIONS: readonly SnapshotCompression[] = ['none', 'gz', 'snappy'];

const SUFFIX: Readonly<Record<SnapshotCompression, string>> = { none: '', gz: '.gz', snappy: '.snappy' };
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const SNAPPY_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const SNAPPY_VERSION = 1;
const SNAPPY_HEADER_BYTES = SNAPPY_MAGIC.length + 8;
/** snappy-java's default block: uncompressed bytes per Snappy block. */
const SNAPPY_BLOCK_BYTES = 32 * 1024;

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** The file-name suffix of a snapshot compressed this way ("" for none). */
export function snapshotSuffix(c: SnapshotCompression): string {
  return SUFFIX[c];
}

/** The compression a snapshot file name says (SnapStream.getStreamMode); undefined for an unknown suffix. */
export function compressionOfName(name: string): SnapshotCompression | undefined {
  const ext = name.split('.').slice(2).join('.');
  return ext === '' ? 'none' : ext === 'gz' ? 'gz' : ext === 'snappy' ? 'snappy' : undefined;
}

/** ZooKeeper's cheap validity test of a compressed snapshot: its stream's magic bytes. */
export function hasCompressedMagic(head: Buffer, c: Exclude<SnapshotCompression, 'none'>): boolean {
  const magic = c === 'gz' ? GZIP_MAGIC : SNAPPY_MAGIC;
  return head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
}

/** The plain snapshot bytes inside a file; a corrupt stream is a StorageError naming the file and offset. */
export async function decompressSnapshot(buf: Buffer, c: SnapshotCompression, file: string): Promise<Buffer> {
  if (c === 'none') return buf;
  if (!hasCompressedMagic(buf, c)) throw new StorageError(`not a ${c} stream (bad magic)`, file, 0);
  if (c === 'gz') {
    try {
      return await gunzip(buf);
    } catch (e) {
      throw new StorageError(`gzip stream is corrupt: ${errorMessage(e)}`, file, undefined);
    }
  }
  const { uncompress } = await snappy();
  const parts: Buffer[] = [];
  let at = SNAPPY_HEADER_BYTES;
  if (buf.length < at) throw new StorageError('snappy header is truncated', file, buf.length);
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new StorageError('snappy block length is truncated', file, at);
    const n = buf.readInt32BE(at);
    if (n < 0 || at + 4 + n > buf.length) throw new StorageError(`snappy block of ${n} bytes runs past the end of the file`, file, at);
    try {
      parts.push(uncompress(buf.subarray(at + 4, at + 4 + n)));
    } catch (e) {
      throw new StorageError(`snappy block is corrupt: ${errorMessage(e)}`, file, at);
    }
    at += 4 + n;
  }
  return Buffer.concat(parts);
}

/**
 * A compressor for a snapshot written in chunks: `chunk` turns the next plain bytes into the
 * bytes to write (the stream header comes with the first chunk; gzip chunks are gzip members,
 * which every gzip reader, Java's included, reads as one stream).
 */
export function snapshotCompressor(c: Exclude<SnapshotCompression, 'none'>): (plain: Buffer) => Promise<Buffer> {
  if (c === 'gz') return (plain) => gzip(plain);
  let first = true;
  return async (plain) => {
    const { compress } = await snappy();
    const out: Buffer[] = [];
    if (first) {
      const h = Buffer.alloc(SNAPPY_HEADER_BYTES);
      SNAPPY_MAGIC.copy(h);
      h.writeInt32BE(SNAPPY_VERSION, SNAPPY_MAGIC.length);
      h.writeInt32BE(SNAPPY_VERSION, SNAPPY_MAGIC.length + 4);
      out.push(h);
      first = false;
    }
    for (let at = 0; at < plain.length; at += SNAPPY_BLOCK_BYTES) {
      const block = compress(plain.subarray(at, at + SNAPPY_BLOCK_BYTES));
      const len = Buffer.alloc(4);
      len.writeInt32BE(block.length);
      out.push(len, block);
    }
    return Buffer.concat(out);
  };
}
