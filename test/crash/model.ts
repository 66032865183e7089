/**
 * The crash workload's model: each lane owns three znodes under /crash/l<i> and has at most one
 * write in flight, so after a crash each lane is either as its acknowledged writes left it or as
 * the one unacknowledged write would leave it — nothing else (a multi all or nothing).
 */
import { op, type Op as ClientOp } from '../../src/client/index.js';
import { seededRandom } from '../../src/sim/prng.js';

export type NodeName = 'a' | 'b' | 'c';
export const NODE_NAMES: readonly NodeName[] = ['a', 'b', 'c'];
export interface ZNode {
  data: string;
  version: number;
}
export type Lane = Record<NodeName, ZNode | null>;

/** One write, as the model sees it: a list of primitive steps applied atomically. */
export type Step =
  | { kind: 'create'; node: NodeName; data: string }
  | { kind: 'set'; node: NodeName; data: string; version: number }
  | { kind: 'delete'; node: NodeName; version: number };
export interface Write {
  multi: boolean;
  steps: Step[];
}

export const emptyLane = (): Lane => ({ a: null, b: null, c: null });

export function applyWrite(lane: Lane, w: Write): Lane {
  const n: Lane = { ...lane };
  for (const s of w.steps) {
    const cur = n[s.node];
    switch (s.kind) {
      case 'create':
        if (cur !== null) throw new Error(`model: create of existing ${s.node}`);
        n[s.node] = { data: s.data, version: 0 };
        break;
      case 'set':
        if (cur === null || cur.version !== s.version) throw new Error(`model: set of ${s.node} at wrong version`);
        n[s.node] = { data: s.data, version: cur.version + 1 };
        break;
      case 'delete':
        if (cur === null || cur.version !== s.version) throw new Error(`model: delete of ${s.node} at wrong version`);
        n[s.node] = null;
        break;
    }
  }
  return n;
}

/** A random write valid in `lane`'s state (versions are expected versions: a stale model fails loudly). */
export function pickWrite(lane: Lane, rnd: () => number, tag: string): Write {
  const present = NODE_NAMES.filter((x) => lane[x] !== null);
  const absent = NODE_NAMES.filter((x) => lane[x] === null);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const one = (node: NodeName, i: number): Step => {
    const cur = lane[node];
    if (cur === null) return { kind: 'create', node, data: `${tag}.${i}` };
    return rnd() < 0.7 ? { kind: 'set', node, data: `${tag}.${i}`, version: cur.version } : { kind: 'delete', node, version: cur.version };
  };
  const r = rnd();
  if (r < 0.35 || present.length === 0) {
    // A multi over two or three distinct nodes: creates, sets and deletes mixed.
    const nodes = [...NODE_NAMES].sort(() => rnd() - 0.5).slice(0, 2 + Math.floor(rnd() * 2));
    return { multi: true, steps: nodes.map((n, i) => one(n, i)) };
  }
  if (r < 0.55 && absent.length > 0) return { multi: false, steps: [{ kind: 'create', node: pick(absent), data: tag }] };
  const node = pick(present);
  const cur = lane[node]!;
  if (r < 0.85) return { multi: false, steps: [{ kind: 'set', node, data: tag, version: cur.version }] };
  return { multi: false, steps: [{ kind: 'delete', node, version: cur.version }] };
}

export function clientOps(base: string, w: Write): ClientOp[] {
  return w.steps.map((s) => {
    const p = `${base}/${s.node}`;
    if (s.kind === 'create') return op.create(p, s.data);
    if (s.kind === 'set') return op.setData(p, s.data, s.version);
    return op.delete(p, s.version);
  });
}

export const sameLane = (x: Lane, y: Lane): boolean => NODE_NAMES.every((n) => JSON.stringify(x[n]) === JSON.stringify(y[n]));

/** Deterministic random numbers, so a failing seed can be rerun. */
export const prng = seededRandom;
