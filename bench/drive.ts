/**
 * Runs one workload over a set of pipelined sessions: keeps `depth` requests outstanding per
 * session until the deadline (or until there is nothing left to do, for delete), records every
 * reply's latency, and counts ops and error replies. One batch of new requests is encoded and
 * flushed per socket read.
 */
import { performance } from 'node:perf_hooks';
import hdr, { type Histogram } from 'hdr-histogram-js';
import { OpCode } from '../src/proto/opcodes.js';
import { type BenchSession, REPLY_HEADER_BYTES, writeCreate, writeDelete, writePathWatch, writeSetData } from './session.js';
import type { OpName } from './workloads.js';

/** Which keys a session has made in one key space: `<dir>/<keyspace><i>` for deleted ≤ i < created. */
export interface KeyState {
  created: number;
  deleted: number;
  cursor: number;
}

export interface DriveSpec {
  op: OpName;
  /** Percentage of reads (getData) in the `mix` op; the rest are setData. */
  readPct: number;
  keyspace: string;
  depth: number;
  duration_ms: number;
  /** The parent whose children getChildren lists. */
  fanPath: string;
  /** Its children's names, to check getChildren replies. */
  fanChildren: number;
  data: Buffer;
}

export interface DriveLane {
  session: BenchSession;
  dir: string;
  keys: KeyState;
}

export interface DriveOutcome {
  ops: number;
  errors: number;
  /** Error code → count, for error replies. */
  errorCodes: Record<string, number>;
  elapsed_ms: number;
}

/** The histogram a drive records into, in µs: one setting everywhere, so workers' histograms add up. */
export function newLatencyHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
}

/** Bound on one drive beyond its duration: replies must drain within this. */
const DRAIN_TIMEOUT_MS = 60_000;

export function drive(lanes: DriveLane[], spec: DriveSpec, hist: Histogram): Promise<DriveOutcome> {
  const out: DriveOutcome = { ops: 0, errors: 0, errorCodes: {}, elapsed_ms: 0 };
  const start_ms = performance.now();
  const deadline_ms = start_ms + spec.duration_ms;
  let stopping = false;
  let finished = false;
  return new Promise<DriveOutcome>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const finish = (e?: Error): void => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      for (const l of lanes) {
        l.session.onReply = () => {};
        l.session.onBatch = () => {};
      }
      out.elapsed_ms = performance.now() - start_ms;
      if (e) reject(e);
      else resolve(out);
    };
    const laneDone = (l: DriveLane): boolean => l.session.outstanding === 0 && (stopping || !canIssue(spec.op, l.keys));
    const checkDone = (): void => {
      if (lanes.every(laneDone)) finish();
    };
    const refill = (l: DriveLane): void => {
      if (!stopping && performance.now() >= deadline_ms) stopping = true;
      if (!stopping) {
        const s = l.session;
        while (s.outstanding < spec.depth && canIssue(spec.op, l.keys)) issue(l, spec);
        s.flush();
      }
      checkDone();
    };
    const expect = expectedLengths(spec);
    const onReply = (err: number, latency_us: number, type: number, length_bytes: number): void => {
      out.ops++;
      hist.recordValue(latency_us < 1 ? 1 : Math.round(latency_us));
      if (err !== 0) {
        out.errors++;
        out.errorCodes[err] = (out.errorCodes[err] ?? 0) + 1;
      } else if (!expect(type, length_bytes)) {
        // A success whose body has the wrong size: the server is not answering what was asked.
        out.errors++;
        out.errorCodes[BAD_REPLY] = (out.errorCodes[BAD_REPLY] ?? 0) + 1;
      }
    };
    for (const l of lanes) {
      l.session.onReply = onReply;
      l.session.onBatch = () => refill(l);
      l.session.onFailure = (e) => finish(e);
    }
    timers.push(
      setTimeout(() => {
        stopping = true;
        checkDone();
      }, spec.duration_ms),
    );
    timers.push(
      setTimeout(
        () => finish(new Error(`${spec.op}: replies did not drain within ${DRAIN_TIMEOUT_MS} ms after the deadline`)),
        spec.duration_ms + DRAIN_TIMEOUT_MS,
      ),
    );
    const dead = lanes.find((l) => l.session.failure !== undefined);
    if (dead) return finish(dead.session.failure);
    for (const l of lanes) refill(l);
  });
}

/** Error-code key for successful replies whose body length is wrong. */
export const BAD_REPLY = 'bad-reply-length';
/** Stat on the wire: 6 longs and 5 ints. */
const STAT_BYTES = 68;

/**
 * The body length a successful reply must have, per request type: every node's data is
 * `data.length` bytes (create and setData write the same size), fan children are c0…cN-1.
 */
function expectedLengths(spec: DriveSpec): (type: number, length_bytes: number) => boolean {
  const h = REPLY_HEADER_BYTES;
  let fan = h + 4;
  for (let c = 0; c < spec.fanChildren; c++) fan += 4 + `c${c}`.length;
  const getData = h + 4 + spec.data.length + STAT_BYTES;
  return (type, len) => {
    switch (type) {
      case OpCode.create:
        return len > h + 4; // the created path, whose length varies
      case OpCode.delete:
        return len === h;
      case OpCode.exists:
      case OpCode.setData:
        return len === h + STAT_BYTES;
      case OpCode.getData:
        return len === getData;
      case OpCode.getChildren:
        return len === fan;
      default:
        return true;
    }
  };
}

function live(k: KeyState): number {
  return k.created - k.deleted;
}

function canIssue(op: OpName, k: KeyState): boolean {
  switch (op) {
    case 'create':
    case 'getChildren':
      return true;
    case 'delete':
    case 'exists':
    case 'getData':
    case 'setData':
    case 'mix':
      return live(k) > 0;
  }
}

/** A key that exists: round robin over the live keys. */
function liveKey(l: DriveLane, spec: DriveSpec): string {
  const k = l.keys;
  const i = k.deleted + (k.cursor++ % live(k));
  return `${l.dir}/${spec.keyspace}${i}`;
}

function issue(l: DriveLane, spec: DriveSpec): void {
  const s = l.session;
  switch (spec.op) {
    case 'create':
      writeCreate(s.begin(OpCode.create), `${l.dir}/${spec.keyspace}${l.keys.created++}`, spec.data, 0);
      break;
    case 'delete':
      writeDelete(s.begin(OpCode.delete), `${l.dir}/${spec.keyspace}${l.keys.deleted++}`);
      break;
    case 'exists':
      writePathWatch(s.begin(OpCode.exists), liveKey(l, spec));
      break;
    case 'getData':
      writePathWatch(s.begin(OpCode.getData), liveKey(l, spec));
      break;
    case 'setData':
      writeSetData(s.begin(OpCode.setData), liveKey(l, spec), spec.data);
      break;
    case 'getChildren':
      writePathWatch(s.begin(OpCode.getChildren), spec.fanPath);
      break;
    case 'mix': {
      // Reads and writes interleaved evenly: in every 100 requests, readPct are getData.
      const read = l.keys.cursor % 100 < spec.readPct;
      if (read) writePathWatch(s.begin(OpCode.getData), liveKey(l, spec));
      else writeSetData(s.begin(OpCode.setData), liveKey(l, spec), spec.data);
      break;
    }
  }
  s.end();
}

/**
 * Creates each path in order (parents before children), pipelined; a node that already
 * exists is fine. Used to lay out the benchmark's directories before measuring.
 */
export function createPaths(session: BenchSession, paths: string[], data: Buffer): Promise<void> {
  const NODE_EXISTS = -110;
  return new Promise<void>((resolve, reject) => {
    let next = 0;
    let done = 0;
    const depth = 64;
    session.onFailure = reject;
    session.onReply = (err) => {
      done++;
      if (err !== 0 && err !== NODE_EXISTS) reject(new Error(`setup create ${paths[done - 1]}: error ${err}`));
    };
    const pump = (): void => {
      // A session's requests are applied in order, so a child may follow its parent in one pipeline.
      while (next < paths.length && session.outstanding < depth) {
        writeCreate(session.begin(OpCode.create), paths[next++]!, data, 0);
        session.end();
      }
      session.flush();
      if (done === paths.length) {
        session.onReply = () => {};
        session.onBatch = () => {};
        resolve();
      }
    };
    session.onBatch = pump;
    pump();
  });
}
