import type { Message } from '../zab/packets.js';
import { majorityQuorum } from '../zab/quorum.js';
import { isServing } from '../zab/peer.js';
import type { Action, Event, Mutation } from '../zab/state.js';
import { serverId, PROPOSAL_COUNTER_MAX, type Zxid } from '../zab/types.js';
import { Checkers } from './checkers.js';
import { checkConfigInForce, corePeer, proposeEvent, runLocalAction, startFromDisk, stepCore, type CorePeer } from './corePeer.js';
import { CONFIG_KEY, encodeWrite, membershipQuorum, reconfigOfPayload, type Membership } from './machine.js';
import { Trace } from './trace.js';

/**
 * A hand-driven ensemble for scripted scenarios and unit tests: messages wait in per-link FIFO
 * queues until the script delivers them, fsyncs complete only when allowed, crashes happen
 * where the script says. The same checkers as the random simulator watch every step.
 */
interface InFlight {
  seq: number;
  from: number;
  to: number;
  ev: Event;
}

export interface ScriptPeer extends CorePeer {
  /** When false, appends stay un-fsynced until the script calls fsync(). */
  autoFsync: boolean;
}

export interface ScriptOptions {
  voters: number;
  observers?: number;
  mutations?: Mutation[];
  snapCount?: number;
  commitLogCount?: number;
  zxidCounter_max?: bigint;
  /** The leader moves to the next epoch in place when the counter is spent (PeerConfig.zxidRolloverWithoutElection). */
  zxidRolloverWithoutElection?: boolean;
  /** Dynamic reconfiguration (reconfig()): the cores read config writes as reconfigs (ZooKeeper's reconfigEnabled). */
  reconfig?: boolean;
  /** A peer's own static config (a joiner started with the members plus itself); restart() can change it. */
  ownView?: (sid: number) => Membership | undefined;
}

export class ScriptedEnsemble {
  readonly peers: ScriptPeer[] = [];
  readonly checkers: Checkers;
  readonly trace = new Trace(400);
  private inflight: InFlight[] = [];
  private seq = 0;
  private blocked = new Set<string>();
  private frozen = new Set<number>();
  /** Every message sent, in order: scenarios assert on packet order. */
  readonly sent: { from: number; to: number; msg: Message }[] = [];
  /** Every action each peer's core asked for, in order (with the send actions also in `sent`). */
  readonly actions: { sid: number; action: Action }[] = [];
  /** Local syncs completed, per peer. */
  readonly syncsDone = new Map<number, number>();
  private req = 0;
  now = 0;
  /** Replies to writes: `${sid}:${req}` -> result. */
  readonly acked = new Map<string, { ok: boolean; version: number; zxid: Zxid }>();

  constructor(opt: ScriptOptions) {
    const n = opt.voters + (opt.observers ?? 0);
    const voters = Array.from({ length: opt.voters }, (_, i) => serverId(i + 1));
    const observers = Array.from({ length: opt.observers ?? 0 }, (_, i) => serverId(opt.voters + i + 1));
    const quorum = majorityQuorum(voters, observers);
    const o = {
      snapCount: opt.snapCount ?? 1000,
      commitLogCount: opt.commitLogCount ?? 0,
      zxidCounter_max: opt.zxidCounter_max ?? PROPOSAL_COUNTER_MAX,
      zxidRolloverWithoutElection: opt.zxidRolloverWithoutElection ?? false,
      mutations: opt.mutations ?? [],
    };
    for (let sid = 1; sid <= n; sid++) {
      const own = opt.ownView?.(sid);
      const p = corePeer(sid, own === undefined ? quorum : membershipQuorum(own), o);
      if (opt.reconfig === true) p.config = { ...p.config, reconfigOf: reconfigOfPayload };
      this.peers.push({ ...p, autoFsync: true });
    }
    // Durability is checked against the committed config's voters.
    const staticVoters = new Set(voters.map(Number));
    this.checkers = new Checkers(() => {
      const c = this.checkers.committedRegister(CONFIG_KEY)?.value;
      const vs = c === undefined ? staticVoters : new Set((JSON.parse(c) as Membership).voters);
      return this.peers.filter((p) => vs.has(p.sid)).map((p) => p.disk);
    });
  }

  /** Proposes a new membership through peer `sid` (a reconfig, as the server's prep would make it). */
  reconfig(sid: number, m: Membership): string {
    return this.write(sid, CONFIG_KEY, JSON.stringify(m));
  }

  peer(sid: number): ScriptPeer {
    const p = this.peers[sid - 1];
    if (p === undefined) throw new Error(`no peer ${sid}`);
    return p;
  }

  start(sid: number): void {
    const p = this.peer(sid);
    this.execute(p, startFromDisk(p, this.checkers, this.trace, this.now));
  }

  /**
   * A rolling restart's step: crash the peer and start it again from its disk, with `view` as its
   * static config from now on when given (a server restarted with an edited zoo.cfg).
   */
  restart(sid: number, view?: Membership): void {
    this.crash(sid);
    const p = this.peer(sid);
    if (view !== undefined) p.config = { ...p.config, quorum: membershipQuorum(view) };
    this.start(sid);
  }

  /** Crash: in-flight traffic to and from it vanishes; un-fsynced appends are lost (`keepPending` of them survive). */
  crash(sid: number, keepPending = 0): void {
    const p = this.peer(sid);
    this.trace.add(this.now, sid, 'CRASH');
    for (const x of p.disk.pending.slice(0, keepPending)) p.disk.durable.push(x.txn);
    p.disk.pending = [];
    p.disk.fsyncInFlight = false;
    p.core = null;
    p.serving = false;
    this.inflight = this.inflight.filter((m) => m.from !== sid && m.to !== sid);
    // Peers connected to it see the connection close.
    for (const q of this.peers) if (q.sid !== sid && q.core !== null) this.enqueue(sid, q.sid, { type: 'disconnected', peer: serverId(sid) });
  }

  /** Starts these peers and runs until one leads and every running peer serves; returns the leader. */
  startAndElect(sids: number[]): number {
    for (const s of sids) this.start(s);
    if (!this.runUntil(() => this.stable())) throw new Error('the ensemble did not settle');
    return this.leader()!;
  }

  /** Block or unblock traffic in one direction (an asymmetric partition if only one way). */
  block(from: number, to: number, on = true): void {
    const k = `${from}>${to}`;
    if (on) this.blocked.add(k);
    else this.blocked.delete(k);
  }
  isolate(sid: number, on = true): void {
    for (const q of this.peers) if (q.sid !== sid) (this.block(sid, q.sid, on), this.block(q.sid, sid, on));
  }

  /** A frozen peer (a long GC pause) gets no ticks and no traffic until thawed; nothing is lost. */
  freeze(sid: number, on = true): void {
    if (on) this.frozen.add(sid);
    else this.frozen.delete(sid);
  }

  /** Put a message on the wire as if `from` had sent it. */
  inject(from: number, to: number, msg: Message): void {
    this.enqueue(from, to, { type: 'message', from: serverId(from), msg });
  }

  /** A client sync at this peer; completions are counted in `syncsDone`. */
  sync(sid: number): void {
    this.deliver(this.peer(sid), { type: 'sync' });
  }

  private enqueue(from: number, to: number, ev: Event): void {
    this.inflight.push({ seq: this.seq++, from, to, ev });
  }

  private deliver(p: ScriptPeer, ev: Event): void {
    if (p.core === null) return;
    if (ev.type !== 'tick') this.trace.add(this.now, p.sid, ev);
    this.execute(p, stepCore(p.sid, p.core, ev));
    this.checkers.checkDurable();
    checkConfigInForce(p);
  }

  private execute(p: ScriptPeer, actions: Action[]): void {
    for (const a of actions) {
      this.trace.add(this.now, p.sid, a);
      this.actions.push({ sid: p.sid, action: a });
      this.action(p, a);
    }
  }

  private action(p: ScriptPeer, a: Action): void {
    switch (a.type) {
      case 'send':
        this.sent.push({ from: p.sid, to: Number(a.to), msg: a.msg });
        return this.enqueue(p.sid, Number(a.to), { type: 'message', from: p.config.sid, msg: a.msg });
      case 'sendSnapshot': {
        const msg: Message = { type: 'SNAP', zxid: a.zxid, data: p.machine.serialize() };
        this.sent.push({ from: p.sid, to: Number(a.to), msg });
        return this.enqueue(p.sid, Number(a.to), { type: 'message', from: p.config.sid, msg });
      }
      case 'disconnect':
        return this.enqueue(p.sid, Number(a.peer), { type: 'disconnected', peer: p.config.sid });
      case 'persistAcceptedEpoch':
      case 'persistCurrentEpoch':
      case 'persistConfig':
      case 'truncate':
      case 'loadSnapshot':
      case 'takeSnapshot':
      case 'role':
      case 'established':
      case 'serving':
        return runLocalAction(p, a, this.checkers);
      case 'append':
        p.disk.append(a.txns);
        return;
      case 'apply': {
        p.appliedAt = this.checkers.onApply(p.sid, p.appliedAt, a.txn);
        const { w, result } = p.machine.apply(a.txn);
        if (w.origin === p.sid) this.acked.set(`${p.sid}:${w.req}`, { ...result, zxid: a.txn.zxid });
        return;
      }
      case 'forwardedRequest':
        // Numbered again when delivered: other proposals may be stepped before it.
        return this.enqueue(p.sid, p.sid, proposeEvent(p, a.data));
      case 'syncDone':
        this.syncsDone.set(p.sid, (this.syncsDone.get(p.sid) ?? 0) + 1);
        return;
      default:
        return;
    }
  }

  /** Complete one fsync on a peer: everything appended so far becomes durable. */
  fsync(sid: number): void {
    const p = this.peer(sid);
    if (p.core === null || p.disk.pending.length === 0) return;
    const z = p.disk.completeFsync(p.disk.startFsync());
    if (z !== null) this.deliver(p, { type: 'logDurable', zxid: z });
  }

  /** Deliver the oldest deliverable message (or fsync); false when nothing is left to do. */
  stepOnce(filter: (m: { from: number; to: number; ev: Event }) => boolean = () => true): boolean {
    for (const p of this.peers) if (p.autoFsync && p.core !== null && p.disk.pending.length > 0) return (this.fsync(p.sid), true);
    const i = this.inflight.findIndex((m) => !this.blocked.has(`${m.from}>${m.to}`) && !this.frozen.has(m.to) && !this.frozen.has(m.from) && filter(m));
    if (i < 0) return false;
    const m = this.inflight[i]!;
    // FIFO per link: an earlier message on the same link goes first.
    const j = this.inflight.findIndex((x) => x.from === m.from && x.to === m.to);
    const [x] = this.inflight.splice(j, 1);
    const to = this.peer(x!.to);
    if (x!.ev.type === 'message' && x!.ev.msg.type === 'UPTODATE') to.sawUptodate = true;
    this.deliver(to, x!.ev.type === 'propose' ? proposeEvent(to, x!.ev.data) : x!.ev);
    return true;
  }

  /** Messages waiting on blocked links or filtered out are dropped (a partition that loses them). */
  dropBlocked(): void {
    this.inflight = this.inflight.filter((m) => !this.blocked.has(`${m.from}>${m.to}`));
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.now += 100;
      for (const p of this.peers) if (!this.frozen.has(p.sid)) this.deliver(p, { type: 'tick' });
    }
  }

  /** Deliver and tick until `done` holds (or give up after `ticks_max` ticks). */
  runUntil(done: () => boolean, ticks_max = 400): boolean {
    for (let t = 0; t <= ticks_max; t++) {
      while (!done() && this.stepOnce()) {
        /* deliver everything deliverable */
      }
      if (done()) return true;
      this.dropBlocked();
      this.tick();
    }
    return done();
  }

  /** Deliver everything currently deliverable without advancing time. */
  settle(filter?: (m: { from: number; to: number; ev: Event }) => boolean): void {
    while (this.stepOnce(filter)) {
      /* keep going */
    }
  }

  pending(): readonly InFlight[] {
    return this.inflight;
  }

  /** Drop in-flight messages matching the predicate (a lost or cut-off transfer). */
  drop(pred: (m: { from: number; to: number; ev: Event }) => boolean): number {
    const before = this.inflight.length;
    this.inflight = this.inflight.filter((m) => !pred(m));
    return before - this.inflight.length;
  }

  leader(): number | null {
    const l = this.peers.find((p) => p.core !== null && p.role === 'LEADING' && isServing(p.core));
    return l?.sid ?? null;
  }

  /** All live peers settled: one established leader, every live learner serving. */
  stable(): boolean {
    const live = this.peers.filter((p) => p.core !== null);
    return this.leader() !== null && live.every((p) => p.serving);
  }

  /** Submit a write at a peer; returns the key under which its reply is recorded in `acked`. */
  write(sid: number, key: string, value: string, expectedVersion = -1): string {
    const p = this.peer(sid);
    const req = ++this.req;
    this.deliver(p, { type: 'request', data: encodeWrite({ client: 0, req, origin: sid, key, expectedVersion, value }) });
    return `${sid}:${req}`;
  }

  /** The committed value of a register as this peer's tree has it. */
  read(sid: number, key: string): string {
    return this.peer(sid).machine.read(key).value;
  }

  lastZxid(sid: number): bigint {
    const c = this.peer(sid).core;
    if (c === null) throw new Error(`peer ${sid} is down`);
    return c.log.length > 0 ? c.log[c.log.length - 1]!.zxid : c.snapZxid;
  }
}
