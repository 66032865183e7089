/**
 * V8's heap limit against the loaded tree. Most of a znode lives outside the V8 heap (NodeStore's
 * columns and data slabs are ArrayBuffers), so the default limit (a quarter of the machine's
 * memory, at most 4 GiB) holds millions of znodes; a tree that fills half of it leaves too little
 * room for a snapshot being written and for load, so the start says how to raise it.
 */
import v8 from 'node:v8';
import { log } from '../log.js';

const HEAP_WARN_SHARE = 0.5;
const MIB = 1024 * 1024;

export function warnIfHeapTight(znodes: number): void {
  const { used_heap_size, heap_size_limit } = v8.getHeapStatistics();
  if (used_heap_size <= heap_size_limit * HEAP_WARN_SHARE) return;
  log.warn(
    { znodes, heapUsed_mib: Math.round(used_heap_size / MIB), heapLimit_mib: Math.round(heap_size_limit / MIB) },
    "the data tree fills over half of V8's heap limit: raise it with NODE_OPTIONS=--max-old-space-size=<MiB> (README: Memory)",
  );
}
