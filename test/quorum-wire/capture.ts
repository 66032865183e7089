/**
 * Captures the real Apache ZooKeeper 3.8 peer-to-peer byte streams into test/fixtures/quorum/zk38/.
 * Run by hand (not part of the suite):  npx tsx test/quorum-wire/capture.ts [outDir]
 *
 * Ensemble: 3 participants + 1 observer, each peer's election and quorum ports behind a recording
 * proxy. Scenario: writes through a follower and the observer, ephemerals, a session that expires,
 * a moved session (REVALIDATE), sync on a follower; a follower down for a few txns (DIFF), one down
 * for more than commitLogCount txns with txn-log sync off (SNAP); the leader holding a proposal no
 * follower acked, killed, the rest elect a new leader, the old one rejoins (TRUNC).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZooKeeperClient, CreateMode, op } from '../../src/client/index.js';
import { startZkEnsemble, type EnsemblePeer } from '../support/zk-ensemble.js';
import { joined } from '../support/tcp-proxy.js';
import { electionPrefix } from './streams.js';

const ELECTION_FRAMES_MAX = 24;

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? path.resolve(here, '../fixtures/quorum/zk38');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const events: { t_ms: number; what: string }[] = [];
const t0 = Date.now();
const note = (what: string): void => {
  events.push({ t_ms: Date.now() - t0, what });
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${what}`);
};

async function main(): Promise<void> {
  const ens = await startZkEnsemble({
    peers: [{ kind: 'zookeeper' }, { kind: 'zookeeper' }, { kind: 'zookeeper' }, { kind: 'zookeeper', observer: true }],
    tickTime_ms: 1000,
    // No txn-log sync: a learner behind the leader's in-memory commit log gets SNAP.
    sysProps: { 'zookeeper.snapshotSizeFactor': '-1' },
  });
  note(`ensemble dir ${ens.dir}`);
  try {
    const leader = await ens.waitForQuorum();
    note(`established: leader sid ${leader.sid}`);
    const followers = ens.peers.filter((p) => !p.observer && p !== leader);
    const observer = ens.peers.find((p) => p.observer)!;
    const [f1, f2] = followers as [EnsemblePeer, EnsemblePeer];

    const c1 = await ZooKeeperClient.connect(f1.connectString, { sessionTimeout_ms: 10_000 });
    note(`client on follower ${f1.sid}: session 0x${c1.sessionId.toString(16)}`);
    await c1.create('/wire', 'root');
    await c1.create('/wire/a', Buffer.from([1, 2, 3]));
    await c1.setData('/wire/a', 'two');
    await c1.create('/wire/eph', 'e', { mode: CreateMode.EPHEMERAL });
    await c1.create('/wire/seq-', 's', { mode: CreateMode.PERSISTENT_SEQUENTIAL });
    await c1.multi([op.create('/wire/m1', 'x'), op.setData('/wire/a', 'three'), op.delete('/wire/m1')]);
    await c1.sync('/wire');
    note('writes, ephemeral, multi and sync through a follower');

    const co = await ZooKeeperClient.connect(observer.connectString, { sessionTimeout_ms: 10_000 });
    await co.create('/wire/from-observer', 'o');
    await co.sync('/wire');
    note(`write and sync through the observer (sid ${observer.sid})`);

    // A session that moves from one follower to the other: the second one revalidates it.
    const cm = await ZooKeeperClient.connect(f1.connectString, { sessionTimeout_ms: 10_000 });
    await cm.create('/wire/moved-eph', 'm', { mode: CreateMode.EPHEMERAL });
    const moved = { sessionId: cm.sessionId, sessionPasswd: cm.sessionPasswd };
    cm.abandon();
    const cm2 = await ZooKeeperClient.connect(f2.connectString, { sessionTimeout_ms: 10_000, ...moved });
    await cm2.exists('/wire/moved-eph');
    note(`session 0x${moved.sessionId.toString(16)} moved to follower ${f2.sid} (REVALIDATE)`);

    // A session that expires: its ephemeral goes with a closeSession txn from the leader.
    const ce = await ZooKeeperClient.connect(f2.connectString, { sessionTimeout_ms: 2000 });
    await ce.create('/wire/expiring', 'x', { mode: CreateMode.EPHEMERAL });
    note(`session 0x${ce.sessionId.toString(16)} abandoned (expires)`);
    ce.abandon();
    await c1.sync('/wire');
    assert((await c1.exists('/wire/expiring')) !== null, 'ephemeral of the expiring session not visible');
    for (let i = 0; i < 40; i++) {
      await sleep(250);
      await c1.sync('/wire');
      if ((await c1.exists('/wire/expiring')) === null) break;
    }
    assert((await c1.exists('/wire/expiring')) === null, 'session did not expire');
    note('expired session ephemeral gone');

    // DIFF: follower f1 misses a few txns.
    await c1.close();
    await f1.kill();
    note(`killed follower ${f1.sid}`);
    const cl = await ZooKeeperClient.connect(leader.connectString, { sessionTimeout_ms: 10_000 });
    for (let i = 0; i < 3; i++) await cl.create(`/wire/diff-${i}`, `d${i}`);
    await f1.start();
    await ens.waitForQuorum();
    await sleep(1500);
    note(`follower ${f1.sid} restarted after 3 txns (DIFF expected)`);

    // TRUNC: the leader logs a proposal that no follower receives (its quorum port goes silent),
    // dies; the others elect a new leader and commit in a new epoch; the old leader rejoins.
    await cm2.close();
    await co.close();
    leader.quorumProxy.stall();
    note(`leader ${leader.sid} quorum connections stalled`);
    cl.create('/wire/never-committed', 'n').catch(() => undefined);
    await sleep(1000);
    cl.abandon();
    await leader.kill();
    leader.quorumProxy.heal();
    note(`leader ${leader.sid} killed holding an uncommitted proposal`);
    const newLeader = await ens.waitForQuorum();
    note(`new leader sid ${newLeader.sid}`);
    // Rejoin before any txn of the new epoch: its orphan is then above the new leader's last
    // committed zxid, ZooKeeper's TRUNC case (once epoch-2 txns exist, 3.8 falls back to SNAP).
    await leader.start();
    await ens.waitForQuorum();
    await sleep(1500);
    note(`old leader ${leader.sid} rejoined (TRUNC expected)`);
    const cn = await ZooKeeperClient.connect(newLeader.connectString, { sessionTimeout_ms: 10_000 });
    for (let i = 0; i < 2; i++) await cn.create(`/wire/epoch2-${i}`, `e${i}`);
    // SNAP: a follower comes back with an empty dataDir (a new server); with txn-log sync off,
    // a zxid below the leader's in-memory commit log can only be served by SNAP.
    const fs2 = ens.peers.find((p) => !p.observer && p !== newLeader)!;
    await fs2.kill();
    note(`killed follower ${fs2.sid}`);
    for (let i = 0; i < 5; i++) await cn.create(`/wire/snap-${i}`, `s${i}`);
    fs.rmSync(path.join(fs2.dataDir, 'version-2'), { recursive: true, force: true });
    await fs2.start();
    await ens.waitForQuorum();
    await sleep(1500);
    note(`follower ${fs2.sid} restarted with an empty dataDir (SNAP expected)`);
    await cn.close();
    await sleep(1500);
  } finally {
    await ens.stop({ keepDir: true });
  }
  writeFixtures(ens);
}

function writeFixtures(ens: Awaited<ReturnType<typeof startZkEnsemble>>): void {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const index: unknown[] = [];
  let total = 0;
  for (const c of ens.connections()) {
    const name = `${String(c.seq).padStart(3, '0')}-${c.port}-to${c.targetSid}`;
    // Election streams repeat notifications while peers look; the first frames are enough.
    const up = c.port === 'election' ? electionPrefix(joined(c.toServer), true, ELECTION_FRAMES_MAX) : joined(c.toServer);
    const down = c.port === 'election' ? electionPrefix(joined(c.toClient), false, ELECTION_FRAMES_MAX) : joined(c.toClient);
    if (up.length + down.length === 0) continue;
    fs.writeFileSync(path.join(outDir, `${name}.up.bin`), up);
    fs.writeFileSync(path.join(outDir, `${name}.down.bin`), down);
    total += up.length + down.length;
    index.push({
      name,
      port: c.port,
      targetSid: c.targetSid,
      opened_ms: c.opened_ms - t0,
      closed_ms: c.closed_ms === null ? null : c.closed_ms - t0,
      up_bytes: up.length,
      down_bytes: down.length,
    });
  }
  // Snapshots the learners wrote (e.g. after a SNAP sync), to compare with the streamed tree.
  for (const p of ens.peers) {
    const snapDir = path.join(p.dataDir, 'version-2');
    if (!fs.existsSync(snapDir)) continue;
    for (const f of fs.readdirSync(snapDir)) {
      if (!f.startsWith('snapshot.') || f === 'snapshot.0') continue;
      fs.copyFileSync(path.join(snapDir, f), path.join(outDir, `peer${p.sid}-${f}`));
      total += fs.statSync(path.join(outDir, `peer${p.sid}-${f}`)).size;
    }
  }
  const peers = ens.peers.map((p) => ({
    sid: p.sid,
    observer: p.observer,
    quorumPort: p.quorumPort,
    electionPort: p.electionPort,
    quorumProxyPort: p.quorumProxy.port,
    electionProxyPort: p.electionProxy.port,
  }));
  fs.writeFileSync(path.join(outDir, 'index.json'), JSON.stringify({ peers, events, connections: index }, null, 1) + '\n');
  console.log(`wrote ${index.length} connections, ${total} bytes to ${outDir}; peer logs in ${ens.dir}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
