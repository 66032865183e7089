import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataDir, type OpenedDataDir } from '../../src/storage/dataDir.js';
import { StorageError } from '../../src/storage/errors.js';
import { scanLogBuffer } from '../../src/storage/logFile.js';
import { listLogs, listSnapshots } from '../../src/storage/history.js';
import { purgeDataDir } from '../../src/storage/purge.js';
import { EMPTY_DIGEST, type SnapshotNode, type SnapshotSource } from '../../src/storage/snapshot.js';
import type { ACL } from '../../src/proto/records.js';
import { ModelTree } from './modelTree.js';
import { Workload } from './workload.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';
const PREALLOC = 64 * 1024;

/** Runs a test body with a fresh data directory, removed afterwards. */
function withTmpDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-recovery-'));
    try {
      await body(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

async function open(dataDir: string, extra: Partial<Parameters<typeof openDataDir>[0]> = {}): Promise<OpenedDataDir> {
  return openDataDir({
    dataDir,
    forceSync: false,
    preAllocSize_bytes: PREALLOC,
    snapCount: 100,
    emptyTree: ModelTree.fresh().source(),
    random: () => 0.5,
    ...extra,
  });
}

/** Loads what a dataDir recovers into a model tree. */
function recovered(dd: OpenedDataDir): ModelTree {
  assert.ok(dd.snapshot, 'a snapshot is loaded');
  const t = ModelTree.fromSnapshot(dd.snapshot);
  for (const e of dd.txns) t.apply(e);
  return t;
}

/** Writes `count` txns in batches, snapshotting as the policy says. */
async function fill(dd: OpenedDataDir, tree: ModelTree, w: Workload, count: number, batch = 10): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    const b = w.batch(Math.min(batch, count - i));
    await dd.txnLog.append(b);
    if (dd.snapshotter.noteLogged(b.length)) await dd.snapshotter.take(tree.lastZxid, tree.source());
  }
}

/** A dataDir with several snapshots and logs; returns the expected final tree. */
async function build(dir: string, count = 400, seed = 11): Promise<ModelTree> {
  const dd = await open(dir);
  assert.equal(dd.fresh, true);
  const tree = ModelTree.fresh();
  await fill(dd, tree, new Workload(tree, seed), count);
  await dd.close();
  return tree;
}

test(
  'fresh dataDir: snapshot.0 of the empty tree, zxid 0',
  withTmpDir(async (dir) => {
    const dd = await open(dir);
    assert.equal(dd.fresh, true);
    assert.equal(dd.lastZxid, 0n);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'version-2')), ['snapshot.0']);
    assert.deepEqual(recovered(dd).dump(), ModelTree.fresh().dump());
    await dd.close();
  }),
);

test(
  'restart recovers snapshot + log replay; snapshots taken every ~snapCount txns with log rolls',
  withTmpDir(async (dir) => {
    const tree = await build(dir);
    const v2 = path.join(dir, 'version-2');
    const snaps = await listSnapshots(v2);
    const logs = await listLogs(v2);
    // random 0.5 with snapCount 100 → a snapshot after every 76+ txns (batches of 10 → every 80).
    assert.ok(snaps.length >= 4, `${snaps.length} snapshots`);
    assert.ok(logs.length >= 4, `${logs.length} logs`);
    const dd = await open(dir);
    assert.equal(dd.fresh, false);
    assert.equal(dd.lastZxid, tree.lastZxid);
    assert.equal(dd.snapshot!.zxid, snaps[snaps.length - 1]!.zxid);
    assert.deepEqual(recovered(dd).dump(), tree.dump());
    // Continue writing after recovery and recover again.
    const w = new Workload(tree, 12, dd.lastZxid);
    await fill(dd, tree, w, 50);
    await dd.close();
    const dd2 = await open(dir);
    assert.deepEqual(recovered(dd2).dump(), tree.dump());
    await dd2.close();
  }),
);

test(
  'autopurge keeps snapRetainCount snapshots and the logs they need; recovery still works',
  withTmpDir(async (dir) => {
    const tree = await build(dir, 600);
    const v2 = path.join(dir, 'version-2');
    const before = await listSnapshots(v2);
    const removed = await purgeDataDir(v2, v2, 3);
    const after = await listSnapshots(v2);
    assert.equal(after.length, 3);
    assert.ok(removed.length >= before.length - 3);
    const logs = await listLogs(v2);
    assert.ok(logs[0]!.zxid <= after[0]!.zxid, 'the log covering the oldest kept snapshot is kept');
    const dd = await open(dir);
    assert.deepEqual(recovered(dd).dump(), tree.dump());
    await dd.close();
    await assert.rejects(purgeDataDir(v2, v2, 2), /at least 3/);
  }),
);

test(
  'fuzzy snapshot: writes continue while nodes are serialized; replay from the snapshot zxid fixes it up',
  withTmpDir(async (dir) => {
    const dd = await open(dir, { snapCount: 1_000_000 });
    const tree = ModelTree.fresh();
    const w = new Workload(tree, 21);
    await fill(dd, tree, w, 300);
    const acl = new Map<string, bigint>();
    const aclList: [bigint, readonly ACL[]][] = [];
    for (const [, n] of tree.nodes) {
      const k = JSON.stringify(n.acl);
      if (!acl.has(k)) {
        acl.set(k, BigInt(aclList.length + 1));
        aclList.push([BigInt(aclList.length + 1), n.acl]);
      }
    }
    const pending: Promise<void>[] = [];
    let yielded = 0;
    const live: SnapshotSource = {
      sessions: () => new Map(tree.sessions),
      acls: () => aclList,
      // Walks the live tree; every 5 nodes, 7 more txns are applied and logged, as a busy server would.
      *nodes(): Generator<SnapshotNode> {
        for (const [p, n] of tree.walk()) {
          yield { path: p, data: n.data, acl: acl.get(JSON.stringify(n.acl))!, stat: { ...n.stat } };
          if (++yielded % 5 === 0) pending.push(dd.txnLog.append(w.batch(7)));
        }
      },
      digest: () => EMPTY_DIGEST,
    };
    const snapZxid = tree.lastZxid;
    await dd.snapshotter.take(snapZxid, live);
    await Promise.all(pending);
    assert.ok(tree.lastZxid > snapZxid + 50n, 'many txns landed during the snapshot');
    await dd.close();
    const dd2 = await open(dir);
    assert.equal(dd2.snapshot!.zxid, snapZxid);
    assert.equal(dd2.txns.length, Number(tree.lastZxid - snapZxid));
    assert.deepEqual(recovered(dd2).dump(), tree.dump());
    await dd2.close();
  }),
);

function lastLog(dir: string): string {
  const v2 = path.join(dir, 'version-2');
  const logs = fs
    .readdirSync(v2)
    .filter((f) => f.startsWith('log.'))
    .sort((a, b) => Number(BigInt('0x' + a.slice(4)) - BigInt('0x' + b.slice(4))));
  return path.join(v2, logs[logs.length - 1]!);
}

function recordsOf(file: string) {
  return scanLogBuffer(fs.readFileSync(file)).records;
}

test(
  'corruption: a truncated last entry is the normal end; the tail is cut and writing continues',
  withTmpDir(async (dir) => {
    const tree = await build(dir, 250);
    const file = lastLog(dir);
    const recs = recordsOf(file);
    const last = recs[recs.length - 1]!;
    fs.truncateSync(file, last.offset + 20);
    const dd = await open(dir);
    assert.equal(dd.lastZxid, tree.lastZxid - 1n);
    assert.equal(fs.statSync(file).size, last.offset, 'torn tail cut');
    // The lost txn was never acknowledged: the model without it must match.
    const expect = recovered(dd);
    const w = new Workload(expect, 99, dd.lastZxid);
    await fill(dd, expect, w, 30);
    await dd.close();
    const dd2 = await open(dir);
    assert.deepEqual(recovered(dd2).dump(), expect.dump());
    await dd2.close();
  }),
);

test(
  'corruption: a garbage tail after the last entry is the normal end',
  withTmpDir(async (dir) => {
    const tree = await build(dir, 250);
    const file = lastLog(dir);
    const recs = recordsOf(file);
    const last = recs[recs.length - 1]!;
    const end = last.offset + 13 + last.bytes.length;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('this is not a txn entry, just garbage bytes \x01\x02\x03'), 0, undefined, end);
    fs.closeSync(fd);
    const dd = await open(dir);
    assert.equal(dd.lastZxid, tree.lastZxid);
    assert.deepEqual(recovered(dd).dump(), tree.dump());
    assert.equal(fs.statSync(file).size, end);
    await dd.close();
  }),
);

test(
  'corruption: a flipped byte mid-log stops recovery naming the file and offset',
  withTmpDir(async (dir) => {
    await build(dir, 250);
    const file = lastLog(dir);
    const recs = recordsOf(file);
    const victim = recs[Math.floor(recs.length / 2)]!;
    const buf = fs.readFileSync(file);
    buf[victim.offset + 30] = buf[victim.offset + 30]! ^ 0x40;
    fs.writeFileSync(file, buf);
    const size = fs.statSync(file).size;
    await assert.rejects(open(dir), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.path, file);
      assert.equal(e.offset, victim.offset);
      assert.match(e.message, new RegExp(`byte offset ${victim.offset}: checksum mismatch`));
      return true;
    });
    assert.equal(fs.statSync(file).size, size, 'nothing truncated');
  }),
);

test(
  'corruption: a damaged newest snapshot falls back to the previous one',
  withTmpDir(async (dir) => {
    const tree = await build(dir, 400);
    const snaps = await listSnapshots(path.join(dir, 'version-2'));
    const newest = snaps[snaps.length - 1]!;
    const buf = fs.readFileSync(newest.path);
    buf[Math.floor(buf.length / 2)] = buf[Math.floor(buf.length / 2)]! ^ 0xff;
    fs.writeFileSync(newest.path, buf);
    const dd = await open(dir);
    assert.equal(dd.snapshot!.zxid, snaps[snaps.length - 2]!.zxid);
    assert.deepEqual(recovered(dd).dump(), tree.dump());
    await dd.close();
  }),
);

test(
  'corruption: when every snapshot is damaged, recovery stops naming the newest one',
  withTmpDir(async (dir) => {
    await build(dir, 100);
    const snaps = await listSnapshots(path.join(dir, 'version-2'));
    for (const s of snaps) {
      const buf = fs.readFileSync(s.path);
      buf[40] = buf[40]! ^ 0xff;
      fs.writeFileSync(s.path, buf);
    }
    const newest = snaps[snaps.length - 1]!;
    await assert.rejects(open(dir), (e: unknown) => e instanceof StorageError && e.path === newest.path && /byte offset \d+/.test(e.message));
  }),
);

test(
  'corruption: a missing log file in the middle of the history is reported as a gap',
  withTmpDir(async (dir) => {
    await build(dir, 400);
    const v2 = path.join(dir, 'version-2');
    const snaps = await listSnapshots(v2);
    // Keep only the oldest snapshot so recovery must replay every log after it.
    for (const s of snaps.slice(1)) fs.rmSync(s.path);
    const logs = await listLogs(v2);
    assert.ok(logs.length >= 3);
    fs.rmSync(logs[1]!.path);
    await assert.rejects(open(dir), (e: unknown) => e instanceof StorageError && e.path === logs[2]!.path && /gap/.test(e.message));
  }),
);

test(
  'logs with no snapshot are refused unless trusted',
  withTmpDir(async (dir) => {
    const tree = await build(dir, 50);
    for (const s of await listSnapshots(path.join(dir, 'version-2'))) fs.rmSync(s.path);
    await assert.rejects(open(dir), /no snapshot found/);
    const dd = await open(dir, { trustEmptySnapshot: true, emptyTree: undefined });
    assert.equal(dd.snapshot, undefined);
    assert.equal(dd.txns.length, 50);
    assert.equal(dd.lastZxid, tree.lastZxid);
    await dd.close();
  }),
);

test(
  'TRUNC: truncateDataDir drops txns and snapshots above a zxid; recovery ends exactly there',
  withTmpDir(async (dir) => {
    const { truncateDataDir } = await import('../../src/storage/truncate.js');
    // Record the model state at every zxid to compare with what recovery gives after truncation.
    const dd = await open(dir);
    const tree = ModelTree.fresh();
    const w = new Workload(tree, 77);
    const states = new Map<bigint, Map<string, string>>();
    for (let i = 0; i < 300; i += 10) {
      const b = w.batch(10);
      await dd.txnLog.append(b);
      states.set(tree.lastZxid, tree.dump());
      if (dd.snapshotter.noteLogged(b.length)) await dd.snapshotter.take(tree.lastZxid, tree.source());
    }
    await dd.close();
    const target = 150n;
    const r = await truncateDataDir(dir, undefined, target);
    assert.ok(r.cut !== undefined);
    const snaps = await listSnapshots(path.join(dir, 'version-2'));
    assert.ok(snaps.every((s) => s.zxid <= target));
    const dd2 = await open(dir);
    assert.equal(dd2.lastZxid, target);
    assert.deepEqual(recovered(dd2).dump(), states.get(target));
    // The follower then logs the leader's txns from target + 1.
    const t2 = recovered(dd2);
    await fill(dd2, t2, new Workload(t2, 78, target), 20);
    await dd2.close();
    const dd3 = await open(dir);
    assert.equal(dd3.lastZxid, target + 20n);
    assert.deepEqual(recovered(dd3).dump(), t2.dump());
    await dd3.close();
  }),
);
