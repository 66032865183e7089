/** Quorum-port framing and the forwarded-request layout, split at every byte. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeSnapWithStream, QuorumPacketDecoder, quorumPacketLength } from '../../src/server/quorum/packetStream.js';
import { SNAP_SIGNATURE } from '../../src/server/quorum/snapStream.js';
import { snapshotSourceOf } from '../../src/storage/database.js';
import { parseSnapshot, snapshotBody } from '../../src/storage/snapshot.js';
import { DataTree } from '../../src/tree/dataTree.js';
import { ZkDatabase } from '../../src/txn/database.js';
import { decodeForwardedWrite, decodeSessionActivity, encodeForwardedWrite, encodeSessionActivity } from '../../src/server/quorum/forwardedRequest.js';
import { encodeQuorumMessage, epoch, serverId, zxid, type QuorumMessage } from '../../src/zab/index.js';

const messages: QuorumMessage[] = [
  { type: 'FOLLOWERINFO', acceptedEpoch: epoch(3n), sid: serverId(2) },
  { type: 'LEADERINFO', newEpoch: epoch(4n) },
  { type: 'ACKEPOCH', currentEpoch: epoch(3n), lastZxid: zxid(0x300000007n) },
  { type: 'PROPOSAL', zxid: zxid(0x400000001n), data: Buffer.from('txn bytes') },
  { type: 'COMMIT', zxid: zxid(0x400000001n) },
  { type: 'PING', zxid: zxid(0x400000001n), data: null },
  { type: 'UPTODATE' },
];

function decodeAll(chunks: Buffer[]): QuorumMessage[] {
  const d = new QuorumPacketDecoder();
  const out: QuorumMessage[] = [];
  for (const c of chunks) d.push(c, (m) => out.push(m));
  return out;
}

test('QuorumPackets decode the same whether they arrive whole, byte by byte, or in odd chunks', () => {
  const stream = Buffer.concat(messages.map(encodeQuorumMessage));
  const whole = decodeAll([stream]);
  assert.deepEqual(whole, messages);
  const bytes = [...stream].map((b) => Buffer.from([b]));
  assert.deepEqual(decodeAll(bytes), messages);
  const odd: Buffer[] = [];
  for (let i = 0, n = 1; i < stream.length; i += n, n = (n * 7 + 3) % 5000 || 1) odd.push(stream.subarray(i, i + n));
  assert.deepEqual(decodeAll(odd), messages);
});

test('an incomplete packet reports how many bytes it needs; absurd lengths are refused', () => {
  const p = encodeQuorumMessage({ type: 'PROPOSAL', zxid: zxid(1n), data: Buffer.alloc(100) });
  assert.equal(quorumPacketLength(p, 0), p.length);
  assert.ok(quorumPacketLength(p.subarray(0, 20), 0) < 0);
  assert.equal(-quorumPacketLength(p.subarray(0, 20), 0), 16 + 100 + 4);
  const bad = Buffer.from(p);
  bad.writeInt32BE(-5, 12);
  assert.throws(() => quorumPacketLength(bad, 0), /out of bounds/);
});

test('a forwarded write keeps session, cxid, type, request bytes and auth ids', () => {
  const w = { sessionId: 0x1234_5678_9abc_def0n, cxid: 42, type: 5, body: Buffer.from('request record'), authInfo: [{ scheme: 'digest', id: 'u:hash' }] };
  const { data: enc, authinfo } = encodeForwardedWrite(w);
  // ZooKeeper's Learner.request layout: sessionId, cxid, type, request bytes (nothing after them);
  // the auth ids ride in QuorumPacket.authinfo.
  assert.equal(enc.readBigInt64BE(0), w.sessionId);
  assert.equal(enc.readInt32BE(8), 42);
  assert.equal(enc.readInt32BE(12), 5);
  assert.equal(enc.subarray(16).toString(), 'request record');
  assert.deepEqual(authinfo, w.authInfo);
  assert.deepEqual(decodeForwardedWrite(enc, authinfo), w);
  const act = new Map([
    [1n, 4000],
    [-2n, 6000],
  ]);
  assert.deepEqual(decodeSessionActivity(encodeSessionActivity(act)), [...act]);
});

test('SNAP: the serialized database follows the packet, ends with BenWasHere, and arrives intact in any chunking', async () => {
  const tree = new DataTree();
  const acl = [{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }];
  const aclIndex = tree.aclCache.acquire(acl);
  tree.insertNode('/a', Buffer.from('data a'), aclIndex, stat(5n));
  tree.insertNode('/a/b', null, -1n, stat(6n));
  tree.insertNode('/c', Buffer.alloc(50_000, 3), -1n, stat(7n));
  const db = new ZkDatabase(tree);
  db.sessionsWithTimeouts.set(0x100n, 4000);
  const wire = Buffer.concat([
    encodeSnapWithStream(7n, snapshotBody(snapshotSourceOf(db, 7n))),
    encodeQuorumMessage({ type: 'NEWLEADER', zxid: zxid(0x500000000n) }),
  ]);
  // The packet itself carries no data; the stream after it is not length-prefixed.
  assert.equal(wire.readInt32BE(0), 15);
  assert.equal(wire.readInt32BE(12), -1);
  assert.ok(wire.includes(Buffer.from(SNAP_SIGNATURE)));
  for (const size of [1, 3, 4096, wire.length]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += size) chunks.push(wire.subarray(i, i + size));
    const got = decodeAll(chunks);
    assert.equal(got.length, 2, `chunk size ${size}`);
    const m = got[0]!;
    assert.ok(m.type === 'SNAP');
    assert.equal(m.zxid, 7n);
    const snap = parseSnapshot(m.data, 'received', 7n);
    const paths = new Set(snap.nodes.map((n) => n.path));
    for (const p of ['', '/a', '/a/b', '/c']) assert.ok(paths.has(p), `${p} in the received snapshot`);
    assert.equal(snap.nodes.find((n) => n.path === '/c')!.data!.length, 50_000);
    assert.deepEqual(snap.acls.get(aclIndex), acl);
    assert.equal(snap.sessions.get(0x100n), 4000);
    assert.equal(got[1]!.type, 'NEWLEADER');
  }
});

function stat(z: bigint) {
  return { czxid: z, mzxid: z, ctime: 1n, mtime: 1n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: z };
}
