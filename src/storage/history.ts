/**
 * Reading the history a dataDir holds: the newest snapshot that verifies (falling back to older
 * ones, as ZooKeeper does), then the txns after it from the log files, checked for gaps.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { log } from '../log.js';
import { StorageError, errorMessage } from './errors.js';
import { FILE_HEADER_BYTES } from './fileHeader.js';
import { scanLogBuffer, walkFrames, type LogEnd, type LogRecord } from './logFile.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, epochOf, listZxidFiles, type ZxidFile } from './names.js';
import { readSnapshotFile, type LoadedSnapshot } from './snapshot.js';
import type { Txn } from '../txn/txn.js';

/** ZooKeeper gives up after trying this many snapshots. */
export const SNAPSHOTS_TRIED_MAX = 100;

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export async function listSnapshots(snapDir: string): Promise<ZxidFile[]> {
  return listZxidFiles(await listDir(snapDir), snapDir, SNAPSHOT_PREFIX);
}

export async function listLogs(logDir: string): Promise<ZxidFile[]> {
  return listZxidFiles(await listDir(logDir), logDir, LOG_PREFIX);
}

export interface SnapshotChoice {
  snapshot: LoadedSnapshot | undefined;
  /** Newer snapshots that failed to verify, newest first. */
  rejected: { path: string; error: StorageError }[];
}

/** The newest snapshot that verifies; throws when snapshots exist but none verifies. */
export async function loadNewestValidSnapshot(snapDir: string): Promise<SnapshotChoice> {
  const snaps = (await listSnapshots(snapDir)).reverse().slice(0, SNAPSHOTS_TRIED_MAX);
  const rejected: SnapshotChoice['rejected'] = [];
  for (const s of snaps) {
    try {
      const snapshot = await readSnapshotFile(s.path, s.zxid);
      for (const r of rejected) log.warn({ file: r.path, err: r.error.message }, 'skipped damaged snapshot, using an older one');
      return { snapshot, rejected };
    } catch (e) {
      const err = e instanceof StorageError ? e : new StorageError(errorMessage(e), s.path, undefined);
      rejected.push({ path: s.path, error: err });
    }
  }
  if (rejected.length > 0) {
    const first = rejected[0]!.error;
    throw new StorageError(`no valid snapshot among ${rejected.length} (newest failed: ${first.reason})`, first.path, first.offset);
  }
  return { snapshot: undefined, rejected };
}

/** The log files that can hold txns after `zxid`: the newest starting at or before it, and all later ones (FileTxnLog.getLogFiles). */
export function logsFrom(logs: readonly ZxidFile[], zxid: bigint): ZxidFile[] {
  let start = 0;
  for (let i = 0; i < logs.length; i++) if (logs[i]!.zxid <= zxid) start = i;
  return logs.slice(start);
}

export interface ScannedLog {
  file: ZxidFile;
  records: LogRecord[];
  end: LogEnd;
}

export interface LogHistory {
  /** Txns above `fromZxid`, in order. */
  txns: Txn[];
  /** Encoded entries matching `txns` (for re-sending without re-encoding). */
  txnBytes: Buffer[];
  lastZxid: bigint;
  scanned: ScannedLog[];
  /** Files whose tail must be cut at `offset` to end cleanly (torn last writes). */
  tornTails: { path: string; offset: number; reason: string }[];
}

/** Read size while looking for where a log file's entries end. */
const LOG_READ_CHUNK_BYTES = 1024 * 1024;

/**
 * A log file up to the first frame of its zero padding: a preallocated file is mostly padding
 * (64 MiB by default), and the scan ends cleanly at that frame whatever follows it. The whole
 * file (`whole`) when the frames do not walk to padding.
 */
async function readUsedPart(p: string): Promise<{ buf: Buffer; whole: boolean }> {
  const fh = await fs.open(p, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(size);
    let filled = 0;
    let walk = { pos: FILE_HEADER_BYTES, stop: 'more' as 'zeros' | 'more' | 'odd' };
    while (filled < size) {
      const { bytesRead } = await fh.read(buf, filled, Math.min(LOG_READ_CHUNK_BYTES, size - filled), filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (walk.stop === 'more') walk = walkFrames(buf, walk.pos, filled);
      if (walk.stop === 'zeros') break;
    }
    return { buf: buf.subarray(0, filled), whole: filled === size };
  } finally {
    await fh.close();
  }
}

/**
 * Reads the txns above `fromZxid`. A torn tail ends a file normally; anything else damaged, or a
 * zxid gap inside one epoch (a missing log file), throws StorageError with the file and offset.
 */
export async function readLogHistory(logDir: string, fromZxid: bigint): Promise<LogHistory> {
  let files = logsFrom(await listLogs(logDir), fromZxid);
  // A log rolled right at the snapshot: the file before it holds nothing above the snapshot's zxid, and is not read.
  if (files.length > 1 && files[1]!.zxid === fromZxid + 1n) files = files.slice(1);
  const out: LogHistory = { txns: [], txnBytes: [], lastZxid: fromZxid, scanned: [], tornTails: [] };
  let prev: bigint | undefined = fromZxid > 0n ? fromZxid : undefined;
  for (const file of files) {
    const used = await readUsedPart(file.path);
    // Entries up to the snapshot are checked but not decoded: they are not replayed.
    let scan = scanLogBuffer(used.buf, fromZxid);
    // How a damaged file ends (torn or corrupt) is judged on all of it, as it always was.
    if (scan.end.kind !== 'clean' && !used.whole) scan = scanLogBuffer(await fs.readFile(file.path), fromZxid);
    out.scanned.push({ file, records: scan.records, end: scan.end });
    if (scan.firstZxid !== undefined && scan.firstZxid !== file.zxid) {
      throw new StorageError(
        `first txn has zxid 0x${scan.firstZxid.toString(16)} but the file is named for 0x${file.zxid.toString(16)}`,
        file.path,
        FILE_HEADER_BYTES,
      );
    }
    for (const rec of scan.records) {
      const z = rec.entry.header.zxid;
      if (z <= fromZxid) continue;
      if (prev !== undefined && epochOf(z) === epochOf(prev) && z > prev + 1n) {
        throw new StorageError(
          `txn history has a gap: 0x${prev.toString(16)} is followed by 0x${z.toString(16)} (a log file is missing?)`,
          file.path,
          rec.offset,
        );
      }
      if (prev !== undefined && z <= prev) {
        throw new StorageError(`txn zxid 0x${z.toString(16)} does not follow 0x${prev.toString(16)}`, file.path, rec.offset);
      }
      prev = z;
      out.txns.push(rec.entry);
      out.txnBytes.push(rec.bytes);
      out.lastZxid = z;
    }
    switch (scan.end.kind) {
      case 'clean':
        break;
      case 'torn':
        out.tornTails.push({ path: file.path, offset: scan.end.offset, reason: scan.end.reason });
        break;
      case 'corrupt':
      case 'badHeader':
        throw new StorageError(scan.end.reason, file.path, scan.end.offset);
    }
  }
  return out;
}

/** Cuts torn tails so the files end cleanly (and ZooKeeper reads them too); a file left with no entry is removed. */
export async function truncateTornTails(tails: LogHistory['tornTails'], headerOnlyRemove = true): Promise<void> {
  for (const t of tails) {
    log.warn({ file: t.path, offset: t.offset, reason: t.reason }, 'truncating the torn tail of a txn log');
    if (t.offset <= 16 && headerOnlyRemove) {
      await fs.rm(t.path, { force: true });
      continue;
    }
    const fh = await fs.open(t.path, 'r+');
    try {
      await fh.truncate(t.offset);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  if (tails.length > 0) {
    const dirs = new Set(tails.map((t) => path.dirname(t.path)));
    for (const d of dirs) {
      const fh = await fs.open(d, 'r');
      await fh.sync().finally(() => fh.close());
    }
  }
}
