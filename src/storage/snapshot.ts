/**
 * Snapshot files (FileSnap, SerializeUtils, DataTree.serialize, ReferenceCountedACLCache):
 *
 *   FileHeader (ZKSN, 2, dbid -1)
 *   int count, count × (long sessionId, int timeout_ms)
 *   int count, count × (long aclIndex, vector<ACL>)           the ACL cache
 *   pre-order nodes: ustring path ("" for the root), buffer data, long aclIndex, StatPersisted
 *   ustring "/"                                                end of nodes
 *   long adler32(all bytes so far), ustring "/"                the seal
 *   long zxid, int digestVersion, long digest                  tree digest (3.8, digest enabled)
 *   long adler32(all bytes so far), ustring "/"                a second seal over the digest
 *
 * Writing streams in chunks and awaits the disk between them, so the tree keeps changing while a
 * snapshot is taken: the snapshot is "fuzzy" and is made right by replaying the log from its zxid.
 */
import fs from 'node:fs/promises';
import { JuteReader, JuteWriter } from '../jute/index.js';
import { ACL, StatPersisted } from '../proto/records.js';
import { TREE_DIGEST_VERSION, type ZxidDigest } from '../tree/digest.js';
import { Adler32 } from './adler32.js';
import { FILE_FORMAT_VERSION, FileHeader, SNAP_DBID, SNAP_MAGIC } from './fileHeader.js';
import { StorageError, errorMessage } from './errors.js';
import { fsyncDir } from './fsutil.js';
import { compressionOfName, decompressSnapshot, snapshotCompressor, type SnapshotCompression } from './snapshotCompression.js';
import path from 'node:path';
import type { FrozenSnapshot } from './treeSnapshotSource.js';

export interface SnapshotNode {
  /** "" for the root, then "/a", "/a/b", ... (ZooKeeper's serialized form). */
  path: string;
  data: Buffer | null;
  /** Index into the ACL cache; -1 is OPEN_ACL_UNSAFE without a cache entry. */
  acl: bigint;
  stat: StatPersisted;
}

/** Writes a node's StatPersisted (a source that holds stats in its own form, not as records). */
export type StatWrite = (w: JuteWriter) => void;

/** A node as a SnapshotSource gives it: a SnapshotNode whose stat the source may write itself. */
export interface SourceNode extends Omit<SnapshotNode, 'stat'> {
  stat: StatPersisted | StatWrite;
}

/** A snapshot's digest section (written after the nodes) when the digest is unknown: zxid 0 means none. */
export const EMPTY_DIGEST: ZxidDigest = { zxid: 0n, digestVersion: TREE_DIGEST_VERSION, digest: 0n };

/**
 * What a snapshot is taken from: a neutral view the data tree adapts to. `nodes()` yields the
 * root first and every parent before its children; it may be consumed across event-loop turns
 * while the tree changes (each node read at one instant, as ZooKeeper copies a node under its lock).
 */
export interface SnapshotSource {
  sessions(): Iterable<readonly [bigint, number]>;
  acls(): Iterable<readonly [bigint, readonly ACL[]]>;
  nodes(): Iterable<SourceNode>;
  /** Read after the nodes: the tree's digest and the zxid it holds then; EMPTY_DIGEST if unknown. */
  digest(): ZxidDigest;
  /** Everything the snapshot holds, copied at this instant, for a writer in a worker thread (a source that can). */
  freeze?(): FrozenSnapshot;
}

export interface LoadedSnapshot {
  path: string;
  /** From the file name: the last zxid applied when the snapshot started. */
  zxid: bigint;
  sessions: Map<bigint, number>;
  acls: Map<bigint, ACL[]>;
  /** In file order: parents before children (decoded on first use, each node's data copied). */
  readonly nodes: SnapshotNode[];
  /**
   * Visits the nodes in file order straight from the file's bytes, without keeping them: `data`
   * is a view of the file (copy what you keep) and `stat` is fresh for each node. Loading a big
   * snapshot this way leaves no million objects behind for the garbage collector.
   */
  eachNode(visit: (path: string, data: Buffer | null, acl: bigint, stat: StatPersisted) => void): void;
  /** eachNode with the reader at the node's StatPersisted instead of a record: `visit` must read it all. */
  eachNodeReading(visit: (path: string, data: Buffer | null, acl: bigint, stat: JuteReader) => void): void;
  /** null when the file has no digest section (pre-3.6 writers). */
  digest: ZxidDigest | null;
}

/** Bytes gathered before one write to the file. */
const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** Bytes serialized between yields to the event loop, so a snapshot never holds up client requests for long. */
const SNAPSHOT_YIELD_BYTES = 64 * 1024;
/** ZooKeeper's isValidCheckedStream minimum: a header plus the final seal. */
const SNAPSHOT_BYTES_MIN = 10;

/** Streams jute into a file in chunks, checksumming as it goes (the plain bytes, before any compression). */
class ChunkedOut {
  readonly w = new JuteWriter(SNAPSHOT_CHUNK_BYTES + 64 * 1024);
  readonly sum = new Adler32();
  /** Bytes in the file so far. */
  position = 0;
  private nextYieldAt = SNAPSHOT_YIELD_BYTES;
  constructor(
    private readonly fh: fs.FileHandle,
    private readonly compress: ((plain: Buffer) => Promise<Buffer>) | undefined,
  ) {}

  /** Whether enough was serialized since the last yield to flush or yield now (checked per node without an await). */
  get due(): boolean {
    return this.w.offset >= this.nextYieldAt;
  }

  async maybeFlush(): Promise<void> {
    if (!this.due) return;
    if (this.w.offset >= SNAPSHOT_CHUNK_BYTES) await this.flush();
    else await new Promise<void>((r) => setImmediate(r));
    this.nextYieldAt = this.w.offset + SNAPSHOT_YIELD_BYTES;
  }

  async flush(): Promise<void> {
    const plain = this.w.bytes();
    if (plain.length === 0) return;
    this.sum.update(plain);
    const b = this.compress === undefined ? plain : await this.compress(plain);
    let off = 0;
    while (off < b.length) {
      const { bytesWritten } = await this.fh.write(b, off, b.length - off, this.position + off);
      off += bytesWritten;
    }
    this.position += b.length;
    this.w.reset();
  }

  /** Seal: checksum of everything before it, then "/". */
  async seal(): Promise<void> {
    await this.flush();
    this.w.long(this.sum.value());
    this.w.ustring('/');
  }
}

export interface WriteSnapshotOptions {
  fsync: boolean;
  /** Write the digest section (ZooKeeper 3.8 with digests enabled, the default). */
  withDigest?: boolean;
  /** zookeeper.snapshot.compression.method; the file name must carry its suffix (names.ts). */
  compression?: SnapshotCompression;
}

/**
 * The body of a snapshot, between the file header and the first seal: sessions, the ACL cache,
 * the nodes and the end marker. It is also what a leader streams after SNAP. Yields after each
 * node, where a writer to disk may flush and let the event loop run.
 */
function* snapshotBodyParts(w: JuteWriter, src: SnapshotSource): Generator<void> {
  const sessions = [...src.sessions()];
  w.int(sessions.length);
  for (const [id, timeout] of sessions) {
    w.long(id);
    w.int(timeout);
  }
  const acls = [...src.acls()];
  w.int(acls.length);
  for (const [index, list] of acls) {
    w.long(index);
    w.int(list.length);
    for (const a of list) ACL.write(w, a);
  }
  for (const n of src.nodes()) {
    w.ustring(n.path);
    w.buffer(n.data);
    w.long(n.acl);
    if (typeof n.stat === 'function') n.stat(w);
    else StatPersisted.write(w, n.stat);
    yield;
  }
  w.ustring('/');
}

/** The snapshot body serialized in one go, without yielding: exactly the tree as it is now. */
export function snapshotBody(src: SnapshotSource): Buffer {
  const w = new JuteWriter(SNAPSHOT_CHUNK_BYTES);
  for (const _ of snapshotBodyParts(w, src)) {
    /* no yield points needed: nothing else runs meanwhile */
  }
  return w.bytes();
}

/**
 * Writes `file` from `src`. The file appears under its final name only once complete (temp file +
 * rename), so a crash never leaves a half snapshot that looks like the newest one.
 */
export async function writeSnapshotFile(file: string, src: SnapshotSource, opts: WriteSnapshotOptions): Promise<number> {
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, 'w');
  let size: number;
  try {
    const c = opts.compression ?? 'none';
    const out = new ChunkedOut(fh, c === 'none' ? undefined : snapshotCompressor(c));
    const w = out.w;
    FileHeader.write(w, { magic: SNAP_MAGIC, version: FILE_FORMAT_VERSION, dbid: SNAP_DBID });
    for (const _ of snapshotBodyParts(w, src)) if (out.due) await out.maybeFlush();
    await out.seal();
    if (opts.withDigest ?? true) {
      const d = src.digest();
      w.long(d.zxid);
      w.int(d.digestVersion);
      w.long(d.digest);
      await out.seal();
    }
    await out.flush();
    size = out.position;
    if (opts.fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  if (opts.fsync) await fsyncDir(path.dirname(file));
  return size;
}

/** ZooKeeper's cheap validity test before it reads a snapshot: ends with int 1 and '/'. */
export function looksSealed(buf: Buffer): boolean {
  if (buf.length < SNAPSHOT_BYTES_MIN) return false;
  return buf.readInt32BE(buf.length - 5) === 1 && buf[buf.length - 1] === 0x2f;
}

/** Checks a seal at r's offset; `sum` has summed the bytes up to `sum.end` and is brought up to the seal (each byte summed once). */
function checkSeal(buf: Buffer, r: JuteReader, file: string, sum: { adler: Adler32; end: number }): void {
  const at = r.offset;
  sum.adler.update(buf, sum.end, at);
  sum.end = at;
  const computed = sum.adler.value();
  const stored = r.long();
  const slash = r.ustring();
  if (stored !== computed) throw new StorageError(`snapshot checksum mismatch (stored ${stored}, computed ${computed})`, file, at);
  if (slash !== '/') throw new StorageError(`snapshot seal is ${JSON.stringify(slash)}, expected "/"`, file, at + 8);
}

/** ustring "/": the length 1 and the slash, as the int the end marker starts with and its byte. */
const END_MARKER_LENGTH = 1;
const SLASH = 0x2f;
/** A node's fixed tail after its data: the ACL index (long) and StatPersisted (6 longs, 3 ints). */
const STAT_PERSISTED_BYTES = 6 * 8 + 3 * 4;
const NODE_TAIL_BYTES = 8 + STAT_PERSISTED_BYTES;

/**
 * Parses and verifies a whole snapshot; throws StorageError naming the file and offset. The nodes
 * are only walked over here (their offsets kept); they are decoded when used.
 */
export function parseSnapshot(buf: Buffer, file: string, zxid: bigint): LoadedSnapshot {
  if (!looksSealed(buf)) throw new StorageError('snapshot is not sealed (truncated or not a snapshot)', file, Math.max(0, buf.length - 5));
  const r = new JuteReader(buf);
  let at = 0;
  try {
    const h = FileHeader.read(r);
    if (h.magic !== SNAP_MAGIC) throw new StorageError(`bad magic 0x${(h.magic >>> 0).toString(16)}, expected ZKSN`, file, 0);
    const sessions = new Map<bigint, number>();
    for (let n = r.int(); n > 0; n--) sessions.set(r.long(), r.int());
    const acls = new Map<bigint, ACL[]>();
    for (let n = r.int(); n > 0; n--) {
      const index = r.long();
      const list: ACL[] = [];
      const count = r.length();
      for (let i = 0; i < count; i++) list.push(ACL.read(r));
      acls.set(index, list);
    }
    const nodesStart = r.offset;
    let count = 0;
    for (;;) {
      at = r.offset;
      const pathLength = r.length();
      if (pathLength === END_MARKER_LENGTH && buf[r.offset] === SLASH) {
        r.offset++;
        break;
      }
      if (count === 0 ? pathLength > 0 : pathLength < 2 || buf[r.offset] !== SLASH) {
        const p = buf.toString('utf8', r.offset, r.offset + Math.max(0, pathLength));
        throw new StorageError(
          count === 0 ? 'snapshot has no root node' : `node path ${JSON.stringify(p)} is not absolute`,
          file,
          count === 0 ? FILE_HEADER_END : at,
        );
      }
      r.offset += Math.max(0, pathLength);
      const dataLength = r.length();
      r.offset += Math.max(0, dataLength);
      if (r.remaining < NODE_TAIL_BYTES) throw new StorageError('snapshot ends inside a node', file, at);
      r.offset += NODE_TAIL_BYTES;
      count++;
    }
    const nodesEnd = r.offset;
    const sum = { adler: new Adler32(), end: 0 };
    checkSeal(buf, r, file, sum);
    let digest: ZxidDigest | null = null;
    if (r.remaining > 0) {
      at = r.offset;
      const dz = r.long();
      const version = r.int();
      // Digest versions below 2 stored the digest as a hex string.
      const value = version < 2 ? BigInt.asIntN(64, BigInt(`0x${r.ustring() || '0'}`)) : r.long();
      digest = { zxid: dz, digestVersion: version, digest: value };
      checkSeal(buf, r, file, sum);
    }
    if (r.remaining !== 0) throw new StorageError(`${r.remaining} unexpected bytes after the snapshot's seal`, file, r.offset);
    if (count === 0) throw new StorageError('snapshot has no root node', file, FILE_HEADER_END);
    const eachNodeReading = (visit: (path: string, data: Buffer | null, acl: bigint, stat: JuteReader) => void): void => {
      const nr = new JuteReader(buf, nodesStart, nodesEnd);
      for (let i = 0; i < count; i++) {
        const p = nr.ustring();
        const n = nr.length();
        const data = n < 0 ? null : buf.subarray(nr.offset, nr.offset + n);
        nr.offset += Math.max(0, n);
        const acl = nr.long();
        const statEnd = nr.offset + STAT_PERSISTED_BYTES;
        visit(p, data, acl, nr);
        if (nr.offset !== statEnd) throw new Error(`a snapshot visitor read ${nr.offset - statEnd + STAT_PERSISTED_BYTES} bytes of a StatPersisted`);
      }
    };
    const eachNode = (visit: (path: string, data: Buffer | null, acl: bigint, stat: StatPersisted) => void): void =>
      eachNodeReading((p, data, acl, r) => visit(p, data, acl, StatPersisted.read(r)));
    let nodes: SnapshotNode[] | undefined;
    return {
      path: file,
      zxid,
      sessions,
      acls,
      eachNode,
      eachNodeReading,
      get nodes(): SnapshotNode[] {
        return (nodes ??= decodeNodes(eachNode, file));
      },
      digest,
    };
  } catch (e) {
    if (e instanceof StorageError) throw e;
    throw new StorageError(`snapshot does not parse: ${errorMessage(e)}`, file, r.offset);
  }
}

/** The nodes as records, checking that every parent comes before its children. */
function decodeNodes(eachNode: LoadedSnapshot['eachNode'], file: string): SnapshotNode[] {
  const nodes: SnapshotNode[] = [];
  const seen = new Set<string>();
  eachNode((path, data, acl, stat) => {
    const slash = path.lastIndexOf('/');
    if (slash >= 0 && !seen.has(path.slice(0, slash))) throw new StorageError(`node ${path} comes before its parent`, file, undefined);
    seen.add(path);
    nodes.push({ path, data: data === null ? null : Buffer.from(data), acl, stat });
  });
  return nodes;
}

const FILE_HEADER_END = 16;

export async function readSnapshotFile(file: string, zxid: bigint): Promise<LoadedSnapshot> {
  const compression = compressionOfName(path.basename(file)) ?? 'none';
  return parseSnapshot(await decompressSnapshot(await fs.readFile(file), compression, file), file, zxid);
}
