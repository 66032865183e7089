/**
 * autopurge (PurgeTxnLog, DatadirCleanupManager): keep the newest snapRetainCount valid snapshots
 * and the logs needed to replay from the oldest of them; delete older snapshots and logs.
 */
import fs from 'node:fs/promises';
import { log } from '../log.js';
import { listLogs, listSnapshots, logsFrom } from './history.js';
import { looksSealed } from './snapshot.js';
import { compressionOfName, hasCompressedMagic } from './snapshotCompression.js';
import path from 'node:path';

/** ZooKeeper refuses to keep fewer than 3 snapshots. */
export const SNAP_RETAIN_COUNT_MIN = 3;

async function sealed(file: string): Promise<boolean> {
  try {
    const fh = await fs.open(file, 'r');
    try {
      const { size } = await fh.stat();
      if (size < 10) return false;
      // A compressed snapshot's end is inside its stream: ZooKeeper checks its magic instead.
      const c = compressionOfName(path.basename(file));
      if (c !== undefined && c !== 'none') {
        const head = Buffer.alloc(8);
        await fh.read(head, 0, 8, 0);
        return hasCompressedMagic(head, c);
      }
      const tail = Buffer.alloc(5);
      await fh.read(tail, 0, 5, size - 5);
      const probe = Buffer.concat([Buffer.alloc(5), tail]);
      return looksSealed(probe);
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

/** Deletes what the newest `retainCount` snapshots do not need; returns the deleted paths. */
export async function purgeDataDir(snapDir: string, logDir: string, retainCount: number): Promise<string[]> {
  if (retainCount < SNAP_RETAIN_COUNT_MIN) throw new Error(`snapRetainCount must be at least ${SNAP_RETAIN_COUNT_MIN}`);
  const snaps = (await listSnapshots(snapDir)).reverse();
  const kept = [];
  for (const s of snaps) {
    if (kept.length === retainCount) break;
    if (await sealed(s.path)) kept.push(s);
  }
  if (kept.length === 0) return [];
  const least = kept[kept.length - 1]!.zxid;
  const logs = await listLogs(logDir);
  const neededLogs = new Set(logsFrom(logs, least).map((f) => f.path));
  const doomed = [...logs.filter((f) => f.zxid < least && !neededLogs.has(f.path)), ...snaps.filter((f) => f.zxid < least)].map((f) => f.path);
  for (const p of doomed) {
    log.info({ file: p }, 'autopurge: removing');
    await fs.rm(p, { force: true });
  }
  return doomed;
}

/** Runs purgeDataDir every purgeInterval_hours (0 = never); returns a stop function. */
export function schedulePurge(snapDir: string, logDir: string, retainCount: number, purgeInterval_hours: number): () => void {
  if (purgeInterval_hours <= 0) return () => undefined;
  const run = (): void => {
    purgeDataDir(snapDir, logDir, retainCount).catch((err: unknown) => log.error({ err }, 'autopurge failed'));
  };
  // As DatadirCleanupManager: a first purge right away, then one every interval.
  setImmediate(run);
  const timer = setInterval(run, purgeInterval_hours * 3600_000);
  timer.unref();
  return () => clearInterval(timer);
}
