/**
 * Dynamic reconfiguration in the ZAB core (src/zab/reconfig.ts), scripted on hand-driven cores
 * under the simulator's checkers (durability counted on the committed config's voters): a
 * reconfig commits only on a quorum of both the old and the new config, then the new config is
 * in force everywhere; a learner whose role changes rejoins in its new role; a leader the reconfig
 * removes steps down and the new config elects.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedEnsemble } from '../../src/sim/script.js';
import { CONFIG_KEY } from '../../src/sim/machine.js';
import { Violation } from '../../src/sim/checkers.js';
import type { Mutation } from '../../src/zab/state.js';

function settle(e: ScriptedEnsemble, what = 'ensemble settles'): void {
  assert.ok(
    e.runUntil(() => e.stable()),
    what,
  );
}
function commits(e: ScriptedEnsemble, w: string, what: string, ticks = 400): void {
  assert.ok(
    e.runUntil(() => e.acked.has(w), ticks),
    what,
  );
}
function voters(e: ScriptedEnsemble, sid: number): number[] {
  return e.peer(sid).core!.quorum.voters.map(Number);
}
function leader(e: ScriptedEnsemble): number {
  const l = e.leader();
  assert.ok(l !== null, 'a leader');
  return l;
}

test('an observer made a voter: it rejoins as a follower, and commits then need a quorum of four', () => {
  const e = new ScriptedEnsemble({ voters: 3, observers: 1, reconfig: {} });
  for (const sid of [1, 2, 3, 4]) e.start(sid);
  settle(e);
  commits(e, e.write(leader(e), 'k', 'a'), 'a write before');
  const l = leader(e);
  commits(e, e.reconfig(l, { voters: [1, 2, 3, 4], observers: [] }), 'the reconfig commits');
  assert.ok(
    e.runUntil(() => e.peer(4).role === 'FOLLOWING' && e.peer(4).serving),
    'peer 4 follows',
  );
  for (const sid of [1, 2, 3, 4]) assert.deepEqual(voters(e, sid), [1, 2, 3, 4], `peer ${sid}'s config`);
  // Leader and peer 4 alone are 2 of 4: no commit (under the old config they would be 2 of 3 with a third).
  const others = [1, 2, 3].filter((s) => s !== l);
  for (const s of others) e.crash(s);
  const stuck = e.write(l, 'k', 'b');
  assert.ok(!e.runUntil(() => e.acked.has(stuck), 100), 'no commit on 2 of 4 voters');
  e.start(others[0]!);
  settle(e, 'three of four elect');
  commits(e, e.write(leader(e), 'k', 'c'), 'a write on 3 of 4');
});

/** Peers 4 and 5 join as ZooKeeper's joiners do: started with the members plus themselves as voters. */
function withJoiners(mutations: Mutation[] = []): ScriptedEnsemble {
  const e = new ScriptedEnsemble({
    voters: 3,
    observers: 2,
    mutations,
    reconfig: { ownView: (sid) => (sid >= 4 ? { voters: [1, 2, 3, 4, 5], observers: [] } : { voters: [1, 2, 3], observers: [] }) },
  });
  for (const sid of [1, 2, 3, 4, 5]) e.start(sid);
  settle(e);
  return e;
}

test('while a reconfig is in flight it needs a quorum of the new config too', () => {
  const e = withJoiners();
  assert.equal(e.peer(4).role, 'FOLLOWING', 'a joiner follows (non-voting) before it is added');
  const l = leader(e);
  const old = [1, 2, 3].filter((s) => s !== l);
  // The new config: the leader and the two joiners vote; the old voters observe.
  for (const sid of [4, 5]) e.isolate(sid);
  const r = e.reconfig(l, { voters: [l, 4, 5], observers: old });
  assert.ok(!e.runUntil(() => e.acked.has(r), 60), 'not committed on the old quorum alone');
  assert.ok(e.peer(l).core!.lastSeenZxid > e.peer(l).core!.quorumZxid, 'the leader has it as last seen');
  for (const sid of [4, 5]) e.isolate(sid, false);
  e.dropBlocked();
  commits(e, r, 'committed once the joiners ack');
  assert.ok(
    e.runUntil(() => [4, 5].every((s) => e.peer(s).core?.quorumZxid === e.peer(l).core!.quorumZxid)),
    'the joiners have the new config in force',
  );
  assert.ok(
    e.runUntil(() => e.stable() && old.every((s) => e.peer(s).role === 'OBSERVING')),
    'the old voters rejoin as observers',
  );
  // The old voters no longer count: the new ones commit without them.
  for (const s of old) e.crash(s);
  commits(e, e.write(leader(e), 'k', 'after'), 'a write on the new config alone');
  assert.equal(e.read(4, CONFIG_KEY), JSON.stringify({ voters: [l, 4, 5], observers: old }));
});

test('mutant reconfigOldQuorumOnly (the old quorum alone commits a reconfig) is caught by the durability checker', () => {
  const e = withJoiners(['reconfigOldQuorumOnly']);
  const l = leader(e);
  for (const sid of [4, 5]) e.isolate(sid);
  const r = e.reconfig(l, { voters: [l, 4, 5], observers: [1, 2, 3].filter((s) => s !== l) });
  assert.throws(
    () => e.runUntil(() => e.acked.has(r), 60),
    (err: unknown) => err instanceof Violation && err.checker === 'durability',
  );
});

test('removing the leader: it steps down at the commit and the new config elects one of its voters', () => {
  const e = new ScriptedEnsemble({
    voters: 3,
    observers: 1,
    reconfig: { ownView: (sid) => (sid === 4 ? { voters: [1, 2, 3, 4], observers: [] } : undefined) },
  });
  for (const sid of [1, 2, 3, 4]) e.start(sid);
  settle(e);
  const l = leader(e);
  const stay = [1, 2, 3, 4].filter((s) => s !== l);
  commits(e, e.reconfig(l, { voters: stay, observers: [] }), 'the reconfig removing the leader commits');
  assert.ok(
    e.runUntil(() => e.stable() && leader(e) !== l),
    'a new leader among the remaining voters',
  );
  assert.ok(stay.includes(leader(e)));
  commits(e, e.write(leader(e), 'k', 'x'), 'writes commit under the new leader');
  for (const s of stay) assert.deepEqual(voters(e, s), stay, `peer ${s}'s config`);
});

test('a member down during a reconfig takes the new config from its peers when it comes back (and keeps it across a restart)', () => {
  const e = new ScriptedEnsemble({ voters: 3, observers: 1, reconfig: {} });
  for (const sid of [1, 2, 3, 4]) e.start(sid);
  settle(e);
  const l = leader(e);
  const [other, down] = [1, 2, 3].filter((s) => s !== l) as [number, number];
  e.crash(down);
  // `down` becomes an observer, 4 a voter; the old quorum (l, other) and the new one (l, other) ack.
  commits(e, e.reconfig(l, { voters: [l, other, 4], observers: [down] }), 'the reconfig commits without the member that is down');
  commits(e, e.write(l, 'k', 'v'), 'a write after');
  e.start(down);
  assert.ok(
    e.runUntil(() => e.stable() && e.peer(down).role === 'OBSERVING'),
    'it rejoins as an observer',
  );
  assert.equal(e.peer(down).core!.quorumZxid, e.peer(l).core!.quorumZxid);
  e.crash(down);
  e.start(down);
  assert.equal(e.peer(down).core!.quorumZxid, e.peer(l).core!.quorumZxid, 'its config survives a restart (persistConfig)');
  assert.ok(
    e.runUntil(() => e.stable() && e.peer(down).role === 'OBSERVING' && e.read(down, 'k') === 'v'),
    'and it observes again',
  );
});

test('removing the leader: its COMMITANDACTIVATE names the next leader, which leads at once (no election among the rest)', () => {
  const e = new ScriptedEnsemble({ voters: 4, observers: 0, reconfig: {} });
  for (const sid of [1, 2, 3, 4]) e.start(sid);
  settle(e);
  const l = leader(e);
  const stay = [1, 2, 3, 4].filter((s) => s !== l);
  const before = e.sent.length;
  commits(e, e.reconfig(l, { voters: stay, observers: [l] }), 'the reconfig removing the leader commits');
  assert.ok(
    e.runUntil(() => e.stable() && leader(e) !== l),
    'a new leader among the remaining voters',
  );
  const named = e.sent
    .slice(before)
    .flatMap((s) => (s.from === l && s.msg.type === 'COMMIT' && s.msg.designatedLeader !== undefined ? [Number(s.msg.designatedLeader)] : []));
  assert.ok(named.length > 0, 'the commit of the reconfig names a leader');
  assert.ok(
    named.every((d) => d === named[0]),
    'one designated leader',
  );
  assert.equal(leader(e), named[0]);
  const looking = e.sent.slice(before).filter((s) => stay.includes(s.from) && s.msg.type === 'NOTIFICATION' && s.msg.state === 'LOOKING');
  assert.deepEqual(looking, [], 'the remaining voters never went LOOKING');
  commits(e, e.write(leader(e), 'k', 'x'), 'writes commit under the designated leader');
});
