/** Quorum-port framing and the forwarded-request layout, split at every byte. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuorumPacketDecoder, quorumPacketLength } from '../../src/server/quorum/packetStream.js';
import { decodeForwardedWrite, decodeSessionActivity, encodeForwardedWrite, encodeSessionActivity } from '../../src/server/quorum/forwardedRequest.js';
import { encodeQuorumMessage, epoch, serverId, zxid, type QuorumMessage } from '../../src/zab/index.js';

const messages: QuorumMessage[] = [
  { type: 'FOLLOWERINFO', acceptedEpoch: epoch(3n), sid: serverId(2) },
  { type: 'LEADERINFO', newEpoch: epoch(4n) },
  { type: 'ACKEPOCH', currentEpoch: epoch(3n), lastZxid: zxid(0x300000007n) },
  { type: 'PROPOSAL', zxid: zxid(0x400000001n), data: Buffer.from('txn bytes') },
  { type: 'COMMIT', zxid: zxid(0x400000001n) },
  { type: 'SNAP', zxid: zxid(0x400000001n), data: Buffer.alloc(70_000, 7) },
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
  const enc = encodeForwardedWrite(w);
  // ZooKeeper's Learner.request layout up front: sessionId, cxid, type, request bytes.
  assert.equal(enc.readBigInt64BE(0), w.sessionId);
  assert.equal(enc.readInt32BE(8), 42);
  assert.equal(enc.readInt32BE(12), 5);
  assert.equal(enc.subarray(16, 16 + w.body.length).toString(), 'request record');
  assert.deepEqual(decodeForwardedWrite(enc), w);
  const act = new Map([[1n, 4000], [-2n, 6000]]);
  assert.deepEqual(decodeSessionActivity(encodeSessionActivity(act)), [...act]);
});
