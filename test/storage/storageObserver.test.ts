/**
 * The storage observer (what ServerMetrics turns into fsynctime, sync_processor_*, snapshottime
 * and the startup summaries): one fsync per group-committed batch, every queued txn written once,
 * a snapshot and a recovery reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/storage/database.js';
import { snapshotSourceOf } from '../../src/storage/database.js';
import { ServerMetrics } from '../../src/server/serverMetrics.js';
import { decodeTxn, encodeTxn, type Txn } from '../../src/txn/txn.js';
import { ModelTree } from './modelTree.js';
import { Workload } from './workload.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';

test('storage observer: fsynctime counts one fsync per group-committed batch; the sync processor summaries count every txn', async () => {
  for (const forceSync of [true, false]) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-fsm-'));
    try {
      const m = new ServerMetrics();
      const opened = await openDatabase({ dataDir, forceSync, snapCount: 1_000_000, preAllocSize_bytes: 64 * 1024, observer: m });
      assert.equal(m.summary.dbinittime.count, 1, 'the recovery is reported');
      assert.equal(m.summary.startup_txns_loaded.sum, 0, 'a fresh dataDir has no txns to load');
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
      const s = m.summary;
      if (forceSync) {
        assert.equal(s.fsynctime.count, 3, 'one fsync per round of appends');
        assert.ok(s.fsynctime.min <= s.fsynctime.max);
        assert.ok(s.fsynctime.sum >= s.fsynctime.max);
      } else {
        assert.equal(s.fsynctime.count, 0, 'forceSync=no never fsyncs');
      }
      assert.equal(m.counter.sync_processor_request_queued, 36, 'every txn queued is counted');
      assert.equal(s.sync_processor_batch_size.count, 3, 'one batch per round');
      assert.equal(s.sync_processor_batch_size.sum, 36);
      assert.equal(s.sync_processor_queue_and_flush_time_ms.count, 36, 'one queue-and-flush time per txn');
      assert.equal(s.sync_processor_queue_size.count, 12, 'one queue size per append');
      const zxid = opened.db.lastProcessedZxid;
      await opened.dataDir.snapshotter.take(zxid, snapshotSourceOf(opened.db, zxid));
      assert.equal(s.snapshottime.count, 1, 'the snapshot is reported');
      await opened.sink.close();

      const again = new ServerMetrics();
      const reopened = await openDatabase({ dataDir, forceSync, observer: again });
      assert.equal(again.summary.startup_txns_loaded.count, 1);
      assert.equal(again.summary.startup_txns_loaded.sum, 0, 'everything is in the snapshot');
      await reopened.sink.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
});
