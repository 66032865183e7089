/** Session state changes as an async iterator (ends after a terminal state or close()). */
import { KeeperState } from '../proto/opcodes.js';

/** States after which a client never changes state again. */
const TERMINAL: ReadonlySet<number> = new Set([KeeperState.Expired, KeeperState.AuthFailed, KeeperState.Closed]);
/** States buffered for a reader that does not keep up. */
const STATE_STREAM_EVENTS_MAX = 10_000;

export class StateStream implements AsyncIterableIterator<KeeperState> {
  private readonly queue: KeeperState[] = [];
  private waiter: ((r: IteratorResult<KeeperState>) => void) | null = null;
  private done = false;
  private readonly unsubscribe: () => void;

  constructor(subscribe: (listener: (s: KeeperState) => void) => () => void) {
    this.unsubscribe = subscribe((s) => this.push(s));
  }

  private push(s: KeeperState): void {
    if (this.done) return;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w({ value: s, done: false });
    } else if (this.queue.length < STATE_STREAM_EVENTS_MAX) {
      this.queue.push(s);
    }
    if (TERMINAL.has(s)) this.finish();
  }

  private finish(): void {
    this.done = true;
    this.unsubscribe();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<KeeperState>> {
    const s = this.queue.shift();
    if (s !== undefined) return Promise.resolve({ value: s, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  async return(): Promise<IteratorResult<KeeperState>> {
    this.close();
    return { value: undefined, done: true };
  }

  close(): void {
    this.queue.length = 0;
    this.finish();
    if (this.waiter !== null) {
      this.waiter({ value: undefined, done: true });
      this.waiter = null;
    }
  }
}
