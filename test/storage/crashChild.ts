/**
 * Child process for the kill -9 test: recovers the dataDir, then writes txns as fast as the log
 * takes them. Before each append it prints `pending <zxid> <hash>` (the model state after that
 * append); when the append is durable it prints `acked <zxid>`. The parent kills it at random.
 *
 *   tsx test/storage/crashChild.ts <dataDir> <seed>
 */
import { openDataDir } from '../../src/storage/dataDir.js';
import { ModelTree, hashTree } from './modelTree.js';
import { Workload } from './workload.js';

async function main(): Promise<void> {
  const [dataDir, seedText] = process.argv.slice(2);
  const dd = await openDataDir({ dataDir: dataDir!, forceSync: true, snapCount: 200, preAllocSize_bytes: 64 * 1024, emptyTree: ModelTree.fresh().source() });
  const tree = dd.snapshot ? ModelTree.fromSnapshot(dd.snapshot) : ModelTree.fresh();
  for (const e of dd.txns) tree.apply(e);
  process.stdout.write(`recovered ${dd.lastZxid} ${hashTree(tree)}\n`);
  const w = new Workload(tree, Number(seedText), dd.lastZxid, 'none');
  const writer = async (): Promise<void> => {
    for (;;) {
      const batch = w.batch(3);
      const z = batch[batch.length - 1]!.header.zxid;
      process.stdout.write(`pending ${z} ${hashTree(tree)}\n`);
      await dd.txnLog.append(batch);
      process.stdout.write(`acked ${z}\n`);
      // As the server does: snapshot what is durable and applied (here the model is exactly at z).
      if (dd.snapshotter.noteLogged(batch.length)) void dd.snapshotter.take(z, tree.source());
    }
  };
  // One writer, so the model is exactly at each acknowledged zxid; group commit is covered elsewhere.
  await writer();
}

void main();
