import type { Stat, StatPersisted } from '../proto/records.js';
import { ephemeralKind } from './ephemeralType.js';

/**
 * One znode as the tree keeps it, and as a snapshot stores it (DataNode: data, ACL index,
 * StatPersisted) plus its child names. Fields are mutated in place by the tree only.
 */
export class DataNode {
  constructor(
    /** null is kept distinct from an empty buffer, as ZooKeeper keeps it. */
    public data: Buffer | null,
    /** Index into the tree's AclCache (-1 = OPEN_ACL_UNSAFE). */
    public acl: bigint,
    public readonly stat: StatPersisted,
    public readonly children: Set<string> = new Set(),
  ) {}

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
