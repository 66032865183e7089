import type { Stat, StatPersisted } from '../proto/records.js';

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

  /** The client-visible Stat (StatPersisted + dataLength + numChildren). */
  toStat(): Stat {
    const s = this.stat;
    return {
      czxid: s.czxid,
      mzxid: s.mzxid,
      ctime: s.ctime,
      mtime: s.mtime,
      version: s.version,
      cversion: s.cversion,
      aversion: s.aversion,
      ephemeralOwner: s.ephemeralOwner,
      dataLength: this.data === null ? 0 : this.data.length,
      numChildren: this.children.size,
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
