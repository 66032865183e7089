/**
 * File names inside a ZooKeeper dataDir: `version-2/log.<hex zxid>`, `version-2/snapshot.<hex zxid>`
 * (zxid in lower-case hex without leading zeros, as Java's Long.toHexString), plus the
 * `acceptedEpoch`, `currentEpoch` and `myid` files.
 */
import path from 'node:path';
import { compressionOfName, snapshotSuffix, type SnapshotCompression } from './snapshotCompression.js';

export const VERSION_DIR = 'version-2';
export const LOG_PREFIX = 'log';
export const SNAPSHOT_PREFIX = 'snapshot';

/** Java's Long.toHexString: two's complement for negatives. */
export function zxidHex(zxid: bigint): string {
  return BigInt.asUintN(64, zxid).toString(16);
}

export function logFileName(zxid: bigint): string {
  return `${LOG_PREFIX}.${zxidHex(zxid)}`;
}

export function snapshotFileName(zxid: bigint, compression: SnapshotCompression = 'none'): string {
  return `${SNAPSHOT_PREFIX}.${zxidHex(zxid)}${snapshotSuffix(compression)}`;
}

/** The zxid in `<prefix>.<hex>[.<ext>]`, or undefined when the name is not one of those files. */
export function zxidFromName(name: string, prefix: string): bigint | undefined {
  const parts = name.split('.');
  if (parts.length < 2 || parts[0] !== prefix) return undefined;
  const hex = parts[1]!;
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return undefined;
  return BigInt.asIntN(64, BigInt(`0x${hex}`));
}

export interface ZxidFile {
  path: string;
  zxid: bigint;
}

/** Files named `<prefix>.<hex zxid>` in dir (snapshots also `.gz`, `.snappy`), sorted by zxid ascending. */
export function listZxidFiles(names: readonly string[], dir: string, prefix: string): ZxidFile[] {
  const out: ZxidFile[] = [];
  for (const name of names) {
    const zxid = zxidFromName(name, prefix);
    if (zxid === undefined) continue;
    // Other suffixes (a `.tmp` being written, a log with one) are not files of the dataDir.
    if (name.split('.').length !== 2 && (prefix !== SNAPSHOT_PREFIX || compressionOfName(name) === undefined)) continue;
    out.push({ path: path.join(dir, name), zxid });
  }
  return out.sort((x, y) => (x.zxid < y.zxid ? -1 : x.zxid > y.zxid ? 1 : 0));
}

export function epochOf(zxid: bigint): bigint {
  return zxid >> 32n;
}
