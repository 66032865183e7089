/**
 * The V8 heap of a server process: given back after recovery and in quiet spells, and watched
 * against its limit. Recovering a big dataDir leaves the snapshot file's bytes, the log
 * and its decoded txns behind as garbage, and with no allocation going on V8 may keep it (and the
 * RSS) for a long time: one full collection, once the server is serving, gives it back. Then the
 * heap is held against V8's limit: a znode lives almost wholly outside the V8 heap (NodeStore's
 * columns, names, child index and data slabs are ArrayBuffers, about 1 B of heap a znode), so the
 * default limit (a quarter of the machine's memory, at most 4 GiB) does not bound the tree; a heap
 * over half full (sessions, watches, a snapshot being sent) leaves too little room for load, so
 * the log says how to raise it. Either way the log gives the heap and its limit once serving.
 * Later, a burst of load leaves slack behind the same way; collectWhenQuiet gives it back.
 */
import v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import vm from 'node:vm';
import { log } from '../log.js';

const MIB = 1024 * 1024;
const HEAP_WARN_SHARE = 0.5;
/** How often a server process looks for a quiet spell in which to give heap back. */
const QUIET_CHECK_MS = 2000;
/** A check interval is quiet when the event loop was busy less than this share of it... */
export const QUIET_LOOP_UTILIZATION = 0.05;
/** ...and clients' requests completed at less than this rate. */
export const QUIET_REQUESTS_PER_S = 5;
/** Committed V8 heap beyond the live part worth a collection to give back. */
export const SLACK_MIN_BYTES = 16 * MIB;
/**
 * Live heap above which no quiet-spell collection runs: marking it would pause the loop for long
 * (about 35 ms for 10 MiB live at 1M znodes; hundreds of ms for a heap of many sessions and watches).
 */
export const USED_MAX_BYTES = 128 * MIB;
/** Collections per quiet spell, at most. */
export const COLLECTIONS_PER_QUIET_SPELL = 3;
/**
 * Quiet checks from one collection of a spell to the next (6 s). The first collection after a
 * burst frees its garbage; V8 shrinks the young generation only in a collection that finds the
 * allocation rate of the last few seconds low, which the burst still raises 2 or 4 s later.
 */
export const QUIET_CHECKS_BETWEEN_COLLECTIONS = 3;
/** Below this many znodes the garbage recovery leaves is small: no collection is forced. */
const COLLECT_AFTER_ZNODES_MIN = 100_000;

/**
 * One full collection, with no V8 flag: an eager vm.measureMemory has V8 collect the whole heap
 * (ArrayBuffers' backing stores included) to measure what is live. Node marks the call experimental
 * and warns once that it is; that warning alone is held back, as it would read as a fault in the
 * server's log. (--expose-gc set at run time with v8.setFlagsFromString, which did this before, is
 * what Node's documentation calls unpredictable.)
 */
async function fullCollection(): Promise<void> {
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning: string | Error, ...rest: never[]) => {
    if (!String(warning).includes('vm.measureMemory')) emitWarning.call(process, warning, ...rest);
  };
  let measured: Promise<unknown>;
  try {
    measured = vm.measureMemory({ mode: 'summary', execution: 'eager' });
  } finally {
    process.emitWarning = emitWarning;
  }
  await measured;
}

/** One check interval of a server process, as QuietSpells weighs it. */
export interface QuietSample {
  /** Share of the interval the event loop was busy. */
  loopUtilization: number;
  /** Clients' requests completed per second (negative after a counter reset). */
  requestsPerS: number;
  /** Committed V8 heap beyond its used part. */
  slackBytes: number;
  /** Used V8 heap (live, and garbage not yet collected). */
  usedBytes: number;
}

/**
 * When to collect: at the start of a quiet spell and every few quiet checks after, while the slack
 * is big enough and the heap small enough to mark in a short pause; a few times per spell at most,
 * then again only after the server has been busy (an idle server is not collected forever).
 */
export class QuietSpells {
  /** Quiet checks in the current spell so far. */
  private quietChecks = 0;
  private collections = 0;

  /** Whether to collect now. */
  decide(s: QuietSample): boolean {
    // A reset of the counters (srst) reads as a negative rate: counted as busy.
    if (s.loopUtilization >= QUIET_LOOP_UTILIZATION || s.requestsPerS >= QUIET_REQUESTS_PER_S || s.requestsPerS < 0) {
      this.quietChecks = 0;
      this.collections = 0;
      return false;
    }
    const due = this.quietChecks++ % QUIET_CHECKS_BETWEEN_COLLECTIONS === 0;
    if (!due || this.collections >= COLLECTIONS_PER_QUIET_SPELL || s.slackBytes < SLACK_MIN_BYTES || s.usedBytes > USED_MAX_BYTES) return false;
    this.collections++;
    return true;
  }
}

/**
 * Gives the V8 heap's slack back once the server falls quiet. A burst of load (a million creates,
 * a snapshot sent to a learner) leaves the young generation at its largest and old-space pages
 * committed; V8 collects only when allocation asks it to, so an idle server kept them: at 1M
 * znodes about 50 MiB of a 310 MiB RSS. A collection is a pause of tens of ms at 1M znodes, taken
 * only while next to nothing is being served. `requests`: clients' requests completed so far.
 * The timer is unref'd: it runs for the life of the process and never holds it open.
 */
export function collectWhenQuiet(requests: () => number): void {
  const spells = new QuietSpells();
  let elu = performance.eventLoopUtilization();
  let served = requests();
  let collecting = false;
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const loopUtilization = performance.eventLoopUtilization(now, elu).utilization;
    elu = now;
    const total = requests();
    const requestsPerS = ((total - served) * 1000) / QUIET_CHECK_MS;
    served = total;
    const before = v8.getHeapStatistics();
    const usedBytes = before.used_heap_size;
    if (collecting || !spells.decide({ loopUtilization, requestsPerS, slackBytes: before.total_heap_size - usedBytes, usedBytes })) return;
    collecting = true;
    fullCollection()
      .then(
        () => {
          const after = v8.getHeapStatistics();
          log.debug(
            {
              heapCommittedBefore_mib: Math.round(before.total_heap_size / MIB),
              heapCommitted_mib: Math.round(after.total_heap_size / MIB),
              heapUsed_mib: Math.round(after.used_heap_size / MIB),
              spaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((sp) => [sp.space_name, Math.round(sp.space_size / MIB)])),
            },
            'V8 heap collected in a quiet spell',
          );
        },
        (e: unknown) => log.warn({ err: e }, 'the collection in a quiet spell failed'),
      )
      .finally(() => (collecting = false));
  }, QUIET_CHECK_MS).unref();
}

/** Call once the server serves: collects the recovery's garbage (big trees), then checks the heap limit. */
export function afterRecovery(znodes: number): void {
  setImmediate(async () => {
    if (znodes >= COLLECT_AFTER_ZNODES_MIN) await fullCollection().catch((e: unknown) => log.warn({ err: e }, 'the collection after recovery failed'));
    const { used_heap_size, heap_size_limit } = v8.getHeapStatistics();
    log.info(
      { znodes, heapUsed_mib: Math.round(used_heap_size / MIB), heapLimit_mib: Math.round(heap_size_limit / MIB) },
      'V8 heap once serving (the data tree is kept outside it; raise the limit with NODE_OPTIONS=--max-old-space-size=<MiB> if the heap nears it)',
    );
    if (used_heap_size <= heap_size_limit * HEAP_WARN_SHARE) return;
    log.warn(
      { znodes, heapUsed_mib: Math.round(used_heap_size / MIB), heapLimit_mib: Math.round(heap_size_limit / MIB) },
      'the V8 heap is over half its limit (sessions, watches, a snapshot being sent): raise it with NODE_OPTIONS=--max-old-space-size=<MiB> (README: Memory)',
    );
  });
}
