/**
 * Appends txns to `log.<zxid>` files with group commit: everything appended while a write is in
 * flight goes into the next one, and each append's promise settles only once the write covering
 * it is durable. One file per run of txns between rolls; ZooKeeper likewise never appends to a
 * log file written by an earlier process.
 *
 * With forceSync the file is opened O_DSYNC, so one write() is the write and the fdatasync
 * together: one trip to libuv's thread pool per batch instead of two, which is most of what a
 * lone write waits for besides the disk. A lone write starts at the end of the task that
 * appended it (a microtask), not a loop turn later.
 *
 * A small batch on a fast disk is written from the event loop itself (writeSync): the thread
 * pool's hand-off and wake-up cost about as much as such a write, and while the loop waits, new
 * requests gather in the sockets for the next batch. Big batches (many clients) and slow disks go
 * to the thread pool, so the loop keeps preparing requests while the disk works.
 */
import { constants as fsConstants, writeSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { log } from '../log.js';
import { runTurnEnd } from '../turnEnd.js';
import { FILE_FORMAT_VERSION, FileHeader, TXNLOG_DBID, TXNLOG_MAGIC } from './fileHeader.js';
import { frameLogEntry } from './logFile.js';
import { logFileName } from './names.js';
import { encodeTxn, type Txn } from '../txn/txn.js';
import { fsyncDir } from './fsutil.js';
import type { StorageObserver } from './storageObserver.js';

/** ZooKeeper's default zookeeper.preAllocSize: 64 MiB. */
export const PREALLOC_SIZE_DEFAULT_BYTES = 64 * 1024 * 1024;
/** Padding is extended when the write position comes this close to the preallocated end. */
const PADDING_SLACK_BYTES = 4096;
/** Largest batch written from the event loop; bigger ones go to the thread pool. */
const INLINE_WRITE_MAX_BYTES = 4096;
/** Writes are inline only while the recent durable write time (moving average) is below this. */
const INLINE_WRITE_MAX_MS = 0.5;
/** Weight of the newest write in that moving average. */
const WRITE_MS_EWMA_WEIGHT = 0.125;
/** Bound on bytes waiting for the next write: appends beyond it reject instead of growing memory without end. */
export const PENDING_BYTES_MAX_DEFAULT = 256 * 1024 * 1024;

export interface TxnLogWriterOptions {
  /** The version-2 directory that holds log files. */
  dir: string;
  /** fsync (fdatasync) before acknowledging; false only for tests and benchmarks that accept loss. */
  forceSync: boolean;
  preAllocSize_bytes?: number;
  /** The highest zxid already in the log; appends must be above it. */
  lastZxid: bigint;
  pendingBytesMax?: number;
  /** Told of queueing, writes and fsyncs (the server's metrics). */
  observer?: StorageObserver;
  /** Small batches are written from the event loop while the average write takes less (default INLINE_WRITE_MAX_MS). */
  inlineWriteMax_ms?: number;
}

export interface TxnLogStats {
  txns: number;
  fsyncs: number;
  /** Write batches (one O_DSYNC write per file touched). */
  batches: number;
  batchTxnsMax: number;
  fsyncTotal_ms: number;
  fsyncMax_ms: number;
  /** Per-fsync times in whole ms, as ZooKeeper's "fsynctime" summary counts them (one sample per log file forced). */
  fsyncTimeSum_ms: number;
  fsyncTimeMin_ms: number;
  fsyncTimeMax_ms: number;
  filesCreated: number;
  /** Writes made from the event loop rather than the thread pool. */
  inlineWrites: number;
}

/** `zxid`: the first zxid in `framed` (one entry, or a run of entries framed back to back). */
type Item = { kind: 'entry'; zxid: bigint; framed: Buffer } | { kind: 'roll' };

/** When each append joined its batch (performance.now ms) and how many txns it holds. */
type Run = [queued: number, txns: number];

interface Batch {
  items: Item[];
  bytes: number;
  txns: number;
  runs: Run[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A batch nobody awaits must not crash the process with an unhandled rejection; the writer's
  // failure is still reported to every later append.
  promise.catch(() => undefined);
  return { items: [], bytes: 0, txns: 0, runs: [], promise, resolve, reject };
}

interface OpenLog {
  path: string;
  fh: fs.FileHandle;
  position: number;
  size: number;
}

/** ZooKeeper's FilePadding rule: grow by whole preallocation blocks when close to the end. */
export function paddedSize(position: number, size: number, preAlloc: number): number {
  if (preAlloc <= 0 || position + PADDING_SLACK_BYTES < size) return size;
  if (position > size) {
    const s = position + preAlloc;
    return s - (s % preAlloc);
  }
  return size + preAlloc;
}

export class TxnLogWriter {
  private readonly dir: string;
  private readonly forceSync: boolean;
  private readonly preAlloc: number;
  private readonly pendingBytesMax: number;
  private lastZxid: bigint;
  private readonly observer: StorageObserver | undefined;
  private current: OpenLog | undefined;
  private pending: Batch = newBatch();
  private flushing = false;
  private failed: Error | undefined;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();
  private idleResolve: (() => void) | undefined;
  private readonly inlineWriteMax_ms: number;
  /** Moving average of one durable write's time: a slow disk moves it over the threshold within a few writes. */
  private writeMsAverage = 0;
  readonly stats: TxnLogStats = {
    txns: 0,
    fsyncs: 0,
    batches: 0,
    batchTxnsMax: 0,
    fsyncTotal_ms: 0,
    fsyncMax_ms: 0,
    fsyncTimeSum_ms: 0,
    fsyncTimeMin_ms: 0,
    fsyncTimeMax_ms: 0,
    filesCreated: 0,
    inlineWrites: 0,
  };

  constructor(opts: TxnLogWriterOptions) {
    this.dir = opts.dir;
    this.forceSync = opts.forceSync;
    this.preAlloc = opts.preAllocSize_bytes ?? PREALLOC_SIZE_DEFAULT_BYTES;
    this.pendingBytesMax = opts.pendingBytesMax ?? PENDING_BYTES_MAX_DEFAULT;
    this.lastZxid = opts.lastZxid;
    this.observer = opts.observer;
    this.inlineWriteMax_ms = opts.inlineWriteMax_ms ?? INLINE_WRITE_MAX_MS;
  }

  /** The highest zxid appended (durable or not). */
  get lastAppendedZxid(): bigint {
    return this.lastZxid;
  }

  /** The file currently written, if one is open. */
  get currentFile(): string | undefined {
    return this.current?.path;
  }

  /**
   * Queues txns (zxids strictly increasing) and returns a promise that resolves once they are
   * durable. Appends made in the same event-loop turn, or while a write is in flight, share one fsync.
   */
  append(entries: readonly Txn[]): Promise<void> {
    const framed = entries.map((e) => ({ zxid: e.header.zxid, framed: frameLogEntry(encodeTxn(e)) }));
    return this.appendFramed(framed);
  }

  /** As append, for entry bytes already encoded (a PROPOSAL's payload). */
  appendEncoded(entries: readonly { zxid: bigint; bytes: Buffer }[]): Promise<void> {
    return this.appendFramed(entries.map((e) => ({ zxid: e.zxid, framed: frameLogEntry(e.bytes) })));
  }

  /**
   * As append, for a run of entries already framed back to back into one buffer
   * (frameLogEntryInto): `firstZxid`..`lastZxid` strictly increasing, `count` entries. The run
   * goes into one file (a roll only happens between appends).
   */
  appendFramedRun(firstZxid: bigint, lastZxid: bigint, count: number, framed: Buffer): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error('txn log writer is closed'));
    if (count <= 0 || lastZxid < firstZxid || (count > 1 && lastZxid === firstZxid)) {
      return Promise.reject(new Error(`bad run of ${count} entries 0x${firstZxid.toString(16)}..0x${lastZxid.toString(16)}`));
    }
    if (firstZxid <= this.lastZxid)
      return Promise.reject(new Error(`zxid 0x${firstZxid.toString(16)} is not above the last logged 0x${this.lastZxid.toString(16)}`));
    const b = this.pending;
    if (b.bytes > 0 && b.bytes + framed.length > this.pendingBytesMax) return Promise.reject(new Error(`txn log backlog over ${this.pendingBytesMax} bytes`));
    b.items.push({ kind: 'entry', zxid: firstZxid, framed });
    this.lastZxid = lastZxid;
    b.bytes += framed.length;
    this.queued(b, count);
    this.kick();
    return b.promise;
  }

  private appendFramed(entries: readonly { zxid: bigint; framed: Buffer }[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error('txn log writer is closed'));
    const b = this.pending;
    // Check the whole call before queueing any of it: an append is all or nothing.
    let last = this.lastZxid;
    let bytes = 0;
    for (const e of entries) {
      if (e.zxid <= last) return Promise.reject(new Error(`zxid 0x${e.zxid.toString(16)} is not above the last logged 0x${last.toString(16)}`));
      last = e.zxid;
      bytes += e.framed.length;
    }
    if (b.bytes > 0 && b.bytes + bytes > this.pendingBytesMax) return Promise.reject(new Error(`txn log backlog over ${this.pendingBytesMax} bytes`));
    for (const e of entries) b.items.push({ kind: 'entry', zxid: e.zxid, framed: e.framed });
    this.lastZxid = last;
    b.bytes += bytes;
    this.queued(b, entries.length);
    this.kick();
    return b.promise;
  }

  private queued(b: Batch, txns: number): void {
    this.observer?.logQueued(txns, b.txns);
    b.txns += txns;
    if (this.observer !== undefined) b.runs.push([performance.now(), txns]);
  }

  /** The next appended txn starts a new log file (at snapshot time). */
  roll(): void {
    this.pending.items.push({ kind: 'roll' });
    this.kick();
  }

  /** Resolves when everything appended so far is durable. */
  async flush(): Promise<void> {
    if (this.pending.items.length > 0) await this.pending.promise;
    await this.idle;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.current) {
      await this.current.fh.close();
      this.current = undefined;
    }
  }

  private kick(): void {
    if (this.flushing || this.failed) return;
    this.flushing = true;
    this.idle = new Promise((r) => (this.idleResolve = r));
    // Every append of the task under way (a socket read's requests, a step's actions) joins the
    // first batch; appends after it wait for the next write, as they would behind an fsync.
    queueMicrotask(() => void this.flushLoop());
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.items.length > 0) {
        const batch = this.pending;
        this.pending = newBatch();
        try {
          await this.writeBatch(batch);
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.failed = err;
          log.error({ err }, 'txn log write failed; the log is unusable');
          batch.reject(err);
          this.pending.reject(err);
          return;
        }
        batch.resolve();
      }
    } finally {
      this.flushing = false;
      this.idleResolve?.();
    }
  }

  private async openNew(firstZxid: bigint): Promise<OpenLog> {
    const p = path.join(this.dir, logFileName(firstZxid));
    log.info({ file: p }, 'creating new txn log file');
    // Truncates: recovery guarantees no intact entry can be at or above firstZxid in a file of that name.
    // O_DSYNC: each write returns once its data (and the size that reads it back) is on the disk, as fdatasync.
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | (this.forceSync ? fsConstants.O_DSYNC : 0);
    const fh = await fs.open(p, flags, 0o644);
    const header = FileHeader.encode({ magic: TXNLOG_MAGIC, version: FILE_FORMAT_VERSION, dbid: TXNLOG_DBID });
    await fh.write(header, 0, header.length, 0);
    this.stats.filesCreated++;
    return { path: p, fh, position: header.length, size: header.length };
  }

  private noteFsync(ms: number): void {
    const st = this.stats;
    st.fsyncTimeMin_ms = st.fsyncs === 0 ? ms : Math.min(st.fsyncTimeMin_ms, ms);
    st.fsyncTimeMax_ms = Math.max(st.fsyncTimeMax_ms, ms);
    st.fsyncTimeSum_ms += ms;
    st.fsyncs++;
    this.observer?.fsync(ms);
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const started = performance.now();
    const toClose: OpenLog[] = [];
    let newFile = false;
    let chunks: Buffer[] = [];
    const writeOut = async (): Promise<void> => {
      const f = this.current;
      if (!f || chunks.length === 0) return;
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks = [];
      const want = paddedSize(f.position + data.length, f.size, this.preAlloc);
      if (want !== f.size) {
        await f.fh.truncate(want);
        f.size = want;
      }
      let off = 0;
      const inline = data.length <= INLINE_WRITE_MAX_BYTES && this.writeMsAverage < this.inlineWriteMax_ms;
      if (inline) this.stats.inlineWrites++;
      // Output held for this turn (a leader's PROPOSALs) leaves before the loop blocks on the disk.
      if (inline) runTurnEnd();
      const t1 = performance.now();
      while (off < data.length) {
        const at = f.position + off;
        off += inline ? writeSync(f.fh.fd, data, off, data.length - off, at) : (await f.fh.write(data, off, data.length - off, at)).bytesWritten;
      }
      const ms = performance.now() - t1;
      this.writeMsAverage += WRITE_MS_EWMA_WEIGHT * (ms - this.writeMsAverage);
      // An O_DSYNC write is this file's fsync (ZooKeeper's fsynctime counts one per file forced).
      if (this.forceSync) this.noteFsync(Math.floor(ms));
      f.position += data.length;
    };
    for (const item of batch.items) {
      if (item.kind === 'roll') {
        await writeOut();
        if (this.current) toClose.push(this.current);
        this.current = undefined;
        continue;
      }
      if (!this.current) {
        this.current = await this.openNew(item.zxid);
        newFile = true;
      }
      chunks.push(item.framed);
    }
    await writeOut();
    if (this.forceSync) {
      // A new file's name must survive a crash too, not only its bytes.
      if (newFile) await fsyncDir(this.dir);
      const ms = performance.now() - started;
      this.stats.fsyncTotal_ms += ms;
      this.stats.fsyncMax_ms = Math.max(this.stats.fsyncMax_ms, ms);
    }
    for (const f of toClose) await f.fh.close();
    this.stats.batches++;
    this.stats.txns += batch.txns;
    this.stats.batchTxnsMax = Math.max(this.stats.batchTxnsMax, batch.txns);
    this.observer?.logWritten({ txns: batch.txns, runs: batch.runs, started, durable: performance.now() });
  }
}
