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
const STAT_DIGEST_BYTES = 60;
const EXCLUDED_SUBTREE = '/zookeeper/';
/** Reused for every node: the digest runs on every write, twice per changed node. */
const statBytes = Buffer.allocUnsafe(STAT_DIGEST_BYTES);

/** One node's digest, an unsigned 32-bit value (0 for nodes the digest leaves out). */
export function nodeDigest(path: string, data: Buffer | null, s: StatPersisted): number {
  if (path.startsWith(EXCLUDED_SUBTREE)) return 0;
  const b = statBytes;
  b.writeBigInt64BE(s.czxid, 0);
  b.writeBigInt64BE(s.mzxid, 8);
  b.writeBigInt64BE(s.pzxid, 16);
  b.writeBigInt64BE(s.ctime, 24);
  b.writeBigInt64BE(s.mtime, 32);
  b.writeInt32BE(s.version, 40);
  b.writeInt32BE(s.cversion, 44);
  b.writeInt32BE(s.aversion, 48);
  b.writeBigInt64BE(s.ephemeralOwner, 52);
  let crc = path === '/' || path === '' ? 0 : zlib.crc32(path);
  if (data !== null && data.length > 0) crc = zlib.crc32(data, crc);
  return zlib.crc32(b, crc);
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
    if (this.small > Number.MAX_SAFE_INTEGER / 2) this.fold();
  }

  remove(d: number): void {
    this.small -= d;
    if (this.small < -Number.MAX_SAFE_INTEGER / 2) this.fold();
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
