import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PacketType,
  QuorumPacket,
  LearnerInfo,
  decodeNotification,
  decodeQuorumMessage,
  encodeNotification,
  encodeQuorumMessage,
  toQuorumPacket,
  type QuorumMessage,
} from '../../src/zab/packets.js';
import { epoch, makeZxid, serverId, zxid, epochOf, counterOf } from '../../src/zab/types.js';

test('packet type constants are those of Leader.java', () => {
  assert.deepEqual(
    [PacketType.REQUEST, PacketType.PROPOSAL, PacketType.ACK, PacketType.COMMIT, PacketType.PING, PacketType.REVALIDATE, PacketType.SYNC, PacketType.INFORM],
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.deepEqual(
    [
      PacketType.NEWLEADER,
      PacketType.FOLLOWERINFO,
      PacketType.UPTODATE,
      PacketType.DIFF,
      PacketType.TRUNC,
      PacketType.SNAP,
      PacketType.OBSERVERINFO,
      PacketType.LEADERINFO,
      PacketType.ACKEPOCH,
    ],
    [10, 11, 12, 13, 14, 15, 16, 17, 18],
  );
});

test('zxid is epoch << 32 | counter', () => {
  const z = makeZxid(epoch(5n), 7n);
  assert.equal(z, 0x500000007n);
  assert.equal(epochOf(z), 5n);
  assert.equal(counterOf(z), 7n);
  assert.throws(() => makeZxid(epoch(1n), 0x100000000n));
});

test('FLE notification has FastLeaderElection.buildMsg layout', () => {
  const n = { type: 'NOTIFICATION', state: 'FOLLOWING', leader: serverId(3), zxid: zxid(0x200000009n), electionEpoch: 4n, peerEpoch: epoch(2n) } as const;
  const b = encodeNotification(n);
  assert.equal(b.length, 44); // 4 + 8 + 8 + 8 + 8 + 4 (version) + 4 (config length) + config
  assert.equal(b.toString('hex'), '00000001' + '0000000000000003' + '0000000200000009' + '0000000000000004' + '0000000000000002' + '00000002' + '00000000');
  assert.deepEqual(decodeNotification(b), n);
  const withConfig = encodeNotification(n, Buffer.from('server.1=a:1:2'));
  assert.equal(withConfig.length, 44 + 14);
});

test('every quorum message round-trips through a QuorumPacket', () => {
  const msgs: QuorumMessage[] = [
    { type: 'FOLLOWERINFO', acceptedEpoch: epoch(3n), sid: serverId(2) },
    { type: 'OBSERVERINFO', acceptedEpoch: epoch(0n), sid: serverId(9) },
    { type: 'LEADERINFO', newEpoch: epoch(4n) },
    { type: 'ACKEPOCH', currentEpoch: epoch(3n), lastZxid: zxid(0x300000011n) },
    { type: 'DIFF', zxid: zxid(0x300000011n) },
    { type: 'TRUNC', zxid: zxid(0x300000002n) },
    { type: 'SNAP', zxid: zxid(0x300000002n), data: Buffer.from('tree') },
    { type: 'PROPOSAL', zxid: zxid(0x400000001n), data: Buffer.from('txn') },
    { type: 'COMMIT', zxid: zxid(0x400000001n) },
    { type: 'INFORM', zxid: zxid(0x400000001n), data: Buffer.from('txn') },
    { type: 'COMMIT', zxid: zxid(0x400000002n), designatedLeader: serverId(3) },
    { type: 'INFORM', zxid: zxid(0x400000002n), data: Buffer.from('txn'), designatedLeader: serverId(3) },
    { type: 'NEWLEADER', zxid: zxid(0x400000000n) },
    { type: 'UPTODATE' },
    { type: 'UPTODATE', committedZxid: zxid(0x400000007n) },
    { type: 'ACK', zxid: zxid(0x400000001n) },
    { type: 'REQUEST', sync: false, data: Buffer.from('req') },
    { type: 'REQUEST', sync: true, data: Buffer.alloc(0) },
    { type: 'PING', zxid: zxid(0x400000001n), data: Buffer.from('sessions') },
    { type: 'SYNC' },
  ];
  for (const m of msgs) assert.deepEqual(decodeQuorumMessage(encodeQuorumMessage(m)), m, m.type);
});

test('FOLLOWERINFO carries the accepted epoch as a zxid and a LearnerInfo', () => {
  const p = toQuorumPacket({ type: 'FOLLOWERINFO', acceptedEpoch: epoch(7n), sid: serverId(2) });
  assert.equal(p.type, 11);
  assert.equal(p.zxid, 0x700000000n);
  assert.deepEqual(LearnerInfo.decode(p.data!), { serverid: 2n, protocolVersion: 0x10000, configVersion: 0n });
  const ack = toQuorumPacket({ type: 'ACKEPOCH', currentEpoch: epoch(6n), lastZxid: zxid(0x600000003n) });
  assert.equal(ack.data!.toString('hex'), '00000006');
  const wire = QuorumPacket.encode(toQuorumPacket({ type: 'ACK', zxid: zxid(0x100000002n) }));
  // type, zxid, data (null: -1), authinfo (null: -1, as ZooKeeper 3.8 writes it; see test/quorum-wire)
  // (an empty vector, 00000000, reads the same and is what the codec wrote before the wire work)
  assert.equal(wire.subarray(0, 16).toString('hex'), '00000003' + '0000000100000002' + 'ffffffff');
  assert.ok(['ffffffff', '00000000'].includes(wire.subarray(16).toString('hex')), wire.toString('hex'));
  assert.deepEqual(QuorumPacket.decode(wire).authinfo, []);
});

test('REVALIDATE round-trips with its opaque session bytes', () => {
  const m = { type: 'REVALIDATE', data: Buffer.from('0000000000000001', 'hex') } as const;
  assert.equal(toQuorumPacket(m).type, 6);
  assert.deepEqual(decodeQuorumMessage(encodeQuorumMessage(m)), m);
});

test("a reconfig's commit is COMMITANDACTIVATE (long designated leader) / INFORMANDACTIVATE (long, then the txn), as Leader.java sends them", () => {
  const c = toQuorumPacket({ type: 'COMMIT', zxid: zxid(0x400000002n), designatedLeader: serverId(3) });
  assert.equal(c.type, PacketType.COMMITANDACTIVATE);
  assert.deepEqual(c.data, Buffer.from([0, 0, 0, 0, 0, 0, 0, 3]));
  const i = toQuorumPacket({ type: 'INFORM', zxid: zxid(0x400000002n), data: Buffer.from('txn'), designatedLeader: serverId(3) });
  assert.equal(i.type, PacketType.INFORMANDACTIVATE);
  assert.deepEqual(i.data, Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('txn')]));
});
