/**
 * tszk/testing's TestingCluster: 3 real tszk peer processes over loopback. kill -9 of the leader
 * under a writer loses no acknowledged write and the killed member catches up on restart; a
 * member cut off by partition() stops serving while the rest commit, and catches up after heal();
 * expireSession on a cluster client ends its session everywhere. Bad arguments fail clearly.
 */
import { waitFor } from '../support/wait.js';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, afterEach, before, test } from 'node:test';
import { CreateMode, Err, EventType, KeeperError, ZooKeeperClient, type WatchedEvent } from '../../src/client/index.js';
import { expireSession, TestingCluster, type ClusterMember, type MemberRole } from '../../src/testing/index.js';

let cluster: TestingCluster;
/** Clients a test opened: closed after it even when it fails, so none keeps reconnecting. */
const clients = new Set<ZooKeeperClient>();

before(async () => {
  cluster = await TestingCluster.start({ size: 3 });
});
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
});
after(async () => {
  await cluster?.close();
});

async function connect(connectString: string, connectWait_ms?: number): Promise<ZooKeeperClient> {
  const zk = new ZooKeeperClient(connectString, { sessionTimeout_ms: 6000, connectWait_ms });
  clients.add(zk);
  await zk.connected();
  return zk;
}

function until<T>(what: string, f: () => Promise<T | undefined>, timeout_ms = 30_000): Promise<T> {
  return waitFor(what, f, timeout_ms, 100);
}

/** Reads through `m` alone, after sync, until `path` has `data` (the member is serving and caught up). */
async function caughtUp(m: ClusterMember, path: string, data: string): Promise<ZooKeeperClient> {
  return until(`member ${m.id} to serve ${path}=${data}`, async () => {
    const zk = await connect(m.connectString, 2000);
    try {
      await zk.sync(path);
      if ((await zk.getData(path)).data?.toString() === data) return zk;
    } catch {
      /* not serving yet, or not there yet */
    }
    await zk.close();
    return undefined;
  });
}

async function roles(): Promise<MemberRole[]> {
  return Promise.all(cluster.members.map((m) => m.role()));
}

test('three members: one leader, two followers, a connect string over all of them', async () => {
  assert.deepEqual((await roles()).sort(), ['follower', 'follower', 'leader']);
  const leader = await cluster.leader();
  assert.equal(await leader.role(), 'leader');
  assert.equal(cluster.connectString, cluster.members.map((m) => m.connectString).join(','));
});

test('kill -9 of the leader under a writer: every acknowledged write survives, and the killed member catches up on restart', async () => {
  const leader = await cluster.leader();
  const zk = await connect(cluster.connectString);
  await zk.create('/acked', null);
  const acked: string[] = [];
  let killedAt = -1;
  const deadline = Date.now() + 60_000;
  for (let i = 0; acked.length < killedAt + 40 || killedAt < 0; i++) {
    if (Date.now() > deadline) assert.fail(`only ${acked.length - killedAt} writes acknowledged in 60 s after the leader was killed`);
    if (i === 30) {
      killedAt = acked.length;
      await cluster.kill(leader.id);
      assert.equal(leader.running, false);
      assert.equal(await leader.role(), 'down');
    }
    try {
      acked.push(await zk.create(`/acked/n${String(i).padStart(4, '0')}`, `v${i}`));
    } catch (e) {
      // Unacknowledged across the fail-over: it may or may not have committed.
      if (!(e instanceof KeeperError) || e.code !== Err.ConnectionLoss) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const newLeader = await cluster.leader();
  assert.notEqual(newLeader.id, leader.id);
  await zk.close();

  await cluster.restart(leader.id);
  const last = acked.at(-1)!;
  for (const m of cluster.members) {
    const r = await caughtUp(m, last, `v${Number(last.slice(-4))}`);
    const children = new Set((await r.getChildren('/acked')).map((c) => `/acked/${c}`));
    for (const p of acked) assert.ok(children.has(p), `member ${m.id} lost acknowledged ${p}`);
    await r.close();
  }
});

test('a partition cuts one member off: it stops serving while the others commit; after heal it catches up', async () => {
  const leader = await cluster.leader();
  const others = cluster.members.filter((m) => m.id !== leader.id).map((m) => m.id);
  const onCutOff = await connect(leader.connectString);
  await onCutOff.create('/before-cut', 'b');

  cluster.partition([leader.id], others);
  await until(`member ${leader.id} to stop serving`, async () => ((await leader.role()) === 'looking' ? true : undefined));
  const newLeader = await cluster.leader();
  assert.ok(others.includes(newLeader.id));
  const majority = await connect(others.map((id) => cluster.members[id - 1]!.connectString).join(','));
  await majority.create('/during-cut', 'd');
  await majority.setData('/before-cut', 'changed');
  // The cut-off member does not serve clients: its connection is gone and a new one is refused.
  await assert.rejects(connect(leader.connectString, 1000), (e: unknown) => e instanceof KeeperError && e.code === Err.ConnectionLoss);

  cluster.heal();
  const r = await caughtUp(leader, '/before-cut', 'changed');
  assert.equal((await r.getData('/during-cut')).data?.toString(), 'd');
  await r.close();
  await majority.close();
  await onCutOff.close();
  assert.equal((await roles()).filter((x) => x === 'leader').length, 1);
});

test('a follower killed and restarted catches up with what was written meanwhile', async () => {
  const leader = await cluster.leader();
  const follower = cluster.members.find((m) => m.id !== leader.id)!;
  await cluster.kill(follower.id);
  await cluster.kill(follower.id); // a member already down stays down
  const zk = await connect(leader.connectString);
  for (let i = 0; i < 20; i++) await zk.create(`/while-down-${i}`, `w${i}`);
  await zk.close();
  await cluster.restart(follower.id);
  const r = await caughtUp(follower, '/while-down-19', 'w19');
  assert.equal((await r.getData('/while-down-0')).data?.toString(), 'w0');
  await r.close();
});

test('expireSession: a cluster client sees Expired and its ephemerals vanish on every member', async () => {
  const zk = await connect(cluster.connectString);
  const watcher = await connect(cluster.members[0]!.connectString);
  await zk.create('/session-eph', 'e', { mode: CreateMode.EPHEMERAL });
  await watcher.sync('/session-eph');
  const deleted = new Promise<WatchedEvent>((resolve) => void watcher.exists('/session-eph', resolve));
  await expireSession(zk);
  assert.equal(zk.state, 'expired');
  assert.equal((await deleted).type, EventType.NodeDeleted);
  for (const m of cluster.members) {
    const r = await connect(m.connectString);
    await r.sync('/session-eph');
    assert.equal(await r.exists('/session-eph'), null, `member ${m.id}`);
    await r.close();
  }
  await watcher.close();
  await zk.close();
});

test('bad arguments are refused with the problem named', async () => {
  await assert.rejects(cluster.kill(4), /no member 4: members are 1, 2, 3/);
  await assert.rejects(cluster.restart(0), /no member 0/);
  await assert.rejects(cluster.restart(1), /member 1 is running/);
  assert.throws(() => cluster.partition([1, 2], [2, 3]), /member 2 in both groups/);
  assert.throws(() => cluster.partition([], [1]), /empty/);
  assert.throws(() => cluster.partition([1], [7]), /no member 7/);
  await assert.rejects(TestingCluster.start({ size: 0 }), /size must be an integer 1\.\.15, got 0/);
  await assert.rejects(TestingCluster.start({ size: 3, observers: 3 }), /at least one voting member/);
});

test('observers and close(): an observer member serves reads; close() kills every member and removes the data', async () => {
  const c = await TestingCluster.start({ size: 3, observers: 1 });
  const dirs = c.members.map((m) => m.dataDir);
  try {
    assert.equal(await c.members[2]!.role(), 'observer');
    assert.deepEqual((await Promise.all(c.members.slice(0, 2).map((m) => m.role()))).sort(), ['follower', 'leader']);
    const zk = await connect(c.members[2]!.connectString);
    await zk.create('/via-observer', 'o');
    assert.equal((await zk.getData('/via-observer')).data?.toString(), 'o');
    await zk.close();
  } finally {
    await c.close();
  }
  assert.deepEqual(await Promise.all(c.members.map((m) => m.role())), ['down', 'down', 'down']);
  for (const d of dirs) assert.equal(fs.existsSync(d), false);
  assert.throws(() => c.heal(), /closed/);
});
