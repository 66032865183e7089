/**
 * zxid rollover on a 3-member ensemble of real processes, with the counter cut short by the
 * test-only TSZK_TEST_ZXID_COUNTER_MAX (the real limit is ZooKeeper's 0xfffffffe):
 * - by default a leader whose counter is spent steps down and an election starts a new epoch, as
 *   ZooKeeper's Leader.propose does (XidRolloverException);
 * - with tszk.zxidRolloverWithoutElection=true the leader moves the ensemble to the next epoch in
 *   place: writes cross several rollovers, every one acknowledged, with the same leader, no
 *   member looking for a leader, and no client losing its connection or session.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { Err, KeeperError } from '../../src/proto/errors.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';

const COUNTER_MAX = 20;
const epochOf = (z: bigint): bigint => z >> 32n;
const counterOf = (z: bigint): bigint => z & 0xffffffffn;

/** Elections each member started, from its log (one at start-up). */
function lookings(ens: Ensemble): number[] {
  return ens.members.map(
    (m) =>
      fs
        .readFileSync(m.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('LOOKING: starting leader election')).length,
  );
}

/** Writes `n` times to `path` through `zk`, each acknowledged; returns the zxid each write got. */
async function writes(zk: ZooKeeperClient, path: string, n: number, retry: boolean): Promise<bigint[]> {
  const zxids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    for (;;) {
      try {
        zxids.push((await zk.setData(path, `v${i}`)).mzxid);
        break;
      } catch (e) {
        // Only the default's election may cost a connection (the write is then done again).
        if (!retry || !(e instanceof KeeperError) || e.code !== Err.ConnectionLoss) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  return zxids;
}

test('with tszk.zxidRolloverWithoutElection the leader moves to the next epoch in place: no election, no client disconnected', async () => {
  const ens = await startEnsemble(3, {
    cfg: { 'tszk.zxidRolloverWithoutElection': 'true' },
    env: { TSZK_TEST_ZXID_COUNTER_MAX: String(COUNTER_MAX) },
  });
  const clients: ZooKeeperClient[] = [];
  try {
    const leader = await ens.waitForLeader();
    const follower = ens.members.find((m) => m.id !== leader.id)!;
    const before = lookings(ens);
    // One writer on the leader (its writes wait in the runtime) and one on a follower (forwarded:
    // they wait in the leader's core) while the counter is spent.
    for (const m of [leader, follower]) clients.push(await ZooKeeperClient.connect(m.connectString, { sessionTimeout_ms: 6000 }));
    const states: number[] = [];
    for (const c of clients) c.onState((s) => states.push(s));
    const sessions = clients.map((c) => c.sessionId);
    await clients[0]!.create('/a', 'x');
    await clients[1]!.create('/b', 'x');
    const [za, zb] = await Promise.all([writes(clients[0]!, '/a', 60, false), writes(clients[1]!, '/b', 60, false)]);
    const all = [...za, ...zb].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    const epochs = new Set(all.map(epochOf));
    assert.ok(epochs.size >= 4, `writes crossed ${epochs.size - 1} rollovers`);
    for (const z of all) assert.ok(counterOf(z) >= 1n && counterOf(z) <= BigInt(COUNTER_MAX), `zxid 0x${z.toString(16)}`);
    for (const zs of [za, zb]) for (let i = 1; i < zs.length; i++) assert.ok(zs[i]! > zs[i - 1]!, 'each writer’s zxids grow');
    assert.deepEqual(lookings(ens), before, 'no member looked for a leader');
    assert.equal((await ens.waitForLeader()).id, leader.id);
    assert.deepEqual(states, [], 'no client saw a state change (disconnect, expiry)');
    assert.deepEqual(
      clients.map((c) => c.sessionId),
      sessions,
    );
    // Every member's srvr shows the newest epoch, and the leader logged each move.
    const newest = epochOf(all[all.length - 1]!);
    for (const m of ens.members) {
      const c = await ZooKeeperClient.connect(m.connectString, { sessionTimeout_ms: 6000 });
      await c.sync('/a');
      await c.close();
      assert.equal(epochOf((await m.status()).zxid!), newest, `member ${m.id}`);
    }
    const moved = fs
      .readFileSync(leader.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('moved to epoch')).length;
    assert.ok(moved >= epochs.size - 1, `the leader logged ${moved} moves`);
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    await ens.stop();
  }
});

test('by default a spent zxid counter forces an election and a new epoch, as in ZooKeeper', async () => {
  const ens = await startEnsemble(3, { env: { TSZK_TEST_ZXID_COUNTER_MAX: String(COUNTER_MAX) } });
  let zk: ZooKeeperClient | undefined;
  try {
    await ens.waitForLeader();
    const before = lookings(ens);
    zk = await ZooKeeperClient.connect(ens.connectString, { sessionTimeout_ms: 6000 });
    await zk.create('/a', 'x');
    const zs = await writes(zk, '/a', COUNTER_MAX + 5, true);
    assert.ok(new Set(zs.map(epochOf)).size >= 2, 'a new epoch began');
    for (const z of zs) assert.ok(counterOf(z) <= BigInt(COUNTER_MAX));
    const after = lookings(ens);
    assert.ok(
      after.every((n, i) => n > before[i]!),
      `every member looked for a leader again (${before} -> ${after})`,
    );
  } finally {
    await zk?.close().catch(() => {});
    await ens.stop();
  }
});
