/**
 * ZooKeeper 3.8's tree digest (DigestCalculator, digest version 2): a follower compares it after
 * every txn with the TxnDigest the leader put in the proposal, and it is logged after each txn and
 * stored in a snapshot's digest section. A node's digest is the CRC-32 of its path ("" for the
 * root), its data and 60 bytes of stat (czxid, mzxid, pzxid, ctime, mtime, version, cversion,
 * aversion, ephemeralOwner, big-endian); the tree's is the 64-bit wrapping sum over all nodes
 * except those under /zookeeper/ (/zookeeper itself counts).
 */
import zlib from 'node:zlib';
import type { StatPersisted } from '../proto/records.js';

export const TREE_DIGEST_VERSION = 2;

/** DataTree.ZxidDigest: the tree digest right after the txn `zxid` (in snapshots, and in the `hash` history). */
export interface ZxidDigest {
  readonly zxid: bigint;
  readonly digestVersion: number;
  readonly digest: bigint;
}
const STAT_DIGEST_BYTES = 60;
const EXCLUDED_SUBTREE = '/zookeeper/';
/**
 * Path, data and stat are laid out here and checksummed in one pass: this runs on every write,
 * and for small nodes per-call overhead dominates. Larger nodes take the three-call path.
 */
const SCRATCH_BYTES = 4096;
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
const view = new DataView(scratch.buffer, scratch.byteOffset, SCRATCH_BYTES);
/** Up to this many bytes a table-driven CRC in JS beats the native call; beyond, zlib's is faster. */
const JS_CRC_BYTES_MAX = 256;

/** CRC-32 (zlib's polynomial) tables for slicing by 8 bytes. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  return t;
})();

function crc32Scratch(len: number): number {
  if (len > JS_CRC_BYTES_MAX) return zlib.crc32(scratch.subarray(0, len));
  const b = scratch;
  const t = CRC_TABLE;
  let c = -1;
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    const a = c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + b[i + 4]!]! ^
      t[512 + b[i + 5]!]! ^
      t[256 + b[i + 6]!]! ^
      t[b[i + 7]!]!;
  }
  for (; i < len; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function putStat(view: DataView, off: number, s: StatPersisted): void {
  view.setBigInt64(off, s.czxid);
  view.setBigInt64(off + 8, s.mzxid);
  view.setBigInt64(off + 16, s.pzxid);
  view.setBigInt64(off + 24, s.ctime);
  view.setBigInt64(off + 32, s.mtime);
  view.setInt32(off + 40, s.version);
  view.setInt32(off + 44, s.cversion);
  view.setInt32(off + 48, s.aversion);
  view.setBigInt64(off + 52, s.ephemeralOwner);
}

/** Writes a node's 60 stat bytes (the order putStat uses) at `off` of `view`. */
export type StatWriter = (view: DataView, off: number) => void;

/** Writes an exact integer held in a double as a big-endian 64-bit long. */
export function putLongNumber(view: DataView, off: number, x: number): void {
  const hi = Math.floor(x / 2 ** 32);
  view.setInt32(off, hi);
  view.setUint32(off + 4, x - hi * 2 ** 32);
}

/** Writes the path's UTF-8 bytes at 0; a byte loop for ASCII paths (the usual case) is cheapest. */
function putPath(path: string): number {
  const n = path.length;
  for (let i = 0; i < n; i++) {
    const ch = path.charCodeAt(i);
    if (ch >= 0x80) return scratch.write(path, 0);
    scratch[i] = ch;
  }
  return n;
}

/** One node's digest, an unsigned 32-bit value (0 for nodes the digest leaves out). */
export function nodeDigest(path: string, data: Buffer | null, s: StatPersisted): number {
  return nodeDigestOf(path, data, 0, data === null ? 0 : data.length, (v, off) => putStat(v, off, s));
}

/** nodeDigest of a node whose data is bytes[start, start + len) and whose stat `writeStat` lays out. */
export function nodeDigestOf(path: string, bytes: Buffer | null, start: number, len: number, writeStat: StatWriter): number {
  if (path.startsWith(EXCLUDED_SUBTREE)) return 0;
  const isRoot = path === '/' || path === '';
  if (path.length * 3 + len + STAT_DIGEST_BYTES <= SCRATCH_BYTES) {
    let off = isRoot ? 0 : putPath(path);
    if (len > 0) off += bytes!.copy(scratch, off, start, start + len);
    writeStat(view, off);
    return crc32Scratch(off + STAT_DIGEST_BYTES);
  }
  let crc = isRoot ? 0 : zlib.crc32(path);
  if (len > 0) crc = zlib.crc32(bytes!.subarray(start, start + len), crc);
  writeStat(view, 0);
  return zlib.crc32(scratch.subarray(0, STAT_DIGEST_BYTES), crc);
}

/**
 * A running tree digest: node digests are added and removed as nodes change. The sum is kept in a
 * double while it is exact and folded into a bigint before it could lose precision.
 */
export class DigestSum {
  private small = 0;
  private big = 0n;

  add(d: number): void {
    this.small += d;
    if (this.small > Number.MAX_SAFE_INTEGER / 2 || this.small < -Number.MAX_SAFE_INTEGER / 2) this.fold();
  }

  /** Starts again from a known digest. */
  reset(value: bigint): void {
    this.big = value;
    this.small = 0;
  }

  /** The digest as ZooKeeper's signed 64-bit long. */
  get value(): bigint {
    return BigInt.asIntN(64, this.big + BigInt(this.small));
  }

  private fold(): void {
    this.big = BigInt.asIntN(64, this.big + BigInt(this.small));
    this.small = 0;
  }
}

/** The digest of a whole tree, from scratch. */
export function treeDigest(nodes: Iterable<{ path: string; data: Buffer | null; stat: StatPersisted }>): bigint {
  const sum = new DigestSum();
  for (const n of nodes) sum.add(nodeDigest(n.path, n.data, n.stat));
  return sum.value;
}
