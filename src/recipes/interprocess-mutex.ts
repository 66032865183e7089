/**
 * InterProcessMutex: Curator's reentrant distributed lock, on the same znodes
 * (`<path>/_c_<uuid>-lock-NNNNNNNNNN`), so Node and Curator processes exclude each other.
 * Reentrant per instance (Curator: per thread). If the session is lost while held, the mutex
 * stops claiming it, emits 'lost', and deletes its node should the session come back.
 */
import { EventEmitter } from 'node:events';
import type { ZooKeeperClient } from '../client/index.js';
import type { ConnectionState } from './connection-state.js';
import { RecipeError } from './errors.js';
import { LockInternals, standardDriver, type LockDriver } from './lock-internals.js';
import { makePath } from './paths.js';
import { deleteQuietly } from './retry.js';

export interface AcquireOptions {
  signal?: AbortSignal;
}

interface MutexEvents {
  /** The session that held the lock was lost: the lock is no longer held. */
  lost: [];
}

/** How a lock built on the mutex differs (the read/write lock's halves; LeaderSelector's id as data). */
interface MutexVariant {
  lockName?: string;
  maxLeases?: number;
  driver?: LockDriver;
  /** Stored in the lock node. */
  data?: Buffer | null;
}

const LOCK_NAME = 'lock-';

export class InterProcessMutex extends EventEmitter<MutexEvents> {
  private readonly internals: LockInternals;
  private lockPath: string | null = null;
  private holds = 0;
  private pending: Promise<boolean> | null = null;
  /** A node of ours left behind by a lost session; deleted when the connection returns. */
  private orphan: string | null = null;
  private readonly data: Buffer | null;

  constructor(client: ZooKeeperClient, path: string, variant: MutexVariant = {}) {
    super();
    const lockName = variant.lockName ?? LOCK_NAME;
    this.internals = new LockInternals(client, path, lockName, variant.maxLeases ?? 1, variant.driver ?? standardDriver(lockName));
    this.data = variant.data ?? null;
    this.internals.tracker.on('state', (s) => this.onState(s));
  }

  /**
   * Waits for the lock (at most `timeout_ms` if given). True when held; false when the time ran
   * out. Acquiring again while held only counts (release as many times).
   */
  async acquire(timeout_ms?: number, opts: AcquireOptions = {}): Promise<boolean> {
    if (timeout_ms !== undefined && !(timeout_ms >= 0)) throw new RecipeError('timeout_ms must be a number >= 0');
    while (this.pending !== null) await this.pending.catch(() => false);
    if (this.lockPath !== null) {
      this.holds++;
      return true;
    }
    const attempt = this.internals.attemptLock({ timeout_ms, signal: opts.signal, data: this.data }).then((p) => {
      if (p === null) return false;
      this.lockPath = p;
      this.holds = 1;
      return true;
    });
    this.pending = attempt;
    try {
      return await attempt;
    } finally {
      this.pending = null;
    }
  }

  /** Releases one hold; the lock node is deleted with the last. Throws if not held. */
  async release(): Promise<void> {
    if (this.lockPath === null) throw new RecipeError(`you do not own the lock: ${this.internals.basePath}`);
    if (--this.holds > 0) return;
    const p = this.lockPath;
    this.lockPath = null;
    await deleteQuietly(this.internals.client, p);
  }

  /** Held by this instance, and its session has not been lost since. */
  isAcquiredInThisProcess(): boolean {
    return this.lockPath !== null;
  }

  /** Full path of our lock node while held. */
  get lockNodePath(): string | null {
    return this.lockPath;
  }

  /** Paths of every lock node, first the holder's. */
  async getParticipantNodes(): Promise<string[]> {
    return (await this.internals.sortedChildren()).map((n) => makePath(this.internals.basePath, n));
  }

  private onState(s: ConnectionState): void {
    if (s === 'LOST' && this.lockPath !== null) {
      this.orphan = this.lockPath;
      this.lockPath = null;
      this.holds = 0;
      this.emit('lost');
    } else if ((s === 'RECONNECTED' || s === 'CONNECTED') && this.orphan !== null) {
      const p = this.orphan;
      this.orphan = null;
      deleteQuietly(this.internals.client, p).catch(() => {});
    }
  }
}
