/**
 * Issue 5, Must show 2: how a member catches up, asserted from what the member itself logs
 * (tszk: pino JSON `{"mode":"DIFF"|"SNAP"|"TRUNC","msg":"syncing with leader by …"}`; ZooKeeper:
 * its Learner's "Getting a diff / Getting a snapshot / Truncating log" lines):
 *  - a follower down for a few txns rejoins by DIFF;
 *  - one down for many (past the in-memory history and several snapshots) by SNAP;
 *  - a former leader cut off while holding proposals that never committed rejoins by TRUNC,
 *    those proposals are gone everywhere, and the cut-off leader acknowledged none of them.
 * Every case ends with all members holding the same tree.
 */
import { test } from 'node:test';
import fs from 'node:fs';
import assert from 'node:assert/strict';
import type { ZooKeeperClient } from '../../src/client/index.js';
import { skipUnless } from '../support/target.js';
import { startFaultCluster, type ClusterPeer, type FaultCluster } from '../support/fault-cluster.js';
import { connectTo, convergedDigests, kind, learnerSyncModes, missing, sleep, withTimeout } from './helpers.js';

const keep = process.env['TSZK_KEEP_LOGS'] === '1';

/** Small snapshot interval; ZooKeeper's in-memory committed log and on-disk-log sync limited likewise. */
const SMALL_HISTORY_CFG: Record<string, string | number> =
  kind === 'zookeeper' ? { snapCount: 100, commitLogCount: 100, snapshotSizeFactor: -1 } : { snapCount: 100 };

async function writeN(cluster: FaultCluster, root: string, n: number, via: ClusterPeer): Promise<void> {
  const zk = await connectTo(via.connectString);
  const batch: Promise<string>[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(zk.create(`${root}/n${String(i).padStart(5, '0')}`, `v${i}`));
    if (batch.length >= 50) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  await zk.close();
}

async function rejoinMode(cluster: FaultCluster, follower: ClusterPeer, action: () => Promise<void>): Promise<string[]> {
  const seen = learnerSyncModes(follower.logFile).length;
  await action();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const st = await follower.status();
    const modes = learnerSyncModes(follower.logFile).slice(seen);
    if ((st.mode === 'follower' || st.mode === 'leader') && modes.length > 0) return modes;
    if (Date.now() > deadline) throw new Error(`member ${follower.sid} did not rejoin and report a sync mode (status ${st.mode}; log ${follower.logFile})`);
    await sleep(100);
  }
}

/** tszk leader-side sync lines: {"learner","mode","learnerLastZxid","zxid","msg":"syncing learner N by MODE"}. */
function leaderSyncLines(logFile: string): { learner: string; mode: string; learnerLastZxid: string; zxid: string }[] {
  const out: { learner: string; mode: string; learnerLastZxid: string; zxid: string }[] = [];
  for (const l of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      const j = JSON.parse(l) as { msg?: string; learner?: string; mode?: string; learnerLastZxid?: string; zxid?: string };
      if (j.msg?.startsWith('syncing learner') && j.learner && j.mode && j.learnerLastZxid && j.zxid)
        out.push({ learner: j.learner, mode: j.mode, learnerLastZxid: j.learnerLastZxid, zxid: j.zxid });
    } catch {
      /* not a log record */
    }
  }
  return out;
}

async function assertConverged(cluster: FaultCluster, root: string): Promise<void> {
  const d = await convergedDigests(cluster, root);
  assert.equal(new Set(d.values()).size, 1, `members differ: ${JSON.stringify(Object.fromEntries(d))} (logs ${cluster.dir})`);
}

test(`${kind}: a follower down for a few txns rejoins by DIFF, one down for many by SNAP`, { skip: skipUnless(missing), timeout: 180_000 }, async () => {
  const cluster = await startFaultCluster({ kind, n: 3, cfg: SMALL_HISTORY_CFG });
  let passed = false;
  try {
    const leader = await cluster.waitForLeader();
    const follower = cluster.peers.find((p) => p.sid !== leader.sid)!;
    const setup = await connectTo(leader.connectString);
    await setup.create('/diff');
    await setup.create('/snap');
    await setup.close();
    await sleep(300);

    await follower.kill();
    await writeN(cluster, '/diff', 5, leader);
    const diffModes = await rejoinMode(cluster, follower, () => follower.start());
    console.log(`follower ${follower.sid} down for 5 txns rejoined by ${diffModes.join(',')}`);
    assert.deepEqual(diffModes, ['DIFF'], `member ${follower.sid} after missing 5 txns (log ${follower.logFile})`);
    await assertConverged(cluster, '/');

    await follower.kill();
    await writeN(cluster, '/snap', 1500, leader);
    const snapModes = await rejoinMode(cluster, follower, () => follower.start());
    console.log(`follower ${follower.sid} down for 1500 txns (snapCount 100) rejoined by ${snapModes.join(',')}`);
    assert.deepEqual(snapModes, ['SNAP'], `member ${follower.sid} after missing 1500 txns (log ${follower.logFile})`);
    await assertConverged(cluster, '/');
    assert.deepEqual(cluster.unexpectedExits(), [], 'members crashed on their own');
    passed = true;
  } finally {
    await cluster.stop({ keepDir: keep || !passed });
  }
});

test(
  `${kind}: a former leader holding proposals that never committed rejoins by TRUNC; the proposals vanish and were never acknowledged`,
  { skip: skipUnless(missing), timeout: 180_000 },
  async () => {
    const cluster = await startFaultCluster({ kind, n: 3 });
    let passed = false;
    let zk: ZooKeeperClient | undefined;
    try {
      const old = await cluster.waitForLeader();
      const others = cluster.peers.filter((p) => p.sid !== old.sid).map((p) => p.sid);
      zk = await connectTo(old.connectString);
      await zk.create('/trunc');
      await sleep(300);
      // Cut the leader off silently: it keeps logging proposals nobody will ever ACK.
      cluster.isolate(old.sid, 'blackhole');
      const acked: string[] = [];
      const orphans = Array.from({ length: 20 }, (_, i) =>
        withTimeout(zk!.create(`/trunc/orphan${i}`, 'x'), 20_000, 'orphan').then(
          (p) => acked.push(p),
          () => undefined,
        ),
      );
      await sleep(100);
      const newLeader = await cluster.waitForLeader({ among: others, allServing: true, timeout_ms: 30_000 });
      await writeN(cluster, '/trunc', 10, newLeader);
      await Promise.all(orphans);
      zk.abandon();
      assert.deepEqual(acked, [], `the cut-off leader ${old.sid} acknowledged writes it could not commit`);
      const zxidOld = (await old.status()).zxid;
      const truncModes = await rejoinMode(cluster, old, async () => cluster.heal());
      console.log(
        `former leader ${old.sid} (zxid before heal ${zxidOld === undefined ? '?' : '0x' + zxidOld.toString(16)}) rejoined leader ${newLeader.sid} by ${truncModes.join(',')}`,
      );
      // Apache ZooKeeper 3.8 itself falls back to SNAP here ("Cannot send TRUNC to peer sid: N peer
      // zxid is from different epoch"); tszk must TRUNC.
      const allowed = kind === 'zookeeper' ? ['TRUNC', 'SNAP'] : ['TRUNC'];
      assert.ok(
        truncModes.length === 1 && allowed.includes(truncModes[0]!),
        `former leader ${old.sid} rejoined by ${truncModes.join(',')} (log ${old.logFile})`,
      );
      if (kind === 'tszk') {
        // The leader's side of the same story: it truncated a learner that was ahead of it.
        const line = leaderSyncLines(newLeader.logFile).find((l) => l.learner === String(old.sid) && l.mode === 'TRUNC');
        assert.ok(line !== undefined, `leader ${newLeader.sid} logged no TRUNC for ${old.sid} (log ${newLeader.logFile})`);
        assert.ok(BigInt(line.learnerLastZxid) > BigInt(line.zxid), `TRUNC of ${old.sid} from ${line.learnerLastZxid} to ${line.zxid}: it held nothing extra`);
        console.log(`leader ${newLeader.sid} truncated former leader ${old.sid} from ${line.learnerLastZxid} back to ${line.zxid}`);
      }
      await assertConverged(cluster, '/');
      const check = await connectTo(old.connectString);
      await check.sync('/trunc');
      const kids = await check.getChildren('/trunc');
      assert.deepEqual(
        kids.filter((k) => k.startsWith('orphan')),
        [],
        'uncommitted proposals of the old epoch survived',
      );
      assert.equal(kids.length, 10);
      await check.close();
      assert.deepEqual(cluster.unexpectedExits(), [], 'members crashed on their own');
      passed = true;
    } finally {
      zk?.abandon();
      await cluster.stop({ keepDir: keep || !passed });
    }
  },
);
