import { decodeNotification, decodeQuorumMessage, encodeNotification, encodeQuorumMessage, type Message } from '../zab/packets.js';
import { majorityQuorum } from '../zab/quorum.js';
import { isServing } from '../zab/peer.js';
import { mayProposeReconfig } from '../zab/reconfig.js';
import type { Action, Event, Mutation } from '../zab/state.js';
import { serverId, PROPOSAL_COUNTER_MAX, type ServerId, type Zxid } from '../zab/types.js';
import { Checkers, Violation } from './checkers.js';
import { checkConfigInForce, corePeer, proposeEvent, runLocalAction, startFromDisk, stepCore, type CorePeer } from './corePeer.js';
import type { Op, ReadOp, WriteOp } from './history.js';
import { CONFIG_KEY, decodeWrite, encodeWrite, reconfigOfPayload, type Membership } from './machine.js';
import { Prng } from './prng.js';
import { drawPartition } from './partitions.js';
import { EventQueue } from './queue.js';
import { Trace } from './trace.js';

/** Chance per fault decision of each kind of fault. */
export interface FaultRates {
  /** Mean time between fault decisions. */
  interval_ms: number;
  crash: number;
  partition: number;
  connDrop: number;
  /** Chance that one election datagram is lost. */
  msgDrop: number;
  /**
   * Chance that a learner crashes within an fsync's time after it writes currentEpoch during a
   * sync: the window of ZOOKEEPER-4643/4646 (epoch on disk, synced txns maybe not), which
   * interval-driven crashes alone hit only rarely.
   */
  crashInSync: number;
}

export interface SimOptions {
  seed: number;
  voters: number;
  observers: number;
  clients: number;
  /** Client operations to issue before healing and checking liveness. */
  ops: number;
  keys: number;
  faults: FaultRates;
  mutations: Mutation[];
  snapCount: number;
  commitLogCount: number;
  zxidCounter_max: bigint;
  /** Epoch bumps in place of elections when the (tiny) counter is spent (`--epoch-bump`). */
  zxidRolloverWithoutElection: boolean;
  trace_max: number;
  /** Send every message through ZooKeeper's wire formats (QuorumPacket, FLE notification). */
  wire: boolean;
  /**
   * Dynamic reconfiguration in the mix: clients also propose new memberships (voters moved to
   * observers and back, as ZooKeeper's isQuorumSynced allows: most new voters are voters already).
   */
  reconfig: boolean;
}

export interface SimResult {
  ok: boolean;
  seed: number;
  options: SimOptions;
  violation?: string;
  checker?: string;
  trace?: string[];
  stats: {
    events: number;
    virtual_ms: number;
    committed: number;
    ops: number;
    elections: number;
    crashes: number;
    reconfigs: number;
    /** Epochs a leader moved to in place (zxidRolloverWithoutElection). */
    epochBumps: number;
  };
}

export const TICK_MS = 100;
/** With reconfig on: the share of client writes that propose a new membership. */
const RECONFIG_SHARE = 0.05;
const OP_TIMEOUT_MS = 3000;
const LIVENESS_MS = 60_000;
const CHAOS_PER_OP_MS = 600;

interface Conn {
  id: number;
  a: number;
  b: number;
  open: boolean;
  /** Directions that lost a message to a partition: nothing more gets through (TCP stalls). */
  deadAB: boolean;
  deadBA: boolean;
}

interface Client {
  id: number;
  versions: Map<string, number>;
  lastZxid: bigint;
  issued: number;
  attempts: number;
  done: boolean;
  probe: boolean;
}

interface PendingWrite {
  op: WriteOp;
  client: Client;
}
interface PendingSync {
  op: ReadOp;
  client: Client;
  dead: boolean;
}

interface SimPeer extends CorePeer {
  id: ServerId;
  voter: boolean;
  incarnation: number;
  conns: Map<number, Conn>;
  pendingWrites: Map<string, PendingWrite>;
  pendingSyncs: PendingSync[];
}

export class Simulation {
  readonly prng: Prng;
  readonly queue = new EventQueue();
  readonly trace: Trace;
  readonly peers: SimPeer[] = [];
  readonly checkers: Checkers;
  readonly ops: Op[] = [];
  now = 0;
  events = 0;
  private conns = new Map<number, Conn>();
  private connSeq = 0;
  private blocked = new Set<string>();
  private lastAt = new Map<string, number>();
  private clients: Client[] = [];
  private chaos = true;
  private finished = false;
  private elections = 0;
  private epochBumps = 0;
  /** Leaders established since their last role change: another `established` is an epoch bump. */
  private readonly establishedLeaders = new Set<number>();
  private crashes = 0;
  private livenessDeadline = Infinity;

  constructor(readonly opt: SimOptions) {
    this.prng = new Prng(opt.seed);
    this.trace = new Trace(opt.trace_max);
    const n = opt.voters + opt.observers;
    const voters = Array.from({ length: opt.voters }, (_, i) => serverId(i + 1));
    const observers = Array.from({ length: opt.observers }, (_, i) => serverId(opt.voters + i + 1));
    const quorum = majorityQuorum(voters, observers);
    for (let sid = 1; sid <= n; sid++) {
      const base = corePeer(sid, quorum, opt);
      if (opt.reconfig) base.config = { ...base.config, reconfigOf: reconfigOfPayload };
      this.peers.push({
        ...base,
        id: serverId(sid),
        voter: sid <= opt.voters,
        incarnation: 0,
        conns: new Map(),
        pendingWrites: new Map(),
        pendingSyncs: [],
      });
    }
    // Durability counts the committed config's voters (the static ones until a reconfig commits).
    this.checkers = new Checkers(() => {
      const c = opt.reconfig ? this.checkers.committedRegister(CONFIG_KEY)?.value : undefined;
      if (c === undefined) return this.peers.filter((p) => p.voter).map((p) => p.disk);
      const vs = new Set((JSON.parse(c) as Membership).voters);
      return this.peers.filter((p) => vs.has(p.sid)).map((p) => p.disk);
    });
  }

  private peer(sid: bigint | number): SimPeer {
    const p = this.peers[Number(sid) - 1];
    if (p === undefined) throw new Error(`no peer ${sid}`);
    return p;
  }

  at(delay_ms: number, run: () => void): void {
    this.queue.push(this.now + delay_ms, run);
  }

  // ---- driving the cores -------------------------------------------------------------------

  private deliver(p: SimPeer, ev: Event): void {
    if (p.core === null) return;
    if (ev.type !== 'tick') this.trace.add(this.now, p.sid, ev);
    this.execute(p, stepCore(p.sid, p.core, ev));
    this.checkers.checkDurable();
    checkConfigInForce(p);
  }

  private start(p: SimPeer): void {
    p.incarnation++;
    this.execute(p, startFromDisk(p, this.checkers, this.trace, this.now));
  }

  private execute(p: SimPeer, actions: Action[]): void {
    for (const a of actions) {
      if (a.type !== 'send' && a.type !== 'append') this.trace.add(this.now, p.sid, a);
      this.action(p, a);
    }
  }

  private action(p: SimPeer, a: Action): void {
    switch (a.type) {
      case 'send':
        return this.send(p, Number(a.to), a.msg);
      case 'sendSnapshot':
        if (p.machine.zxid !== a.zxid) throw new Violation('core assertion', `peer ${p.sid} SNAP at ${a.zxid} but tree at ${p.machine.zxid}`);
        return this.send(p, Number(a.to), { type: 'SNAP', zxid: a.zxid, data: p.machine.serialize() });
      case 'disconnect': {
        const c = p.conns.get(Number(a.peer));
        if (c !== undefined) this.close(c, p.sid, true);
        return;
      }
      case 'persistAcceptedEpoch':
      case 'truncate':
      case 'loadSnapshot':
      case 'takeSnapshot':
      case 'persistConfig':
        return runLocalAction(p, a, this.checkers);
      case 'established':
        if (this.establishedLeaders.has(p.sid)) this.epochBumps++;
        this.establishedLeaders.add(p.sid);
        return runLocalAction(p, a, this.checkers);
      case 'persistCurrentEpoch':
        runLocalAction(p, a, this.checkers);
        if (this.chaos && p.role !== 'LEADING' && this.opt.faults.crashInSync > 0 && this.prng.chance(this.opt.faults.crashInSync)) {
          const inc = p.incarnation;
          this.at(this.prng.range(0, 25), () => {
            if (p.incarnation !== inc || p.core === null || !this.chaos) return;
            this.trace.add(this.now, p.sid, 'crash during sync');
            this.crashAndRestart(p);
          });
        }
        return;
      case 'append':
        p.disk.append(a.txns);
        if (!p.disk.fsyncInFlight) this.fsync(p);
        return;
      case 'apply':
        return this.apply(p, a.txn);
      case 'role':
        runLocalAction(p, a, this.checkers);
        this.establishedLeaders.delete(p.sid);
        if (a.role === 'LOOKING') this.elections++;
        return;
      case 'serving':
        runLocalAction(p, a, this.checkers);
        if (!a.serving) this.failPending(p);
        return;
      case 'forwardedRequest':
        // The runtime "prepares" the request; the register machine's txn is the request itself.
        this.at(0, () => {
          if (this.refusesReconfig(p, a.data)) {
            const w = decodeWrite(a.data);
            if (w.origin === p.sid) this.finishWrite(p, `${w.client}:${w.req}`, 'unknown', null);
            return;
          }
          this.deliver(p, proposeEvent(p, a.data));
        });
        return;
      case 'requestDropped':
        if (a.sync) {
          const s = p.pendingSyncs.pop();
          if (s !== undefined && !s.dead) this.finishSync(s, null);
        } else {
          const w = decodeWrite(a.data);
          if (w.origin === p.sid) this.finishWrite(p, `${w.client}:${w.req}`, 'unknown', null);
        }
        return;
      case 'syncDone': {
        const s = p.pendingSyncs.shift();
        if (s !== undefined && !s.dead) this.finishSync(s, p);
        return;
      }
      case 'sessionActivity':
        return;
    }
  }

  private apply(p: SimPeer, txn: { zxid: Zxid; data: Buffer }): void {
    p.appliedAt = this.checkers.onApply(p.sid, p.appliedAt, txn);
    const { w, result } = p.machine.apply(txn);
    if (w.origin === p.sid) this.finishWrite(p, `${w.client}:${w.req}`, result, txn.zxid);
  }

  private fsync(p: SimPeer): void {
    const upto = p.disk.startFsync();
    const inc = p.incarnation;
    this.at(this.prng.range(1, 25), () => {
      if (p.incarnation !== inc || p.core === null) return;
      const z = p.disk.completeFsync(upto);
      if (z !== null) this.deliver(p, { type: 'logDurable', zxid: z });
      if (p.core !== null && p.disk.pending.length > 0 && !p.disk.fsyncInFlight) this.fsync(p);
    });
  }

  // ---- network -----------------------------------------------------------------------------

  private delay(): number {
    return this.prng.chance(0.03) ? this.prng.range(50, 600) : this.prng.range(1, 15);
  }

  /** FIFO per direction and kind: a message never overtakes an earlier one. */
  private fifoAt(key: string): number {
    const at = Math.max(this.now + this.delay(), this.lastAt.get(key) ?? 0);
    this.lastAt.set(key, at);
    return at;
  }

  private isBlocked(from: number, to: number): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  private send(p: SimPeer, to: number, m: Message): void {
    const msg = this.opt.wire ? overTheWire(m) : m;
    if (msg.type === 'NOTIFICATION') return this.sendElection(p.sid, to, msg);
    let c: Conn | undefined;
    if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
      const old = p.conns.get(to);
      if (old !== undefined) this.close(old, p.sid, false);
      c = { id: ++this.connSeq, a: p.sid, b: to, open: true, deadAB: false, deadBA: false };
      this.conns.set(c.id, c);
      p.conns.set(to, c);
    } else c = p.conns.get(to);
    if (c === undefined || !c.open) return;
    const conn = c;
    const ab = conn.a === p.sid;
    if (this.isBlocked(p.sid, to)) return this.kill(conn, ab);
    if (ab ? conn.deadAB : conn.deadBA) return;
    const from = p.sid;
    this.queue.push(this.fifoAt(`q${from}>${to}`), () => {
      if (!conn.open || (ab ? conn.deadAB : conn.deadBA)) return;
      if (this.isBlocked(from, to)) return this.kill(conn, ab);
      const r = this.peer(to);
      if (r.core === null) return;
      if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
        const old = r.conns.get(from);
        if (old !== undefined && old !== conn) this.close(old, to, false);
        r.conns.set(from, conn);
      } else if (r.conns.get(from) !== conn) return;
      if (msg.type === 'UPTODATE') r.sawUptodate = true;
      this.deliver(r, { type: 'message', from: serverId(from), msg });
    });
  }

  private kill(c: Conn, ab: boolean): void {
    if (ab) c.deadAB = true;
    else c.deadBA = true;
  }

  private sendElection(from: number, to: number, msg: Message): void {
    if (this.isBlocked(from, to) || (this.chaos && this.prng.chance(this.opt.faults.msgDrop))) return;
    this.queue.push(this.fifoAt(`e${from}>${to}`), () => {
      if (this.isBlocked(from, to)) return;
      this.deliver(this.peer(to), { type: 'message', from: serverId(from), msg });
    });
  }

  /** Close a connection from one end; the other end hears of it (in order) if `notify`. */
  private close(c: Conn, closer: number, notify: boolean): void {
    if (!c.open) return;
    c.open = false;
    this.conns.delete(c.id);
    const other = c.a === closer ? c.b : c.a;
    const cp = this.peer(closer);
    if (cp.conns.get(other) === c) cp.conns.delete(other);
    if (!notify) return;
    this.queue.push(this.fifoAt(`q${closer}>${other}`), () => {
      if (this.isBlocked(closer, other)) return;
      const r = this.peer(other);
      if (r.conns.get(closer) !== c) return;
      r.conns.delete(closer);
      this.deliver(r, { type: 'disconnected', peer: serverId(closer) });
    });
  }

  // ---- faults ------------------------------------------------------------------------------

  private crash(p: SimPeer): void {
    this.crashes++;
    this.trace.add(this.now, p.sid, 'CRASH');
    const rst = this.prng.chance(0.5); // a process crash resets its connections; a power cut does not
    for (const c of [...this.conns.values()]) if (c.a === p.sid || c.b === p.sid) this.close(c, p.sid, rst);
    p.conns.clear();
    p.disk.crash(this.prng);
    p.core = null;
    p.incarnation++;
    this.failPending(p);
    p.serving = false;
  }

  private crashAndRestart(p: SimPeer): void {
    this.crash(p);
    this.at(this.prng.range(200, 6000), () => {
      if (p.core === null) this.start(p);
    });
  }

  private faultTick(): void {
    if (!this.chaos) return;
    const f = this.opt.faults;
    const r = this.prng.float();
    const alive = this.peers.filter((p) => p.core !== null);
    if (r < f.crash && alive.length > 0) {
      this.crashAndRestart(this.prng.pick(alive));
    } else if (r < f.crash + f.partition) {
      const pairs = drawPartition(this.prng, this.peers.length);
      for (const k of pairs) this.blocked.add(k);
      this.trace.add(this.now, 0, `PARTITION ${pairs.join(' ')}`);
      this.at(this.prng.range(300, 8000), () => {
        for (const k of pairs) this.blocked.delete(k);
        this.trace.add(this.now, 0, `HEAL ${pairs.join(' ')}`);
      });
    } else if (r < f.crash + f.partition + f.connDrop && this.conns.size > 0) {
      const c = this.prng.pick([...this.conns.values()]);
      const closer = this.prng.chance(0.5) ? c.a : c.b;
      this.trace.add(this.now, closer, `DROP connection s${c.a}-s${c.b}`);
      this.close(c, closer, this.prng.chance(0.7));
    }
    this.at(this.prng.range(1, 2 * this.opt.faults.interval_ms), () => this.faultTick());
  }

  private heal(): void {
    this.chaos = false;
    this.blocked.clear();
    this.trace.add(this.now, 0, 'HEAL ALL: no more faults');
    for (const p of this.peers) if (p.core === null) this.start(p);
    this.livenessDeadline = this.now + LIVENESS_MS;
    const probe: Client = { id: 1000, versions: new Map(), lastZxid: 0n, issued: 0, attempts: 0, done: false, probe: true };
    this.clients.push(probe);
    this.at(0, () => this.clientStep(probe));
  }

  // ---- clients -----------------------------------------------------------------------------

  private failPending(p: SimPeer): void {
    for (const k of [...p.pendingWrites.keys()]) this.finishWrite(p, k, 'unknown', null);
    for (const s of p.pendingSyncs) if (!s.dead) this.finishSync(s, null);
    p.pendingSyncs = [];
  }

  private finishWrite(p: SimPeer, key: string, result: WriteOp['result'], zxid: bigint | null): void {
    const pw = p.pendingWrites.get(key);
    if (pw === undefined) return;
    p.pendingWrites.delete(key);
    const { op, client } = pw;
    op.result = result;
    op.zxid = zxid;
    if (result !== 'unknown' && result !== null) {
      op.response = this.now;
      client.versions.set(op.key, result.version);
      if (zxid !== null && zxid > client.lastZxid) client.lastZxid = zxid;
      if (client.probe) {
        this.trace.add(this.now, p.sid, `liveness probe write committed at ${zxid}`);
        this.finished = true;
        return;
      }
    }
    this.at(this.prng.range(0, 100), () => this.clientStep(client));
  }

  private finishSync(s: PendingSync, p: SimPeer | null): void {
    s.dead = true;
    const { op, client } = s;
    if (p === null || !p.serving) op.failed = true;
    else this.readInto(op, client, p);
    op.response = this.now;
    this.at(this.prng.range(0, 100), () => this.clientStep(client));
  }

  private readInto(op: ReadOp, client: Client, p: SimPeer): void {
    const r = p.machine.read(op.key);
    op.version = r.version;
    op.value = r.value;
    op.zxid = p.machine.zxid;
    op.failed = false;
    client.versions.set(op.key, r.version);
    if (op.zxid > client.lastZxid) client.lastZxid = op.zxid;
  }

  /**
   * The leader's prep of a reconfig (ZooKeeper's PrepRequestProcessor): refused while another is
   * in flight (ReconfigInProgress), or unless the leader and the followers it has brought up to
   * date hold a quorum of the new config (NewConfigNoQuorum). Without this a reconfig could wait
   * forever for voters that are observers now and never ack.
   */
  private refusesReconfig(p: SimPeer, data: Buffer): boolean {
    const q = this.opt.reconfig ? reconfigOfPayload(data) : null;
    const c = p.core;
    if (q === null || c === null || c.role.role !== 'LEADING') return false;
    if (!mayProposeReconfig(c)) return true;
    const synced = [c.config.sid];
    // An observer of the config in force still connected as a follower is about to rejoin as an observer: it will not ack.
    const observers = new Set(c.quorum.observers);
    for (const h of c.role.handlers.values()) if (h.participant && h.stage === 'uptodate' && !observers.has(h.sid)) synced.push(h.sid);
    return !q.containsQuorum(synced);
  }

  /**
   * A new membership for a reconfig, as a leader would accept it: none while one is in flight;
   * one voter moved to observer or one observer to voter, keeping at least 2 voters and a majority
   * of the new voters among the current ones (they are the ones connected as followers).
   */
  private nextMembership(): Membership | undefined {
    const l = this.peers.find((p) => p.core !== null && p.role === 'LEADING' && isServing(p.core));
    if (l === undefined || l.core === null || !mayProposeReconfig(l.core)) return undefined;
    const current = l.core.lastSeenQuorum.voters.map(Number);
    const all = this.peers.map((p) => p.sid);
    const others = all.filter((s) => !current.includes(s));
    const next =
      others.length > 0 && (current.length <= 2 || this.prng.chance(0.5))
        ? [...current, this.prng.pick(others)]
        : current.filter((s) => s !== this.prng.pick(current));
    const kept = next.filter((s) => current.includes(s)).length;
    if (next.length < 2 || kept * 2 <= next.length) return undefined;
    next.sort((a, b) => a - b);
    return { voters: next, observers: all.filter((s) => !next.includes(s)) };
  }

  private clientStep(c: Client): void {
    if (this.finished || c.done) return;
    if (!c.probe && (c.issued >= this.opsPerClient() || !this.chaos)) {
      c.done = true;
      if (this.clients.every((x) => x.done || x.probe)) this.at(0, () => this.chaos && this.heal());
      return;
    }
    c.attempts++;
    const p = this.prng.pick(this.peers);
    // ZooKeeper refuses a session whose last seen zxid is ahead of the server.
    if (p.core === null || !p.serving || !isServing(p.core) || p.machine.zxid < c.lastZxid) {
      this.at(this.prng.range(20, 200), () => this.clientStep(c));
      return;
    }
    let key = `k${this.prng.int(this.opt.keys)}`;
    const kind = c.probe ? 0 : this.prng.float();
    if (kind < 0.5) {
      c.issued++;
      const r = this.prng.float();
      let ev = r < 0.7 ? (c.versions.get(key) ?? 0) : r < 0.85 ? -1 : this.prng.int(4);
      const membership = this.opt.reconfig && !c.probe && this.prng.chance(RECONFIG_SHARE) ? this.nextMembership() : undefined;
      if (membership !== undefined) {
        key = CONFIG_KEY;
        ev = -1;
      }
      const req = c.attempts;
      const id = `c${c.id}.${req}`;
      const op: WriteOp = {
        kind: 'write',
        client: c.id,
        key,
        expectedVersion: ev,
        // A membership repeats; the checker tells writes apart by value, so it carries the op's id
        // (as ZooKeeper's /zookeeper/config carries version=<zxid>).
        value: membership === undefined ? id : JSON.stringify({ ...membership, op: id }),
        invoke: this.now,
        response: null,
        result: null,
        zxid: null,
      };
      this.ops.push(op);
      const k = `${c.id}:${req}`;
      p.pendingWrites.set(k, { op, client: c });
      this.deliver(p, { type: 'request', data: encodeWrite({ client: c.id, req, origin: p.sid, key, expectedVersion: ev, value: op.value }) });
      this.at(OP_TIMEOUT_MS, () => this.finishWrite(p, k, 'unknown', null));
    } else {
      c.issued++;
      const sync = kind > 0.8;
      const op: ReadOp = { kind: 'read', client: c.id, key, sync, invoke: this.now, response: null, failed: true, version: 0, value: '', zxid: 0n };
      this.ops.push(op);
      if (!sync) {
        this.readInto(op, c, p);
        op.response = this.now;
        this.at(this.prng.range(0, 100), () => this.clientStep(c));
        return;
      }
      const ps: PendingSync = { op, client: c, dead: false };
      p.pendingSyncs.push(ps);
      this.deliver(p, { type: 'sync' });
      this.at(OP_TIMEOUT_MS, () => {
        if (!ps.dead) this.finishSync(ps, null);
      });
    }
  }

  private opsPerClient(): number {
    return Math.ceil(this.opt.ops / this.opt.clients);
  }

  // ---- the run -----------------------------------------------------------------------------

  run(): SimResult {
    const stats = () => ({
      events: this.events,
      virtual_ms: this.now,
      committed: this.checkers.committed.length,
      ops: this.ops.length,
      elections: this.elections,
      crashes: this.crashes,
      reconfigs: this.checkers.committedRegister(CONFIG_KEY)?.version ?? 0,
      epochBumps: this.epochBumps,
    });
    try {
      for (const p of this.peers) {
        this.start(p);
        const phase = this.prng.int(TICK_MS);
        const tick = (): void => {
          this.deliver(p, { type: 'tick' });
          this.at(TICK_MS, tick);
        };
        this.at(phase, tick);
      }
      for (let i = 0; i < this.opt.clients; i++) {
        const c: Client = { id: i + 1, versions: new Map(), lastZxid: 0n, issued: 0, attempts: 0, done: false, probe: false };
        this.clients.push(c);
        this.at(this.prng.range(0, 500), () => this.clientStep(c));
      }
      this.at(this.prng.range(0, this.opt.faults.interval_ms), () => this.faultTick());
      const chaosEnd = this.opt.ops * CHAOS_PER_OP_MS + 20_000;
      this.queue.push(chaosEnd, () => this.chaos && this.heal());
      while (!this.finished) {
        const e = this.queue.pop();
        if (e === undefined) break;
        this.now = e.at;
        if (this.now > this.livenessDeadline) {
          const leaders = this.peers.filter((p) => p.role === 'LEADING').map((p) => p.sid);
          throw new Violation('liveness', `no write committed within ${LIVENESS_MS}ms of healing (leading: ${leaders.join(',') || 'none'})`);
        }
        this.events++;
        e.run();
      }
      this.checkers.checkHistory(this.ops);
      return { ok: true, seed: this.opt.seed, options: this.opt, stats: stats() };
    } catch (e) {
      if (!(e instanceof Violation)) throw e;
      return { ok: false, seed: this.opt.seed, options: this.opt, violation: e.message, checker: e.checker, trace: this.trace.lines(), stats: stats() };
    }
  }
}

/** Share of seeds whose learners may crash right after writing currentEpoch in a sync, and how likely. */
const SYNC_CRASH_SEEDS = 0.3;
const SYNC_CRASH_CHANCE = 0.3;

/** Mixed ensemble sizes and fault rates, all derived from the seed. */
export function randomOptions(seed: number, ops: number, mutations: Mutation[] = [], reconfig = false, epochBump = false): SimOptions {
  const r = new Prng(seed ^ 0x5eed5eed);
  const voters = r.pick([3, 3, 3, 5, 5, 7]);
  const observers = r.chance(0.3) ? r.range(1, 2) : 0;
  const level = r.pick(['calm', 'some', 'some', 'heavy'] as const);
  const faults: FaultRates =
    level === 'calm'
      ? { interval_ms: 4000, crash: 0.05, partition: 0.05, connDrop: 0.05, msgDrop: 0.0, crashInSync: 0 }
      : level === 'some'
        ? { interval_ms: 1500, crash: 0.25, partition: 0.25, connDrop: 0.2, msgDrop: 0.02, crashInSync: 0 }
        : { interval_ms: 500, crash: 0.3, partition: 0.3, connDrop: 0.3, msgDrop: 0.1, crashInSync: 0 };
  const opt: SimOptions = {
    seed,
    voters,
    observers,
    clients: r.range(2, 4),
    ops,
    keys: r.range(1, 4),
    faults,
    mutations,
    snapCount: r.pick([5, 20, 1000]),
    commitLogCount: 0,
    zxidCounter_max: r.chance(0.15) ? BigInt(r.range(3, 12)) : PROPOSAL_COUNTER_MAX,
    trace_max: 60,
    wire: r.chance(0.25),
    reconfig: false,
    zxidRolloverWithoutElection: false,
  };
  // Drawn last so the other options of a seed stay as they were.
  if (r.chance(SYNC_CRASH_SEEDS)) faults.crashInSync = SYNC_CRASH_CHANCE;
  // Half the seeds keep committed txns past a snapshot (DIFF across it), half drop them (SNAP).
  opt.commitLogCount = r.pick([0, 0, 3, 50]);
  if (reconfig) {
    opt.reconfig = true;
    // The config a leader's NEWLEADER and a notification carry is the core's, not on ZooKeeper's wire.
    opt.wire = false;
  }
  if (epochBump) {
    // A counter spent every few writes (2^6 at most): many bumps per seed, under every fault.
    opt.zxidRolloverWithoutElection = true;
    opt.zxidCounter_max = r.pick([3n, 8n, 64n]);
  }
  return opt;
}

/** What the peer at the other end decodes from ZooKeeper's bytes. */
function overTheWire(m: Message): Message {
  return m.type === 'NOTIFICATION' ? decodeNotification(encodeNotification(m)) : decodeQuorumMessage(encodeQuorumMessage(m));
}

export function runSeed(seed: number, ops: number, mutations: Mutation[] = [], reconfig = false, epochBump = false): SimResult {
  return new Simulation(randomOptions(seed, ops, mutations, reconfig, epochBump)).run();
}
