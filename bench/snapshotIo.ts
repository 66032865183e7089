/**
 * Snapshot writing and loading at scale, in process: a tree of N znodes × 100 B (laid out as
 * bench:memory lays it out) is written as a snapshot file with fsync, while a timer measures the
 * longest the event loop was held (what a client request waiting behind the snapshot would wait);
 * then the file is read back into a database (parse, tree building, digest) as recovery does.
 * Reports wall and CPU time, the file's size and the longest event-loop stall, for each N; and the
 * same snapshot written as the server writes big trees, in a worker thread from a frozen copy
 * (snapshotWorker.ts): the event loop's busy time and longest stall then, and whether the two
 * files are the same bytes.
 *
 *   npm run bench:snapshot -- [--znodes 10000,100000,1000000] [--dir /tmp]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance as nodePerformance } from 'node:perf_hooks';
import { OPEN_ACL_UNSAFE } from '../src/tree/aclCache.js';
import { DataTree } from '../src/tree/dataTree.js';
import { ZkDatabase } from '../src/txn/database.js';
import { databaseFromSnapshot, snapshotSourceOf } from '../src/storage/database.js';
import { readSnapshotFile, writeSnapshotFile } from '../src/storage/snapshot.js';
import { writeSnapshotInWorker } from '../src/storage/snapshotWorker.js';
import { DATA_BYTES, FANOUT } from './loadZnodes.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

function treeOf(n: number): ZkDatabase {
  const tree = new DataTree();
  const data = Buffer.alloc(DATA_BYTES, 7);
  let zxid = 0x100000000n;
  const t0 = 1_700_000_000_000n;
  for (let p = 0; p * FANOUT < n; p++) tree.createNode(`/d${p}`, null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0);
  for (let i = 0; i < n; i++) tree.createNode(`/d${Math.floor(i / FANOUT)}/n${i}`, data, OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0 + BigInt(i));
  tree.lastProcessedZxid = zxid - 1n;
  return new ZkDatabase(tree);
}

/** cpu_ms is the whole process's (a worker thread's included); loop_ms is the event loop's busy time alone. */
async function timed<T>(f: () => Promise<T>): Promise<{ value: T; wall_ms: number; cpu_ms: number; loop_ms: number; stall_ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const cpu = process.cpuUsage();
  const elu = nodePerformance.eventLoopUtilization();
  const t = performance.now();
  const value = await f();
  const wall_ms = performance.now() - t;
  const c = process.cpuUsage(cpu);
  const loop_ms = nodePerformance.eventLoopUtilization(elu).active;
  h.disable();
  return { value, wall_ms, cpu_ms: (c.user + c.system) / 1000, loop_ms, stall_ms: h.max / 1e6 };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(arg('dir', os.tmpdir()), 'tszk-snapshot-bench-'));
  console.log('## Snapshot write (fsync) and load, in process, N znodes × 100 B\n');
  console.log(
    '| znodes | write s (CPU s) | event loop busy ms | longest event-loop stall ms | in a worker: write s (CPU s) | event loop busy ms | longest stall ms | same bytes | file MiB | load s (CPU s) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  try {
    for (const n of arg('znodes', '10000,100000,1000000').split(',').map(Number)) {
      let db: ZkDatabase | undefined = treeOf(n);
      const zxid = db.lastProcessedZxid;
      const file = path.join(dir, `snapshot.${zxid.toString(16)}`);
      const w = await timed(() => writeSnapshotFile(file, snapshotSourceOf(db!, zxid, Infinity), { fsync: true }));
      const workerFile = `${file}.worker`;
      const k = await timed(() => writeSnapshotInWorker(workerFile, snapshotSourceOf(db!, zxid, 0).freeze!(), { fsync: true }));
      const same = fs.readFileSync(file).equals(fs.readFileSync(workerFile));
      fs.rmSync(workerFile);
      db = undefined;
      const l = await timed(async () => databaseFromSnapshot(await readSnapshotFile(file, zxid)));
      if (l.value.tree.nodeCount < n) throw new Error('the snapshot lost znodes');
      void l.value.tree.digest;
      console.log(
        `| ${n} | ${(w.wall_ms / 1000).toFixed(2)} (${(w.cpu_ms / 1000).toFixed(2)}) | ${w.loop_ms.toFixed(0)} | ${w.stall_ms.toFixed(0)} | ${(k.wall_ms / 1000).toFixed(2)} (${(k.cpu_ms / 1000).toFixed(2)}) | ${k.loop_ms.toFixed(0)} | ${k.stall_ms.toFixed(0)} | ${same ? 'yes' : 'NO'} | ${(w.value / 2 ** 20).toFixed(1)} | ${(l.wall_ms / 1000).toFixed(2)} (${(l.cpu_ms / 1000).toFixed(2)}) |`,
      );
      fs.rmSync(file);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
