/**
 * The bytes of every znode's data, copied into shared slabs: a Buffer of its own per znode costs
 * about 200 B besides the data (a view object and an ArrayBuffer with its backing store), and a
 * Buffer kept as the request gave it pins the whole packet it was cut from. A slab is written once
 * and never changed (setData appends the new bytes elsewhere), so a view handed out stays valid.
 *
 * Slabs are shared memory (SharedArrayBuffer): a snapshot written in a worker thread reads the
 * data in place, and a slab dropped meanwhile stays alive for it as long as it holds it.
 *
 * Replaced and deleted data leaves dead bytes behind; when they outgrow the live bytes, slabs less
 * than half live are emptied by moving their survivors, so one small
 * survivor never pins a slab for good.
 */

/** Slab sizes: they grow with the arena, from small (trees in tests) to this. */
const SLAB_BYTES_MIN = 16 * 1024;
const SLAB_BYTES_MAX = 1024 * 1024;
/** Data longer than this gets a slab of its own (freed as soon as the node lets go of it). */
const OWN_SLAB_BYTES = 64 * 1024;
/** Dead bytes tolerated before a compaction, however few the live ones. */
const DEAD_BYTES_MIN = 4 * 1024 * 1024;

export class DataArena {
  private readonly slabs: (Buffer | undefined)[] = [];
  private readonly live: number[] = [];
  private readonly freeIds: number[] = [];
  private current = -1;
  private fill = 0;
  /** Bytes of data the nodes hold. */
  liveBytes = 0;
  /** Bytes of all slabs held. */
  slabBytes = 0;
  /** Offset of the bytes the last put stored. */
  lastOffset = 0;

  /** The arena of a frozen store (see frozenSlabs): read only. */
  static thaw(slabs: readonly (Uint8Array | undefined)[]): DataArena {
    const a = new DataArena();
    for (const s of slabs) a.slabs.push(s === undefined ? undefined : Buffer.from(s.buffer, s.byteOffset, s.byteLength));
    return a;
  }

  /** The slabs as views of their shared memory, for another thread (they are never rewritten). */
  frozenSlabs(): (Uint8Array | undefined)[] {
    return this.slabs.map((s) => (s === undefined ? undefined : new Uint8Array(s.buffer, s.byteOffset, s.byteLength)));
  }

  /** Copies `src` into a slab; returns the slab's id (the offset is in lastOffset). */
  put(src: Uint8Array): number {
    const len = src.length;
    let id: number;
    if (len > OWN_SLAB_BYTES) {
      id = this.newSlab(len);
      this.lastOffset = 0;
    } else {
      if (this.current < 0 || this.fill + len > this.slabs[this.current]!.length) {
        if (this.current >= 0 && this.live[this.current] === 0) this.dropSlab(this.current);
        this.current = this.newSlab(Math.max(len, Math.min(SLAB_BYTES_MAX, Math.max(SLAB_BYTES_MIN, this.slabBytes >>> 3))));
        this.fill = 0;
      }
      id = this.current;
      this.lastOffset = this.fill;
      this.fill += len;
    }
    this.slabs[id]!.set(src, this.lastOffset);
    this.live[id]! += len;
    this.liveBytes += len;
    return id;
  }

  slab(id: number): Buffer {
    return this.slabs[id]!;
  }

  /** The node that held `len` bytes in slab `id` let go of them. */
  release(id: number, len: number): void {
    this.liveBytes -= len;
    if ((this.live[id]! -= len) === 0 && id !== this.current) this.dropSlab(id);
  }

  /** Whether dead bytes have outgrown the live ones enough to compact. */
  get wantsCompaction(): boolean {
    return this.slabBytes - this.liveBytes > Math.max(this.liveBytes, DEAD_BYTES_MIN);
  }

  /**
   * Marks the slabs to empty (less than half live, not the one being filled, where survivors go);
   * the owner must then put() every datum held in a marked slab again and release the old copy.
   */
  compactionVictims(): Uint8Array {
    const marks = new Uint8Array(this.slabs.length);
    for (let id = 0; id < this.slabs.length; id++) {
      const s = this.slabs[id];
      if (s !== undefined && id !== this.current && this.live[id]! * 2 < s.length) marks[id] = 1;
    }
    return marks;
  }

  private newSlab(size: number): number {
    const id = this.freeIds.pop() ?? this.slabs.length;
    this.slabs[id] = Buffer.from(new SharedArrayBuffer(size));
    this.live[id] = 0;
    this.slabBytes += size;
    return id;
  }

  private dropSlab(id: number): void {
    this.slabBytes -= this.slabs[id]!.length;
    this.slabs[id] = undefined;
    this.freeIds.push(id);
  }
}
