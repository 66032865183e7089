/**
 * CuratorCache: a local copy of a subtree kept current through one persistent recursive watch
 * (as Curator's CuratorCache). Changes come as events or from an async iterator; after a
 * reconnect the whole tree is read again and the differences reported, since events during the
 * disconnection are not delivered.
 */
import { EventEmitter, on } from 'node:events';
import { Err, EventType, WatcherType, type Stat, type WatchedEvent, type ZooKeeperClient } from '../client/index.js';
import { connectionStateOf, type ConnectionState, type ConnectionStateTracker } from './connection-state.js';
import { RecipeError } from './errors.js';
import { makePath, validatePath } from './paths.js';
import { isCode, retrying } from './retry.js';

export interface ChildData {
  path: string;
  data: Buffer | null;
  stat: Stat;
}

export type CacheChange =
  | { type: 'created'; node: ChildData }
  | { type: 'changed'; old: ChildData; node: ChildData }
  | { type: 'deleted'; old: ChildData }
  /** The first full load finished. */
  | { type: 'initialized' };

interface CuratorCacheEvents {
  change: [CacheChange];
  error: [Error];
}

export class CuratorCache extends EventEmitter<CuratorCacheEvents> {
  private readonly root: string;
  private readonly tracker: ConnectionStateTracker;
  private readonly nodes = new Map<string, ChildData>();
  private state: 'LATENT' | 'STARTED' | 'CLOSED' = 'LATENT';
  /** Updates run one at a time, in event order. */
  private chain: Promise<void> = Promise.resolve();
  private readonly watcher = (ev: WatchedEvent): void => {
    if (ev.path === null || this.state !== 'STARTED') return;
    const path = ev.path;
    if (ev.type === EventType.NodeDeleted) this.step(async () => this.removeTree(path));
    else if (ev.type === EventType.NodeCreated || ev.type === EventType.NodeDataChanged) this.step(() => this.refreshNode(path));
  };
  private readonly onConnState = (s: ConnectionState): void => {
    if (s === 'RECONNECTED') this.step(() => this.refreshAll());
  };

  constructor(
    private readonly client: ZooKeeperClient,
    path: string,
  ) {
    super();
    this.root = validatePath(path);
    this.tracker = connectionStateOf(client);
  }

  /** Adds the watch and loads the tree; resolves after the 'initialized' change. */
  async start(): Promise<void> {
    if (this.state !== 'LATENT') throw new RecipeError('a CuratorCache can be started only once');
    this.state = 'STARTED';
    this.tracker.on('state', this.onConnState);
    await retrying(this.client, () => this.client.addWatch(this.root, 'persistentRecursive', this.watcher));
    this.step(async () => {
      await this.refreshAll();
      this.emit('change', { type: 'initialized' });
    });
    await this.chain;
  }

  async close(): Promise<void> {
    if (this.state !== 'STARTED') return;
    this.state = 'CLOSED';
    this.tracker.off('state', this.onConnState);
    if (this.client.isAlive) await this.client.removeWatches(this.root, WatcherType.PersistentRecursive, this.watcher).catch(() => {});
  }

  get(path: string): ChildData | undefined {
    return this.nodes.get(path);
  }

  /** Every cached node (root included, if it exists). */
  entries(): ChildData[] {
    return [...this.nodes.values()];
  }

  /** Changes from now on, until `signal` aborts. */
  async *changes(signal?: AbortSignal): AsyncGenerator<CacheChange> {
    try {
      for await (const [c] of on(this, 'change', signal ? { signal } : {})) yield c as CacheChange;
    } catch (e) {
      if (!(e instanceof Error && e.name === 'AbortError')) throw e;
    }
  }

  private step(f: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.state !== 'STARTED') return;
      try {
        await f();
      } catch (e) {
        if (this.tracker.terminalError() === null && this.listenerCount('error') > 0) this.emit('error', e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Reads a node again; a missing node is removed with its subtree. */
  private async refreshNode(path: string): Promise<void> {
    let read: { data: Buffer | null; stat: Stat };
    try {
      read = await retrying(this.client, () => this.client.getData(path));
    } catch (e) {
      if (isCode(e, Err.NoNode)) return this.removeTree(path);
      throw e;
    }
    this.put({ path, data: read.data, stat: read.stat });
  }

  private put(node: ChildData): void {
    const old = this.nodes.get(node.path);
    if (old !== undefined && old.stat.mzxid >= node.stat.mzxid && old.stat.czxid === node.stat.czxid) return;
    this.nodes.set(node.path, node);
    this.emit('change', old === undefined ? { type: 'created', node } : { type: 'changed', old, node });
  }

  private removeTree(path: string): void {
    for (const [p, old] of [...this.nodes]) {
      if (p === path || p.startsWith(path === '/' ? '/' : `${path}/`)) {
        this.nodes.delete(p);
        this.emit('change', { type: 'deleted', old });
      }
    }
  }

  /** Reads the whole subtree and reports what differs from the cache. */
  private async refreshAll(): Promise<void> {
    const seen = new Set<string>();
    const walk = async (path: string): Promise<void> => {
      let children: string[];
      try {
        const { data, stat } = await retrying(this.client, () => this.client.getData(path));
        children = await retrying(this.client, () => this.client.getChildren(path));
        seen.add(path);
        this.put({ path, data, stat });
      } catch (e) {
        if (isCode(e, Err.NoNode)) return;
        throw e;
      }
      for (const c of children) await walk(makePath(path, c));
    };
    await walk(this.root);
    for (const p of [...this.nodes.keys()]) if (!seen.has(p)) this.removeTree(p);
  }
}
