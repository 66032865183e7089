/**
 * The simulator for the real server: N tszk quorum peers (the QuorumPeer runtime, its request
 * pipeline in every role incl. read-only, prep, sessions) on a simulated network, disk and clock
 * (world.ts, peerDisk.ts), with simulated ZooKeeper clients (simClient.ts) issuing compare-and-set
 * writes, multis of two registers, reads, sync+reads, ephemerals and session closes and abandons.
 * One seeded PRNG drives everything; a seed replays exactly.
 *
 * Checked after every event: ZAB's guarantees on the committed sequence (committedSequence.ts),
 * every member's tree digest equal to a reference tree's at the same zxid, no server logging an
 * error. At the end: linearizable writes and ZooKeeper's read rules (registerHistory.ts), no
 * ephemeral of a closed or expired session left, every member caught up, and liveness (a write
 * commits within 60 s of healing).
 */
import { type JuteWriter } from '../jute/index.js';
import { log } from '../log.js';
import { Err } from '../proto/errors.js';
import { CreateMode, EventType, OpCode } from '../proto/opcodes.js';
import * as R from '../proto/records.js';
import { parseZooCfg, type ParsedConfig } from '../server/config.js';
import type { PeerIo } from '../server/quorum/peerIo.js';
import { coreConfig, coreTick_ms, QuorumPeer, type PeerObserver } from '../server/quorum/quorumPeer.js';
import { databaseFromSnapshot, snapshotSourceOf } from '../storage/database.js';
import { snapshotBody } from '../storage/snapshot.js';
import { snapshotFileFromStream } from '../server/quorum/snapStream.js';
import { configText, ensembleConfigOf, type EnsembleConfig } from '../server/quorum/quorumConfig.js';
import { dynamicConfigText } from '../server/quorum/dynamicConfig.js';
import { CONFIG_PATH } from '../tree/dataTree.js';
import { ConfigHistory, describeAsk, drawReconfig } from './serverReconfig.js';
import { DataTree } from '../tree/dataTree.js';
import { ZkDatabase } from '../txn/database.js';
import { decodeTxn } from '../txn/txn.js';
import { OPEN_ACL_UNSAFE } from '../tree/index.js';
import { op as clientOp, readMultiResults, writeMulti, type Op as ClientOp } from '../client/ops.js';
import type { Mutation } from '../zab/state.js';
import { RUNTIME_MUTATIONS, type RuntimeMutation } from '../server/mutations.js';
import { startStandaloneServer } from '../server/standalone.js';
import { SimTxnSink } from './simTxnSink.js';
import { WireRules } from './wireRules.js';
import { serverId, zxidStr, type Zxid } from '../zab/types.js';
import { CommittedSequence, fail, Violation } from './committedSequence.js';
import { VERSION_UNREPORTED, type Op, type ReadOp, type WriteOp } from './history.js';
import { PeerDisk } from './peerDisk.js';
import { Prng } from './prng.js';
import { drawPartition } from './partitions.js';
import { RegisterHistory } from './registerHistory.js';
import { SimConnection, type Reply, type Session } from './simClient.js';
import type { FaultRates, SimOptions } from './sim.js';
import type { WriteResult } from './machine.js';
import { Trace } from './trace.js';
import { EPOCH_MS, World, type Host } from './world.js';

/** The core simulator's faults, process stalls (a GC or VM pause longer than syncLimit) and cut client links. */
export interface ServerFaults extends FaultRates {
  pause: number;
  clientCut: number;
}

/** A broken variant to show the checkers catch it: of the core, of the server runtime, or of the disk. */
export type ServerMutation = Mutation | RuntimeMutation | 'durableBeforeFsync';

/** The core simulator's options, less what the real servers decide themselves (commit log, zxid counter, wire). */
export interface ServerSimOptions extends Omit<
  SimOptions,
  'faults' | 'mutations' | 'commitLogCount' | 'zxidCounter_max' | 'zxidRolloverWithoutElection' | 'wire' | 'reconfig'
> {
  faults: ServerFaults;
  sessionTimeout_ms: number;
  /** readonlymode.enabled on every member; half the clients may then connect read-only. */
  readOnly: boolean;
  /** One standalone server (no quorum): its writes are numbered by itself and committed once its log fsyncs them. */
  standalone: boolean;
  /** reconfigEnabled (with skipACL): clients also reconfigure the ensemble (serverReconfig.ts). */
  reconfig: boolean;
  /**
   * `--epoch-bump`: tszk.zxidRolloverWithoutElection on every member and the zxid counter spent
   * every `counter_max` proposals, so leaders move to the next epoch in place many times a seed.
   */
  epochBump: { counter_max: bigint } | null;
  mutations: ServerMutation[];
}

/** The stats a many-seed run sums into its `exercised:` line (main.ts; test/sim/server-seeds asserts on them). */
export const EXERCISED_STATS = [
  'crashes',
  'sessions',
  'ephemerals',
  'expired',
  'readOnlyReads',
  'multisApplied',
  'multisFailed',
  'committed',
  'reconfigsCommitted',
  'reconfigsAnsweredOk',
  'reconfigsRefused',
  'epochBumps',
] as const;
export type ExercisedStat = (typeof EXERCISED_STATS)[number];

export interface ServerSimResult {
  ok: boolean;
  seed: number;
  options: ServerSimOptions;
  violation?: string;
  checker?: string;
  trace?: string[];
  stats: {
    events: number;
    virtual_ms: number;
    committed: number;
    ops: number;
    crashes: number;
    sessions: number;
    ephemerals: number;
    expired: number;
    readOnlyReads: number;
    /** Multis answered: all their ops done, or failed as one. */
    multisApplied: number;
    multisFailed: number;
    /** Reconfig txns committed; reconfigs answered Ok; refused with one of ZooKeeper's codes for it. */
    reconfigsCommitted: number;
    reconfigsAnsweredOk: number;
    reconfigsRefused: number;
    /** Epochs a leader moved to in place (zxidRolloverWithoutElection). */
    epochBumps: number;
  };
}

/** zoo.cfg timings: short, so a seed covers many elections in little virtual time. */
const TICK_TIME_MS = 200;
const INIT_LIMIT = 15;
const SYNC_LIMIT = 8;
/** Clients' session timeouts: short so abandoned sessions expire soon, or zoo.cfg's maximum (20 ticks) so a leader's stall can end before they expire. */
const SESSION_TIMEOUTS_MS = [2000, 4000] as const;
const OP_TIMEOUT_MS = 3000;
const LIVENESS_MS = 60_000;
/** In reconfig seeds: the share of client ops that are reconfigs. */
const RECONFIG_SHARE = 0.1;
const CHAOS_PER_OP_MS = 400;
/**
 * A leader's long stall: longer than syncLimit, an election and the clients' giving up on it (2/3
 * of their session timeout), shorter than the sessions' timeout.
 */
const STALL_LONG_MS = [2900, 3900] as const;
/** After the probe write: long enough for abandoned sessions to expire (a new leader times them from its start). */
const settle_ms = (sessionTimeout_ms: number): number => 4 * sessionTimeout_ms + 4000;
/**
 * After settling, every member must be at the ensemble's last commit within this long: a LOOKING
 * member backs its notifications off up to FLE's 60 s maxNotificationInterval before it hears of
 * the leader (seed 3079: an observer took over 22 s).
 */
const CONVERGE_MS = 70_000;

interface SimPeer {
  id: number;
  disk: PeerDisk;
  /** Its dynamic config file (written when a reconfig commits there): a restart reads its membership from it. */
  configFile: EnsembleConfig | undefined;
  host: Host | null;
  /** The running member: a quorum peer, or a standalone server. */
  peer: SimServer | null;
  starting: boolean;
  incarnation: number;
  /** Position of its tree in the committed sequence. */
  appliedAt: number;
  /** The zxid its tree was last checked at. */
  checkedZxid: bigint;
  /** From its core after each step: the epoch it accepted, and the epoch it leads once established. */
  acceptedEpoch: bigint;
  leadingEpoch: bigint | null;
  /** Proposals it leads that have not committed yet. */
  outstanding: number;
}

/** What the simulation reads of a running member (QuorumPeer has it; standalone's adapter too). */
interface SimServer {
  readonly tree: DataTree;
  readonly serving: 'read-write' | 'read-only' | undefined;
  readonly busy: boolean;
  /** A quorum peer's config in force. */
  readonly configInForce?: EnsembleConfig;
  modeName(): string;
}

interface Client {
  id: number;
  conn: SimConnection | null;
  session: Session | null;
  lastZxid: bigint;
  versions: Map<string, number>;
  issued: number;
  n: number;
  /** The session's last request xid. */
  xid: number;
  /** Data watches this connection holds: register → zxid of the read that set it. */
  watches: Map<string, bigint>;
  done: boolean;
  probe: boolean;
  /** It asks for read-only service when no member serves read-write (ZooKeeper's canBeReadOnly). */
  canBeReadOnly: boolean;
  /** Its next op is a sync+read (it was sent to a stalled member). */
  syncReadNext: boolean;
  /** Requests (or a connect) in flight: the next op waits for all of them. */
  inFlight: number;
}

export class ServerSimulation {
  readonly prng: Prng;
  readonly world: World;
  readonly trace: Trace;
  readonly peers: SimPeer[] = [];
  readonly ops: Op[] = [];
  private readonly cfg: ParsedConfig;
  private readonly sequence: CommittedSequence;
  private readonly configs: ConfigHistory;
  private readonly registers = new RegisterHistory();
  /** The committed state, applied by the checker from the committed sequence: its digest at each zxid. */
  private readonly reference = new ZkDatabase(initialTree());
  private readonly digestAt = new Map<bigint, bigint>();
  private readonly clients: Client[] = [];
  /** Sessions a client closed (acknowledged) or gave up on: none may keep ephemerals in the end. */
  private readonly deadSessions = new Set<bigint>();
  private readonly sessionsMade = new Set<bigint>();
  private ephemeralsMade = 0;
  private expiredSeen = 0;
  private readOnlyReads = 0;
  private multisApplied = 0;
  private multisFailed = 0;
  private epochBumps = 0;
  /** Leaders established since their last role change: another `established` is an epoch bump. */
  private readonly establishedLeaders = new Set<number>();
  private failure: Violation | undefined;
  private events = 0;
  private crashes = 0;
  private finished = false;
  private probeDone = false;
  private livenessDeadline = Infinity;
  /** No new faults before this (while a leader's long stall plays out). */
  private quietUntil = 0;

  constructor(readonly opt: ServerSimOptions) {
    this.prng = new Prng(opt.seed);
    this.world = new World(this.prng);
    this.world.electionDrop = opt.faults.msgDrop;
    this.trace = new Trace(opt.trace_max);
    this.cfg = parseZooCfg(zooCfg(opt));
    this.configs = new ConfigHistory(ensembleConfigOf(this.cfg));
    // Durability counts the voters of the newest committed config (the static ones until a reconfig commits).
    this.sequence = new CommittedSequence(
      () => this.voterDisks(),
      (txn) => this.committed(txn.zxid, txn.data),
    );
    this.digestAt.set(0n, this.reference.tree.digest);
    const wire = new WireRules((z) => this.origins.get(z));
    this.world.onQuorumPacket = (conn, from, to, msg) => wire.delivered(conn, from, to, msg);
    const initialSnapshot = snapshotFileFromStream(snapshotBody(snapshotSourceOf(new ZkDatabase(initialTree()), 0n)));
    for (let id = 1; id <= opt.voters + opt.observers; id++) {
      const disk = new PeerDisk(id, this.prng);
      disk.snapshotFile = initialSnapshot;
      this.peers.push({
        id,
        disk,
        configFile: undefined,
        host: null,
        peer: null,
        starting: false,
        incarnation: 0,
        appliedAt: -1,
        checkedZxid: -1n,
        acceptedEpoch: 0n,
        leadingEpoch: null,
        outstanding: 0,
      });
    }
  }

  // ---- the reference state --------------------------------------------------------------------

  /** The session and cxid of each committed txn (for the wire rules). */
  private readonly origins = new Map<bigint, { sessionId: bigint; cxid: number }>();

  private committed(zxid: bigint, data: Buffer): void {
    const txn = decodeTxn(data);
    this.reference.apply(txn);
    this.digestAt.set(zxid, this.reference.tree.digest);
    const h = txn.header;
    this.origins.set(zxid, { sessionId: h.clientId, cxid: h.cxid });
    const b = txn.body;
    const inFlight = this.pendingCas.get(`${h.clientId}:${h.cxid}`);
    if (b.type === OpCode.reconfig) {
      const c = this.configs.onCommitted(zxid, b.txn.data?.toString('utf8') ?? '');
      this.trace.add(this.world.now, 0, `reconfig committed: ${configText(c).replaceAll('\n', ' ')}`);
      // A member added back that is down is started (with the members plus itself, as an operator would).
      for (const p of this.peers) if (p.peer === null && c.servers.some((x) => x.id === p.id)) this.world.at(this.prng.range(200, 3000), () => this.restart(p));
    } else if (b.type === OpCode.multi) {
      // One txn, one zxid for every sub-op: a multi's writes become visible together. A failed
      // one keeps the txns of the ops before its failure in the log; applying turns them to errors.
      const failed = b.txns.some((t) => t.type === OpCode.error);
      b.txns.forEach((t, i) => {
        const w = inFlight?.[i];
        if (t.type === OpCode.setData && !failed) this.registers.record(t.txn.path, zxid, t.txn.data?.toString() ?? '', t.txn.version);
        else if (w !== undefined && ((t.type === OpCode.check && !failed) || (t.type === OpCode.error && t.txn.err === Err.BadVersion)))
          this.registers.record(w.key, zxid, w.value, null); // a compare that wrote nothing is still an ordered event of its register
      });
    } else if (b.type === OpCode.setData && b.txn.path.startsWith('/k')) this.registers.record(b.txn.path, zxid, b.txn.data?.toString() ?? '', b.txn.version);
    else if (h.type === OpCode.error && inFlight !== undefined) {
      // A compare-and-set that failed is still an ordered event of its register.
      this.registers.record(inFlight[0]!.key, zxid, inFlight[0]!.value, null);
    }
  }

  /** Writes in flight by (session, xid), a multi's in its order: a failed one commits as an error txn naming only those. */
  private readonly pendingCas = new Map<string, readonly WriteOp[]>();

  /** Every member's tree must hold, at whatever zxid it is, exactly the committed state there. */
  private checkTrees(): void {
    for (const p of this.peers) {
      if (p.peer === null || p.starting) continue;
      const t = p.peer.tree;
      const z = t.lastProcessedZxid;
      if (z === p.checkedZxid) continue;
      p.checkedZxid = z;
      const want = this.digestAt.get(z);
      if (want === undefined) fail('tree', `peer ${p.id}'s tree is at ${z.toString(16)}, which was never committed`);
      if (t.digest !== want) fail('tree', `peer ${p.id}'s tree at 0x${z.toString(16)} has digest ${t.digest}, the committed state there ${want}`);
      if (this.opt.reconfig) this.configs.checkTree(p.id, z, t.getNode(CONFIG_PATH)?.data);
    }
  }

  /** Every member's config in force is the committed one of its version, and it serves clients on the port that gives it. */
  private checkConfigs(): void {
    for (const p of this.peers) {
      const c = p.peer?.configInForce;
      if (c === undefined || p.starting) continue;
      this.configs.checkHeld(p.id, c, 'config in force');
      // A leader that a committed reconfig left without a vote steps down at that commit (ZooKeeper's Leader.processReconfig).
      if (p.leadingEpoch !== null && c.version !== 0n && !c.servers.some((s) => s.id === p.id && s.role === 'participant'))
        fail('config', `peer ${p.id} leads epoch ${p.leadingEpoch}, but its config in force (version ${c.version.toString(16)}) gives it no vote`);
      const port = p.host?.clientPort;
      if (port !== undefined && p.peer?.busy === false) this.configs.checkPort(p.id, c, port);
    }
  }

  /** Asked after every event: worked out once per config. */
  private voters: { of: EnsembleConfig; disks: PeerDisk[] } | undefined;

  private voterDisks(): PeerDisk[] {
    const c = this.configs.newest();
    if (this.voters?.of !== c) {
      const ids = new Set(c.servers.flatMap((s) => (s.role === 'participant' ? [s.id] : [])));
      this.voters = { of: c, disks: this.peers.filter((p) => this.opt.standalone || ids.has(p.id)).map((p) => p.disk) };
    }
    return this.voters.disks;
  }

  /** A member of the newest committed config (every member before any reconfig). */
  private isMember(p: SimPeer): boolean {
    return this.opt.standalone || this.configs.newest().servers.some((s) => s.id === p.id);
  }

  /**
   * The zoo.cfg a member (re)starts with: the static one, or its dynamic config file's membership
   * when it has one that names it; a member added back after its file was written starts with the
   * members plus itself (version 0), as an operator adding it would start it.
   */
  private cfgOf(p: SimPeer): ParsedConfig {
    const f = p.configFile;
    if (f === undefined) return this.cfg;
    if (f.servers.some((s) => s.id === p.id)) {
      const parsed = parseZooCfg(zooCfg(this.opt, f));
      return { ...parsed, dynamicConfig: { path: `/sim/zoo.cfg.dynamic.${f.version.toString(16)}`, version: f.version, text: dynamicConfigText(f) } };
    }
    return parseZooCfg(zooCfg(this.opt, { ...this.configs.newest(), version: 0n }));
  }

  // ---- peers ------------------------------------------------------------------------------------

  /** Starts a member that is down, unless a reconfig removed it (a removed server is not started again). */
  private restart(p: SimPeer): void {
    if (p.peer === null && this.isMember(p)) this.start(p);
  }

  private start(p: SimPeer): void {
    p.incarnation++;
    const host = this.world.boot(p.id);
    p.host = host;
    p.disk.attach(host);
    p.disk.durableBeforeFsync = this.opt.mutations.includes('durableBeforeFsync');
    if (this.opt.standalone) return this.startStandalone(p, host);
    const cfg = this.cfgOf(p);
    const self = cfg.servers.find((s) => s.id === p.id)!;
    const core = this.opt.mutations.filter((m): m is Mutation => !(RUNTIME_MUTATIONS as readonly string[]).includes(m) && m !== 'durableBeforeFsync');
    const counter = this.opt.epochBump === null ? {} : { zxidCounter_max: this.opt.epochBump.counter_max };
    const config = { ...coreConfig(cfg, serverId(p.id), coreTick_ms(TICK_TIME_MS)), ...counter, mutations: new Set(core) };
    const inc = p.incarnation;
    const io: PeerIo = {
      clock: host,
      listenClients: host.listenClients,
      storage: p.disk,
      openQuorum: (events) => host.quorum(events),
      openElection: (onNotification) => host.election(onNotification),
      // The dynamic config file: written once the config is committed (ZooKeeper writes it at COMMIT).
      writeConfig: (c) => {
        if (p.incarnation !== inc) return;
        p.configFile = c;
        // Judged here, but reported from the run loop: a throw would land in whatever step wrote it.
        try {
          this.configs.checkHeld(p.id, c, 'dynamic config file');
        } catch (e) {
          this.failure ??= e as Violation;
        }
      },
      fatal: (err) => {
        // A checker's violation raised inside the peer's step comes out here as it is.
        if (p.incarnation === inc)
          this.failure ??= err instanceof Violation ? err : new Violation('runtime assertion', `peer ${p.id}: ${(err as Error).message ?? String(err)}`);
      },
    };
    const observer: PeerObserver = {
      stepped: (event, actions, state) => {
        if (p.incarnation !== inc) return;
        p.acceptedEpoch = state.acceptedEpoch;
        const r = state.role;
        p.leadingEpoch = r.role === 'LEADING' && r.established ? r.newEpoch : null;
        p.outstanding = r.role === 'LEADING' ? r.proposals.length : 0;
        if (event.type !== 'tick' && !(event.type === 'message' && event.msg.type === 'PING')) this.trace.add(this.world.now, p.id, event as never);
        if (event.type === 'recover') p.appliedAt = this.sequence.positionOf(state.snapZxid, undefined, `peer ${p.id} restarted from its snapshot`);
        for (const a of actions) {
          if (a.type !== 'send' && a.type !== 'append' && a.type !== 'sessionActivity') this.trace.add(this.world.now, p.id, a);
          if (a.type === 'apply') p.appliedAt = this.sequence.onApply(p.id, p.appliedAt, a.txn);
          else if (a.type === 'loadSnapshot') p.appliedAt = this.sequence.positionOf(a.zxid, undefined, `peer ${p.id} loaded a SNAP`);
          else if (a.type === 'role') this.establishedLeaders.delete(p.id);
          else if (a.type === 'established') {
            if (this.establishedLeaders.has(p.id)) this.epochBumps++;
            this.establishedLeaders.add(p.id);
            this.sequence.onEstablished(p.id, a.epoch, state);
          }
        }
      },
    };
    const peer = new QuorumPeer(cfg, self, config, coreTick_ms(TICK_TIME_MS), io, { observer, mutations: this.runtimeMutations() });
    p.peer = peer;
    p.starting = true;
    p.checkedZxid = -1n;
    this.trace.add(this.world.now, p.id, 'starts from disk');
    peer.start().then(
      () => {
        if (p.incarnation === inc) p.starting = false;
      },
      (err: unknown) => {
        if (p.incarnation === inc) this.failure ??= new Violation('runtime assertion', `peer ${p.id} failed to start: ${(err as Error).message}`);
      },
    );
  }

  private runtimeMutations(): Set<RuntimeMutation> {
    return new Set(this.opt.mutations.filter((m): m is RuntimeMutation => (RUNTIME_MUTATIONS as readonly string[]).includes(m)));
  }

  /**
   * A standalone server over the simulated disk: recovered as `tszk server` recovers a dataDir
   * (newest snapshot, then the log replayed), its txns logged through a sink that commits them
   * once fsynced. What a crash kept of the unsynced log is committed by the restart that replays it.
   */
  private startStandalone(p: SimPeer, host: Host): void {
    const inc = p.incarnation;
    let db: ZkDatabase | undefined;
    let up = false;
    p.peer = {
      get tree() {
        return db?.tree ?? new DataTree();
      },
      get serving() {
        return up ? ('read-write' as const) : undefined;
      },
      busy: false,
      modeName: () => 'standalone',
    };
    p.starting = true;
    p.checkedZxid = -1n;
    this.trace.add(this.world.now, p.id, 'starts from disk');
    const commit = (txns: readonly { zxid: bigint; bytes: Buffer }[]): void => {
      for (const t of txns) p.appliedAt = this.sequence.onApply(p.id, p.appliedAt, { zxid: t.zxid as Zxid, data: t.bytes });
    };
    const start = async (): Promise<void> => {
      const d = await p.disk.open(snapshotSourceOf(new ZkDatabase(new DataTree()), 0n));
      const recovered = databaseFromSnapshot(d.snapshot);
      p.appliedAt = this.sequence.positionOf(d.snapshot.zxid, undefined, `standalone ${p.id} restarted from its snapshot`);
      for (const t of d.txns) recovered.applyChecked(t.txn);
      commit(d.txns.map((t) => ({ zxid: t.txn.header.zxid, bytes: t.bytes })));
      db = recovered;
      const sink = new SimTxnSink(p.disk, recovered, this.opt.snapCount, (txns) => {
        if (p.incarnation !== inc) return;
        this.trace.add(this.world.now, p.id, `fsynced and commits ${txns.map((t) => zxidStr(t.zxid)).join(' ')}`);
        commit(txns);
      });
      await startStandaloneServer(this.cfg.options, {
        db: recovered,
        sink,
        io: { clock: host, listenClients: host.listenClients },
        mutations: this.runtimeMutations(),
      });
    };
    start().then(
      () => {
        if (p.incarnation !== inc) return;
        p.starting = false;
        up = true;
      },
      (err: unknown) => {
        if (p.incarnation === inc) this.failure ??= new Violation('runtime assertion', `standalone ${p.id} failed to start: ${(err as Error).message}`);
      },
    );
  }

  private crash(p: SimPeer): void {
    if (p.peer === null) return;
    this.crashes++;
    this.trace.add(this.world.now, p.id, 'CRASH (kill -9)');
    p.incarnation++;
    this.world.kill(p.id, this.prng.chance(0.5));
    p.disk.crash();
    p.peer = null;
    p.host = null;
    p.starting = false;
  }

  private crashAndRestart(p: SimPeer): void {
    this.crash(p);
    this.world.at(this.prng.range(200, 6000), () => this.restart(p));
  }

  // ---- faults -----------------------------------------------------------------------------------

  private faultTick(): void {
    const w = this.world;
    if (!w.chaos) return;
    const f = this.opt.faults;
    if (w.now < this.quietUntil) return void w.at(this.prng.range(1, 2 * f.interval_ms), () => this.faultTick());
    const r = this.prng.float();
    const alive = this.peers.filter((p) => p.peer !== null);
    if (r < f.crash && alive.length > 0) this.crashAndRestart(this.prng.pick(alive));
    else if (r < f.crash + f.pause && alive.length > 0) {
      // Half the stalls hit the leader: a deposed leader that has not noticed is the case that matters.
      const leader = alive.find((p) => p.leadingEpoch !== null);
      const target = leader !== undefined && this.prng.chance(0.5) ? leader : this.prng.pick(alive);
      const h = target.host!;
      // A leader's stall is as often as not long enough for the rest to elect a new one (syncLimit
      // and an election) yet shorter than the sessions' timeout, so the clients' sessions live on.
      // (Taken when nothing is in flight: a write in flight keeps any later sync waiting for ever.)
      const long = target === leader && target.outstanding === 0 && this.opt.sessionTimeout_ms >= STALL_LONG_MS[1] && this.prng.chance(0.5);
      const stall_ms = long ? this.prng.range(...STALL_LONG_MS) : this.prng.range(500, 4000);
      h.pausedUntil = Math.max(h.pausedUntil, w.now + stall_ms);
      // Nothing else breaks meanwhile: the others elect, serve and acknowledge writes.
      if (long) this.quietUntil = h.pausedUntil + 1000;
      this.trace.add(w.now, h.id, `PAUSE until ${h.pausedUntil}ms`);
      if (long || this.prng.chance(0.5)) {
        // A VM migrated while stalled: it comes back cut off from its peers (clients still reach
        // it) and, its clock having stood still, still believes what it believed before.
        const pairs = this.peers.filter((q) => q.id !== h.id).flatMap((q) => [`${h.id}>${q.id}`, `${q.id}>${h.id}`]);
        for (const k of pairs) w.blocked.add(k);
        w.at(h.pausedUntil - w.now + this.prng.range(300, 3000), () => {
          for (const k of pairs) w.blocked.delete(k);
          this.trace.add(w.now, 0, `HEAL ${pairs.join(' ')}`);
        });
        // Shortly before it resumes, a client that lost its member reconnects to the stalled one
        // and, once it answers, syncs and reads: a deposed leader that has not noticed yet must
        // not answer that sync alone.
        if (long || this.prng.chance(0.5)) w.at(Math.max(0, h.pausedUntil - w.now - this.prng.range(100, 1500)), () => this.reconnectTo(target));
      }
    } else if (r < f.crash + f.pause + f.partition) {
      const pairs = drawPartition(this.prng, this.peers.length);
      for (const k of pairs) w.blocked.add(k);
      this.trace.add(w.now, 0, `PARTITION ${pairs.join(' ')}`);
      w.at(this.prng.range(300, 8000), () => {
        for (const k of pairs) w.blocked.delete(k);
        this.trace.add(w.now, 0, `HEAL ${pairs.join(' ')}`);
      });
    } else if (r < f.crash + f.pause + f.partition + f.connDrop) {
      const conns = alive.flatMap((p) => [...(p.host?.quorumConns.values() ?? [])]);
      if (conns.length > 0) {
        const c = this.prng.pick(conns);
        const closer = this.prng.chance(0.5) ? c.a : c.b;
        this.trace.add(w.now, closer, `DROP connection s${c.a}-s${c.b}`);
        c.close(closer, this.prng.chance(0.7));
      }
    } else if (r < f.crash + f.pause + f.partition + f.connDrop + f.clientCut) {
      // A client's network goes: its connection dies silently; it must find another member.
      const linked = this.clients.filter((c) => !c.probe && c.conn !== null && !w.cutClients.has(c.id));
      if (linked.length > 0) {
        const c = this.prng.pick(linked);
        w.cutClients.add(c.id);
        this.trace.add(w.now, 0, `CUT client ${c.id}`);
        w.at(this.prng.range(300, 6000), () => {
          w.cutClients.delete(c.id);
          this.trace.add(w.now, 0, `HEAL client ${c.id}`);
        });
      }
    }
    w.at(this.prng.range(1, 2 * f.interval_ms), () => this.faultTick());
  }

  private heal(): void {
    const w = this.world;
    if (!w.chaos) return;
    w.chaos = false;
    w.blocked.clear();
    w.cutClients.clear();
    this.trace.add(w.now, 0, 'HEAL ALL: no more faults');
    for (const p of this.peers) this.restart(p);
    this.livenessDeadline = w.now + LIVENESS_MS;
    const probe = this.newClient(1000, true);
    w.at(0, () => this.clientStep(probe));
  }

  // ---- clients ----------------------------------------------------------------------------------

  /** A client that has seen no more than `p` has applied moves its session to `p` and syncs+reads first. */
  private reconnectTo(p: SimPeer): void {
    const z = p.peer?.tree.lastProcessedZxid;
    if (z === undefined) return;
    const fit = this.clients.filter((c) => !c.probe && !c.done && c.session !== null && c.lastZxid <= z);
    if (fit.length === 0) return;
    const c = this.prng.pick(fit);
    this.trace.add(this.world.now, p.id, `client ${c.id} reconnects here`);
    c.conn?.close();
    c.conn = null;
    c.syncReadNext = true;
    this.connect(c, p);
  }

  private newClient(id: number, probe: boolean): Client {
    const c: Client = {
      id,
      conn: null,
      session: null,
      lastZxid: 0n,
      versions: new Map(),
      issued: 0,
      n: 0,
      xid: 0,
      watches: new Map(),
      done: false,
      probe,
      canBeReadOnly: this.opt.readOnly && !probe && this.prng.chance(0.5),
      syncReadNext: false,
      inFlight: 0,
    };
    this.clients.push(c);
    return c;
  }

  private later(c: Client, lo = 0, hi = 100): void {
    this.world.at(this.prng.range(lo, hi), () => this.clientStep(c));
  }

  /**
   * Connects (or reconnects) the client's session to a member that serves (or to `to`). A client
   * that can be read-only and has no session also tries members in read-only mode, which give it
   * a local session (they refuse a global one).
   */
  private connect(c: Client, to?: SimPeer): void {
    const fits = (p: SimPeer): boolean =>
      p.peer !== null && !p.starting && (p.peer.serving === 'read-write' || (p.peer.serving === 'read-only' && c.canBeReadOnly && c.session === null));
    const serving = to !== undefined ? [to] : this.peers.filter(fits);
    if (serving.length === 0) return this.later(c, 20, 200);
    const p = this.prng.pick(serving);
    const conn = new SimConnection(
      this.world,
      c.id,
      p.id,
      () => ++c.xid,
      () => {
        if (c.conn === conn) c.conn = null;
      },
    );
    c.conn = conn;
    c.watches.clear(); // this client does not re-register watches on a new connection
    conn.onEvent = (path, type) => {
      if (type === EventType.NodeDataChanged) c.watches.delete(path);
    };
    c.inFlight++;
    const s = c.session;
    // No answer within the client's read timeout (2/3 of the session's), and it tries again.
    this.world.at((this.opt.sessionTimeout_ms * 2) / 3, () => {
      if (c.conn === conn && conn.connecting) conn.close();
    });
    conn.open(s?.sessionId ?? 0n, s?.passwd ?? Buffer.alloc(16), this.opt.sessionTimeout_ms, c.lastZxid, c.canBeReadOnly, (r) => {
      c.inFlight--;
      if (c.conn !== conn) return;
      if (r === null) {
        c.conn = null;
        return this.later(c, 20, 200);
      }
      if (r.timeout_ms === 0) {
        // The session expired while we were away: its ephemerals must be gone.
        if (s !== null) {
          this.expiredSeen++;
          this.deadSessions.add(s.sessionId);
        }
        c.session = null;
        conn.close();
        c.conn = null;
        return this.later(c);
      }
      if (s === null) this.sessionsMade.add(r.sessionId);
      c.session = r;
      this.keepAlive(c, conn);
      this.later(c);
    });
  }

  /** Pings at a third of the session timeout; no answer by then and the client gives the connection up. */
  private keepAlive(c: Client, conn: SimConnection): void {
    this.world.at(this.opt.sessionTimeout_ms / 3, () => {
      if (c.conn !== conn || conn.closed) return;
      let answered = false;
      conn.call(
        OpCode.ping,
        () => undefined,
        () => (answered = true),
      );
      this.world.at(this.opt.sessionTimeout_ms / 3, () => {
        if (!answered && c.conn === conn) {
          conn.close();
          c.conn = null;
        }
      });
      this.keepAlive(c, conn);
    });
  }

  private clientStep(c: Client): void {
    if (this.finished || c.done || c.inFlight > 0) return;
    if (!c.probe && (c.issued >= this.opsPerClient() || !this.world.chaos)) {
      c.done = true;
      if (this.clients.every((x) => x.done || x.probe)) this.world.at(0, () => this.heal());
      return;
    }
    if (c.conn === null || c.conn.closed || c.session === null) return this.connect(c);
    const conn = c.conn;
    const key = `/k${this.prng.int(this.opt.keys)}`;
    const r = c.probe ? 0 : c.syncReadNext ? 0.8 : this.prng.float();
    c.syncReadNext = false;
    c.issued++;
    if (this.opt.reconfig && !c.probe && this.prng.chance(RECONFIG_SHARE)) this.reconfig(c, conn);
    else if (r < 0.34) this.write(c, conn, key);
    else if (r < 0.4) this.multi(c, conn, key);
    else if (r < 0.45) {
      // Pipelined, as async clients do: the sync goes out before the write is answered.
      this.write(c, conn, key);
      this.read(c, conn, key, true);
    } else if (r < 0.75) this.read(c, conn, key, false);
    else if (r < 0.87) this.read(c, conn, key, true);
    else if (r < 0.95) this.createEphemeral(c, conn);
    else if (r < 0.98) this.closeSession(c, conn);
    else this.abandon(c, conn);
  }

  /**
   * Runs one request with the op timeout; `done` gets the reply, or null on timeout/loss. The
   * client's next op starts once nothing is in flight.
   */
  private request(c: Client, conn: SimConnection, type: number, body: (w: JuteWriter) => void, done: (r: Reply | null) => void): void {
    c.inFlight++;
    let over = false;
    const finish = (r: Reply | null): void => {
      if (over) return;
      over = true;
      if (r !== null && r.zxid > 0n) this.checkWatches(c, r.zxid);
      if (r !== null && r.zxid > c.lastZxid) c.lastZxid = r.zxid;
      done(r);
      if (--c.inFlight === 0) this.later(c);
    };
    conn.call(type, body, (r) => finish(r.err === Err.ConnectionLoss ? null : r));
    this.world.at(OP_TIMEOUT_MS, () => {
      if (over) return;
      if (c.conn === conn) {
        conn.close();
        c.conn = null;
      }
      finish(null);
    });
  }

  /**
   * ZooKeeper's watch guarantee: a client sees the event of a watch it set before any reply from
   * a state where the watched node has changed (the event is written before that reply).
   */
  private checkWatches(c: Client, replyZxid: bigint): void {
    for (const [key, setAt] of c.watches) {
      const changed = this.registers.changeBetween(key, setAt, replyZxid);
      if (changed !== undefined)
        fail(
          'watches',
          `client ${c.id} got a reply at 0x${replyZxid.toString(16)} before the event of its watch on ${key} (set at 0x${setAt.toString(16)}, changed at 0x${changed.toString(16)})`,
        );
    }
  }

  /** A compare-and-set of `key` in the history: mostly at the version the client last saw. */
  private casOp(c: Client, key: string, check: boolean): WriteOp {
    const r = this.prng.float();
    const expected = r < 0.7 ? (c.versions.get(key) ?? 0) : r < 0.85 ? -1 : this.prng.int(4);
    const op: WriteOp = {
      kind: 'write',
      client: c.id,
      key,
      expectedVersion: expected,
      ...(check ? { check: true as const } : {}),
      value: `c${c.id}.${++c.n}`,
      invoke: this.world.now,
      response: null,
      result: null,
      zxid: null,
    };
    this.ops.push(op);
    return op;
  }

  /** Takes ops out of the history: they were refused before any txn, or a failed multi skipped them. */
  private neverHappened(ops: readonly WriteOp[]): void {
    for (const o of ops) this.ops.splice(this.ops.indexOf(o), 1);
  }

  /** Sends a request holding compare-and-sets; its failure may commit as an error txn under (session, xid). */
  private casRequest(c: Client, conn: SimConnection, ops: readonly WriteOp[], type: number, body: (w: JuteWriter) => void, done: (rep: Reply) => void): void {
    const tag = `${c.session!.sessionId}:`;
    let xidTag: string | undefined;
    this.request(c, conn, type, body, (rep) => {
      if (xidTag !== undefined) this.pendingCas.delete(xidTag);
      if (rep === null) {
        for (const o of ops) o.result = 'unknown';
        return;
      }
      if (rep.err === Err.NotReadOnly) return this.neverHappened(ops); // a read-only member refused it
      for (const o of ops) {
        o.response = this.world.now;
        o.zxid = rep.zxid;
      }
      done(rep);
    });
    // The xid the connection just used.
    xidTag = tag + conn.lastXid;
    this.pendingCas.set(xidTag, ops);
  }

  private settled(c: Client, op: WriteOp, result: WriteResult): void {
    op.result = result;
    if (result.ok && op.check !== true) c.versions.set(op.key, result.version);
    if (c.probe) this.probeDone = true;
  }

  private unknown(ops: readonly WriteOp[]): void {
    for (const o of ops) {
      o.result = 'unknown';
      o.response = null;
    }
  }

  private write(c: Client, conn: SimConnection, key: string): void {
    const op = this.casOp(c, key, false);
    this.casRequest(
      c,
      conn,
      [op],
      OpCode.setData,
      (w) => R.SetDataRequest.write(w, { path: key, data: Buffer.from(op.value), version: op.expectedVersion }),
      (rep) => {
        if (rep.err === 0) this.settled(c, op, { ok: true, version: R.SetDataResponse.read(rep.body!).stat.version });
        else if (rep.err === Err.BadVersion) this.settled(c, op, { ok: false, version: VERSION_UNREPORTED });
        else this.unknown([op]);
      },
    );
  }

  /**
   * A multi of two registers' compare-and-sets, each a setData or a check: all take effect at one
   * zxid or none does. Failed, it answers the first failing op's error and says nothing of the
   * others' registers (ops before it answer Ok, after it RuntimeInconsistency).
   */
  private multi(c: Client, conn: SimConnection, key: string): void {
    if (this.opt.keys < 2) return this.write(c, conn, key);
    const other = `/k${(Number(key.slice(2)) + 1 + this.prng.int(this.opt.keys - 1)) % this.opt.keys}`;
    const subs = [key, other].map((k) => this.casOp(c, k, this.prng.chance(0.25)));
    const ops: ClientOp[] = subs.map((o) =>
      o.check === true ? clientOp.check(o.key, o.expectedVersion) : clientOp.setData(o.key, o.value, o.expectedVersion),
    );
    this.casRequest(
      c,
      conn,
      subs,
      OpCode.multi,
      (w) => writeMulti(w, ops, (p) => p),
      (rep) => {
        if (rep.err !== 0) return this.unknown(subs);
        const results = readMultiResults(rep.body!, (p) => p);
        const failed = results.some((x) => x.type === 'error');
        if (results.length !== subs.length || (failed && !results.every((x) => x.type === 'error')))
          fail('multi', `client ${c.id}: multi of ${subs.length} ops answered ${JSON.stringify(results.map((x) => x.type))}: not all or nothing`);
        if (failed) this.multisFailed++;
        else this.multisApplied++;
        results.forEach((x, i) => {
          const o = subs[i]!;
          if (x.type === 'setData') this.settled(c, o, { ok: true, version: x.stat.version });
          else if (x.type === 'check') this.settled(c, o, { ok: true, version: VERSION_UNREPORTED });
          else if (x.type === 'error' && x.err === Err.BadVersion) this.settled(c, o, { ok: false, version: VERSION_UNREPORTED });
          else if (x.type === 'error' && (x.err === Err.Ok || x.err === Err.RuntimeInconsistency)) this.neverHappened([o]);
          else this.unknown([o]);
        });
      },
    );
  }

  private read(c: Client, conn: SimConnection, key: string, sync: boolean): void {
    const watch = !sync && this.prng.chance(0.5);
    const op: ReadOp = { kind: 'read', client: c.id, key, sync, invoke: this.world.now, response: null, failed: true, version: 0, value: '', zxid: 0n };
    this.ops.push(op);
    const getData = (): void =>
      this.request(
        c,
        conn,
        OpCode.getData,
        (w) => R.GetDataRequest.write(w, { path: key, watch }),
        (rep) => {
          if (rep === null || rep.err !== 0) return;
          if (watch && c.conn === conn && !c.watches.has(key)) c.watches.set(key, rep.zxid);
          const d = R.GetDataResponse.read(rep.body!);
          op.version = d.stat.version;
          op.value = d.data?.toString() ?? '';
          op.zxid = rep.zxid;
          op.failed = false;
          op.response = this.world.now;
          if (c.session?.readOnly === true) this.readOnlyReads++;
          c.versions.set(key, d.stat.version);
        },
      );
    if (!sync) return getData();
    // The getData goes out from within the sync's answer, so the client is never idle in between.
    this.request(
      c,
      conn,
      OpCode.sync,
      (w) => R.SyncRequest.write(w, { path: key }),
      (rep) => {
        if (rep !== null && rep.err === 0 && c.conn === conn) getData();
      },
    );
  }

  /** A reconfig (as a client allowed to: skipACL), its answer judged by the config checkers. */
  private reconfig(c: Client, conn: SimConnection): void {
    const leader = this.peers.find((p) => p.peer?.modeName() === 'leader')?.id;
    const ask = drawReconfig(
      this.prng,
      this.configs.newest(),
      this.peers.map((p) => p.id),
      leader,
    );
    this.trace.add(this.world.now, 0, `client ${c.id} asks reconfig ${describeAsk(ask)}`);
    this.request(
      c,
      conn,
      OpCode.reconfig,
      (w) => R.ReconfigRequest.write(w, ask.req),
      (rep) => {
        if (rep === null) return;
        const d = rep.err === Err.Ok ? R.GetDataResponse.read(rep.body!) : undefined;
        this.configs.judge(c.id, ask, rep.err, rep.zxid, d?.data ?? null, d?.stat.mzxid ?? 0n);
      },
    );
  }

  private createEphemeral(c: Client, conn: SimConnection): void {
    const path = `/e/c${c.id}-${++c.n}`;
    this.request(
      c,
      conn,
      OpCode.create,
      (w) => R.CreateRequest.write(w, { path, data: null, acl: [...OPEN_ACL_UNSAFE], flags: CreateMode.EPHEMERAL }),
      (rep) => {
        if (rep !== null && rep.err === 0) this.ephemeralsMade++;
      },
    );
  }

  private closeSession(c: Client, conn: SimConnection): void {
    const s = c.session!;
    this.request(
      c,
      conn,
      OpCode.closeSession,
      () => undefined,
      (rep) => {
        if (rep !== null && rep.err === 0) this.deadSessions.add(s.sessionId);
        if (c.session === s) c.session = null;
        conn.close();
        if (c.conn === conn) c.conn = null;
      },
    );
  }

  /** Drops the connection and the session with it: the leader must expire it and its ephemerals. */
  private abandon(c: Client, conn: SimConnection): void {
    this.deadSessions.add(c.session!.sessionId);
    this.trace.add(this.world.now, 0, `client ${c.id} abandons session 0x${c.session!.sessionId.toString(16)}`);
    c.session = null;
    conn.close();
    c.conn = null;
    this.later(c);
  }

  private opsPerClient(): number {
    return Math.ceil(this.opt.ops / this.opt.clients);
  }

  // ---- the run ----------------------------------------------------------------------------------

  /** Every member serving, its tree at the ensemble's last commit; else why not. */
  private lagging(): string | undefined {
    const last = this.sequence.committed[this.sequence.committed.length - 1];
    const lastZxid = last?.zxid ?? 0n;
    const leading = this.peers.find((p) => p.peer !== null && p.leadingEpoch !== null);
    for (const p of this.peers) {
      if (!this.isMember(p)) continue; // removed by a reconfig: it may run on, but is no member
      // A member that accepted a later epoch than the leader's refuses its LEADERINFO until the
      // next election, as a ZooKeeper learner does (Learner.registerWithLeader): excused.
      if (p.peer !== null && p.peer.serving !== 'read-write' && leading !== undefined && p.acceptedEpoch > leading.leadingEpoch!) continue;
      if (p.peer === null || p.peer.serving !== 'read-write') return `peer ${p.id} is not serving`;
      if (p.peer.tree.lastProcessedZxid !== lastZxid)
        return `peer ${p.id} is at 0x${p.peer.tree.lastProcessedZxid.toString(16)}, the ensemble committed 0x${lastZxid.toString(16)}`;
    }
    return undefined;
  }

  /** After the probe: no ephemeral of a dead session anywhere; every member in the newest config holds it, in force and in /zookeeper/config. */
  private finalChecks(): void {
    const newest = this.configs.newest();
    if (this.opt.reconfig && newest.version !== 0n)
      for (const p of this.peers) {
        if (!this.isMember(p)) continue;
        const c = p.peer?.configInForce;
        if (c?.version !== newest.version)
          fail('config', `peer ${p.id} ends with config ${c?.version.toString(16)} in force, the newest committed is ${newest.version.toString(16)}`);
        const node = p.peer!.tree.getNode(CONFIG_PATH)?.data?.toString('utf8');
        if (node !== configText(newest))
          fail('config', `peer ${p.id}'s /zookeeper/config ends as ${node}, the newest committed config is ${configText(newest)}`);
      }
    const tree = this.reference.tree;
    for (const id of this.deadSessions) {
      const left = tree.getEphemerals(id);
      if (left.size > 0) fail('sessions', `session 0x${id.toString(16)} is closed or expired but still owns ${[...left].join(', ')}`);
      if (this.reference.sessionsWithTimeouts.has(id)) fail('sessions', `session 0x${id.toString(16)} is closed or expired but still in the session table`);
    }
  }

  async run(): Promise<ServerSimResult> {
    const w = this.world;
    const restore = silenceLogs((msg) => (this.failure ??= new Violation('server error log', msg)));
    try {
      for (const p of this.peers) this.start(p);
      for (let i = 0; i < this.opt.clients; i++) {
        const c = this.newClient(i + 1, false);
        w.at(this.prng.range(0, 500), () => this.clientStep(c));
      }
      w.at(this.prng.range(0, this.opt.faults.interval_ms), () => this.faultTick());
      w.queue.push(this.opt.ops * CHAOS_PER_OP_MS + 20_000, () => this.heal());
      let settleUntil = Infinity;
      while (!this.finished) {
        const e = w.queue.pop();
        if (e === undefined) break;
        w.now = e.at;
        if (w.now > this.livenessDeadline && !this.probeDone) {
          const leaders = this.peers.filter((p) => p.peer?.modeName() === 'leader').map((p) => p.id);
          fail('liveness', `no write committed within ${LIVENESS_MS}ms of healing (leading: ${leaders.join(',') || 'none'})`);
        }
        if (w.now >= settleUntil) {
          const behind = this.lagging();
          if (behind === undefined) break;
          if (w.now >= settleUntil + CONVERGE_MS)
            fail('convergence', `${behind} ${settle_ms(this.opt.sessionTimeout_ms) + CONVERGE_MS} ms after the probe write`);
        }
        this.events++;
        e.run();
        // Starting, binding and closing ports are promises: let those that are settled run their
        // continuations before the next event (a peer waiting for its disk waits in virtual time).
        if (this.peers.some((p) => p.starting || p.peer?.busy === true)) await new Promise<void>((r) => setImmediate(r));
        if (this.failure !== undefined) throw this.failure;
        this.sequence.checkDurable();
        this.checkTrees();
        if (this.opt.reconfig) this.checkConfigs();
        if (this.probeDone && settleUntil === Infinity) {
          settleUntil = w.now + settle_ms(this.opt.sessionTimeout_ms);
          this.trace.add(w.now, 0, 'liveness probe write committed');
          for (const c of this.clients) c.done = true;
        }
      }
      if (!this.probeDone) fail('liveness', 'the run ended without the probe write');
      this.finalChecks();
      this.registers.check(this.ops);
      return this.result(true);
    } catch (e) {
      if (!(e instanceof Violation)) throw e;
      return { ...this.result(false), violation: e.message, checker: e.checker, trace: this.trace.lines() };
    } finally {
      restore();
      for (const p of this.peers) if (p.peer !== null) this.world.kill(p.id, false);
    }
  }

  private result(ok: boolean): ServerSimResult {
    return {
      ok,
      seed: this.opt.seed,
      options: this.opt,
      stats: {
        events: this.events,
        virtual_ms: this.world.now,
        committed: this.sequence.committed.length,
        ops: this.ops.length,
        crashes: this.crashes,
        sessions: this.sessionsMade.size,
        ephemerals: this.ephemeralsMade,
        expired: this.expiredSeen,
        readOnlyReads: this.readOnlyReads,
        multisApplied: this.multisApplied,
        multisFailed: this.multisFailed,
        reconfigsCommitted: this.configs.committed.length,
        reconfigsAnsweredOk: this.configs.answeredOk,
        reconfigsRefused: this.configs.refused,
        epochBumps: this.epochBumps,
      },
    };
  }
}

/** The tree every member starts from: the registers /k0../kN (version 0, empty) and /e for ephemerals. */
function initialTree(): DataTree {
  const t = new DataTree();
  const acl = t.aclCache.acquire([...OPEN_ACL_UNSAFE]);
  for (let i = 0; i < KEYS_MAX; i++) t.insertNode(`/k${i}`, Buffer.alloc(0), acl, zeroStat());
  t.insertNode('/e', null, acl, zeroStat());
  return t;
}
const KEYS_MAX = 8;

function zeroStat(): R.StatPersisted {
  return { czxid: 0n, mzxid: 0n, ctime: BigInt(EPOCH_MS), mtime: BigInt(EPOCH_MS), version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0n };
}

/** zoo.cfg: the static membership, or `members` (a member's dynamic config file, or the members an operator gives one added back). */
function zooCfg(o: ServerSimOptions, members?: EnsembleConfig): string {
  const lines = [
    `tickTime=${TICK_TIME_MS}`,
    `initLimit=${INIT_LIMIT}`,
    `syncLimit=${SYNC_LIMIT}`,
    'dataDir=/sim/data',
    'clientPort=2181',
    `snapCount=${o.snapCount}`,
    'maxClientCnxns=0',
  ];
  if (o.standalone) return lines.join('\n') + '\n';
  if (members !== undefined) lines.push(...dynamicConfigText(members).split('\n'));
  else for (let id = 1; id <= o.voters + o.observers; id++) lines.push(`server.${id}=10.0.0.${id}:2888:3888${id > o.voters ? ':observer' : ''};2181`);
  if (o.observers > 0 && members === undefined) lines.push('peerType=participant');
  if (o.readOnly) lines.push('readonlymode.enabled=true');
  if (o.reconfig) lines.push('reconfigEnabled=true', 'skipACL=yes');
  if (o.epochBump !== null) lines.push('tszk.zxidRolloverWithoutElection=true');
  return lines.join('\n') + '\n';
}

/**
 * Server logs are silenced for the run; an error or fatal line is a failure of the seed (the
 * server met something it should not have).
 */
function silenceLogs(onError: (msg: string) => void): () => void {
  const level = log.level;
  const { error, fatal } = log;
  log.level = 'error';
  const capture = (obj: unknown, msg?: string): void => {
    const o = obj as { err?: { message?: string } } | string;
    onError(typeof o === 'string' ? o : `${msg ?? ''} ${o?.err?.message ?? JSON.stringify(o)}`);
  };
  log.error = capture;
  log.fatal = capture;
  return () => {
    log.error = error;
    log.fatal = fatal;
    log.level = level;
  };
}

/** Ensemble sizes and fault rates from the seed (as the core simulator draws them). */
export function randomServerOptions(seed: number, ops: number, mutations: ServerMutation[] = [], epochBump = false): ServerSimOptions {
  const r = new Prng(seed ^ 0x5e4f5e4f);
  const voters = r.pick([3, 3, 3, 5]);
  const observers = r.chance(0.25) ? 1 : 0;
  const level = r.pick(['calm', 'some', 'some', 'heavy'] as const);
  const faults: ServerFaults =
    level === 'calm'
      ? { interval_ms: 4000, crash: 0.05, pause: 0.05, partition: 0.05, connDrop: 0.05, clientCut: 0.05, msgDrop: 0.0, crashInSync: 0 }
      : level === 'some'
        ? { interval_ms: 1500, crash: 0.2, pause: 0.1, partition: 0.25, connDrop: 0.2, clientCut: 0.1, msgDrop: 0.02, crashInSync: 0 }
        : { interval_ms: 600, crash: 0.25, pause: 0.1, partition: 0.2, connDrop: 0.2, clientCut: 0.1, msgDrop: 0.1, crashInSync: 0 };
  // Drawn in this order (the object's): a seed's ensemble stays the same when a later draw is added.
  const o: ServerSimOptions = {
    seed,
    voters,
    observers,
    clients: r.range(2, 4),
    ops,
    keys: r.range(1, 4),
    faults,
    mutations,
    snapCount: r.pick([5, 20, 1000]),
    trace_max: 60,
    sessionTimeout_ms: r.pick(SESSION_TIMEOUTS_MS),
    readOnly: r.chance(0.3),
    standalone: r.chance(0.1),
    reconfig: r.chance(0.3),
    epochBump: null,
  };
  // Only with --epoch-bump, drawn last: the other seeds stay as they were.
  if (epochBump && !o.standalone) o.epochBump = { counter_max: r.pick([3n, 8n, 64n]) };
  return o.standalone ? { ...o, voters: 1, observers: 0, readOnly: false, reconfig: false } : o;
}

export function runServerSeed(seed: number, ops: number, mutations: ServerMutation[] = [], epochBump = false): Promise<ServerSimResult> {
  return new ServerSimulation(randomServerOptions(seed, ops, mutations, epochBump)).run();
}
