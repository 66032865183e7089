/**
 * Forced sync paths across kinds (issue 6, must-show 3): on one ensemble of ZooKeeper 3.8 (sids 1
 * and 3) and tszk (sid 2), each learner/leader pairing syncs by DIFF, TRUNC and SNAP:
 *
 *   A  tszk 2 <- ZooKeeper leader 3, DIFF   (down for a few txns)
 *   B  tszk 2 <- ZooKeeper leader 3, SNAP   (its dataDir wiped)
 *   C  ZooKeeper 3 <- tszk leader 2, TRUNC  (3, leading, cut off while logging proposals nobody
 *                                            acks; 1 and 2 elect 2, which writes in the new epoch)
 *   D  ZooKeeper 1 <- tszk leader 2, DIFF
 *   E  ZooKeeper 1 <- tszk leader 2, SNAP
 *   F  tszk 2 <- ZooKeeper leader, TRUNC    (2, leading, cut off likewise; 1 and 3 elect a leader
 *                                            that writes nothing before 2 is back: ZooKeeper 3.8
 *                                            never sends a TRUNC across an epoch boundary, it falls
 *                                            back to SNAP, LearnerHandler.queueCommittedProposals)
 *   G  the same with a ZooKeeper leader that did write in its new epoch: SNAP (its fallback); the
 *      orphans stay out of the tszk peer's tree, also after a restart (they remain in its log
 *      below the snapshot, as in a ZooKeeper learner's after a SNAP)
 *   H  C again, but tszk writes nothing before ZooKeeper 3 is back: a TRUNC within the epoch
 *      (tszk's other TRUNC branch: the learner is past the leader's whole history)
 *
 * In A, B, D and E a client keeps writing through the leader while the learner syncs, so
 * proposals and commits are in flight across NEWLEADER and UPTODATE. After F, tszk 2 restarts with
 * nothing written meanwhile (an empty DIFF) and must still be at the leader's zxid.
 *
 * Each mode is read from the learner's own log (learnerSyncModes), once per case (a learner that
 * fails mid-sync and retries shows two); a ZooKeeper learner must log no exception and a ZooKeeper
 * leader must not give up on the tszk learner. After each case: every member shows the same tree
 * under /s, every acknowledged write is in it, and no write that was sent to a cut-off leader
 * exists on any member (none of them was acknowledged either). Last, the tszk peer's quorum
 * packets are checked against what a ZooKeeper peer sends (wire-rules.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { parseSrvr } from '../support/peer-process.js';
import { startZkEnsemble, type EnsemblePeer, type ZkEnsemble } from '../support/zk-ensemble.js';
import { learnerSyncModes, withTimeout } from '../faults/helpers.js';
import { ZK_LOCAL_SESSIONS, waitForSameTree } from './harness.js';
import { checkTszkWire } from './wire-rules.js';

const missing = zookeeperMissing();
const skip = missing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? missing : undefined;
const keep = process.env['TSZK_KEEP_MIXED'] === '1';

/** Proposals sent to a cut-off leader; none may survive anywhere. */
const ORPHANS = 20;
/** Long enough that no session of the test expires while a leader must stay txn-free (case F). */
const SESSION_TIMEOUT_MS = 120_000;
const WAIT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Lines of the peer's log written after `from` bytes that match `re`. */
function logSince(p: EnsemblePeer, from: number, re: RegExp): string[] {
  return fs
    .readFileSync(p.logFile, 'utf8')
    .slice(from)
    .split('\n')
    .filter((l) => re.test(l));
}
const logSize = (p: EnsemblePeer): number => (fs.existsSync(p.logFile) ? fs.statSync(p.logFile).size : 0);
/** A ZooKeeper learner failing on what the leader sent (or a tszk peer's fatal stop). */
const LEARNER_TROUBLE = /Exception when following|NullPointerException|Got unexpected packet|Not able to truncate|quorum peer failed/;

/** One run of the scenario: the ensemble, and every write a client saw acknowledged. */
interface Run {
  ens: ZkEnsemble;
  acked: string[];
  peer(sid: number): EnsemblePeer;
}

async function writeSome(run: Run, via: EnsemblePeer, prefix: string, n: number): Promise<void> {
  const zk = await ZooKeeperClient.connect(via.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 15_000 });
  try {
    for (let i = 0; i < n; i++) {
      const p = `${prefix}-${i}`;
      await zk.create(p, `v${i}`);
      run.acked.push(p);
    }
  } finally {
    await zk.close();
  }
}

/**
 * Writes through `via` back to back until stopped, so proposals and commits are in flight while a
 * learner syncs (they reach it between the sync and UPTODATE). Resolves with how many it wrote.
 */
function writeInBackground(run: Run, via: EnsemblePeer, prefix: string): { stop(): Promise<number> } {
  let stopped = false;
  let n = 0;
  const done = (async (): Promise<void> => {
    const zk = await ZooKeeperClient.connect(via.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 15_000 });
    try {
      for (; !stopped; n++) {
        const p = `${prefix}-${n}`;
        await withTimeout(zk.create(p, 'bg'), 20_000, `create ${p}`);
        run.acked.push(p);
      }
    } finally {
      await zk.close();
    }
  })();
  // Kept until stop() is awaited: a failure must not surface as an unhandled rejection.
  const failure = done.then(
    () => undefined,
    (e: unknown) => e,
  );
  return {
    async stop() {
      stopped = true;
      const e = await failure;
      if (e !== undefined) throw new Error(`background writes through ${via.sid} failed after ${n}: ${String(e)}`);
      return n;
    },
  };
}

async function zxidOf(p: EnsemblePeer): Promise<bigint | undefined> {
  try {
    return parseSrvr(await p.srvr()).zxid;
  } catch {
    return undefined;
  }
}

/** Until every running member reports the same last zxid (nothing in flight). */
async function waitForSameZxid(ens: ZkEnsemble): Promise<bigint> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const zs = await Promise.all(ens.peers.filter((p) => p.running()).map(zxidOf));
    if (zs[0] !== undefined && zs.every((z) => z === zs[0])) return zs[0];
    if (Date.now() > deadline)
      throw new Error(`members never agreed on a zxid: ${zs.map((z) => (z === undefined ? '?' : `0x${z.toString(16)}`)).join(' ')} (logs in ${ens.dir})`);
    await sleep(200);
  }
}

/** Until exactly one of `sids` leads and the others follow; returns the leader. */
async function waitForLeaderAmong(ens: ZkEnsemble, sids: number[]): Promise<EnsemblePeer> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const ps = sids.map((s) => ens.peers[s - 1]!);
    const modes = await Promise.all(ps.map((p) => p.mode()));
    const leaders = ps.filter((_, i) => modes[i] === 'leader');
    if (leaders.length === 1 && modes.every((m) => m === 'leader' || m === 'follower')) return leaders[0]!;
    if (Date.now() > deadline) throw new Error(`no leader among ${sids.join(',')}: ${modes.join(',')} (logs in ${ens.dir})`);
    await sleep(200);
  }
}

/** Runs `action`, then waits until `learner` follows again and has logged a new sync mode; returns the new modes. */
async function rejoin(ens: ZkEnsemble, learner: EnsemblePeer, action: () => Promise<void>): Promise<{ modes: string[]; mark: number }> {
  const seen = learnerSyncModes(learner.logFile).length;
  const mark = logSize(learner);
  await action();
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const modes = learnerSyncModes(learner.logFile).slice(seen);
    if ((await learner.mode()) === 'follower' && modes.length > 0) {
      await ens.waitForQuorum(WAIT_MS);
      return { modes, mark };
    }
    if (Date.now() > deadline) throw new Error(`member ${learner.sid} did not rejoin with a sync mode (log ${learner.logFile})`);
    await sleep(200);
  }
}

/**
 * Every member shows the same tree under /s; every acknowledged write is in it; nothing sent to
 * a cut-off leader is. Returns the paths.
 */
async function assertConverged(run: Run, what: string): Promise<string[]> {
  const r = await waitForSameTree(run.ens, '/s', 30_000);
  assert.ok(r.same, `${what}: members differ (logs in ${run.ens.dir}):\n${describeViews(r.views).join('\n')}`);
  const paths = (JSON.parse(r.views[0]!) as { path: string }[]).map((n) => n.path);
  const have = new Set(paths);
  assert.deepEqual(
    run.acked.filter((p) => !have.has(p)),
    [],
    `${what}: acknowledged writes missing`,
  );
  assert.deepEqual(
    paths.filter((p) => p.includes('/orphan')),
    [],
    `${what}: writes a cut-off leader never committed exist`,
  );
  return paths;
}

/** Each member's view in one line: its node count and how it differs from member 1's, or its read error. */
function describeViews(views: string[]): string[] {
  const parse = (v: string): Map<string, string> | undefined => {
    if (!v.startsWith('[')) return undefined;
    return new Map((JSON.parse(v) as { path: string; mzxid: string; version: number }[]).map((n) => [n.path, `${n.mzxid}/v${n.version}`]));
  };
  const base = parse(views[0]!);
  return views.map((v, i) => {
    const m = parse(v);
    if (m === undefined) return `member ${i + 1}: ${v.slice(0, 300)}`;
    if (base === undefined || i === 0) return `member ${i + 1}: ${m.size} nodes`;
    const onlyHere = [...m.keys()].filter((k) => !base.has(k));
    const missing = [...base.keys()].filter((k) => !m.has(k));
    const changed = [...m.keys()].filter((k) => base.has(k) && base.get(k) !== m.get(k));
    return `member ${i + 1}: ${m.size} nodes; not on member 1: ${onlyHere.slice(0, 8).join(' ')}; missing: ${missing.slice(0, 8).join(' ')}; differing: ${changed.slice(0, 8).join(' ')}`;
  });
}

function assertNoLearnerTrouble(p: EnsemblePeer, mark: number): void {
  assert.deepEqual(logSince(p, mark, LEARNER_TROUBLE).slice(0, 3), [], `member ${p.sid} (${p.kind}) failed while syncing (log ${p.logFile})`);
}

/** A ZooKeeper leader's LearnerHandler gave up on a learner for what it sent during the sync. */
function assertZkLeaderKeptLearner(leader: EnsemblePeer, mark: number): void {
  assert.deepEqual(
    logSince(leader, mark, /Next packet was supposed to be an ACK|Unexpected packet|unexpected packet/).slice(0, 3),
    [],
    `ZooKeeper leader ${leader.sid} (log ${leader.logFile})`,
  );
}

/**
 * Cuts the leader `old` off, sends it ORPHANS creates (logged as proposals, never acknowledged
 * by anyone), waits for `others` to elect a new leader, runs `meanwhile` on it, heals, and
 * returns the sync modes `old` logged on rejoining.
 */
async function cutLeaderAndRejoin(
  run: Run,
  old: EnsemblePeer,
  others: number[],
  tag: string,
  meanwhile: (leader: EnsemblePeer) => Promise<void>,
): Promise<{ leader: EnsemblePeer; modes: string[]; mark: number; zk: ZooKeeperClient }> {
  const zk = await ZooKeeperClient.connect(old.connectString, { sessionTimeout_ms: SESSION_TIMEOUT_MS, connectWait_ms: 15_000 });
  try {
    // The session is a txn on tszk: everyone must hold it, so the survivors' votes tie on zxid.
    await waitForSameZxid(run.ens);
    assert.equal(await old.mode(), 'leader');
    run.ens.cut(old.sid);
    const t0 = Date.now();
    const ackedOrphans: string[] = [];
    const orphans = Array.from({ length: ORPHANS }, (_, i) =>
      withTimeout(zk.create(`/s/orphan-${tag}-${i}`, 'never acked'), 40_000, 'orphan').then(
        (p) => ackedOrphans.push(p),
        () => undefined,
      ),
    );
    const leader = await waitForLeaderAmong(run.ens, others);
    const elected_ms = Date.now() - t0;
    await meanwhile(leader);
    await Promise.all(orphans);
    const settled_ms = Date.now() - t0;
    assert.deepEqual(ackedOrphans, [], `the cut-off leader ${old.sid} acknowledged writes it could not commit`);
    const { modes, mark } = await rejoin(run.ens, old, async () => run.ens.heal());
    console.log(`  cut ${old.sid}: ${leader.sid} led after ${elected_ms} ms, orphans failed by ${settled_ms} ms, healed and rejoined by ${Date.now() - t0} ms`);
    return { leader, modes, mark, zk };
  } catch (e) {
    zk.abandon(); // or its reconnect timers keep this test file's process alive
    throw e;
  }
}

/** tszk leader-side lines: {"learner","mode","learnerLastZxid","zxid","msg":"syncing learner N by MODE"}. */
function tszkLeaderSyncLine(p: EnsemblePeer, mark: number, learner: number, mode: string): { learnerLastZxid: string; zxid: string } | undefined {
  for (const l of fs.readFileSync(p.logFile, 'utf8').slice(mark).split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      const j = JSON.parse(l) as { msg?: string; learner?: string; mode?: string; learnerLastZxid?: string; zxid?: string };
      if (j.msg?.startsWith('syncing learner') && j.learner === String(learner) && j.mode === mode && j.learnerLastZxid && j.zxid)
        return { learnerLastZxid: j.learnerLastZxid, zxid: j.zxid };
    } catch {
      /* not a log record */
    }
  }
  return undefined;
}

/** Snapshot files in a dataDir (name suffix = zxid). */
function snapshotZxids(p: EnsemblePeer): bigint[] {
  const dir = path.join(p.dataDir, 'version-2');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^snapshot\.[0-9a-f]+$/.test(f))
    .map((f) => BigInt(`0x${f.slice('snapshot.'.length)}`));
}

test('forced sync paths across kinds: ZooKeeper <-> tszk by DIFF, SNAP and TRUNC', { skip, timeout: 600_000 }, async (t) => {
  if (missing) assert.fail(missing);
  // ZooKeeper peers: local sessions (reads through a member are no txns); a committed log far
  // larger than the test (LearnerHandler DIFFs from it whenever the learner's zxid lies in it).
  const zkCfg = { ...ZK_LOCAL_SESSIONS, commitLogCount: 10_000 };
  const ens = await startZkEnsemble({
    peers: [
      { kind: 'zookeeper', cfg: zkCfg },
      { kind: 'tszk', cfg: {} },
      { kind: 'zookeeper', cfg: zkCfg },
    ],
    tickTime_ms: 500,
    initLimit: 10,
    syncLimit: 5,
    cfg: { maxSessionTimeout: SESSION_TIMEOUT_MS },
    env: { TSZK_LOG_LEVEL: 'info' },
    deferStart: true,
    electionGates: true,
  });
  const run: Run = { ens, acked: [], peer: (sid) => ens.peers[sid - 1]! };
  const [zk1, tszk2, zk3] = [run.peer(1), run.peer(2), run.peer(3)];
  let failed = 0;
  const step = (name: string, fn: () => Promise<void>): Promise<void> =>
    t.test(name, async () => {
      try {
        await fn();
      } catch (e) {
        failed++;
        throw e;
      }
    });
  let passed = false;
  try {
    // Sid 3 leads if it is in the first election: start it with 1, then 2 joins.
    await zk3.start();
    await zk1.start();
    await ens.waitForQuorum(WAIT_MS);
    await tszk2.start();
    assert.equal((await ens.waitForQuorum(WAIT_MS)).sid, 3);
    const setup = await ZooKeeperClient.connect(zk3.connectString, { sessionTimeout_ms: 10_000 });
    await setup.create('/s', 'sync-modes');
    await setup.close();
    await writeSome(run, zk3, '/s/start', 3);

    await step('A: tszk follower <- ZooKeeper leader by DIFF', async () => {
      await tszk2.kill();
      await writeSome(run, zk3, '/s/a', 3);
      const bg = writeInBackground(run, zk3, '/s/bg-a');
      const leaderMark = logSize(zk3);
      const { modes, mark } = await rejoin(ens, tszk2, () => tszk2.start()).finally(() => bg.stop().catch(() => undefined));
      const bgCount = await bg.stop();
      console.log(`A: tszk 2 down for 3 txns rejoined ZooKeeper leader 3 by ${modes.join(',')} (${bgCount} writes went on meanwhile)`);
      assert.deepEqual(modes, ['DIFF'], `tszk 2 (log ${tszk2.logFile})`);
      assertNoLearnerTrouble(tszk2, mark);
      assertZkLeaderKeptLearner(zk3, leaderMark);
      await assertConverged(run, 'A');
    });

    await step('B: tszk follower <- ZooKeeper leader by SNAP', async () => {
      await tszk2.kill();
      await writeSome(run, zk3, '/s/b', 3);
      const bg = writeInBackground(run, zk3, '/s/bg-b');
      const leaderMark = logSize(zk3);
      fs.rmSync(path.join(tszk2.dataDir, 'version-2'), { recursive: true, force: true });
      const { modes, mark } = await rejoin(ens, tszk2, () => tszk2.start()).finally(() => bg.stop().catch(() => undefined));
      const bgCount = await bg.stop();
      console.log(`B: tszk 2 with an empty dataDir joined ZooKeeper leader 3 by ${modes.join(',')} (${bgCount} writes went on meanwhile)`);
      assert.deepEqual(modes, ['SNAP'], `tszk 2 (log ${tszk2.logFile})`);
      assertNoLearnerTrouble(tszk2, mark);
      assertZkLeaderKeptLearner(zk3, leaderMark);
      await assertConverged(run, 'B');
    });

    await step('C: ZooKeeper follower (a cut-off former leader) <- tszk leader by TRUNC', async () => {
      const leaderMark = logSize(tszk2);
      const r = await cutLeaderAndRejoin(run, zk3, [1, 2], 'c', async (leader) => {
        assert.equal(leader.sid, 2, 'tszk 2 (same epoch and zxid as ZooKeeper 1, higher sid) must win');
        await writeSome(run, leader, '/s/c', 3); // the new epoch has txns: the TRUNC crosses an epoch
      });
      r.zk.abandon(); // a local session on ZooKeeper: no txn either way
      const line = tszkLeaderSyncLine(tszk2, leaderMark, 3, 'TRUNC');
      console.log(`C: ZooKeeper 3 rejoined tszk leader 2 by ${r.modes.join(',')}; tszk truncated it from ${line?.learnerLastZxid} to ${line?.zxid}`);
      assert.deepEqual(r.modes, ['TRUNC'], `ZooKeeper 3 (log ${zk3.logFile})`);
      assert.ok(
        line !== undefined && BigInt(line.learnerLastZxid) > BigInt(line.zxid),
        `tszk 2 logged no TRUNC of 3 past its own history (log ${tszk2.logFile})`,
      );
      const truncTo = logSince(zk3, r.mark, /Truncating log to get in sync with the leader/).map((l) => /leader 0x([0-9a-f]+)/.exec(l)?.[1]);
      assert.deepEqual(
        truncTo.map((z) => (z === undefined ? z : BigInt(`0x${z}`))),
        [BigInt(line.zxid)],
        `ZooKeeper 3's truncation point (log ${zk3.logFile})`,
      );
      assertNoLearnerTrouble(zk3, r.mark);
      await assertConverged(run, 'C');
    });

    await step('D: ZooKeeper follower <- tszk leader by DIFF', async () => {
      await zk1.kill();
      await writeSome(run, tszk2, '/s/d', 3);
      const bg = writeInBackground(run, tszk2, '/s/bg-d');
      const { modes, mark } = await rejoin(ens, zk1, () => zk1.start()).finally(() => bg.stop().catch(() => undefined));
      const bgCount = await bg.stop();
      console.log(`D: ZooKeeper 1 down for 3 txns rejoined tszk leader 2 by ${modes.join(',')} (${bgCount} writes went on meanwhile)`);
      assert.deepEqual(modes, ['DIFF'], `ZooKeeper 1 (log ${zk1.logFile})`);
      assertNoLearnerTrouble(zk1, mark);
      await assertConverged(run, 'D');
    });

    await step('E: ZooKeeper follower <- tszk leader by SNAP', async () => {
      // tszk SNAPs a learner older than its in-memory history, which starts at the SNAP it got in
      // B (and was written as a snapshot): an empty learner is older.
      assert.ok(
        snapshotZxids(tszk2).some((z) => z > 0n),
        `tszk 2 has no snapshot past zxid 0 (${path.join(tszk2.dataDir, 'version-2')})`,
      );
      await zk1.kill();
      await writeSome(run, tszk2, '/s/e', 3);
      const bg = writeInBackground(run, tszk2, '/s/bg-e');
      fs.rmSync(path.join(zk1.dataDir, 'version-2'), { recursive: true, force: true });
      const { modes, mark } = await rejoin(ens, zk1, () => zk1.start()).finally(() => bg.stop().catch(() => undefined));
      const bgCount = await bg.stop();
      console.log(`E: ZooKeeper 1 with an empty dataDir joined tszk leader 2 by ${modes.join(',')} (${bgCount} writes went on meanwhile)`);
      assert.deepEqual(modes, ['SNAP'], `ZooKeeper 1 (log ${zk1.logFile})`);
      assertNoLearnerTrouble(zk1, mark);
      await assertConverged(run, 'E');
    });

    await step('F: tszk follower (a cut-off former leader) <- ZooKeeper leader by TRUNC', async () => {
      const leaderMarks = [logSize(zk1), logSize(zk3)];
      const r = await cutLeaderAndRejoin(run, tszk2, [1, 3], 'f', async () => {
        // No write here: a ZooKeeper leader with txns in its new epoch SNAPs this learner instead.
      });
      const truncTo = logSince(tszk2, r.mark, /syncing with leader by TRUNC/)[0];
      console.log(`F: tszk 2 rejoined ZooKeeper leader ${r.leader.sid} by ${r.modes.join(',')} (${truncTo ?? 'no TRUNC line'})`);
      assert.deepEqual(r.modes, ['TRUNC'], `tszk 2 (log ${tszk2.logFile})`);
      const j = JSON.parse(truncTo!) as { zxid: string; ourLastZxid: string };
      assert.ok(BigInt(j.ourLastZxid) > BigInt(j.zxid), `tszk 2 held nothing past the TRUNC point: ${truncTo}`);
      assertNoLearnerTrouble(tszk2, r.mark);
      assertZkLeaderKeptLearner(r.leader, leaderMarks[r.leader.sid === 1 ? 0 : 1]!);
      await writeSome(run, r.leader, '/s/f', 3);
      await assertConverged(run, 'F');
      // End the orphans' session (it was created, and committed, before the cut).
      await withTimeout(r.zk.close(), 20_000, 'close').catch(() => r.zk.abandon());
      // The truncation is on disk: a restarted tszk applies its logged txns as the leader commits
      // them, so orphans left in its log would come back here.
      const again = await rejoin(ens, tszk2, async () => {
        await tszk2.kill();
        await tszk2.start();
      });
      console.log(`F: tszk 2 restarted after the TRUNC rejoined by ${again.modes.join(',')}`);
      assert.deepEqual(again.modes, ['DIFF'], `tszk 2 after restart (log ${tszk2.logFile})`);
      // Nothing was written while it was down: an empty DIFF. It must still apply the txns its
      // own log holds past its snapshot (srvr's zxid; before any client makes a session txn).
      await waitForSameZxid(ens);
      await assertConverged(run, 'F after restart');
    });

    await step('G: tszk follower (a cut-off former leader) <- ZooKeeper leader with new-epoch txns: SNAP, not TRUNC', async () => {
      // tszk must lead again: the ZooKeeper leader goes down, 1 and 2 (same zxid) elect 2.
      await waitForSameZxid(ens);
      const oldZk = await ens.waitForQuorum(WAIT_MS);
      assert.equal(oldZk.kind, 'zookeeper');
      await oldZk.kill();
      assert.equal((await waitForLeaderAmong(ens, [1, 2])).sid, 2, 'tszk 2 (same zxid, higher sid than 1) must win');
      await oldZk.start();
      await ens.waitForQuorum(WAIT_MS);
      const leaderMarks = [logSize(zk1), logSize(zk3)];
      const r = await cutLeaderAndRejoin(run, tszk2, [1, 3], 'g', async (leader) => {
        await writeSome(run, leader, '/s/g', 3); // the new epoch has txns: ZooKeeper will not TRUNC across it
      });
      console.log(`G: tszk 2 rejoined ZooKeeper leader ${r.leader.sid} (which had written in its new epoch) by ${r.modes.join(',')}`);
      assert.deepEqual(r.modes, ['SNAP'], `tszk 2 (log ${tszk2.logFile})`);
      const mark = leaderMarks[r.leader.sid === 1 ? 0 : 1]!;
      assert.ok(
        logSince(r.leader, mark, /Cannot send TRUNC to peer sid: 2/).length > 0,
        `ZooKeeper leader ${r.leader.sid} did not refuse a TRUNC across epochs (log ${r.leader.logFile})`,
      );
      assertNoLearnerTrouble(tszk2, r.mark);
      assertZkLeaderKeptLearner(r.leader, mark);
      await waitForSameZxid(ens);
      await assertConverged(run, 'G');
      await withTimeout(r.zk.close(), 20_000, 'close').catch(() => r.zk.abandon());
      // Its log still holds the orphans below the snapshot it got; restarted, it must not replay them.
      const again = await rejoin(ens, tszk2, async () => {
        await tszk2.kill();
        await tszk2.start();
      });
      console.log(`G: tszk 2 restarted after the SNAP rejoined by ${again.modes.join(',')}`);
      assert.deepEqual(again.modes, ['DIFF'], `tszk 2 after restart (log ${tszk2.logFile})`);
      await waitForSameZxid(ens);
      await assertConverged(run, 'G after restart');
    });

    await step('H: ZooKeeper follower (a cut-off former leader) <- tszk leader with no new-epoch txns: TRUNC within the epoch', async () => {
      const zkLeader = await ens.waitForQuorum(WAIT_MS);
      assert.equal(zkLeader.sid, 3, 'ZooKeeper 3 leads after G');
      const leaderMark = logSize(tszk2);
      const r = await cutLeaderAndRejoin(run, zk3, [1, 2], 'h', async (leader) => {
        assert.equal(leader.sid, 2, 'tszk 2 (same epoch and zxid as ZooKeeper 1, higher sid) must win');
      });
      r.zk.abandon();
      const line = tszkLeaderSyncLine(tszk2, leaderMark, 3, 'TRUNC');
      console.log(`H: ZooKeeper 3 rejoined tszk leader 2 by ${r.modes.join(',')}; tszk truncated it from ${line?.learnerLastZxid} to ${line?.zxid}`);
      assert.deepEqual(r.modes, ['TRUNC'], `ZooKeeper 3 (log ${zk3.logFile})`);
      assert.ok(
        line !== undefined && BigInt(line.learnerLastZxid) > BigInt(line.zxid),
        `tszk 2 logged no TRUNC of 3 past its own history (log ${tszk2.logFile})`,
      );
      assert.equal(BigInt(line.learnerLastZxid) >> 32n, BigInt(line.zxid) >> 32n, 'the TRUNC stays within one epoch');
      assertNoLearnerTrouble(zk3, r.mark);
      await writeSome(run, tszk2, '/s/h', 3);
      await waitForSameZxid(ens);
      await assertConverged(run, 'H');
    });

    await step('the tszk peer sent only what a ZooKeeper peer sends in its place', async () => {
      const w = checkTszkWire(ens);
      console.log(`wire: ${w.checked.packets} quorum packets and ${w.checked.notifications} notifications from tszk checked; known gaps: ${w.known.length}`);
      assert.ok(w.checked.packets > 0);
      assert.deepEqual(w.strict, []);
    });
    passed = failed === 0;
  } finally {
    await ens.stop({ keepDir: keep || !passed });
    if (keep || !passed) console.log(`logs kept in ${ens.dir}`);
  }
});
