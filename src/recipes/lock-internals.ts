/**
 * The lock algorithm shared by InterProcessMutex, the read/write lock and the semaphore's lock,
 * as Curator's LockInternals: make a protected ephemeral-sequential node `<path>/_c_<uuid>-<lockName>NNNNNNNNNN`,
 * list the children sorted by sequence, and either hold the lock or watch the node `maxLeases`
 * places ahead until it goes.
 */
import { CreateMode, Err, type ZooKeeperClient } from '../client/index.js';
import { checkUsable, connectionStateOf, deadlineOf, waitForWake, type ConnectionStateTracker } from './connection-state.js';
import { createProtected, makePath, nodeName, sortLockNodes, validatePath } from './paths.js';
import { deleteQuietly, isCode, retrying } from './retry.js';

interface LockDecision {
  getsTheLock: boolean;
  /** Child name to wait on when not. */
  watch?: string;
}

/** What differs between lock kinds (Curator's LockInternalsDriver). */
export interface LockDriver {
  /** Names sorted by sequence, e.g. both `__READ__` and `__WRIT__` for the read/write lock. */
  lockNames: string[];
  getsTheLock(sorted: string[], ourName: string, maxLeases: number): LockDecision;
  /** A fixed sequence to create a plain ephemeral node with, instead of a sequential one. */
  sortingSequence?(): string | null;
}

export const standardDriver = (lockName: string): LockDriver => ({
  lockNames: [lockName],
  getsTheLock(sorted, ourName, maxLeases) {
    const i = sorted.indexOf(ourName);
    if (i < 0) throw new LockNodeMissing(ourName);
    return i < maxLeases ? { getsTheLock: true } : { getsTheLock: false, watch: sorted[i - maxLeases]! };
  },
});

/** Our lock node disappeared while waiting (its session was lost): start over. */
export class LockNodeMissing extends Error {
  constructor(name: string) {
    super(`lock node ${name} not found`);
  }
}

interface AttemptOptions {
  timeout_ms?: number;
  signal?: AbortSignal;
  data?: Buffer | null;
}

export class LockInternals {
  readonly basePath: string;
  readonly tracker: ConnectionStateTracker;
  private readonly nodePrefix: string;

  constructor(
    readonly client: ZooKeeperClient,
    basePath: string,
    readonly lockName: string,
    readonly maxLeases: number,
    readonly driver: LockDriver,
  ) {
    this.basePath = validatePath(basePath);
    this.nodePrefix = makePath(this.basePath, lockName);
    this.tracker = connectionStateOf(client);
  }

  /** Lock node names under the base path, sorted by sequence (foreign children left out). */
  async sortedChildren(): Promise<string[]> {
    try {
      return sortLockNodes(await retrying(this.client, () => this.client.getChildren(this.basePath)), this.driver.lockNames);
    } catch (e) {
      if (isCode(e, Err.NoNode)) return [];
      throw e;
    }
  }

  /** Our lock node's path once held; null when the time ran out (our node is then deleted). */
  async attemptLock(opts: AttemptOptions = {}): Promise<string | null> {
    const deadline_ms = deadlineOf(opts.timeout_ms);
    for (let attempt = 0; ; attempt++) {
      checkUsable(this.tracker, opts.signal);
      const seq = this.driver.sortingSequence?.() ?? null;
      const ourPath =
        seq === null
          ? await createProtected(this.client, this.nodePrefix, opts.data ?? null, CreateMode.EPHEMERAL_SEQUENTIAL)
          : await createProtected(this.client, this.nodePrefix + seq, opts.data ?? null, CreateMode.EPHEMERAL);
      try {
        if (await this.lockLoop(ourPath, deadline_ms, opts.signal)) return ourPath;
        await deleteQuietly(this.client, ourPath);
        return null;
      } catch (e) {
        await deleteQuietly(this.client, ourPath).catch(() => {});
        // A vanished node means a lost session on a still-live client: try again a few times, as Curator's retry policy.
        if (!(e instanceof LockNodeMissing) || attempt >= 3) throw e;
      }
    }
  }

  private async lockLoop(ourPath: string, deadline_ms: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const ourName = nodeName(ourPath);
    for (;;) {
      checkUsable(this.tracker, signal);
      const decision = this.driver.getsTheLock(await this.sortedChildren(), ourName, this.maxLeases);
      if (decision.getsTheLock) return true;
      const watchPath = makePath(this.basePath, decision.watch!);
      // getData rather than exists: a watch is left only if the node is there (Curator does the same).
      const woke = await waitForWake(this.tracker, (wake) => this.client.getData(watchPath, wake).catch(wake), { deadline_ms, signal });
      if (!woke) return false;
    }
  }
}
