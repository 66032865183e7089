/**
 * DistributedDoubleBarrier: Curator's double barrier. enter() adds an ephemeral `<path>/<uuid>`
 * and waits until `memberQty` members are in (the last one creates `<path>/ready`); leave()
 * removes ours and waits until every member has left, in Curator's order (lowest node leaves
 * last, watching the highest; the others watch the lowest).
 */
import { randomUUID } from 'node:crypto';
import { CreateMode, Err, type ZooKeeperClient } from '../client/index.js';
import { checkUsable, connectionStateOf, deadlineOf, waitForWake, watchFired, type ConnectionStateTracker } from './connection-state.js';
import { RecipeError } from './errors.js';
import { createWithParents, makePath, nodeName, validatePath } from './paths.js';
import { deleteQuietly, isCode, retrying } from './retry.js';

const READY_NODE = 'ready';

export class DistributedDoubleBarrier {
  private readonly path: string;
  private readonly ourPath: string;
  private readonly readyPath: string;
  private readonly tracker: ConnectionStateTracker;

  constructor(
    private readonly client: ZooKeeperClient,
    path: string,
    private readonly memberQty: number,
  ) {
    this.path = validatePath(path);
    if (!Number.isInteger(memberQty) || memberQty < 1) throw new RecipeError('memberQty must be an integer >= 1');
    this.ourPath = makePath(this.path, randomUUID());
    this.readyPath = makePath(this.path, READY_NODE);
    this.tracker = connectionStateOf(client);
  }

  /** True once `memberQty` members have entered; false if `timeout_ms` passes first (our node stays, as in Curator). */
  async enter(timeout_ms?: number, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const w = { deadline_ms: deadlineOf(timeout_ms), signal: opts.signal };
    let ready = watchFired();
    const readyExists = (await retrying(this.client, () => this.client.exists(this.readyPath, ready.watcher))) !== null;
    try {
      await retrying(this.client, () => createWithParents(this.client, this.ourPath, null, CreateMode.EPHEMERAL));
    } catch (e) {
      if (!isCode(e, Err.NodeExists)) throw e; // a retried create that had happened
    }
    if (readyExists) return true;
    for (;;) {
      checkUsable(this.tracker, opts.signal);
      const children = await retrying(this.client, () => this.client.getChildren(this.path));
      if (children.length >= this.memberQty) {
        try {
          await retrying(this.client, () => this.client.create(this.readyPath));
        } catch (e) {
          if (!isCode(e, Err.NodeExists)) throw e;
        }
        return true;
      }
      if (!(await waitForWake(this.tracker, ready.fired, w))) return false;
      // Watch again: a state change woke us, or ready appeared.
      ready = watchFired();
      if ((await retrying(this.client, () => this.client.exists(this.readyPath, ready.watcher))) !== null) return true;
    }
  }

  /** True once every member has left; false if `timeout_ms` passes first. */
  async leave(timeout_ms?: number, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const w = { deadline_ms: deadlineOf(timeout_ms), signal: opts.signal };
    const ours = nodeName(this.ourPath);
    let ourNodeShouldExist = true;
    let result = true;
    for (;;) {
      checkUsable(this.tracker, opts.signal);
      let children: string[];
      try {
        children = await retrying(this.client, () => this.client.getChildren(this.path));
      } catch (e) {
        if (!isCode(e, Err.NoNode)) throw e;
        children = [];
      }
      children = children.filter((c) => c !== READY_NODE).sort();
      if (children.length === 0) break;
      const i = children.indexOf(ours);
      if (i < 0 && ourNodeShouldExist) throw new RecipeError(`our barrier node ${this.ourPath} is missing (session lost?)`);
      if (children.length === 1) {
        if (ourNodeShouldExist && children[0] !== ours) throw new RecipeError(`last barrier node ${children[0]} is not ours (${ours})`);
        if (ourNodeShouldExist) await deleteQuietly(this.client, this.ourPath);
        break;
      }
      const { watcher, fired } = watchFired();
      const watchOn = makePath(this.path, i === 0 ? children[children.length - 1]! : children[0]!);
      const stat = await retrying(this.client, () => this.client.exists(watchOn, watcher));
      if (i !== 0) {
        if (ourNodeShouldExist) await deleteQuietly(this.client, this.ourPath);
        ourNodeShouldExist = false;
      }
      if (stat !== null && !(await waitForWake(this.tracker, fired, w))) {
        result = false;
        break;
      }
    }
    try {
      await retrying(this.client, () => this.client.delete(this.readyPath));
    } catch (e) {
      if (!isCode(e, Err.NoNode)) throw e;
    }
    return result;
  }
}
