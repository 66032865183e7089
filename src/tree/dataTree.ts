import { EventType } from '../proto/opcodes.js';
import { JuteReader } from '../jute/index.js';
import { Err, KeeperError } from '../proto/errors.js';
import type { ACL, Stat, StatPersisted } from '../proto/records.js';
import { AclCache, OPEN_UNSAFE_ACL_INDEX, READ_ACL_UNSAFE } from './aclCache.js';
import { DataNode, javaCloneCapacity, javaGrownCapacity, javaHashOrder } from './dataNode.js';
import { DigestSum, nodeDigestOf } from './digest.js';
import { NodeStore, exactNumber, indexInPage, type FrozenNodes } from './nodeStore.js';
import { ephemeralKind } from './ephemeralType.js';
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
 * container and TTL sets, and the two watch tables. The root is found by both '' and '/'. Paths
 * are not stored: a znode is its parent's slot plus its name (NodeStore), found by walking the
 * path's components through the store's child index.
 * Mutations trigger watches exactly as ZooKeeper 3.8 does.
 */
/** A tree at one instant, for a snapshot written in a worker thread (see DataTree.freeze). */
export interface FrozenTree {
  nodes: FrozenNodes;
  acls: [bigint, readonly ACL[]][];
}

export class DataTree {
  private readonly store: NodeStore;
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
  /** Slots whose digest is not in the sum, with their paths. */
  private readonly digestStale = new Map<number, string>();

  /** A tree with /, /zookeeper, /zookeeper/quota and /zookeeper/config, as a fresh ZooKeeper has. */
  constructor(opts: { empty?: boolean } = {}, frozen?: FrozenTree) {
    this.store = new NodeStore(frozen?.nodes);
    for (const [i, acl] of frozen?.acls ?? []) this.aclCache.restore(i, acl);
    if (opts.empty === true || frozen !== undefined) return;
    const root = this.newSlot(Buffer.alloc(0), OPEN_UNSAFE_ACL_INDEX);
    this.store.linkRoot(root);
    const proc = this.newSlot(Buffer.alloc(0), OPEN_UNSAFE_ACL_INDEX);
    this.linkChild(proc, root, PROC_PATH);
    this.linkChild(this.newSlot(Buffer.alloc(0), OPEN_UNSAFE_ACL_INDEX), proc, QUOTA_PATH);
    // ZooKeeper sets the config node's ACL with version -1, which leaves aversion at -1.
    const config = this.newSlot(Buffer.alloc(0), this.aclCache.acquire(READ_ACL_UNSAFE));
    this.store.page(config).setAversion(indexInPage(config), -1);
    this.linkChild(config, proc, CONFIG_PATH);
    this.digestAdded(ROOT_PATH, root);
    this.digestAdded(PROC_PATH, proc);
  }

  private newSlot(data: Buffer | null, aclIndex: bigint): number {
    const slot = this.store.alloc();
    this.store.setData(slot, data);
    this.store.page(slot).setAcl(indexInPage(slot), Number(aclIndex));
    return slot;
  }

  /** Links `slot` as the child of `parent` at `path` (its name is what follows the last '/'). */
  private linkChild(slot: number, parent: number, path: string): void {
    this.store.link(slot, parent, path, path.lastIndexOf('/') + 1);
  }

  /** Slot of the znode at `path`, or -1. */
  private slotOf(path: string): number {
    return this.store.lookup(path);
  }

  private aclIndexOf(slot: number): bigint {
    return BigInt(this.store.page(slot).acl(indexInPage(slot)));
  }

  private ownerOf(slot: number): bigint {
    return this.store.page(slot).ephemeralOwner(indexInPage(slot));
  }

  private dataLengthOf(slot: number): number {
    return this.store.page(slot).dataLength[indexInPage(slot)]!;
  }

  /** Its nodes and ACLs as they are now, to thaw in another thread (the columns copied, data and names shared). */
  freeze(): FrozenTree {
    return { nodes: this.store.freeze(), acls: [...this.aclCache.entries()] };
  }

  /** A frozen tree, for walks and reads of its nodes (nodes(), getNode('')); not for lookups by path, watches or changes. */
  static thaw(f: FrozenTree): DataTree {
    return new DataTree({}, f);
  }

  /** The tree digest ZooKeeper 3.8 computes (digest version 2), as a signed 64-bit value. */
  get digest(): bigint {
    this.countStaleDigests();
    return this.digestSum.value;
  }

  /** The digest of the node at `path` as it stands (what a change to it takes out of the tree's). */
  nodeDigestOf(path: string, node: DataNode): number {
    return this.slotDigest(path, node.slot);
  }

  private slotDigest(path: string, slot: number): number {
    return this.digestStale.has(slot) ? this.store.digestOf(slot, path, nodeDigestOf) : this.store.page(slot).digest[indexInPage(slot)]! >>> 0;
  }

  private countStaleDigests(): void {
    for (const [slot, path] of this.digestStale) {
      const d = this.store.digestOf(slot, path, nodeDigestOf);
      this.store.page(slot).digest[indexInPage(slot)] = d | 0;
      this.digestSum.add(d);
    }
    this.digestStale.clear();
  }

  /** The node at `slot` is about to change: its counted digest leaves the sum until the next read. */
  private digestChanging(path: string, slot: number): void {
    if (this.digestStale.has(slot)) return;
    this.digestSum.add(-(this.store.page(slot).digest[indexInPage(slot)]! >>> 0));
    this.digestStale.set(slot, path);
    // Bounded even when nobody reads the digest (digest.enabled=false).
    if (this.digestStale.size >= DIGEST_STALE_MAX) this.countStaleDigests();
  }

  private digestAdded(path: string, slot: number): void {
    this.digestStale.set(slot, path);
    if (this.digestStale.size >= DIGEST_STALE_MAX) this.countStaleDigests();
  }

  /** Counts a node's digest at once (snapshot load: no stale set to go through for a million nodes). */
  private digestCounted(path: string, slot: number): void {
    const d = this.store.digestOf(slot, path, nodeDigestOf);
    this.store.page(slot).digest[indexInPage(slot)] = d | 0;
    this.digestSum.add(d);
  }

  private digestRemoved(slot: number): void {
    if (!this.digestStale.delete(slot)) this.digestSum.add(-(this.store.page(slot).digest[indexInPage(slot)]! >>> 0));
  }

  static isSpecialPath(path: string): boolean {
    return path === ROOT_PATH || path === PROC_PATH || path === QUOTA_PATH || path === CONFIG_PATH;
  }

  /** A view of the znode at `path` (see DataNode: do not keep it past the znode's deletion). */
  getNode(path: string): DataNode | undefined {
    const slot = this.slotOf(path);
    return slot < 0 ? undefined : new DataNode(this.store, slot);
  }

  /** Number of znodes (the root counted once). */
  get nodeCount(): number {
    return this.store.linked;
  }

  /**
   * Every (path, node) in pre-order (the root as '/' first, every parent before its children), for
   * snapshots and dumps. It may be consumed across event-loop turns while the tree changes, as a
   * fuzzy snapshot is: a node's children are listed when the node is visited; one deleted before
   * its turn is skipped, one created after its parent's visit is not seen (its create comes later).
   */
  *nodes(): IterableIterator<[string, DataNode]> {
    const store = this.store;
    if (store.root < 0) return;
    yield [ROOT_PATH, new DataNode(store, store.root)];
    const stack: { prefix: string; kids: number[]; at: number }[] = [{ prefix: '', kids: store.childSlotsAndGenerations(store.root), at: 0 }];
    while (stack.length > 0) {
      const f = stack[stack.length - 1]!;
      if (f.at >= f.kids.length) {
        stack.pop();
        continue;
      }
      const slot = f.kids[f.at++]!;
      const generation = f.kids[f.at++]!;
      if (!store.isLive(slot, generation)) continue;
      const path = `${f.prefix}/${store.name(slot)}`;
      yield [path, new DataNode(store, slot)];
      if (store.isLive(slot, generation) && store.childCountOf(slot) > 0) stack.push({ prefix: path, kids: store.childSlotsAndGenerations(slot), at: 0 });
    }
  }

  aclOf(node: DataNode): readonly ACL[] {
    return this.aclCache.get(node.acl);
  }

  /**
   * Puts a node with its full stat, data and ACL index into the tree (snapshot load). The parent
   * must already be there (insert parents first); '' or '/' replaces the root. The stat may be
   * read straight from a snapshot's bytes (a reader at the StatPersisted, left past it).
   */
  insertNode(path: string, data: Buffer | null, aclIndex: bigint, stat: StatPersisted | JuteReader): DataNode {
    const isRoot = path === '' || path === ROOT_PATH;
    const slash = path.lastIndexOf('/');
    const parent = isRoot ? -1 : this.parentForInsert(path, slash);
    if (!isRoot && parent < 0) throw new Error(`insertNode ${path}: parent missing`);
    const found = isRoot ? this.store.root : this.store.child(parent, path, slash + 1, path.length);
    const old = found < 0 ? undefined : found;
    let slot: number;
    if (old !== undefined) {
      // Replaced in place: the slot keeps its children.
      this.digestRemoved(old);
      if (!isRoot) this.forgetOwner(path, this.ownerOf(old));
      this.aclCache.addUsage(aclIndex);
      this.aclCache.release(this.aclIndexOf(old));
      slot = old;
    } else {
      this.aclCache.addUsage(aclIndex);
      slot = this.store.alloc();
    }
    if (stat instanceof JuteReader) this.store.readStat(slot, stat);
    else this.store.setStat(slot, stat);
    this.store.setData(slot, data);
    this.store.page(slot).setAcl(indexInPage(slot), Number(aclIndex));
    if (isRoot) {
      if (old === undefined) this.store.linkRoot(slot);
      this.digestCounted(ROOT_PATH, slot);
      return new DataNode(this.store, slot);
    }
    if (old === undefined) this.store.link(slot, parent, path, slash + 1);
    this.digestCounted(path, slot);
    this.rememberOwner(path, this.ownerOf(slot));
    const pk = path.substring(0, slash);
    if (pk.startsWith(QUOTA_ROOT) && path.endsWith(`/${LIMIT_NODE}`)) this.quotas.add(trimQuotaPath(pk));
    return new DataNode(this.store, slot);
  }

  /**
   * The parent's slot for insertNode: a snapshot lists siblings one after another, so the last
   * parent found is tried before walking the path.
   */
  private parentForInsert(path: string, slash: number): number {
    const last = this.lastInsertParent;
    if (last !== undefined && last.path.length === slash && path.startsWith(last.path) && this.store.isLive(last.slot, last.generation)) return last.slot;
    const slot = this.store.lookup(path, slash);
    if (slot >= 0) this.lastInsertParent = { path: path.substring(0, slash), slot, generation: this.store.page(slot).generation[indexInPage(slot)]! };
    return slot;
  }
  private lastInsertParent: { path: string; slot: number; generation: number } | undefined;

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
    const slash = path.lastIndexOf('/');
    const pkey = path.substring(0, slash);
    const parent = this.store.lookup(path, slash);
    if (parent < 0) throw new KeeperError(Err.NoNode, path);
    if (path === ROOT_PATH || this.store.child(parent, path, slash + 1, path.length) >= 0) throw new KeeperError(Err.NodeExists, path);
    const z = exactNumber(zxid, 'zxid');
    const t = exactNumber(time, 'time');
    const aclIndex = this.aclCache.acquire(acl);
    const pp = this.store.page(parent);
    const pi = indexInPage(parent);
    let cv = parentCVersion;
    if (cv === -1) cv = pp.cversion(pi) + 1;
    // Replaying a create already in a fuzzy snapshot must not move cversion/pzxid backwards.
    if (cv > pp.cversion(pi)) {
      this.digestChanging(pkey, parent);
      pp.setCversion(pi, cv);
      pp.setPzxid(pi, z);
    }
    const child = this.newSlot(data, aclIndex);
    const cp = this.store.page(child);
    const ci = indexInPage(child);
    // mzxid, pzxid and mtime are held as deltas from czxid and ctime: 0 (as alloc left them) at creation.
    cp.czxid[ci] = z;
    cp.ctime[ci] = t;
    cp.setEphemeralOwner(ci, ephemeralOwner);
    this.store.link(child, parent, path, slash + 1);
    this.digestAdded(path, child);
    this.rememberOwner(path, ephemeralOwner);
    if (pkey.startsWith(QUOTA_ROOT)) {
      const name = path.substring(slash + 1);
      if (name === LIMIT_NODE) this.quotas.add(trimQuotaPath(pkey));
      if (name === STAT_NODE) this.updateQuotaForPath(trimQuotaPath(pkey));
    }
    this.updateQuotaStat(path, data === null ? 0 : data.length, 1);
    this.dataWatches.trigger(path, EventType.NodeCreated, undefined, acl);
    this.childWatches.trigger(pkey === '' ? '/' : pkey, EventType.NodeChildrenChanged, undefined, this.aclCache.get(this.aclIndexOf(parent)));
    return new DataNode(this.store, child);
  }

  /** DataTree.deleteNode: fires NodeDeleted (data, then child watches not yet told) and the parent's NodeChildrenChanged. */
  deleteNode(path: string, zxid: bigint): void {
    const slash = path.lastIndexOf('/');
    const pkey = path.substring(0, slash);
    const parent = this.store.lookup(path, slash);
    if (parent < 0) throw new KeeperError(Err.NoNode, path);
    const z = exactNumber(zxid, 'zxid');
    const pp = this.store.page(parent);
    const pi = indexInPage(parent);
    if (z > pp.pzxid(pi)) {
      this.digestChanging(pkey, parent);
      pp.setPzxid(pi, z);
    }
    const slot = path === ROOT_PATH ? -1 : this.store.child(parent, path, slash + 1, path.length);
    if (slot < 0) throw new KeeperError(Err.NoNode, path);
    if (this.store.childCountOf(slot) > 0) throw new Error(`deleteNode ${path}: it has children`);
    this.digestRemoved(slot);
    const aclIndex = this.aclIndexOf(slot);
    const acl = this.aclCache.get(aclIndex);
    this.aclCache.release(aclIndex);
    this.forgetOwner(path, this.store.page(slot).ephemeralOwner(indexInPage(slot)));
    const length = this.dataLengthOf(slot);
    this.store.release(slot);
    if (pkey.startsWith(PROC_PATH) && path.endsWith(`/${LIMIT_NODE}`)) this.quotas.delete(trimQuotaPath(pkey));
    this.updateQuotaStat(path, -length, -1);
    const told = this.dataWatches.trigger(path, EventType.NodeDeleted, undefined, acl);
    this.childWatches.trigger(path, EventType.NodeDeleted, told, acl);
    this.childWatches.trigger(pkey === '' ? '/' : pkey, EventType.NodeChildrenChanged, undefined, this.aclCache.get(this.aclIndexOf(parent)));
  }

  setData(path: string, data: Buffer | null, version: number, zxid: bigint, time: bigint): Stat {
    const slot = this.slotOf(path);
    if (slot < 0) throw new KeeperError(Err.NoNode, path);
    const z = exactNumber(zxid, 'zxid');
    const t = exactNumber(time, 'time');
    const before = this.dataLengthOf(slot);
    this.digestChanging(path, slot);
    this.store.setData(slot, data);
    const p = this.store.page(slot);
    const i = indexInPage(slot);
    p.setMtime(i, t);
    p.setMzxid(i, z);
    p.setVersion(i, version);
    this.updateQuotaStat(path, (data === null ? 0 : data.length) - before, 0);
    this.dataWatches.trigger(path, EventType.NodeDataChanged, undefined, this.aclCache.get(this.aclIndexOf(slot)));
    return new DataNode(this.store, slot).toStat();
  }

  setACL(path: string, acl: readonly ACL[], aversion: number): Stat {
    const slot = this.slotOf(path);
    if (slot < 0) throw new KeeperError(Err.NoNode, path);
    this.aclCache.release(this.aclIndexOf(slot));
    this.digestChanging(path, slot);
    const p = this.store.page(slot);
    const i = indexInPage(slot);
    p.setAversion(i, aversion);
    p.setAcl(i, Number(this.aclCache.acquire(acl)));
    return new DataNode(this.store, slot).toStat();
  }

  /** Adds to the count/bytes of the quota covering `path`, if any (DataTree.updateQuotaStat). */
  private updateQuotaStat(path: string, bytesDiff: number, countDiff: number): void {
    const prefix = this.quotas.maxPrefix(path);
    if (prefix === undefined) return;
    const slot = this.slotOf(statPath(prefix));
    if (slot < 0) return;
    const st = parseStats(this.store.data(slot));
    st.set('count', (st.get('count') ?? -1n) + BigInt(countDiff));
    st.set('bytes', (st.get('bytes') ?? -1n) + BigInt(bytesDiff));
    this.store.setData(slot, formatStats(st));
  }

  /** Recounts a quota'd subtree into its stats node (DataTree.updateQuotaForPath). */
  private updateQuotaForPath(prefix: string): void {
    let count = 0n;
    let bytes = 0n;
    const top = this.slotOf(prefix);
    const stack = top < 0 ? [] : [top];
    while (stack.length > 0) {
      const n = stack.pop()!;
      count++;
      bytes += BigInt(this.dataLengthOf(n));
      stack.push(...this.store.childSlots(n));
    }
    const slot = this.slotOf(statPath(prefix));
    if (slot < 0) return;
    this.store.setData(
      slot,
      formatStats(
        new Map([
          ['count', count],
          ['bytes', bytes],
        ]),
      ),
    );
  }

  /** Sets cversion/pzxid when they move forward (createNode replay of a node already gone). */
  setCversionPzxid(path: string, cversion: number, zxid: bigint): void {
    const slot = this.slotOf(path);
    if (slot < 0) throw new KeeperError(Err.NoNode, path);
    const p = this.store.page(slot);
    const i = indexInPage(slot);
    if (cversion > p.cversion(i)) {
      this.digestChanging(path, slot);
      p.setCversion(i, cversion);
      p.setPzxid(i, exactNumber(zxid, 'zxid'));
    }
  }

  // ---- reads (watch registration included) ----

  getData(path: string, watcher?: Watcher): { data: Buffer | null; stat: Stat } {
    const node = this.getNode(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    if (watcher !== undefined) this.dataWatches.add(path, watcher);
    return { data: node.data, stat: node.toStat() };
  }

  /** exists: sets the watch even when the node is absent (it then fires on NodeCreated). */
  statNode(path: string, watcher?: Watcher): Stat {
    if (watcher !== undefined) this.dataWatches.add(path, watcher);
    const node = this.getNode(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    return node.toStat();
  }

  getChildren(path: string, watcher?: Watcher): { children: string[]; stat: Stat } {
    const node = this.getNode(path);
    if (node === undefined) throw new KeeperError(Err.NoNode, path);
    if (watcher !== undefined) this.childWatches.add(path, watcher);
    return { children: [...node.childrenInZkOrder()], stat: node.toStat() };
  }

  /** Number of descendants (not counting the node itself). */
  getAllChildrenNumber(path: string): number {
    const node = this.slotOf(path);
    if (node < 0) throw new KeeperError(Err.NoNode, path);
    if (path === '/' || path === '') return this.nodeCount - 1;
    let n = 0;
    const stack = [node];
    while (stack.length > 0) {
      const kids = this.store.childSlots(stack.pop()!);
      n += kids.length;
      for (const c of kids) if (this.store.childCountOf(c) > 0) stack.push(c);
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
    // Over ZooKeeper's map, where the root is keyed both '' and '/'.
    const root = this.store.root;
    if (root < 0) return 0;
    return this.store.pathChars + 1 + this.store.arena.liveBytes + this.dataLengthOf(root);
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
      const n = this.slotOf(p);
      if (n < 0) fire(EventType.NodeDeleted, p);
      else if (this.store.page(n).mzxid(indexInPage(n)) > relativeZxid) fire(EventType.NodeDataChanged, p);
      else this.dataWatches.add(p, watcher);
    }
    for (const p of existWatches) {
      if (this.slotOf(p) >= 0) fire(EventType.NodeCreated, p);
      else this.dataWatches.add(p, watcher);
    }
    for (const p of childWatches) {
      const n = this.slotOf(p);
      if (n < 0) fire(EventType.NodeDeleted, p);
      else if (this.store.page(n).pzxid(indexInPage(n)) > relativeZxid) fire(EventType.NodeChildrenChanged, p);
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
