/**
 * TRUNC from a ZAB leader (FileTxnLog.truncate): drop every txn above `zxid` so the follower's
 * history ends where the leader's does. Close the dataDir first, then reopen it with openDataDir.
 * Snapshots above `zxid` go too: they would hold txns the leader never committed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { log } from '../log.js';
import { StorageError } from './errors.js';
import { fsyncDir } from './fsutil.js';
import { listLogs, listSnapshots, logsFrom } from './history.js';
import { ENTRY_OVERHEAD_BYTES, scanLogBuffer } from './logFile.js';
import { FILE_HEADER_BYTES } from './fileHeader.js';
import { VERSION_DIR } from './names.js';

export interface TruncateResult {
  /** Files removed (later logs, newer snapshots). */
  removed: string[];
  /** The log cut short, and where, if one was. */
  cut: { path: string; offset: number } | undefined;
}

export async function truncateDataDir(dataDir: string, dataLogDir: string | undefined, zxid: bigint): Promise<TruncateResult> {
  const snapDir = path.join(dataDir, VERSION_DIR);
  const logDir = path.join(dataLogDir ?? dataDir, VERSION_DIR);
  const logs = await listLogs(logDir);
  const out: TruncateResult = { removed: [], cut: undefined };
  if (logs.length === 0) throw new StorageError(`no log files to truncate to 0x${zxid.toString(16)}`, logDir, undefined);
  for (const f of logsFrom(logs, zxid)) {
    if (f.zxid > zxid) {
      await fs.rm(f.path, { force: true });
      out.removed.push(f.path);
      continue;
    }
    const scan = scanLogBuffer(await fs.readFile(f.path));
    let end = FILE_HEADER_BYTES;
    for (const r of scan.records) {
      if (r.entry.header.zxid > zxid) break;
      end = r.offset + ENTRY_OVERHEAD_BYTES + r.bytes.length;
    }
    const fh = await fs.open(f.path, 'r+');
    try {
      await fh.truncate(end);
      await fh.sync();
    } finally {
      await fh.close();
    }
    out.cut = { path: f.path, offset: end };
  }
  for (const s of await listSnapshots(snapDir)) {
    if (s.zxid <= zxid) continue;
    await fs.rm(s.path, { force: true });
    out.removed.push(s.path);
  }
  await fsyncDir(logDir);
  if (snapDir !== logDir) await fsyncDir(snapDir);
  log.info({ zxid: `0x${zxid.toString(16)}`, ...out }, 'truncated the txn history');
  return out;
}
