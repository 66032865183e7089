/**
 * Rolling migration (issue 6, must-show 2): three Apache ZooKeeper 3.8 peers under client load are
 * replaced one by one by tszk peers on the same sid, ports, dataDir and zoo.cfg, ending with three
 * tszk peers. Checked: no acknowledged write is lost (every member, after sync), all members hold
 * the same tree, no session with a live client expires (ephemerals kept, holders still usable),
 * and each step's learner sync mode is reported from the new peer's log. Then every tszk peer is
 * restarted once under load (followers, then the leader: recovery from the dataDirs ZooKeeper and
 * tszk wrote), and at the end each member's dataDir, recovered offline, must hold the tree it
 * served. ZooKeeper snapshots every 50-100 txns here, so tszk reads fuzzy snapshots.
 *
 * Order: a follower first (the highest sid), then the current leader, then the remaining ZooKeeper
 * peer (leader or follower, whatever the second election made it). TSZK_MIGRATION_ORDER=leader-first starts with
 * the leader instead.
 *
 * Stopping a ZooKeeper peer uses SIGTERM by default: it is what `zkServer.sh stop` sends, i.e. what
 * an operator's rolling restart does; ZooKeeper fsyncs every txn before acking, so SIGKILL keeps
 * the same durable state (TSZK_MIGRATION_SIGNAL=SIGKILL runs that variant).
 *
 * `npm run test:migration:long` (TSZK_MIGRATION_LONG=1) runs more lanes, faster, longer between
 * steps, two restart rounds. Knobs: TSZK_MIGRATION_{LANES,RATE,SETTLE_MS,SNAPCOUNT,RESTART_ROUNDS},
 * TSZK_MIGRATION_WIPE=1 (restarted followers start from an empty dataDir: SNAP under load),
 * TSZK_KEEP_MIXED=1 keeps the peers' logs and dataDirs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ZooKeeperClient, KeeperError, Err, errName, KeeperState, CreateMode, op } from '../../src/client/index.js';
import { startZkEnsemble, type EnsemblePeer, type PeerKind, type ZkEnsemble } from '../support/zk-ensemble.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { digestOf, dumpTree, sleep, withTimeout } from '../faults/helpers.js';
import { openDatabase } from '../../src/storage/database.js';
import type { ZkDatabase } from '../../src/txn/database.js';

const missing = zookeeperMissing();
const skip = missing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? missing : undefined;

const env = (k: string, d: number): number => (process.env[k] === undefined ? d : Number(process.env[k]));
const LONG = process.env['TSZK_MIGRATION_LONG'] === '1';
const CFG = {
  lanes: env('TSZK_MIGRATION_LANES', LONG ? 6 : 3),
  holders: env('TSZK_MIGRATION_HOLDERS', 3),
  /** Writes per second per lane (one in flight at a time). */
  laneRate_per_s: env('TSZK_MIGRATION_RATE', LONG ? 30 : 12),
  /** Load time before the first step and after each step. */
  settle_ms: env('TSZK_MIGRATION_SETTLE_MS', LONG ? 15_000 : 4_000),
  holderTimeout_ms: 9_000,
  writerTimeout_ms: 15_000,
  /** ZooKeeper snapshots every snapCount/2..snapCount txns: fuzzy snapshots under load for tszk to read. */
  snapCount: env('TSZK_MIGRATION_SNAPCOUNT', LONG ? 200 : 100),
  signal: (process.env['TSZK_MIGRATION_SIGNAL'] ?? 'SIGTERM') as NodeJS.Signals,
  leaderFirst: process.env['TSZK_MIGRATION_ORDER'] === 'leader-first',
  /** After the migration, restart every tszk peer this many times (followers, then the leader): they recover from the dataDirs ZooKeeper and tszk wrote. */
  restartRounds: env('TSZK_MIGRATION_RESTART_ROUNDS', LONG ? 2 : 1),
  /** Restart rounds start followers with an empty dataDir (SNAP from a leader under load). */
  wipeFollowers: process.env['TSZK_MIGRATION_WIPE'] === '1',
};
/** A follower behind by fewer txns than this rejoins by DIFF (leaders keep commitLogCount = 500 committed txns in memory). */
const DIFF_GAP_MAX = 300;

// ---------------------------------------------------------------- load

interface Versioned {
  data: string;
  version: number;
}

/** One writer session: creates unique znodes, sets its counter node, and now and then both in a multi. */
class Lane {
  /** Acknowledged creates: path → data (version 0, never set again). */
  readonly created = new Map<string, string>();
  /** Acknowledged setData on the counter node, in ack order. */
  readonly sets: Versioned[] = [];
  /** Writes whose outcome is unknown (connection lost while in flight). */
  readonly uncertainCreates = new Set<string>();
  readonly uncertainSets: string[] = [];
  readonly errors = new Map<string, number>();
  expired = false;
  private stopped = false;
  private done: Promise<void> = Promise.resolve();
  readonly base: string;
  readonly ctr: string;

  constructor(
    readonly id: number,
    readonly zk: ZooKeeperClient,
  ) {
    this.base = `/mig/l${id}`;
    this.ctr = `${this.base}/ctr`;
  }

  get acked(): number {
    return this.created.size + this.sets.length;
  }

  async start(): Promise<void> {
    await this.zk.create(this.base, `lane ${this.id}`);
    await this.zk.create(this.ctr, 'init');
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    const pause_ms = 1000 / CFG.laneRate_per_s;
    for (let k = 0; !this.stopped; k++) {
      const node = `${this.base}/n${k}`;
      const data = `l${this.id}:${k}`;
      const kind = k % 10 === 9 ? 'multi' : k % 2 === 0 ? 'create' : 'set';
      try {
        if (kind === 'create') {
          await withTimeout(this.zk.create(node, data), 30_000, `create ${node}`);
          this.created.set(node, data);
        } else if (kind === 'set') {
          const stat = await withTimeout(this.zk.setData(this.ctr, data), 30_000, `set ${this.ctr}`);
          this.sets.push({ data, version: stat.version });
        } else {
          const res = await withTimeout(this.zk.multi([op.create(node, data), op.setData(this.ctr, data)]), 30_000, `multi ${node}`);
          const set = res[1];
          if (set?.type !== 'setData') throw new Error(`multi answered ${res.map((x) => x.type).join(',')}`);
          this.created.set(node, data);
          this.sets.push({ data, version: set.stat.version });
        }
      } catch (e) {
        const name = e instanceof KeeperError ? errName(e.code) : (e as Error).message.slice(0, 60);
        this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
        if (e instanceof KeeperError && e.code === Err.SessionExpired) {
          this.expired = true;
          return;
        }
        if (kind !== 'set') this.uncertainCreates.add(node);
        if (kind !== 'create') this.uncertainSets.push(data);
        await sleep(50);
      }
      await sleep(pause_ms);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** A session that owns one ephemeral znode and records every state its client goes through. */
class Holder {
  readonly states: string[] = [];
  expired = false;
  readonly path: string;

  constructor(
    readonly id: number,
    readonly zk: ZooKeeperClient,
  ) {
    this.path = `/mig-holders/h${id}`;
    zk.onState((s) => {
      this.states.push(Object.entries(KeeperState).find(([, v]) => v === s)?.[0] ?? String(s));
      if (s === KeeperState.Expired) this.expired = true;
    });
  }
}

/** The members' connect strings, starting at member `i` (so clients spread over the members and fail over to all). */
const rotated = (ens: ZkEnsemble, i: number): string => ens.peers.map((_, j) => ens.peers[(i + j) % ens.peers.length]!.connectString).join(',');

// ---------------------------------------------------------------- logs

const logSize = (p: EnsemblePeer): number => (fs.existsSync(p.logFile) ? fs.statSync(p.logFile).size : 0);
const logSince = (p: EnsemblePeer, from: number): string => (fs.existsSync(p.logFile) ? fs.readFileSync(p.logFile).subarray(from).toString('utf8') : '');

type SyncMode = 'DIFF' | 'SNAP' | 'TRUNC';

/** The sync modes a tszk peer logged as a learner in `text` (pino JSON lines). */
function tszkSyncModes(text: string): SyncMode[] {
  const out: SyncMode[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line) as { msg?: string; mode?: string };
      if (j.msg?.startsWith('syncing with leader') && (j.mode === 'DIFF' || j.mode === 'SNAP' || j.mode === 'TRUNC')) out.push(j.mode);
    } catch {
      /* a partial line */
    }
  }
  return out;
}

/** tszk log records at error/fatal level (pino: 50, 60). */
function tszkErrors(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('{') && /"level":(50|60)/.test(l));
}

/**
 * ZooKeeper log lines that mean a tszk packet or state upset it: exceptions other than the
 * socket closing under it (a peer that is stopped on purpose closes its sockets).
 */
function zookeeperComplaints(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!/ (ERROR|WARN) |Exception/.test(l) || !/Exception|Unexpected|Failed to process|Severe/.test(l)) continue;
    const around = lines.slice(i, i + 3).join(' ');
    if (
      /ZooKeeperServer not running|EOFException|SocketException|Connection reset|Broken pipe|Socket closed|ConnectException|Connection refused|SocketTimeoutException|Interrupted|shutdown called|Closing connection to peer/.test(
        around,
      )
    )
      continue;
    out.push(l.slice(0, 300));
  }
  return out;
}

const zxidOf = async (p: EnsemblePeer): Promise<bigint | undefined> => {
  try {
    const m = /Zxid: (0x[0-9a-f]+)/i.exec(await p.srvr());
    return m ? BigInt(m[1]!) : undefined;
  } catch {
    return undefined;
  }
};
const counterOf = (z: bigint): bigint => z & 0xffffffffn;
const hex = (z: bigint | undefined): string => (z === undefined ? '?' : `0x${z.toString(16)}`);

// ---------------------------------------------------------------- steps

interface StepReport {
  step: number;
  sid: number;
  replaced: string;
  role: string;
  leaderBefore: string;
  leaderAfter: string;
  syncMode: SyncMode | 'none';
  expected: string;
  gapTxns: string;
  downtime_ms: number;
  acked: number;
}

async function waitForSyncMode(p: EnsemblePeer, mark: number, timeout_ms: number): Promise<SyncMode | 'none'> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const modes = tszkSyncModes(logSince(p, mark));
    if (modes.length > 0) return modes[0]!;
    if (Date.now() > deadline) return 'none';
    await sleep(200);
  }
}

/** A client on exactly this member can sync and read the lanes' root: it serves. */
async function serves(p: EnsemblePeer): Promise<void> {
  const zk = await withTimeout(ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 20_000 }), 25_000, `connect ${p.sid}`);
  try {
    await withTimeout(zk.sync('/mig'), 10_000, `sync via ${p.sid}`);
    await withTimeout(zk.getChildren('/mig'), 10_000, `read via ${p.sid}`);
  } finally {
    await zk.close().catch(() => undefined);
  }
}

/** The tree of a recovered database in dumpTree's line format. */
function dumpDatabase(db: ZkDatabase): string[] {
  const out: string[] = [];
  for (const [p, n] of db.tree.nodes()) {
    if (p === '/zookeeper' || p.startsWith('/zookeeper/')) continue;
    // The client-visible stat (cversion as ZooKeeper reports it), as dumpTree reads it.
    const st = n.toStat();
    out.push(`${p} v${st.version} c${st.cversion} ${n.data === null ? '-' : n.data.toString('base64')}`);
  }
  return out.sort();
}

const total = (lanes: Lane[]): number => lanes.reduce((n, l) => n + l.acked, 0);

test('rolling migration: 3 ZooKeeper peers replaced one by one by tszk peers under load', { skip, timeout: LONG ? 900_000 : 240_000 }, async (t) => {
  if (missing) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${missing}`);
  const kinds: PeerKind[] = ['zookeeper', 'zookeeper', 'zookeeper'];
  const ens = await startZkEnsemble({
    peers: kinds.map((kind) => ({ kind })),
    tickTime_ms: 1000,
    initLimit: 10,
    syncLimit: 5,
    cfg: { snapCount: CFG.snapCount },
    env: { TSZK_LOG_LEVEL: 'info' },
  });
  const lanes: Lane[] = [];
  const holders: Holder[] = [];
  const others: ZooKeeperClient[] = [];
  const report: StepReport[] = [];
  let keep = process.env['TSZK_KEEP_MIXED'] === '1';
  try {
    await ens.waitForQuorum(90_000);
    const setup = await ZooKeeperClient.connect(ens.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 20_000 });
    others.push(setup);
    await setup.create('/mig', 'migration');
    await setup.create('/mig-holders', 'holders');
    for (let i = 0; i < CFG.holders; i++) {
      const zk = new ZooKeeperClient(rotated(ens, i), { sessionTimeout_ms: CFG.holderTimeout_ms, connectWait_ms: 20_000 });
      const h = new Holder(i, zk);
      await zk.connected();
      await zk.create(h.path, `held by 0x${zk.sessionId.toString(16)}`, { mode: CreateMode.EPHEMERAL });
      holders.push(h);
    }
    for (let i = 0; i < CFG.lanes; i++) {
      const zk = await ZooKeeperClient.connect(rotated(ens, i), { sessionTimeout_ms: CFG.writerTimeout_ms, connectWait_ms: 20_000 });
      const lane = new Lane(i, zk);
      await lane.start();
      lanes.push(lane);
    }
    await sleep(CFG.settle_ms);
    t.diagnostic(`config ${JSON.stringify(CFG)}; logs in ${ens.dir}`);

    const n = ens.peers.length;
    const restarted = new Set<number>();
    for (let step = 1; step <= n * (1 + CFG.restartRounds); step++) {
      const leader = await ens.waitForQuorum(90_000);
      const migrating = step <= n;
      let target: EnsemblePeer;
      if (migrating) {
        // Highest sid first: when the leader goes next, that tszk peer outranks the remaining
        // ZooKeeper follower at equal zxid, so a tszk leader serves a ZooKeeper follower for a step.
        const followers = ens.peers.filter((p) => p.kind === 'zookeeper' && p !== leader).sort((x, y) => y.sid - x.sid);
        // Step 1: a follower (or the leader with leader-first); step 2: the leader if still ZooKeeper.
        const wantLeader = CFG.leaderFirst ? step === 1 : step === 2;
        target = (wantLeader && leader.kind === 'zookeeper') || followers.length === 0 ? leader : followers[0]!;
      } else {
        // Restart rounds: every tszk peer once, followers first, then the leader.
        if ((step - 1) % n === 0) restarted.clear();
        target = ens.peers.find((p) => p !== leader && !restarted.has(p.sid)) ?? leader;
        restarted.add(target.sid);
      }
      const role = target === leader ? 'leader' : 'follower';
      const zxidBefore = await zxidOf(target);
      const leaderBefore = `${leader.sid}:${leader.kind}`;

      const t0 = Date.now();
      await target.kill(CFG.signal);
      if (migrating) target.switchKind('tszk');
      // Re-seed a restarted follower from nothing: it must come back by SNAP from a leader under load.
      const wiped = !migrating && CFG.wipeFollowers && role === 'follower';
      if (wiped) fs.rmSync(path.join(target.dataDir, 'version-2'), { recursive: true, force: true });
      // An operator restarts a leader once the others have elected a new one. Back sooner (tszk
      // starts in about 0.2 s, before ZooKeeper's election ends), it can win again with its
      // higher sid at equal zxids, and the step would test no learner sync at all.
      if (role === 'leader') await ens.waitForQuorum(90_000);
      const mark = logSize(target);
      await target.start();
      const newLeader = await ens.waitForQuorum(120_000);
      const mode = await waitForSyncMode(target, mark, 30_000);
      await serves(target);
      const downtime_ms = Date.now() - t0;
      const leaderZxid = await zxidOf(newLeader);

      // Expected mode: a follower rejoining the same leader, a few txns behind, gets DIFF. After a
      // leader change the old leader may hold a proposal the new one never saw (TRUNC) or not (DIFF).
      const gap =
        zxidBefore !== undefined && leaderZxid !== undefined && leaderZxid >> 32n === zxidBefore >> 32n
          ? counterOf(leaderZxid) - counterOf(zxidBefore)
          : undefined;
      const sameLeader = newLeader === leader;
      // Leaders of both kinds keep their last commitLogCount (500) committed txns in memory, across
      // snapshots, so a follower fewer txns behind than that gets DIFF.
      const expected =
        wiped && sameLeader
          ? ['SNAP']
          : !sameLeader
            ? ['DIFF', 'TRUNC', 'SNAP']
            : gap !== undefined && gap < BigInt(DIFF_GAP_MAX)
              ? ['DIFF']
              : ['DIFF', 'SNAP'];
      const r: StepReport = {
        step,
        sid: target.sid,
        replaced: migrating ? `zookeeper→tszk (${role})` : `tszk restart (${role}${wiped ? ', wiped' : ''})`,
        role,
        leaderBefore,
        leaderAfter: `${newLeader.sid}:${newLeader.kind}`,
        syncMode: mode,
        expected: expected.join('|'),
        gapTxns: gap === undefined ? `? (${hex(zxidBefore)}→${hex(leaderZxid)})` : String(gap),
        downtime_ms,
        acked: total(lanes),
      };
      report.push(r);
      console.log(`step ${JSON.stringify(r)}`);
      assert.ok(mode !== 'none', `step ${step}: peer ${target.sid} logged no sync mode (log ${target.logFile})`);
      assert.ok(expected.includes(mode), `step ${step}: peer ${target.sid} synced by ${mode}, expected ${expected.join('|')} (gap ${r.gapTxns})`);
      await sleep(CFG.settle_ms);
      for (const p of ens.peers) assert.ok(p.running(), `step ${step}: peer ${p.sid} (${p.kind}) exited (log ${p.logFile})`);
    }

    // ---- the end state: 3 tszk peers
    for (const l of lanes) await l.stop();
    const leader = await ens.waitForQuorum(60_000);
    assert.ok(ens.peers.every((p) => p.kind === 'tszk'));
    for (const p of ens.peers) assert.ok(p.running(), `peer ${p.sid} exited (log ${p.logFile})`);
    // Writes were acked until the lanes stopped: the last steps ran under load too.
    assert.ok(
      report.every((r, i) => i === 0 || r.acked > report[i - 1]!.acked),
      'load stalled between steps',
    );
    const ackedTotal = total(lanes);
    const uncertain = lanes.reduce((n, l) => n + l.uncertainCreates.size + l.uncertainSets.length, 0);
    const errs = new Map<string, number>();
    for (const l of lanes) for (const [k, v] of l.errors) errs.set(k, (errs.get(k) ?? 0) + v);

    console.log('\nrolling migration report');
    console.log('step  sid  replaced                        leader before   leader after   sync   expected         gap txns  down ms  writes acked');
    for (const r of report)
      console.log(
        `${String(r.step).padEnd(6)}${String(r.sid).padEnd(5)}${r.replaced.padEnd(32)}${r.leaderBefore.padEnd(16)}${r.leaderAfter.padEnd(15)}${r.syncMode.padEnd(7)}${r.expected.padEnd(17)}${r.gapTxns.padEnd(10)}${String(r.downtime_ms).padEnd(9)}${r.acked}`,
      );
    console.log(`end: leader ${leader.sid}; ${ackedTotal} writes acked, ${uncertain} uncertain; client errors ${JSON.stringify(Object.fromEntries(errs))}`);

    await t.test('no lane or holder session expired', () => {
      assert.deepEqual(
        lanes.filter((l) => l.expired).map((l) => l.id),
        [],
        'writer sessions expired',
      );
      for (const h of holders) {
        assert.equal(h.expired, false, `holder ${h.id} saw its session expire: ${h.states.join(',')}`);
        assert.equal(h.zk.state, 'connected', `holder ${h.id}: ${h.zk.state} after ${h.states.join(',')}`);
      }
      console.log(`holder state changes: ${holders.map((h) => `h${h.id}[${h.states.join(',')}]`).join(' ')}`);
    });

    await t.test('every acknowledged write is present through every member', async () => {
      for (const p of ens.peers) {
        const zk = await withTimeout(
          ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 20_000 }),
          25_000,
          `connect ${p.sid}`,
        );
        try {
          await zk.sync('/mig');
          const missing: string[] = [];
          for (const l of lanes) {
            const paths = [...l.created];
            for (let i = 0; i < paths.length; i += 200) {
              const chunk = paths.slice(i, i + 200);
              const got = await Promise.all(chunk.map(([path]) => zk.getData(path).catch((e: unknown) => e)));
              chunk.forEach(([path, data], j) => {
                const g = got[j];
                if (g instanceof Error) missing.push(`${path}: ${g.message}`);
                else if (g === undefined || (g as { data: Buffer | null }).data?.toString() !== data || (g as { stat: { version: number } }).stat.version !== 0)
                  missing.push(`${path}: ${JSON.stringify(g)}`);
              });
            }
            // The counter: its acked versions rise, and it ends at the last acked set or at a later
            // set whose outcome was unknown, never below.
            for (let i = 1; i < l.sets.length; i++) assert.ok(l.sets[i]!.version > l.sets[i - 1]!.version, `lane ${l.id}: acked versions not rising at ${i}`);
            const { data, stat } = await zk.getData(l.ctr);
            const last = l.sets.at(-1);
            if (last !== undefined) {
              const ok =
                stat.version === last.version
                  ? data?.toString() === last.data
                  : stat.version > last.version && l.uncertainSets.includes(data?.toString() ?? '');
              if (!ok) missing.push(`${l.ctr}: ${data?.toString()} v${stat.version}, last acked ${last.data} v${last.version}`);
            }
          }
          assert.deepEqual(missing.slice(0, 10), [], `member ${p.sid}: ${missing.length} acknowledged writes missing or wrong`);
        } finally {
          await zk.close().catch(() => undefined);
        }
      }
    });

    await t.test('all members hold the same tree', async () => {
      const digests: string[] = [];
      for (const p of ens.peers) {
        const zk = await withTimeout(
          ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 20_000 }),
          25_000,
          `connect ${p.sid}`,
        );
        try {
          const lines = await withTimeout(dumpTree(zk, '/'), 60_000, `dump ${p.sid}`);
          digests.push(`${p.sid}:${digestOf(lines)}:${lines.length}`);
        } finally {
          await zk.close().catch(() => undefined);
        }
      }
      console.log(`tree digests (sid:digest:znodes): ${digests.join(' ')}`);
      assert.equal(new Set(digests.map((d) => d.replace(/^\d+:/, ''))).size, 1, digests.join(' '));
    });

    await t.test('session holders keep their ephemerals and can still write', async () => {
      for (const p of ens.peers) {
        const zk = await withTimeout(
          ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 20_000 }),
          25_000,
          `connect ${p.sid}`,
        );
        try {
          await zk.sync('/mig-holders');
          for (const h of holders) {
            const st = await zk.exists(h.path);
            assert.ok(st !== null, `member ${p.sid}: holder ${h.id}'s ephemeral is gone`);
            assert.equal(st.ephemeralOwner, h.zk.sessionId, `member ${p.sid}: holder ${h.id}'s ephemeral owner`);
          }
        } finally {
          await zk.close().catch(() => undefined);
        }
      }
      for (const h of holders) {
        const st = await withTimeout(h.zk.setData(h.path, 'still here'), 20_000, `holder ${h.id} write`);
        assert.equal(st.version, 1);
        await withTimeout(h.zk.create(`${h.path}-after`, 'x', { mode: CreateMode.EPHEMERAL }), 20_000, `holder ${h.id} create`);
      }
    });

    await t.test("every member's dataDir recovers the tree it serves", async () => {
      // What a restart of each member would load: its newest snapshot plus the log after it.
      const zk = await withTimeout(
        ZooKeeperClient.connect(leader.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 20_000 }),
        25_000,
        'connect leader',
      );
      const live = await withTimeout(dumpTree(zk, '/'), 60_000, 'dump leader');
      zk.abandon();
      for (const p of ens.peers) await p.kill('SIGTERM');
      const bad: string[] = [];
      for (const p of ens.peers) {
        const o = await openDatabase({ dataDir: p.dataDir, repair: false });
        try {
          const lines = dumpDatabase(o.db);
          const liveSet = new Set(live);
          const mine = new Set(lines);
          const diff = [...live.filter((l) => !mine.has(l)).map((l) => `-${l}`), ...lines.filter((l) => !liveSet.has(l)).map((l) => `+${l}`)];
          if (diff.length > 0) bad.push(`peer ${p.sid} (snapshot 0x${(o.dataDir.snapshot?.zxid ?? 0n).toString(16)}): ${diff.slice(0, 4).join(' ')}`);
        } finally {
          await o.dataDir.close();
        }
      }
      assert.deepEqual(bad, []);
    });

    await t.test('no peer crashed or complained', () => {
      const complaints: string[] = [];
      for (const p of ens.peers) {
        const text = logSince(p, 0);
        // The ZooKeeper part of each log ends where its tszk part starts (the first JSON line).
        const split = text.indexOf('\n{');
        const zkPart = split < 0 ? text : text.slice(0, split);
        const tsPart = split < 0 ? '' : text.slice(split + 1);
        complaints.push(...zookeeperComplaints(zkPart).map((l) => `zk ${p.sid}: ${l}`));
        complaints.push(...tszkErrors(tsPart).map((l) => `tszk ${p.sid}: ${l.slice(0, 300)}`));
      }
      assert.deepEqual(complaints.slice(0, 10), [], `${complaints.length} complaints`);
    });
  } catch (e) {
    keep = true;
    throw e;
  } finally {
    for (const l of lanes) await l.stop().catch(() => undefined);
    for (const zk of [...lanes.map((l) => l.zk), ...holders.map((h) => h.zk), ...others])
      await withTimeout(zk.close(), 5_000, 'close').catch(() => zk.abandon());
    await ens.stop({ keepDir: keep });
    if (keep) console.log(`logs kept in ${ens.dir}`);
  }
});
