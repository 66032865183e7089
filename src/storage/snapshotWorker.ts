/**
 * Writes a snapshot file in a worker thread, as ZooKeeper writes snapshots on a thread of their
 * own: the event loop only freezes the tree (a copy of its columns; data and names are shared
 * memory) and goes on serving while this thread serializes, checksums, writes and fsyncs.
 * writeSnapshotInWorker is the caller's side; this same file is the worker's entry.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from './errors.js';
import { writeSnapshotFile, type WriteSnapshotOptions } from './snapshot.js';
import { frozenSnapshotSource, type FrozenSnapshot } from './treeSnapshotSource.js';

interface SnapshotJob {
  file: string;
  frozen: FrozenSnapshot;
  opts: WriteSnapshotOptions;
}

type SnapshotReply = { bytes: number } | { error: string };

/** Writes `file` from `frozen` in a new worker thread (the frozen columns are moved to it, not copied); resolves to its size. */
export function writeSnapshotInWorker(file: string, frozen: FrozenSnapshot, opts: WriteSnapshotOptions): Promise<number> {
  const job: SnapshotJob = { file, frozen, opts };
  const worker = new Worker(new URL(import.meta.url), { workerData: job, transferList: [frozen.tree.nodes.columns] });
  return new Promise<number>((resolve, reject) => {
    let reply: SnapshotReply | undefined;
    worker.once('message', (m: SnapshotReply) => (reply = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (reply === undefined) reject(new Error(`the snapshot worker exited with code ${code} before writing ${file}`));
      else if ('error' in reply) reject(new Error(reply.error));
      else resolve(reply.bytes);
    });
  });
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const { file, frozen, opts } = workerData as SnapshotJob;
  writeSnapshotFile(file, frozenSnapshotSource(frozen), opts).then(
    (bytes) => port.postMessage({ bytes } satisfies SnapshotReply),
    (e: unknown) => port.postMessage({ error: errorMessage(e) } satisfies SnapshotReply),
  );
}
