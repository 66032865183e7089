/**
 * bench/paired end to end on a tiny run: both real servers at once, one session each, windows
 * taken in turn. Asserts that every pair measured both systems and that the table says so;
 * nothing about speed.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { formatPaired, runPaired } from '../../bench/pairedRun.js';
import { systemMissing } from '../../bench/servers.js';
import { skipUnless } from '../support/target.js';

const skip = skipUnless(systemMissing('zookeeper'));

test('paired windows measure tszk and ZooKeeper in turn, standalone', { skip, timeout: 120_000 }, async () => {
  const report = await runPaired({
    ensemble: 1,
    ops: ['create', 'setData'],
    pairs: 3,
    window_ms: 200,
    warmup_ms: 200,
    member: 'follower',
    forceSync: true,
    floorSamples: 20,
    zkHeap_mb: 256,
  });
  assert.deepEqual(
    report.rows.map((r) => r.op),
    ['create', 'setData'],
  );
  for (const r of report.rows) {
    assert.equal(r.tszkWindows_ms.length, 3, `${r.op}: one tszk window per pair`);
    assert.equal(r.zkWindows_ms.length, 3, `${r.op}: one ZooKeeper window per pair`);
    for (const ms of [...r.tszkWindows_ms, ...r.zkWindows_ms]) assert.ok(ms > 0 && Number.isFinite(ms), `${r.op}: window p50 ${ms}`);
    assert.ok(r.tszk.p99 >= r.tszk.p50 && r.zk.p99 >= r.zk.p50);
  }
  assert.notEqual(report.members.tszk, report.members.zookeeper);
  const text = formatPaired(report);
  assert.match(text, /^\| create \| 3 \| /m);
  assert.match(text, /^\| setData \| 3 \| /m);
  assert.ok(report.floor !== undefined && report.floor.rtt_us.p50 > 0 && report.floor.fsync_us.p50 > 0, `no floor: ${JSON.stringify(report.floor)}`);
  assert.match(text, /a write here is 1 round trip \+ 1 fsync/);
  process.stdout.write(`${text}\n`);
});
