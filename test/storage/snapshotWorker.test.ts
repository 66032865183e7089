import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataTree, OPEN_ACL_UNSAFE } from '../../src/tree/index.js';
import { CONTAINER_EPHEMERAL_OWNER, ttlToEphemeralOwner } from '../../src/tree/ephemeralType.js';
import { ZkDatabase } from '../../src/txn/database.js';
import { databaseFromSnapshot, snapshotSourceOf } from '../../src/storage/database.js';
import { readSnapshotFile, writeSnapshotFile, type SnapshotSource } from '../../src/storage/snapshot.js';
import { writeSnapshotInWorker } from '../../src/storage/snapshotWorker.js';
import { Perms } from '../../src/proto/opcodes.js';
import type { ACL } from '../../src/proto/records.js';

const SESSION = 0x1000000abcdn;
const DIGEST_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'bob:abc=' } }];
/** More znodes than one page of columns holds (4096), so some pages keep shared zero columns and others their own. */
const ZNODES = 10_000;

/** A tree with what a snapshot must carry: ephemerals, ACLs, containers, TTL and sequential nodes, changed and deleted nodes, non-latin1 names. */
function richDatabase(): { db: ZkDatabase; zxid: bigint } {
  const tree = new DataTree();
  let zxid = 0x300000000n;
  const t = 1_700_000_000_000n;
  const create = (p: string, data: Buffer | null, acl: readonly ACL[] = OPEN_ACL_UNSAFE, owner = 0n): void => {
    tree.createNode(p, data, acl, owner, -1, ++zxid, t + zxid);
  };
  create('/app', Buffer.from('root of the app'));
  create('/app/locks', null, DIGEST_ACL);
  for (let i = 0; i < 20; i++) create(`/app/locks/lock-${String(i).padStart(10, '0')}`, Buffer.alloc(0), OPEN_ACL_UNSAFE, SESSION);
  create('/app/container', null, OPEN_ACL_UNSAFE, CONTAINER_EPHEMERAL_OWNER);
  const ttlOwner = ttlToEphemeralOwner(60_000n);
  if (ttlOwner === undefined) throw new Error('60 s is a valid TTL');
  create('/app/ttl', Buffer.from('ttl'), OPEN_ACL_UNSAFE, ttlOwner);
  create('/app/ünïcödé-名前', Buffer.from([0, 1, 2, 255]));
  create('/bulk', null);
  for (let i = 0; i < ZNODES; i++) create(`/bulk/n${i}`, Buffer.alloc(100, i & 0xff));
  // Pages with their own mzxid/mtime/version columns, a deleted node's slot reused, an ACL change.
  for (let i = 0; i < ZNODES; i += 7) tree.setData(`/bulk/n${i}`, Buffer.from(`v${i}`), 1, ++zxid, t + zxid);
  for (let i = 3; i < ZNODES; i += 11) tree.deleteNode(`/bulk/n${i}`, ++zxid);
  create('/bulk/late', Buffer.from('reuses a freed slot'));
  tree.setACL('/app', DIGEST_ACL, 1);
  tree.lastProcessedZxid = zxid;
  const db = new ZkDatabase(tree);
  db.sessionsWithTimeouts.set(SESSION, 30_000);
  return { db, zxid };
}

function withoutFreeze(src: SnapshotSource): SnapshotSource {
  const { freeze: _freeze, ...rest } = src;
  return rest;
}

test('a snapshot written in a worker thread is byte for byte the one the event loop writes, and loads back to the same tree', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-snapworker-'));
  try {
    const { db, zxid } = richDatabase();
    const onLoop = path.join(dir, 'snapshot.loop');
    const inWorker = path.join(dir, 'snapshot.worker');
    await writeSnapshotFile(onLoop, withoutFreeze(snapshotSourceOf(db, zxid)), { fsync: true });
    const frozen = snapshotSourceOf(db, zxid, 0).freeze!();
    // Changes after the freeze are not in the worker's snapshot: it is the tree at the freeze.
    db.tree.setData('/app', Buffer.from('changed after the freeze'), 2, zxid + 1n, 1_800_000_000_000n);
    db.tree.deleteNode('/bulk/n1', zxid + 2n);
    db.tree.createNode('/bulk/after', Buffer.from('x'), OPEN_ACL_UNSAFE, 0n, -1, zxid + 3n, 1_800_000_000_000n);
    const bytes = await writeSnapshotInWorker(inWorker, frozen, { fsync: true });
    const loopBytes = fs.readFileSync(onLoop);
    assert.equal(bytes, loopBytes.length);
    assert.ok(fs.readFileSync(inWorker).equals(loopBytes), 'the two snapshot files differ');
    const loaded = databaseFromSnapshot(await readSnapshotFile(inWorker, zxid));
    assert.equal(loaded.tree.nodeCount, richDatabase().db.tree.nodeCount);
    assert.equal(loaded.tree.digest, richDatabase().db.tree.digest);
    assert.equal(loaded.sessionsWithTimeouts.get(SESSION), 30_000);
    assert.deepEqual(loaded.tree.getNode('/app/ünïcödé-名前')?.data, Buffer.from([0, 1, 2, 255]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a snapshot worker that cannot write says why and leaves no snapshot behind', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-snapworker-'));
  try {
    const { db, zxid } = richDatabase();
    const file = path.join(dir, 'missing-dir', 'snapshot.1');
    await assert.rejects(writeSnapshotInWorker(file, snapshotSourceOf(db, zxid, 0).freeze!(), { fsync: true }), /ENOENT/);
    assert.equal(fs.existsSync(file), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
