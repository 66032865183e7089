/** The 16-byte header that opens every txn log and snapshot file (FileHeader in zookeeper.jute). */
import { int, long, record, type RecordValue } from '../jute/index.js';

export const FileHeader = record('FileHeader', { magic: int, version: int, dbid: long });
export type FileHeader = RecordValue<typeof FileHeader>;

export const FILE_HEADER_BYTES = 16;
/** "ZKLG" as a big-endian int. */
export const TXNLOG_MAGIC = 0x5a4b4c47;
/** "ZKSN" as a big-endian int. */
export const SNAP_MAGIC = 0x5a4b534e;
export const FILE_FORMAT_VERSION = 2;
/** ZooKeeper writes dbid 0 in log headers and -1 in snapshot headers and never reads either. */
export const TXNLOG_DBID = 0n;
export const SNAP_DBID = -1n;
