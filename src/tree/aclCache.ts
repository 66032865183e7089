import type { ACL } from '../proto/records.js';
import { Perms } from '../proto/opcodes.js';

/** world:anyone with every permission (ZooDefs.Ids.OPEN_ACL_UNSAFE). */
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }]);
/** world:anyone read-only (ZooDefs.Ids.READ_ACL_UNSAFE). */
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }]);
/** The index ZooKeeper reserves for OPEN_ACL_UNSAFE given as "no list" (null). */
export const OPEN_UNSAFE_ACL_INDEX = -1n;

function aclKey(acl: readonly ACL[]): string {
  let k = '';
  for (const a of acl) k += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`;
  return k;
}

/**
 * ACL lists shared between znodes and named by a long index, as ZooKeeper's
 * ReferenceCountedACLCache does; snapshots store this map and each node's index.
 */
export class AclCache {
  private readonly byIndex = new Map<bigint, { acl: readonly ACL[]; refs: number }>();
  private readonly byKey = new Map<string, bigint>();
  private lastIndex = 0n;

  /** Index for a list, registering it (and counting one more user). */
  acquire(acl: readonly ACL[]): bigint {
    const key = aclKey(acl);
    const found = this.byKey.get(key);
    if (found !== undefined) {
      this.byIndex.get(found)!.refs++;
      return found;
    }
    const index = ++this.lastIndex;
    this.byIndex.set(index, { acl: Object.freeze(acl.map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id } }))), refs: 1 });
    this.byKey.set(key, index);
    return index;
  }

  release(index: bigint): void {
    if (index === OPEN_UNSAFE_ACL_INDEX) return;
    const e = this.byIndex.get(index);
    if (e === undefined) return;
    if (--e.refs <= 0) {
      this.byIndex.delete(index);
      this.byKey.delete(aclKey(e.acl));
    }
  }

  get(index: bigint): readonly ACL[] {
    if (index === OPEN_UNSAFE_ACL_INDEX) return OPEN_ACL_UNSAFE;
    const e = this.byIndex.get(index);
    if (e === undefined) throw new Error(`ACL index ${index} not in the cache`);
    return e.acl;
  }

  /** (index, ACL list) pairs, for a snapshot. */
  *entries(): IterableIterator<[bigint, readonly ACL[]]> {
    for (const [i, e] of this.byIndex) yield [i, e.acl];
  }

  get size(): number {
    return this.byIndex.size;
  }

  /** Restores an entry read from a snapshot (reference count starts at 0; nodes add theirs). */
  restore(index: bigint, acl: readonly ACL[]): void {
    const key = aclKey(acl);
    this.byIndex.set(index, { acl: Object.freeze([...acl]), refs: 0 });
    this.byKey.set(key, index);
    if (index > this.lastIndex) this.lastIndex = index;
  }

  /** Counts one more node using an existing index (snapshot load). */
  addUsage(index: bigint): void {
    if (index === OPEN_UNSAFE_ACL_INDEX) return;
    const e = this.byIndex.get(index);
    if (e === undefined) throw new Error(`ACL index ${index} not in the cache`);
    e.refs++;
  }

  /** Drops entries no node uses (after a snapshot load). */
  purgeUnused(): void {
    for (const [i, e] of this.byIndex) {
      if (e.refs <= 0) {
        this.byIndex.delete(i);
        this.byKey.delete(aclKey(e.acl));
      }
    }
  }
}
