/**
 * A quorum peer (QuorumPeer): drives the pure ZAB core (src/zab) with real ticks, sockets and
 * the dataDir, and serves clients through the standalone request pipeline (ServerCore) while the
 * core says it is serving.
 *
 * Events are stepped one at a time from a queue; each step's actions run in order, and the
 * synchronous ones (epoch files, truncate, snapshots, sending a SNAP) are awaited before the next
 * event is stepped. Log appends are asynchronous (group commit) and come back as `logDurable`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { log } from '../../log.js';
import { openDataDir, type OpenedDataDir } from '../../storage/dataDir.js';
import { reportDigestMismatches } from '../digestMismatch.js';
import { databaseFromSnapshot, fsyncMetrics, snapshotSourceOf, storageOptionsFrom } from '../../storage/database.js';
import { readMyid } from '../../storage/epochFiles.js';
import { listLogs } from '../../storage/history.js';
import { parseSnapshot, writeSnapshotFile } from '../../storage/snapshot.js';
import { truncateDataDir } from '../../storage/truncate.js';
import { CONFIG_PATH, DataTree } from '../../tree/dataTree.js';
import { ZkDatabase } from '../../txn/database.js';
import { decodeTxn, type Txn as ServerTxn } from '../../txn/txn.js';
import {
  decodeNotification,
  encodeNotification,
  epochOf,
  makeZxid,
  recover,
  serverId,
  step,
  ZXID_COUNTER_MAX,
  zxidHex,
  type Action,
  type Epoch,
  type Event,
  type PeerConfig,
  type PeerState,
  type Role,
  type ServerId,
  type Txn,
  type Zxid,
} from '../../zab/index.js';
import { ConfigError, type ParsedConfig, type ServerLine } from '../config.js';
import type { ServerOptions } from '../options.js';
import { ServerCore, type QuorumSeam } from '../standalone.js';
import { ElectionConnections } from './electionConnections.js';
import { decodeForwardedWrite, decodeSessionActivity, encodeForwardedSync, encodeForwardedWrite, encodeSessionActivity } from './forwardedRequest.js';
import { LearnerConnections } from './learnerConnections.js';
import { encodeSnapWithStream } from './packetStream.js';
import { NotServingListener } from './notServing.js';
import { quorumVerifierFrom, quorumVerifierText } from './quorumConfig.js';
import { syncBehindProposals } from './syncOrder.js';
import { ZabTxnSink } from './zabTxnSink.js';

/** The core's unit of time (ZooKeeper's limits in tickTime units are converted to these). */
const CORE_TICK_MS_MAX = 100;
/** FastLeaderElection.finalizeWait */
const FINALIZE_WAIT_MS = 200;
/** FastLeaderElection.maxNotificationInterval */
const NOTIFICATION_INTERVAL_MS_MAX = 60_000;
/**
 * Proposals the leader keeps outstanding before the core drops requests. A drop makes the leader
 * restart its client side (its preparer has numbered txns past the drop), so this sits well above
 * what bounded client queues produce, and below the preparer's own bound (OUTSTANDING_CHANGES_MAX).
 */
const OUTSTANDING_PROPOSALS_MAX = 500_000;
/** Read-only mode waits this long after LOOKING starts before deciding it is partitioned (ZooKeeper: at least 2 s, or tickTime). */
const READ_ONLY_GRACE_MS_MIN = 2000;
/** Events waiting to be stepped; beyond this the peer is hopelessly behind: crash loudly. */
const EVENT_QUEUE_MAX = 1_000_000;

export interface QuorumPeerHandle {
  close(): Promise<void>;
}

export async function startQuorumPeer(cfg: ParsedConfig): Promise<QuorumPeerHandle> {
  const o = cfg.options;
  const myid = await readMyid(o.dataDir);
  if (myid === undefined) throw new ConfigError('myid', `no myid file in ${o.dataDir} (it must hold this server's N from server.N)`, o.configPath);
  const self = cfg.servers.find((s) => BigInt(s.id) === myid);
  if (self === undefined) throw new ConfigError('myid', `myid ${myid} has no server.${myid} line`, o.configPath);
  const peer = new QuorumPeer(cfg, self);
  await peer.start();
  return peer;
}

function coreConfig(cfg: ParsedConfig, sid: ServerId, tick_ms: number): PeerConfig {
  const ticks = (ms: number): number => Math.max(1, Math.ceil(ms / tick_ms));
  const t = cfg.options.tickTime_ms;
  return {
    sid,
    quorum: quorumVerifierFrom(cfg),
    initLimit_ticks: ticks(cfg.initLimit * t),
    syncLimit_ticks: ticks(cfg.syncLimit * t),
    finalizeWait_ticks: ticks(FINALIZE_WAIT_MS),
    notificationInterval_ticks_max: ticks(NOTIFICATION_INTERVAL_MS_MAX),
    ping_ticks: ticks(t / 2),
    snapCount: cfg.options.snapCount,
    commitLogCount: cfg.options.commitLogCount,
    zxidCounter_max: ZXID_COUNTER_MAX,
    outstandingProposals_max: OUTSTANDING_PROPOSALS_MAX,
    mutations: new Set(),
  };
}

class QuorumPeer implements QuorumPeerHandle {
  private readonly sid: ServerId;
  private readonly options: ServerOptions;
  private readonly tick_ms: number;
  private dataDir!: OpenedDataDir;
  private db!: ZkDatabase;
  private state!: PeerState;
  private readonly election: ElectionConnections;
  private readonly learners: LearnerConnections;
  private readonly queue: Event[] = [];
  private pumping = false;
  /** Learner sync REQUESTs already put back once behind the writes forwarded before them (see pump). */
  private readonly deferredSyncs = new WeakSet<Event>();
  private tickTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Serving clients (leader established / learner after UPTODATE). */
  private core: ServerCore | undefined;
  private sink: ZabTxnSink | undefined;
  private readonly notServing: NotServingListener;
  private notServingUp = false;
  private role: Role = 'LOOKING';
  private leader: ServerId | null = null;
  private lookingSince_ms = Date.now();
  private electionRounds = 0;
  /** readonlymode: starts read-only serving when LOOKING lasts past the grace period. */
  private readOnlyTimer: NodeJS.Timeout | undefined;
  private readOnlyPending = false;
  /** The QuorumVerifier text (see quorumVerifierText): in every notification and in /zookeeper/config. */
  private readonly configBytes: Buffer;

  constructor(
    private readonly cfg: ParsedConfig,
    private readonly self: ServerLine,
  ) {
    this.sid = serverId(self.id);
    const clientPort = self.clientPort ?? cfg.options.clientPort;
    const clientPortAddress = self.clientAddress ?? cfg.options.clientPortAddress;
    this.options = { ...cfg.options, clientPort, clientPortAddress };
    this.configBytes = Buffer.from(quorumVerifierText(cfg), 'utf8');
    this.tick_ms = Math.min(CORE_TICK_MS_MAX, Math.max(1, Math.floor(cfg.options.tickTime_ms / 2)));
    const listenAll = false;
    this.election = new ElectionConnections(
      BigInt(self.id),
      { sid: BigInt(self.id), host: self.host, electionPort: self.electionPort },
      cfg.servers.map((s) => ({ sid: BigInt(s.id), host: s.host, electionPort: s.electionPort })),
      listenAll ? '0.0.0.0' : self.host,
      (from, bytes) => this.onNotification(from, bytes),
    );
    this.learners = new LearnerConnections(
      { sid: BigInt(self.id), host: self.host, quorumPort: self.quorumPort },
      new Map(cfg.servers.map((s) => [BigInt(s.id), { sid: BigInt(s.id), host: s.host, quorumPort: s.quorumPort }])),
      listenAll ? '0.0.0.0' : self.host,
      {
        message: (from, msg) => this.enqueue({ type: 'message', from: serverId(from), msg }),
        disconnected: (p) => this.enqueue({ type: 'disconnected', peer: serverId(p) }),
      },
    );
    this.notServing = new NotServingListener(() => `Mode: ${this.modeName()}\nZxid: ${zxidHex(this.db?.lastProcessedZxid ?? 0n)}\n`);
  }

  async start(): Promise<void> {
    const fresh = new ZkDatabase(new DataTree());
    this.dataDir = await openDataDir({ ...storageOptionsFrom(this.options), emptyTree: snapshotSourceOf(fresh, 0n) });
    const d = this.dataDir;
    // The tree is the snapshot; the log after it is applied only as a leader commits it.
    this.useDatabase(d.snapshot ? databaseFromSnapshot(d.snapshot) : fresh);
    const snapZxid = (d.snapshot?.zxid ?? 0n) as Zxid;
    const zabLog: Txn[] = d.txns.map((t, i) => ({ zxid: t.header.zxid as Zxid, data: d.txnBytes[i]! }));
    const lastEpoch = epochOf(d.lastZxid as Zxid);
    const acceptedEpoch = ((await d.readAcceptedEpoch()) ?? lastEpoch) as Epoch;
    const currentEpoch = ((await d.readCurrentEpoch()) ?? lastEpoch) as Epoch;
    log.info(
      { myid: this.self.id, snapZxid: zxidHex(snapZxid), lastZxid: zxidHex(d.lastZxid), acceptedEpoch: String(acceptedEpoch), currentEpoch: String(currentEpoch) },
      'quorum peer recovered its dataDir',
    );
    const config = coreConfig(this.cfg, this.sid, this.tick_ms);
    await this.election.listen();
    await this.learners.listen();
    await this.notServing.listen(this.options.clientPort, this.options.clientPortAddress);
    this.notServingUp = true;
    log.info({ myid: this.self.id, clientPort: this.options.clientPort, tick_ms: this.tick_ms, voters: config.quorum.voters.map(String) }, 'tszk quorum peer started');
    const r = recover(config, { acceptedEpoch, currentEpoch, snapZxid, log: zabLog });
    this.state = r.state;
    this.pumping = true;
    await this.execute(r.actions);
    this.pumping = false;
    this.scheduleTick();
    this.pump();
    if (this.role === 'LOOKING') this.scheduleReadOnly();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.readOnlyTimer) clearTimeout(this.readOnlyTimer);
    this.election.close();
    this.learners.close();
    if (this.core) await this.core.close();
    if (this.notServingUp) await this.notServing.close();
    await this.dataDir.close();
  }

  // ---- events ----

  private scheduleTick(): void {
    this.tickTimer = setTimeout(() => {
      if (this.closed) return;
      this.enqueue({ type: 'tick' });
      this.scheduleTick();
    }, this.tick_ms);
  }

  private onNotification(from: bigint, bytes: Buffer): void {
    let msg;
    try {
      msg = decodeNotification(bytes);
    } catch (e) {
      log.warn({ from: String(from), err: e instanceof Error ? e.message : String(e) }, 'undecodable election notification');
      return;
    }
    this.enqueue({ type: 'message', from: serverId(from), msg });
  }

  enqueue(e: Event): void {
    if (this.closed) return;
    if (this.queue.length >= EVENT_QUEUE_MAX) this.fatal(new Error(`event queue over ${EVENT_QUEUE_MAX}`));
    this.queue.push(e);
    this.pump();
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    void (async () => {
      try {
        while ((this.queue.length > 0 || this.readOnlyPending) && !this.closed) {
          if (this.readOnlyPending) {
            this.readOnlyPending = false;
            if (this.role === 'LOOKING' && this.core === undefined) await this.startServing(true);
            continue;
          }
          const e = this.queue.shift()!;
          if (e.type === 'message' && e.msg.type === 'REQUEST' && e.msg.sync && this.role === 'LEADING' && !this.deferredSyncs.has(e)) {
            // A learner's sync must be answered after the COMMITs of the writes it forwarded before
            // it and before those of the writes after it (ZooKeeper's leader sends SYNC right after
            // the COMMIT it waited for, and a ZooKeeper follower pairs each SYNC or COMMIT with its
            // oldest pending local request). The earlier writes may still wait in the request
            // pipeline's batch: propose them now and handle the sync right behind those proposals,
            // ahead of everything already queued (later writes of that learner among it). Answered
            // out of that order, the follower's CommitProcessor pairs a COMMIT with the wrong request
            // and every later request of that member hangs (seen under the mixed Jepsen workload:
            // ZooKeeper followers of a tszk leader stopped answering clients, Outstanding growing).
            this.core?.proposePrepared();
            this.deferredSyncs.add(e);
            syncBehindProposals(this.queue, e);
            continue;
          }
          if (e.type === 'message' && e.msg.type === 'PING' && this.core !== undefined && this.core.touchedSessions.size > 0) {
            // Learner: report session activity in this PING's reply (Learner.ping).
            const data = encodeSessionActivity(this.core.touchedSessions);
            this.core.touchedSessions.clear();
            await this.execute(step(this.state, { type: 'sessionActivity', data }).actions);
          }
          this.noteIncoming(e);
          await this.execute(step(this.state, e).actions);
        }
      } catch (err) {
        this.fatal(err);
      }
      this.pumping = false;
    })();
  }

  private fatal(err: unknown): never {
    log.fatal({ err }, 'quorum peer failed; stopping');
    process.exit(2);
  }

  /** Sync-mode story for the operational log (learner side). */
  private noteIncoming(e: Event): void {
    if (e.type !== 'message') return;
    const m = e.msg;
    if (m.type === 'DIFF' || m.type === 'TRUNC' || m.type === 'SNAP') {
      log.info({ leader: String(e.from), mode: m.type, zxid: zxidHex(m.zxid), ourLastZxid: zxidHex(this.lastLoggedZxid()) }, `syncing with leader by ${m.type}`);
    }
  }

  private lastLoggedZxid(): bigint {
    const l = this.state.log;
    return l.length > 0 ? l[l.length - 1]!.zxid : this.state.snapZxid;
  }

  // ---- actions, in order ----

  private async execute(actions: readonly Action[]): Promise<void> {
    for (const a of actions) await this.run(a);
  }

  private async run(a: Action): Promise<void> {
    switch (a.type) {
      case 'send':
        if (a.msg.type === 'NOTIFICATION') this.election.send(a.to, encodeNotification(a.msg, this.configBytes));
        else {
          if (a.msg.type === 'DIFF' || a.msg.type === 'TRUNC') this.noteOutgoing(a.to, a.msg.type, a.msg.zxid);
          this.learners.send(a.to, a.msg);
        }
        return;
      case 'sendSnapshot':
        return this.sendSnapshot(a.to, a.zxid);
      case 'disconnect':
        this.learners.disconnect(a.peer);
        return;
      case 'persistAcceptedEpoch':
        return this.dataDir.writeAcceptedEpoch(a.epoch);
      case 'persistCurrentEpoch':
        return this.dataDir.writeCurrentEpoch(a.epoch);
      case 'append': {
        if (a.txns.length === 0) return;
        const last = a.txns[a.txns.length - 1]!.zxid;
        for (const t of a.txns) {
          // The prepared txn's header carries the zxid the preparer gave it: it must be the core's.
          const inData = t.data.readBigInt64BE(12);
          if (inData !== t.zxid) throw new Error(`txn data holds zxid ${zxidHex(inData)} but ZAB assigned ${zxidHex(t.zxid)}`);
        }
        this.dataDir.txnLog.appendEncoded(a.txns.map((t) => ({ zxid: t.zxid, bytes: t.data }))).then(
          () => this.enqueue({ type: 'logDurable', zxid: last }),
          (err: unknown) => this.fatal(err),
        );
        return;
      }
      case 'truncate':
        return this.truncate(a.zxid);
      case 'loadSnapshot': {
        if (this.core !== undefined) throw new Error('loadSnapshot while serving clients');
        const snap = parseSnapshot(a.data, `<SNAP from leader at ${zxidHex(a.zxid)}>`, a.zxid);
        this.useDatabase(databaseFromSnapshot(snap));
        log.info({ zxid: zxidHex(a.zxid), nodes: snap.nodes.length, sessions: snap.sessions.size }, 'loaded the snapshot the leader sent');
        return;
      }
      case 'takeSnapshot':
        return this.takeSnapshot(a.zxid);
      case 'apply':
        return this.apply(a.txn);
      case 'role':
        return this.onRole(a.role, a.leader);
      case 'established':
        log.info(
          { epoch: String(a.epoch), leader: this.leader === null ? null : String(this.leader), established_ms: Date.now() - this.lookingSince_ms },
          `ensemble established in epoch ${a.epoch} (${Date.now() - this.lookingSince_ms} ms after this peer started looking)`,
        );
        return;
      case 'serving':
        return a.serving ? this.startServing() : this.stopServing();
      case 'forwardedRequest': {
        if (this.core === undefined) return;
        let w;
        try {
          w = decodeForwardedWrite(a.data, a.authinfo ?? []);
        } catch (e) {
          log.warn({ from: String(a.from), err: e instanceof Error ? e.message : String(e) }, 'undecodable forwarded request');
          return;
        }
        try {
          this.core.submitForwarded(w, Number(a.from));
        } catch (e) {
          // A bound in the preparer: the learner's client gets no answer and times out.
          log.error({ from: String(a.from), err: e instanceof Error ? e.message : String(e) }, 'cannot prepare a forwarded request');
        }
        return;
      }
      case 'requestDropped':
        log.warn({ reason: a.reason, sync: a.sync }, 'request dropped by the ZAB core');
        if (this.sink !== undefined && this.sink.pendingBatches > 0 && this.role === 'LEADING') {
          // A prepared local txn was refused: restart the client side so its clients see CONNECTIONLOSS.
          await this.stopServing();
          if (this.state.role.role === 'LEADING' && this.state.role.established) await this.startServing();
        }
        return;
      case 'syncDone':
        this.core?.syncDone();
        return;
      case 'sessionActivity':
        if (this.core !== undefined) for (const [id, timeout] of decodeSessionActivity(a.data)) this.core.touchSession(id, timeout);
        return;
      case 'revalidate':
        return this.onRevalidate(a.from, a.data);
    }
  }

  /**
   * REVALIDATE as ZooKeeper lays it out: the learner asks with (long sessionId, int timeout), the
   * leader answers (long sessionId, boolean valid) and counts the question as session activity.
   */
  private onRevalidate(from: ServerId, data: Buffer): void {
    if (data.length < 9) return;
    const id = data.readBigInt64BE(0);
    if (this.role === 'LEADING') {
      const timeout_ms = data.length >= 12 ? data.readInt32BE(8) : 0;
      const valid = this.core !== undefined && this.core.sessions.touch(id, timeout_ms, Date.now());
      if (valid) this.core!.setOwner(id, Number(from));
      const answer = Buffer.alloc(9);
      answer.writeBigInt64BE(id, 0);
      answer[8] = valid ? 1 : 0;
      log.info({ session: `0x${BigInt.asUintN(64, id).toString(16)}`, learner: String(from), valid }, 'revalidated a session for a learner');
      this.enqueue({ type: 'revalidate', data: answer, to: from });
    } else {
      this.core?.revalidated(id, data[8] !== 0);
    }
  }

  private noteOutgoing(to: ServerId, type: 'DIFF' | 'TRUNC', zxid: Zxid): void {
    const r = this.state.role;
    const h = r.role === 'LEADING' ? r.handlers.get(to) : undefined;
    log.info(
      { learner: String(to), mode: type, learnerLastZxid: h ? zxidHex(h.peerLastZxid) : undefined, zxid: zxidHex(zxid), leaderLastZxid: zxidHex(this.lastLoggedZxid()) },
      `syncing learner ${to} by ${type}`,
    );
  }

  private async sendSnapshot(to: ServerId, zxid: Zxid): Promise<void> {
    // A leader applies a batch of client txns once its last txn commits, so the tree may lack the
    // head batch's committed txns: the snapshot is cut where the tree is and those txns follow it
    // as PROPOSAL + COMMIT (as ZooKeeper's leader follows a SNAP with the txns after it), before
    // the ones the core sends after `zxid`.
    const treeZxid = this.db.lastProcessedZxid as Zxid;
    const catchUp = treeZxid < zxid ? (this.sink?.committedUnapplied(zxid) ?? []).filter((t) => t.zxid > treeZxid) : [];
    if (treeZxid > zxid || (treeZxid < zxid && catchUp.at(-1)?.zxid !== zxid))
      throw new Error(`sendSnapshot at ${zxidHex(zxid)} but the tree is at ${zxidHex(treeZxid)} and ${catchUp.length} committed txns are pending`);
    // Serialized with the dataDir's snapshot writer; the body goes out as ZooKeeper streams it.
    const tmp = path.join(os.tmpdir(), `tszk-snap-${process.pid}-${to}-${Date.now()}`);
    try {
      await writeSnapshotFile(tmp, snapshotSourceOf(this.db, treeZxid), { fsync: false, withDigest: false });
      const data = await fs.readFile(tmp);
      const r = this.state.role;
      const h = r.role === 'LEADING' ? r.handlers.get(to) : undefined;
      log.info(
        { learner: String(to), mode: 'SNAP', learnerLastZxid: h ? zxidHex(h.peerLastZxid) : undefined, zxid: zxidHex(treeZxid), committedAfter: catchUp.length, bytes: data.length },
        `syncing learner ${to} by SNAP`,
      );
      this.learners.sendRaw(to, encodeSnapWithStream(treeZxid, data));
      for (const t of catchUp) {
        this.learners.send(to, { type: 'PROPOSAL', zxid: t.zxid as Zxid, data: t.data });
        this.learners.send(to, { type: 'COMMIT', zxid: t.zxid as Zxid });
      }
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  private async truncate(zxid: Zxid): Promise<void> {
    const o = this.options;
    await this.dataDir.close();
    const logs = await listLogs(this.dataDir.logDir);
    if (logs.length > 0) await truncateDataDir(o.dataDir, o.dataLogDir, zxid);
    this.dataDir = await openDataDir(storageOptionsFrom(o));
    log.info({ zxid: zxidHex(zxid) }, 'txn log truncated');
  }

  /**
   * A database loaded from disk or from a leader's SNAP: its digest mismatches are logged, and
   * /zookeeper/config holds this member's own ensemble config, as ZooKeeper's
   * initConfigInZKDatabase sets it (version -1, mzxid = config version 0; no txn records it).
   */
  private useDatabase(db: ZkDatabase): void {
    reportDigestMismatches(db);
    db.tree.setData(CONFIG_PATH, this.configBytes, -1, 0n, BigInt(Date.now()));
    this.db = db;
  }

  private async takeSnapshot(zxid: Zxid): Promise<void> {
    // A leader applies a batch of client txns once its last txn commits, so the tree may still
    // lack committed txns: the snapshot is named by the last txn the tree holds (ZooKeeper names
    // it by lastProcessedZxid too). Named `zxid`, recovery would replay the log only after it and
    // lose the missing txns.
    const at = this.db.lastProcessedZxid < zxid ? (this.db.lastProcessedZxid as Zxid) : zxid;
    if (at !== zxid) log.info({ zxid: zxidHex(zxid), tree: zxidHex(at) }, 'snapshot at the tree, behind the commit point');
    const snapshotter = this.dataDir.snapshotter;
    if (this.core !== undefined) {
      // While serving, the log already holds every txn: the snapshot only shortens recovery, so it
      // is written in the background as ZooKeeper's SyncRequestProcessor does (awaited, a large
      // tree stalled every client and peer of this member meanwhile), and skipped if one is running.
      snapshotter.take(at, snapshotSourceOf(this.db, at))?.catch((err: unknown) => log.error({ err }, 'snapshot failed'));
      return;
    }
    // A sync snapshot (after SNAP or DIFF) must be durable before the learner acknowledges NEWLEADER.
    await snapshotter.idle();
    const file = await snapshotter.take(at, snapshotSourceOf(this.db, at));
    log.info({ file }, 'snapshot taken');
  }

  private apply(t: Txn): void {
    const txn: ServerTxn = decodeTxn(t.data);
    if (this.sink !== undefined && this.sink.owns(t.zxid)) {
      this.sink.committed(t.zxid);
      return;
    }
    if (this.core !== undefined && this.role !== 'LEADING') {
      this.core.applyCommitted(txn);
      return;
    }
    this.db.applyChecked(txn);
    if (this.core !== undefined) this.core.preparer.applied(t.zxid);
  }

  private async onRole(role: Role, leader: ServerId | null): Promise<void> {
    // A new role is a new client-serving period (ZooKeeper makes a new ZooKeeperServer). Leaving
    // LOOKING ends read-only serving: its connections close and clients reconnect read-write.
    if (this.readOnlyTimer) clearTimeout(this.readOnlyTimer);
    this.readOnlyTimer = undefined;
    if (this.core !== undefined) await this.stopServing();
    if (role === 'LOOKING') {
      this.lookingSince_ms = Date.now();
      this.electionRounds++;
      log.info({ myid: this.self.id, round: String(this.state.logicalclock), lastZxid: zxidHex(this.lastLoggedZxid()) }, 'LOOKING: starting leader election');
    } else {
      log.info(
        { myid: this.self.id, role, leader: leader === null ? null : String(leader), round: String(this.state.logicalclock), election_ms: Date.now() - this.lookingSince_ms },
        `election over: ${role}${leader !== null && role !== 'LEADING' ? ` leader ${leader}` : ''}`,
      );
    }
    this.role = role;
    this.leader = leader;
    if (role === 'LOOKING') this.scheduleReadOnly();
  }

  /** ZooKeeper's roZkMgr: after the grace period, a member still LOOKING serves read-only clients. */
  private scheduleReadOnly(): void {
    if (!this.options.readOnlyModeEnabled || this.closed) return;
    if (this.readOnlyTimer) clearTimeout(this.readOnlyTimer);
    this.readOnlyTimer = setTimeout(() => {
      this.readOnlyTimer = undefined;
      if (this.closed || this.role !== 'LOOKING' || this.core !== undefined) return;
      // Started by the pump, between steps, so it never interleaves with a step's actions.
      this.readOnlyPending = true;
      this.pump();
    }, Math.max(READ_ONLY_GRACE_MS_MIN, this.options.tickTime_ms));
  }

  private modeName(): string {
    switch (this.role) {
      case 'LEADING':
        return 'leader';
      case 'FOLLOWING':
        return 'follower';
      case 'OBSERVING':
        return 'observer';
      case 'LOOKING':
        return 'looking';
    }
  }

  // ---- client serving ----

  private async startServing(readOnly = false): Promise<void> {
    if (this.core !== undefined) return;
    const leading = this.role === 'LEADING';
    if (readOnly && this.role !== 'LOOKING') throw new Error(`read-only serving while ${this.role}`);
    if (!readOnly && this.role === 'LOOKING') throw new Error('serving read-write while LOOKING');
    const seam: QuorumSeam = {
      serverId: this.self.id,
      mode: readOnly ? 'read-only' : this.modeName(),
      ownsSessions: leading,
      foreignLocalSessions: leading && this.cfg.localSessionsEnabled,
      readOnly,
      forwardWrite: leading ? undefined : (w) => this.enqueue({ type: 'request', ...encodeForwardedWrite(w) }),
      forwardSync: leading ? undefined : (sessionId, cxid, path, authInfo) => this.enqueue({ type: 'sync', data: encodeForwardedSync(sessionId, cxid, path), authinfo: [...authInfo] }),
      revalidate: leading
        ? undefined
        : (id, timeout_ms) => {
            const q = Buffer.alloc(12);
            q.writeBigInt64BE(id, 0);
            q.writeInt32BE(timeout_ms, 8);
            this.enqueue({ type: 'revalidate', data: q });
          },
    };
    const metrics = (): ReadonlyArray<readonly [string, number]> => fsyncMetrics(this.dataDir.txnLog.stats);
    const sink = leading ? new ZabTxnSink((data) => this.enqueue({ type: 'propose', data }), metrics) : undefined;
    const core = new ServerCore(this.options, this.db, sink ?? ZabTxnSink.learnerSink(metrics), seam);
    if (leading) {
      const r = this.state.role;
      if (r.role !== 'LEADING' || r.newEpoch === null) throw new Error('serving as leader without an epoch');
      // The preparer numbers txns exactly as the core will: next counter in the new epoch.
      core.preparer.lastZxid = epochOf(r.lastProposed) === r.newEpoch ? r.lastProposed : makeZxid(r.newEpoch, 0n);
    }
    if (this.notServingUp) {
      await this.notServing.close();
      this.notServingUp = false;
    }
    await core.listen();
    this.core = core;
    this.sink = sink;
    log.info({ mode: seam.mode, clientPort: core.port, zxid: zxidHex(this.db.lastProcessedZxid) }, readOnly ? 'Read-only server started: serving read-only clients' : 'serving clients');
  }

  private async stopServing(): Promise<void> {
    const core = this.core;
    if (core === undefined) return;
    this.core = undefined;
    this.sink = undefined;
    await core.close();
    if (!this.closed && !this.notServingUp) {
      await this.notServing.listen(this.options.clientPort, this.options.clientPortAddress);
      this.notServingUp = true;
    }
    log.info({ mode: this.modeName() }, 'stopped serving clients');
  }
}
