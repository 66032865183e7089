/**
 * PINGs a leader sends a learner before its UPTODATE get no reply (ZooKeeper's learner ignores
 * them while syncing, and so does tszk's, since a ZooKeeper leader drops a learner whose first
 * packet after NEWLEADER is a PING reply). The leader must not count them: a client sync counts
 * ping replies to decide that a quorum still follows it, and each unanswered PING counted would
 * hold every later sync for one more ping round.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedEnsemble } from '../../src/sim/script.js';

test('a learner pinged while it synced still confirms client syncs afterwards', () => {
  const e = new ScriptedEnsemble({ voters: 3 });
  for (const s of [1, 2, 3]) e.start(s);
  assert.ok(e.runUntil(() => e.stable()));
  assert.equal(e.leader(), 3);
  e.crash(1);
  const w = e.write(3, 'k', 'while 1 is down');
  assert.ok(e.runUntil(() => e.acked.has(w)));

  // Peer 1 rejoins; its sync is not durable (no fsync yet), so it cannot ACK NEWLEADER, and the
  // leader pings it meanwhile.
  const p1 = e.peer(1);
  p1.autoFsync = false;
  e.start(1);
  const sentBefore = e.sent.length;
  const pingedWhileSyncing = (): boolean =>
    e.sent.slice(sentBefore).some((m) => m.from === 3 && m.to === 1 && m.msg.type === 'PING') && !p1.sawUptodate;
  assert.ok(e.runUntil(pingedWhileSyncing, 60), 'the leader pings the syncing learner');
  assert.ok(!e.sent.slice(sentBefore).some((m) => m.from === 1 && m.msg.type === 'PING'), 'a syncing learner does not answer a PING');
  p1.autoFsync = true;
  assert.ok(e.runUntil(() => p1.sawUptodate && e.stable()));

  // Only peer 1 can confirm the leader now: peer 2's replies do not get through. Its reply to
  // the PING the sync sends must do: counting the unanswered one as well, the leader waited for
  // one more ping round (ping_ticks) per unanswered PING, on every sync, for as long as the
  // connection lasted.
  e.block(2, 3);
  e.sync(3);
  e.settle();
  assert.equal(e.syncsDone.get(3) ?? 0, 1, 'the sync completes on the reply to its own PING');
  e.block(2, 3, false);
});
