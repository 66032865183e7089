/**
 * Every znode's fields in columns, a znode being a slot number: typed arrays in pages of
 * PAGE_SLOTS slots, data bytes in a DataArena. An object per znode with its StatPersisted in
 * bigints cost about 450 B of heap plus 200 B for its Buffer; here a znode costs about 90 B of
 * columns besides its data bytes, and the garbage collector has no per-znode objects to trace.
 *
 * zxids and times are held as doubles, exact below 2^53 (a zxid's epoch below 2^21); a value
 * beyond that stops the server rather than be rounded. ephemeralOwner (a session id, whose top
 * byte is the server id) keeps all 64 bits.
 */
import type { JuteReader, JuteWriter } from '../jute/index.js';
import os from 'node:os';
import { StatPersisted } from '../proto/records.js';
import { ChildIndex, type KeyedSlots } from './childIndex.js';
import { DataArena } from './dataArena.js';
import { javaHashOrder } from './dataNode.js';
import { putLongNumber, type StatWriter } from './digest.js';
import { NameArena, hashChars, hashSeed } from './nameArena.js';

const PAGE_BITS = 12;
const PAGE_SLOTS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SLOTS - 1;
/** dataSlab of a node whose data is null, and of one whose data is empty. */
const NULL_DATA = -1;
const EMPTY_DATA = -2;
const EMPTY = Buffer.alloc(0);

/** parent of the root, and of a free slot. */
const NO_PARENT = -1;
const FREE = -2;
/** No child / no next sibling. */
const NONE = -1;
const SLASH = 0x2f;
/** log2 of the capacity ZooKeeper gives a node's child set (new HashSet<>(8)). */
const JAVA_CHILD_SET_CAPACITY_LOG2 = 3;

/** Bytes of one slot over all columns of a page. */
const SLOT_BYTES = 6 * 8 + 8 + 8 * 4 + 7 * 4 + 1;

/**
 * One page of columns, all views of one ArrayBuffer (one allocation per page); slot s is at index
 * s & PAGE_MASK of page s >>> PAGE_BITS.
 */
export class Page {
  private readonly bytes = new ArrayBuffer(PAGE_SLOTS * SLOT_BYTES);
  readonly czxid = new Float64Array(this.bytes, 0, PAGE_SLOTS);
  readonly mzxid = new Float64Array(this.bytes, PAGE_SLOTS * 8, PAGE_SLOTS);
  readonly pzxid = new Float64Array(this.bytes, PAGE_SLOTS * 16, PAGE_SLOTS);
  readonly ctime = new Float64Array(this.bytes, PAGE_SLOTS * 24, PAGE_SLOTS);
  readonly mtime = new Float64Array(this.bytes, PAGE_SLOTS * 32, PAGE_SLOTS);
  /** ACL cache index (-1 = OPEN_ACL_UNSAFE). */
  readonly acl = new Float64Array(this.bytes, PAGE_SLOTS * 40, PAGE_SLOTS);
  readonly ephemeralOwner = new BigInt64Array(this.bytes, PAGE_SLOTS * 48, PAGE_SLOTS);
  /** The same column as 32-bit words (low word first): copied without making a bigint. */
  readonly ephemeralOwnerWords = new Int32Array(this.bytes, PAGE_SLOTS * 48, PAGE_SLOTS * 2);
  readonly version = new Int32Array(this.bytes, PAGE_SLOTS * 56, PAGE_SLOTS);
  readonly cversion = new Int32Array(this.bytes, PAGE_SLOTS * 60, PAGE_SLOTS);
  readonly aversion = new Int32Array(this.bytes, PAGE_SLOTS * 64, PAGE_SLOTS);
  /** The node's digest as last counted in the tree's (int32). */
  readonly digest = new Int32Array(this.bytes, PAGE_SLOTS * 68, PAGE_SLOTS);
  readonly dataSlab = new Int32Array(this.bytes, PAGE_SLOTS * 72, PAGE_SLOTS);
  readonly dataOffset = new Int32Array(this.bytes, PAGE_SLOTS * 76, PAGE_SLOTS);
  readonly dataLength = new Int32Array(this.bytes, PAGE_SLOTS * 80, PAGE_SLOTS);
  /** Bumped when the slot is freed, so a DataNode kept past its znode's deletion is caught. */
  readonly generation = new Int32Array(this.bytes, PAGE_SLOTS * 84, PAGE_SLOTS);
  /** The tree's shape: parent slot (NO_PARENT for the root, FREE for a free slot) and name. */
  readonly parent = new Int32Array(this.bytes, PAGE_SLOTS * 88, PAGE_SLOTS);
  readonly nameOffset = new Int32Array(this.bytes, PAGE_SLOTS * 92, PAGE_SLOTS);
  /** The name's stored length (see NameArena). */
  readonly nameLength = new Int32Array(this.bytes, PAGE_SLOTS * 96, PAGE_SLOTS);
  /**
   * Children as a list in creation order: firstChild, then nextSibling; prevSibling is circular
   * (the first child's points at the last), so appending and unlinking are O(1).
   */
  readonly firstChild = new Int32Array(this.bytes, PAGE_SLOTS * 100, PAGE_SLOTS);
  readonly nextSibling = new Int32Array(this.bytes, PAGE_SLOTS * 104, PAGE_SLOTS);
  readonly prevSibling = new Int32Array(this.bytes, PAGE_SLOTS * 108, PAGE_SLOTS);
  readonly childCount = new Int32Array(this.bytes, PAGE_SLOTS * 112, PAGE_SLOTS);
  /** log2 of the table size ZooKeeper's HashSet of this node's children would have (grows, never shrinks). */
  readonly javaCapacityLog2 = new Uint8Array(this.bytes, PAGE_SLOTS * 116, PAGE_SLOTS);
}

export function indexInPage(slot: number): number {
  return slot & PAGE_MASK;
}

/** A bigint zxid or time as the exact double the columns hold; past 2^53 the server must stop. */
export function exactNumber(v: bigint, what: string): number {
  if (v > MAX_EXACT || v < -MAX_EXACT)
    throw new Error(`${what} ${v} (0x${v.toString(16)}) is beyond 2^53: tszk holds zxids and times as exact doubles (zxid epoch < 2^21)`);
  return Number(v);
}
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** A big-endian long at `off` as the exact double a column holds (past 2^53: exactNumber's error). */
function readLongNumber(b: Buffer, off: number, what: string): number {
  const hi = b.readInt32BE(off);
  if (hi >= 0x200000 || hi < -0x200000) return exactNumber(b.readBigInt64BE(off), what);
  return hi * 2 ** 32 + b.readUInt32BE(off + 4);
}

/**
 * StatPersisted's fields in wire order: snapshots write and read them straight from and into the
 * columns, laid out by hand for speed, so the order is checked against the record's schema here.
 */
const STAT_WIRE_ORDER = 'czxid,mzxid,ctime,mtime,version,cversion,aversion,ephemeralOwner,pzxid';
if (StatPersisted.fieldNames.join(',') !== STAT_WIRE_ORDER)
  throw new Error(`StatPersisted's fields are ${StatPersisted.fieldNames.join(',')}, not ${STAT_WIRE_ORDER}`);
const STAT_PERSISTED_BYTES = 6 * 8 + 3 * 4;
// ephemeralOwner is copied as two 32-bit words of its column: the low word first on this machine.
if (os.endianness() !== 'LE') throw new Error('tszk assumes a little-endian machine');

export class NodeStore implements KeyedSlots {
  private readonly pages: Page[] = [];
  private readonly free: number[] = [];
  private next = 0;
  readonly arena = new DataArena();
  readonly names = new NameArena();
  private readonly index = new ChildIndex(this);
  /** The root's slot, -1 before there is one. */
  root = NONE;
  /** Linked nodes, the root included. */
  linked = 0;
  /** Sum of the linked nodes' path lengths, the root's not counted (for approximateDataSize). */
  pathChars = 0;
  /** Child names in ZooKeeper's order for nodes listed since their children last changed. */
  private readonly ordered = new Map<number, readonly string[]>();
  /** The slot statWriter lays out. */
  private digestSlot = 0;
  /** Lays out digestSlot's stat for the digest, without a StatPersisted. */
  readonly statWriter: StatWriter = (view, off) => {
    const p = this.page(this.digestSlot);
    const i = this.digestSlot & PAGE_MASK;
    putLongNumber(view, off, p.czxid[i]!);
    putLongNumber(view, off + 8, p.mzxid[i]!);
    putLongNumber(view, off + 16, p.pzxid[i]!);
    putLongNumber(view, off + 24, p.ctime[i]!);
    putLongNumber(view, off + 32, p.mtime[i]!);
    view.setInt32(off + 40, p.version[i]!);
    view.setInt32(off + 44, p.cversion[i]!);
    view.setInt32(off + 48, p.aversion[i]!);
    view.setInt32(off + 52, p.ephemeralOwnerWords[2 * i + 1]!);
    view.setInt32(off + 56, p.ephemeralOwnerWords[2 * i]!);
  };

  page(slot: number): Page {
    return this.pages[slot >>> PAGE_BITS]!;
  }

  /** A fresh slot with null data, no children and zeroed stat. */
  alloc(): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.next++;
      if (slot >>> PAGE_BITS === this.pages.length) this.pages.push(new Page());
    }
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    p.czxid[i] = p.mzxid[i] = p.pzxid[i] = p.ctime[i] = p.mtime[i] = 0;
    p.version[i] = p.cversion[i] = p.aversion[i] = p.digest[i] = 0;
    p.ephemeralOwner[i] = 0n;
    p.acl[i] = -1;
    p.dataSlab[i] = NULL_DATA;
    p.dataLength[i] = 0;
    p.parent[i] = FREE;
    p.nameLength[i] = 0;
    p.firstChild[i] = NONE;
    p.childCount[i] = 0;
    p.javaCapacityLog2[i] = JAVA_CHILD_SET_CAPACITY_LOG2;
    return slot;
  }

  /** Frees an unlinked slot (a linked one is unlinked first). */
  release(slot: number): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    if (p.parent[i] !== FREE) this.unlink(slot);
    this.dropData(p, i);
    this.ordered.delete(slot);
    p.generation[i]!++;
    this.free.push(slot);
    if (this.arena.wantsCompaction) this.compact();
  }

  setStat(slot: number, s: StatPersisted): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    p.czxid[i] = exactNumber(s.czxid, 'czxid');
    p.mzxid[i] = exactNumber(s.mzxid, 'mzxid');
    p.pzxid[i] = exactNumber(s.pzxid, 'pzxid');
    p.ctime[i] = exactNumber(s.ctime, 'ctime');
    p.mtime[i] = exactNumber(s.mtime, 'mtime');
    p.version[i] = s.version;
    p.cversion[i] = s.cversion;
    p.aversion[i] = s.aversion;
    p.ephemeralOwner[i] = s.ephemeralOwner;
  }

  stat(slot: number): StatPersisted {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    return {
      czxid: BigInt(p.czxid[i]!),
      mzxid: BigInt(p.mzxid[i]!),
      ctime: BigInt(p.ctime[i]!),
      mtime: BigInt(p.mtime[i]!),
      version: p.version[i]!,
      cversion: p.cversion[i]!,
      aversion: p.aversion[i]!,
      ephemeralOwner: p.ephemeralOwner[i]!,
      pzxid: BigInt(p.pzxid[i]!),
    };
  }

  /**
   * Writes the node's StatPersisted from the columns (no record object, no bigints). The digest's
   * layout (statWriter) is another order: each follows its own ZooKeeper format.
   */
  writeStat(slot: number, w: JuteWriter): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    const off = w.take(STAT_PERSISTED_BYTES);
    const v = w.view;
    putLongNumber(v, off, p.czxid[i]!);
    putLongNumber(v, off + 8, p.mzxid[i]!);
    putLongNumber(v, off + 16, p.ctime[i]!);
    putLongNumber(v, off + 24, p.mtime[i]!);
    v.setInt32(off + 32, p.version[i]!);
    v.setInt32(off + 36, p.cversion[i]!);
    v.setInt32(off + 40, p.aversion[i]!);
    v.setInt32(off + 44, p.ephemeralOwnerWords[2 * i + 1]!);
    v.setInt32(off + 48, p.ephemeralOwnerWords[2 * i]!);
    putLongNumber(v, off + 52, p.pzxid[i]!);
  }

  /** Reads a StatPersisted into the columns; a zxid or time beyond 2^53 stops the server (see exactNumber). */
  readStat(slot: number, r: JuteReader): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    const b = r.buf;
    const off = r.skip(STAT_PERSISTED_BYTES);
    p.czxid[i] = readLongNumber(b, off, 'czxid');
    p.mzxid[i] = readLongNumber(b, off + 8, 'mzxid');
    p.ctime[i] = readLongNumber(b, off + 16, 'ctime');
    p.mtime[i] = readLongNumber(b, off + 24, 'mtime');
    p.version[i] = b.readInt32BE(off + 32);
    p.cversion[i] = b.readInt32BE(off + 36);
    p.aversion[i] = b.readInt32BE(off + 40);
    p.ephemeralOwnerWords[2 * i + 1] = b.readInt32BE(off + 44);
    p.ephemeralOwnerWords[2 * i] = b.readInt32BE(off + 48);
    p.pzxid[i] = readLongNumber(b, off + 52, 'pzxid');
  }

  /** Stores a copy of `data` (null kept apart from empty), letting go of the node's old bytes. */
  setData(slot: number, data: Uint8Array | null): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    this.dropData(p, i);
    if (data === null) {
      p.dataSlab[i] = NULL_DATA;
      p.dataLength[i] = 0;
    } else if (data.length === 0) {
      p.dataSlab[i] = EMPTY_DATA;
      p.dataLength[i] = 0;
    } else {
      p.dataSlab[i] = this.arena.put(data);
      p.dataOffset[i] = this.arena.lastOffset;
      p.dataLength[i] = data.length;
    }
    if (this.arena.wantsCompaction) this.compact();
  }

  /** The node's data: a view of its slab (valid for good: slabs are never rewritten). */
  data(slot: number): Buffer | null {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    const s = p.dataSlab[i]!;
    if (s === NULL_DATA) return null;
    if (s === EMPTY_DATA) return EMPTY;
    const off = p.dataOffset[i]!;
    return this.arena.slab(s).subarray(off, off + p.dataLength[i]!);
  }

  /** Digest of the node at `slot` under `path`, read straight from the columns. */
  digestOf(slot: number, path: string, digest: (path: string, bytes: Buffer | null, start: number, len: number, w: StatWriter) => number): number {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    const s = p.dataSlab[i]!;
    this.digestSlot = slot;
    return s < 0 ? digest(path, null, 0, 0, this.statWriter) : digest(path, this.arena.slab(s), p.dataOffset[i]!, p.dataLength[i]!, this.statWriter);
  }

  // ---- the tree's shape: parents, names, children ----

  isChild(slot: number, parent: number, s: string, start: number, end: number): boolean {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    return p.parent[i] === parent && this.names.equals(p.nameOffset[i]!, p.nameLength[i]!, s, start, end);
  }

  /** The hash the child index holds `slot` under (from its parent and stored name). */
  private hashOfSlot(slot: number): number {
    const name = this.name(slot);
    return hashChars(hashSeed(this.page(slot).parent[slot & PAGE_MASK]!), name, 0, name.length);
  }

  /** The child of `parent` named s[start, end), or -1. */
  child(parent: number, s: string, start: number, end: number): number {
    return this.index.find(hashChars(hashSeed(parent), s, start, end), parent, s, start, end);
  }

  /**
   * The slot of the node at path[0, end) as ZooKeeper's tree keys paths ('' and '/' are the root),
   * or -1. A path not starting with '/' is never found.
   */
  lookup(path: string, end = path.length): number {
    if (end <= 0 || (end === 1 && path.charCodeAt(0) === SLASH)) return this.root;
    if (path.charCodeAt(0) !== SLASH) return NONE;
    let slot = this.root;
    let start = 1;
    while (slot !== NONE) {
      let stop = path.indexOf('/', start);
      if (stop < 0 || stop > end) stop = end;
      slot = this.child(slot, path, start, stop);
      if (stop === end) return slot;
      start = stop + 1;
    }
    return NONE;
  }

  /** Makes `slot` the root. */
  linkRoot(slot: number): void {
    if (this.root !== NONE) throw new Error('the tree already has a root');
    this.page(slot).parent[slot & PAGE_MASK] = NO_PARENT;
    this.root = slot;
    this.linked++;
  }

  /** Makes `slot` the last child of `parent`, named path[start, end) (the node's path is `path`). */
  link(slot: number, parent: number, path: string, start: number): void {
    const end = path.length;
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    p.parent[i] = parent;
    p.nameLength[i] = this.names.put(path, start, end);
    p.nameOffset[i] = this.names.lastOffset;
    p.nextSibling[i] = NONE;
    const pp = this.page(parent);
    const pi = parent & PAGE_MASK;
    const first = pp.firstChild[pi]!;
    if (first === NONE) {
      pp.firstChild[pi] = slot;
      p.prevSibling[i] = slot;
    } else {
      const fp = this.page(first);
      const fi = first & PAGE_MASK;
      const last = fp.prevSibling[fi]!;
      this.page(last).nextSibling[last & PAGE_MASK] = slot;
      p.prevSibling[i] = last;
      fp.prevSibling[fi] = slot;
    }
    const n = ++pp.childCount[pi]!;
    while (n > (1 << pp.javaCapacityLog2[pi]!) * 0.75) pp.javaCapacityLog2[pi]!++;
    this.ordered.delete(parent);
    this.index.insert(hashChars(hashSeed(parent), path, start, end), slot);
    this.linked++;
    this.pathChars += end;
  }

  /** Takes a childless `slot` out of its parent's children and the index (its name is let go). */
  private unlink(slot: number): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    if (p.childCount[i] !== 0) throw new Error(`unlinking slot ${slot}, which has ${p.childCount[i]} children`);
    const parent = p.parent[i]!;
    if (parent === NO_PARENT) {
      this.root = NONE;
    } else {
      this.index.remove(this.hashOfSlot(slot), slot);
      const pp = this.page(parent);
      const pi = parent & PAGE_MASK;
      const next = p.nextSibling[i]!;
      const prev = p.prevSibling[i]!;
      if (pp.firstChild[pi] === slot) {
        pp.firstChild[pi] = next;
        if (next !== NONE) this.page(next).prevSibling[next & PAGE_MASK] = prev;
      } else {
        this.page(prev).nextSibling[prev & PAGE_MASK] = next;
        const first = pp.firstChild[pi]!;
        // The last child's successor is none; the first child's prevSibling names the last one.
        if (next !== NONE) this.page(next).prevSibling[next & PAGE_MASK] = prev;
        else this.page(first).prevSibling[first & PAGE_MASK] = prev;
      }
      pp.childCount[pi]!--;
      this.ordered.delete(parent);
      this.pathChars -= this.pathLengthOf(slot);
      this.names.release(p.nameLength[i]!);
      if (this.names.wantsCompaction) this.compactNames(slot);
    }
    p.parent[i] = FREE;
    this.linked--;
  }

  /** Length of the node's path (its name's length plus its ancestors', with slashes). */
  private pathLengthOf(slot: number): number {
    let n = 0;
    for (let s = slot; s !== this.root && s !== NONE;) {
      const p = this.page(s);
      const i = s & PAGE_MASK;
      const len = p.nameLength[i]!;
      n += 1 + (len >= 0 ? len : -len >>> 1);
      s = p.parent[i]!;
    }
    return n;
  }

  /** Whether `slot` holds the znode it held at `generation`. */
  isLive(slot: number, generation: number): boolean {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    return p.generation[i] === generation && p.parent[i] !== FREE;
  }

  name(slot: number): string {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    return this.names.decode(p.nameOffset[i]!, p.nameLength[i]!);
  }

  /** The node's path ('/' for the root). */
  pathOf(slot: number): string {
    if (slot === this.root) return '/';
    let path = '';
    for (let s = slot; s !== this.root; s = this.page(s).parent[s & PAGE_MASK]!) path = `/${this.name(s)}${path}`;
    return path;
  }

  childCountOf(slot: number): number {
    return this.page(slot).childCount[slot & PAGE_MASK]!;
  }

  /** The children's slots in creation order. */
  childSlots(slot: number): number[] {
    const out: number[] = [];
    for (let c = this.page(slot).firstChild[slot & PAGE_MASK]!; c !== NONE; c = this.page(c).nextSibling[c & PAGE_MASK]!) out.push(c);
    return out;
  }

  /** The children's slots and generations, interleaved (a walk that yields checks them with isLive). */
  childSlotsAndGenerations(slot: number): number[] {
    const out: number[] = [];
    for (let c = this.page(slot).firstChild[slot & PAGE_MASK]!; c !== NONE;) {
      const p = this.page(c);
      const i = c & PAGE_MASK;
      out.push(c, p.generation[i]!);
      c = p.nextSibling[i]!;
    }
    return out;
  }

  /** Child names in creation order. */
  childNames(slot: number): string[] {
    return this.childSlots(slot).map((c) => this.name(c));
  }

  /**
   * Child names in the order ZooKeeper 3.8 lists them: its HashSet iterates by hash bucket
   * (String.hashCode spread, masked by the table size), each bucket in insertion order.
   */
  childNamesInZkOrder(slot: number): readonly string[] {
    let names = this.ordered.get(slot);
    if (names === undefined) {
      const p = this.page(slot);
      const i = slot & PAGE_MASK;
      if (p.childCount[i] === 0) return [];
      names = javaHashOrder(this.childNames(slot), 1 << p.javaCapacityLog2[i]!);
      this.ordered.set(slot, names);
    }
    return names;
  }

  /** Rewrites the live names into a fresh buffer (`gone` is being unlinked: its name is dead). */
  private compactNames(gone: number): void {
    const move = this.names.compact();
    for (let slot = 0; slot < this.next; slot++) {
      const p = this.page(slot);
      const i = slot & PAGE_MASK;
      if (slot === gone || p.parent[i] === FREE || p.parent[i] === NO_PARENT) continue;
      p.nameOffset[i] = move(p.nameOffset[i]!, p.nameLength[i]!);
    }
  }

  private dropData(p: Page, i: number): void {
    const s = p.dataSlab[i]!;
    if (s >= 0) this.arena.release(s, p.dataLength[i]!);
    p.dataSlab[i] = NULL_DATA;
  }

  /** Moves the data out of mostly dead slabs (see DataArena). */
  private compact(): void {
    const victims = this.arena.compactionVictims();
    for (let slot = 0; slot < this.next; slot++) {
      const p = this.page(slot);
      const i = slot & PAGE_MASK;
      const s = p.dataSlab[i]!;
      if (s < 0 || victims[s] !== 1) continue;
      const off = p.dataOffset[i]!;
      const len = p.dataLength[i]!;
      const bytes = this.arena.slab(s).subarray(off, off + len);
      p.dataSlab[i] = this.arena.put(bytes);
      p.dataOffset[i] = this.arena.lastOffset;
      this.arena.release(s, len);
    }
  }
}
