/**
 * SNAP on the wire as ZooKeeper sends it (LearnerHandler.syncFollower / Learner.syncWithLeader):
 * the SNAP QuorumPacket carries no data; right after it comes the serialized database —
 *   int count | count × (long sessionId, int timeout) | the DataTree (ACL cache, then nodes as
 *   (path, DataNode) until the path "/")
 * — and then the string "BenWasHere". A reader finds the end only by walking the records.
 *
 * The bytes are exactly a snapshot file's body (between its 16-byte header and its seal), so the
 * sender cuts them out of storage's snapshot writer and the receiver rebuilds a sealed snapshot
 * file around them for storage's parser.
 */
import { JuteWriter } from '../../jute/index.js';
import { adler32 } from '../../storage/adler32.js';
import { FILE_FORMAT_VERSION, FileHeader, SNAP_DBID, SNAP_MAGIC } from '../../storage/fileHeader.js';

export const SNAP_SIGNATURE = 'BenWasHere';
/** StatPersisted: 6 longs and 3 ints. */
const STAT_PERSISTED_BYTES = 6 * 8 + 3 * 4;
/** Bounds on any one count or length in the stream. */
const COUNT_MAX = 100_000_000;
const LENGTH_BYTES_MAX = 1024 * 1024 * 1024;

export class SnapStreamError extends Error {
  override name = 'SnapStreamError';
}

/** The stream after a SNAP packet: the snapshot body (storage's snapshotBody), then the signature. */
export function snapStreamFromBody(body: Buffer): Buffer {
  const w = new JuteWriter();
  w.ustring(SNAP_SIGNATURE);
  return Buffer.concat([body, w.bytes()]);
}

/** A sealed snapshot file (no digest section) around a received body (signature already removed). */
export function snapshotFileFromStream(body: Buffer): Buffer {
  const w = new JuteWriter();
  FileHeader.write(w, { magic: SNAP_MAGIC, version: FILE_FORMAT_VERSION, dbid: SNAP_DBID });
  const head = Buffer.from(w.bytes());
  const seal = new JuteWriter();
  seal.long(adler32(Buffer.concat([head, body])));
  seal.ustring('/');
  return Buffer.concat([head, body, seal.bytes()]);
}

type Phase = 'sessionCount' | 'sessions' | 'aclCount' | 'aclHead' | 'acl' | 'node' | 'signature' | 'done';

/**
 * Walks the streamed records as bytes arrive, one whole item at a time, without decoding them.
 * `pos` is relative to the stream's first byte.
 */
export class SnapStreamScanner {
  pos = 0;
  /** Where the signature starts (the body's length) once scanned. */
  bodyBytes = -1;
  private phase: Phase = 'sessionCount';
  private left = 0;
  private aclLeft = 0;

  /** Scans what `buf[base, end)` holds; true once the signature is read (the stream is `pos` bytes). */
  advance(buf: Buffer, base: number, end: number): boolean {
    const have = (n: number): boolean => base + this.pos + n <= end;
    const int = (at: number): number => buf.readInt32BE(base + this.pos + at);
    const len = (v: number, what: string): number => {
      if (v < -1 || v > LENGTH_BYTES_MAX) throw new SnapStreamError(`snapshot stream: ${what} length ${v} out of bounds at ${this.pos}`);
      return Math.max(0, v);
    };
    const count = (v: number, what: string): number => {
      if (v < 0 || v > COUNT_MAX) throw new SnapStreamError(`snapshot stream: ${what} count ${v} out of bounds at ${this.pos}`);
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
          this.pos += 12;
          this.phase = 'acl';
          break;
        case 'acl': {
          if (this.aclLeft === 0) {
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
          const d = len(int(4 + p), 'data');
          const n = 4 + p + 4 + d + 8 + STAT_PERSISTED_BYTES;
          if (!have(n)) return false;
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
