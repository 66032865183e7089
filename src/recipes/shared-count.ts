/**
 * SharedCount: Curator's shared integer. The node holds the count as 4 bytes, big-endian; a
 * set conditional on the version last seen (trySetCount) fails if anyone changed it since.
 * Listeners hear every change seen through a data watch.
 */
import { EventEmitter } from 'node:events';
import { CreateMode, Err, type ZooKeeperClient } from '../client/index.js';
import { connectionStateOf, type ConnectionState, type ConnectionStateTracker } from './connection-state.js';
import { RecipeError } from './errors.js';
import { createWithParents, validatePath } from './paths.js';
import { isCode, retrying } from './retry.js';

export interface VersionedValue<T> {
  /** The znode version the value was read at (-1 before the first read). */
  version: number;
  value: T;
}

interface SharedCountEvents {
  countChanged: [number];
  stateChanged: [ConnectionState];
  error: [Error];
}

export class SharedCount extends EventEmitter<SharedCountEvents> {
  private readonly path: string;
  private readonly tracker: ConnectionStateTracker;
  private current: VersionedValue<number>;
  private state: 'LATENT' | 'STARTED' | 'CLOSED' = 'LATENT';
  private readonly onConnState = (s: ConnectionState): void => {
    this.emit('stateChanged', s);
    if (s === 'RECONNECTED') this.readQuietly();
  };

  constructor(
    private readonly client: ZooKeeperClient,
    path: string,
    private readonly seedValue: number,
  ) {
    super();
    this.path = validatePath(path);
    checkInt(seedValue);
    this.current = { version: -1, value: seedValue };
    this.tracker = connectionStateOf(client);
  }

  /** Creates the node with the seed value if missing, then reads it and starts watching. */
  async start(): Promise<void> {
    if (this.state !== 'LATENT') throw new RecipeError('a SharedCount can be started only once');
    this.state = 'STARTED';
    this.tracker.on('state', this.onConnState);
    try {
      await retrying(this.client, () => createWithParents(this.client, this.path, toBytes(this.seedValue), CreateMode.PERSISTENT));
    } catch (e) {
      if (!isCode(e, Err.NodeExists)) throw e;
    }
    await this.read();
  }

  close(): void {
    this.state = 'CLOSED';
    this.tracker.off('state', this.onConnState);
  }

  getCount(): number {
    return this.current.value;
  }

  getVersionedValue(): VersionedValue<number> {
    return { ...this.current };
  }

  /** Sets the count whatever it was. */
  async setCount(n: number): Promise<void> {
    checkInt(n);
    const stat = await retrying(this.client, () => this.client.setData(this.path, toBytes(n)));
    this.update(stat.version, n);
  }

  /** Sets the count only if it is unchanged since `previous` was read; false (and a fresh read) if not. */
  async trySetCount(previous: VersionedValue<number>, n: number): Promise<boolean> {
    checkInt(n);
    try {
      const stat = await this.client.setData(this.path, toBytes(n), previous.version);
      this.update(stat.version, n);
      return true;
    } catch (e) {
      if (!isCode(e, Err.BadVersion)) throw e;
    }
    await this.read();
    return false;
  }

  private async read(): Promise<void> {
    const { data, stat } = await retrying(this.client, () =>
      this.client.getData(this.path, (ev) => {
        if (ev.path !== null && this.state === 'STARTED') this.readQuietly();
      }),
    );
    this.update(stat.version, fromBytes(data));
  }

  private readQuietly(): void {
    if (this.state !== 'STARTED') return;
    this.read().catch((e: unknown) => {
      if (this.tracker.terminalError() === null && this.listenerCount('error') > 0) this.emit('error', e instanceof Error ? e : new Error(String(e)));
    });
  }

  /** Keeps the newest version only (reads and sets can finish out of order). */
  private update(version: number, value: number): void {
    if (version <= this.current.version) return;
    const changed = value !== this.current.value;
    this.current = { version, value };
    if (changed) this.emit('countChanged', value);
  }
}

function checkInt(n: number): void {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RecipeError(`count must be a 32-bit integer, not ${n}`);
}

function toBytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function fromBytes(b: Buffer | null): number {
  if (b === null || b.length < 4) throw new RecipeError('SharedCount node does not hold a 4-byte count');
  return b.readInt32BE(0);
}
