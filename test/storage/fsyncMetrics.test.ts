/** FileTxnSink.metrics(): mntr's fsync lines, named and ordered as ZooKeeper 3.8 prints its "fsynctime" summary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/storage/database.js';
import { decodeTxn, encodeTxn, type Txn } from '../../src/txn/txn.js';
import { ModelTree } from './modelTree.js';
import { Workload } from './workload.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';

test('FileTxnSink.metrics: zk_*_fsynctime count one fsync per group-committed batch', async () => {
  for (const forceSync of [true, false]) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-fsm-'));
    try {
      const opened = await openDatabase({ dataDir, forceSync, snapCount: 1_000_000, preAllocSize_bytes: 64 * 1024 });
      const names = opened.sink.metrics().map(([k]) => k);
      assert.deepEqual(names, ['zk_avg_fsynctime', 'zk_min_fsynctime', 'zk_max_fsynctime', 'zk_cnt_fsynctime', 'zk_sum_fsynctime']);
      const w = new Workload(ModelTree.fresh(), 7);
      // Three rounds, each of several appends in one event-loop turn: each round is one write + one fsync.
      for (let round = 0; round < 3; round++) {
        const done: Promise<void>[] = [];
        for (let i = 0; i < 4; i++) {
          const txns: Txn[] = w.batch(3).map((e) => decodeTxn(encodeTxn(e)));
          done.push(
            new Promise((r) =>
              opened.sink.append(txns, () => {
                for (const t of txns) opened.db.apply(t);
                r();
              }),
            ),
          );
        }
        await Promise.all(done);
      }
      const m = new Map(opened.sink.metrics());
      const cnt = m.get('zk_cnt_fsynctime')!;
      if (forceSync) {
        assert.equal(cnt, 3, 'one fsync per round of appends');
        assert.ok(m.get('zk_min_fsynctime')! <= m.get('zk_max_fsynctime')!);
        assert.ok(m.get('zk_sum_fsynctime')! >= m.get('zk_max_fsynctime')!);
        assert.equal(m.get('zk_avg_fsynctime'), Math.round((m.get('zk_sum_fsynctime')! / cnt) * 1000) / 1000);
      } else {
        assert.equal(cnt, 0, 'forceSync=no never fsyncs');
      }
      await opened.sink.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
});
