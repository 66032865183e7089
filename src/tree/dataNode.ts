import type { Stat, StatPersisted } from '../proto/records.js';
import { ephemeralKind } from './ephemeralType.js';

/**
 * One znode as the tree keeps it, and as a snapshot stores it (DataNode: data, ACL index,
 * StatPersisted) plus its child names. Fields are mutated in place by the tree only.
 */
/** Leaves share one empty set (most znodes have no children; a Set each costs memory). */
const NO_CHILDREN: ReadonlySet<string> = new Set<string>();

/** Java's String.hashCode. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The iteration order of a java.util.HashSet<String> of this capacity whose elements were added
 * in `insertionOrder`: by bucket (spread hash masked by capacity − 1), each bucket in insertion
 * order (resizes keep that order).
 */
export function javaHashOrder(insertionOrder: Iterable<string>, capacity: number): string[] {
  const names = [...insertionOrder];
  if (names.length < 2) return names;
  const mask = capacity - 1;
  const keyed = names.map((n, i) => {
    const h = javaStringHash(n);
    return { n, i, b: (h ^ (h >>> 16)) & mask };
  });
  keyed.sort((x, y) => x.b - y.b || x.i - y.i);
  return keyed.map((x) => x.n);
}

/** HashMap capacity after growing from `initial` to hold `size` entries (load factor 0.75). */
export function javaGrownCapacity(initial: number, size: number): number {
  let cap = initial;
  while (size > cap * 0.75) cap *= 2;
  return cap;
}

/** Capacity of a HashSet clone of `size` entries (HashMap.putMapEntries). */
export function javaCloneCapacity(size: number): number {
  const t = Math.floor(size / 0.75 + 1);
  let cap = 1;
  while (cap < t) cap *= 2;
  return cap;
}

/** Initial capacity ZooKeeper gives a node's child set (new HashSet<>(8)). */
const JAVA_CHILD_SET_INITIAL_CAPACITY = 8;

export class DataNode {
  private kids: Set<string> | undefined;
  /** The table size ZooKeeper's HashSet of children would have now (it grows, never shrinks). */
  private javaCapacity = 0;
  /** childrenInZkOrder's answer until the children change. */
  private ordered: readonly string[] | undefined;
  /** This node's digest as last counted in the tree's (int32, so it stays a small integer); the tree keeps it. */
  digest = 0;

  constructor(
    /** null is kept distinct from an empty buffer, as ZooKeeper keeps it. */
    public data: Buffer | null,
    /** Index into the tree's AclCache (-1 = OPEN_ACL_UNSAFE). */
    public acl: bigint,
    public readonly stat: StatPersisted,
  ) {}

  /** Child names (not paths). Change them only through the tree. */
  get children(): ReadonlySet<string> {
    return this.kids ?? NO_CHILDREN;
  }

  addChild(name: string): void {
    const k = (this.kids ??= new Set());
    k.add(name);
    this.ordered = undefined;
    if (this.javaCapacity === 0) this.javaCapacity = JAVA_CHILD_SET_INITIAL_CAPACITY;
    while (k.size > this.javaCapacity * 0.75) this.javaCapacity *= 2;
  }

  /**
   * Child names in the order ZooKeeper 3.8 lists them: its HashSet iterates by hash bucket
   * (String.hashCode spread, masked by the table size), each bucket in insertion order.
   */
  childrenInZkOrder(): readonly string[] {
    const k = this.kids;
    if (k === undefined) return [];
    return (this.ordered ??= javaHashOrder(k, this.javaCapacity));
  }

  removeChild(name: string): boolean {
    const k = this.kids;
    if (k === undefined || !k.delete(name)) return false;
    this.ordered = undefined;
    return true;
  }

  /**
   * The client-visible Stat (DataNode.copyStat): the stored cversion counts creates only, the
   * client sees creates + deletes (2 × cversion − numChildren); containers and TTL nodes show
   * ephemeralOwner 0.
   */
  toStat(): Stat {
    const s = this.stat;
    const n = this.children.size;
    return {
      czxid: s.czxid,
      mzxid: s.mzxid,
      ctime: s.ctime,
      mtime: s.mtime,
      version: s.version,
      cversion: (s.cversion * 2 - n) | 0,
      aversion: s.aversion,
      ephemeralOwner: ephemeralKind(s.ephemeralOwner) === 'normal' ? s.ephemeralOwner : 0n,
      dataLength: this.data === null ? 0 : this.data.length,
      numChildren: n,
      pzxid: s.pzxid,
    };
  }
}

export function emptyStatPersisted(): StatPersisted {
  return { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0n };
}

export function createStat(zxid: bigint, time: bigint, ephemeralOwner: bigint): StatPersisted {
  return { czxid: zxid, mzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, ephemeralOwner, pzxid: zxid };
}
