/**
 * LeaderSelector: Curator's leader election that hands leadership to a callback. Participants
 * contend for an InterProcessMutex on the path (nodes `_c_<uuid>-lock-NNNNNNNNNN` holding the
 * id); the holder runs `takeLeadership` and leads until it returns. Its AbortSignal fires on
 * SUSPENDED or LOST (Curator's CancelLeadershipException), interruptLeadership() or close().
 */
import { EventEmitter } from 'node:events';
import type { ZooKeeperClient } from '../client/index.js';
import { connectionStateOf, type ConnectionState, type ConnectionStateTracker } from './connection-state.js';
import { RecipeError } from './errors.js';
import { InterProcessMutex } from './interprocess-mutex.js';
import { participantsOf, type Participant } from './participant.js';

export interface LeaderSelectorOptions {
  /** Runs while leading; leadership ends when it settles. `signal` aborts when it must stop. */
  takeLeadership: (signal: AbortSignal) => Promise<void>;
  id?: string;
  /** Contend again after each leadership ends (Curator's autoRequeue()). */
  autoRequeue?: boolean;
}

interface LeaderSelectorEvents {
  /** takeLeadership threw (other than by its abort). */
  error: [Error];
}

export class LeaderSelector extends EventEmitter<LeaderSelectorEvents> {
  private readonly mutex: InterProcessMutex;
  private readonly tracker: ConnectionStateTracker;
  private readonly path: string;
  private closed = false;
  private started = false;
  private queued = false;
  private leading = false;
  /** Aborts the current contention or leadership. */
  private turn: AbortController | null = null;
  private running: Promise<void> = Promise.resolve();
  private readonly onConnState = (s: ConnectionState): void => {
    if ((s === 'SUSPENDED' || s === 'LOST') && this.leading) this.turn?.abort(new RecipeError(`leadership cancelled: connection ${s}`));
  };

  constructor(
    private readonly client: ZooKeeperClient,
    path: string,
    private readonly opts: LeaderSelectorOptions,
  ) {
    super();
    const id = opts.id ?? '';
    this.mutex = new InterProcessMutex(client, path, { data: id.length > 0 ? Buffer.from(id, 'utf8') : null });
    this.path = path;
    this.tracker = connectionStateOf(client);
  }

  start(): void {
    if (this.started) throw new RecipeError('a LeaderSelector can be started only once');
    this.started = true;
    this.tracker.on('state', this.onConnState);
    this.requeue();
  }

  /** Contend again (no-op while already queued or leading). Returns whether it queued. */
  requeue(): boolean {
    if (!this.started || this.closed) throw new RecipeError('LeaderSelector not started or closed');
    if (this.queued) return false;
    this.queued = true;
    this.running = this.running.then(() => this.contend());
    return true;
  }

  hasLeadership(): boolean {
    return this.leading;
  }

  /** Makes the current takeLeadership call stop (its signal aborts). */
  interruptLeadership(): void {
    if (this.leading) this.turn?.abort(new RecipeError('leadership interrupted'));
  }

  async getParticipants(): Promise<Participant[]> {
    return participantsOf(this.client, this.path, ['lock-']);
  }

  async getLeader(): Promise<Participant | undefined> {
    return (await this.getParticipants())[0];
  }

  /** Stops contending and ends any leadership; resolves once our node is gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tracker.off('state', this.onConnState);
    this.turn?.abort(new RecipeError('LeaderSelector closed'));
    await this.running;
  }

  private async contend(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const turn = new AbortController();
      this.turn = turn;
      try {
        await this.mutex.acquire(undefined, { signal: turn.signal });
      } catch {
        this.queued = false;
        return; // closed, or the client is gone
      }
      this.queued = false;
      this.leading = true;
      try {
        if (!turn.signal.aborted) await this.opts.takeLeadership(turn.signal);
      } catch (e) {
        if (!turn.signal.aborted && this.listenerCount('error') > 0) this.emit('error', e instanceof Error ? e : new Error(String(e)));
      } finally {
        this.leading = false;
        if (this.mutex.isAcquiredInThisProcess()) await this.mutex.release().catch(() => {});
      }
      if (!this.opts.autoRequeue || this.closed || this.tracker.terminalError() !== null || this.queued) return;
      this.queued = true;
    }
  }
}
