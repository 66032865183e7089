/**
 * ZooKeeper 3.8's tree digest (DigestCalculator, digest version 2), recorded in TxnDigest after
 * each logged txn and in a snapshot's digest section. A node's digest is the CRC-32 of its path
 * ("" for the root), its data and 60 bytes of stat (czxid, mzxid, pzxid, ctime, mtime, version,
 * cversion, aversion, ephemeralOwner, big-endian); the tree's is the 64-bit wrapping sum over all
 * nodes except those under /zookeeper/ (/zookeeper itself counts).
 */
import zlib from 'node:zlib';
import type { StatPersisted } from '../proto/records.js';

export const TREE_DIGEST_VERSION = 2;
const STAT_DIGEST_BYTES = 60;
const EXCLUDED_SUBTREE = '/zookeeper/';

function nodeDigest(path: string, data: Buffer | null, s: StatPersisted): bigint {
  if (path.startsWith(EXCLUDED_SUBTREE)) return 0n;
  const b = Buffer.allocUnsafe(STAT_DIGEST_BYTES);
  b.writeBigInt64BE(s.czxid, 0);
  b.writeBigInt64BE(s.mzxid, 8);
  b.writeBigInt64BE(s.pzxid, 16);
  b.writeBigInt64BE(s.ctime, 24);
  b.writeBigInt64BE(s.mtime, 32);
  b.writeInt32BE(s.version, 40);
  b.writeInt32BE(s.cversion, 44);
  b.writeInt32BE(s.aversion, 48);
  b.writeBigInt64BE(s.ephemeralOwner, 52);
  let crc = zlib.crc32(Buffer.from(path === '/' ? '' : path, 'utf8'));
  if (data !== null) crc = zlib.crc32(data, crc);
  return BigInt(zlib.crc32(b, crc));
}

/** Sum of node digests as a signed 64-bit value (ZooKeeper's AdHash over a long). */
export function treeDigest(nodes: Iterable<{ path: string; data: Buffer | null; stat: StatPersisted }>): bigint {
  let sum = 0n;
  for (const n of nodes) sum += nodeDigest(n.path, n.data, n.stat);
  return BigInt.asIntN(64, sum);
}
