import type { Stat, StatPersisted } from '../proto/records.js';
import { ephemeralKind } from './ephemeralType.js';

/**
 * One znode as the tree keeps it, and as a snapshot stores it (DataNode: data, ACL index,
 * StatPersisted) plus its child names. Fields are mutated in place by the tree only.
 */
/** Leaves share one empty set (most znodes have no children; a Set each costs memory). */
const NO_CHILDREN: ReadonlySet<string> = new Set<string>();

export class DataNode {
  private kids: Set<string> | undefined;

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
    (this.kids ??= new Set()).add(name);
  }

  removeChild(name: string): boolean {
    const k = this.kids;
    if (k === undefined || !k.delete(name)) return false;
    if (k.size === 0) this.kids = undefined;
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
