/** A leader's SNAP streamed chunk by chunk from the live tree: the same bytes as in one go, and exact once the learner applies what followed it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeSnapWithStream, QuorumPacketDecoder } from '../../src/server/quorum/packetStream.js';
import { streamSnap, type SnapLoad } from '../../src/server/quorum/snapStream.js';
import { DatabaseLoader, databaseFromSnapshot, snapshotSourceOf } from '../../src/storage/database.js';
import { EMPTY_DIGEST, parseSnapshot, snapshotBody } from '../../src/storage/snapshot.js';
import { frozenSnapshotSource } from '../../src/storage/treeSnapshotSource.js';
import { ZkDatabase } from '../../src/txn/database.js';
import { decodeTxn, encodeTxn, type Txn } from '../../src/txn/txn.js';
import type { QuorumMessage } from '../../src/zab/index.js';
import { ModelTree } from '../storage/modelTree.js';
import { Workload } from '../storage/workload.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';

const CHUNK_BYTES = 2048;

/** Decodes `wire` as it would arrive in reads of `size` bytes. */
function receive(wire: Buffer, size: number, loadSnap?: () => SnapLoad): QuorumMessage[] {
  const d = new QuorumPacketDecoder(loadSnap);
  const out: QuorumMessage[] = [];
  for (let i = 0; i < wire.length; i += size) d.push(wire.subarray(i, i + size), (m) => out.push(m));
  return out;
}

function leaderWith(txns: number, seed: number): { db: ZkDatabase; w: Workload } {
  const db = new ZkDatabase();
  const w = new Workload(ModelTree.fresh(), seed, 0n, 'real');
  for (const t of w.batch(txns)) db.apply(decodeTxn(encodeTxn(t)));
  return { db, w };
}

test('SNAP streamed in chunks from a tree nobody writes is byte for byte the one serialized in one go', async () => {
  const { db } = leaderWith(600, 7);
  const zxid = db.lastProcessedZxid;
  const chunks: Buffer[] = [];
  const bytes = await streamSnap(zxid, snapshotSourceOf(db, zxid), async (c) => void chunks.push(c), CHUNK_BYTES);
  const whole = encodeSnapWithStream(zxid, snapshotBody(snapshotSourceOf(db, zxid)));
  assert.ok(chunks.length > 5, `${chunks.length} chunks`);
  assert.equal(bytes, whole.length);
  assert.deepEqual(Buffer.concat(chunks), whole);
});

for (const frozen of [false, true]) {
  test(`SNAP streamed from the ${frozen ? 'tree frozen at its zxid' : 'live tree'} while the leader commits: the learner loads it, applies the txns after its zxid, and holds exactly the leader tree`, async () => {
    const { db, w } = leaderWith(800, 11);
    const zxid = db.lastProcessedZxid;
    const digestAtZxid = db.tree.digest;
    const src = frozen
      ? frozenSnapshotSource({ tree: db.tree.freeze(), sessions: [...db.sessionsWithTimeouts], zxid, digest: EMPTY_DIGEST })
      : snapshotSourceOf(db, zxid, Infinity);
    const after: Txn[] = [];
    const chunks: Buffer[] = [];
    // Between chunks the leader commits more (creates, deletes, setData, setACL, multi), as it does between event-loop turns.
    await streamSnap(
      zxid,
      src,
      async (c) => {
        chunks.push(c);
        for (const t of w.batch(15)) {
          const txn = decodeTxn(encodeTxn(t));
          db.apply(txn);
          after.push(txn);
        }
      },
      CHUNK_BYTES,
    );
    assert.ok(after.length > 100, `${after.length} txns committed during the stream`);
    const wire = Buffer.concat(chunks);
    for (const size of [1, 777, 65536]) {
      // As a snapshot file (what the simulator's learners get), and built record by record as the bytes arrive (a node learner).
      const built = new Map<Buffer, ZkDatabase>();
      const loadSnap = (): SnapLoad => {
        const loader = new DatabaseLoader('received', true);
        return { visitor: loader, end: (z) => (built.set(wire, loader.finish(z, null)), wire) };
      };
      for (const how of ['file', 'loaded'] as const) {
        const got = receive(wire, size, how === 'loaded' ? loadSnap : undefined);
        assert.equal(got.length, 1);
        const m = got[0]!;
        assert.ok(m.type === 'SNAP');
        assert.equal(m.zxid, zxid);
        const learner = how === 'loaded' ? built.get(m.data)! : databaseFromSnapshot(parseSnapshot(m.data, 'received', zxid));
        assert.equal(learner.lastProcessedZxid, zxid);
        // Frozen, the stream is the tree at its zxid, whatever was committed while it went out.
        if (frozen) assert.equal(learner.tree.digest, digestAtZxid, `${how}, read size ${size}: the tree at the SNAP's zxid`);
        for (const t of after) learner.applyChecked(t);
        assert.equal(learner.tree.digest, db.tree.digest, `${how}, read size ${size}`);
        assert.equal(learner.tree.nodeCount, db.tree.nodeCount);
        assert.deepEqual([...learner.sessionsWithTimeouts], [...db.sessionsWithTimeouts]);
        assert.equal(learner.digestMismatches, 0);
      }
    }
  });
}
