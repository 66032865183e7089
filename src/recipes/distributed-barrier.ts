/**
 * DistributedBarrier: Curator's barrier. The barrier is up while its node exists; waiters watch
 * the node and pass once it is deleted.
 */
import { CreateMode, Err, type ZooKeeperClient } from '../client/index.js';
import { checkUsable, connectionStateOf, deadlineOf, waitForWake, watchFired, type ConnectionStateTracker } from './connection-state.js';
import { createWithParents, validatePath } from './paths.js';
import { isCode, retrying } from './retry.js';

export class DistributedBarrier {
  private readonly path: string;
  private readonly tracker: ConnectionStateTracker;

  constructor(
    private readonly client: ZooKeeperClient,
    path: string,
  ) {
    this.path = validatePath(path);
    this.tracker = connectionStateOf(client);
  }

  /** Raises the barrier (creates its node; already up is fine). */
  async setBarrier(): Promise<void> {
    try {
      await retrying(this.client, () => createWithParents(this.client, this.path, null, CreateMode.PERSISTENT));
    } catch (e) {
      if (!isCode(e, Err.NodeExists)) throw e;
    }
  }

  /** Lowers the barrier (deletes its node; already down is fine). */
  async removeBarrier(): Promise<void> {
    try {
      await retrying(this.client, () => this.client.delete(this.path));
    } catch (e) {
      if (!isCode(e, Err.NoNode)) throw e;
    }
  }

  /** True once the barrier is down; false if `timeout_ms` passes first. */
  async waitOnBarrier(timeout_ms?: number, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const deadline_ms = deadlineOf(timeout_ms);
    for (;;) {
      checkUsable(this.tracker, opts.signal);
      const { watcher, fired } = watchFired();
      if ((await retrying(this.client, () => this.client.exists(this.path, watcher))) === null) return true;
      if (!(await waitForWake(this.tracker, fired, { deadline_ms, signal: opts.signal }))) return false;
    }
  }
}
