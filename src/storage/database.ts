/**
 * The adapter between storage and the server's database (src/txn ZkDatabase over src/tree
 * DataTree): load a recovered dataDir into a ZkDatabase, expose a live tree as a SnapshotSource,
 * and a TxnSink (src/server/txnSink.ts, matched structurally) that logs with group commit and
 * takes snapshots every snapCount txns.
 *
 *   const { db, sink, lastZxid } = await openDatabase(storageOptionsFrom(serverOptions));
 *   const server = await startStandaloneServer(serverOptions, { db, sink });
 */
import { log } from '../log.js';
import type { ACL } from '../proto/records.js';
import type { ServerOptions } from '../server/options.js';
import { DataTree } from '../tree/dataTree.js';
import { ZkDatabase } from '../txn/database.js';
import { decodeTxn, encodeTxn, type Txn } from '../txn/txn.js';
import { openDataDir, type DataDirOptions, type OpenedDataDir } from './dataDir.js';
import { StorageError, errorMessage } from './errors.js';
import type { TxnLogStats } from './txnLogWriter.js';
import type { SnapshotStats } from './snapshotter.js';
import { EMPTY_DIGEST, type LoadedSnapshot, type SnapshotNode, type SnapshotSource } from './snapshot.js';

const OPEN_ACL_INDEX = -1n;

function aclKey(acl: readonly ACL[]): string {
  return JSON.stringify(acl.map((a) => [a.perms, a.id.scheme, a.id.id]));
}

/**
 * A fuzzy view of a live database for a snapshot taken at `zxid` (the last applied txn when it
 * starts). Nodes are read one at a time while writes go on. Nodes created after `zxid` are left
 * out with their subtrees: their creates are in the log after `zxid` and are replayed. A node whose
 * ACL index appeared after the ACL cache was copied (a setACL after `zxid`, also replayed) is
 * written with an equal list from the copy, or OPEN until the replay sets it.
 */
export function snapshotSourceOf(db: ZkDatabase, zxid: bigint): SnapshotSource {
  const tree = db.tree;
  let aclCopy: Map<bigint, readonly ACL[]> | undefined;
  const byKey = new Map<string, bigint>();
  return {
    sessions: () => [...db.sessionsWithTimeouts],
    acls() {
      aclCopy = new Map(tree.aclCache.entries());
      for (const [i, a] of aclCopy) byKey.set(aclKey(a), i);
      return aclCopy;
    },
    *nodes(): Generator<SnapshotNode> {
      const copy = aclCopy ?? new Map(tree.aclCache.entries());
      const stack: string[] = [''];
      while (stack.length > 0) {
        const p = stack.pop()!;
        const n = tree.getNode(p);
        if (n === undefined) continue; // deleted since its parent was read
        if (p !== '' && n.stat.czxid > zxid) continue;
        let acl = n.acl;
        if (acl !== OPEN_ACL_INDEX && !copy.has(acl)) acl = byKey.get(aclKey(tree.aclCache.get(acl))) ?? OPEN_ACL_INDEX;
        const children = [...n.children];
        yield { path: p, data: n.data, acl, stat: { ...n.stat } };
        for (let i = children.length - 1; i >= 0; i--) stack.push(`${p}/${children[i]}`);
      }
    },
    digest: () => EMPTY_DIGEST,
  };
}

/** A database holding exactly what a snapshot holds. */
export function databaseFromSnapshot(snap: LoadedSnapshot): ZkDatabase {
  const tree = new DataTree({ empty: true });
  for (const [i, acl] of snap.acls) tree.aclCache.restore(i, acl);
  for (const n of snap.nodes) {
    try {
      tree.insertNode(n.path, n.data, n.acl, n.stat);
    } catch (e) {
      throw new StorageError(`cannot load node ${n.path}: ${errorMessage(e)}`, snap.path, undefined);
    }
  }
  tree.aclCache.purgeUnused();
  tree.lastProcessedZxid = snap.zxid;
  const db = new ZkDatabase(tree);
  for (const [id, timeout] of snap.sessions) db.sessionsWithTimeouts.set(id, timeout);
  return db;
}

export interface FileTxnSinkOptions {
  /** Called when the log cannot be written: the server must stop (default: log and exit). */
  onFatal?: (err: Error) => void;
}

/** The server's TxnSink backed by the txn log: onDurable runs after the fsync covering the batch. */
export class FileTxnSink {
  private readonly onFatal: (err: Error) => void;

  constructor(
    private readonly dataDir: OpenedDataDir,
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
    const entries = txns.map((t) => ({ zxid: t.header.zxid, bytes: encodeTxn(t) }));
    this.dataDir.txnLog.appendEncoded(entries).then(
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

  /**
   * mntr lines for the log's fsyncs, named and ordered as ZooKeeper 3.8 prints its "fsynctime"
   * summary (avg, min, max, cnt, sum; whole ms per fsync of one log file).
   */
  metrics(): ReadonlyArray<readonly [string, number]> {
    const st = this.dataDir.txnLog.stats;
    const avg = st.fsyncs === 0 ? 0 : st.fsyncTimeSum_ms / st.fsyncs;
    return [
      ['zk_avg_fsynctime', Math.round(avg * 1000) / 1000],
      ['zk_min_fsynctime', st.fsyncTimeMin_ms],
      ['zk_max_fsynctime', st.fsyncTimeMax_ms],
      ['zk_cnt_fsynctime', st.fsyncs],
      ['zk_sum_fsynctime', st.fsyncTimeSum_ms],
    ];
  }

  /** Log and snapshot counters (txns, fsyncs, batches, snapshots taken/skipped) for mntr/metrics. */
  get stats(): { log: TxnLogStats; snapshots: SnapshotStats } {
    return { log: this.dataDir.txnLog.stats, snapshots: this.dataDir.snapshotter.stats };
  }

  async close(): Promise<void> {
    await this.dataDir.close();
  }
}

export function storageOptionsFrom(o: ServerOptions): DataDirOptions {
  return {
    dataDir: o.dataDir,
    dataLogDir: o.dataLogDir,
    forceSync: o.forceSync,
    snapCount: o.snapCount,
    snapRetainCount: o.autopurgeSnapRetainCount,
    purgeInterval_hours: o.autopurgePurgeInterval_hours,
  };
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
  for (let i = 0; i < dataDir.txnBytes.length; i++) {
    let txn: Txn;
    try {
      txn = decodeTxn(dataDir.txnBytes[i]!);
    } catch (e) {
      throw new StorageError(`txn 0x${dataDir.txns[i]!.header.zxid.toString(16)} cannot be replayed: ${errorMessage(e)}`, dataDir.logDir, undefined);
    }
    db.apply(txn);
  }
  const lastZxid = dataDir.lastZxid > db.lastProcessedZxid ? dataDir.lastZxid : db.lastProcessedZxid;
  db.tree.lastProcessedZxid = lastZxid;
  return { db, sink: new FileTxnSink(dataDir, db, sinkOpts), dataDir, lastZxid };
}
