/**
 * Opening a dataDir: the integration point for the server. Recovers the newest valid snapshot and
 * the txns to replay after it, cuts torn log tails, and hands back the txn log writer and the
 * snapshotter to continue with.
 *
 *   const dd = await openDataDir({ dataDir, dataLogDir, forceSync, snapCount, emptyTree });
 *   tree.load(dd.snapshot); for (const t of dd.txns) tree.apply(t);   // replay is idempotent
 *   await dd.txnLog.append([entry]);                                  // durable when resolved
 *   if (dd.snapshotter.noteLogged(1)) dd.snapshotter.take(tree.lastZxid, treeSource);
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { log } from '../log.js';
import { StorageError } from './errors.js';
import { fsyncDir } from './fsutil.js';
import { readAcceptedEpoch, readCurrentEpoch, writeAcceptedEpoch, writeCurrentEpoch } from './epochFiles.js';
import { listLogs, loadNewestValidSnapshot, readLogHistory, truncateTornTails } from './history.js';
import { VERSION_DIR, snapshotFileName } from './names.js';
import type { SnapshotCompression } from './snapshotCompression.js';
import { schedulePurge } from './purge.js';
import { readSnapshotFile, writeSnapshotFile, type LoadedSnapshot, type SnapshotSource } from './snapshot.js';
import { SNAP_COUNT_DEFAULT, Snapshotter } from './snapshotter.js';
import type { Txn } from '../txn/txn.js';
import { TxnLogWriter } from './txnLogWriter.js';
import type { StorageObserver } from './storageObserver.js';

export interface DataDirOptions {
  dataDir: string;
  /** Where logs go; defaults to dataDir. */
  dataLogDir?: string;
  forceSync?: boolean;
  snapCount?: number;
  preAllocSize_bytes?: number;
  /** autopurge.snapRetainCount / autopurge.purgeInterval (hours; 0 = off). */
  snapRetainCount?: number;
  purgeInterval_hours?: number;
  /** zookeeper.snapshot.trust.empty: accept logs with no snapshot (replay from zxid 0). */
  trustEmptySnapshot?: boolean;
  /** zookeeper.snapshot.compression.method for the snapshots it writes (any kind is read). */
  snapshotCompression?: SnapshotCompression;
  /**
   * The tree of a new database. When the dataDir holds nothing it is written as snapshot.0, as
   * ZooKeeper does on first start (and ZooKeeper refuses logs with no snapshot).
   */
  emptyTree?: SnapshotSource;
  /** For the snapshot interval; uniform in [0, 1). */
  random?: () => number;
  /** Cut torn log tails on open (default true; false leaves files untouched, e.g. for inspection). */
  repair?: boolean;
  /** Told of recovery, log writes, fsyncs and snapshots (the server's metrics). */
  observer?: StorageObserver;
}

export interface OpenedDataDir {
  /** dataDir/version-2: snapshots, acceptedEpoch, currentEpoch. */
  snapDir: string;
  /** dataLogDir/version-2: txn logs. */
  logDir: string;
  /** The snapshot to load; undefined only for a new database when no emptyTree was given. */
  snapshot: LoadedSnapshot | undefined;
  /** Txns above the snapshot's zxid, in zxid order: apply them on top of the snapshot. */
  txns: Txn[];
  /** Encoded bytes of each of `txns` (what ZAB sends in a PROPOSAL), same order. */
  txnBytes: Buffer[];
  /** The highest zxid recovered (snapshot or log); 0 for a new database. */
  lastZxid: bigint;
  /** True when the dataDir held no snapshot and no log. */
  fresh: boolean;
  txnLog: TxnLogWriter;
  snapshotter: Snapshotter;
  readAcceptedEpoch(): Promise<bigint | undefined>;
  writeAcceptedEpoch(epoch: bigint): Promise<void>;
  readCurrentEpoch(): Promise<bigint | undefined>;
  writeCurrentEpoch(epoch: bigint): Promise<void>;
  /** Flushes the log, waits for a running snapshot, stops autopurge. */
  close(): Promise<void>;
}

export async function openDataDir(opts: DataDirOptions): Promise<OpenedDataDir> {
  const snapDir = path.join(opts.dataDir, VERSION_DIR);
  const logDir = path.join(opts.dataLogDir ?? opts.dataDir, VERSION_DIR);
  for (const d of new Set([snapDir, logDir])) {
    // A new version-2 directory must itself survive a crash before anything in it is acknowledged.
    if ((await fs.mkdir(d, { recursive: true })) !== undefined && (opts.forceSync ?? true)) await fsyncDir(path.dirname(d));
  }
  const forceSync = opts.forceSync ?? true;

  const t0 = performance.now();
  let { snapshot } = await loadNewestValidSnapshot(snapDir);
  let fresh = false;
  if (!snapshot) {
    const logs = await listLogs(logDir);
    const history = logs.length > 0 ? await readLogHistory(logDir, -1n) : undefined;
    if (history && history.txns.length > 0 && !opts.trustEmptySnapshot) {
      throw new StorageError('no snapshot found, but there are log entries (set trustEmptySnapshot to replay them)', logDir, undefined);
    }
    fresh = !history || history.txns.length === 0;
    if (fresh && opts.emptyTree) {
      const file = path.join(snapDir, snapshotFileName(0n));
      await writeSnapshotFile(file, opts.emptyTree, { fsync: forceSync });
      snapshot = await readSnapshotFile(file, 0n);
    }
  }
  const fromZxid = snapshot ? snapshot.zxid : -1n;
  const t1 = performance.now();
  const history = await readLogHistory(logDir, fromZxid);
  if (opts.repair ?? true) await truncateTornTails(history.tornTails);
  const lastZxid = history.txns.length > 0 ? history.lastZxid : snapshot ? snapshot.zxid : 0n;
  log.info({ snapshot: snapshot?.path, txns: history.txns.length, lastZxid: `0x${lastZxid.toString(16)}` }, 'recovered dataDir');
  const observer = opts.observer;
  observer?.recovered({ snapshot_ms: t1 - t0, txns: history.txns.length, txns_ms: performance.now() - t1 });

  const txnLog = new TxnLogWriter({ dir: logDir, forceSync, lastZxid, preAllocSize_bytes: opts.preAllocSize_bytes, observer });
  const snapshotter = new Snapshotter(
    { snapDir, snapCount: opts.snapCount ?? SNAP_COUNT_DEFAULT, fsync: forceSync, random: opts.random, compression: opts.snapshotCompression, observer },
    txnLog,
  );
  const stopPurge = schedulePurge(snapDir, logDir, opts.snapRetainCount ?? 3, opts.purgeInterval_hours ?? 0);
  return {
    snapDir,
    logDir,
    snapshot,
    txns: history.txns,
    txnBytes: history.txnBytes,
    lastZxid,
    fresh,
    txnLog,
    snapshotter,
    ...handles(snapDir, txnLog, snapshotter, stopPurge),
  };
}

/**
 * The functions of an open dataDir, made apart from openDataDir: closures made there would keep
 * its scope alive, and with it the recovered snapshot and txns, for as long as the server runs.
 */
function handles(
  snapDir: string,
  txnLog: TxnLogWriter,
  snapshotter: Snapshotter,
  stopPurge: () => void,
): Pick<OpenedDataDir, 'readAcceptedEpoch' | 'writeAcceptedEpoch' | 'readCurrentEpoch' | 'writeCurrentEpoch' | 'close'> {
  return {
    readAcceptedEpoch: () => readAcceptedEpoch(snapDir),
    writeAcceptedEpoch: (e) => writeAcceptedEpoch(snapDir, e),
    readCurrentEpoch: () => readCurrentEpoch(snapDir),
    writeCurrentEpoch: (e) => writeCurrentEpoch(snapDir, e),
    async close() {
      stopPurge();
      await snapshotter.idle();
      await txnLog.close();
    },
  };
}
