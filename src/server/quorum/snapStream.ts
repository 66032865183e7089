/**
 * SNAP on the wire as ZooKeeper sends it (LearnerHandler.syncFollower / Learner.syncWithLeader):
 * the SNAP QuorumPacket carries no data; right after it comes the serialized database —
 *   int count | count × (long sessionId, int timeout) | the DataTree (ACL cache, then nodes as
 *   (path, DataNode) until the path "/")
 * — and then the string "BenWasHere". A reader finds the end only by walking the records.
 *
 * The bytes are exactly a snapshot file's body (between its 16-byte header and its seal), so the
 * sender serializes them with storage's snapshot body writer and the receiver rebuilds a sealed
 * snapshot file around them for storage's parser.
 *
 * A leader streams them (streamSnap) as the learner's socket takes them: neither the whole stream
 * is held nor the event loop stalled for it. The runtime streams from the tree frozen at the SNAP's
 * zxid (storage's frozenSnapshotSource: columns copied, data and names shared), so the stream is
 * exactly that tree while the leader commits on; a live tree's source would make it fuzzy (as
 * ZooKeeper's leader serializes while it commits), which the txns the learner gets after it make
 * right, as recovery replays the log over a snapshot written while serving. A learner builds the
 * tree record by record as the bytes arrive (a SnapLoad), or moves each scanned record into a
 * SnapFileBuilder, which checksums as the bytes come and lays the sealed file out once.
 */
import { JuteReader, JuteWriter } from '../../jute/index.js';
import { ACL } from '../../proto/records.js';
import { Adler32 } from '../../storage/adler32.js';
import { FILE_FORMAT_VERSION, FileHeader, SNAP_DBID, SNAP_MAGIC } from '../../storage/fileHeader.js';
import { snapshotBodyParts, type SnapshotSource } from '../../storage/snapshot.js';
import { encodeQuorumMessage, zxid as toZxid } from '../../zab/index.js';

export const SNAP_SIGNATURE = 'BenWasHere';
/** StatPersisted: 6 longs and 3 ints. */
const STAT_PERSISTED_BYTES = 6 * 8 + 3 * 4;
/** Bounds on any one count or length in the stream. */
const COUNT_MAX = 100_000_000;
const LENGTH_BYTES_MAX = 1024 * 1024 * 1024;
/** Bytes serialized before they are handed to the socket (and the event loop gets a turn): a few ms of work. */
const SNAP_CHUNK_BYTES = 256 * 1024;
/** Blocks a learner gathers the received stream in. */
const RECEIVE_BLOCK_BYTES = 4 * 1024 * 1024;
/** The file's seal after the body: long adler32, ustring "/". */
const SEAL_BYTES = 8 + 4 + 1;

export class SnapStreamError extends Error {
  override name = 'SnapStreamError';
}

/** The SNAP QuorumPacket itself: its data is null, the stream follows it. */
export function snapPacket(zxid: bigint): Buffer {
  return encodeQuorumMessage({ type: 'SNAP', zxid: toZxid(zxid), data: Buffer.alloc(0) });
}

/** The stream after a SNAP packet: the snapshot body (storage's snapshotBody), then the signature. */
export function snapStreamFromBody(body: Buffer): Buffer {
  const w = new JuteWriter();
  w.ustring(SNAP_SIGNATURE);
  return Buffer.concat([body, w.bytes()]);
}

/**
 * Serializes SNAP, the stream and the signature from `src` in chunks of about `chunkBytes`,
 * handing each to `write` (which owns it) and waiting until it resolves before serializing more.
 * Returns the bytes written.
 */
export async function streamSnap(zxid: bigint, src: SnapshotSource, write: (chunk: Buffer) => Promise<void>, chunkBytes = SNAP_CHUNK_BYTES): Promise<number> {
  const w = new JuteWriter(chunkBytes * 2);
  let total = 0;
  const flush = async (): Promise<void> => {
    const chunk = Buffer.from(w.bytes());
    w.reset();
    total += chunk.length;
    await write(chunk);
  };
  w.raw(snapPacket(zxid));
  for (const _ of snapshotBodyParts(w, src)) if (w.offset >= chunkBytes) await flush();
  w.ustring(SNAP_SIGNATURE);
  await flush();
  return total;
}

/** A received snapshot body, gathered in blocks and checksummed as it comes, then laid out as a sealed snapshot file. */
export class SnapFileBuilder {
  private readonly head: Buffer;
  private readonly sum = new Adler32();
  private readonly blocks: Buffer[] = [];
  private used = RECEIVE_BLOCK_BYTES;
  private bodyBytes = 0;

  constructor() {
    const w = new JuteWriter();
    FileHeader.write(w, { magic: SNAP_MAGIC, version: FILE_FORMAT_VERSION, dbid: SNAP_DBID });
    this.head = Buffer.from(w.bytes());
    this.sum.update(this.head);
  }

  append(buf: Buffer, start: number, end: number): this {
    this.sum.update(buf, start, end);
    this.bodyBytes += end - start;
    while (start < end) {
      if (this.used === RECEIVE_BLOCK_BYTES) {
        this.blocks.push(Buffer.allocUnsafe(RECEIVE_BLOCK_BYTES));
        this.used = 0;
      }
      const n = Math.min(end - start, RECEIVE_BLOCK_BYTES - this.used);
      buf.copy(this.blocks[this.blocks.length - 1]!, this.used, start, start + n);
      this.used += n;
      start += n;
    }
    return this;
  }

  /** The sealed snapshot file (no digest section): header, body, checksum, "/". */
  file(): Buffer {
    const out = Buffer.allocUnsafe(this.head.length + this.bodyBytes + SEAL_BYTES);
    let at = this.head.copy(out, 0);
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      at += b.copy(out, at, 0, i === this.blocks.length - 1 ? this.used : b.length);
    }
    this.blocks.length = 0;
    const seal = new JuteWriter(SEAL_BYTES);
    seal.long(this.sum.value());
    seal.ustring('/');
    seal.bytes().copy(out, at);
    return out;
  }
}

/**
 * A learner's way to take a SNAP as it arrives: `visitor` gets the records, and `end` gives what
 * the SNAP message carries once the signature is read (a token the runtime knows the tree by).
 */
export interface SnapLoad {
  visitor: SnapVisitor;
  end(zxid: bigint): Buffer;
}

/** A sealed snapshot file (no digest section) around a received body (signature already removed). */
export function snapshotFileFromStream(body: Buffer): Buffer {
  return new SnapFileBuilder().append(body, 0, body.length).file();
}

/** What a learner does with the stream's records as they arrive (storage's DatabaseLoader builds the tree from them). */
export interface SnapVisitor {
  session(id: bigint, timeout: number): void;
  acl(index: bigint, list: ACL[]): void;
  /** `data` is a view of the receive buffer (copy what you keep); `stat` is at the node's StatPersisted, to be read whole. */
  node(path: string, data: Buffer | null, acl: bigint, stat: JuteReader): void;
}

type Phase = 'sessionCount' | 'sessions' | 'aclCount' | 'aclHead' | 'acl' | 'node' | 'signature' | 'done';

/**
 * Walks the streamed records as bytes arrive, one whole item at a time; with a visitor it decodes
 * each and hands it over. `pos` is relative to where the scanned bytes start (the stream's first
 * byte, or the last rebase).
 */
export class SnapStreamScanner {
  pos = 0;
  /** Where the signature starts (the body's length) once scanned, relative as `pos`. */
  bodyBytes = -1;
  private phase: Phase = 'sessionCount';
  private left = 0;
  private aclLeft = 0;
  private aclIndex = 0n;
  private aclList: ACL[] = [];

  constructor(private readonly visitor?: SnapVisitor) {}
  /** Stream bytes before the current `pos` origin (for error messages). */
  private passed = 0;

  /** The caller took the bytes scanned so far away: positions count from there now. */
  rebase(): void {
    if (this.bodyBytes >= 0) this.bodyBytes -= this.pos;
    this.passed += this.pos;
    this.pos = 0;
  }

  /** Scans what `buf[base, end)` holds; true once the signature is read (the stream is `pos` bytes). */
  advance(buf: Buffer, base: number, end: number): boolean {
    const v = this.visitor;
    const reader = new JuteReader(buf);
    const have = (n: number): boolean => base + this.pos + n <= end;
    const int = (at: number): number => buf.readInt32BE(base + this.pos + at);
    const len = (v: number, what: string): number => {
      if (v < -1 || v > LENGTH_BYTES_MAX) throw new SnapStreamError(`snapshot stream: ${what} length ${v} out of bounds at ${this.passed + this.pos}`);
      return Math.max(0, v);
    };
    const count = (v: number, what: string): number => {
      if (v < 0 || v > COUNT_MAX) throw new SnapStreamError(`snapshot stream: ${what} count ${v} out of bounds at ${this.passed + this.pos}`);
      return v;
    };
    for (;;) {
      switch (this.phase) {
        case 'sessionCount':
          if (!have(4)) return false;
          this.left = count(int(0), 'session');
          this.pos += 4;
          this.phase = 'sessions';
          break;
        case 'sessions':
          if (!have(this.left * 12)) return false;
          for (let i = 0, at = base + this.pos; v !== undefined && i < this.left; i++, at += 12) v.session(buf.readBigInt64BE(at), buf.readInt32BE(at + 8));
          this.pos += this.left * 12;
          this.phase = 'aclCount';
          break;
        case 'aclCount':
          if (!have(4)) return false;
          this.left = count(int(0), 'ACL cache');
          this.pos += 4;
          this.phase = this.left > 0 ? 'aclHead' : 'node';
          break;
        case 'aclHead':
          if (!have(12)) return false;
          this.aclLeft = count(int(8), 'ACL list');
          this.aclIndex = buf.readBigInt64BE(base + this.pos);
          this.aclList = [];
          this.pos += 12;
          this.phase = 'acl';
          break;
        case 'acl': {
          if (this.aclLeft === 0) {
            v?.acl(this.aclIndex, this.aclList);
            this.left--;
            this.phase = this.left > 0 ? 'aclHead' : 'node';
            break;
          }
          // ACL = int perms, Id(ustring scheme, ustring id)
          if (!have(8)) return false;
          const a = len(int(4), 'scheme');
          if (!have(12 + a)) return false;
          const b = len(int(8 + a), 'id');
          if (!have(12 + a + b)) return false;
          if (v !== undefined) {
            reader.offset = base + this.pos;
            this.aclList.push(ACL.read(reader));
          }
          this.pos += 12 + a + b;
          this.aclLeft--;
          break;
        }
        case 'node': {
          if (!have(4)) return false;
          const p = len(int(0), 'path');
          if (!have(4 + p)) return false;
          if (p === 1 && buf[base + this.pos + 4] === 0x2f) {
            this.pos += 5;
            this.phase = 'signature';
            break;
          }
          if (!have(4 + p + 4)) return false;
          const dataLength = int(4 + p);
          const d = len(dataLength, 'data');
          const n = 4 + p + 4 + d + 8 + STAT_PERSISTED_BYTES;
          if (!have(n)) return false;
          if (v !== undefined) {
            const at = base + this.pos;
            const dataAt = at + 4 + p + 4;
            reader.offset = dataAt + d + 8;
            const statEnd = reader.offset + STAT_PERSISTED_BYTES;
            v.node(buf.toString('utf8', at + 4, at + 4 + p), dataLength < 0 ? null : buf.subarray(dataAt, dataAt + d), buf.readBigInt64BE(dataAt + d), reader);
            if (reader.offset !== statEnd) throw new Error('a snapshot visitor did not read a StatPersisted whole');
          }
          this.pos += n;
          break;
        }
        case 'signature': {
          if (!have(4)) return false;
          const s = len(int(0), 'signature');
          if (!have(4 + s)) return false;
          const sig = buf.toString('utf8', base + this.pos + 4, base + this.pos + 4 + s);
          if (sig !== SNAP_SIGNATURE) throw new SnapStreamError(`snapshot stream: missing signature, got ${JSON.stringify(sig.slice(0, 40))}`);
          this.bodyBytes = this.pos;
          this.pos += 4 + s;
          this.phase = 'done';
          return true;
        }
        case 'done':
          return true;
      }
    }
  }
}
