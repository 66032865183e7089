/**
 * tszk.zxidRolloverWithoutElection in an ensemble with Apache ZooKeeper 3.8 followers: a ZooKeeper
 * learner logs NEWEPOCH as an unknown packet and never acks it, so the tszk leader falls back to
 * ZooKeeper's way (it steps down, an election starts the next epoch) and every write still lands.
 * The counter is cut short with the test-only TSZK_TEST_ZXID_COUNTER_MAX (the tszk leader numbers
 * the proposals).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { Err, KeeperError } from '../../src/proto/errors.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { startMixed, waitForSameTree } from './harness.js';

const missing = zookeeperMissing();
const skip = missing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? missing : undefined;
const COUNTER_MAX = 10;

test('a tszk leader with ZooKeeper followers falls back to an election when its zxid counter is spent', { skip, timeout: 120_000 }, async () => {
  if (missing) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${missing}`);
  const run = await startMixed(['zookeeper', 'zookeeper', 'tszk'], {
    cfg: { 'tszk.zxidRolloverWithoutElection': 'true' },
    env: { TSZK_TEST_ZXID_COUNTER_MAX: String(COUNTER_MAX) },
  });
  let zk: ZooKeeperClient | undefined;
  try {
    assert.equal(run.leaderSid, 3, run.modes.join(' '));
    zk = await ZooKeeperClient.connect(run.ens.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 20_000 });
    await zk.create('/r', 'x');
    const zxids: bigint[] = [];
    for (let i = 0; zxids.length < COUNTER_MAX + 3; i++) {
      try {
        zxids.push((await zk.setData('/r', `v${i}`)).mzxid);
      } catch (e) {
        if (!(e instanceof KeeperError) || e.code !== Err.ConnectionLoss) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const epochs = new Set(zxids.map((z) => z >> 32n));
    assert.ok(epochs.size >= 2, 'a new epoch began');
    const zkLogs = run.ens.peers.filter((p) => p.kind === 'zookeeper').map((p) => fs.readFileSync(p.logFile, 'utf8'));
    assert.ok(
      zkLogs.some((l) => l.includes('Unknown packet type')),
      'a ZooKeeper follower got NEWEPOCH and ignored it',
    );
    const leaderLog = fs.readFileSync(run.ens.peers[2]!.logFile, 'utf8');
    assert.equal(leaderLog.includes('moved to epoch'), false, 'no epoch moved in place');
    const same = await waitForSameTree(run.ens, '/r');
    assert.ok(same.same, same.views.join('\n'));
  } finally {
    await zk?.close().catch(() => {});
    await run.ens.stop();
  }
});
