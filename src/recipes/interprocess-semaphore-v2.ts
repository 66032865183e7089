/**
 * InterProcessSemaphoreV2: Curator's counting semaphore. Leases are protected ephemeral-sequential
 * nodes `<path>/leases/_c_<uuid>-lease-NNNNNNNNNN`; taking one happens under the mutex
 * `<path>/locks`, and waits while there are more lease nodes than `maxLeases`.
 */
import { EventEmitter } from 'node:events';
import { CreateMode, type ZooKeeperClient } from '../client/index.js';
import { checkUsable, connectionStateOf, deadlineOf, waitForWake, watchFired, type ConnectionStateTracker } from './connection-state.js';
import { RecipeError } from './errors.js';
import { InterProcessMutex, type AcquireOptions } from './interprocess-mutex.js';
import { createProtected, makePath, nodeName, validatePath } from './paths.js';
import { deleteQuietly, retrying } from './retry.js';

export class Lease {
  constructor(
    private readonly client: ZooKeeperClient,
    /** Full path of the lease node. */
    readonly path: string,
  ) {}

  get nodeName(): string {
    return nodeName(this.path);
  }

  async getData(): Promise<Buffer | null> {
    return (await this.client.getData(this.path)).data;
  }

  /** Returns the lease (deletes its node). */
  close(): Promise<void> {
    return deleteQuietly(this.client, this.path);
  }
}

interface SemaphoreEvents {
  /** The session was lost: leases taken through this semaphore are gone. */
  lost: [];
}

export class InterProcessSemaphoreV2 extends EventEmitter<SemaphoreEvents> {
  private readonly lock: InterProcessMutex;
  private readonly leasesPath: string;
  private readonly tracker: ConnectionStateTracker;
  private nodeData: Buffer | null = null;

  constructor(
    private readonly client: ZooKeeperClient,
    path: string,
    private readonly maxLeases: number,
  ) {
    super();
    validatePath(path);
    if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new RecipeError('maxLeases must be an integer >= 1');
    this.lock = new InterProcessMutex(client, makePath(path, 'locks'));
    this.leasesPath = makePath(path, 'leases');
    this.tracker = connectionStateOf(client);
    this.tracker.on('state', (s) => {
      if (s === 'LOST') this.emit('lost');
    });
  }

  /** Data stored in lease nodes made from now on. */
  setNodeData(data: Buffer | null): void {
    this.nodeData = data;
  }

  /** One lease, or null when `timeout_ms` ran out. */
  async acquire(timeout_ms?: number, opts: AcquireOptions = {}): Promise<Lease | null> {
    return (await this.acquireMany(1, timeout_ms, opts))?.[0] ?? null;
  }

  /** `qty` leases, or null (and none kept) when `timeout_ms` ran out. */
  async acquireMany(qty: number, timeout_ms?: number, opts: AcquireOptions = {}): Promise<Lease[] | null> {
    if (!Number.isInteger(qty) || qty < 1) throw new RecipeError('qty must be an integer >= 1');
    const deadline_ms = deadlineOf(timeout_ms);
    const got: Lease[] = [];
    let ok = false;
    try {
      while (got.length < qty) {
        const lease = await this.acquireOne(deadline_ms, opts.signal);
        if (lease === null) return null;
        got.push(lease);
      }
      ok = true;
      return got;
    } finally {
      if (!ok) await this.returnAll(got);
    }
  }

  async returnLease(lease: Lease): Promise<void> {
    await lease.close();
  }

  async returnAll(leases: Lease[]): Promise<void> {
    for (const l of leases) await l.close().catch(() => {});
  }

  /** Names of the current lease nodes. */
  async getParticipantNodes(): Promise<string[]> {
    return retrying(this.client, () => this.client.getChildren(this.leasesPath));
  }

  /** One at a time per instance: the mutex is reentrant per instance, so it would not keep two local callers apart. */
  private acquireOne(deadline_ms: number | undefined, signal: AbortSignal | undefined): Promise<Lease | null> {
    const run = this.localTurn.then(() => this.acquireOneLocked(deadline_ms, signal));
    this.localTurn = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private localTurn: Promise<void> = Promise.resolve();

  private async acquireOneLocked(deadline_ms: number | undefined, signal: AbortSignal | undefined): Promise<Lease | null> {
    const left_ms = deadline_ms === undefined ? undefined : Math.max(0, deadline_ms - Date.now());
    if (!(await this.lock.acquire(left_ms, { signal }))) return null;
    try {
      const path = await createProtected(this.client, makePath(this.leasesPath, 'lease-'), this.nodeData, CreateMode.EPHEMERAL_SEQUENTIAL);
      const ours = nodeName(path);
      let ok = false;
      try {
        for (;;) {
          checkUsable(this.tracker, signal);
          const { watcher, fired } = watchFired();
          const children = await retrying(this.client, () => this.client.getChildren(this.leasesPath, watcher));
          if (!children.includes(ours)) throw new RecipeError(`lease node ${path} vanished (session lost?)`);
          if (children.length <= this.maxLeases) break;
          if (!(await waitForWake(this.tracker, fired, { deadline_ms, signal }))) return null;
        }
        ok = true;
        return new Lease(this.client, path);
      } finally {
        if (!ok) await deleteQuietly(this.client, path).catch(() => {});
      }
    } finally {
      if (this.lock.isAcquiredInThisProcess()) await this.lock.release();
    }
  }
}
