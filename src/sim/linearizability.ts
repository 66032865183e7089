import type { WriteOp } from './history.js';

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

export function checkRegister(ops: readonly WriteOp[]): LinResult {
  const n = ops.length;
  const inv = ops.map((o) => o.invoke);
  const resp = ops.map((o) => (o.result === 'unknown' || o.result === null ? Infinity : o.response ?? Infinity));
  const known = ops.map((o) => o.result !== 'unknown' && o.result !== null);
  const done = new Uint8Array(n);
  const seen = new Set<string>();
  let explored = 0;
  let remainingKnown = known.filter(Boolean).length;

  const dfs = (version: number, value: string): boolean => {
    if (remainingKnown === 0) return true;
    if (++explored > SEARCH_STATES_MAX) throw new Error('linearizability search too large');
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
      if (known[i]) {
        const r = o.result as { ok: boolean; version: number };
        if (matches) {
          if (!r.ok || r.version !== version + 1) continue;
          nv = version + 1;
          nval = o.value;
        } else if (r.ok || r.version !== version) continue;
      } else {
        if (!matches) continue; // a failed unknown write has no effect: same as leaving it out
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
  return { ok: dfs(0, ''), explored };
}
