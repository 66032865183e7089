/**
 * The workloads the harness knows, in the order they run. Async workloads keep many requests
 * outstanding on every session of every worker; sync workloads use one session with one
 * request at a time, so their latency is the server's round trip.
 */
export type OpName = 'create' | 'exists' | 'getData' | 'setData' | 'getChildren' | 'delete' | 'mix';
export type Mode = 'async' | 'sync';

export interface Workload {
  /** Row label, e.g. "create async", "mix r90 async". */
  name: string;
  op: OpName;
  mode: Mode;
  /** For `mix`: percentage of getData (the rest setData). */
  readPct: number;
  /** Changes the tree (a txn per op). */
  write: boolean;
}

export const OP_ORDER: readonly OpName[] = ['create', 'exists', 'getData', 'setData', 'mix', 'getChildren', 'delete'];
export const DEFAULT_OPS = 'create,exists,getData,setData,getChildren,delete';
const WRITES: ReadonlySet<OpName> = new Set(['create', 'setData', 'delete']);
/** Ops that need nodes made by `create` first. */
const NEEDS_KEYS: ReadonlySet<OpName> = new Set(['exists', 'getData', 'setData', 'mix', 'delete']);

function workload(op: OpName, mode: Mode, readPct: number): Workload {
  const label = op === 'mix' ? `mix r${readPct}` : op;
  return { name: `${label} ${mode}`, op, mode, readPct, write: WRITES.has(op) || (op === 'mix' && readPct < 100) };
}

/**
 * Parses "create,getData,mix90,mix50" and "async,sync" into the ordered workload list. `mixNN`
 * is NN% getData and the rest setData on the created nodes (the read/write ratio sweep).
 * `create` is added when another op needs nodes to work on.
 */
export function parseWorkloads(ops: string, modes: string): Workload[] {
  const chosen: { op: OpName; readPct: number }[] = [];
  for (const raw of ops
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const mix = /^mix(\d{1,3})$/.exec(raw);
    if (mix) {
      const readPct = Number(mix[1]);
      if (readPct > 100) throw new Error(`bad workload ${raw}: read percentage over 100`);
      chosen.push({ op: 'mix', readPct });
    } else if ((OP_ORDER as readonly string[]).includes(raw) && raw !== 'mix') {
      chosen.push({ op: raw as OpName, readPct: raw === 'getData' || raw === 'exists' || raw === 'getChildren' ? 100 : 0 });
    } else {
      throw new Error(`unknown workload ${raw} (known: ${OP_ORDER.filter((o) => o !== 'mix').join(', ')}, mixNN)`);
    }
  }
  if (chosen.some((c) => NEEDS_KEYS.has(c.op)) && !chosen.some((c) => c.op === 'create')) chosen.push({ op: 'create', readPct: 0 });
  chosen.sort((a, b) => OP_ORDER.indexOf(a.op) - OP_ORDER.indexOf(b.op) || b.readPct - a.readPct);
  const modeList = modes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const m of modeList) if (m !== 'async' && m !== 'sync') throw new Error(`unknown mode ${m} (async, sync)`);
  if (modeList.length === 0) throw new Error('no modes');
  const out: Workload[] = [];
  for (const mode of ['async', 'sync'] as const) {
    if (!modeList.includes(mode)) continue;
    for (const c of chosen) out.push(workload(c.op, mode, c.readPct));
  }
  return out;
}
