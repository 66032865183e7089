/**
 * LeaderLatch: Curator's leader election by latch. Each participant makes a protected
 * ephemeral-sequential node `<path>/_c_<uuid>-latch-NNNNNNNNNN` holding its id; the lowest
 * sequence leads, the others watch the node just ahead. Leadership is given up on SUSPENDED and
 * LOST (Curator's standard error policy) and checked again on RECONNECTED.
 */
import { EventEmitter } from 'node:events';
import { CreateMode, Err, EventType, type ZooKeeperClient } from '../client/index.js';
import { connectionStateOf, deadlineOf, waitForWake, type ConnectionState, type ConnectionStateTracker } from './connection-state.js';
import { RecipeError } from './errors.js';
import { participantsOf, type Participant } from './participant.js';
import { createProtected, makePath, nodeName, sortLockNodes, validatePath } from './paths.js';
import { deleteQuietly, isCode, retrying } from './retry.js';

const LOCK_NAME = 'latch-';

type LatchState = 'LATENT' | 'STARTED' | 'CLOSED';

interface LeaderLatchEvents {
  isLeader: [];
  notLeader: [];
  /** A background step failed in a way the latch cannot retry by itself. */
  error: [Error];
}

export class LeaderLatch extends EventEmitter<LeaderLatchEvents> {
  private readonly latchPath: string;
  private readonly tracker: ConnectionStateTracker;
  private stateValue: LatchState = 'LATENT';
  private leader = false;
  private ourPath: string | null = null;
  /** Background steps run one after another, so they never race each other. */
  private chain: Promise<void> = Promise.resolve();
  private readonly onConnState = (s: ConnectionState): void => this.handleStateChange(s);
  /** await() callers to wake on a leadership change or close. */
  private readonly wakeups = new Set<() => void>();

  constructor(
    private readonly client: ZooKeeperClient,
    path: string,
    readonly id = '',
  ) {
    super();
    this.latchPath = validatePath(path);
    this.tracker = connectionStateOf(client);
  }

  get state(): LatchState {
    return this.stateValue;
  }

  /** Joins the election; leadership comes later, see await() and the isLeader event. */
  start(): void {
    if (this.stateValue !== 'LATENT') throw new RecipeError('a LeaderLatch can be started only once');
    this.stateValue = 'STARTED';
    this.tracker.on('state', this.onConnState);
    this.step(() => this.reset());
  }

  /** Leaves the election: deletes our node; notLeader is emitted if we led. */
  async close(): Promise<void> {
    if (this.stateValue !== 'STARTED') throw new RecipeError('LeaderLatch already closed or not started');
    this.stateValue = 'CLOSED';
    this.tracker.off('state', this.onConnState);
    this.setLeadership(false);
    this.wake();
    await this.chain;
    await this.setNode(null);
  }

  hasLeadership(): boolean {
    return this.stateValue === 'STARTED' && this.leader;
  }

  /** True once leader; false if `timeout_ms` passes or the latch closes first. */
  async await(timeout_ms?: number, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const deadline_ms = deadlineOf(timeout_ms);
    for (;;) {
      if (this.stateValue !== 'STARTED') return false;
      if (this.leader) return true;
      const woke = await waitForWake(this.tracker, (wake) => this.wakeups.add(wake), { deadline_ms, signal: opts.signal });
      if (!woke) return this.hasLeadership();
    }
  }

  /** Full path of our latch node, once made. */
  getOurPath(): string | null {
    return this.ourPath;
  }

  async getParticipants(): Promise<Participant[]> {
    return participantsOf(this.client, this.latchPath, [LOCK_NAME]);
  }

  /** The participant whose node is first (leader), or undefined when none. */
  async getLeader(): Promise<Participant | undefined> {
    return (await this.getParticipants())[0];
  }

  private step(f: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.stateValue !== 'STARTED') return;
      try {
        await f();
      } catch (e) {
        // Connection trouble is retried by handleStateChange on RECONNECTED; a dead client cannot be.
        if (this.tracker.terminalError() !== null || isCode(e, Err.ConnectionLoss)) return;
        if (this.listenerCount('error') > 0) this.emit('error', e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private async reset(): Promise<void> {
    this.setLeadership(false);
    await this.setNode(null);
    const p = await createProtected(this.client, makePath(this.latchPath, LOCK_NAME), Buffer.from(this.id, 'utf8'), CreateMode.EPHEMERAL_SEQUENTIAL);
    await this.setNode(p);
    if (this.stateValue !== 'STARTED') return this.setNode(null);
    await this.checkLeadership();
  }

  private async checkLeadership(): Promise<void> {
    let children: string[];
    try {
      children = await retrying(this.client, () => this.client.getChildren(this.latchPath));
    } catch (e) {
      if (isCode(e, Err.NoNode)) return this.reset();
      throw e;
    }
    const ours = this.ourPath;
    const sorted = sortLockNodes(children, [LOCK_NAME]);
    const i = ours === null ? -1 : sorted.indexOf(nodeName(ours));
    if (i < 0) return this.reset();
    if (i === 0) {
      // Only a node owned by this session counts (it may be a previous session's, not yet gone).
      const stat = await retrying(this.client, () => this.client.exists(ours!));
      if (stat === null || stat.ephemeralOwner !== this.client.sessionId) return this.reset();
      this.setLeadership(true);
      return;
    }
    this.setLeadership(false);
    const ahead = makePath(this.latchPath, sorted[i - 1]!);
    try {
      await retrying(this.client, () =>
        this.client.getData(ahead, (ev) => {
          if (ev.type === EventType.NodeDeleted) this.step(() => this.checkLeadership());
        }),
      );
    } catch (e) {
      if (isCode(e, Err.NoNode)) return this.checkLeadership();
      throw e;
    }
  }

  private handleStateChange(s: ConnectionState): void {
    if (s === 'RECONNECTED') this.step(() => this.checkLeadership());
    else if (s === 'SUSPENDED' || s === 'LOST') this.setLeadership(false);
  }

  private setLeadership(v: boolean): void {
    const was = this.leader;
    this.leader = v;
    if (was && !v) this.emit('notLeader');
    else if (!was && v) this.emit('isLeader');
    if (was !== v) this.wake();
  }

  private wake(): void {
    for (const w of [...this.wakeups]) w();
    this.wakeups.clear();
  }

  private async setNode(p: string | null): Promise<void> {
    const old = this.ourPath;
    this.ourPath = p;
    if (old !== null) await deleteQuietly(this.client, old);
  }
}
