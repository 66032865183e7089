/**
 * Quota bookkeeping (Quotas, StatsTrack and the quota half of DataTree): a path has a quota when
 * /zookeeper/quota<path>/zookeeper_limits exists; every create, delete and setData below it
 * updates the count and bytes in /zookeeper/quota<path>/zookeeper_stats, in place (no txn, no
 * watch, no Stat change), exactly as ZooKeeper does. Limits are not enforced (enforceQuota off).
 */
export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMIT_NODE = 'zookeeper_limits';
export const STAT_NODE = 'zookeeper_stats';

export function statPath(prefix: string): string {
  return `${QUOTA_ROOT}${prefix}/${STAT_NODE}`;
}

export function trimQuotaPath(quotaPath: string): string {
  return quotaPath.substring(QUOTA_ROOT.length);
}

/** StatsTrack: "count=N,bytes=M" plus optional extra keys after "=;" (hard limits). */
export function parseStats(data: Buffer | null): Map<string, bigint> {
  const m = new Map<string, bigint>();
  const s = data === null ? '' : data.toString('utf8');
  if (s.length === 0) return m;
  for (const pair of s.split(/[,;]+/)) {
    const kv = pair.split('=');
    if (kv.length < 2 || kv[0] === undefined) continue;
    const v = kv[1] === '' || kv[1] === undefined ? '-1' : kv[1];
    if (/^[+-]?\d+$/.test(v)) m.set(kv[0], BigInt(v));
  }
  return m;
}

export function formatStats(m: ReadonlyMap<string, bigint>): Buffer {
  let out = `count=${m.get('count') ?? -1n},bytes=${m.get('bytes') ?? -1n}`;
  const extra = [...m.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
  if (extra.length > 0) {
    out += '=';
    for (const k of extra) out += `;${k}=${m.get(k)}`;
  }
  return Buffer.from(out, 'utf8');
}

/** The quota'd paths (ZooKeeper's PathTrie), longest-prefix lookup by walking up the path. */
export class QuotaPrefixes {
  private readonly paths = new Set<string>();

  add(p: string): void {
    this.paths.add(p);
  }

  delete(p: string): void {
    this.paths.delete(p);
  }

  get size(): number {
    return this.paths.size;
  }

  /** The longest quota'd ancestor-or-self of `path`, or undefined (the root never counts). */
  maxPrefix(path: string): string | undefined {
    if (this.paths.size === 0) return undefined;
    let p = path;
    while (p.length > 1) {
      if (this.paths.has(p)) return p;
      const i = p.lastIndexOf('/');
      if (i <= 0) break;
      p = p.substring(0, i);
    }
    return undefined;
  }
}
