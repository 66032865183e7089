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
/** Slots in a page of columns. */
export const PAGE_SLOTS = 1 << PAGE_BITS;
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

/** Bytes of one slot over the columns every page holds (czxid, ctime and 10 int32 columns). */
const SLOT_BYTES = 2 * 8 + 10 * 4;

/**
 * Shared all-zero columns: a page's lazy column is one of these until a slot of the page is given
 * a value other than 0, and only then gets its own array. In a big tree most znodes are leaves
 * written once (no children, no setData, open ACL, not ephemeral), so most pages never hold their
 * own versions, deltas, ACLs, owners or child lists: about 61 of a slot's 117 bytes. They are views
 * of one buffer, so checking that they are still zero is one native compare (sharedZerosIntact).
 */
const ZEROS = new ArrayBuffer(PAGE_SLOTS * (8 + 8 + 4 + 1));
const ZERO_F64: Float64Array = new Float64Array(ZEROS, 0, PAGE_SLOTS);
const ZERO_OWNER: BigInt64Array = new BigInt64Array(ZEROS, PAGE_SLOTS * 8, PAGE_SLOTS);
const ZERO_OWNER_WORDS: Int32Array = new Int32Array(ZEROS, PAGE_SLOTS * 8, PAGE_SLOTS * 2);
const ZERO_I32: Int32Array = new Int32Array(ZEROS, PAGE_SLOTS * 16, PAGE_SLOTS);
const ZERO_U8: Uint8Array = new Uint8Array(ZEROS, PAGE_SLOTS * 20, PAGE_SLOTS);

/**
 * Whether the shared zero columns are still all zero (a write that bypassed a setter would show
 * here). A memcmp: a loop over them ran in the interpreter at start-up, 2–3 ms a tree.
 */
function sharedZerosIntact(): boolean {
  return Buffer.from(ZEROS).equals(Buffer.alloc(ZEROS.byteLength));
}

/** The page's own copy of a lazy column when `v` is about to go into it (a 0 may stay shared). */
function ownF64(col: Float64Array, v: number): Float64Array {
  return col === ZERO_F64 && v !== 0 ? new Float64Array(PAGE_SLOTS) : col;
}
function ownI32(col: Int32Array, v: number): Int32Array {
  return col === ZERO_I32 && v !== 0 ? new Int32Array(PAGE_SLOTS) : col;
}

/** b - a, held exactly (both are exact doubles; their difference must be too). */
function delta(b: number, a: number, what: string): number {
  const d = b - a;
  if (d > Number.MAX_SAFE_INTEGER || d < -Number.MAX_SAFE_INTEGER) throw new Error(`${what} ${b} is too far from ${a} to be held exactly`);
  return d;
}

/** Where a frozen page's columns are in the frozen buffer: its own columns, then each lazy one (-1: shared zeros). */
export interface FrozenPage {
  own: number;
  lazy: number[];
}

/**
 * The node store at one instant, for a snapshot written in a worker thread (structured-clone safe):
 * the columns copied into one buffer (transferred, so one copy in all), and the data slabs and
 * names as the shared memory they already are (written once, never changed: see DataArena).
 */
export interface FrozenNodes {
  columns: ArrayBuffer;
  pages: FrozenPage[];
  slabs: (Uint8Array | undefined)[];
  names: Uint8Array;
  root: number;
  next: number;
  linked: number;
}

/**
 * One page of columns; slot s is at index s & PAGE_MASK of page s >>> PAGE_BITS. The columns every
 * znode uses are views of one ArrayBuffer (one allocation per page); the others are lazy (shared
 * zeros until needed) and are read and written through the methods below, which also keep their
 * encodings: mzxid, pzxid and mtime as deltas from czxid and ctime (0 until they move), the ACL
 * index plus one (OPEN_ACL_UNSAFE's -1 is 0), firstChild plus one (none is 0), and log2 of the
 * Java child-set capacity minus its initial 3.
 */
export class Page {
  private readonly bytes: Uint8Array;
  readonly czxid: Float64Array;
  readonly ctime: Float64Array;
  /** The node's digest as last counted in the tree's (int32). */
  readonly digest: Int32Array;
  readonly dataSlab: Int32Array;
  readonly dataOffset: Int32Array;
  readonly dataLength: Int32Array;
  /** Bumped when the slot is freed, so a DataNode kept past its znode's deletion is caught. */
  readonly generation: Int32Array;
  /** The tree's shape: parent slot (NO_PARENT for the root, FREE for a free slot) and name. */
  readonly parent: Int32Array;
  readonly nameOffset: Int32Array;
  /** The name's stored length (see NameArena). */
  readonly nameLength: Int32Array;
  /**
   * Children as a list in creation order: firstChild, then nextSibling; prevSibling is circular
   * (the first child's points at the last), so appending and unlinking are O(1).
   */
  readonly nextSibling: Int32Array;
  readonly prevSibling: Int32Array;

  private mzxidDelta = ZERO_F64;
  private pzxidDelta = ZERO_F64;
  private mtimeDelta = ZERO_F64;
  private aclPlus1 = ZERO_F64;
  private owner = ZERO_OWNER;
  /** The owner column as 32-bit words (low word first): copied without making a bigint. */
  private ownerWords = ZERO_OWNER_WORDS;
  private versions = ZERO_I32;
  private cversions = ZERO_I32;
  private aversions = ZERO_I32;
  private firstChildPlus1 = ZERO_I32;
  private childCounts = ZERO_I32;
  /** log2 of the table size ZooKeeper's HashSet of this node's children would have, minus 3 (grows, never shrinks). */
  private javaCapacityLog2Minus3 = ZERO_U8;

  /** A fresh page, or a frozen one's columns as views of `frozen.buffer` (see freezeInto). */
  constructor(frozen?: { buffer: ArrayBuffer; at: FrozenPage }) {
    const buffer = frozen?.buffer ?? new ArrayBuffer(PAGE_SLOTS * SLOT_BYTES);
    const o = frozen?.at.own ?? 0;
    const f64 = (k: number): Float64Array => new Float64Array(buffer, o + PAGE_SLOTS * k, PAGE_SLOTS);
    const i32 = (k: number): Int32Array => new Int32Array(buffer, o + PAGE_SLOTS * k, PAGE_SLOTS);
    this.bytes = new Uint8Array(buffer, o, PAGE_SLOTS * SLOT_BYTES);
    this.czxid = f64(0);
    this.ctime = f64(8);
    this.digest = i32(16);
    this.dataSlab = i32(20);
    this.dataOffset = i32(24);
    this.dataLength = i32(28);
    this.generation = i32(32);
    this.parent = i32(36);
    this.nameOffset = i32(40);
    this.nameLength = i32(44);
    this.nextSibling = i32(48);
    this.prevSibling = i32(52);
    if (frozen === undefined) return;
    const lazy = frozen.at.lazy;
    const col = <T>(k: number, make: (at: number) => T, zero: T): T => (lazy[k]! < 0 ? zero : make(lazy[k]!));
    this.mzxidDelta = col(0, (at) => new Float64Array(buffer, at, PAGE_SLOTS), ZERO_F64);
    this.pzxidDelta = col(1, (at) => new Float64Array(buffer, at, PAGE_SLOTS), ZERO_F64);
    this.mtimeDelta = col(2, (at) => new Float64Array(buffer, at, PAGE_SLOTS), ZERO_F64);
    this.aclPlus1 = col(3, (at) => new Float64Array(buffer, at, PAGE_SLOTS), ZERO_F64);
    this.owner = col(4, (at) => new BigInt64Array(buffer, at, PAGE_SLOTS), ZERO_OWNER);
    this.ownerWords = col(4, (at) => new Int32Array(buffer, at, PAGE_SLOTS * 2), ZERO_OWNER_WORDS);
    this.versions = col(5, (at) => new Int32Array(buffer, at, PAGE_SLOTS), ZERO_I32);
    this.cversions = col(6, (at) => new Int32Array(buffer, at, PAGE_SLOTS), ZERO_I32);
    this.aversions = col(7, (at) => new Int32Array(buffer, at, PAGE_SLOTS), ZERO_I32);
    this.firstChildPlus1 = col(8, (at) => new Int32Array(buffer, at, PAGE_SLOTS), ZERO_I32);
    this.childCounts = col(9, (at) => new Int32Array(buffer, at, PAGE_SLOTS), ZERO_I32);
    this.javaCapacityLog2Minus3 = col(10, (at) => new Uint8Array(buffer, at, PAGE_SLOTS), ZERO_U8);
  }

  /** The page's own columns, in constructor order (shared zeros left out). */
  private lazyColumns(): (Uint8Array | null)[] {
    const own = (c: ArrayBufferView, zero: ArrayBufferView): Uint8Array | null => (c === zero ? null : new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    return [
      own(this.mzxidDelta, ZERO_F64),
      own(this.pzxidDelta, ZERO_F64),
      own(this.mtimeDelta, ZERO_F64),
      own(this.aclPlus1, ZERO_F64),
      own(this.owner, ZERO_OWNER),
      own(this.versions, ZERO_I32),
      own(this.cversions, ZERO_I32),
      own(this.aversions, ZERO_I32),
      own(this.firstChildPlus1, ZERO_I32),
      own(this.childCounts, ZERO_I32),
      own(this.javaCapacityLog2Minus3, ZERO_U8),
    ];
  }

  /** Bytes freezeInto copies. */
  get frozenBytes(): number {
    return this.lazyColumns().reduce((n, c) => n + (c?.length ?? 0), this.bytes.length);
  }

  /** Copies the page's columns into `dst` from `at` (every offset a multiple of PAGE_SLOTS, so views stay aligned). */
  freezeInto(dst: Uint8Array, at: number): FrozenPage {
    dst.set(this.bytes, at);
    const frozen: FrozenPage = { own: at, lazy: [] };
    at += this.bytes.length;
    for (const c of this.lazyColumns()) {
      if (c === null) {
        frozen.lazy.push(-1);
        continue;
      }
      dst.set(c, at);
      frozen.lazy.push(at);
      at += c.length;
    }
    return frozen;
  }

  mzxid(i: number): number {
    return this.czxid[i]! + this.mzxidDelta[i]!;
  }
  setMzxid(i: number, z: number): void {
    const d = delta(z, this.czxid[i]!, 'mzxid');
    (this.mzxidDelta = ownF64(this.mzxidDelta, d))[i] = d;
  }
  pzxid(i: number): number {
    return this.czxid[i]! + this.pzxidDelta[i]!;
  }
  setPzxid(i: number, z: number): void {
    const d = delta(z, this.czxid[i]!, 'pzxid');
    (this.pzxidDelta = ownF64(this.pzxidDelta, d))[i] = d;
  }
  mtime(i: number): number {
    return this.ctime[i]! + this.mtimeDelta[i]!;
  }
  setMtime(i: number, t: number): void {
    const d = delta(t, this.ctime[i]!, 'mtime');
    (this.mtimeDelta = ownF64(this.mtimeDelta, d))[i] = d;
  }
  /** ACL cache index (-1 = OPEN_ACL_UNSAFE). */
  acl(i: number): number {
    return this.aclPlus1[i]! - 1;
  }
  setAcl(i: number, index: number): void {
    (this.aclPlus1 = ownF64(this.aclPlus1, index + 1))[i] = index + 1;
  }
  ephemeralOwner(i: number): bigint {
    return this.owner[i]!;
  }
  /** ephemeralOwner's high and low 32-bit words. */
  ephemeralOwnerHigh(i: number): number {
    return this.ownerWords[2 * i + 1]!;
  }
  ephemeralOwnerLow(i: number): number {
    return this.ownerWords[2 * i]!;
  }
  setEphemeralOwnerWords(i: number, high: number, low: number): void {
    if (this.owner === ZERO_OWNER) {
      if (high === 0 && low === 0) return;
      const b = new ArrayBuffer(PAGE_SLOTS * 8);
      this.owner = new BigInt64Array(b);
      this.ownerWords = new Int32Array(b);
    }
    this.ownerWords[2 * i + 1] = high;
    this.ownerWords[2 * i] = low;
  }
  setEphemeralOwner(i: number, owner: bigint): void {
    this.setEphemeralOwnerWords(i, Number(BigInt.asIntN(32, owner >> 32n)), Number(BigInt.asIntN(32, owner)));
  }
  version(i: number): number {
    return this.versions[i]!;
  }
  setVersion(i: number, v: number): void {
    (this.versions = ownI32(this.versions, v))[i] = v;
  }
  cversion(i: number): number {
    return this.cversions[i]!;
  }
  setCversion(i: number, v: number): void {
    (this.cversions = ownI32(this.cversions, v))[i] = v;
  }
  aversion(i: number): number {
    return this.aversions[i]!;
  }
  setAversion(i: number, v: number): void {
    (this.aversions = ownI32(this.aversions, v))[i] = v;
  }
  /** First child's slot, NONE if none. */
  firstChild(i: number): number {
    return this.firstChildPlus1[i]! - 1;
  }
  setFirstChild(i: number, slot: number): void {
    (this.firstChildPlus1 = ownI32(this.firstChildPlus1, slot + 1))[i] = slot + 1;
  }
  childCount(i: number): number {
    return this.childCounts[i]!;
  }
  setChildCount(i: number, n: number): void {
    (this.childCounts = ownI32(this.childCounts, n))[i] = n;
  }
  javaCapacityLog2(i: number): number {
    return this.javaCapacityLog2Minus3[i]! + JAVA_CHILD_SET_CAPACITY_LOG2;
  }
  setJavaCapacityLog2(i: number, log2: number): void {
    const v = log2 - JAVA_CHILD_SET_CAPACITY_LOG2;
    if (this.javaCapacityLog2Minus3 === ZERO_U8) {
      if (v === 0) return;
      this.javaCapacityLog2Minus3 = new Uint8Array(PAGE_SLOTS);
    }
    this.javaCapacityLog2Minus3[i] = v;
  }
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
  readonly arena: DataArena;
  readonly names: NameArena;
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
    putLongNumber(view, off + 8, p.mzxid(i));
    putLongNumber(view, off + 16, p.pzxid(i));
    putLongNumber(view, off + 24, p.ctime[i]!);
    putLongNumber(view, off + 32, p.mtime(i));
    view.setInt32(off + 40, p.version(i));
    view.setInt32(off + 44, p.cversion(i));
    view.setInt32(off + 48, p.aversion(i));
    view.setInt32(off + 52, p.ephemeralOwnerHigh(i));
    view.setInt32(off + 56, p.ephemeralOwnerLow(i));
  };

  /** An empty store, or a frozen one thawed (for walks and reads: its child index is empty, so lookups below the root find nothing). */
  constructor(frozen?: FrozenNodes) {
    this.arena = frozen === undefined ? new DataArena() : DataArena.thaw(frozen.slabs);
    this.names = frozen === undefined ? new NameArena() : NameArena.thaw(frozen.names);
    if (frozen === undefined) return;
    for (const at of frozen.pages) this.pages.push(new Page({ buffer: frozen.columns, at }));
    this.root = frozen.root;
    this.next = frozen.next;
    this.linked = frozen.linked;
  }

  /** A copy of the store as it is now, to thaw in a worker thread (the columns copied in one allocation, freed whole). */
  freeze(): FrozenNodes {
    const columns = new ArrayBuffer(this.pages.reduce((n, p) => n + p.frozenBytes, 0));
    const dst = new Uint8Array(columns);
    let at = 0;
    const pages: FrozenPage[] = [];
    for (const p of this.pages) {
      pages.push(p.freezeInto(dst, at));
      at += p.frozenBytes;
    }
    return { columns, pages, slabs: this.arena.frozenSlabs(), names: this.names.frozenBytes(), root: this.root, next: this.next, linked: this.linked };
  }

  page(slot: number): Page {
    return this.pages[slot >>> PAGE_BITS]!;
  }

  /** A fresh slot with null data, no children and zeroed stat. */
  alloc(): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.next;
      if (slot >>> PAGE_BITS === this.pages.length) {
        if (!sharedZerosIntact()) throw new Error('a shared zero column of the node store was written to');
        this.pages.push(new Page());
      }
      this.next++;
    }
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    p.czxid[i] = p.ctime[i] = 0;
    p.setMzxid(i, 0);
    p.setPzxid(i, 0);
    p.setMtime(i, 0);
    p.setVersion(i, 0);
    p.setCversion(i, 0);
    p.setAversion(i, 0);
    p.digest[i] = 0;
    p.setEphemeralOwnerWords(i, 0, 0);
    p.setAcl(i, -1);
    p.dataSlab[i] = NULL_DATA;
    p.dataLength[i] = 0;
    p.parent[i] = FREE;
    p.nameLength[i] = 0;
    p.setFirstChild(i, NONE);
    p.setChildCount(i, 0);
    p.setJavaCapacityLog2(i, JAVA_CHILD_SET_CAPACITY_LOG2);
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
    p.setMzxid(i, exactNumber(s.mzxid, 'mzxid'));
    p.setPzxid(i, exactNumber(s.pzxid, 'pzxid'));
    p.ctime[i] = exactNumber(s.ctime, 'ctime');
    p.setMtime(i, exactNumber(s.mtime, 'mtime'));
    p.setVersion(i, s.version);
    p.setCversion(i, s.cversion);
    p.setAversion(i, s.aversion);
    p.setEphemeralOwner(i, s.ephemeralOwner);
  }

  stat(slot: number): StatPersisted {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    return {
      czxid: BigInt(p.czxid[i]!),
      mzxid: BigInt(p.mzxid(i)),
      ctime: BigInt(p.ctime[i]!),
      mtime: BigInt(p.mtime(i)),
      version: p.version(i),
      cversion: p.cversion(i),
      aversion: p.aversion(i),
      ephemeralOwner: p.ephemeralOwner(i),
      pzxid: BigInt(p.pzxid(i)),
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
    putLongNumber(v, off + 8, p.mzxid(i));
    putLongNumber(v, off + 16, p.ctime[i]!);
    putLongNumber(v, off + 24, p.mtime(i));
    v.setInt32(off + 32, p.version(i));
    v.setInt32(off + 36, p.cversion(i));
    v.setInt32(off + 40, p.aversion(i));
    v.setInt32(off + 44, p.ephemeralOwnerHigh(i));
    v.setInt32(off + 48, p.ephemeralOwnerLow(i));
    putLongNumber(v, off + 52, p.pzxid(i));
  }

  /** Reads a StatPersisted into the columns; a zxid or time beyond 2^53 stops the server (see exactNumber). */
  readStat(slot: number, r: JuteReader): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    const b = r.buf;
    const off = r.skip(STAT_PERSISTED_BYTES);
    p.czxid[i] = readLongNumber(b, off, 'czxid');
    p.setMzxid(i, readLongNumber(b, off + 8, 'mzxid'));
    p.ctime[i] = readLongNumber(b, off + 16, 'ctime');
    p.setMtime(i, readLongNumber(b, off + 24, 'mtime'));
    p.setVersion(i, b.readInt32BE(off + 32));
    p.setCversion(i, b.readInt32BE(off + 36));
    p.setAversion(i, b.readInt32BE(off + 40));
    p.setEphemeralOwnerWords(i, b.readInt32BE(off + 44), b.readInt32BE(off + 48));
    p.setPzxid(i, readLongNumber(b, off + 52, 'pzxid'));
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
    const first = pp.firstChild(pi);
    if (first === NONE) {
      pp.setFirstChild(pi, slot);
      p.prevSibling[i] = slot;
    } else {
      const fp = this.page(first);
      const fi = first & PAGE_MASK;
      const last = fp.prevSibling[fi]!;
      this.page(last).nextSibling[last & PAGE_MASK] = slot;
      p.prevSibling[i] = last;
      fp.prevSibling[fi] = slot;
    }
    const n = pp.childCount(pi) + 1;
    pp.setChildCount(pi, n);
    let log2 = pp.javaCapacityLog2(pi);
    while (n > (1 << log2) * 0.75) log2++;
    pp.setJavaCapacityLog2(pi, log2);
    this.ordered.delete(parent);
    this.index.insert(hashChars(hashSeed(parent), path, start, end), slot);
    this.linked++;
    this.pathChars += end;
  }

  /** Takes a childless `slot` out of its parent's children and the index (its name is let go). */
  private unlink(slot: number): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    if (p.childCount(i) !== 0) throw new Error(`unlinking slot ${slot}, which has ${p.childCount(i)} children`);
    const parent = p.parent[i]!;
    if (parent === NO_PARENT) {
      this.root = NONE;
    } else {
      this.index.remove(this.hashOfSlot(slot), slot);
      const pp = this.page(parent);
      const pi = parent & PAGE_MASK;
      const next = p.nextSibling[i]!;
      const prev = p.prevSibling[i]!;
      if (pp.firstChild(pi) === slot) {
        pp.setFirstChild(pi, next);
        if (next !== NONE) this.page(next).prevSibling[next & PAGE_MASK] = prev;
      } else {
        this.page(prev).nextSibling[prev & PAGE_MASK] = next;
        const first = pp.firstChild(pi);
        // The last child's successor is none; the first child's prevSibling names the last one.
        if (next !== NONE) this.page(next).prevSibling[next & PAGE_MASK] = prev;
        else this.page(first).prevSibling[first & PAGE_MASK] = prev;
      }
      pp.setChildCount(pi, pp.childCount(pi) - 1);
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
    return this.page(slot).childCount(slot & PAGE_MASK);
  }

  /** The children's slots in creation order. */
  childSlots(slot: number): number[] {
    const out: number[] = [];
    for (let c = this.page(slot).firstChild(slot & PAGE_MASK); c !== NONE; c = this.page(c).nextSibling[c & PAGE_MASK]!) out.push(c);
    return out;
  }

  /** The children's slots and generations, interleaved (a walk that yields checks them with isLive). */
  childSlotsAndGenerations(slot: number): number[] {
    const out: number[] = [];
    for (let c = this.page(slot).firstChild(slot & PAGE_MASK); c !== NONE;) {
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
      if (p.childCount(i) === 0) return [];
      names = javaHashOrder(this.childNames(slot), 1 << p.javaCapacityLog2(i));
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
