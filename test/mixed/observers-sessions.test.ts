/**
 * Issue 6: observers and sessions across kinds in mixed ensembles of Apache ZooKeeper 3.8 and tszk.
 *
 * Ensemble A: ZooKeeper leads (sid 3), tszk followers 1 and 2, tszk observer 4.
 * Ensemble B: tszk leads (sid 3), ZooKeeper followers 1 and 2, ZooKeeper observer 4.
 * Ensembles C: tszk leads ZooKeeper followers with localSessionsEnabled (+ upgrading), the key set
 * on the tszk leader too, or not.
 *
 * On A and B: the observer is an observer (srvr), takes writes (REQUEST to the leader), gets the
 * others' writes (INFORM), fires watches and answers sync+read with them, catches up after a restart
 * (its sync mode is reported). Sessions made through learners of the other kind than the leader
 * carry that learner's sid in their high byte; the leader expires them once their client vanishes
 * (ephemerals gone on every member, the expiry in the leader's log, a resume refused); they stay
 * alive while their client only pings through that learner (PING session data); they keep their
 * ephemeral and watches when they move between the leader and a follower or observer of the other
 * kind (REVALIDATE); the connection they left cannot write (SessionMoved); closeSession through a
 * learner removes their ephemerals everywhere. Then the next leader rejoins by SNAP from an empty
 * dataDir and the leader dies: the new leader, of the other kind, expires the vanished session and
 * keeps the live one. ZooKeeper logs are checked for exceptions while both kinds run, every peer
 * for a crash, tszk's packets against the mixed wire rules.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test, type TestContext } from 'node:test';
import { CreateMode, Err, EventType, KeeperError, KeeperState, ZooKeeperClient, type Stat, type WatchedEvent } from '../../src/client/index.js';
import { startZkEnsemble, type EnsemblePeer, type PeerSpec, type ZkEnsemble } from '../support/zk-ensemble.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { readTree, waitForSameTree, ZK_LOCAL_SESSIONS, type TreeNode } from './harness.js';
import { body, RawConnection, RawSession } from '../support/raw-client.js';
import { OpCode } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';
import { checkTszkWire } from './wire-rules.js';
import { parseZooCfg } from '../../src/server/config.js';
import { creatorServerId } from '../../src/server/sessionIds.js';
import { waitFor as poll } from '../support/wait.js';

const missing = zookeeperMissing();
const skip = missing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? missing : undefined;
const keepDir = process.env['TSZK_KEEP_MIXED'] === '1';

/** Short sessions (tickTime 1 s: ZooKeeper's minimum is 2 s) so expiry happens within the test. */
const SESSION_TIMEOUT_MS = 4000;
/** Generous: waits end as soon as the condition holds. */
const WAIT_MS = 60_000;

const hexId = (id: bigint): string => BigInt.asUintN(64, id).toString(16);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const waitFor = <T>(what: string, f: () => Promise<T | undefined>, timeout_ms = WAIT_MS, every_ms?: number): Promise<T> => poll(what, f, timeout_ms, every_ms);

type Mode = 'leader' | 'follower' | 'observer';
const expectedMode = (p: EnsemblePeer, leaderSid: number): Mode => (p.sid === leaderSid ? 'leader' : p.observer ? 'observer' : 'follower');

async function waitForModes(ens: ZkEnsemble, leaderSid: number, peers: EnsemblePeer[]): Promise<void> {
  await waitFor(`modes ${peers.map((p) => `${p.sid}:${expectedMode(p, leaderSid)}`).join(' ')} (logs in ${ens.dir})`, async () => {
    const modes = await Promise.all(peers.map((p) => p.mode()));
    return peers.every((p, i) => modes[i] === expectedMode(p, leaderSid)) ? true : undefined;
  });
}

/** The leader (and one voter) first so it wins the first election, then everyone else joins it. */
async function startEnsemble(peers: PeerSpec[], leaderSid: number): Promise<ZkEnsemble> {
  const ens = await startZkEnsemble({ peers, tickTime_ms: 1000, initLimit: 10, syncLimit: 5, env: { TSZK_LOG_LEVEL: 'info' }, deferStart: true });
  try {
    const leader = ens.peers[leaderSid - 1]!;
    const other = ens.peers.find((p) => !p.observer && p !== leader)!;
    await leader.start();
    await other.start();
    await waitForModes(ens, leaderSid, [leader, other]);
    for (const p of ens.peers) await p.start();
    await waitForModes(ens, leaderSid, ens.peers);
    return ens;
  } catch (e) {
    await ens.stop({ keepDir: true });
    throw e;
  }
}

/** One long-lived client per member for checks (reads its own member only). */
class Checkers {
  private readonly clients = new Map<number, ZooKeeperClient>();
  /** Connection losses of the checkers (none expected while their member runs), for diagnosis. */
  readonly disconnects: string[] = [];
  constructor(private readonly ens: ZkEnsemble) {}

  async at(p: EnsemblePeer): Promise<ZooKeeperClient> {
    const c = this.clients.get(p.sid);
    if (c !== undefined && c.isAlive) return c;
    const zk = await ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 15_000 });
    zk.onState((st) => {
      if (st === KeeperState.Disconnected)
        this.disconnects.push(`${new Date().toISOString()} checker on ${p.sid} (session 0x${hexId(zk.sessionId)}, ${zk.outstanding} outstanding)`);
    });
    this.clients.set(p.sid, zk);
    return zk;
  }

  /** Stat of `path` as each running member sees it after a sync through it. */
  async statEverywhere(path: string): Promise<Map<number, Stat | null>> {
    const out = new Map<number, Stat | null>();
    for (const p of this.ens.peers.filter((q) => q.running())) {
      const zk = await this.at(p);
      await zk.sync(path);
      out.set(p.sid, await zk.exists(path));
    }
    return out;
  }

  /** Resolves once no member (read without sync) has `path`. */
  async goneEverywhere(path: string, timeout_ms = WAIT_MS): Promise<void> {
    await waitFor(
      `${path} gone on every member`,
      async () => {
        for (const p of this.ens.peers.filter((q) => q.running())) if ((await (await this.at(p)).exists(path)) !== null) return undefined;
        return true;
      },
      timeout_ms,
    );
  }

  /** The tree under `root` through each running member (after sync), once all agree. */
  async sameTree(root: string): Promise<void> {
    let views: string[] = [];
    await waitFor(
      `the same ${root} on every running member`,
      async () => {
        views = [];
        for (const p of this.ens.peers.filter((q) => q.running())) views.push(`${p.sid}: ${showTree(await readTree(await this.at(p), root))}`);
        return views.every((v) => v.slice(v.indexOf(':')) === views[0]!.slice(views[0]!.indexOf(':'))) ? true : undefined;
      },
      20_000,
    ).catch((e: unknown) => assert.fail(`${String(e)}\n${views.join('\n')}`));
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) await c.close().catch(() => undefined);
    this.clients.clear();
  }
}

const showTree = (t: TreeNode[]): string => JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));

function ownersEverywhere(stats: Map<number, Stat | null>): string {
  return [...stats].map(([sid, s]) => `${sid}:${s === null ? 'none' : hexId(s.ephemeralOwner)}`).join(' ');
}

const logSize = (p: EnsemblePeer): number => (fs.existsSync(p.logFile) ? fs.statSync(p.logFile).size : 0);
const logLines = (p: EnsemblePeer, from = 0): string[] => fs.readFileSync(p.logFile, 'utf8').slice(from).split('\n');

/** ZooKeeper: "Expiring session 0x…, timeout of …ms exceeded"; tszk: {"session":"0x…",…"msg":"Expiring session"}. */
const expiryLines = (leader: EnsemblePeer, id: bigint): string[] =>
  logLines(leader).filter((l) => /Expiring session\b/.test(l) && l.includes(`0x${hexId(id)}`));

/** How a learner synced, from its own log. */
function syncModeOf(p: EnsemblePeer, from: number): string | undefined {
  for (const l of logLines(p, from)) {
    const m = p.kind === 'tszk' ? /syncing with leader by (DIFF|TRUNC|SNAP)/.exec(l) : /Getting a (diff|snapshot) from (?:the )?leader|(Truncat)/.exec(l);
    if (m) return (m[1] ?? m[2] ?? '').toUpperCase().replace('SNAPSHOT', 'SNAP').replace('TRUNCAT', 'TRUNC');
  }
  return undefined;
}

/** ZooKeeper log lines that mean a peer-to-peer packet broke something. */
const ZK_TROUBLE =
  /Unexpected exception in LearnerHandler|Exception causing shutdown|Failed to process|Exception when (following|observing)|NullPointerException|Unexpected exception/;
const CONNECTION_GONE = /^(java\.io\.EOFException|EndOfStreamException|java\.net\.SocketException: (Connection reset|Socket closed|Broken pipe))/;

/**
 * `upTo`: log sizes when the mix ended (the failover kills the only member of one kind; what the
 * rest log afterwards, e.g. ZooKeeper's own follower-shutdown races, is no tszk packet's doing).
 */
function checkHealth(t: TestContext, ens: ZkEnsemble, killed: EnsemblePeer[] = [], upTo = new Map<number, number>()): void {
  for (const p of ens.peers) {
    assert.ok(p.running() || killed.includes(p), `peer ${p.sid} (${p.kind}) is not running (log ${p.logFile})`);
    // Lines that start before the mark; the line after one (its exception) may lie past it.
    const text = fs.readFileSync(p.logFile, 'utf8');
    const cut = upTo.get(p.sid) ?? text.length;
    const lines = text.split('\n');
    const starts: number[] = [];
    for (let i = 0, at = 0; i < lines.length; at += lines[i]!.length + 1, i++) starts.push(at);
    // A peer this test killed, or a client that dropped its socket, ends a connection with EOF/reset: not a fault.
    const bad = lines.filter(
      (l, i) =>
        starts[i]! < cut &&
        (p.kind === 'zookeeper' ? ZK_TROUBLE.test(l) && !CONNECTION_GONE.test(lines[i + 1] ?? '') : /"level":60|quorum peer failed/.test(l)),
    );
    assert.deepEqual(bad.slice(0, 3), [], `peer ${p.sid} (${p.kind}) log ${p.logFile}`);
  }
  const f = checkTszkWire(ens);
  assert.deepEqual(f.strict, []);
  if (f.known.length > 0) t.diagnostic(`known wire gaps: ${f.known.join(' | ')}`);
}

/** Events a watcher received, with a wait for one that matches. */
class Events {
  readonly seen: WatchedEvent[] = [];
  readonly watcher = (e: WatchedEvent): void => void this.seen.push(e);
  async waitFor(type: EventType, path: string): Promise<void> {
    await waitFor(`event type ${type} on ${path} (seen ${JSON.stringify(this.seen)})`, async () =>
      this.seen.some((e) => e.type === type && e.path === path) ? true : undefined,
    );
  }
}

// ---------------------------------------------------------------- observers

async function observerCases(t: TestContext, ens: ZkEnsemble, leader: EnsemblePeer, observer: EnsemblePeer, checkers: Checkers): Promise<void> {
  const followers = ens.peers.filter((p) => p !== leader && !p.observer);
  const root = '/obs';

  await t.test(`${observer.kind} observer ${observer.sid}: srvr says observer`, async () => {
    assert.match(await observer.srvr(), /^Mode: observer$/m);
    assert.equal(await leader.mode(), 'leader');
  });

  await t.test(`writes through the ${observer.kind} observer (REQUEST to the ${leader.kind} leader) succeed; its session id is its own`, async () => {
    const zo = await ZooKeeperClient.connect(observer.connectString, { sessionTimeout_ms: SESSION_TIMEOUT_MS, connectWait_ms: 15_000 });
    try {
      assert.equal(creatorServerId(zo.sessionId), observer.sid, `session 0x${hexId(zo.sessionId)}`);
      assert.equal(await zo.create(root, 'observers'), root);
      await zo.create(`${root}/via-observer`, 'o');
      const seq = await zo.create(`${root}/via-observer/seq-`, 's', { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      assert.match(seq, /\/seq-\d{10}$/);
      const st = await zo.setData(`${root}/via-observer`, 'o2');
      assert.equal(st.version, 1);
      await zo.create(`${root}/via-observer/eph`, 'e', { mode: CreateMode.EPHEMERAL });
      const stats = await checkers.statEverywhere(`${root}/via-observer/eph`);
      for (const [sid, s] of stats) assert.equal(s?.ephemeralOwner, zo.sessionId, `member ${sid}: ${ownersEverywhere(stats)}`);
    } finally {
      await zo.close();
    }
    // closeSession through the observer removes its ephemeral everywhere (sync + read on each member).
    const after = await checkers.statEverywhere(`${root}/via-observer/eph`);
    assert.ok(
      [...after.values()].every((s) => s === null),
      ownersEverywhere(after),
    );
  });

  await t.test(`writes through the leader and followers reach the observer (INFORM); watch and sync+read through it see them`, async () => {
    const zl = await checkers.at(leader);
    await zl.create(`${root}/watched`, 'w0');
    const zo = await ZooKeeperClient.connect(observer.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 15_000 });
    try {
      const ev = new Events();
      await zo.sync(`${root}/watched`);
      await zo.getData(`${root}/watched`, ev.watcher);
      await zo.exists(`${root}/via-leader`, ev.watcher);
      await zl.setData(`${root}/watched`, 'w1');
      await zl.create(`${root}/via-leader`, 'l');
      for (const f of followers) await (await checkers.at(f)).create(`${root}/via-follower-${f.sid}`, `f${f.sid}`);
      await ev.waitFor(EventType.NodeDataChanged, `${root}/watched`);
      await ev.waitFor(EventType.NodeCreated, `${root}/via-leader`);
      // sync orders this read after everything the leader committed before it.
      await zo.sync(root);
      const kids = (await zo.getChildren(root)).sort();
      assert.deepEqual(kids, ['via-leader', 'via-observer', 'watched', ...followers.map((f) => `via-follower-${f.sid}`)].sort());
      assert.equal((await zo.getData(`${root}/watched`)).data?.toString(), 'w1');
    } finally {
      await zo.close();
    }
    const same = await waitForSameTree(ens, root);
    assert.ok(same.same, same.views.join('\n'));
  });

  await t.test(`the ${observer.kind} observer restarted after writes catches up`, async () => {
    await observer.kill();
    const zl = await checkers.at(leader);
    for (let i = 0; i < 10; i++) await zl.create(`${root}/while-down-${i}`, `d${i}`);
    await (await checkers.at(followers[0]!)).setData(`${root}/watched`, 'w2');
    const mark = logSize(observer);
    await observer.start();
    await waitForModes(ens, leader.sid, [observer]);
    const mode = await waitFor(`a sync mode in ${observer.logFile}`, async () => syncModeOf(observer, mark), 15_000);
    const zo = await ZooKeeperClient.connect(observer.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 15_000 });
    try {
      const kids = await zo.getChildren(root);
      // Without sync: what it holds right after its own sync with the leader.
      for (let i = 0; i < 10; i++) assert.ok(kids.includes(`while-down-${i}`), `observer lacks while-down-${i}: ${kids.join(',')}`);
      assert.equal((await zo.getData(`${root}/watched`)).data?.toString(), 'w2');
    } finally {
      await zo.close();
    }
    t.diagnostic(`${observer.kind} observer ${observer.sid} rejoined the ${leader.kind} leader by ${mode}`);
    // Not '/': each member's /zookeeper/config holds its own zoo.cfg view (see the report).
    const same = await waitForSameTree(ens, root);
    assert.ok(same.same, same.views.join('\n'));
  });
}

// ---------------------------------------------------------------- sessions

interface Held {
  zk: ZooKeeperClient;
  via: EnsemblePeer;
  eph: string;
  states: KeeperState[];
}

async function holdEphemeral(via: EnsemblePeer, eph: string): Promise<Held> {
  const zk = await ZooKeeperClient.connect(via.connectString, { sessionTimeout_ms: SESSION_TIMEOUT_MS, connectWait_ms: 15_000 });
  const states: KeeperState[] = [];
  zk.onState((s) => states.push(s));
  await zk.create(eph, via.kind, { mode: CreateMode.EPHEMERAL });
  return { zk, via, eph, states };
}

async function sessionCases(t: TestContext, ens: ZkEnsemble, leader: EnsemblePeer, checkers: Checkers): Promise<void> {
  const learners = ens.peers.filter((p) => p !== leader);
  const otherKind = learners.filter((p) => p.kind !== leader.kind);
  const follower = otherKind.find((p) => !p.observer)!;
  const follower2 = otherKind.find((p) => !p.observer && p !== follower) ?? follower;
  const root = '/sess';
  await (await checkers.at(leader)).create(root, 'sessions');

  await t.test(`sessions made through ${follower.kind} learners: vanished clients are expired by the ${leader.kind} leader, pinging ones are not`, async () => {
    const gone: Held[] = [];
    const live: Held[] = [];
    // A failed assertion must not leave clients reconnecting to a stopped ensemble.
    t.after(() => {
      for (const h of gone) h.zk.abandon();
      for (const h of live) h.zk.abandon();
    });
    for (const p of otherKind) {
      gone.push(await holdEphemeral(p, `${root}/abandoned-via-${p.sid}`));
      live.push(await holdEphemeral(p, `${root}/live-via-${p.sid}`));
    }
    const started_ms = Date.now();
    for (const h of [...gone, ...live])
      assert.equal(creatorServerId(h.zk.sessionId), h.via.sid, `session 0x${hexId(h.zk.sessionId)} made through ${h.via.sid}`);
    for (const h of gone) {
      const stats = await checkers.statEverywhere(h.eph);
      for (const [sid, s] of stats) assert.equal(s?.ephemeralOwner, h.zk.sessionId, `${h.eph} on ${sid}: ${ownersEverywhere(stats)}`);
    }
    // The client vanishes: the socket closes, no closeSession.
    for (const h of gone) h.zk.abandon();
    for (const h of gone) await checkers.goneEverywhere(h.eph);
    for (const h of gone)
      assert.ok(
        expiryLines(leader, h.zk.sessionId).length > 0,
        `the ${leader.kind} leader did not log expiring 0x${hexId(h.zk.sessionId)} (${leader.logFile})`,
      );
    // The resumed session is refused through a member of either kind.
    for (const p of [gone[0]!.via, leader]) {
      const h = gone[0]!;
      await assert.rejects(
        ZooKeeperClient.connect(p.connectString, {
          sessionId: h.zk.sessionId,
          sessionPasswd: h.zk.sessionPasswd,
          sessionTimeout_ms: SESSION_TIMEOUT_MS,
          connectWait_ms: 15_000,
        }),
        (e: unknown) => e instanceof KeeperError && e.code === Err.SessionExpired,
      );
    }
    // Live clients only ping, through their learner, for several session timeouts.
    const idle_ms = 3 * SESSION_TIMEOUT_MS - (Date.now() - started_ms);
    if (idle_ms > 0) await sleep(idle_ms);
    for (const h of live) {
      assert.equal(h.zk.state, 'connected', `${h.eph}: client state ${h.zk.state}`);
      assert.ok(!h.states.includes(KeeperState.Expired), `${h.eph}: states ${h.states.join(',')}`);
      assert.deepEqual(expiryLines(leader, h.zk.sessionId), []);
      const stats = await checkers.statEverywhere(h.eph);
      for (const [sid, s] of stats) assert.equal(s?.ephemeralOwner, h.zk.sessionId, `${h.eph} on ${sid}: ${ownersEverywhere(stats)}`);
      await h.zk.setData(h.eph, 'still here');
    }
    // closeSession through a learner of either kind (followers and observers): gone everywhere.
    for (const h of live) await h.zk.close();
    for (const h of live) {
      const stats = await checkers.statEverywhere(h.eph);
      assert.ok(
        [...stats.values()].every((s) => s === null),
        `${h.eph} after closeSession via ${h.via.sid}: ${ownersEverywhere(stats)}`,
      );
    }
  });

  await t.test(
    `a session moves between a ${follower.kind} member (follower or observer) and a ${leader.kind} member (REVALIDATE): ephemeral and watches kept`,
    async () => {
      const observer = learners.find((p) => p.observer)!;
      const moves: [EnsemblePeer, EnsemblePeer][] = [
        [follower, leader],
        [leader, follower2],
        [leader, observer],
      ];
      const writer = await checkers.at(learners.find((p) => p !== follower && p !== follower2) ?? leader);
      const run = async ([from, to]: [EnsemblePeer, EnsemblePeer], i: number): Promise<string> => {
        const base = `${root}/move-${i}`;
        await writer.create(base, 'm');
        const zk = await ZooKeeperClient.connect(`${from.connectString},${to.connectString}`, {
          sessionTimeout_ms: SESSION_TIMEOUT_MS,
          connectWait_ms: 15_000,
        });
        const states: KeeperState[] = [];
        zk.onState((s) => states.push(s));
        try {
          assert.equal(zk.currentHost?.port, from.clientPort);
          const id = zk.sessionId;
          assert.equal(creatorServerId(id), from.sid);
          await zk.create(`${base}/eph`, 'e', { mode: CreateMode.EPHEMERAL });
          const ev = new Events();
          await zk.getData(base, ev.watcher);
          await zk.getChildren(base, ev.watcher);
          await zk.exists(`${base}/later`, ev.watcher);
          // The target must have applied what the client saw, or it refuses the client.
          await (await checkers.at(to)).sync(base);
          await waitFor(
            `client to move to ${to.sid}`,
            async () => {
              if (zk.state === 'connected' && zk.currentHost?.port === to.clientPort) return true;
              if (zk.state === 'connected') zk.dropConnection();
              return undefined;
            },
            30_000,
            500,
          );
          assert.equal(zk.sessionId, id);
          const stats = await checkers.statEverywhere(`${base}/eph`);
          for (const [sid, s] of stats) assert.equal(s?.ephemeralOwner, id, `after the move, member ${sid}: ${ownersEverywhere(stats)}`);
          // Watches set through `from` fire through `to` (the client re-set them with SetWatches).
          await writer.setData(base, 'm2');
          await writer.create(`${base}/later`, 'l');
          await ev.waitFor(EventType.NodeDataChanged, base);
          await ev.waitFor(EventType.NodeChildrenChanged, base);
          await ev.waitFor(EventType.NodeCreated, `${base}/later`);
          // Several timeouts idle on its new member: activity reaches the leader, no expiry, and
          // the session's writes through its new member are not SessionMoved.
          await sleep(2 * SESSION_TIMEOUT_MS);
          assert.equal(zk.state, 'connected', `states ${states.join(',')}`);
          assert.ok(!states.includes(KeeperState.Expired));
          assert.equal(zk.currentHost?.port, to.clientPort);
          await zk.setData(`${base}/eph`, 'moved');
          const again = await checkers.statEverywhere(`${base}/eph`);
          for (const [sid, s] of again) assert.equal(s?.ephemeralOwner, id, `member ${sid}: ${ownersEverywhere(again)}`);
          await zk.close();
          const closed = await checkers.statEverywhere(`${base}/eph`);
          assert.ok(
            [...closed.values()].every((s) => s === null),
            `after closeSession via ${to.sid}: ${ownersEverywhere(closed)}`,
          );
          return `0x${hexId(id)} ${from.kind} ${from.sid} -> ${to.kind} ${to.sid}`;
        } finally {
          await zk.close().catch(() => undefined);
        }
      };
      const done = await Promise.all(moves.map((m, i) => run(m, i)));
      t.diagnostic(`moved: ${done.join('; ')}`);
      const same = await waitForSameTree(ens, root);
      assert.ok(same.same, same.views.join('\n'));
    },
  );

  await t.test('a connection its session has left cannot write (SessionMoved), across kinds', async () => {
    const moves: [EnsemblePeer, EnsemblePeer][] = [
      [follower, leader],
      [leader, follower2],
    ];
    const outcomes: string[] = [];
    for (const [i, [from, to]] of moves.entries()) {
      const old = await RawSession.open(from.clientPort, { timeOut: SESSION_TIMEOUT_MS });
      const eph = `${root}/left-${i}`;
      const create = (path: string, flags: number): R.CreateRequest => ({
        path,
        data: Buffer.from('x'),
        acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
        flags,
      });
      try {
        assert.equal((await old.call(OpCode.create, body(R.CreateRequest, create(eph, CreateMode.EPHEMERAL)))).err, 0);
        await (await checkers.at(to)).sync(root);
        // The same session on `to` while the old socket on `from` stays open.
        const moved = await RawConnection.open(to.clientPort);
        try {
          const resp = await moved.handshake({ sessionId: old.sessionId, passwd: old.passwd, timeOut: SESSION_TIMEOUT_MS, lastZxidSeen: old.lastZxid });
          assert.equal(resp.sessionId, old.sessionId, 'resume refused');
          const stray = `${root}/stray-${i}`;
          let outcome: string;
          try {
            const r = await old.call(OpCode.create, body(R.CreateRequest, create(stray, CreateMode.PERSISTENT)));
            outcome = `reply err ${r.err}`;
            assert.equal(r.err, Err.SessionMoved, `write through the left connection on ${from.kind} ${from.sid}`);
          } catch (e) {
            if (!old.conn.closed) throw e;
            outcome = 'connection closed';
          }
          outcomes.push(`${from.kind} ${from.sid} -> ${to.kind} ${to.sid}: ${outcome}`);
          const strayStats = await checkers.statEverywhere(stray);
          assert.ok(
            [...strayStats.values()].every((st) => st === null),
            `stray write happened: ${ownersEverywhere(strayStats)}`,
          );
          const stats = await checkers.statEverywhere(eph);
          for (const [sid, st] of stats) assert.equal(st?.ephemeralOwner, old.sessionId, `member ${sid}: ${ownersEverywhere(stats)}`);
          // Still the session's: closeSession through its new member removes the ephemeral everywhere.
          moved.send(1, OpCode.closeSession);
          await moved.until(1).catch(() => undefined);
        } finally {
          moved.close();
        }
        const after = await checkers.statEverywhere(eph);
        assert.ok(
          [...after.values()].every((st) => st === null),
          ownersEverywhere(after),
        );
      } finally {
        old.conn.close();
      }
    }
    t.diagnostic(`left connections: ${outcomes.join('; ')}`);
  });
}

/**
 * The follower that will lead next rejoins with an empty dataDir, so it learns the sessions from the
 * other kind's SNAP; then the leader dies: that follower takes over, restores every session with a
 * fresh timeout, expires the one whose client vanished and keeps the one whose client reconnects.
 */
async function failoverCases(t: TestContext, ens: ZkEnsemble, leader: EnsemblePeer, checkers: Checkers, marks: Map<number, number>): Promise<void> {
  const voters = ens.peers.filter((p) => p !== leader && !p.observer);
  const next = voters.reduce((a, b) => (b.sid > a.sid ? b : a));
  const root = '/fo';
  await t.test(
    `${next.kind} ${next.sid} rejoins by SNAP (empty dataDir), then the ${leader.kind} leader dies: ${next.kind} ${next.sid} leads, expires the vanished session and keeps the live one`,
    async () => {
      await (await checkers.at(leader)).create(root, 'failover');
      const liveVia = voters.find((p) => p !== next) ?? next;
      const survivors = ens.peers.filter((p) => p !== leader);
      const live = await ZooKeeperClient.connect(survivors.map((p) => p.connectString).join(','), { sessionTimeout_ms: 20_000, connectWait_ms: 15_000 });
      const liveStates: KeeperState[] = [];
      live.onState((st) => liveStates.push(st));
      const gone = await holdEphemeral(liveVia, `${root}/gone`);
      try {
        await live.create(`${root}/live`, 'l', { mode: CreateMode.EPHEMERAL });
        await next.kill();
        fs.rmSync(`${next.dataDir}/version-2`, { recursive: true, force: true });
        const mark = logSize(next);
        await next.start();
        await waitForModes(ens, leader.sid, [next]);
        // The log line may reach the file after srvr already says follower.
        const mode = await waitFor(`a sync mode in ${next.logFile}`, async () => syncModeOf(next, mark), 15_000);
        t.diagnostic(`${next.kind} ${next.sid} with an empty dataDir joined the ${leader.kind} leader by ${mode}`);
        // The sessions it will own as leader arrive in the other kind's snapshot (B: tszk's snapCount/commitLogCount are small).
        assert.equal(mode, 'SNAP', next.logFile);
        await checkers.sameTree(root);
        gone.zk.abandon();
        for (const p of ens.peers) marks.set(p.sid, logSize(p));
        await leader.kill();
        await waitForModes(ens, next.sid, survivors);
        await checkers.goneEverywhere(gone.eph);
        assert.ok(
          expiryLines(next, gone.zk.sessionId).length > 0,
          `new ${next.kind} leader did not log expiring 0x${hexId(gone.zk.sessionId)} (${next.logFile})`,
        );
        await waitFor('the live client to reconnect', async () => (live.state === 'connected' ? true : undefined));
        await live.setData(`${root}/live`, 'after failover');
        assert.ok(!liveStates.includes(KeeperState.Expired), liveStates.join(','));
        const stats = await checkers.statEverywhere(`${root}/live`);
        for (const [sid, st] of stats) assert.equal(st?.ephemeralOwner, live.sessionId, `member ${sid}: ${ownersEverywhere(stats)}`);
        for (const r of ['/obs', '/sess', root]) await checkers.sameTree(r);
      } finally {
        gone.zk.abandon();
        await live.close();
      }
      const after = await checkers.statEverywhere(`${root}/live`);
      assert.ok(
        [...after.values()].every((st) => st === null),
        ownersEverywhere(after),
      );
    },
  );
}

// ---------------------------------------------------------------- the ensembles

const A: PeerSpec[] = [{ kind: 'tszk' }, { kind: 'tszk' }, { kind: 'zookeeper' }, { kind: 'tszk', observer: true }];
/** The tszk leader snapshots every 20 txns and keeps 10 in memory, so an empty learner gets a SNAP. */
const B: PeerSpec[] = [
  { kind: 'zookeeper' },
  { kind: 'zookeeper' },
  { kind: 'tszk', cfg: { snapCount: 20, commitLogCount: 10 } },
  { kind: 'zookeeper', observer: true },
];

for (const [name, specs] of [
  ['ZooKeeper leader, tszk followers and observer', A],
  ['tszk leader, ZooKeeper followers and observer', B],
] as const) {
  test(`mixed observers and sessions: ${name}`, { skip, timeout: 180_000 }, async (t) => {
    if (missing) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${missing}`);
    const ens = await startEnsemble([...specs], 3);
    const checkers = new Checkers(ens);
    try {
      const leader = ens.peers[2]!;
      const observer = ens.peers[3]!;
      await observerCases(t, ens, leader, observer, checkers);
      await sessionCases(t, ens, leader, checkers);
      const marks = new Map<number, number>();
      await failoverCases(t, ens, leader, checkers, marks);
      await t.test('no peer crashed; no ZooKeeper peer logged an exception while both kinds ran; tszk packets follow the wire rules', () =>
        checkHealth(t, ens, [leader], marks),
      );
    } finally {
      if (checkers.disconnects.length > 0) t.diagnostic(`checker disconnects: ${checkers.disconnects.join('; ')} (logs in ${ens.dir})`);
      await checkers.close();
      await ens.stop({ keepDir });
    }
  });
}

test('zoo.cfg localSessionsEnabled: parsed for the quorum leader (true/false only, default false)', () => {
  const base = 'tickTime=1000\ndataDir=/tmp/x\nclientPort=2181\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n';
  assert.equal(parseZooCfg(base).localSessionsEnabled, false);
  assert.equal(parseZooCfg(`${base}localSessionsEnabled=true\n`).localSessionsEnabled, true);
  assert.equal(parseZooCfg(`${base}localSessionsEnabled=FALSE\n`).localSessionsEnabled, false);
  assert.throws(() => parseZooCfg(`${base}localSessionsEnabled=yes\n`), /localSessionsEnabled/);
  assert.deepEqual(parseZooCfg(`${base}localSessionsEnabled=true\nlocalSessionsUpgradingEnabled=true\n`).warnings, []);
});

for (const tszkLocal of [true, false]) {
  const name = tszkLocal ? 'localSessionsEnabled on every member' : 'localSessionsEnabled on the ZooKeeper members only';
  test(`mixed local sessions: ZooKeeper followers with local sessions under a tszk leader, ${name}`, { skip, timeout: 150_000 }, async (t) => {
    if (missing) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${missing}`);
    // tszk makes no local sessions itself; as the leader, with the key set, it lets the ZooKeeper
    // members' local sessions write (LeaderSessionTracker.checkSession), without it it answers
    // SessionExpired, as a ZooKeeper leader without the key does.
    const ens = await startEnsemble(
      [
        { kind: 'zookeeper', cfg: ZK_LOCAL_SESSIONS },
        { kind: 'zookeeper', cfg: ZK_LOCAL_SESSIONS },
        { kind: 'tszk', cfg: tszkLocal ? ZK_LOCAL_SESSIONS : {} },
      ],
      3,
    );
    const checkers = new Checkers(ens);
    try {
      const leader = ens.peers[2]!;
      const zkf = ens.peers[0]!;
      await (await checkers.at(leader)).create('/local', 'l');

      await t.test('a local session reads through its ZooKeeper follower', async () => {
        const zk = await ZooKeeperClient.connect(zkf.connectString, { sessionTimeout_ms: SESSION_TIMEOUT_MS, connectWait_ms: 15_000 });
        try {
          assert.equal(creatorServerId(zk.sessionId), zkf.sid);
          await zk.sync('/local');
          assert.equal((await zk.getData('/local')).data?.toString(), 'l');
        } finally {
          await zk.close();
        }
      });

      await t.test('an ephemeral upgrades the local session (createSession to the tszk leader); close and expiry remove it everywhere', async () => {
        const kept = await holdEphemeral(zkf, '/local/eph-closed');
        const gone = await holdEphemeral(zkf, '/local/eph-abandoned');
        for (const h of [kept, gone]) {
          assert.equal(creatorServerId(h.zk.sessionId), zkf.sid);
          const stats = await checkers.statEverywhere(h.eph);
          for (const [sid, st] of stats) assert.equal(st?.ephemeralOwner, h.zk.sessionId, `${h.eph} on ${sid}: ${ownersEverywhere(stats)}`);
        }
        gone.zk.abandon();
        await checkers.goneEverywhere(gone.eph);
        assert.ok(expiryLines(leader, gone.zk.sessionId).length > 0, `tszk leader did not expire 0x${hexId(gone.zk.sessionId)}`);
        assert.equal(kept.zk.state, 'connected');
        await kept.zk.setData(kept.eph, 'upgraded and alive');
        await kept.zk.close();
        const stats = await checkers.statEverywhere(kept.eph);
        assert.ok(
          [...stats.values()].every((st) => st === null),
          ownersEverywhere(stats),
        );
      });

      await t.test(
        `a persistent write from a local (never upgraded) session through a ZooKeeper follower ${tszkLocal ? 'succeeds' : 'gets SessionExpired'}`,
        async () => {
          const path = '/local/persistent-from-local-session';
          const zk = await ZooKeeperClient.connect(zkf.connectString, { sessionTimeout_ms: SESSION_TIMEOUT_MS, connectWait_ms: 15_000 });
          try {
            if (tszkLocal) {
              await zk.create(path, 'p');
              await zk.setData(path, 'p2');
            } else {
              await assert.rejects(zk.create(path, 'p'), (e: unknown) => e instanceof KeeperError && e.code === Err.SessionExpired);
            }
          } finally {
            await zk.close();
          }
          const stats = await checkers.statEverywhere(path);
          for (const [sid, st] of stats) assert.equal(st?.version, tszkLocal ? 1 : undefined, `member ${sid}`);
        },
      );

      await t.test('no peer crashed; no ZooKeeper peer logged an exception', () => checkHealth(t, ens));
    } finally {
      await checkers.close();
      await ens.stop({ keepDir });
    }
  });
}
