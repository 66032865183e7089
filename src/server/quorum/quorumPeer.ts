/**
 * A quorum peer (QuorumPeer): drives the pure ZAB core (src/zab) and serves clients through the
 * request pipeline (pipeline.ts) in the mode of its role (leaderMode, learnerMode, readOnlyMode)
 * while the core says it is serving. Every effect goes through PeerIo (peerIo.ts): the real
 * sockets, files and timers (nodePeer.ts), or the simulator's (src/sim).
 *
 * Events are stepped one at a time from a queue; each step's actions run in order, and the
 * synchronous ones (epoch files, truncate, snapshots) complete before the next event is stepped:
 * at once where the effect is already done, after its promise where it is not. Log appends are
 * asynchronous (group commit) and come back as `logDurable`.
 *
 * The core numbers every proposal: a leader's write waits in the same queue, and when its turn
 * comes it is prepared with the zxid `nextProposalZxid` gives and stepped as `propose` at once.
 * Txns reach the tree only as the core commits them (`apply`), so the tree is always at the
 * commit point: a SNAP or a snapshot is cut exactly at the zxid the core names.
 */
import { log } from '../../log.js';
import { DatabaseLoader, databaseFromSnapshot, snapshotSourceOf } from '../../storage/database.js';
import { EMPTY_DIGEST, parseSnapshot } from '../../storage/snapshot.js';
import { frozenSnapshotSource } from '../../storage/treeSnapshotSource.js';
import { CONFIG_PATH, DataTree } from '../../tree/dataTree.js';
import { Err, KeeperError } from '../../proto/errors.js';
import { OpCode } from '../../proto/opcodes.js';
import { ZkDatabase } from '../../txn/database.js';
import type { ReconfigPolicy } from '../../txn/prep.js';
import { decodeTxn, encodeTxn, txnTime_ms, type Txn as ServerTxn } from '../../txn/txn.js';
import {
  decodeNotification,
  notificationConfig,
  encodeNotification,
  epochOf,
  nextProposalZxid,
  awaitingNextEpoch,
  recover,
  serverId,
  step,
  PROPOSAL_COUNTER_MAX,
  zxidHex,
  type Action,
  type Epoch,
  type Event,
  type PeerConfig,
  type PeerState,
  type QuorumMessage,
  type Role,
  type ServerId,
  type Txn,
  type Zxid,
} from '../../zab/index.js';
import type { AdminSource, FourLetterWordAnswerer, LearnerView, MemberAdminSource, QuorumView } from '../adminSource.js';
import type { ParsedConfig, ServerLine } from '../config.js';
import { reportDigestMismatches } from '../digestMismatch.js';
import type { Timer } from '../io.js';
import type { ServerOptions } from '../options.js';
import { RequestPipeline } from '../pipeline.js';
import { ServerMetrics } from '../serverMetrics.js';
import type { ServingMode, WriteJob } from '../servingMode.js';
import type { SnapshotFile } from '../txnSink.js';
import type { RuntimeMutation } from '../mutations.js';
import { decodeForwardedWrite, decodeSessionActivity, encodeSessionActivity } from './forwardedRequest.js';
import { LeaderMode } from './leaderMode.js';
import { LearnerMode } from './learnerMode.js';
import { NotServingListener } from './notServing.js';
import { andThen, type Effect, type ElectionTransport, type PeerIo, type QuorumTransport } from './peerIo.js';
import { configText, ensembleConfigOf, ensembleConfigOfData, parseConfigText, quorumVerifierFrom, reconfigOf, type EnsembleConfig } from './quorumConfig.js';
import { requestedConfig } from './reconfigRequest.js';
import { ReadOnlyMode } from './readOnlyMode.js';

/** The core's unit of time (ZooKeeper's limits in tickTime units are converted to these). */
const CORE_TICK_MS_MAX = 100;
/** FastLeaderElection.finalizeWait */
const FINALIZE_WAIT_MS = 200;
/** FastLeaderElection.maxNotificationInterval */
const NOTIFICATION_INTERVAL_MS_MAX = 60_000;
/**
 * Proposals the leader keeps outstanding before the core refuses more (the refused write's client
 * is disconnected), well above what bounded client queues produce and below the preparer's own
 * bound (OUTSTANDING_CHANGES_MAX).
 */
const OUTSTANDING_PROPOSALS_MAX = 500_000;
/** Read-only mode waits this long after LOOKING starts before deciding it is partitioned (ZooKeeper: at least 2 s, or tickTime). */
const READ_ONLY_GRACE_MS_MIN = 2000;
/** Leader.ackLoggingFrequency: ack_latency is recorded for zxids that are multiples of it. */
const ACK_LOGGING_FREQUENCY = 1000n;
/** Events waiting to be stepped; beyond this the peer is hopelessly behind: crash loudly. */
const EVENT_QUEUE_MAX = 1_000_000;

/** What waits in the peer's queue: a core event, or a leader's write waiting for its zxid. */
type QueueItem = Event | LeaderWrite;
interface LeaderWrite {
  type: 'write';
  job: WriteJob;
  /** The pipeline it came from: when that one is closed (a role change), its write is void. */
  pipeline: RequestPipeline;
}

export interface QuorumPeerHandle {
  /** What the AdminServer, /metrics and the health probes read. */
  readonly admin: MemberAdminSource;
  close(): Promise<void>;
}

/** Sees every step a peer takes (the simulator's checkers; tracing). */
export interface PeerObserver {
  stepped(event: Event | { type: 'recover' }, actions: readonly Action[], state: PeerState): void;
}

/** Core timings from zoo.cfg: ZooKeeper's limits in tickTime units, converted into core ticks of `tick_ms`. */
export function coreConfig(cfg: ParsedConfig, sid: ServerId, tick_ms: number): PeerConfig {
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
    zxidCounter_max: testZxidCounterMax() ?? PROPOSAL_COUNTER_MAX,
    ...(cfg.options.zxidRolloverWithoutElection ? { zxidRolloverWithoutElection: true } : {}),
    outstandingProposals_max: OUTSTANDING_PROPOSALS_MAX,
    mutations: new Set(),
    // ZooKeeper acts on no reconfig with reconfigEnabled=false (processReconfig returns at once).
    ...(cfg.options.reconfigEnabled
      ? { reconfigOf, initialConfig: (version: Zxid) => Buffer.from(configText({ ...ensembleConfigOf(cfg), version }), 'utf8') }
      : {}),
  };
}

/**
 * Tests only: TSZK_TEST_ZXID_COUNTER_MAX makes the zxid counter run out after that many proposals
 * per epoch, so a test can cross zxid rollovers (test/ensemble/zxid-rollover.test.ts). Never set
 * it in production: the real limit is ZooKeeper's.
 */
function testZxidCounterMax(): bigint | undefined {
  const v = process.env['TSZK_TEST_ZXID_COUNTER_MAX'];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v) || BigInt(v) < 1n || BigInt(v) > PROPOSAL_COUNTER_MAX)
    throw new Error(`TSZK_TEST_ZXID_COUNTER_MAX: '${v}' is not a counter in [1, ${PROPOSAL_COUNTER_MAX}]`);
  return BigInt(v);
}

/** The core's tick for a tickTime: half of it, at most CORE_TICK_MS_MAX. */
export function coreTick_ms(tickTime_ms: number): number {
  return Math.min(CORE_TICK_MS_MAX, Math.max(1, Math.floor(tickTime_ms / 2)));
}

export interface QuorumPeerOptions {
  /** Four-letter words (src/admin's runFourLetterWord); none are answered without it. */
  fourLetterWords?: FourLetterWordAnswerer;
  observer?: PeerObserver;
  /** Test-only broken variants (../mutations.ts). */
  mutations?: ReadonlySet<RuntimeMutation>;
}

export class QuorumPeer implements QuorumPeerHandle, MemberAdminSource {
  /** Its client address moves when a reconfig gives this member another one. */
  options: ServerOptions;
  readonly metrics = new ServerMetrics();
  readonly started_ms: number;
  /** Leader: when its ensemble was established. */
  private leadingSince_ms: number | undefined;
  private db!: ZkDatabase;
  private state!: PeerState;
  private readonly election: ElectionTransport;
  private readonly learners: QuorumTransport;
  /** Trees built from leaders' SNAPs as they arrived, by the token their SNAP message carries (gone with the message). */
  private readonly receivedSnapshots = new WeakMap<Buffer, ZkDatabase>();
  private readonly queue: QueueItem[] = [];
  /** Leader: learners' writes, proposed right after the step that received their REQUEST, ahead of the queue. */
  private readonly forwardedWrites: LeaderWrite[] = [];
  /** Leader: writes that came while the zxid counter was spent, proposed once the next epoch is in force. */
  private readonly heldWrites: LeaderWrite[] = [];
  /** The epoch this peer last saw established while leading (a later one is an in-place epoch bump). */
  private establishedEpoch: Epoch | undefined;
  /** Leader: txns it prepared and proposed, until they are applied (no decoding its own txns back). */
  private readonly proposedTxns = new Map<bigint, ServerTxn>();
  /**
   * Bumped by every truncation: a durability report for appends made before it is stale (a txn
   * with the same zxid may have been appended again since, not yet fsynced).
   */
  private logGeneration = 0;
  private pumping = false;
  /** The pump waits for an effect (a file write, a port to bind) before it steps on. */
  private waiting = false;
  private tickTimer: Timer | undefined;
  private closed = false;
  /** Serving clients (leader established / learner after UPTODATE / read-only). */
  private pipeline: RequestPipeline | undefined;
  private readonly notServing: NotServingListener;
  private notServingUp = false;
  private role: Role = 'LOOKING';
  private leader: ServerId | null = null;
  private lookingSince_ms: number;
  /** Since when clients have not been served read-write (ZooKeeper's unavailableStartTime; undefined: served). */
  private unavailableSince_ms: number | undefined;
  /** The ZAB phase after the last step, and when synchronization began (follower/observer_sync_time). */
  private zabState: QuorumView['zabState'] = 'election';
  private syncStarted_ms = 0;
  /** readonlymode: starts read-only serving when LOOKING lasts past the grace period. */
  private readOnlyTimer: Timer | undefined;
  private readOnlyPending = false;
  /** The configuration in force (ZooKeeper's quorum verifier): zoo.cfg's, until a reconfig commits. */
  private activeConfig: EnsembleConfig;
  /** Its text (configText): in every notification and in /zookeeper/config. */
  private configBytes: Buffer;
  /** Leader: the reconfig it proposed and has not seen committed (ZooKeeper's last-seen config). */
  private pendingConfig: EnsembleConfig | undefined;

  constructor(
    private readonly cfg: ParsedConfig,
    private readonly self: ServerLine,
    private readonly config: PeerConfig,
    private readonly tick_ms: number,
    private readonly io: PeerIo,
    private readonly opts: QuorumPeerOptions = {},
  ) {
    const clientPort = self.clientPort ?? cfg.options.clientPort;
    const clientPortAddress = self.clientAddress ?? cfg.options.clientPortAddress;
    this.options = { ...cfg.options, clientPort, clientPortAddress, clientPortListen: self.clientPort !== undefined || cfg.options.clientPortListen };
    this.activeConfig = ensembleConfigOf(cfg);
    this.configBytes = Buffer.from(configText(this.activeConfig), 'utf8');
    this.lookingSince_ms = io.clock.now_ms();
    this.started_ms = this.lookingSince_ms;
    this.unavailableSince_ms = this.lookingSince_ms;
    this.election = io.openElection((from, bytes) => this.onNotification(from, bytes));
    this.learners = io.openQuorum({
      message: (from, msg) => this.enqueue({ type: 'message', from: serverId(from), msg: this.incomingConfig(msg) }),
      // LearnerHandler's queue: packets to a learner not yet handed to the network, and how long one waited.
      sent: (to, queued, waited_ms) => {
        const key = String(to);
        this.metrics.recordKeyed('learner_handler_qp_size', key, queued);
        if (waited_ms !== undefined) this.metrics.recordKeyed('learner_handler_qp_time_ms', key, Math.floor(waited_ms));
      },
      disconnected: (p) => this.enqueue({ type: 'disconnected', peer: serverId(p) }),
      // The tree is built as the leader's SNAP arrives; the SNAP message carries a token for it.
      snapLoader: () => {
        const loader = new DatabaseLoader('<SNAP from leader>', true);
        return {
          visitor: loader,
          end: (zxid) => {
            const token = Buffer.alloc(0);
            this.receivedSnapshots.set(token, loader.finish(zxid, null));
            return token;
          },
        };
      },
    });
    this.notServing = new NotServingListener(io.listenClients, () => `Mode: ${this.modeName()}\nZxid: ${zxidHex(this.db?.lastProcessedZxid ?? 0n)}\n`);
  }

  /** NEWLEADER's config text (ZooKeeper's leader sends its last-seen config): the core adopts it with its version. */
  private incomingConfig(msg: QuorumMessage): QuorumMessage {
    if (msg.type !== 'NEWLEADER' || msg.config === undefined || this.config.reconfigOf === undefined) return msg;
    const c = this.carriedConfig(msg.config);
    return c === undefined ? { type: 'NEWLEADER', zxid: msg.zxid } : { ...msg, configZxid: c.zxid };
  }

  /** How it serves clients now, if it does (the simulator's clients pick members by it). */
  get serving(): 'read-write' | 'read-only' | undefined {
    if (this.pipeline === undefined) return undefined;
    return this.pipeline.readOnly() ? 'read-only' : 'read-write';
  }

  /** Stepping or waiting for an effect: events given now are queued. */
  get busy(): boolean {
    return this.waiting;
  }

  get tree(): DataTree {
    return this.db.tree;
  }

  /** The configuration in force (the simulator checks every member agrees on each version). */
  get configInForce(): EnsembleConfig {
    return this.activeConfig;
  }

  async start(): Promise<void> {
    const d = await this.io.storage.open(snapshotSourceOf(new ZkDatabase(new DataTree()), 0n), this.metrics);
    // The tree is the snapshot; the log after it is applied only as a leader commits it.
    this.useDatabase(databaseFromSnapshot(d.snapshot));
    const snapZxid = d.snapshot.zxid as Zxid;
    const zabLog: Txn[] = d.txns.map((t) => ({ zxid: t.txn.header.zxid as Zxid, data: t.bytes }));
    const lastEpoch = epochOf(d.lastZxid as Zxid);
    const acceptedEpoch = (d.acceptedEpoch ?? lastEpoch) as Epoch;
    const currentEpoch = (d.currentEpoch ?? lastEpoch) as Epoch;
    log.info(
      {
        myid: this.self.id,
        snapZxid: zxidHex(snapZxid),
        lastZxid: zxidHex(d.lastZxid),
        acceptedEpoch: String(acceptedEpoch),
        currentEpoch: String(currentEpoch),
      },
      'quorum peer recovered its dataDir',
    );
    await this.election.listen();
    await this.learners.listen();
    await this.notServing.listen(this.options);
    this.notServingUp = true;
    log.info(
      { myid: this.self.id, clientPort: this.options.clientPort, tick_ms: this.tick_ms, voters: this.config.quorum.voters.map(String) },
      'tszk quorum peer started',
    );
    // The config in force: the newest of the dynamic config file's (zoo.cfg) and the snapshot's /zookeeper/config.
    const config = this.activeConfig.version > 0n ? { config: { zxid: this.activeConfig.version as Zxid, data: this.configBytes } } : {};
    const r = recover(this.config, { acceptedEpoch, currentEpoch, snapZxid, log: zabLog, ...config });
    this.state = r.state;
    this.opts.observer?.stepped({ type: 'recover' }, r.actions, r.state);
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
    await this.release();
  }

  /** Stops every timer and closes every port, connection and file. */
  private async release(): Promise<void> {
    this.tickTimer?.cancel();
    this.readOnlyTimer?.cancel();
    this.election.close();
    this.learners.close();
    if (this.pipeline) await this.pipeline.close();
    if (this.notServingUp) await this.notServing.close();
    await this.io.storage.close();
  }

  // ---- events ----

  private scheduleTick(): void {
    this.tickTimer = this.io.clock.after(this.tick_ms, () => {
      if (this.closed) return;
      this.enqueue({ type: 'tick' });
      this.scheduleTick();
    });
  }

  private onNotification(from: bigint, bytes: Buffer): void {
    let msg;
    try {
      msg = decodeNotification(bytes);
    } catch (e) {
      log.warn({ from: String(from), err: e instanceof Error ? e.message : String(e) }, 'undecodable election notification');
      return;
    }
    // A peer's newer config travels in its notifications (ZooKeeper's WorkerReceiver adopts it).
    const config = this.config.reconfigOf !== undefined ? this.carriedConfig(notificationConfig(bytes)) : undefined;
    this.enqueue({ type: 'message', from: serverId(from), msg: config === undefined ? msg : { ...msg, config } });
  }

  /** Config text from the wire, for the core: with the zxid that made it (its version), unless it is a static one (version 0). */
  private carriedConfig(text: Buffer | null): { zxid: Zxid; data: Buffer } | undefined {
    if (text === null || text.length === 0) return undefined;
    const c = ensembleConfigOfData(text);
    return c === undefined || c.version === 0n ? undefined : { zxid: c.version as Zxid, data: text };
  }

  enqueue(e: QueueItem): void {
    if (this.closed) return;
    if (this.queue.length >= EVENT_QUEUE_MAX) return this.fatal(new Error(`event queue over ${EVENT_QUEUE_MAX}`));
    this.queue.push(e);
    this.pump();
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    this.drain();
  }

  /** Steps queued items until none is left, or until an effect must be waited for (then goes on after it). */
  private drain(): void {
    try {
      while ((this.queue.length > 0 || this.forwardedWrites.length > 0 || this.readOnlyPending) && !this.closed) {
        const pending = this.next();
        if (pending !== undefined) {
          this.waiting = true;
          pending.then(
            () => {
              this.waiting = false;
              this.drain();
            },
            (err: unknown) => this.fatal(err),
          );
          return;
        }
      }
    } catch (err) {
      return this.fatal(err);
    }
    this.pumping = false;
  }

  /** Steps the next queued item. */
  private next(): Effect {
    if (this.readOnlyPending) {
      this.readOnlyPending = false;
      if (this.role === 'LOOKING' && this.pipeline === undefined) return this.startServing(true);
      return;
    }
    // A learner's writes go right behind the step that received them, so a SYNC REQUEST it sent
    // after them (queued behind) is answered after their COMMITs, as ZooKeeper's followers pair
    // each SYNC or COMMIT with their oldest pending request.
    const e = this.forwardedWrites.shift() ?? this.queue.shift()!;
    if (e.type === 'write') return this.proposeWrite(e);
    let first: Effect = undefined;
    if (e.type === 'message' && e.msg.type === 'PING' && this.pipeline !== undefined && this.pipeline.touchedSessions.size > 0) {
      // Learner: report session activity in this PING's reply (Learner.ping).
      const data = encodeSessionActivity(this.pipeline.touchedSessions);
      this.pipeline.touchedSessions.clear();
      first = this.stepCore({ type: 'sessionActivity', data });
    }
    this.noteIncoming(e);
    return andThen(first, () => this.stepCore(e));
  }

  private stepCore(e: Event): Effect {
    const { actions } = step(this.state, e);
    this.opts.observer?.stepped(e, actions, this.state);
    this.notePhase();
    return this.execute(actions);
  }

  /** Synchronization begun or ended: follower_sync_time, observer_sync_time, unavailable_time (QuorumPeer.setZabState). */
  private notePhase(): void {
    const z = zabStateOf(this.state.role);
    if (z === this.zabState) return;
    this.zabState = z;
    const now = this.io.clock.now_ms();
    const role = this.state.role.role;
    if (z === 'synchronization') this.syncStarted_ms = now;
    if (z !== 'broadcast') return;
    if (role === 'FOLLOWING') this.metrics.summary.follower_sync_time.record(now - this.syncStarted_ms);
    if (role === 'OBSERVING') this.metrics.summary.observer_sync_time.record(now - this.syncStarted_ms);
    if (this.unavailableSince_ms !== undefined) {
      const took = now - this.unavailableSince_ms;
      this.metrics.summary.unavailable_time.record(took);
      if (role === 'LEADING') this.metrics.summary.leader_unavailable_time.record(took);
      this.unavailableSince_ms = undefined;
    }
  }

  /**
   * Leader: prepares a write with the zxid the core gives its next proposal and proposes it in the
   * same turn, so nothing can be numbered in between. When the core would refuse (not leading,
   * bounds, zxid rollover) nothing is prepared: the core is told (it may step down) and the
   * write's client is disconnected.
   */
  private proposeWrite(w: LeaderWrite): Effect {
    if (w.pipeline !== this.pipeline) return; // its clients were disconnected with their pipeline
    const zxid = nextProposalZxid(this.state);
    // The counter is spent and the core moves to the next epoch in place: the write waits for it.
    if (zxid === null && awaitingNextEpoch(this.state)) return void this.heldWrites.push(w);
    let data: Buffer = Buffer.alloc(0);
    if (zxid === null) w.pipeline.writeRefused(w.job, 'the leader takes no proposals now');
    else {
      let txn: ServerTxn;
      try {
        txn = w.pipeline.prepare(w.job, this.opts.mutations?.has('txnZxidOffByOne') === true ? zxid + 1n : zxid);
      } catch (e) {
        // A bound in the preparer.
        w.pipeline.writeRefused(w.job, e instanceof Error ? e.message : String(e));
        return;
      }
      this.proposedTxns.set(zxid, txn);
      data = encodeTxn(txn);
      this.metrics.recordProposal(data.length);
    }
    return this.stepCore({ type: 'propose', zxid, data });
  }

  /** A bug or a disk error: the peer stops (PeerIo.fatal says what that means for the process). */
  private fatal(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.io.fatal(err);
    // Where fatal does not end the process (an embedded peer), nothing of this peer stays open.
    this.release().catch((e: unknown) => log.error({ err: e }, 'while releasing a failed quorum peer'));
  }

  /** Sync-mode story for the operational log (learner side), and what a broadcasting learner or leader counts of a message. */
  private noteIncoming(e: Event): void {
    if (e.type !== 'message') return;
    const m = e.msg;
    if (this.zabState === 'broadcast') this.countIncoming(e.from, m);
    if (m.type === 'DIFF' || m.type === 'TRUNC' || m.type === 'SNAP') {
      log.info(
        { leader: String(e.from), mode: m.type, zxid: zxidHex(m.zxid), ourLastZxid: zxidHex(this.lastLoggedZxid()) },
        `syncing with leader by ${m.type}`,
      );
    }
  }

  /**
   * Follower.processPacket's and Leader.processAck's counts: proposals and commits received (an
   * observer's INFORM is its commit), how old a proposal is when it arrives, the ack latency of
   * every ACK_LOGGING_FREQUENCY-th zxid per learner.
   */
  private countIncoming(from: ServerId, m: Extract<Event, { type: 'message' }>['msg']): void {
    const now = this.io.clock.now_ms();
    const c = this.metrics.counter;
    if (m.type === 'PROPOSAL' && this.role === 'FOLLOWING') {
      c.learner_proposal_received_count++;
      const t = txnTime_ms(m.data);
      if (t !== undefined && now >= t) this.metrics.summary.proposal_latency.record(now - t);
    } else if ((m.type === 'COMMIT' && this.role === 'FOLLOWING') || (m.type === 'INFORM' && this.role === 'OBSERVING')) {
      c.learner_commit_received_count++;
    } else if (m.type === 'ACK' && this.role === 'LEADING') {
      this.recordAckLatency(from, m.zxid);
    }
  }

  private recordAckLatency(sid: ServerId, zxid: Zxid): void {
    if (zxid % ACK_LOGGING_FREQUENCY !== 0n) return;
    const txn = this.proposedTxns.get(zxid);
    const latency = txn === undefined ? -1 : this.io.clock.now_ms() - Number(txn.header.time);
    if (latency >= 0) this.metrics.recordKeyed('ack_latency', String(sid), latency);
  }

  private lastLoggedZxid(): bigint {
    const l = this.state.log;
    return l.length > 0 ? l[l.length - 1]!.zxid : this.state.snapZxid;
  }

  // ---- actions, in order ----

  /** Runs actions[from..] in order; where one returns a promise, the rest run after it settles. */
  private execute(actions: readonly Action[], from = 0): Effect {
    for (let i = from; i < actions.length; i++) {
      const r = this.run(actions[i]!);
      if (r !== undefined) return r.then(() => this.execute(actions, i + 1));
    }
  }

  private run(a: Action): Effect {
    switch (a.type) {
      case 'send':
        if (a.msg.type === 'NOTIFICATION') this.election.send(a.to, encodeNotification(a.msg, this.configBytes));
        else {
          if (a.msg.type === 'DIFF' || a.msg.type === 'TRUNC') {
            this.noteOutgoing(a.to, a.msg.type, a.msg.zxid);
            this.metrics.counter.diff_count++;
          }
          this.learners.send(a.to, a.msg.type === 'NEWLEADER' ? this.outgoingConfig(a.msg) : a.msg);
        }
        return;
      case 'sendSnapshot':
        return this.sendSnapshot(a.to, a.zxid);
      case 'disconnect':
        return this.learners.disconnect(a.peer);
      case 'persistAcceptedEpoch':
        return this.io.storage.writeAcceptedEpoch(a.epoch);
      case 'persistCurrentEpoch':
        return this.io.storage.writeCurrentEpoch(a.epoch);
      case 'persistConfig': {
        const next = ensembleConfigOfData(a.data);
        if (next === undefined) throw new Error(`persistConfig ${zxidHex(a.zxid)}: no config in its data`);
        const text = Buffer.from(configText(next), 'utf8');
        this.activate(next, text);
        return andThen(this.io.writeConfig?.(next), () => this.rebindClientPort());
      }
      case 'append': {
        if (a.txns.length === 0) return;
        const last = a.txns[a.txns.length - 1]!.zxid;
        const generation = this.logGeneration;
        return this.io.storage.append(
          a.txns.map((t) => ({ zxid: t.zxid, bytes: t.data })),
          () => {
            this.noteAcksCreated(a.txns);
            if (generation === this.logGeneration || this.opts.mutations?.has('staleDurabilityReports') === true)
              this.enqueue({ type: 'logDurable', zxid: last });
          },
        );
      }
      case 'truncate':
        // Reports of appends before the cut are void; what the log keeps up to the cut is durable
        // once the truncation is (it flushes the log first), and is reported as such.
        this.logGeneration++;
        return andThen(this.io.storage.truncate(a.zxid), () => {
          log.info({ zxid: zxidHex(a.zxid) }, 'txn log truncated');
          this.enqueue({ type: 'logDurable', zxid: a.zxid });
        });
      case 'loadSnapshot': {
        if (this.pipeline !== undefined) throw new Error('loadSnapshot while serving clients');
        const db = this.receivedSnapshots.get(a.data) ?? databaseFromSnapshot(parseSnapshot(a.data, `<SNAP from leader at ${zxidHex(a.zxid)}>`, a.zxid));
        this.receivedSnapshots.delete(a.data);
        if (db.lastProcessedZxid !== a.zxid) throw new Error(`loadSnapshot at ${zxidHex(a.zxid)} got a tree at ${zxidHex(db.lastProcessedZxid)}`);
        this.useDatabase(db);
        log.info({ zxid: zxidHex(a.zxid), nodes: db.tree.nodeCount, sessions: db.sessionsWithTimeouts.size }, 'loaded the snapshot the leader sent');
        return;
      }
      case 'takeSnapshot':
        return this.takeSnapshot(a.zxid);
      case 'apply':
        return this.apply(a.txn);
      case 'role':
        return this.onRole(a.role, a.leader);
      case 'established': {
        if (this.role === 'LEADING' && this.establishedEpoch !== undefined) {
          log.info({ epoch: String(a.epoch), from: String(this.establishedEpoch) }, `zxid counter spent: moved to epoch ${a.epoch} in place, no election`);
          this.establishedEpoch = a.epoch;
          this.forwardedWrites.push(...this.heldWrites.splice(0));
          return;
        }
        if (this.role === 'LEADING') this.establishedEpoch = a.epoch;
        const took_ms = this.io.clock.now_ms() - this.lookingSince_ms;
        if (this.role === 'LEADING') this.leadingSince_ms = this.io.clock.now_ms();
        log.info(
          { epoch: String(a.epoch), leader: this.leader === null ? null : String(this.leader), established_ms: took_ms },
          `ensemble established in epoch ${a.epoch} (${took_ms} ms after this peer started looking)`,
        );
        return;
      }
      case 'serving':
        return a.serving ? this.startServing() : this.stopServing();
      case 'forwardedRequest': {
        const pipeline = this.pipeline;
        if (pipeline === undefined) return;
        let job;
        try {
          job = pipeline.forwardedJob(decodeForwardedWrite(a.data, a.authinfo ?? []), Number(a.from));
        } catch (e) {
          log.warn({ from: String(a.from), err: e instanceof Error ? e.message : String(e) }, 'undecodable forwarded request');
          return;
        }
        if (job === undefined) return;
        if (this.opts.mutations?.has('forwardedWritesNextTurn') === true) this.io.clock.soon(() => this.enqueue({ type: 'write', job, pipeline }));
        else this.forwardedWrites.push({ type: 'write', job, pipeline });
        return;
      }
      case 'requestDropped':
        log.warn({ reason: a.reason, sync: a.sync }, 'request dropped by the ZAB core');
        if (a.sync && this.pipeline !== undefined && this.role === 'LEADING') {
          // A local sync refused (bound): its client would wait for ever, and later syncs would be
          // paired with the wrong connection. Restart the client side: its clients see CONNECTIONLOSS.
          return andThen(this.stopServing(), () => (this.state.role.role === 'LEADING' && this.state.role.established ? this.startServing() : undefined));
        }
        return;
      case 'syncDone':
        return this.pipeline?.syncDone();
      case 'sessionActivity':
        if (this.pipeline !== undefined) for (const [id, timeout] of decodeSessionActivity(a.data)) this.pipeline.touchSession(id, timeout);
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
      const valid = this.pipeline !== undefined && this.pipeline.sessions.touch(id, timeout_ms, this.io.clock.now_ms());
      if (valid) this.pipeline!.setOwner(id, Number(from));
      const answer = Buffer.alloc(9);
      answer.writeBigInt64BE(id, 0);
      answer[8] = valid ? 1 : 0;
      log.info({ session: `0x${BigInt.asUintN(64, id).toString(16)}`, learner: String(from), valid }, 'revalidated a session for a learner');
      this.enqueue({ type: 'revalidate', data: answer, to: from });
    } else {
      this.pipeline?.revalidated(id, data[8] !== 0);
    }
  }

  /** NEWLEADER carries the config in force as ZooKeeper's text (the core hands a reconfig txn's payload). */
  private outgoingConfig(m: Extract<QuorumMessage, { type: 'NEWLEADER' }>): QuorumMessage {
    if (m.config === undefined) return m;
    const c = ensembleConfigOfData(m.config);
    return c === undefined ? { type: 'NEWLEADER', zxid: m.zxid } : { type: 'NEWLEADER', zxid: m.zxid, config: Buffer.from(configText(c), 'utf8') };
  }

  private noteOutgoing(to: ServerId, type: 'DIFF' | 'TRUNC', zxid: Zxid): void {
    const r = this.state.role;
    const h = r.role === 'LEADING' ? r.handlers.get(to) : undefined;
    log.info(
      {
        learner: String(to),
        mode: type,
        learnerLastZxid: h ? zxidHex(h.peerLastZxid) : undefined,
        zxid: zxidHex(zxid),
        leaderLastZxid: zxidHex(this.lastLoggedZxid()),
      },
      `syncing learner ${to} by ${type}`,
    );
  }

  /** Logged txns a leader or follower acknowledges now (SendAckRequestProcessor, AckRequestProcessor): proposal_ack_creation_latency. */
  private noteAcksCreated(txns: readonly Txn[]): void {
    if (this.role !== 'LEADING' && this.role !== 'FOLLOWING') return;
    const now = this.io.clock.now_ms();
    for (const t of txns) {
      const time = txnTime_ms(t.data);
      if (time !== undefined && now >= time) this.metrics.summary.proposal_ack_creation_latency.record(now - time);
      if (this.role === 'LEADING') this.recordAckLatency(this.config.sid, t.zxid);
    }
  }

  /**
   * SNAP of the tree frozen now, at `zxid` (the core's commit point): its columns copied, data and
   * names shared. The transport streams it while later commits go on, and it stays exactly the
   * tree at `zxid` (the learner gets the later txns after it).
   */
  private sendSnapshot(to: ServerId, zxid: Zxid): void {
    const treeZxid = this.db.lastProcessedZxid;
    if (treeZxid !== zxid) throw new Error(`sendSnapshot at ${zxidHex(zxid)} but the tree is at ${zxidHex(treeZxid)}`);
    const r = this.state.role;
    const h = r.role === 'LEADING' ? r.handlers.get(to) : undefined;
    log.info(
      { learner: String(to), mode: 'SNAP', learnerLastZxid: h ? zxidHex(h.peerLastZxid) : undefined, zxid: zxidHex(zxid), nodes: this.db.tree.nodeCount },
      `syncing learner ${to} by SNAP`,
    );
    this.learners.sendSnapshot(
      to,
      zxid,
      frozenSnapshotSource({ tree: this.db.tree.freeze(), sessions: [...this.db.sessionsWithTimeouts], zxid, digest: EMPTY_DIGEST }),
    );
    this.metrics.counter.snap_count++;
  }

  /**
   * A database loaded from disk or from a leader's SNAP: its digest mismatches are logged, and
   * /zookeeper/config holds this member's own ensemble config, as ZooKeeper's
   * initConfigInZKDatabase sets it (version -1, mzxid = config version 0; no txn records it).
   */
  private useDatabase(db: ZkDatabase): void {
    reportDigestMismatches(db);
    // The config in force is zoo.cfg's (and its dynamic file's); one the tree holds from a newer
    // reconfig (a leader's SNAP) is left there: the core adopts it from NEWLEADER.
    const data = db.tree.getNode(CONFIG_PATH)?.data;
    const saved = data !== null && data !== undefined ? parseConfigText(data.toString('utf8')) : undefined;
    if (saved === undefined || saved.version <= this.activeConfig.version)
      db.tree.setData(CONFIG_PATH, this.configBytes, -1, this.activeConfig.version, BigInt(this.io.clock.now_ms()));
    this.db = db;
  }

  /** A committed reconfig's config is now the one in force. */
  private activate(next: EnsembleConfig, data: Buffer): void {
    const voters = (c: EnsembleConfig): string =>
      c.servers
        .filter((s) => s.role === 'participant')
        .map((s) => s.id)
        .join(',');
    if (next.version <= this.activeConfig.version) return;
    if (voters(next) !== voters(this.activeConfig) && this.config.reconfigOf === undefined) {
      log.warn(
        { version: next.version.toString(16), voters: voters(next) },
        'a committed config changes the voting members, which this server does not act on with reconfigEnabled=false',
      );
    }
    this.activeConfig = next;
    this.io.membersChanged?.(next.servers);
    // Learned without its txn (NEWLEADER, a notification): /zookeeper/config shows it too (ZooKeeper's initConfigInZKDatabase).
    const node = this.db?.tree.getNode(CONFIG_PATH);
    if (this.db !== undefined && (node === undefined || node.stat.mzxid < next.version))
      this.db.tree.setData(CONFIG_PATH, data, -1, next.version, BigInt(this.io.clock.now_ms()));
    this.configBytes = data;
    if (this.pendingConfig !== undefined && this.pendingConfig.version <= next.version) this.pendingConfig = undefined;
    log.info({ version: next.version.toString(16), servers: next.servers.length }, 'reconfig: new configuration in force');
  }

  /** The config in force gives this member another client address: serve there, and no longer on the old one. */
  private rebindClientPort(): Effect {
    const me = this.activeConfig.servers.find((s) => s.id === this.self.id);
    if (me?.clientPort === undefined) return;
    const address = me.clientAddress ?? this.options.clientPortAddress;
    if (me.clientPort === this.options.clientPort && address === this.options.clientPortAddress) return;
    log.info({ from: `${this.options.clientPortAddress}:${this.options.clientPort}`, to: `${address}:${me.clientPort}` }, 'reconfig: client port moved');
    this.options = { ...this.options, clientPort: me.clientPort, clientPortAddress: address, clientPortListen: true };
    if (this.pipeline !== undefined) return this.pipeline.rebind(me.clientPort, address);
    if (!this.notServingUp) return;
    return this.notServing.close().then(() => this.notServing.listen(this.options));
  }

  /**
   * The leader's reconfig checks after the session's (ZooKeeper's PrepRequestProcessor): one
   * reconfig at a time, curConfigId, the request's arguments, a synced quorum of the new config.
   */
  private reconfigPolicy(): ReconfigPolicy {
    let requested: EnsembleConfig | undefined;
    return {
      enabled: this.options.reconfigEnabled,
      next: (req, zxid) => {
        if (this.pendingConfig !== undefined || this.state.lastSeenZxid > this.state.quorumZxid) throw new KeeperError(Err.ReconfigInProgress);
        const last = this.activeConfig;
        if (req.curConfigId !== -1n && req.curConfigId !== last.version) throw new KeeperError(Err.BadVersion);
        requested = requestedConfig(last, req, zxid, this.cfg.standaloneEnabled);
        if (!this.syncedQuorumOf(requested)) throw new KeeperError(Err.NewConfigNoQuorum);
        return Buffer.from(configText(requested), 'utf8');
      },
      proposing: (data) => {
        const next = requested!;
        const m = this.opts.mutations;
        if (m?.has('configActiveAtProposal') === true) this.activate(next, data);
        if (m?.has('configWrittenAtProposal') === true) void this.io.writeConfig?.(next);
        const me = next.servers.find((s) => s.id === this.self.id);
        if (m?.has('clientPortMovedAtProposal') === true && me?.clientPort !== undefined && this.pipeline !== undefined)
          void this.pipeline.rebind(me.clientPort, me.clientAddress ?? this.options.clientPortAddress);
        this.pendingConfig = next;
      },
    };
  }

  /** Leader: whether it and the learners it has brought up to date hold a quorum of `c` (Leader.isQuorumSynced). */
  private syncedQuorumOf(c: EnsembleConfig): boolean {
    const r = this.state.role;
    if (r.role !== 'LEADING') return false;
    const synced: ServerId[] = [this.config.sid];
    // Followers only, as ZooKeeper's isQuorumSynced: an observer's acks would not count before the new config is in force.
    // Nor a follower the config in force has made an observer: its connection is about to go, and it
    // rejoins as an observer that never acks (the new config would wait for it for ever).
    const observers = new Set(this.activeConfig.servers.filter((s) => s.role === 'observer').map((s) => BigInt(s.id)));
    for (const h of r.handlers.values()) if (h.participant && h.stage === 'uptodate' && !observers.has(h.sid)) synced.push(h.sid);
    const voters = new Set(c.servers.filter((s) => s.role === 'participant').map((s) => BigInt(s.id)));
    return [...new Set(synced)].filter((s) => voters.has(s)).length * 2 > voters.size;
  }

  /**
   * While serving, the log already holds every txn: the snapshot only shortens recovery, so it is
   * written in the background as ZooKeeper's SyncRequestProcessor does (fuzzy: the tree moves on
   * meanwhile, and recovery replays the log from `zxid`). A sync snapshot (after SNAP or DIFF)
   * must be durable before the learner acknowledges NEWLEADER.
   */
  private takeSnapshot(zxid: Zxid): Effect {
    if (this.db.lastProcessedZxid !== zxid) throw new Error(`takeSnapshot at ${zxidHex(zxid)} but the tree is at ${zxidHex(this.db.lastProcessedZxid)}`);
    const name = this.opts.mutations?.has('snapshotNamedBehind') === true ? zxid - 1n : zxid;
    return this.io.storage.snapshot(name, snapshotSourceOf(this.db, name), this.pipeline !== undefined);
  }

  /** A committed txn reaches the tree: the leader's own from what it proposed, anything else decoded. */
  private apply(t: Txn): void {
    const proposed = this.proposedTxns.get(t.zxid);
    const txn: ServerTxn = proposed ?? decodeTxn(t.data);
    this.proposedTxns.delete(t.zxid);
    const age = this.io.clock.now_ms() - Number(txn.header.time);
    if (proposed !== undefined) {
      // Leader.tryToCommit: a proposal of this leader has its quorum of acks and is committed.
      this.metrics.counter.commit_count++;
      if (age >= 0) this.metrics.summary.quorum_ack_latency.record(age);
    } else if (this.zabState === 'broadcast' && this.role !== 'LEADING' && age >= 0) {
      this.metrics.summary.commit_propagation_latency.record(age);
    }
    // The config is in force before the reply that reports it (ZooKeeper activates it at COMMIT).
    const b = txn.body;
    if (b.type === OpCode.reconfig && b.txn.data !== null && this.config.reconfigOf === undefined) {
      const next = parseConfigText(b.txn.data.toString('utf8'));
      if (next === undefined) log.error({ zxid: zxidHex(t.zxid) }, 'a committed reconfig holds no config');
      else this.activate(next, b.txn.data);
    }
    if (this.pipeline !== undefined) this.pipeline.applyCommitted(txn);
    else this.db.applyChecked(txn);
  }

  private onRole(role: Role, leader: ServerId | null): Effect {
    // A new role is a new client-serving period (ZooKeeper makes a new ZooKeeperServer). Leaving
    // LOOKING ends read-only serving: its connections close and clients reconnect read-write.
    this.readOnlyTimer?.cancel();
    this.readOnlyTimer = undefined;
    this.establishedEpoch = undefined;
    return andThen(this.stopServing(), () => {
      const now = this.io.clock.now_ms();
      this.leadingSince_ms = undefined;
      if (role === 'LOOKING') {
        this.lookingSince_ms = now;
        this.unavailableSince_ms ??= now;
        this.metrics.counter.looking_count++;
        log.info({ myid: this.self.id, round: String(this.state.logicalclock), lastZxid: zxidHex(this.lastLoggedZxid()) }, 'LOOKING: starting leader election');
      } else {
        log.info(
          {
            myid: this.self.id,
            role,
            leader: leader === null ? null : String(leader),
            round: String(this.state.logicalclock),
            election_ms: now - this.lookingSince_ms,
          },
          `election over: ${role}${leader !== null && role !== 'LEADING' ? ` leader ${leader}` : ''}`,
        );
        this.metrics.summary.election_time.record(now - this.lookingSince_ms);
      }
      this.role = role;
      this.leader = leader;
      // A reconfig this member proposed as leader commits under the next leader or never.
      this.pendingConfig = undefined;
      if (role === 'LOOKING') this.scheduleReadOnly();
    });
  }

  /** ZooKeeper's roZkMgr: after the grace period, a member still LOOKING serves read-only clients. */
  private scheduleReadOnly(): void {
    if (!this.options.readOnlyModeEnabled || this.closed) return;
    this.readOnlyTimer?.cancel();
    this.readOnlyTimer = this.io.clock.after(Math.max(READ_ONLY_GRACE_MS_MIN, this.options.tickTime_ms), () => {
      this.readOnlyTimer = undefined;
      if (this.closed || this.role !== 'LOOKING' || this.pipeline !== undefined) return;
      // Started by the pump, between steps, so it never interleaves with a step's actions.
      this.readOnlyPending = true;
      this.pump();
    });
  }

  // ---- MemberAdminSource ----

  get admin(): MemberAdminSource {
    return this;
  }

  servingSource(): AdminSource | undefined {
    return this.pipeline;
  }

  quorum(): QuorumView {
    const r = this.state.role;
    const learners: LearnerView[] = [];
    if (r.role === 'LEADING') {
      for (const h of r.handlers.values()) {
        const line = this.activeConfig.servers.find((s) => BigInt(s.id) === h.sid);
        learners.push({
          sid: Number(h.sid),
          participant: h.participant,
          synced: h.stage === 'uptodate',
          remoteAddress: line === undefined ? '' : `/${line.host}:${line.quorumPort}`,
          established_ms: this.started_ms + h.start_tick * this.tick_ms,
        });
      }
    }
    return {
      myid: this.self.id,
      role: this.role,
      zabState: zabStateOf(r),
      voting: this.state.quorum.isVoter(this.config.sid),
      leader: this.leader === null ? null : Number(this.leader),
      servers: this.activeConfig.servers,
      lastLoggedZxid: this.lastLoggedZxid(),
      quorumSize: this.state.quorum.voters.length,
      learners,
      leadingSince_ms: this.leadingSince_ms,
      pendingSyncs: r.role === 'LEADING' ? r.syncWaiters.length : 0,
    };
  }

  snapshotNow(): Promise<SnapshotFile> | undefined {
    return this.io.storage.takeSnapshotFile?.(() => {
      const zxid = this.db.lastProcessedZxid;
      return { zxid, src: snapshotSourceOf(this.db, zxid) };
    });
  }

  modeName(): string {
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
    if (this.pipeline !== undefined) return;
    if (readOnly && this.role !== 'LOOKING') throw new Error(`read-only serving while ${this.role}`);
    if (!readOnly && this.role === 'LOOKING') throw new Error('serving read-write while LOOKING');
    const sid = this.self.id;
    let mode: ServingMode;
    if (readOnly) mode = new ReadOnlyMode(sid);
    else if (this.role === 'LEADING') {
      mode = new LeaderMode(sid, this.cfg.localSessionsEnabled, {
        proposeWrite: (job) => this.enqueue({ type: 'write', job, pipeline }),
        localSync: () => this.enqueue({ type: 'sync' }),
      });
    } else mode = new LearnerMode(this.role === 'OBSERVING' ? 'observer' : 'follower', sid, (e) => this.enqueue(e));
    const extras = this.role === 'LEADING' && !readOnly ? { ...this.opts, member: this, reconfig: this.reconfigPolicy() } : { ...this.opts, member: this };
    const pipeline = new RequestPipeline(this.options, this.db, mode, this.io, extras);
    if (this.notServingUp) {
      await this.notServing.close();
      this.notServingUp = false;
    }
    await pipeline.listen();
    this.pipeline = pipeline;
    log.info(
      { mode: mode.name, clientPort: pipeline.port, zxid: zxidHex(this.db.lastProcessedZxid) },
      readOnly ? 'Read-only server started: serving read-only clients' : 'serving clients',
    );
  }

  private stopServing(): Effect {
    const pipeline = this.pipeline;
    if (pipeline === undefined) return;
    this.pipeline = undefined;
    // Proposals it made and never saw committed are in the log; a later commit decodes them from there.
    this.proposedTxns.clear();
    this.forwardedWrites.length = 0;
    this.heldWrites.length = 0;
    return pipeline.close().then(async () => {
      if (!this.closed && !this.notServingUp) {
        await this.notServing.listen(this.options);
        this.notServingUp = true;
      }
      log.info({ mode: this.modeName() }, 'stopped serving clients');
    });
  }
}

/** ZooKeeper's ZabState of a role's phase. */
function zabStateOf(r: PeerState['role']): QuorumView['zabState'] {
  if (r.role === 'LOOKING') return 'election';
  if (r.role === 'LEADING') return r.phase === 'broadcast' ? 'broadcast' : r.phase === 'discovery' ? 'discovery' : 'synchronization';
  return r.phase === 'broadcast' ? 'broadcast' : r.phase === 'connecting' ? 'discovery' : 'synchronization';
}
