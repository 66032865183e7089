/**
 * Finds a znode by (parent slot, name): an open-addressing hash table with linear probing whose
 * entries are (slot, hash) pairs, 8 bytes each. It keeps no names: a hash match is confirmed
 * against the NodeStore's columns through `KeyedSlots`. Probing reads only the table (sequential
 * memory), so a miss costs no reads of scattered columns. This replaces a Map from every path to
 * its slot, which cost a path string and a map entry per znode (about 90 bytes of V8 heap).
 */

const EMPTY = -1;
const CAPACITY_MIN = 1024;
/** Grown when more than this share is used (probe runs stay short). */
const LOAD_MAX = 0.75;

/** What the index reads of the stored znodes. */
export interface KeyedSlots {
  /** Whether `slot` is the child of `parent` named s[start, end). */
  isChild(slot: number, parent: number, s: string, start: number, end: number): boolean;
}

export class ChildIndex {
  /** Entry e is table[2e] (slot, EMPTY if none) and table[2e + 1] (its hash). */
  private table = new Int32Array(2 * CAPACITY_MIN).fill(EMPTY);
  private mask = CAPACITY_MIN - 1;
  private size = 0;

  constructor(private readonly keys: KeyedSlots) {}

  /** The child of `parent` named s[start, end) whose hash is `hash`, or -1. */
  find(hash: number, parent: number, s: string, start: number, end: number): number {
    const t = this.table;
    for (let e = hash & this.mask; ; e = (e + 1) & this.mask) {
      const slot = t[2 * e]!;
      if (slot === EMPTY) return -1;
      if (t[2 * e + 1] === hash && this.keys.isChild(slot, parent, s, start, end)) return slot;
    }
  }

  insert(hash: number, slot: number): void {
    if (this.size + 1 > (this.mask + 1) * LOAD_MAX) this.grow();
    this.place(hash, slot);
    this.size++;
  }

  private place(hash: number, slot: number): void {
    const t = this.table;
    let e = hash & this.mask;
    while (t[2 * e] !== EMPTY) e = (e + 1) & this.mask;
    t[2 * e] = slot;
    t[2 * e + 1] = hash;
  }

  /** Removes `slot`, inserted under `hash`; later entries of its probe run move back (no tombstones). */
  remove(hash: number, slot: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = hash & mask;
    while (t[2 * i] !== slot) {
      if (t[2 * i] === EMPTY) throw new Error(`slot ${slot} is not in the child index`);
      i = (i + 1) & mask;
    }
    this.size--;
    // Backward-shift deletion: an entry after the hole moves into it unless its home lies
    // cyclically in (hole, entry].
    for (let j = (i + 1) & mask; t[2 * j] !== EMPTY; j = (j + 1) & mask) {
      const home = t[2 * j + 1]! & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      t[2 * i] = t[2 * j]!;
      t[2 * i + 1] = t[2 * j + 1]!;
      i = j;
    }
    t[2 * i] = EMPTY;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2).fill(EMPTY);
    this.mask = this.table.length / 2 - 1;
    for (let e = 0; e < old.length; e += 2) if (old[e] !== EMPTY) this.place(old[e + 1]!, old[e]!);
  }
}
