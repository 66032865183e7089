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
import type { StatPersisted } from '../proto/records.js';
import { DataArena } from './dataArena.js';
import type { ChildSet } from './dataNode.js';
import { putLongNumber, type StatWriter } from './digest.js';

const PAGE_BITS = 12;
const PAGE_SLOTS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SLOTS - 1;
/** dataSlab of a node whose data is null, and of one whose data is empty. */
const NULL_DATA = -1;
const EMPTY_DATA = -2;
const EMPTY = Buffer.alloc(0);

/** Bytes of one slot over all columns of a page. */
const SLOT_BYTES = 6 * 8 + 8 + 8 * 4;

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
  /** Child names of nodes that have (or had) children; leaves have none. */
  readonly children: (ChildSet | undefined)[] = [];
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

export class NodeStore {
  private readonly pages: Page[] = [];
  private readonly free: number[] = [];
  private next = 0;
  readonly arena = new DataArena();
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
    view.setBigInt64(off + 52, p.ephemeralOwner[i]!);
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
    p.children[i] = undefined;
    return slot;
  }

  release(slot: number): void {
    const p = this.page(slot);
    const i = slot & PAGE_MASK;
    this.dropData(p, i);
    p.children[i] = undefined;
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
