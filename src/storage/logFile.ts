/**
 * The bytes of a txn log file (FileTxnLog): a FileHeader (ZKLG, version 2, dbid), then entries
 * `long adler32(entry) | int length | entry bytes | byte 0x42 ('B', end of record)`, then zero
 * padding up to the preallocated size. An entry whose checksum and length are both zero is the
 * end of data, since the file is preallocated with zeros.
 */
import { JuteReader, type JuteWriter } from '../jute/index.js';
import { adler32 } from './adler32.js';
import { FILE_HEADER_BYTES, FileHeader, TXNLOG_MAGIC } from './fileHeader.js';
import { decodeTxn, type Txn } from '../txn/txn.js';
import { errorMessage } from './errors.js';

export const END_OF_RECORD = 0x42;
/** checksum long + length int before the entry, EOR byte after it. */
export const ENTRY_OVERHEAD_BYTES = 13;
const END_OF_RECORD_BYTES = Uint8Array.of(END_OF_RECORD);

/** Frames an encoded entry as it is laid out in the file. */
export function frameLogEntry(entry: Buffer): Buffer {
  if (entry.length === 0) throw new Error('an empty txn entry would read back as end of file');
  const out = Buffer.allocUnsafe(entry.length + ENTRY_OVERHEAD_BYTES);
  out.writeBigInt64BE(adler32(entry), 0);
  out.writeInt32BE(entry.length, 8);
  entry.copy(out, 12);
  out[12 + entry.length] = END_OF_RECORD;
  return out;
}

/**
 * Appends one framed entry to `w`, encoding the entry in place (no per-entry buffers): a batch of
 * entries framed into one writer is written to the file as one chunk.
 */
export function frameLogEntryInto(w: JuteWriter, encode: (w: JuteWriter) => void): void {
  const at = w.offset;
  w.long(0n);
  const lenAt = w.reserveInt();
  encode(w);
  const end = w.offset;
  const length = end - lenAt - 4;
  if (length === 0) throw new Error('an empty txn entry would read back as end of file');
  w.patchInt(lenAt, length);
  const b = w.bytes();
  b.writeBigInt64BE(adler32(b, lenAt + 4, end), at);
  w.raw(END_OF_RECORD_BYTES);
}

export interface LogRecord {
  /** Where the entry's checksum starts in the file. */
  offset: number;
  entry: Txn;
  /** The entry bytes as checksummed (for forwarding or re-logging without re-encoding). */
  bytes: Buffer;
}

/**
 * How the readable part of a file ended:
 * - clean: at the end of the file, or at zero padding (ZooKeeper's definition of end of file);
 * - torn: an incomplete or damaged entry with no intact entry after it (a write cut short);
 * - corrupt: a damaged entry followed by an intact one (history is missing in the middle);
 * - badHeader: the file does not start with a txn log header.
 */
export type LogEnd =
  | { kind: 'clean'; offset: number }
  | { kind: 'torn'; offset: number; reason: string }
  | { kind: 'corrupt'; offset: number; reason: string }
  | { kind: 'badHeader'; offset: number; reason: string };

export interface LogScan {
  header: FileHeader | undefined;
  records: LogRecord[];
  /** The zxid of the file's first intact entry, also when `records` leaves it out. */
  firstZxid: bigint | undefined;
  end: LogEnd;
}

/** Where TxnHeader's zxid sits in an entry (after long clientId, int cxid). */
const ENTRY_ZXID_OFFSET = 12;
const ENTRY_HEADER_BYTES = ENTRY_ZXID_OFFSET + 8;

type Probe = { ok: true; zxid: bigint; record: LogRecord | undefined; next: number } | { ok: false; zeros: boolean; reason: string };

/** Tries to read one entry at `pos`; one at or below `skipThrough` is checked (framing, checksum) but not decoded. */
function probe(buf: Buffer, pos: number, skipThrough?: bigint): Probe {
  const left = buf.length - pos;
  if (left < 12) {
    const zeros = buf.subarray(pos).every((b) => b === 0);
    return { ok: false, zeros, reason: `${left} trailing bytes, too few for an entry` };
  }
  const crc = buf.readBigInt64BE(pos);
  const len = buf.readInt32BE(pos + 8);
  if (crc === 0n && len === 0) return { ok: false, zeros: true, reason: 'zero padding' };
  if (len <= 0 || len > left - ENTRY_OVERHEAD_BYTES) return { ok: false, zeros: false, reason: `entry length ${len} does not fit the ${left} bytes left` };
  const end = pos + 12 + len;
  if (buf[end] !== END_OF_RECORD) return { ok: false, zeros: false, reason: `no end-of-record marker after a ${len}-byte entry` };
  const bytes = buf.subarray(pos + 12, end);
  const actual = adler32(bytes);
  if (actual !== crc) return { ok: false, zeros: false, reason: `checksum mismatch (stored ${crc}, computed ${actual})` };
  if (skipThrough !== undefined && len >= ENTRY_HEADER_BYTES) {
    const zxid = bytes.readBigInt64BE(ENTRY_ZXID_OFFSET);
    if (zxid <= skipThrough) return { ok: true, zxid, record: undefined, next: end + 1 };
  }
  try {
    const entry = decodeTxn(bytes);
    return { ok: true, zxid: entry.header.zxid, record: { offset: pos, entry, bytes }, next: end + 1 };
  } catch (e) {
    return { ok: false, zeros: false, reason: `entry does not decode: ${errorMessage(e)}` };
  }
}

/**
 * Walks entry frames by their lengths alone over `buf[0, filled)` from `pos`: where the zero
 * padding starts ('zeros'), where more bytes are needed ('more'), or 'odd' when a length cannot be
 * a frame's (only a full scan of the file can say what that is).
 */
export function walkFrames(buf: Buffer, pos: number, filled: number): { pos: number; stop: 'zeros' | 'more' | 'odd' } {
  while (pos + 12 <= filled) {
    const len = buf.readInt32BE(pos + 8);
    if (len === 0 && buf.readBigInt64BE(pos) === 0n) return { pos, stop: 'zeros' };
    if (len <= 0) return { pos, stop: 'odd' };
    pos += len + ENTRY_OVERHEAD_BYTES;
  }
  return { pos, stop: 'more' };
}

/** Offset of the first intact entry after `from` with a zxid above `afterZxid`, if any. */
function findIntactEntry(buf: Buffer, from: number, afterZxid: bigint): number | undefined {
  for (let q = from; q + ENTRY_OVERHEAD_BYTES < buf.length; q++) {
    const len = buf.readInt32BE(q + 8);
    if (len <= 0 || q + 12 + len >= buf.length || buf[q + 12 + len] !== END_OF_RECORD) continue;
    const p = probe(buf, q);
    if (p.ok && p.zxid > afterZxid) return q;
  }
  return undefined;
}

/**
 * Reads a log file's entries and how it ends. Entries at or below `skipThrough` (recovery's
 * snapshot zxid) are checked but neither decoded nor listed in `records`.
 */
export function scanLogBuffer(buf: Buffer, skipThrough?: bigint): LogScan {
  if (buf.length < FILE_HEADER_BYTES) {
    const blank = buf.every((b) => b === 0);
    const reason = `file is ${buf.length} bytes, shorter than a header`;
    return {
      header: undefined,
      records: [],
      firstZxid: undefined,
      end: blank ? { kind: 'torn', offset: 0, reason } : { kind: 'badHeader', offset: 0, reason },
    };
  }
  const header = FileHeader.read(new JuteReader(buf));
  if (header.magic !== TXNLOG_MAGIC) {
    const blank = buf.subarray(0, FILE_HEADER_BYTES).every((b) => b === 0);
    const reason = `bad magic 0x${(header.magic >>> 0).toString(16)}, expected ZKLG`;
    // A header that never reached the disk (zeros) is a torn file creation, not corruption.
    return {
      header: undefined,
      records: [],
      firstZxid: undefined,
      end: blank ? { kind: 'torn', offset: 0, reason } : { kind: 'badHeader', offset: 0, reason },
    };
  }
  const records: LogRecord[] = [];
  let firstZxid: bigint | undefined;
  let lastZxid = -(1n << 63n);
  let pos = FILE_HEADER_BYTES;
  for (;;) {
    if (pos === buf.length) return { header, records, firstZxid, end: { kind: 'clean', offset: pos } };
    const p = probe(buf, pos, skipThrough);
    if (p.ok) {
      if (p.record !== undefined) records.push(p.record);
      firstZxid ??= p.zxid;
      lastZxid = p.zxid;
      pos = p.next;
      continue;
    }
    if (p.zeros) return { header, records, firstZxid, end: { kind: 'clean', offset: pos } };
    const intact = findIntactEntry(buf, pos + 1, lastZxid);
    if (intact !== undefined) {
      return { header, records, firstZxid, end: { kind: 'corrupt', offset: pos, reason: `${p.reason}; an intact entry follows at offset ${intact}` } };
    }
    return { header, records, firstZxid, end: { kind: 'torn', offset: pos, reason: p.reason } };
  }
}
