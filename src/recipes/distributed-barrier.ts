/**
 * DistributedBarrier: Curator's barrier. The barrier is up while its node exists; waiters watch
 * the node and pass once it is deleted.
 */
import { CreateMode, Err, type ZooKeeperClient } from '../client/index.js';
import { checkUsable, connectionStateOf, waitForWake, type ConnectionStateTracker } from './connection-state.js';
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
    const deadline_ms = timeout_ms === undefined ? undefined : Date.now() + timeout_ms;
    for (;;) {
      checkUsable(this.tracker, opts.signal);
      let changed = (): void => {};
      const armed = new Promise<void>((r) => (changed = r));
      if ((await retrying(this.client, () => this.client.exists(this.path, () => changed()))) === null) return true;
      const waitOpts = { ...(deadline_ms !== undefined ? { deadline_ms } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
      if (!(await waitForWake(this.tracker, (wake) => void armed.then(wake), waitOpts))) return false;
    }
  }
}
