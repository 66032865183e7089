/** A persistent watch as an async iterator of node events (bounded buffer for slow readers). */
import { EventType, WatcherType } from '../proto/opcodes.js';
import type { ZooKeeperClient } from './client.js';
import type { WatchedEvent, Watcher } from './watch-manager.js';

/** Events buffered for a slow consumer before the stream fails. */
const WATCH_STREAM_EVENTS_MAX = 100_000;

/** An async iterator over a persistent watch's node events. */
export class WatchStream implements AsyncIterableIterator<WatchedEvent> {
  private readonly queue: WatchedEvent[] = [];
  private waiter: { resolve: (r: IteratorResult<WatchedEvent>) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private done = false;
  private readonly watcher: Watcher;
  /** Resolves when the server has registered the watch (rejects if it refused). */
  readonly ready: Promise<void>;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    readonly mode: 'persistent' | 'persistentRecursive',
  ) {
    this.watcher = (ev) => {
      if (this.done || ev.type === EventType.None) return;
      if (this.waiter !== null) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve({ value: ev, done: false });
        return;
      }
      if (this.queue.length >= WATCH_STREAM_EVENTS_MAX) {
        this.fail(new Error(`watch stream on ${path}: more than ${WATCH_STREAM_EVENTS_MAX} unread events`));
        return;
      }
      this.queue.push(ev);
    };
    this.ready = client.addWatch(path, mode, this.watcher);
    this.ready.catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))));
  }

  private fail(e: Error): void {
    this.failure = e;
    this.done = true;
    if (this.waiter !== null) {
      this.waiter.reject(e);
      this.waiter = null;
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<WatchedEvent>> {
    const ev = this.queue.shift();
    if (ev !== undefined) return Promise.resolve({ value: ev, done: false });
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async return(): Promise<IteratorResult<WatchedEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Stops the stream and removes its watch (from the server too, when connected). */
  async close(): Promise<void> {
    if (this.done && this.failure === null && !this.watcherRegistered()) return;
    this.done = true;
    if (this.waiter !== null) {
      this.waiter.resolve({ value: undefined, done: true });
      this.waiter = null;
    }
    const type = this.mode === 'persistent' ? WatcherType.Persistent : WatcherType.PersistentRecursive;
    if (!this.watcherRegistered()) return;
    const live = this.client.state === 'connected' || this.client.state === 'connectedReadOnly';
    try {
      await this.client.removeWatches(this.path, type, this.watcher, !live);
    } catch {
      await this.client.removeWatches(this.path, type, this.watcher, true).catch(() => {});
    }
  }

  private watcherRegistered(): boolean {
    return this.client.watches.has(this.mode, this.path, this.watcher);
  }
}
