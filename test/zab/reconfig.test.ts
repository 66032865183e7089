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
import { CONFIG_KEY, type Membership } from '../../src/sim/machine.js';
import { Violation } from '../../src/sim/checkers.js';
import type { Event, Mutation } from '../../src/zab/state.js';

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
  const e = new ScriptedEnsemble({ voters: 3, observers: 1, reconfig: true });
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
    reconfig: true,
    ownView: (sid) => (sid >= 4 ? { voters: [1, 2, 3, 4, 5], observers: [] } : { voters: [1, 2, 3], observers: [] }),
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
    reconfig: true,
    ownView: (sid) => (sid === 4 ? { voters: [1, 2, 3, 4], observers: [] } : undefined),
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
  const e = new ScriptedEnsemble({ voters: 3, observers: 1, reconfig: true });
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
  const e = new ScriptedEnsemble({ voters: 4, observers: 0, reconfig: true });
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

// ---- ZooKeeper's reconfig bugs, replayed on tszk's core (src/zab/README.md, "ZooKeeper's reconfig bugs") ----

function isAck(from: number, to: number): (m: { from: number; to: number; ev: Event }) => boolean {
  return (m) => !(m.from === from && m.to === to && m.ev.type === 'message' && m.ev.msg.type === 'ACK');
}

test('ZOOKEEPER-2172: the reconfig adding a joiner commits between its NEWLEADER and UPTODATE; it is in force there at UPTODATE and after restarts', () => {
  const e = new ScriptedEnsemble({
    voters: 3,
    observers: 1,
    reconfig: true,
    ownView: (sid) => (sid === 4 ? { voters: [1, 2, 3, 4], observers: [] } : { voters: [1, 2, 3], observers: [] }),
  });
  for (const sid of [1, 2, 3]) e.start(sid);
  settle(e);
  const l = leader(e);
  commits(e, e.write(l, 'k', 'before'), 'a write before');
  // The joiner's ACKs (NEWLEADER's first) are held back, so the leader cannot send it UPTODATE yet.
  e.start(4);
  e.settle(isAck(4, l));
  const j = e.peer(4);
  assert.ok(j.core!.role.role === 'FOLLOWING' && j.core!.role.newLeaderPending !== null, 'the joiner got NEWLEADER');
  const r = e.reconfig(l, { voters: [1, 2, 3, 4], observers: [] });
  e.settle(isAck(4, l));
  assert.ok(e.acked.has(r), 'the reconfig adding it commits on the old members (a quorum of both configs)');
  const rz = e.acked.get(r)!.zxid;
  const toJoiner = e.sent.filter((s) => s.to === 4).map((s) => s.msg.type);
  assert.deepEqual(
    toJoiner.slice(toJoiner.indexOf('NEWLEADER')),
    ['NEWLEADER', 'PROPOSAL', 'COMMIT'],
    'NEWLEADER, the reconfig PROPOSAL and its COMMIT, no UPTODATE yet',
  );
  assert.equal(j.core!.quorumZxid, 0n, 'not in force before UPTODATE');
  e.settle();
  assert.ok(j.serving, 'the joiner serves after UPTODATE');
  assert.equal(j.core!.quorumZxid, rz, 'the reconfig is in force at the joiner');
  assert.equal(j.disk.config?.zxid, rz, 'and persisted (ZooKeeper: its dynamic file; the bug left zoo.cfg.dynamic.next behind)');
  assert.deepEqual(voters(e, 4), [1, 2, 3, 4]);
  // Its vote counts: the leader, one old member and the joiner are 3 of 4.
  const down = [1, 2, 3].find((s) => s !== l)!;
  e.crash(down);
  commits(e, e.write(l, 'k', 'with the joiner'), 'a write on 3 of 4 voters, the joiner among them');
  // The whole ensemble restarts (ZooKeeper's crashed here): one config, nothing lost.
  for (const sid of [1, 2, 3, 4]) if (sid !== down) e.crash(sid);
  for (const sid of [1, 2, 3, 4]) e.start(sid);
  settle(e, 'the restarted ensemble elects');
  for (const sid of [1, 2, 3, 4]) assert.equal(e.peer(sid).core!.quorumZxid, rz, `peer ${sid} is in the config that added the joiner`);
  commits(e, e.write(leader(e), 'k', 'after'), 'writes commit after the restart');
  assert.ok(
    e.runUntil(() => [1, 2, 3, 4].every((s) => e.read(s, 'k') === 'after')),
    'every member has every write',
  );
});

test('ZOOKEEPER-2847: a new client port is in force on every member (leader included) exactly when its reconfig commits there, never at the proposal', () => {
  const e = new ScriptedEnsemble({ voters: 3, observers: 1, reconfig: true });
  for (const sid of [1, 2, 3, 4]) e.start(sid);
  settle(e);
  const l = leader(e);
  const members = { voters: [1, 2, 3], observers: [4] };
  const inForce = (r: string): boolean => [1, 2, 3, 4].every((s) => e.peer(s).core?.quorumZxid === e.acked.get(r)?.zxid);
  // The static config's ports, made a versioned config (ZOOKEEPER-2847 lost them); then the leader's port and a follower's move.
  const first = e.reconfig(l, { ...members, clientPorts: { 1: 2181, 2: 2182, 3: 2183, 4: 2184 } });
  assert.ok(
    e.runUntil(() => inForce(first)),
    'the config with the static ports is in force everywhere',
  );
  const lagging = [1, 2, 3].find((s) => s !== l)!;
  e.crash(lagging);
  const moved = { 1: 2181, 2: 2182, 3: 2183, 4: 2184, [l]: 3000 + l, [lagging]: 3000 + lagging };
  const second = e.reconfig(l, { ...members, clientPorts: moved });
  commits(e, second, 'the reconfig moving two client ports commits');
  e.start(lagging);
  assert.ok(
    e.runUntil(() => e.stable() && inForce(second)),
    'the member that was down catches up',
  );
  for (const r of [first, second]) {
    const z = e.acked.get(r)!.zxid;
    const committedAt = e.actions.findIndex((a) => a.sid === l && a.action.type === 'apply' && a.action.txn.zxid === z);
    for (const sid of [1, 2, 3, 4]) {
      const mine = e.actions.flatMap((a, i) => (a.sid === sid ? [{ i, a: a.action }] : []));
      const at = mine.flatMap((x, k) => (x.a.type === 'persistConfig' && x.a.zxid === z ? [k] : []));
      assert.equal(at.length, 1, `peer ${sid} takes config ${z} into force once`);
      assert.ok(mine[at[0]!]!.i > committedAt, `peer ${sid}: config ${z} in force only after the leader committed it`);
      if (sid === lagging && r === second) continue; // down at the commit: it took the config from its peers before it served again
      const before = mine[at[0]! - 1]?.a;
      assert.ok(before?.type === 'apply' && before.txn.zxid === z, `peer ${sid}: config ${z} in force in the step that applies it, right after`);
    }
  }
  const z = e.acked.get(second)!.zxid;
  for (const sid of [1, 2, 3, 4]) {
    const c = e.peer(sid).disk.config!;
    assert.equal(c.zxid, z);
    const ports = (JSON.parse(JSON.parse(c.data.toString()).value) as Membership).clientPorts;
    assert.deepEqual(ports, JSON.parse(JSON.stringify(moved)), `peer ${sid} keeps the new ports`);
  }
  commits(e, e.write(l, 'k', 'after'), 'writes commit in the new config');
  assert.ok(
    e.runUntil(() => [1, 2, 3, 4].every((s) => e.read(s, 'k') === 'after')),
    'every member has every write',
  );
});

test('ZOOKEEPER-3829/3830/3842: rolling restarts from 3 to 4 members with reconfig off leave a leader that commits (the new member too), and no config spreads', () => {
  const e = new ScriptedEnsemble({ voters: 3, observers: 1, ownView: (sid) => ({ voters: sid === 4 ? [1, 2, 3, 4] : [1, 2, 3], observers: [] }) });
  for (const sid of [1, 2, 3]) e.start(sid);
  settle(e);
  commits(e, e.write(leader(e), 'k', 'three'), 'a write on the first three');
  e.start(4);
  assert.ok(
    e.runUntil(() => e.stable() && e.peer(4).serving),
    'server 4, started with 1-4, follows',
  );
  commits(e, e.write(leader(e), 'k', 'four'), 'a write with server 4 up');
  for (const sid of [1, 2, 3]) {
    e.restart(sid, { voters: [1, 2, 3, 4], observers: [] });
    settle(e, `the ensemble settles after restarting ${sid} with 1-4`);
    commits(e, e.write(leader(e), 'k', `restarted ${sid}`), `a write after restarting ${sid}`);
  }
  // ZooKeeper's worst case: the new member leads and cannot commit. Make it lead.
  for (let i = 0; i < 4 && leader(e) !== 4; i++) {
    e.restart(leader(e));
    settle(e, 'a new election');
  }
  assert.equal(leader(e), 4, 'server 4 leads');
  commits(e, e.write(4, 'k', 'under 4'), 'server 4 commits as leader');
  for (const sid of [1, 2, 3, 4]) assert.deepEqual(voters(e, sid), [1, 2, 3, 4], `peer ${sid} has its own static config`);
  // 3 of 4 commit; 2 of 4 do not.
  e.crash(1);
  commits(e, e.write(4, 'k', 'on three'), 'a write on 3 of 4');
  assert.ok(
    e.runUntil(() => [2, 3, 4].every((s) => e.read(s, 'k') === 'on three')),
    'every live member has every write',
  );
  e.crash(2);
  const stuck = e.write(4, 'k', 'on two');
  assert.ok(!e.runUntil(() => e.acked.has(stuck), 100), 'no commit on 2 of 4');
  // Reconfig off: nothing carried or took a config (ZOOKEEPER-3829's fix: neither the committed nor the last-seen config changes).
  assert.deepEqual(
    e.sent.filter((s) => (s.msg.type === 'NEWLEADER' || s.msg.type === 'NOTIFICATION') && s.msg.config !== undefined),
    [],
    'no NEWLEADER or notification carries a config',
  );
  assert.deepEqual(
    e.actions.filter((a) => a.action.type === 'persistConfig'),
    [],
    'no member took a config from another',
  );
});

test('ZOOKEEPER-3814: a member replaced by rolling restarts with reconfig off; once the others restart without it nobody contacts it again', () => {
  const e = new ScriptedEnsemble({
    voters: 3,
    observers: 1,
    ownView: (sid) => (sid === 4 ? { voters: [1, 2, 4], observers: [] } : { voters: [1, 2, 3], observers: [] }),
  });
  for (const sid of [1, 2, 3]) e.start(sid);
  settle(e);
  commits(e, e.write(leader(e), 'k', 'before'), 'a write before');
  // Server 3's host is replaced by server 4 (started with 1, 2, 4); 1 and 2 restart with the same.
  e.crash(3);
  e.start(4);
  assert.ok(
    e.runUntil(() => e.stable() && e.peer(4).serving),
    'server 4 joins',
  );
  for (const sid of [1, 2]) {
    e.restart(sid, { voters: [1, 2, 4], observers: [] });
    settle(e, `the ensemble settles after restarting ${sid} with 1, 2, 4`);
  }
  const from = e.sent.length;
  for (let i = 0; i < 3; i++) {
    e.restart(leader(e));
    settle(e, 'a new election among 1, 2, 4');
    commits(e, e.write(leader(e), 'k', `round ${i}`), 'writes commit on 1, 2, 4');
  }
  assert.deepEqual(
    e.sent.filter((s) => s.from === 4 && s.to === 3),
    [],
    'server 4 never contacts the server it replaced',
  );
  assert.deepEqual(
    e.sent.slice(from).filter((s) => s.to === 3),
    [],
    'after the rolling restart nobody does',
  );
  assert.ok(
    e.runUntil(() => [1, 2, 4].every((s) => e.read(s, 'k') === 'round 2')),
    'every member has every write',
  );
});
