/** A quorum peer's dataDir on the real file system (src/storage), behind PeerStorage. */
import { log } from '../../log.js';
import { openDataDir, type OpenedDataDir } from '../../storage/dataDir.js';
import { listLogs } from '../../storage/history.js';
import type { SnapshotSource } from '../../storage/snapshot.js';
import type { StorageObserver } from '../../storage/storageObserver.js';
import { truncateDataDir } from '../../storage/truncate.js';
import { storageOptionsFrom, type ServerOptions } from '../options.js';
import type { PeerStorage, RecoveredDataDir } from './peerIo.js';
import type { SnapshotFile } from '../txnSink.js';

export class DataDirStorage implements PeerStorage {
  private dataDir!: OpenedDataDir;
  private observer: StorageObserver | undefined;

  constructor(
    private readonly options: ServerOptions,
    private readonly fatal: (err: unknown) => void,
  ) {}

  async open(emptyTree: SnapshotSource, observer?: StorageObserver): Promise<RecoveredDataDir> {
    this.observer = observer;
    const d = await openDataDir({ ...storageOptionsFrom(this.options), emptyTree, observer });
    this.dataDir = d;
    if (d.snapshot === undefined) throw new Error('a dataDir opened with an empty tree has no snapshot');
    const recovered: RecoveredDataDir = {
      snapshot: d.snapshot,
      txns: d.txns.map((txn, i) => ({ txn, bytes: d.txnBytes[i]! })),
      lastZxid: d.lastZxid,
      acceptedEpoch: await d.readAcceptedEpoch(),
      currentEpoch: await d.readCurrentEpoch(),
    };
    // Handed over: the open dataDir must not keep the snapshot's bytes alive for the peer's life.
    d.snapshot = undefined;
    d.txns = [];
    d.txnBytes = [];
    return recovered;
  }

  append(txns: readonly { zxid: bigint; bytes: Buffer }[], durable: () => void): void {
    this.dataDir.txnLog.appendEncoded(txns).then(durable, this.fatal);
  }

  writeAcceptedEpoch(epoch: bigint): Promise<void> {
    return this.dataDir.writeAcceptedEpoch(epoch);
  }

  writeCurrentEpoch(epoch: bigint): Promise<void> {
    return this.dataDir.writeCurrentEpoch(epoch);
  }

  async truncate(zxid: bigint): Promise<void> {
    const o = this.options;
    await this.dataDir.close();
    const logs = await listLogs(this.dataDir.logDir);
    if (logs.length > 0) await truncateDataDir(o.dataDir, o.dataLogDir, zxid);
    this.dataDir = await openDataDir({ ...storageOptionsFrom(o), observer: this.observer });
  }

  takeSnapshotFile(at: () => { zxid: bigint; src: SnapshotSource }): Promise<SnapshotFile> {
    return this.dataDir.snapshotter.takeNow(at);
  }

  async snapshot(zxid: bigint, src: SnapshotSource, background: boolean): Promise<void> {
    const snapshotter = this.dataDir.snapshotter;
    if (background) {
      snapshotter.take(zxid, src)?.catch((err: unknown) => log.error({ err }, 'snapshot failed'));
      return;
    }
    await snapshotter.idle();
    const file = await snapshotter.take(zxid, src);
    log.info({ file }, 'snapshot taken');
  }

  close(): Promise<void> {
    return this.dataDir.close();
  }
}
