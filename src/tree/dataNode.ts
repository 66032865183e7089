import type { JuteWriter } from '../jute/index.js';
import type { Stat, StatPersisted } from '../proto/records.js';
import { ephemeralKind } from './ephemeralType.js';
import { indexInPage, type NodeStore, type Page } from './nodeStore.js';

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

/**
 * One znode (DataNode in ZooKeeper: data, ACL index, StatPersisted, child names) as a view of its
 * slot in the tree's NodeStore; getters read the node as it is now. Change it only through the
 * tree. Using one after its znode was deleted throws, as the slot may hold another znode by then.
 */
export class DataNode {
  private readonly generation: number;

  constructor(
    private readonly store: NodeStore,
    readonly slot: number,
  ) {
    this.generation = store.page(slot).generation[indexInPage(slot)]!;
  }

  private page(): Page {
    const p = this.store.page(this.slot);
    if (p.generation[indexInPage(this.slot)] !== this.generation) throw new Error('DataNode used after its znode was deleted');
    return p;
  }

  /** null is kept distinct from an empty buffer, as ZooKeeper keeps it. */
  get data(): Buffer | null {
    this.page();
    return this.store.data(this.slot);
  }

  /** Index into the tree's AclCache (-1 = OPEN_ACL_UNSAFE). */
  get acl(): bigint {
    return BigInt(this.page().acl(indexInPage(this.slot)));
  }

  /** A copy: changing it does not change the node. */
  get stat(): StatPersisted {
    this.page();
    return this.store.stat(this.slot);
  }

  /** The zxid that created the node. */
  get createdZxid(): number {
    return this.page().czxid[indexInPage(this.slot)]!;
  }

  /** Writes the node's StatPersisted straight from its columns (a snapshot of millions makes no records). */
  writeStat(w: JuteWriter): void {
    this.page();
    this.store.writeStat(this.slot, w);
  }

  /** Child names (not paths), a fresh set in creation order. */
  get children(): ReadonlySet<string> {
    this.page();
    return new Set(this.store.childNames(this.slot));
  }

  get numChildren(): number {
    return this.page().childCount(indexInPage(this.slot));
  }

  /** Child names in the order ZooKeeper 3.8 lists them (see NodeStore.childNamesInZkOrder). */
  childrenInZkOrder(): readonly string[] {
    this.page();
    return this.store.childNamesInZkOrder(this.slot);
  }

  /**
   * The client-visible Stat (DataNode.copyStat): the stored cversion counts creates only, the
   * client sees creates + deletes (2 × cversion − numChildren); containers and TTL nodes show
   * ephemeralOwner 0.
   */
  toStat(): Stat {
    const p = this.page();
    const i = indexInPage(this.slot);
    const n = p.childCount(i);
    const owner = p.ephemeralOwner(i);
    // Read from the columns into the one object a reply carries (every read and write makes one).
    return {
      czxid: BigInt(p.czxid[i]!),
      mzxid: BigInt(p.mzxid(i)),
      ctime: BigInt(p.ctime[i]!),
      mtime: BigInt(p.mtime(i)),
      version: p.version(i),
      cversion: (p.cversion(i) * 2 - n) | 0,
      aversion: p.aversion(i),
      ephemeralOwner: owner !== 0n && ephemeralKind(owner) === 'normal' ? owner : 0n,
      dataLength: p.dataLength[i]!,
      numChildren: n,
      pzxid: BigInt(p.pzxid(i)),
    };
  }
}

export function createStat(zxid: bigint, time: bigint, ephemeralOwner: bigint): StatPersisted {
  return { czxid: zxid, mzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, ephemeralOwner, pzxid: zxid };
}
