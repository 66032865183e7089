/**
 * The V8 heap after recovery. Recovering a big dataDir leaves the snapshot file's bytes, the log
 * and its decoded txns behind as garbage, and with no allocation going on V8 may keep it (and the
 * RSS) for a long time: one full collection, once the server is serving, gives it back. Then the
 * heap is held against V8's limit: a znode lives almost wholly outside the V8 heap (NodeStore's
 * columns, names, child index and data slabs are ArrayBuffers, about 1 B of heap a znode), so the
 * default limit (a quarter of the machine's memory, at most 4 GiB) does not bound the tree; a heap
 * over half full (sessions, watches, a snapshot being sent) leaves too little room for load, so
 * the log says how to raise it. Either way the log gives the heap and its limit once serving.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { log } from '../log.js';

const HEAP_WARN_SHARE = 0.5;
/** Below this many znodes the garbage recovery leaves is small: no collection is forced. */
const COLLECT_AFTER_ZNODES_MIN = 100_000;
const MIB = 1024 * 1024;

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
