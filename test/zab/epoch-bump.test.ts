import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedEnsemble } from '../../src/sim/script.js';
import { counterOf, epochOf, makeZxid, type Epoch } from '../../src/zab/types.js';

/**
 * zxidRolloverWithoutElection (tszk only): a leader whose counter is spent moves the ensemble to
 * the next epoch in place with NEWEPOCH (src/zab/README.md: zxid rollover). Every step is watched
 * by the simulator's checkers.
 */

const elect = (e: ScriptedEnsemble, sids: number[]): number => e.startAndElect(sids);

const rolesAfter = (e: ScriptedEnsemble, from: number) => e.actions.slice(from).filter((a) => a.action.type === 'role');

test('a spent counter moves the ensemble to the next epoch in place: writes go on, nobody looks for a leader', () => {
  const e = new ScriptedEnsemble({ voters: 3, observers: 1, zxidCounter_max: 3n, zxidRolloverWithoutElection: true });
  const leader = elect(e, [1, 2, 3, 4]);
  const ep = e.peer(leader).core!.currentEpoch;
  const mark = e.actions.length;
  const acks: string[] = [];
  // Bursts through the leader, a follower and the observer: some come while the counter is
  // spent and wait for the next epoch.
  for (let round = 0; round < 4; round++) for (const sid of [leader, 1, 4]) for (let i = 0; i < 2; i++) acks.push(e.write(sid, `k${sid}`, `${round}.${i}`));
  assert.ok(e.runUntil(() => acks.every((a) => e.acked.has(a))));
  assert.deepEqual(rolesAfter(e, mark), [], 'no role changed');
  const zxids = acks.map((a) => e.acked.get(a)!.zxid);
  for (const z of zxids) assert.ok(counterOf(z) >= 1n && counterOf(z) <= 3n);
  const last = zxids.reduce((a, b) => (a > b ? a : b));
  assert.ok(epochOf(last) >= ep + 7n, `24 writes of at most 3 per epoch: epoch ${epochOf(last)} from ${ep}`);
  e.settle();
  // The last write spent the counter again: the leader moved on without waiting for a write.
  const now = e.peer(leader).core!.currentEpoch;
  assert.ok(now >= epochOf(last));
  for (const p of e.peers) {
    assert.equal(p.disk.acceptedEpoch, now, `peer ${p.sid} accepted epoch`);
    assert.equal(p.disk.currentEpoch, now, `peer ${p.sid} current epoch`);
  }
  assert.equal(e.leader(), leader);
});

test('a follower persists the next epoch as accepted at NEWEPOCH, and as current and ACKs it only once its log is durable', () => {
  const e = new ScriptedEnsemble({ voters: 3, zxidCounter_max: 2n, zxidRolloverWithoutElection: true });
  const leader = elect(e, [1, 2, 3]);
  const [slow, other] = [1, 2, 3].filter((s) => s !== leader) as [number, number];
  const ep = e.peer(leader).core!.currentEpoch;
  const next = (ep + 1n) as Epoch;
  e.peer(slow).autoFsync = false;
  const acks = [e.write(leader, 'k', 'a'), e.write(leader, 'k', 'b')];
  assert.ok(e.runUntil(() => acks.every((a) => e.acked.has(a)))); // on the leader and `other`
  e.settle();
  const newEpochAck = (sid: number) => e.sent.some((m) => m.from === sid && m.msg.type === 'ACK' && m.msg.zxid === makeZxid(next, 0n));
  assert.ok(e.sent.some((m) => m.to === slow && m.msg.type === 'NEWEPOCH'));
  assert.equal(e.peer(slow).disk.acceptedEpoch, next);
  assert.equal(e.peer(slow).disk.currentEpoch, ep, 'not current before the log is durable');
  assert.equal(newEpochAck(slow), false);
  assert.ok(newEpochAck(other));
  // The leader and `other` are a quorum: the next epoch is in force and numbered already.
  const w = e.write(leader, 'k', 'c');
  assert.ok(e.runUntil(() => e.acked.has(w)));
  assert.equal(e.acked.get(w)!.zxid, makeZxid(next, 1n));
  e.fsync(slow);
  e.settle();
  assert.equal(e.peer(slow).disk.currentEpoch, next);
  assert.ok(newEpochAck(slow));
  // Its ACK of the new epoch's proposal came after its NEWEPOCH ACK.
  const i = e.sent.findIndex((m) => m.from === slow && m.msg.type === 'ACK' && m.msg.zxid === makeZxid(next, 0n));
  const j = e.sent.findIndex((m) => m.from === slow && m.msg.type === 'ACK' && m.msg.zxid === makeZxid(next, 1n));
  assert.ok(i >= 0 && j > i, `NEWEPOCH ACK at ${i}, proposal ACK at ${j}`);
});

test('followers without the option leave at NEWEPOCH; the leader then falls back to an election, as ZooKeeper', () => {
  const e = new ScriptedEnsemble({ voters: 3, zxidCounter_max: 2n, zxidRolloverWithoutElection: true });
  // Peer 3 leads (equal histories: the highest id); 1 and 2 run without the option.
  for (const sid of [1, 2]) e.peer(sid).config = { ...e.peer(sid).config, zxidRolloverWithoutElection: false };
  assert.equal(elect(e, [1, 2, 3]), 3);
  const ep = e.peer(3).core!.currentEpoch;
  const mark = e.actions.length;
  const acks = [e.write(3, 'k', 'a'), e.write(3, 'k', 'b')];
  assert.ok(e.runUntil(() => acks.every((a) => e.acked.has(a))));
  e.write(3, 'k', 'held'); // waits for an epoch that never comes in place
  assert.ok(e.runUntil(() => rolesAfter(e, mark).some((a) => a.sid === 3 && a.action.type === 'role' && a.action.role === 'LOOKING')));
  assert.ok(e.runUntil(() => e.stable()));
  const w = e.write(e.leader()!, 'k', 'after');
  assert.ok(e.runUntil(() => e.acked.has(w)));
  assert.ok(epochOf(e.acked.get(w)!.zxid) > ep + 1n, 'an election picked an epoch above the one NEWEPOCH offered');
});
