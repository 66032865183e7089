/** A fluent multi builder: `await client.transaction().create(...).setData(...).commit()`. */
import type { ZooKeeperClient } from './client.js';
import { op, type CreateOptions, type Data, type Op, type OpResult } from './ops.js';

export class Transaction {
  readonly ops: Op[] = [];
  constructor(private readonly client: ZooKeeperClient) {}
  create(path: string, data: Data = null, opts: CreateOptions & { withStat?: boolean } = {}): this {
    this.ops.push(op.create(path, data, opts));
    return this;
  }
  delete(path: string, version = -1): this {
    this.ops.push(op.delete(path, version));
    return this;
  }
  setData(path: string, data: Data, version = -1): this {
    this.ops.push(op.setData(path, data, version));
    return this;
  }
  check(path: string, version: number): this {
    this.ops.push(op.check(path, version));
    return this;
  }
  commit(): Promise<OpResult[]> {
    return this.client.multi(this.ops);
  }
}
