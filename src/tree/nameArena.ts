/**
 * Every znode's name (the last component of its path) as bytes in one growing buffer, so a tree of
 * millions keeps no JS string per znode: a path is its parent's slot plus this name. A name whose
 * characters all fit a byte is stored one byte per character (latin1); any other is stored as its
 * UTF-16 code units, so every JS string, even one with a lone surrogate, comes back the same.
 * Its stored length says which: ≥ 0 latin1 bytes, < 0 minus the UTF-16 byte count.
 *
 * The buffer is shared memory and its bytes are never rewritten (growth and compaction move the
 * names to a new buffer), so a snapshot written in a worker thread reads them in place.
 *
 * Names of deleted znodes leave dead bytes; once they outgrow the live ones the owner rewrites
 * the live names into a fresh buffer (compaction, see NodeStore).
 */

const BYTES_MIN = 64 * 1024;
/** Dead bytes tolerated before a compaction, however few the live ones. */
const DEAD_BYTES_MIN = 1024 * 1024;

/** Seeds the hash of a child name with its parent's slot. */
export function hashSeed(parent: number): number {
  return Math.imul(parent ^ 0x5bd1e995, 0x9e3779b1);
}

/** Hash of s[start, end) under `seed`. */
export function hashChars(seed: number, s: string, start: number, end: number): number {
  let h = seed;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) | 0;
}

function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

export class NameArena {
  private bytes = sharedBytes(BYTES_MIN);
  private fill = 0;
  private liveBytes = 0;
  /** Offset of the bytes the last put stored. */
  lastOffset = 0;

  /** The arena of a frozen store (see frozenBytes): read only. */
  static thaw(bytes: Uint8Array): NameArena {
    const a = new NameArena();
    a.bytes = bytes;
    a.fill = a.liveBytes = bytes.length;
    return a;
  }

  /** The names stored so far, as a view of their shared memory (never rewritten) for another thread. */
  frozenBytes(): Uint8Array {
    return this.bytes.subarray(0, this.fill);
  }

  /** Stores s[start, end); returns its stored length (the offset is in lastOffset). */
  put(s: string, start: number, end: number): number {
    const n = end - start;
    let wide = false;
    for (let i = start; i < end; i++) {
      if (s.charCodeAt(i) > 0xff) {
        wide = true;
        break;
      }
    }
    const size = wide ? 2 * n : n;
    this.reserve(size);
    const b = this.bytes;
    const off = this.fill;
    if (wide) {
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(start + i);
        b[off + 2 * i] = c & 0xff;
        b[off + 2 * i + 1] = c >>> 8;
      }
    } else {
      for (let i = 0; i < n; i++) b[off + i] = s.charCodeAt(start + i);
    }
    this.fill += size;
    this.liveBytes += size;
    this.lastOffset = off;
    return wide ? -size : size;
  }

  private reserve(size: number): void {
    if (this.fill + size <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.fill + size) cap *= 2;
    if (cap > 0x7fffffff) throw new Error(`node names need ${cap} bytes: beyond the 2 GiB a name offset can address`);
    const bigger = sharedBytes(cap);
    bigger.set(this.bytes.subarray(0, this.fill));
    this.bytes = bigger;
  }

  /** Whether the stored name (off, len) is s[start, end). */
  equals(off: number, len: number, s: string, start: number, end: number): boolean {
    const b = this.bytes;
    if (len >= 0) {
      if (len !== end - start) return false;
      for (let i = 0; i < len; i++) if (b[off + i] !== s.charCodeAt(start + i)) return false;
      return true;
    }
    const n = -len >>> 1;
    if (n !== end - start) return false;
    for (let i = 0; i < n; i++) if ((b[off + 2 * i]! | (b[off + 2 * i + 1]! << 8)) !== s.charCodeAt(start + i)) return false;
    return true;
  }

  decode(off: number, len: number): string {
    const b = this.bytes;
    if (len >= 0) {
      // Short names (nearly all) are cheaper by code than through a Buffer.
      if (len <= 16) {
        let s = '';
        for (let i = 0; i < len; i++) s += String.fromCharCode(b[off + i]!);
        return s;
      }
      return Buffer.from(b.buffer, b.byteOffset + off, len).toString('latin1');
    }
    return Buffer.from(b.buffer, b.byteOffset + off, -len).toString('utf16le');
  }

  /** The znode holding a name of stored length `len` let go of it. */
  release(len: number): void {
    this.liveBytes -= Math.abs(len);
  }

  get wantsCompaction(): boolean {
    return this.fill - this.liveBytes > Math.max(this.liveBytes, DEAD_BYTES_MIN);
  }

  /**
   * Starts a compaction: the owner then calls `move` for every live name (offset, stored length)
   * and keeps the new offset it returns.
   */
  compact(): (off: number, len: number) => number {
    const old = this.bytes;
    this.bytes = sharedBytes(Math.max(BYTES_MIN, this.liveBytes * 2));
    this.fill = 0;
    return (off, len) => {
      const size = Math.abs(len);
      const to = this.fill;
      this.bytes.set(old.subarray(off, off + size), to);
      this.fill += size;
      return to;
    };
  }

  /** Bytes held (live and dead). */
  get heldBytes(): number {
    return this.bytes.length;
  }
}
