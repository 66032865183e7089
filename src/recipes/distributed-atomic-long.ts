/**
 * DistributedAtomicLong: Curator's counter. The node holds a 64-bit big-endian long (absent or
 * empty reads as 0); changes are optimistic: read with its version, write conditional on it,
 * retry on conflict up to the retry policy, then report failure (succeeded false).
 */
import { Err, CreateMode, type ZooKeeperClient } from '../client/index.js';
import { RecipeError } from './errors.js';
import { createWithParents, validatePath } from './paths.js';
import { isCode, pause, retrying } from './retry.js';

export interface AtomicValue {
  succeeded: boolean;
  preValue: bigint;
  postValue: bigint;
}

export interface AtomicRetryPolicy {
  /** Extra tries after the first (Curator's RetryNTimes n). */
  retries: number;
  sleep_ms: number;
}

export class DistributedAtomicLong {
  private readonly path: string;

  constructor(
    private readonly client: ZooKeeperClient,
    path: string,
    private readonly retryPolicy: AtomicRetryPolicy = { retries: 10, sleep_ms: 10 },
  ) {
    this.path = validatePath(path);
  }

  async get(): Promise<AtomicValue> {
    const { value } = await this.read();
    return { succeeded: true, preValue: value, postValue: value };
  }

  /** Creates the node with `initial` if it does not exist; false if it did. */
  async initialize(initial: bigint): Promise<boolean> {
    try {
      await retrying(this.client, () => createWithParents(this.client, this.path, toBytes(initial), CreateMode.PERSISTENT));
      return true;
    } catch (e) {
      if (isCode(e, Err.NodeExists)) return false;
      throw e;
    }
  }

  /** Sets the value unconditionally. */
  async forceSet(v: bigint): Promise<void> {
    try {
      await retrying(this.client, () => this.client.setData(this.path, toBytes(v)));
    } catch (e) {
      if (!isCode(e, Err.NoNode)) throw e;
      if (!(await this.initialize(v))) await retrying(this.client, () => this.client.setData(this.path, toBytes(v)));
    }
  }

  /** Sets `v` if the value is `expected` (one try; a missing node never matches). */
  async compareAndSet(expected: bigint, v: bigint): Promise<AtomicValue> {
    const cur = await this.read();
    const result = { succeeded: false, preValue: cur.value, postValue: cur.value };
    if (cur.version < 0 || !cur.bytes?.equals(toBytes(expected))) return result;
    try {
      await this.client.setData(this.path, toBytes(v), cur.version);
      return { ...result, succeeded: true, postValue: v };
    } catch (e) {
      if (isCode(e, Err.BadVersion) || isCode(e, Err.NoNode)) return result;
      throw e;
    }
  }

  trySet(v: bigint): Promise<AtomicValue> {
    return this.optimistic(() => v);
  }

  increment(): Promise<AtomicValue> {
    return this.add(1n);
  }

  decrement(): Promise<AtomicValue> {
    return this.add(-1n);
  }

  subtract(delta: bigint): Promise<AtomicValue> {
    return this.add(-delta);
  }

  add(delta: bigint): Promise<AtomicValue> {
    return this.optimistic((prev) => BigInt.asIntN(64, prev + delta));
  }

  private async optimistic(make: (prev: bigint) => bigint): Promise<AtomicValue> {
    let last: AtomicValue = { succeeded: false, preValue: 0n, postValue: 0n };
    for (let attempt = 0; attempt <= this.retryPolicy.retries; attempt++) {
      if (attempt > 0) await pause(this.retryPolicy.sleep_ms);
      const cur = await this.read();
      const next = make(cur.value);
      last = { succeeded: false, preValue: cur.value, postValue: cur.value };
      try {
        if (cur.version < 0) await createWithParents(this.client, this.path, toBytes(next), CreateMode.PERSISTENT);
        else await this.client.setData(this.path, toBytes(next), cur.version);
        return { succeeded: true, preValue: cur.value, postValue: next };
      } catch (e) {
        // A conflict (or a connection loss, after which we cannot know): read again and retry.
        if (!(isCode(e, Err.BadVersion) || isCode(e, Err.NodeExists) || isCode(e, Err.NoNode) || isCode(e, Err.ConnectionLoss))) throw e;
        if (!this.client.isAlive) throw e;
      }
    }
    return last;
  }

  private async read(): Promise<{ value: bigint; version: number; bytes: Buffer | null }> {
    try {
      const { data, stat } = await retrying(this.client, () => this.client.getData(this.path));
      return { value: fromBytes(data, this.path), version: stat.version, bytes: data };
    } catch (e) {
      if (isCode(e, Err.NoNode)) return { value: 0n, version: -1, bytes: null };
      throw e;
    }
  }
}

function toBytes(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt.asIntN(64, v));
  return b;
}

function fromBytes(b: Buffer | null, path: string): bigint {
  if (b === null || b.length === 0) return 0n;
  if (b.length < 8) throw new RecipeError(`corrupted data for node ${path}: ${b.length} bytes, not an 8-byte long`);
  return b.readBigInt64BE(0);
}
