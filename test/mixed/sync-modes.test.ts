/**
 * Sync paths across kinds (issue 6, must-show 3): a ZooKeeper 3.8 follower rejoins a tszk leader
 * by DIFF (down for a few txns) and by SNAP (its dataDir wiped); a tszk follower joins a ZooKeeper
 * leader by SNAP (empty start) and rejoins by DIFF. The mode is read from the learner's own log;
 * the trees are compared through every member.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import type { EnsemblePeer } from '../support/zk-ensemble.js';
import { startMixed, waitForSameTree } from './harness.js';

const missing = zookeeperMissing();
const skip = missing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? missing : undefined;

/** Lines of the peer's log written after `from` bytes that match `re`. */
function logSince(p: EnsemblePeer, from: number, re: RegExp): string[] {
  const text = fs.readFileSync(p.logFile, 'utf8').slice(from);
  return text.split('\n').filter((l) => re.test(l));
}
const logSize = (p: EnsemblePeer): number => (fs.existsSync(p.logFile) ? fs.statSync(p.logFile).size : 0);

async function writeSome(cs: string, prefix: string, n: number): Promise<void> {
  const zk = await ZooKeeperClient.connect(cs, { sessionTimeout_ms: 10_000 });
  try {
    if ((await zk.exists('/s')) === null) await zk.create('/s', 'sync-modes');
    for (let i = 0; i < n; i++) await zk.create(`${prefix}-${i}`, `v${i}`);
  } finally {
    await zk.close();
  }
}

test('ZooKeeper follower rejoins a tszk leader by DIFF', { skip, timeout: 150_000 }, async () => {
  if (missing) assert.fail(missing);
  const run = await startMixed(['zookeeper', 'zookeeper', 'tszk'], { zkLocalSessions: true });
  try {
    const leader = run.ens.peers[2]!;
    assert.equal(run.leaderSid, 3, run.modes.join(' '));
    const zkf = run.ens.peers[0]!;
    await writeSome(leader.connectString, '/s/a', 3);
    await zkf.kill();
    await writeSome(leader.connectString, '/s/b', 3);
    const mark = logSize(zkf);
    await zkf.start();
    await run.ens.waitForQuorum();
    const diff = await waitForSameTree(run.ens, '/s');
    assert.ok(diff.same, diff.views.join('\n'));
    assert.ok(logSince(zkf, mark, /Getting a diff from the leader/).length > 0, `no DIFF in ${zkf.logFile}`);
    assert.deepEqual(logSince(zkf, mark, /Exception when following|NullPointerException/).slice(0, 3), []);
  } finally {
    await run.ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
  }
});

test('ZooKeeper follower with an empty dataDir joins a tszk leader by SNAP', { skip, timeout: 150_000 }, async () => {
  if (missing) assert.fail(missing);
  // A small snapCount: the leader snapshots (and trims its in-memory log) every few txns, so a
  // learner with an empty dataDir is older than the log and gets SNAP.
  const run = await startMixed(['zookeeper', 'zookeeper', 'tszk'], { zkLocalSessions: true, cfg: { snapCount: 4 } });
  try {
    const leader = run.ens.peers[2]!;
    const zkf = run.ens.peers[0]!;
    await writeSome(leader.connectString, '/s/a', 3);
    await zkf.kill();
    await writeSome(leader.connectString, '/s/c', 10);
    fs.rmSync(path.join(zkf.dataDir, 'version-2'), { recursive: true, force: true });
    const mark = logSize(zkf);
    await zkf.start();
    await run.ens.waitForQuorum(30_000);
    const snap = await waitForSameTree(run.ens, '/s');
    assert.ok(snap.same, snap.views.join('\n'));
    assert.ok(logSince(zkf, mark, /Getting a snapshot from leader/).length > 0, `no SNAP in ${zkf.logFile}`);
    assert.deepEqual(logSince(zkf, mark, /Exception when following|NullPointerException/).slice(0, 3), []);
  } finally {
    await run.ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
  }
});

test('tszk follower syncs from a ZooKeeper leader by SNAP and by DIFF', { skip, timeout: 150_000 }, async () => {
  if (missing) assert.fail(missing);
  const run = await startMixed(['tszk', 'zookeeper', 'zookeeper'], { zkLocalSessions: true });
  try {
    const leader = run.ens.peers[2]!;
    const tf = run.ens.peers[0]!;
    await writeSome(leader.connectString, '/s/a', 3);
    await tf.kill();
    await writeSome(leader.connectString, '/s/b', 3);
    let mark = logSize(tf);
    await tf.start();
    await run.ens.waitForQuorum();
    const diff = await waitForSameTree(run.ens, '/s');
    assert.ok(diff.same, diff.views.join('\n'));
    assert.ok(logSince(tf, mark, /syncing with leader by (DIFF|SNAP)/).length > 0, `no sync line in ${tf.logFile}`);

    await tf.kill();
    await writeSome(leader.connectString, '/s/c', 3);
    fs.rmSync(path.join(tf.dataDir, 'version-2'), { recursive: true, force: true });
    mark = logSize(tf);
    await tf.start();
    await run.ens.waitForQuorum();
    const snap = await waitForSameTree(run.ens, '/s');
    assert.ok(snap.same, snap.views.join('\n'));
    assert.ok(logSince(tf, mark, /syncing with leader by SNAP/).length > 0, `no SNAP in ${tf.logFile}`);
  } finally {
    await run.ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
  }
});
