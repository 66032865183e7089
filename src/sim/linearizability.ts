import { VERSION_UNREPORTED, type WriteOp } from './history.js';

/**
 * Wing & Gong / Lowe style search for a linearization of one register's compare-and-set
 * history. Registers are independent objects, so the whole history is linearizable iff each
 * register's is (locality). Ops with an unknown outcome may take effect anywhere after their
 * invocation, or not at all.
 */
export interface LinResult {
  ok: boolean;
  /** For failures: the ops of the offending register, for the report. */
  explored: number;
}

const SEARCH_STATES_MAX = 2_000_000;

/**
 * Is `order` (a subset of the ops, in the order they took effect) a valid linearization? Ops left
 * out must have unknown outcomes; the results must follow from the order; and an op that
 * completed before another began must come first. A valid witness proves the history
 * linearizable, whatever produced it.
 */
export function isWitness(ops: readonly WriteOp[], order: readonly WriteOp[]): boolean {
  const inOrder = new Set(order);
  for (const o of ops) if (!inOrder.has(o) && o.result !== 'unknown' && o.result !== null) return false;
  let version = 0;
  for (const o of order) {
    const matches = o.expectedVersion === -1 || o.expectedVersion === version;
    const r = o.result;
    const next = matches && o.check !== true ? version + 1 : version;
    if (r !== 'unknown' && r !== null) {
      if (r.ok !== matches) return false;
      if (r.version !== next && r.version !== VERSION_UNREPORTED) return false;
    } else if (!matches) continue;
    version = next;
  }
  // Real time: nothing later in the order may have completed before an earlier one began.
  let minResp = Infinity;
  for (let i = order.length - 1; i >= 0; i--) {
    const o = order[i]!;
    if (o.invoke > minResp) return false;
    const resp = o.result === 'unknown' || o.result === null ? Infinity : (o.response ?? Infinity);
    if (resp < minResp) minResp = resp;
  }
  return true;
}

export function checkRegister(ops: readonly WriteOp[], witness?: readonly WriteOp[]): LinResult {
  if (witness !== undefined && isWitness(ops, witness)) return { ok: true, explored: 0 };
  const n = ops.length;
  const inv = ops.map((o) => o.invoke);
  const resp = ops.map((o) => (o.result === 'unknown' || o.result === null ? Infinity : (o.response ?? Infinity)));
  const known = ops.map((o) => o.result !== 'unknown' && o.result !== null);
  const done = new Uint8Array(n);
  const seen = new Set<string>();
  let explored = 0;
  let remainingKnown = known.filter(Boolean).length;

  const dfs = (version: number, value: string): boolean => {
    if (remainingKnown === 0) return true;
    if (++explored > SEARCH_STATES_MAX) throw new RangeError('linearizability search too large');
    let key = `${version}|${value}|`;
    for (let i = 0; i < n; i++) key += done[i] ? '1' : '0';
    if (seen.has(key)) return false;
    seen.add(key);
    let minResp = Infinity;
    for (let i = 0; i < n; i++) if (!done[i] && resp[i]! < minResp) minResp = resp[i]!;
    for (let i = 0; i < n; i++) {
      if (done[i] || inv[i]! > minResp) continue;
      const o = ops[i]!;
      const matches = o.expectedVersion === -1 || o.expectedVersion === version;
      let nv = version;
      let nval = value;
      const writes = matches && o.check !== true;
      if (known[i]) {
        const r = o.result as { ok: boolean; version: number };
        const reported = writes ? version + 1 : version;
        if (r.ok !== matches || (r.version !== reported && r.version !== VERSION_UNREPORTED)) continue;
      } else if (!writes) continue; // an unknown op that writes nothing has no effect: same as leaving it out
      if (writes) {
        nv = version + 1;
        nval = o.value;
      }
      done[i] = 1;
      if (known[i]) remainingKnown--;
      const ok = dfs(nv, nval);
      done[i] = 0;
      if (known[i]) remainingKnown++;
      if (ok) return true;
    }
    return false;
  };
  try {
    return { ok: dfs(0, ''), explored };
  } catch {
    return { ok: false, explored }; // no witness and too large to search: reported as a failure
  }
}
