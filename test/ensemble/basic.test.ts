/**
 * A 3-member tszk ensemble of real processes: writes through one member are read from the
 * others after sync; kill -9 of the leader elects a new one and writes resume; the killed
 * member rejoins and catches up; sessions and ephemerals survive the fail-over.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fs from 'node:fs';
import { ZooKeeperClient } from '../../src/client/index.js';
import { sessionPassword } from '../../src/server/sessionIds.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { fourLetter } from '../support/ports.js';

let ens: Ensemble;

before(async () => {
  ens = await startEnsemble(3);
});
after(async () => {
  await ens?.stop();
});

async function connect(cs: string): Promise<ZooKeeperClient> {
  return ZooKeeperClient.connect(cs, { sessionTimeout_ms: 6000 });
}

test('one leader, two followers; a write through one member is read from every member after sync', async () => {
  const roles = [...(await ens.roles()).values()].sort();
  assert.deepEqual(roles, ['follower', 'follower', 'leader']);
  const modes = await ens.roles();
  const follower = ens.members.find((m) => modes.get(m.id) === 'follower')!;
  const writer = await connect(follower.connectString);
  await writer.create('/basic', 'v0');
  for (let i = 1; i <= 20; i++) await writer.setData('/basic', `v${i}`);
  await writer.create('/basic/seq-', 'x', { mode: 2 });
  for (const m of ens.members) {
    const r = await connect(m.connectString);
    await r.sync('/basic');
    const { data, stat } = await r.getData('/basic');
    assert.equal(data?.toString(), 'v20', `member ${m.id}`);
    assert.equal(stat.version, 20);
    assert.deepEqual(await r.getChildren('/basic'), ['seq-0000000000']);
    await r.close();
  }
  await writer.close();
});

test('a session whose client vanished from a follower is expired by the leader on every member', async () => {
  const modes = await ens.roles();
  const follower = ens.members.find((m) => modes.get(m.id) === 'follower')!;
  const zk = await ZooKeeperClient.connect(follower.connectString, { sessionTimeout_ms: 1000 });
  await zk.create('/gone-eph', 'e', { mode: 1 });
  // Kept alive by the follower's PING replies while the client talks to it.
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(await zk.exists('/gone-eph'));
  zk.abandon();
  const deadline = Date.now() + 10_000;
  for (const m of ens.members) {
    const c = await connect(m.connectString);
    for (;;) {
      await c.sync('/');
      if ((await c.exists('/gone-eph')) === null) break;
      assert.ok(Date.now() < deadline, `member ${m.id} still has the ephemeral of an expired session`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await c.close();
  }
});

test('a follower asks the leader (REVALIDATE) about a session it does not know', async () => {
  const modes = await ens.roles();
  const follower = ens.members.find((m) => modes.get(m.id) === 'follower')!;
  // A well-formed id and its password, but no such session: the leader says invalid.
  const bogus = (3n << 56n) | 0x12345n;
  const zk = new ZooKeeperClient(follower.connectString, { sessionTimeout_ms: 4000, sessionId: bogus, sessionPasswd: sessionPassword(bogus) });
  const deadline = Date.now() + 5000;
  while (zk.state !== 'expired' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(zk.state, 'expired');
  await zk.close().catch(() => undefined);
  const log = fs.readFileSync(ens.members.find((m) => modes.get(m.id) === 'leader')!.logFile, 'utf8');
  assert.match(log, /revalidated a session for a learner/);
});

test('a session resumed through another follower has moved: a write through the old one is refused', async () => {
  const modes = await ens.roles();
  const [a, b] = ens.members.filter((m) => modes.get(m.id) === 'follower');
  const first = await ZooKeeperClient.connect(a!.connectString, { sessionTimeout_ms: 6000 });
  await first.create('/moved-check', 'x');
  const second = await ZooKeeperClient.connect(b!.connectString, { sessionTimeout_ms: 6000, sessionId: first.sessionId, sessionPasswd: first.sessionPasswd });
  assert.equal(second.sessionId, first.sessionId);
  await second.setData('/moved-check', 'via b');
  // The old connection through A: the leader says SESSIONMOVED; A drops the connection, nothing is written.
  await assert.rejects(first.setData('/moved-check', 'via a'));
  await second.sync('/');
  assert.equal((await second.getData('/moved-check')).data?.toString(), 'via b');
  first.abandon();
  await second.close();
});

test('kill -9 of the leader: a new leader is elected, writes resume, the old leader rejoins', async () => {
  const leader = await ens.waitForLeader();
  const others = ens.members.filter((m) => m !== leader);
  const zk = await connect(others.map((m) => m.connectString).join(','));
  await zk.create('/failover', 'before');
  await zk.create('/failover-eph', 'e', { mode: 1 });
  const sessionId = zk.sessionId;
  const killed_ms = Date.now();
  await leader.kill('SIGKILL');
  const next = await ens.waitForLeader({ exclude: [leader.id] });
  assert.notEqual(next.id, leader.id);
  // Writes resume (the client reconnects on its own if its member restarted serving).
  let written = false;
  for (let i = 0; i < 100 && !written; i++) {
    try {
      await zk.setData('/failover', 'after');
      written = true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(written, 'a write succeeded after the fail-over');
  const failover_ms = Date.now() - killed_ms;
  process.stdout.write(`# fail-over: first write acknowledged ${failover_ms} ms after kill -9 of leader ${leader.id}\n`);
  assert.equal(zk.sessionId, sessionId, 'the session survived the fail-over');
  assert.ok(await zk.exists('/failover-eph'), 'the ephemeral of a live session survived');
  await leader.restart();
  await ens.waitForLeader();
  const r = await connect(leader.connectString);
  await r.sync('/failover');
  assert.equal((await r.getData('/failover')).data?.toString(), 'after');
  assert.ok(await r.exists('/basic'), 'history from before the fail-over is there too');
  await r.close();
  await zk.close();
  // The ephemeral goes with its session, on every member.
  for (const m of ens.members) {
    const c = await connect(m.connectString);
    await c.sync('/');
    assert.equal(await c.exists('/failover-eph'), null, `member ${m.id}`);
    await c.close();
  }
});

test("every member's tree reached the digest recorded on every txn, across the fail-over and the rejoin", async () => {
  // Followers check the leader's predicted TxnDigest after each txn, a leader its own once per
  // batch, and a restarted member the digests in its log and snapshot as it replays them.
  for (const m of ens.members) {
    const mntr = await fourLetter(m.clientPort, 'mntr');
    assert.match(mntr, /^zk_digest_mismatches_count\t0$/m, `member ${m.id} (log ${m.logFile})`);
  }
});
