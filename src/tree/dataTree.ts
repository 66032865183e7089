import { EventType } from '../proto/opcodes.js';
import { Err, KeeperError } from '../proto/errors.js';
import type { ACL, Stat, StatPersisted } from '../proto/records.js';
import { AclCache, OPEN_UNSAFE_ACL_INDEX, READ_ACL_UNSAFE } from './aclCache.js';
import { DataNode, createStat, emptyStatPersisted, javaCloneCapacity, javaGrownCapacity, javaHashOrder } from './dataNode.js';
import { DigestSum, nodeDigest } from './digest.js';
import { ephemeralKind } from './ephemeralType.js';
import { childName, parentKey } from './paths.js';
import { WatchManager, type Watcher, type WatcherMode } from './watchManager.js';
import { LIMIT_NODE, QUOTA_ROOT, QuotaPrefixes, STAT_NODE, formatStats, parseStats, statPath, trimQuotaPath } from './quota.js';

export const ROOT_PATH = '/';
export const PROC_PATH = '/zookeeper';
export const QUOTA_PATH = '/zookeeper/quota';
export const CONFIG_PATH = '/zookeeper/config';
/** Changed nodes whose digest may wait for the next read before it is computed anyway. */
const DIGEST_STALE_MAX = 65_536;

/**
 * The data tree (DataTree in ZooKeeper): every znode by path, ephemerals by session, the
 * container and TTL sets, and the two watch tables. The root is keyed both '' and '/'.
 * Mutations trigger watches exactly as ZooKeeper 3.8 does.
 */
export class DataTree {
  private readonly nodeMap = new Map<string, DataNode>();
  readonly aclCache = new AclCache();
  private readonly ephemeralsBySession = new Map<bigint, Set<string>>();
  /** Largest size each session's ephemeral set reached (ZooKeeper's HashSet capacity follows it). */
  private readonly ephemeralsMaxSize = new Map<bigint, number>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  readonly dataWatches = new WatchManager();
  readonly childWatches = new WatchManager();
  lastProcessedZxid = 0n;
  /** Paths with a quota (a zookeeper_limits node under /zookeeper/quota). */
  readonly quotas = new QuotaPrefixes();
  /**
   * ZooKeeper's tree digest, computed lazily: a changed node's counted digest leaves the sum at
   * once and its new one is computed when the digest is next read, so a node changed by many txns
   * between two reads (a parent under a burst of creates) is hashed once.
   */
  private readonly digestSum = new DigestSum();
  /** Nodes whose digest is not in the sum, with their paths. */
  private readonly digestStale = new Map<DataNode, string>();

  /** A tree with /, /zookeeper, /zookeeper/quota and /zookeeper/config, as a fresh ZooKeeper has. */
  constructor(opts: { empty?: boolean } = {}) {
    if (opts.empty === true) return;
    const root = new DataNode(Buffer.alloc(0), OPEN_UNSAFE_ACL_INDEX, emptyStatPersisted());
    this.nodeMap.set('', root);
    this.nodeMap.set(ROOT_PATH, root);
    root.addChild('zookeeper');
    const proc = new DataNode(Buffer.alloc(0), OPEN_UNSAFE_ACL_INDEX, emptyStatPersisted());
    this.nodeMap.set(PROC_PATH, proc);
    proc.addChild('quota');
    this.nodeMap.set(QUOTA_PATH, new DataNode(Buffer.alloc(0), OPEN_UNSAFE_ACL_INDEX, emptyStatPersisted()));
    proc.addChild('config');
    // ZooKeeper sets the config node's ACL with version -1, which leaves aversion at -1.
    const config = new DataNode(Buffer.alloc(0), this.aclCache.acquire(READ_ACL_UNSAFE), emptyStatPersisted());
    config.stat.aversion = -1;
    this.nodeMap.set(CONFIG_PATH, config);
    this.digestAdded(ROOT_PATH, root);
    this.digestAdded(PROC_PATH, proc);
  }

  /** The tree digest ZooKeeper 3.8 computes (digest version 2), as a signed 64-bit value. */
  get digest(): bigint {
    this.countStaleDigests();
    return this.digestSum.value;
  }

  /** The digest of the node at `path` as it stands (what a change to it takes out of the tree's). */
  nodeDigestOf(path: string, node: DataNode): number {
    return this.digestStale.has(node) ? nodeDigest(path, node.data, node.stat) : node.digest >>> 0;
  }

  private countStaleDigests(): void {
    for (const [node, path] of this.digestStale) {
      const d = nodeDigest(path, node.data, node.stat);
      node.digest = d | 0;
      this.digestSum.add(d);
    }
    this.digestStale.clear();
  }

  /** `node` is about to change: its counted digest leaves the sum until the next read. */
  private digestChanging(path: string, node: DataNode): void {
    if (this.digestStale.has(node)) return;
    this.digestSum.add(-(node.digest >>> 0));
    this.digestStale.set(node, path);
    // Bounded even when nobody reads the digest (digest.enabled=false).
    if (this.digestStale.size >= DIGEST_STALE_MAX) this.countStaleDigests();
  }

  private digestAdded(path: string, node: DataNode): void {
    this.digestStale.set(node, path);
    if (this.digestStale.size >= DIGEST_STALE_MAX) this.countStaleDigests();
  }

  private digestRemoved(node: DataNode): void {
    if (!this.digestStale.delete(node)) this.digestSum.add(-(node.digest >>> 0));
  }

  static isSpecialPath(path: string): boolean {
    return path === ROOT_PATH || path === PROC_PATH || path === QUOTA_PATH || path === CONFIG_PATH;
  }

  getNode(path: string): DataNode | undefined {
    return this.nodeMap.get(path);
  }

  /** Number of znodes (the root counted once). */
  get nodeCount(): number {
    return this.nodeMap.size - (this.nodeMap.has('') && this.nodeMap.has(ROOT_PATH) ? 1 : 0);
  }

  /** Every (path, node), root as '/' and not repeated as ''; for snapshots and dumps. */
  *nodes(): IterableIterator<[string, DataNode]> {
    for (const [p, n] of this.nodeMap) if (p !== '') yield [p, n];
  }

  aclOf(node: DataNode): readonly ACL[] {
    return this.aclCache.get(node.acl);
  }

  /**
   * Puts a node with its full stat, data and ACL index into the tree (snapshot load). The parent
   * must already be there (insert parents first); '' or '/' replaces the root.
   */
  insertNode(path: string, data: Buffer | null, aclIndex: bigint, stat: StatPersisted): DataNode {
    const node = new DataNode(data, aclIndex, { ...stat });
    this.aclCache.addUsage(aclIndex);
    if (path === '' || path === ROOT_PATH) {
      const old = this.nodeMap.get('');
      if (old !== undefined) {
        for (const c of old.children) node.addChild(c);
        this.digestRemoved(old);
      }
      this.nodeMap.set('', node);
      this.nodeMap.set(ROOT_PATH, node);
      this.digestAdded(ROOT_PATH, node);
      return node;
    }
    const parent = this.nodeMap.get(parentKey(path));
    if (parent === undefined) throw new Error(`insertNode ${path}: parent missing`);
    const old = this.nodeMap.get(path);
    if (old !== undefined) {
      for (const c of old.children) node.addChild(c);
      this.forgetOwner(path, old.stat.ephemeralOwner);
      this.digestRemoved(old);
    }
    parent.addChild(childName(path));
    this.nodeMap.set(path, node);
    this.digestAdded(path, node);
    this.rememberOwner(path, stat.ephemeralOwner);
    const pk = parentKey(path);
    if (pk.startsWith(QUOTA_ROOT) && childName(path) === LIMIT_NODE) this.quotas.add(trimQuotaPath(pk));
    return node;
  }

  private rememberOwner(path: string, owner: bigint): void {
    switch (ephemeralKind(owner)) {
      case 'container':
        this.containers.add(path);
        break;
      case 'ttl':
        this.ttls.add(path);
        break;
      case 'normal': {
        let s = this.ephemeralsBySession.get(owner);
        if (s === undefined) {
          s = new Set();
          this.ephemeralsBySession.set(owner, s);
        }
        s.add(path);
        if (s.size > (this.ephemeralsMaxSize.get(owner) ?? 0)) this.ephemeralsMaxSize.set(owner, s.size);
        break;
      }
      case 'void':
        break;
    }
  }

  private forgetOwner(path: string, owner: bigint): void {
    switch (ephemeralKind(owner)) {
      case 'container':
        this.containers.delete(path);
        break;
      case 'ttl':
        this.ttls.delete(path);
        break;
      case 'normal': {
        const s = this.ephemeralsBySession.get(owner);
        if (s !== undefined) {
          s.delete(path);
          if (s.size === 0) this.ephemeralsBySession.delete(owner);
        }
        break;
      }
      case 'void':
        break;
    }
  }

  /** DataTree.createNode: throws NoNode (parent missing) or NodeExists. */
  createNode(path: string, data: Buffer | null, acl: readonly ACL[], ephemeralOwner: bigint, parentCVersion: number, zxid: bigint, time: bigint): DataNode {
    const pkey = parentKey(path);
    const parent = this.nodeMap.get(pkey);
    if (parent === undefined) throw new KeeperError(Err.NoNode, path);
    if (this.nodeMap.has(path)) throw new KeeperError(Err.NodeExists, path);
    const aclIndex = this.aclCache.acquire(acl);
    let cv = parentCVersion;
    if (cv === -1) cv = parent.stat.cversion + 1;
    // Replaying a create already in a fuzzy snapshot must not move cversion/pzxid backwards.
    if (cv > parent.stat.cversion) {
      this.digestChanging(pkey, parent);
      parent.stat.cversion = cv;
      parent.stat.pzxid = zxid;
    }
    const child = new DataNode(data, aclIndex, createStat(zxid, time, ephemeralOwner));
    parent.addChild(childName(path));
    this.nodeMap.set(path, child);
    this.digestAdded(path, child);
    this.rememberOwner(path, ephemeralOwner);
    if (pkey.startsWith(QUOTA_ROOT)) {
      const name = childName(path);
      if (name === LIMIT_NODE) this.quotas.add(trimQuotaPath(pkey));
      if (name === STAT_NODE) this.updateQuotaForPath(trimQuotaPath(pkey));
    }
    this.updateQuotaStat(path, data === null ? 0 : data.length, 1);
    this.dataWatches.trigger(path, EventType.NodeCreated, undefined, acl);
    this.childWatches.trigger(pkey === '' ? '/' : pkey, EventType.NodeChildrenChanged, undefined, this.aclOf(parent));
    return child;
  }

  /** DataTree.deleteNode: fires NodeDeleted (data, then child watches not yet told) and the parent's NodeChildrenChanged. */
  deleteNode(path: string, zxid: bigint): void {
    const pkey = parentKey(path);
    const parent = this.nodeMap.get(pkey);
    if (parent === undefined) throw new KeeperError(Err.NoNode, path);
    parent.removeChild(childName(path));
    if (zxid > parent.stat.pzxid) {
      this.digestChanging(pkey, parent);
      parent.stat.pzxid = zxid;
    }
    const node = this.nodeMap.get(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    this.nodeMap.delete(path);
    this.digestRemoved(node);
    const acl = this.aclOf(node);
    this.aclCache.release(node.acl);
    this.forgetOwner(path, node.stat.ephemeralOwner);
    if (pkey.startsWith(PROC_PATH) && childName(path) === LIMIT_NODE) this.quotas.delete(trimQuotaPath(pkey));
    this.updateQuotaStat(path, node.data === null ? 0 : -node.data.length, -1);
    const told = this.dataWatches.trigger(path, EventType.NodeDeleted, undefined, acl);
    this.childWatches.trigger(path, EventType.NodeDeleted, told, acl);
    this.childWatches.trigger(pkey === '' ? '/' : pkey, EventType.NodeChildrenChanged, undefined, this.aclOf(parent));
  }

  setData(path: string, data: Buffer | null, version: number, zxid: bigint, time: bigint): Stat {
    const node = this.nodeMap.get(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    const before = node.data === null ? 0 : node.data.length;
    this.digestChanging(path, node);
    node.data = data;
    node.stat.mtime = time;
    node.stat.mzxid = zxid;
    node.stat.version = version;
    this.updateQuotaStat(path, (data === null ? 0 : data.length) - before, 0);
    this.dataWatches.trigger(path, EventType.NodeDataChanged, undefined, this.aclOf(node));
    return node.toStat();
  }

  setACL(path: string, acl: readonly ACL[], aversion: number): Stat {
    const node = this.nodeMap.get(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    this.aclCache.release(node.acl);
    this.digestChanging(path, node);
    node.stat.aversion = aversion;
    node.acl = this.aclCache.acquire(acl);
    return node.toStat();
  }

  /** Adds to the count/bytes of the quota covering `path`, if any (DataTree.updateQuotaStat). */
  private updateQuotaStat(path: string, bytesDiff: number, countDiff: number): void {
    const prefix = this.quotas.maxPrefix(path);
    if (prefix === undefined) return;
    const node = this.nodeMap.get(statPath(prefix));
    if (node === undefined) return;
    const st = parseStats(node.data);
    st.set('count', (st.get('count') ?? -1n) + BigInt(countDiff));
    st.set('bytes', (st.get('bytes') ?? -1n) + BigInt(bytesDiff));
    node.data = formatStats(st);
  }

  /** Recounts a quota'd subtree into its stats node (DataTree.updateQuotaForPath). */
  private updateQuotaForPath(prefix: string): void {
    let count = 0n;
    let bytes = 0n;
    const stack = [prefix];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const n = this.nodeMap.get(p);
      if (n === undefined) continue;
      count++;
      bytes += BigInt(n.data === null ? 0 : n.data.length);
      for (const c of n.children) stack.push(`${p}/${c}`);
    }
    const node = this.nodeMap.get(statPath(prefix));
    if (node === undefined) return;
    node.data = formatStats(
      new Map([
        ['count', count],
        ['bytes', bytes],
      ]),
    );
  }

  /** Sets cversion/pzxid when they move forward (createNode replay of a node already gone). */
  setCversionPzxid(path: string, cversion: number, zxid: bigint): void {
    const node = this.nodeMap.get(path === '/' ? '' : path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    if (cversion > node.stat.cversion) {
      this.digestChanging(path, node);
      node.stat.cversion = cversion;
      node.stat.pzxid = zxid;
    }
  }

  // ---- reads (watch registration included) ----

  getData(path: string, watcher?: Watcher): { data: Buffer | null; stat: Stat } {
    const node = this.nodeMap.get(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    if (watcher !== undefined) this.dataWatches.add(path, watcher);
    return { data: node.data, stat: node.toStat() };
  }

  /** exists: sets the watch even when the node is absent (it then fires on NodeCreated). */
  statNode(path: string, watcher?: Watcher): Stat {
    if (watcher !== undefined) this.dataWatches.add(path, watcher);
    const node = this.nodeMap.get(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    return node.toStat();
  }

  getChildren(path: string, watcher?: Watcher): { children: string[]; stat: Stat } {
    const node = this.nodeMap.get(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    if (watcher !== undefined) this.childWatches.add(path, watcher);
    return { children: [...node.childrenInZkOrder()], stat: node.toStat() };
  }

  /** Number of descendants (not counting the node itself). */
  getAllChildrenNumber(path: string): number {
    const node = this.nodeMap.get(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    if (path === '/' || path === '') return this.nodeCount - 1;
    let n = 0;
    const stack: string[] = [path];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const nd = this.nodeMap.get(p);
      if (nd === undefined) continue;
      for (const c of nd.children) {
        n++;
        stack.push(`${p}/${c}`);
      }
    }
    return n;
  }

  /**
   * The session's ephemeral paths (a copy), iterating in the order ZooKeeper's copy of its
   * HashSet iterates (getEphemerals and closeSession list them in that order).
   */
  getEphemerals(sessionId: bigint): Set<string> {
    const s = this.ephemeralsBySession.get(sessionId);
    if (s === undefined) return new Set();
    const original = javaHashOrder(s, javaGrownCapacity(16, this.ephemeralsMaxSize.get(sessionId) ?? s.size));
    return new Set(javaHashOrder(original, javaCloneCapacity(s.size)));
  }

  /** Forgets a closed session's ephemeral bookkeeping. */
  forgetSession(sessionId: bigint): void {
    this.ephemeralsMaxSize.delete(sessionId);
  }

  /** Sessions with ephemerals and their paths (for dump / cons). */
  ephemeralsMap(): ReadonlyMap<bigint, ReadonlySet<string>> {
    return this.ephemeralsBySession;
  }

  get ephemeralCount(): number {
    let n = 0;
    for (const s of this.ephemeralsBySession.values()) n += s.size;
    return n;
  }

  /** Sum of path lengths and data sizes (DataTree.approximateDataSize). */
  approximateDataSize(): number {
    let n = 0;
    for (const [p, node] of this.nodeMap) n += p.length + (node.data === null ? 0 : node.data.length);
    return n;
  }

  // ---- watches ----

  /** addWatch puts the watch in both tables whatever the mode, as ZooKeeper 3.8 does. */
  addWatch(path: string, watcher: Watcher, mode: 'persistent' | 'persistentRecursive'): void {
    this.dataWatches.add(path, watcher, mode);
    this.childWatches.add(path, watcher, mode);
  }

  /** WatcherType: 1 children, 2 data, 3 any; 3.8 knows no other type here. */
  containsWatcher(path: string, type: number, watcher: Watcher): boolean {
    if (type === 1) return this.childWatches.contains(path, watcher);
    if (type === 2) return this.dataWatches.contains(path, watcher);
    if (type === 3) return this.childWatches.contains(path, watcher) || this.dataWatches.contains(path, watcher);
    return false;
  }

  removeWatch(path: string, type: number, watcher: Watcher): boolean {
    if (type === 1) return this.childWatches.remove(path, watcher);
    if (type === 2) return this.dataWatches.remove(path, watcher);
    if (type === 3) {
      const c = this.childWatches.remove(path, watcher);
      const d = this.dataWatches.remove(path, watcher);
      return c || d;
    }
    return false;
  }

  removeWatcher(watcher: Watcher): void {
    this.dataWatches.removeWatcher(watcher);
    this.childWatches.removeWatcher(watcher);
  }

  /**
   * Re-arms a reconnecting client's watches (DataTree.setWatches): anything that changed after
   * relativeZxid fires at once instead of being set.
   */
  setWatches(
    relativeZxid: bigint,
    dataWatches: readonly string[],
    existWatches: readonly string[],
    childWatches: readonly string[],
    persistentWatches: readonly string[],
    persistentRecursiveWatches: readonly string[],
    watcher: Watcher,
  ): void {
    const fire = (type: EventType, path: string): void => watcher.process({ type, state: 3, path });
    for (const p of dataWatches) {
      const n = this.nodeMap.get(p);
      if (n === undefined) fire(EventType.NodeDeleted, p);
      else if (n.stat.mzxid > relativeZxid) fire(EventType.NodeDataChanged, p);
      else this.dataWatches.add(p, watcher);
    }
    for (const p of existWatches) {
      if (this.nodeMap.has(p)) fire(EventType.NodeCreated, p);
      else this.dataWatches.add(p, watcher);
    }
    for (const p of childWatches) {
      const n = this.nodeMap.get(p);
      if (n === undefined) fire(EventType.NodeDeleted, p);
      else if (n.stat.pzxid > relativeZxid) fire(EventType.NodeChildrenChanged, p);
      else this.childWatches.add(p, watcher);
    }
    for (const p of persistentWatches) {
      this.childWatches.add(p, watcher, 'persistent');
      this.dataWatches.add(p, watcher, 'persistent');
    }
    for (const p of persistentRecursiveWatches) {
      this.childWatches.add(p, watcher, 'persistentRecursive');
      this.dataWatches.add(p, watcher, 'persistentRecursive');
    }
  }

  watchModeOf(path: string, watcher: Watcher): { data?: WatcherMode; child?: WatcherMode } {
    const d = this.dataWatches.modeOf(path, watcher);
    const c = this.childWatches.modeOf(path, watcher);
    return { ...(d === undefined ? {} : { data: d }), ...(c === undefined ? {} : { child: c }) };
  }
}
