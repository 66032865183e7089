/**
 * Curator's connection states for a ZooKeeperClient: CONNECTED on the first session, SUSPENDED
 * when the connection drops, RECONNECTED when it comes back, LOST when the session expires or
 * when the client has been suspended for a whole session timeout (Curator 5 treats that as
 * expiry too, since the ensemble will have expired it). One tracker per client, shared by every
 * recipe on it.
 */
import { EventEmitter } from 'node:events';
import { Err, KeeperError, KeeperState, type ZooKeeperClient } from '../client/index.js';
import { RecipeError } from './errors.js';

export type ConnectionState = 'CONNECTED' | 'SUSPENDED' | 'RECONNECTED' | 'LOST' | 'READ_ONLY';

interface ConnectionStateEvents {
  state: [ConnectionState];
  /** The client was closed: nothing will work on it again. */
  closed: [];
}

export class ConnectionStateTracker extends EventEmitter<ConnectionStateEvents> {
  state: ConnectionState | null = null;
  private lostTimer: NodeJS.Timeout | null = null;

  constructor(readonly client: ZooKeeperClient) {
    super();
    this.setMaxListeners(0);
    if (client.state === 'connected') this.state = 'CONNECTED';
    else if (client.state === 'connectedReadOnly') this.state = 'READ_ONLY';
    client.onState((s) => this.onKeeperState(s));
  }

  /** The error a recipe reports when its client can no longer serve it, or null while it can. */
  terminalError(): Error | null {
    switch (this.client.state) {
      case 'closed':
        return new RecipeError('the ZooKeeper client was closed');
      case 'expired':
        return new KeeperError(Err.SessionExpired);
      case 'authFailed':
        return new KeeperError(Err.AuthFailed);
      default:
        return null;
    }
  }

  private set(s: ConnectionState): void {
    this.state = s;
    this.emit('state', s);
  }

  private onKeeperState(s: KeeperState): void {
    switch (s) {
      case KeeperState.SyncConnected:
        this.clearLostTimer();
        if (this.state === null) this.set('CONNECTED');
        else if (this.state === 'SUSPENDED' || this.state === 'LOST' || this.state === 'READ_ONLY') this.set('RECONNECTED');
        break;
      case KeeperState.ConnectedReadOnly:
        this.clearLostTimer();
        this.set('READ_ONLY');
        break;
      case KeeperState.Disconnected:
        if (this.state === 'SUSPENDED' || this.state === 'LOST') break;
        this.set('SUSPENDED');
        this.lostTimer = setTimeout(() => {
          this.lostTimer = null;
          if (this.state === 'SUSPENDED') this.set('LOST');
        }, this.client.sessionTimeout_ms);
        this.lostTimer.unref();
        break;
      case KeeperState.Expired:
      case KeeperState.AuthFailed:
        this.clearLostTimer();
        if (this.state !== 'LOST') this.set('LOST');
        this.emit('closed');
        break;
      case KeeperState.Closed:
        this.clearLostTimer();
        this.emit('closed');
        break;
    }
  }

  private clearLostTimer(): void {
    if (this.lostTimer !== null) clearTimeout(this.lostTimer);
    this.lostTimer = null;
  }
}

const trackers = new WeakMap<ZooKeeperClient, ConnectionStateTracker>();

/** The client's shared connection-state tracker (made on first use). */
export function connectionStateOf(client: ZooKeeperClient): ConnectionStateTracker {
  let t = trackers.get(client);
  if (t === undefined) {
    t = new ConnectionStateTracker(client);
    trackers.set(client, t);
  }
  return t;
}

export interface WaitOptions {
  /** Absolute Date.now() deadline; none waits without limit. */
  deadline_ms?: number;
  signal?: AbortSignal;
}

/** A watcher to pass with a read, and a promise settled when it fires (any event). */
export function watchFired(): { watcher: () => void; fired: Promise<void> } {
  let watcher = (): void => {};
  const fired = new Promise<void>((r) => (watcher = () => r()));
  return { watcher, fired };
}

/**
 * Waits until `wakeOn` settles or calls its `wake` (true), the deadline passes (false), or a
 * connection state changes (true, so the caller looks again). Rejects when `signal` aborts or
 * the client can no longer serve (closed, expired).
 */
export function waitForWake(
  tracker: ConnectionStateTracker,
  wakeOn: Promise<unknown> | ((wake: () => void) => void),
  opts: WaitOptions = {},
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      tracker.off('state', onState);
      tracker.off('closed', onClosed);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const finish = (v: boolean): void => {
      cleanup();
      resolve(v);
    };
    const onState = (): void => finish(true);
    const onClosed = (): void => {
      cleanup();
      reject(tracker.terminalError() ?? new RecipeError('the ZooKeeper client was closed'));
    };
    const onAbort = (): void => {
      cleanup();
      reject(opts.signal?.reason instanceof Error ? opts.signal.reason : new RecipeError('aborted'));
    };
    if (opts.signal?.aborted) return onAbort();
    if (tracker.terminalError() !== null) return onClosed();
    tracker.on('state', onState);
    tracker.on('closed', onClosed);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.deadline_ms !== undefined) {
      const left_ms = opts.deadline_ms - Date.now();
      if (left_ms <= 0) return finish(false);
      timer = setTimeout(() => finish(false), left_ms);
    }
    const wake = (): void => finish(true);
    if (typeof wakeOn === 'function') wakeOn(wake);
    else wakeOn.then(wake, wake);
  });
}

/** The Date.now() deadline `timeout_ms` from now; undefined (no limit) for undefined. */
export function deadlineOf(timeout_ms: number | undefined): number | undefined {
  return timeout_ms === undefined ? undefined : Date.now() + timeout_ms;
}

/** Throws if the signal aborted or the client can no longer serve. */
export function checkUsable(tracker: ConnectionStateTracker, signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new RecipeError('aborted');
  const e = tracker.terminalError();
  if (e !== null) throw e;
}
