/** The storage ↔ server database adapter: ZkDatabase (src/txn + src/tree) through FileTxnSink and openDatabase. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/storage/database.js';
import { listLogs, listSnapshots } from '../../src/storage/history.js';
import { decodeTxn, encodeTxn, type Txn } from '../../src/txn/txn.js';
import type { ZkDatabase } from '../../src/txn/database.js';
import { ModelTree } from './modelTree.js';
import { Workload } from './workload.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';

function dump(db: ZkDatabase): Map<string, string> {
  const out = new Map<string, string>();
  for (const [p, n] of db.tree.nodes()) {
    out.set(
      p,
      JSON.stringify({ data: n.data?.toString('base64') ?? null, acl: db.tree.aclOf(n), stat: n.stat, children: [...n.children].sort() }, (_k, v) =>
        typeof v === 'bigint' ? v.toString() : v,
      ),
    );
  }
  out.set('sessions', JSON.stringify([...db.sessionsWithTimeouts].map(([k, v]) => [k.toString(), v]).sort()));
  return out;
}

test('openDatabase: fresh dataDir, then writes through FileTxnSink with snapshots mid-stream, then recovery gives the same database', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-db-'));
  try {
    const first = await openDatabase({ dataDir, forceSync: true, snapCount: 60, preAllocSize_bytes: 64 * 1024, random: () => 0.2 });
    assert.equal(first.lastZxid, 0n);
    assert.ok(first.db.tree.getNode('/zookeeper/config'));
    const db = first.db;
    // The workload's txns, converted to the server's Txn through their shared log bytes.
    const w = new Workload(ModelTree.fresh(), 31);
    let durable = 0;
    const done: Promise<void>[] = [];
    for (let b = 0; b < 60; b++) {
      const txns: Txn[] = w.batch(5).map((e) => decodeTxn(encodeTxn(e)));
      // Not awaited: batches pile up behind the fsync in flight, as the server's pipeline does.
      done.push(
        new Promise((resolve) =>
          first.sink.append(txns, () => {
            for (const t of txns) db.apply(t);
            durable += txns.length;
            resolve();
          }),
        ),
      );
      if (b % 7 === 0) await new Promise((r) => setImmediate(r));
      // Now and then let the background snapshot finish, so the next one is not skipped as busy.
      if (b % 10 === 9) {
        await Promise.all(done);
        await first.dataDir.snapshotter.idle();
      }
    }
    await Promise.all(done);
    assert.equal(durable, 300);
    await first.sink.close();
    const v2 = path.join(dataDir, 'version-2');
    const snaps = await listSnapshots(v2);
    assert.ok(snaps.length >= 3, `snapshots taken while writing: ${snaps.map((s) => s.zxid)} (skipped busy: ${first.dataDir.snapshotter.stats.skippedBusy})`);
    assert.ok((await listLogs(v2)).length >= 3, 'logs rolled');
    const expected = dump(db);
    const second = await openDatabase({ dataDir, forceSync: true, snapCount: 60, preAllocSize_bytes: 64 * 1024 });
    assert.equal(second.lastZxid, 300n);
    assert.deepEqual(dump(second.db), expected);
    await second.sink.close();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('fuzzy snapshot of the live DataTree: writes applied while nodes stream (incl. new ACLs), then recovery equals the final database', async () => {
  const { snapshotSourceOf } = await import('../../src/storage/database.js');
  const { OpCode } = await import('../../src/proto/opcodes.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-db-'));
  try {
    const opened = await openDatabase({ dataDir, forceSync: false, snapCount: 1_000_000, preAllocSize_bytes: 64 * 1024 });
    const { db, dataDir: dd } = opened;
    const model = ModelTree.fresh();
    const w = new Workload(model, 41, model.lastZxid, 'real');
    const toTxn = (e: ReturnType<Workload['next']>): Txn => decodeTxn(encodeTxn(e));
    const logAndApply = (entries: ReturnType<Workload['next']>[]): Promise<void> => {
      for (const e of entries) db.apply(toTxn(e));
      return dd.txnLog.appendEncoded(entries.map((e) => ({ zxid: e.header.zxid, bytes: encodeTxn(e) })));
    };
    /** A txn outside the workload's own choices, applied to the model too. */
    const custom = (body: Txn['body']): Txn => {
      w.zxid++;
      const e: Txn = { header: { clientId: 0x100000abcn, cxid: 0, zxid: w.zxid, time: 1_800_000_000_000n, type: body.type }, body };
      model.apply(e);
      return e;
    };
    await logAndApply([
      ...w.batch(300),
      custom({ type: OpCode.create, txn: { path: '/zz-late', data: null, acl: [], ephemeral: false, parentCVersion: model.nodes.get('')!.stat.cversion + 1 } }),
    ]);
    const snapZxid = db.lastProcessedZxid;
    const pending: Promise<void>[] = [];
    let yielded = 0;
    const inner = snapshotSourceOf(db, snapZxid);
    const live = {
      ...inner,
      *nodes() {
        for (const n of inner.nodes()) {
          yield n;
          if (++yielded % 5 !== 0) continue;
          const batch = w.batch(6);
          // Plus a setACL to a list the ACL cache has never held, on a node already serialized or not.
          const target = [...model.nodes.keys()].filter((p) => p.startsWith('/n'))[yielded % 7];
          if (target !== undefined) {
            const acl = [{ perms: yielded % 31 || 1, id: { scheme: 'world', id: 'anyone' } }];
            batch.push(custom({ type: OpCode.setACL, txn: { path: target, acl, version: model.nodes.get(target)!.stat.aversion + 1 } }));
          }
          // And a create with a never-seen ACL list under a node the walk reaches last: only replay
          // can give it the right ACL, so the snapshot must leave it out.
          batch.push(
            custom({
              type: OpCode.create,
              txn: {
                path: `/zz-late/c${yielded}`,
                data: null,
                acl: [{ perms: 7, id: { scheme: 'ip', id: `10.0.${yielded}.1` } }],
                ephemeral: false,
                parentCVersion: model.nodes.get('/zz-late')!.stat.cversion + 1,
              },
            }),
          );
          pending.push(logAndApply(batch));
        }
      },
    };
    await dd.snapshotter.take(snapZxid, live);
    await Promise.all(pending);
    assert.ok(db.lastProcessedZxid > snapZxid + 50n, 'writes landed during the snapshot');
    const expected = dump(db);
    await opened.sink.close();
    const again = await openDatabase({ dataDir, forceSync: false, snapCount: 1_000_000 });
    assert.equal(again.dataDir.snapshot!.zxid, snapZxid);
    assert.deepEqual(dump(again.db), expected);
    // The digest is recorded after the nodes, for the zxid the tree had reached then; replay checks
    // it there and every later txn's, and all hold. A wrong recorded digest is counted.
    const snap = again.dataDir.snapshot!;
    assert.ok(snap.digest !== null && snap.digest.zxid > snapZxid, `snapshot digest zxid ${snap.digest?.zxid} after ${snapZxid}`);
    assert.equal(again.db.digestMismatches, 0);
    assert.equal(again.db.snapshotDigest, undefined, 'replay reached the snapshot digest zxid');
    const { databaseFromSnapshot } = await import('../../src/storage/database.js');
    assert.equal(databaseFromSnapshot({ ...snap, digest: { ...snap.digest, zxid: snap.zxid, digest: 1n } }).digestMismatches, 1);
    // ZooKeeper writes 0 when it has no digest (a learner's snapshot after a SNAP): nothing to check.
    assert.equal(databaseFromSnapshot({ ...snap, digest: { ...snap.digest, zxid: snap.zxid, digest: 0n } }).digestMismatches, 0);
    await again.sink.close();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
