/** Facts about this process and its files that several admin answers print. */
import fs from 'node:fs';
import path from 'node:path';
import { SNAPSHOT_PREFIX, zxidFromName } from '../storage/names.js';

export const TSZK_VERSION = '3.8.0-tszk-0.1.0';
export const BUILT_ON = 'built on 2026-11-22 00:00 UTC';
/** What srvr, mntr and the AdminServer print as the version. */
export const VERSION_LINE = `${TSZK_VERSION}, ${BUILT_ON}`;

export function hex(id: bigint): string {
  return '0x' + BigInt.asUintN(64, id).toString(16);
}

/** Bytes of the regular files in a directory (ZooKeeper's dirs / conf sizes: not recursive). */
export function dirSize(dir: string): number {
  try {
    let n = 0;
    for (const f of fs.readdirSync(dir)) {
      const st = fs.statSync(path.join(dir, f));
      if (st.isFile()) n += st.size;
    }
    return n;
  } catch {
    return 0;
  }
}

export function openFds(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

export function maxFds(): number {
  try {
    const m = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The newest snapshot in a snapshot directory: its zxid and modification time (seconds), as last_snapshot reports. */
export function lastSnapshot(snapDir: string): { zxid: bigint; timestamp_s: number } | undefined {
  let best: { zxid: bigint; file: string } | undefined;
  try {
    for (const f of fs.readdirSync(snapDir)) {
      const zxid = zxidFromName(f, SNAPSHOT_PREFIX);
      if (zxid !== undefined && (best === undefined || zxid > best.zxid)) best = { zxid, file: f };
    }
  } catch {
    return undefined;
  }
  if (best === undefined) return undefined;
  return { zxid: best.zxid, timestamp_s: Math.floor(fs.statSync(path.join(snapDir, best.file)).mtimeMs / 1000) };
}
