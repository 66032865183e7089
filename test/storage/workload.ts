/** Deterministic random txn streams that are valid against a ModelTree, for storage tests. */
import { OpCode } from '../../src/proto/opcodes.js';
import type { ACL } from '../../src/proto/records.js';
import type { Txn, TxnBody } from '../../src/txn/txn.js';
import type { ModelTree } from './modelTree.js';
import { TREE_DIGEST_VERSION } from '../../src/tree/digest.js';
import { seededRandom } from '../../src/sim/prng.js';

/** Deterministic random numbers, so a failing seed can be rerun. */
export const prng = seededRandom;

const ACLS: ACL[][] = [
  [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
  // world has ADMIN so that ZooKeeper shows the digest id to clients unmasked.
  [
    { perms: 17, id: { scheme: 'world', id: 'anyone' } },
    { perms: 31, id: { scheme: 'digest', id: 'u:abc=' } },
  ],
  [{ perms: 3, id: { scheme: 'ip', id: '127.0.0.1' } }],
];

export class Workload {
  private readonly rnd: () => number;
  private n = 0;
  zxid: bigint;
  private readonly session = 0x100000abcn;

  constructor(
    private readonly tree: ModelTree,
    seed: number,
    startZxid = tree.lastZxid,
    /** 'fake': made-up TxnDigests on every other txn (format tests); 'real': ZooKeeper's tree digest after each txn; 'none'. */
    private readonly digests: 'fake' | 'real' | 'none' = 'fake',
  ) {
    this.rnd = prng(seed);
    this.zxid = startZxid;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  private userPaths(): string[] {
    return [...this.tree.nodes.keys()].filter((p) => p !== '' && !p.startsWith('/zookeeper'));
  }

  private body(): TxnBody {
    const paths = this.userPaths();
    const r = this.rnd();
    const data = Buffer.from(`v${this.n}-${Math.floor(this.rnd() * 1e6)}`);
    if (r < 0.45 || paths.length < 3) {
      const parent = paths.length > 0 && this.rnd() < 0.3 ? this.pick(paths) : '';
      const owner = this.tree.nodes.get(parent)?.stat.ephemeralOwner ?? 0n;
      const base = owner !== 0n ? '' : parent;
      return {
        type: OpCode.create,
        txn: {
          path: `${base}/n${this.n}`,
          data,
          acl: this.pick(ACLS),
          ephemeral: this.rnd() < 0.2,
          parentCVersion: (this.tree.nodes.get(base)?.stat.cversion ?? 0) + 1,
        },
      };
    }
    const p = this.pick(paths);
    const node = this.tree.nodes.get(p)!;
    if (r < 0.7) return { type: OpCode.setData, txn: { path: p, data, version: node.stat.version + 1 } };
    if (r < 0.8) return { type: OpCode.setACL, txn: { path: p, acl: this.pick(ACLS), version: node.stat.aversion + 1 } };
    if (r < 0.9 && node.children.size === 0) return { type: OpCode.delete, txn: { path: p } };
    const q = this.pick(paths);
    return {
      type: OpCode.multi,
      txns: [
        { type: OpCode.check, txn: { path: q, version: this.tree.nodes.get(q)!.stat.version } },
        { type: OpCode.setData, txn: { path: q, data, version: this.tree.nodes.get(q)!.stat.version + 1 } },
        {
          type: OpCode.create,
          txn: { path: `/m${this.n}`, data: null, acl: ACLS[0]!, ephemeral: false, parentCVersion: this.tree.nodes.get('')!.stat.cversion + 1 },
        },
      ],
    };
  }

  /** The next txn (also applied to the tree, so the following ones stay valid). */
  next(): Txn {
    this.n++;
    this.zxid++;
    let body: TxnBody;
    if (this.n === 1) body = { type: OpCode.createSession, txn: { timeOut: 30000 } };
    else body = this.body();
    const e: Txn = {
      header: { clientId: this.session, cxid: this.n, zxid: this.zxid, time: 1_700_000_000_000n + BigInt(this.n), type: body.type },
      body,
      ...(this.digests === 'fake' && this.n % 2 === 0 ? { digest: { version: 2, treeDigest: BigInt(this.n) * 7919n } } : {}),
    };
    this.tree.apply(e);
    if (this.digests === 'real') e.digest = { version: TREE_DIGEST_VERSION, treeDigest: this.tree.digest() };
    return e;
  }

  batch(count: number): Txn[] {
    return Array.from({ length: count }, () => this.next());
  }
}
