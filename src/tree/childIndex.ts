/**
 * Finds a znode by (parent slot, name): an open-addressing hash table of slots with linear
 * probing, 4 bytes an entry. It keeps no keys: the names and parents are the NodeStore's columns,
 * read back through `KeyedSlots`. This replaces a Map from every path to its slot, which cost a
 * path string and a map entry per znode (about 90 bytes of V8 heap).
 */

const EMPTY = -1;
const CAPACITY_MIN = 1024;
/** Grown when more than this share is used (probe runs stay short). */
const LOAD_MAX = 0.75;

/** What the index reads of the stored znodes. */
export interface KeyedSlots {
  /** Whether `slot` is the child of `parent` named s[start, end). */
  isChild(slot: number, parent: number, s: string, start: number, end: number): boolean;
  /** The hash `slot` was inserted under. */
  hashOfSlot(slot: number): number;
}

export class ChildIndex {
  private table = new Int32Array(CAPACITY_MIN).fill(EMPTY);
  private mask = CAPACITY_MIN - 1;
  private size = 0;

  constructor(private readonly keys: KeyedSlots) {}

  /** The child of `parent` named s[start, end) whose hash is `hash`, or -1. */
  find(hash: number, parent: number, s: string, start: number, end: number): number {
    const t = this.table;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const slot = t[i]!;
      if (slot === EMPTY) return -1;
      if (this.keys.isChild(slot, parent, s, start, end)) return slot;
    }
  }

  insert(hash: number, slot: number): void {
    if (this.size + 1 > this.table.length * LOAD_MAX) this.grow();
    this.place(hash, slot);
    this.size++;
  }

  private place(hash: number, slot: number): void {
    const t = this.table;
    let i = hash & this.mask;
    while (t[i] !== EMPTY) i = (i + 1) & this.mask;
    t[i] = slot;
  }

  /** Removes `slot`, inserted under `hash`; later entries of its probe run move back (no tombstones). */
  remove(hash: number, slot: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = hash & mask;
    while (t[i] !== slot) {
      if (t[i] === EMPTY) throw new Error(`slot ${slot} is not in the child index`);
      i = (i + 1) & mask;
    }
    this.size--;
    // Backward-shift deletion: an entry after the hole moves into it unless its home lies
    // cyclically in (hole, entry].
    for (let j = (i + 1) & mask; t[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.keys.hashOfSlot(t[j]!) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      t[i] = t[j]!;
      i = j;
    }
    t[i] = EMPTY;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2).fill(EMPTY);
    this.mask = this.table.length - 1;
    for (const slot of old) if (slot !== EMPTY) this.place(this.keys.hashOfSlot(slot), slot);
  }

  /** Bytes the table holds. */
  get heldBytes(): number {
    return this.table.byteLength;
  }
}
