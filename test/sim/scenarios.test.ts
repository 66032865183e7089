import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Violation } from '../../src/sim/checkers.js';
import { ScriptedEnsemble } from '../../src/sim/script.js';
import type { Message } from '../../src/zab/packets.js';
import type { Mutation } from '../../src/zab/state.js';
import { counterOf, epochOf, zxidStr } from '../../src/zab/types.js';

/**
 * Scripted schedules for the ZooKeeper bugs that lost or diverged data (nearly all in the sync
 * phase and the persist-before-ACK order) and the three ambiguities model checking found in the
 * ZAB spec (zookeeper-specifications/protocol-spec/issues.md). Each runs under the same checkers
 * as the random simulator; where a mutant re-creates the bug, the schedule shows it is caught.
 */

function settle(e: ScriptedEnsemble, what = 'ensemble settles'): void {
  assert.ok(
    e.runUntil(() => e.stable()),
    what,
  );
}
function commit(e: ScriptedEnsemble, sid: number, key: string, value: string): void {
  const w = e.write(sid, key, value);
  assert.ok(
    e.runUntil(() => e.acked.has(w)),
    `write ${key}=${value} at ${sid} commits`,
  );
}
/** Wait until these peers' trees show the value (commits reach followers after the client's reply). */
function converge(e: ScriptedEnsemble, sids: number[], key: string, value: string): void {
  assert.ok(
    e.runUntil(() => sids.every((s) => e.peer(s).core !== null && e.read(s, key) === value)),
    `${key}=${value} reaches ${sids.join(',')}`,
  );
}
function sentBy(e: ScriptedEnsemble, from: number, to: number): Message[] {
  return e.sent.filter((m) => m.from === from && m.to === to).map((m) => m.msg);
}
/** Within an epoch a log's zxids must be consecutive (ZOOKEEPER-4925: no holes). */
function assertContiguous(e: ScriptedEnsemble): void {
  for (const p of e.peers) {
    const log = p.core?.log ?? [];
    for (let i = 1; i < log.length; i++) {
      const a = log[i - 1]!.zxid;
      const b = log[i]!.zxid;
      if (epochOf(a) === epochOf(b)) assert.equal(counterOf(b), counterOf(a) + 1n, `peer ${p.sid}: hole between ${zxidStr(a)} and ${zxidStr(b)}`);
    }
  }
}
function caught(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof Violation) return e.checker;
    if (e instanceof assert.AssertionError) return 'assertion';
    throw e;
  }
  return 'none';
}

/** ZOOKEEPER-1154/1156: a peer with an uncommitted suffix rejoins; TRUNC removes only that suffix. */
function divergentSuffix(mutations: Mutation[]): ScriptedEnsemble {
  const e = new ScriptedEnsemble({ voters: 3, mutations });
  [1, 2, 3].forEach((s) => e.start(s));
  settle(e);
  assert.equal(e.leader(), 3);
  commit(e, 3, 'a', 'committed');
  e.isolate(3);
  e.write(3, 'a', 'never-committed'); // logged on 3 alone
  e.settle();
  const orphan = e.lastZxid(3);
  e.crash(3);
  e.isolate(3, false);
  assert.ok(
    e.runUntil(() => e.leader() === 2),
    'peers 1 and 2 elect a new leader',
  );
  commit(e, 2, 'b', 'new-epoch');
  e.start(3);
  assert.ok(
    e.runUntil(() => e.stable() && e.peer(3).serving),
    'peer 3 rejoins',
  );
  const trunc = sentBy(e, 2, 3).find((m) => m.type === 'TRUNC');
  assert.ok(trunc !== undefined && trunc.zxid < orphan, 'peer 3 is told to truncate its orphan');
  assert.equal(e.read(3, 'a'), 'committed');
  assert.equal(e.read(3, 'b'), 'new-epoch');
  assert.ok(!e.peer(3).core!.log.some((t) => t.zxid === orphan), 'the orphan is gone');
  return e;
}

test('ZOOKEEPER-1154/1156: TRUNC drops exactly the uncommitted suffix', () => {
  divergentSuffix([]);
  assert.equal(
    caught(() => divergentSuffix(['neverTrunc'])),
    'agreement',
  );
});

test('ZOOKEEPER-2355: a follower that dies while reading a proposal gets the txn on resync', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  [1, 2, 3].forEach((s) => e.start(s));
  settle(e);
  const w = e.write(3, 'session', 'closed');
  e.drop((m) => m.to === 1 && m.ev.type === 'message' && m.ev.msg.type === 'PROPOSAL'); // cut mid-packet
  e.crash(1);
  assert.ok(
    e.runUntil(() => e.acked.has(w)),
    'committed by 2 and 3',
  );
  e.start(1);
  assert.ok(e.runUntil(() => e.stable() && e.peer(1).serving));
  assert.equal(e.read(1, 'session'), 'closed');
});

/** A follower that needs a SNAP: the leader has compacted its log (snapCount 3). */
function snapJoiner(): ScriptedEnsemble {
  const e = new ScriptedEnsemble({ voters: 3, snapCount: 3 });
  e.start(2);
  e.start(3);
  settle(e);
  for (let i = 0; i < 7; i++) commit(e, 3, 'k', `v${i}`);
  assert.ok(e.peer(3).core!.snapZxid > 0n, 'leader compacted its log');
  return e;
}

test("commitLogCount: a learner behind the leader's snapshot but within its kept committed txns gets DIFF, further back SNAP", () => {
  for (const [kept, mode] of [
    [20, 'DIFF'],
    [2, 'SNAP'],
  ] as const) {
    const e = new ScriptedEnsemble({ voters: 3, snapCount: 3, commitLogCount: kept });
    e.start(2);
    e.start(3);
    settle(e);
    for (let i = 0; i < 7; i++) commit(e, 3, 'k', `v${i}`);
    assert.ok(e.peer(3).core!.snapZxid > 0n, 'leader took a snapshot');
    e.start(1);
    assert.ok(e.runUntil(() => e.peer(1).serving));
    const types = sentBy(e, 3, 1).map((m) => m.type);
    assert.ok(types.includes(mode) && !types.includes(mode === 'DIFF' ? 'SNAP' : 'DIFF'), `kept ${kept}: ${types.join(' ')}`);
    assert.equal(e.read(1, 'k'), 'v6');
  }
});

test('ZOOKEEPER-3104: NEWLEADER follows the snapshot on the wire', () => {
  const e = snapJoiner();
  e.start(1);
  assert.ok(e.runUntil(() => e.peer(1).serving));
  const types = sentBy(e, 3, 1).map((m) => m.type);
  assert.ok(types.indexOf('SNAP') >= 0 && types.indexOf('SNAP') < types.indexOf('NEWLEADER'), types.join(' '));
  assert.equal(e.read(1, 'k'), 'v6');
  assert.ok(e.peer(1).disk.snapshot.zxid > 0n, 'the SNAP is on disk before UPTODATE');
});

test('ZOOKEEPER-3642: a SNAP cut off before NEWLEADER leaves no trace; the next sync and a restart lose nothing', () => {
  const e = snapJoiner();
  e.start(1);
  // Deliver until peer 1 holds the SNAP but the leader dies before NEWLEADER gets through.
  e.settle((m) => !(m.to === 1 && m.ev.type === 'message' && m.ev.msg.type === 'NEWLEADER'));
  assert.ok(e.sent.some((m) => m.to === 1 && m.msg.type === 'SNAP'));
  e.crash(3);
  assert.ok(e.runUntil(() => e.peer(1).role !== 'FOLLOWING' || e.peer(1).core!.role.role !== 'FOLLOWING'));
  assert.equal(e.peer(1).disk.snapshot.zxid, 0n, 'nothing of the SNAP reached the disk');
  assert.equal(e.peer(1).machine.zxid, 0n, 'nor the tree');
  assert.ok(
    e.runUntil(() => e.stable() && e.leader() === 2 && e.peer(1).serving),
    '1 and 2 carry on',
  );
  e.crash(1);
  e.start(1);
  assert.ok(e.runUntil(() => e.stable() && e.peer(1).serving));
  assert.equal(e.read(1, 'k'), 'v6');
});

/** A lagging follower syncs by DIFF with its fsync held back. */
function heldDiff(mutations: Mutation[]): ScriptedEnsemble {
  const e = new ScriptedEnsemble({ voters: 3, mutations });
  e.start(2);
  e.start(3);
  settle(e);
  for (let i = 0; i < 3; i++) commit(e, 3, 'k', `v${i}`);
  e.peer(1).autoFsync = false;
  e.start(1);
  e.settle();
  return e;
}
const newLeaderAck = (m: Message) => m.type === 'ACK' && counterOf(m.zxid) === 0n;

test('ZOOKEEPER-3911/3023/4646: synced txns are durable before currentEpoch, and both before the NEWLEADER ACK', () => {
  const e = heldDiff([]);
  const p1 = e.peer(1);
  assert.equal(p1.disk.pending.length, 3, 'DIFF txns written, not yet fsynced');
  assert.ok(!sentBy(e, 1, 3).some(newLeaderAck), 'no NEWLEADER ACK before fsync');
  assert.equal(p1.disk.currentEpoch, 0n, 'currentEpoch not yet persisted (ZOOKEEPER-4643)');
  e.fsync(1);
  assert.equal(p1.disk.durable.length, 3);
  assert.ok(p1.disk.currentEpoch > 0n);
  assert.ok(sentBy(e, 1, 3).some(newLeaderAck), 'ACK after the txns and the epoch are on disk');
  assert.ok(e.runUntil(() => e.stable() && p1.serving));
  // The mutants break the order and the schedule shows it.
  const early = heldDiff(['ackNewLeaderBeforeFsync']);
  assert.ok(sentBy(early, 1, 3).some(newLeaderAck) && early.peer(1).disk.pending.length === 3, 'mutant ACKs with nothing on disk');
  const epochFirst = heldDiff(['epochBeforeTxns']);
  assert.ok(epochFirst.peer(1).disk.currentEpoch > 0n && epochFirst.peer(1).disk.durable.length === 0, 'mutant persists the epoch first');
});

test('ZOOKEEPER-4643: crash after the epoch but before the txns loses committed data under the mutant', () => {
  // Peer 1 becomes part of the quorum that establishes a new epoch, then crashes with its
  // epoch on disk and its synced txns not: it can then win an election without them.
  const run = (mutations: Mutation[]): void => {
    const e = new ScriptedEnsemble({ voters: 3, mutations });
    [2, 3].forEach((s) => e.start(s));
    settle(e);
    commit(e, 3, 'k', 'precious'); // on 2 and 3
    e.crash(2); // 3 alone now
    e.peer(1).autoFsync = false;
    e.start(1); // 1 and 3: 3 leads a new epoch, 1 syncs by DIFF
    e.runUntil(() => e.peer(1).disk.currentEpoch > 0n || e.stable(), 60);
    e.crash(1); // un-fsynced txns lost
    e.peer(1).autoFsync = true;
    e.crash(3);
    e.start(1);
    e.start(2);
    assert.ok(
      e.runUntil(() => e.stable(), 400),
      'peers 1 and 2 elect a leader',
    );
    assert.equal(e.read(e.leader()!, 'k'), 'precious', 'committed value survives');
  };
  run([]);
  const by = caught(() => run(['epochBeforeTxns']));
  assert.ok(['durability', 'primary integrity', 'agreement', 'assertion'].includes(by), by);
});

test('ZOOKEEPER-4685 and spec issue 1: a proposal made during sync reaches the learner and is ACKed after NEWLEADER', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  e.start(2);
  e.start(3);
  settle(e);
  commit(e, 3, 'k', 'before');
  e.peer(1).autoFsync = false;
  e.start(1);
  // Run the handshake up to the sync; then a client write arrives at the leader mid-sync.
  e.settle((m) => !(m.to === 1 && m.ev.type === 'message' && m.ev.msg.type === 'UPTODATE'));
  const w = e.write(3, 'k', 'during-sync');
  e.settle((m) => !(m.to === 1 && m.ev.type === 'message' && m.ev.msg.type === 'UPTODATE'));
  assert.ok(
    sentBy(e, 3, 1).some((m) => m.type === 'PROPOSAL'),
    'the learner is in the forwarding set from the sync on',
  );
  e.peer(1).autoFsync = true;
  assert.ok(e.runUntil(() => e.acked.has(w) && e.stable() && e.peer(1).serving));
  const acks = sentBy(e, 1, 3).filter((m) => m.type === 'ACK');
  assert.ok(acks.length >= 2 && newLeaderAck(acks[0]!), `NEWLEADER ACK comes first: ${acks.map((m) => m.type === 'ACK' && zxidStr(m.zxid)).join(' ')}`);
  converge(e, [1], 'k', 'during-sync');
  assert.equal(e.peer(3).role, 'LEADING', 'the leader did not give up on the learner');
  assert.notEqual(
    caught(() => {
      const m = new ScriptedEnsemble({ voters: 3, mutations: ['forwardAfterNewLeaderAck'] });
      m.start(2);
      m.start(3);
      settle(m);
      commit(m, 3, 'k', 'before');
      m.peer(1).autoFsync = false;
      m.start(1);
      m.settle((x) => !(x.to === 1 && x.ev.type === 'message' && x.ev.msg.type === 'UPTODATE'));
      m.write(3, 'k', 'during-sync');
      m.peer(1).autoFsync = true;
      m.runUntil(() => m.stable() && m.peer(1).serving);
      for (let i = 0; i < 3; i++) commit(m, 3, 'k', `after${i}`);
      converge(m, [1, 2, 3], 'k', 'after2');
    }),
    'none',
    'the mutant that forwards only after the NEWLEADER ACK is caught',
  );
});

test('ZOOKEEPER-4785: any interleaving of sync packets, fsyncs and a crash loses nothing', () => {
  for (let cut = 0; cut < 14; cut++) {
    const e = new ScriptedEnsemble({ voters: 3 });
    e.start(2);
    e.start(3);
    settle(e);
    for (let i = 0; i < 3; i++) commit(e, 3, 'k', `v${i}`);
    e.peer(1).autoFsync = false;
    e.start(1);
    let n = 0;
    while (n < cut && e.stepOnce()) {
      n++;
      if (n % 3 === 0) e.fsync(1);
    }
    if (cut % 2 === 0) e.crash(1, cut % 4);
    e.peer(1).autoFsync = true;
    if (e.peer(1).core === null) e.start(1);
    assert.ok(
      e.runUntil(() => e.stable() && e.peer(1).serving),
      `cut ${cut}`,
    );
    commit(e, 3, 'k', 'final');
    converge(e, [1, 2, 3], 'k', 'final');
  }
});

test('ZOOKEEPER-4925: a follower that synced during broadcast and then leads has no holes', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  e.start(2);
  e.start(3);
  settle(e);
  commit(e, 3, 'k', 'a');
  e.start(1);
  // Proposals keep flowing while 1 syncs.
  for (let i = 0; i < 4; i++) {
    e.write(3, 'k', `b${i}`);
    e.stepOnce();
    e.stepOnce();
  }
  assert.ok(e.runUntil(() => e.stable() && e.peer(1).serving));
  assertContiguous(e);
  e.crash(3);
  e.crash(2);
  e.start(2);
  assert.ok(
    e.runUntil(() => e.stable()),
    'new leader from 1 and 2',
  );
  assertContiguous(e);
  commit(e, e.leader()!, 'k', 'c');
  converge(e, [1, 2], 'k', 'c');
});

test('spec issue 2: a redundant PROPOSAL is tolerated', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  [1, 2, 3].forEach((s) => e.start(s));
  settle(e);
  commit(e, 3, 'k', 'x');
  const t = e.peer(1).core!.log[e.peer(1).core!.log.length - 1]!;
  const before = e.peer(1).core!.log.length;
  e.inject(3, 1, { type: 'PROPOSAL', zxid: t.zxid, data: t.data });
  e.settle();
  assert.equal(e.peer(1).core!.log.length, before);
  assert.equal(e.peer(1).role, 'FOLLOWING');
  commit(e, 3, 'k', 'y');
  converge(e, [1], 'k', 'y');
});

test('spec issue 3: the sync ends with the leader’s latest committed zxid, covering what the learner already held', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  [1, 2, 3].forEach((s) => e.start(s));
  settle(e);
  commit(e, 3, 'k', 'held');
  // Peer 1 restarts: its tree is its (empty) snapshot; 'held' is only in its log.
  e.crash(1);
  e.start(1);
  assert.equal(e.read(1, 'k'), '');
  assert.ok(e.runUntil(() => e.stable() && e.peer(1).serving));
  const commits = sentBy(e, 3, 1).filter((m) => m.type === 'COMMIT');
  assert.ok(commits.length > 0, 'a COMMIT carries the committed point');
  assert.equal(e.read(1, 'k'), 'held');
});

test('sync is answered only by a leader a quorum still follows (a paused, deposed leader cannot)', () => {
  const run = (mutations: Mutation[]): { synced: number; value: string } => {
    const e = new ScriptedEnsemble({ voters: 3, mutations });
    [1, 2, 3].forEach((s) => e.start(s));
    settle(e);
    e.freeze(3);
    e.isolate(3);
    assert.ok(
      e.runUntil(() => e.leader() === 2),
      'a new leader while 3 is paused',
    );
    commit(e, 2, 'k', 'new');
    e.freeze(3, false); // 3 wakes up still believing it leads, before its syncLimit runs out
    e.sync(3);
    e.settle();
    return { synced: e.syncsDone.get(3) ?? 0, value: e.read(3, 'k') };
  };
  assert.deepEqual(run([]), { synced: 0, value: '' }, 'the sync waits (and times out for the client)');
  const z = run(['syncWithoutQuorum']);
  assert.equal(z.synced, 1);
  assert.notEqual(z.value, 'new', 'the mutant answers sync from stale state: what the reads checker flags');
});
