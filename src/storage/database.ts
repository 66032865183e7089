/**
 * The adapter between storage and the server's database (src/txn ZkDatabase over src/tree
 * DataTree): load a recovered dataDir into a ZkDatabase, expose a live tree as a SnapshotSource,
 * and a TxnSink (src/server/txnSink.ts, matched structurally) that logs with group commit and
 * takes snapshots every snapCount txns.
 *
 *   const { db, sink, lastZxid } = await openDatabase(storageOptionsFrom(serverOptions)); // server/options.ts
 *   const server = await startStandaloneServer(serverOptions, { db, sink });
 */
import { log } from '../log.js';
import { DataTree } from '../tree/dataTree.js';
import { ZkDatabase } from '../txn/database.js';
import { JuteWriter, type JuteReader } from '../jute/index.js';
import { writeTxn, type Txn } from '../txn/txn.js';
import { frameLogEntryInto } from './logFile.js';
import { openDataDir, type DataDirOptions, type OpenedDataDir } from './dataDir.js';
import { StorageError, errorMessage } from './errors.js';
import type { TxnLogStats } from './txnLogWriter.js';
import type { SnapshotStats } from './snapshotter.js';
import type { ACL } from '../proto/records.js';
import type { LoadedSnapshot, SnapshotSource } from './snapshot.js';
import { TREE_DIGEST_VERSION, type ZxidDigest } from '../tree/digest.js';
import { treeSnapshotSource } from './treeSnapshotSource.js';

/**
 * Trees from this size are snapshotted in a worker thread: below it the event loop writes the
 * snapshot in less time than a worker takes to start (and tests snapshotting every few txns
 * would find the snapshotter busy).
 */
const SNAPSHOT_WORKER_ZNODES_MIN = 100_000;

/**
 * The live database as a fuzzy SnapshotSource at `zxid` (see treeSnapshotSource); a tree of at
 * least `workerZnodesMin` znodes can also freeze itself for a snapshot written off the event loop
 * (snapshotWorker.ts).
 */
export function snapshotSourceOf(db: ZkDatabase, zxid: bigint, workerZnodesMin = SNAPSHOT_WORKER_ZNODES_MIN): SnapshotSource {
  const tree = db.tree;
  // Read after the nodes are written, as ZooKeeper does: replaying the log up to this zxid
  // brings the fuzzy snapshot to exactly this digest.
  const digest = (): ZxidDigest => ({ zxid: tree.lastProcessedZxid, digestVersion: TREE_DIGEST_VERSION, digest: tree.digest });
  const live = treeSnapshotSource(tree, () => [...db.sessionsWithTimeouts], zxid, digest);
  if (tree.nodeCount < workerZnodesMin) return live;
  return {
    ...live,
    freeze: () => ({ tree: tree.freeze(), sessions: [...db.sessionsWithTimeouts], zxid, digest: digest() }),
  };
}

/** StatPersisted's zxids: czxid and mzxid first, pzxid last (after ctime, mtime, 3 ints and ephemeralOwner). */
const STAT_ZXID_OFFSETS = [0, 8, 52] as const;

/**
 * Builds a database record by record as a snapshot is read: from a file, or from a leader's SNAP
 * as its bytes arrive (src/server/quorum/snapStream.ts), so nothing but the tree is kept.
 */
export class DatabaseLoader {
  private readonly tree = new DataTree({ empty: true });
  private readonly sessions = new Map<bigint, number>();
  private newestHi = -1;
  private newestLo = 0;

  constructor(
    /** Named in errors. */
    private readonly source: string,
    /**
     * Without a digest to start checks from, the newest zxid in any stat bounds what a fuzzy
     * snapshot may hold: read from the bytes as the nodes go in (two 32-bit halves, no bigint per node).
     */
    private readonly trackNewest: boolean,
  ) {}

  session(id: bigint, timeout: number): void {
    this.sessions.set(id, timeout);
  }

  acl(index: bigint, list: ACL[]): void {
    this.tree.aclCache.restore(index, list);
  }

  /** `stat` is at the node's StatPersisted; this reads all of it. */
  node(path: string, data: Buffer | null, acl: bigint, stat: JuteReader): void {
    if (this.trackNewest) {
      for (const off of STAT_ZXID_OFFSETS) {
        const hi = stat.buf.readInt32BE(stat.offset + off);
        const lo = stat.buf.readUInt32BE(stat.offset + off + 4);
        if (hi > this.newestHi || (hi === this.newestHi && lo > this.newestLo)) {
          this.newestHi = hi;
          this.newestLo = lo;
        }
      }
    }
    try {
      this.tree.insertNode(path, data, acl, stat);
    } catch (e) {
      throw new StorageError(`cannot load node ${path}: ${errorMessage(e)}`, this.source, undefined);
    }
  }

  /** The database at `zxid`; `digest` is the snapshot's digest section, if it has a usable one. */
  finish(zxid: bigint, digest: ZxidDigest | null): ZkDatabase {
    const tree = this.tree;
    tree.aclCache.purgeUnused();
    tree.lastProcessedZxid = zxid;
    const db = new ZkDatabase(tree);
    for (const [id, timeout] of this.sessions) db.sessionsWithTimeouts.set(id, timeout);
    if (digest !== null) startDigestChecks(db, digest);
    else {
      // No usable digest: the snapshot may hold changes made after zxid, up to the newest zxid in its stats.
      const newest = (BigInt(this.newestHi) << 32n) | BigInt(this.newestLo);
      db.digestCheckAfter = newest > zxid ? newest : zxid;
    }
    return db;
  }
}

/** A database holding exactly what a snapshot holds. */
export function databaseFromSnapshot(snap: LoadedSnapshot): ZkDatabase {
  const digested = digestUsable(snap);
  const loader = new DatabaseLoader(snap.path, !digested);
  for (const [i, acl] of snap.acls) loader.acl(i, acl);
  for (const [id, timeout] of snap.sessions) loader.session(id, timeout);
  snap.eachNodeReading((path, data, acl, stat) => loader.node(path, data, acl, stat));
  return loader.finish(snap.zxid, digested ? snap.digest : null);
}

/**
 * Whether the snapshot's digest section can start digest checks: this digest version, recorded at
 * or after its zxid, and not 0, which ZooKeeper writes when it has none (a learner's snapshot
 * after a SNAP) and skips on load ('The digest value is empty in snapshot').
 */
function digestUsable(snap: LoadedSnapshot): boolean {
  const d = snap.digest;
  return d !== null && d.digestVersion === TREE_DIGEST_VERSION && d.zxid >= snap.zxid && d.digest !== 0n;
}

/** From where replaying after a snapshot with digest `d` can check recorded digests (a snapshot is fuzzy). */
function startDigestChecks(db: ZkDatabase, d: ZxidDigest): void {
  // Recorded after the nodes were written: replay up to d.zxid makes the fuzzy tree exact there.
  db.digestCheckAfter = d.zxid;
  if (d.zxid === db.lastProcessedZxid) db.compare(d.zxid, d.digest, 'snapshot');
  else db.snapshotDigest = { zxid: d.zxid, digest: d.digest };
}

/** The sink's reused batch writer: its first size, and the size past which it is not kept (a rare huge batch). */
const WRITER_INITIAL_BYTES = 64 * 1024;
const WRITER_KEPT_BYTES_MAX = 4 * 1024 * 1024;

export interface FileTxnSinkOptions {
  /** Called when the log cannot be written: the server must stop (default: log and exit). */
  onFatal?: (err: Error) => void;
}

/** The server's TxnSink backed by the txn log: onDurable runs after the fsync covering the batch. */
export class FileTxnSink {
  private readonly onFatal: (err: Error) => void;
  private writer = new JuteWriter(WRITER_INITIAL_BYTES);

  constructor(
    /** Only what writing needs: the recovered history is not kept alive by the sink. */
    private readonly dataDir: Pick<OpenedDataDir, 'txnLog' | 'snapshotter' | 'close'>,
    private readonly db: ZkDatabase,
    opts: FileTxnSinkOptions = {},
  ) {
    this.onFatal =
      opts.onFatal ??
      ((err) => {
        log.fatal({ err }, 'txn log write failed; stopping');
        process.exit(2);
      });
  }

  append(txns: readonly Txn[], onDurable: () => void): void {
    const txnLog = this.dataDir.txnLog;
    let durable: Promise<void>;
    if (txns.length === 0) {
      // Nothing to log, but onDurable still runs after every earlier batch's.
      durable = txnLog.flush();
    } else {
      // The whole batch is framed into one reused writer and copied out once: no buffers per txn.
      const w = this.writer;
      w.reset();
      let last = -1n;
      for (const t of txns) {
        if (t.header.zxid <= last) throw new Error(`txn zxids not increasing: 0x${t.header.zxid.toString(16)} after 0x${last.toString(16)}`);
        last = t.header.zxid;
        frameLogEntryInto(w, (out) => writeTxn(out, t));
      }
      const framed = Buffer.from(w.bytes());
      if (w.offset > WRITER_KEPT_BYTES_MAX) this.writer = new JuteWriter(WRITER_INITIAL_BYTES);
      durable = txnLog.appendFramedRun(txns[0]!.header.zxid, last, txns.length, framed);
    }
    durable.then(
      () => {
        onDurable();
        // onDurable applied the batch: the tree is at least at its last zxid.
        const snap = this.dataDir.snapshotter;
        if (snap.noteLogged(txns.length)) {
          const zxid = this.db.lastProcessedZxid;
          snap.take(zxid, snapshotSourceOf(this.db, zxid))?.catch((err: unknown) => log.error({ err }, 'snapshot failed'));
        }
      },
      (err: unknown) => this.onFatal(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** A snapshot of the tree now, once any running one is done (the AdminServer's `snapshot`). */
  takeSnapshot(): Promise<{ file: string; zxid: bigint }> {
    return this.dataDir.snapshotter.takeNow(() => {
      const zxid = this.db.lastProcessedZxid;
      return { zxid, src: snapshotSourceOf(this.db, zxid) };
    });
  }

  /** Log and snapshot counters (txns, fsyncs, batches, snapshots taken/skipped) for mntr/metrics. */
  get stats(): { log: TxnLogStats; snapshots: SnapshotStats } {
    return { log: this.dataDir.txnLog.stats, snapshots: this.dataDir.snapshotter.stats };
  }

  async close(): Promise<void> {
    await this.dataDir.close();
  }
}

export interface OpenedDatabase {
  db: ZkDatabase;
  sink: FileTxnSink;
  dataDir: OpenedDataDir;
  /** The last zxid recovered; the server continues from lastZxid + 1. */
  lastZxid: bigint;
}

/** Recovers the database from a dataDir (snapshot + log replay) and returns it with its durable sink. */
export async function openDatabase(opts: DataDirOptions, sinkOpts: FileTxnSinkOptions = {}): Promise<OpenedDatabase> {
  const fresh = new ZkDatabase(new DataTree());
  const dataDir = await openDataDir({ ...opts, emptyTree: opts.emptyTree ?? snapshotSourceOf(fresh, 0n) });
  const db = dataDir.snapshot ? databaseFromSnapshot(dataDir.snapshot) : fresh;
  // Decoded once, when the log was read and checked.
  for (const txn of dataDir.txns) db.applyChecked(txn);
  const lastZxid = dataDir.lastZxid > db.lastProcessedZxid ? dataDir.lastZxid : db.lastProcessedZxid;
  db.tree.lastProcessedZxid = lastZxid;
  if (db.digestMismatches > 0)
    log.error({ mismatches: db.digestMismatches, dataDir: opts.dataDir }, 'replaying the dataDir met tree digests that differ from the recorded ones');
  // Not dataDir itself: it holds the recovered snapshot and txns, garbage once replayed.
  const { txnLog, snapshotter, close } = dataDir;
  const sink = new FileTxnSink({ txnLog, snapshotter, close }, db, sinkOpts);
  return { db, sink, dataDir, lastZxid };
}
