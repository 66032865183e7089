import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedEnsemble } from '../../src/sim/script.js';
import { encodeWrite } from '../../src/sim/machine.js';
import { voteBetter } from '../../src/zab/election.js';
import { recover, step } from '../../src/zab/peer.js';
import { nextProposalZxid } from '../../src/zab/leader.js';
import { majorityQuorum } from '../../src/zab/quorum.js';
import { corePeer } from '../../src/sim/corePeer.js';
import { epoch, makeZxid, PROPOSAL_COUNTER_MAX, serverId, zxid, type Epoch } from '../../src/zab/types.js';

/** Give a peer's disk a history: currentEpoch and txns (epoch, counter) pairs. */
function history(e: ScriptedEnsemble, sid: number, currentEpoch: bigint, txns: [number, number][]): void {
  const d = e.peer(sid).disk;
  d.currentEpoch = currentEpoch as Epoch;
  d.acceptedEpoch = currentEpoch as Epoch;
  d.durable = txns.map(([ep, c], i) => ({
    zxid: makeZxid(epoch(BigInt(ep)), BigInt(c)),
    data: encodeWrite({ client: 0, req: i, origin: 0, key: 'k', expectedVersion: -1, value: `${ep}.${c}` }),
  }));
}

const elect = (e: ScriptedEnsemble, sids: number[]): number => e.startAndElect(sids);

test('vote order: peer epoch, then zxid, then server id', () => {
  const v = (leader: number, z: bigint, pe: bigint) => ({ leader: serverId(leader), zxid: zxid(z), peerEpoch: epoch(pe) });
  assert.ok(voteBetter(v(1, 0x100000001n, 3n), v(2, 0x200000005n, 2n)), 'higher epoch wins over higher zxid');
  assert.ok(voteBetter(v(1, 0x200000006n, 2n), v(3, 0x200000005n, 2n)), 'higher zxid wins over higher sid');
  assert.ok(voteBetter(v(3, 0x200000005n, 2n), v(2, 0x200000005n, 2n)), 'sid breaks ties');
  assert.ok(!voteBetter(v(2, 0x200000005n, 2n), v(2, 0x200000005n, 2n)), 'a vote is not better than itself');
});

test('election: the highest current epoch wins even with a lower zxid', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  history(e, 1, 3n, [
    [1, 1],
    [2, 1],
  ]); // epoch 3 accepted, last txn from epoch 2
  history(e, 2, 2n, [
    [1, 1],
    [2, 1],
    [2, 2],
    [2, 3],
  ]);
  history(e, 3, 2n, [
    [1, 1],
    [2, 1],
    [2, 2],
  ]);
  assert.equal(elect(e, [1, 2, 3]), 1);
});

test('election: with equal epochs the highest zxid wins over a higher server id', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  history(e, 1, 1n, [
    [1, 1],
    [1, 2],
    [1, 3],
  ]);
  history(e, 2, 1n, [[1, 1]]);
  history(e, 3, 1n, [
    [1, 1],
    [1, 2],
  ]);
  assert.equal(elect(e, [1, 2, 3]), 1);
  // The winner's history is everyone's: peer 2 and 3 were brought up to 1.3.
  for (const s of [2, 3]) assert.equal(e.read(s, 'k'), '1.3');
});

test('election: equal epoch and zxid, the highest server id wins', () => {
  const e = new ScriptedEnsemble({ voters: 5 });
  assert.equal(elect(e, [1, 2, 3, 4, 5]), 5);
});

test('election: a quorum suffices; the missing peer does not block it', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  assert.equal(elect(e, [1, 2]), 2);
});

test('a late joiner follows the established leader even with a higher id and zxid', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  assert.equal(elect(e, [1, 2]), 2);
  const w = e.write(2, 'a', 'x');
  assert.ok(e.runUntil(() => e.acked.has(w)));
  // Peer 3 has an old, higher-looking history of its own (epoch 0 but counter 9).
  history(e, 3, 0n, [[0, 9]]);
  e.start(3);
  assert.ok(e.runUntil(() => e.peer(3).serving));
  assert.equal(e.peer(3).role, 'FOLLOWING');
  assert.equal(e.leader(), 2);
  assert.equal(e.read(3, 'a'), 'x');
});

test('an observer joins through FOLLOWING/LEADING votes and never votes', () => {
  const e = new ScriptedEnsemble({ voters: 3, observers: 1 });
  assert.equal(elect(e, [1, 2, 3, 4]), 3);
  assert.equal(e.peer(4).role, 'OBSERVING');
  const w = e.write(4, 'b', 'y');
  assert.ok(e.runUntil(() => e.acked.has(w)));
  assert.equal(e.read(4, 'b'), 'y');
});

test('a leader that loses its quorum steps down and a new epoch begins', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  assert.equal(elect(e, [1, 2, 3]), 3);
  const epochBefore = e.peer(3).core!.currentEpoch;
  e.isolate(3);
  assert.ok(e.runUntil(() => e.peer(3).role === 'LOOKING' && e.leader() === 2));
  assert.ok(e.peer(2).core!.currentEpoch > epochBefore);
  e.isolate(3, false);
  assert.ok(e.runUntil(() => e.stable() && e.peer(3).serving));
  assert.equal(e.leader(), 2);
});

test('zxid counter exhaustion forces a new election and epoch', () => {
  const e = new ScriptedEnsemble({ voters: 3, zxidCounter_max: 3n });
  elect(e, [1, 2, 3]);
  const ep = e.peer(e.leader()!).core!.currentEpoch;
  const acks: string[] = [];
  for (let i = 0; i < 3; i++) acks.push(e.write(e.leader()!, 'c', `v${i}`));
  assert.ok(e.runUntil(() => acks.every((a) => e.acked.has(a))));
  e.write(e.leader()!, 'c', 'v3'); // counter 4 > 3: the leader must give up its epoch
  assert.ok(e.runUntil(() => e.stable() && e.peer(e.leader()!).core!.currentEpoch > ep));
  const w = e.write(e.leader()!, 'c', 'v4');
  assert.ok(e.runUntil(() => e.acked.has(w)));
  assert.equal(e.acked.get(w)!.zxid >> 32n, e.peer(e.leader()!).core!.currentEpoch);
});

test('by default the last counter a leader proposes is ZooKeeper’s 0xfffffffe; the next write forces an election', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  elect(e, [1, 2, 3]);
  const leader = e.leader()!;
  const core = e.peer(leader).core!;
  const ep = core.currentEpoch;
  assert.ok(core.role.role === 'LEADING');
  // As though four billion writes had committed in this epoch (only the numbering is looked at:
  // the checkers would see the hole if anything were committed after it).
  core.role.lastProposed = makeZxid(ep, 0xfffffffdn);
  assert.equal(nextProposalZxid(core), makeZxid(ep, 0xfffffffen));
  core.role.lastProposed = makeZxid(ep, 0xfffffffen);
  // ZooKeeper's Leader.propose refuses a zxid with all low 32 bits set (XidRolloverException).
  assert.equal(nextProposalZxid(core), null);
  e.write(leader, 'c', 'refused');
  assert.ok(e.runUntil(() => e.stable() && e.peer(e.leader()!).core!.currentEpoch > ep));
  const w = e.write(e.leader()!, 'c', 'next');
  assert.ok(e.runUntil(() => e.acked.has(w)));
  assert.equal(e.acked.get(w)!.zxid, makeZxid(e.peer(e.leader()!).core!.currentEpoch, 1n));
});

test('PING replies carry the learner’s session activity to the leader', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  assert.equal(elect(e, [1, 2, 3]), 3);
  const touched = Buffer.from('session 0x1 touched');
  step(e.peer(1).core!, { type: 'sessionActivity', data: touched });
  assert.ok(e.runUntil(() => e.sent.some((m) => m.from === 1 && m.msg.type === 'PING' && m.msg.data?.equals(touched) === true), 20));
  e.settle();
  assert.ok(
    e.trace.lines().some((l) => l.includes('s3') && l.includes('sessionActivity')),
    'the leader hears of it',
  );
});

test('a LOOKING peer answers a worse vote of its own round with its own vote, once per vote the sender sends', () => {
  // Peer 2 looks while peer 1, still following a dead leader when 2's first notification came,
  // starts looking with a vote for itself: 2 answers at once (not at its next resend).
  const ids = [serverId(1), serverId(2), serverId(3)];
  const cfg = corePeer(2, majorityQuorum(ids), { snapCount: 1000, commitLogCount: 0, zxidCounter_max: PROPOSAL_COUNTER_MAX, mutations: [] }).config;
  const last = makeZxid(epoch(1n), 5n);
  const { state } = recover(cfg, {
    acceptedEpoch: epoch(1n),
    currentEpoch: epoch(1n),
    snapZxid: makeZxid(epoch(0n), 0n),
    log: [{ zxid: last, data: Buffer.from('x') }],
  });
  assert.equal(state.role.role, 'LOOKING');
  const round = state.logicalclock;
  const vote = (leader: number) =>
    ({ type: 'NOTIFICATION', state: 'LOOKING', leader: serverId(leader), zxid: last, electionEpoch: round, peerEpoch: epoch(1n) }) as const;
  const from1 = (leader: number) =>
    step(state, { type: 'message', from: serverId(1), msg: vote(leader) }).actions.flatMap((a) => (a.type === 'send' ? [a] : []));
  const answer = from1(1);
  assert.equal(answer.length, 1, 'one notification, to the sender only');
  assert.equal(answer[0]!.to, serverId(1));
  assert.deepEqual({ ...answer[0]!.msg }, { ...vote(2) });
  assert.deepEqual(from1(1), [], 'the same vote again is not answered again');
  assert.deepEqual(from1(2), [], 'a vote equal to ours needs no answer');
});
