/** Dumps a subtree (data, full Stat, ACL per node) over a raw session, for before/after comparison. */
import { OpCode } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';
import { body, decodeAs, type RawSession } from '../support/raw-client.js';

export interface NodeDump {
  data: string | null;
  stat: R.Stat;
  acl: R.ACL[];
}

/** A runaway bound: the fuzz trees are tiny. */
const TREE_NODES_MAX = 10_000;

export async function dumpTree(s: RawSession, root: string): Promise<Map<string, NodeDump>> {
  const out = new Map<string, NodeDump>();
  const todo = [root];
  while (todo.length > 0) {
    const path = todo.shift()!;
    if (out.size >= TREE_NODES_MAX) throw new Error(`more than ${TREE_NODES_MAX} nodes under ${root}`);
    const g = await s.call(OpCode.getData, body(R.GetDataRequest, { path, watch: false }));
    if (g.err !== 0) throw new Error(`getData ${path}: err ${g.err}`);
    const d = decodeAs(R.GetDataResponse, g.body);
    const a = await s.call(OpCode.getACL, body(R.GetACLRequest, { path }));
    if (a.err !== 0) throw new Error(`getACL ${path}: err ${a.err}`);
    const c = await s.call(OpCode.getChildren, body(R.GetChildrenRequest, { path, watch: false }));
    if (c.err !== 0) throw new Error(`getChildren ${path}: err ${c.err}`);
    out.set(path, { data: d.data === null ? null : d.data.toString('latin1'), stat: d.stat, acl: decodeAs(R.GetACLResponse, a.body).acl });
    for (const k of decodeAs(R.GetChildrenResponse, c.body).children.sort()) todo.push(path === '/' ? `/${k}` : `${path}/${k}`);
  }
  return out;
}

/** Human-readable differences between two dumps (empty when equal). */
export function diffTrees(before: Map<string, NodeDump>, after: Map<string, NodeDump>): string[] {
  const diffs: string[] = [];
  const fmt = (n: NodeDump | undefined): string => JSON.stringify(n, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  for (const p of new Set([...before.keys(), ...after.keys()])) {
    const a = fmt(before.get(p));
    const b = fmt(after.get(p));
    if (a !== b) diffs.push(`${p}: before ${a}, after ${b}`);
  }
  return diffs;
}
