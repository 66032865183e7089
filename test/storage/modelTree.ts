/**
 * A minimal data tree for storage tests: applies logged txns with ZooKeeper's DataTree rules for
 * stats, loads and produces snapshots. Deliberately independent of src/tree so the storage tests
 * check the file formats on their own.
 */
import crypto from 'node:crypto';
import { OpCode } from '../../src/proto/opcodes.js';
import type { ACL, StatPersisted } from '../../src/proto/records.js';
import { treeDigest, TREE_DIGEST_VERSION } from '../../src/tree/digest.js';
import { type LoadedSnapshot, type SnapshotNode, type SnapshotSource } from '../../src/storage/snapshot.js';
import type { Txn, TxnBody } from '../../src/txn/txn.js';

export interface ModelNode {
  data: Buffer | null;
  acl: readonly ACL[];
  stat: StatPersisted;
  children: Set<string>;
}

const OPEN_ACL: readonly ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ_ACL: readonly ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
const CONTAINER_OWNER = -(1n << 63n);

function zeroStat(): StatPersisted {
  return { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0n };
}

const parentOf = (p: string) => p.slice(0, p.lastIndexOf('/'));
const nameOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);

export class ModelTree {
  /** Keyed by ZooKeeper's snapshot path: '' is the root. */
  readonly nodes = new Map<string, ModelNode>();
  readonly sessions = new Map<bigint, number>();
  lastZxid = 0n;

  static fresh(): ModelTree {
    const t = new ModelTree();
    t.put('', Buffer.alloc(0), OPEN_ACL, zeroStat());
    t.put('/zookeeper', Buffer.alloc(0), OPEN_ACL, zeroStat());
    t.put('/zookeeper/config', Buffer.alloc(0), READ_ACL, { ...zeroStat(), aversion: -1 });
    t.put('/zookeeper/quota', Buffer.alloc(0), OPEN_ACL, zeroStat());
    return t;
  }

  static fromSnapshot(s: LoadedSnapshot): ModelTree {
    const t = new ModelTree();
    for (const [id, to] of s.sessions) t.sessions.set(id, to);
    for (const n of s.nodes) {
      const acl = n.acl === -1n ? OPEN_ACL : s.acls.get(n.acl);
      if (!acl) throw new Error(`acl ${n.acl} missing`);
      t.put(n.path, n.data, acl, { ...n.stat });
    }
    t.lastZxid = s.zxid;
    return t;
  }

  private put(path: string, data: Buffer | null, acl: readonly ACL[], stat: StatPersisted): void {
    this.nodes.set(path, { data, acl, stat, children: new Set() });
    if (path !== '') this.nodes.get(parentOf(path))!.children.add(nameOf(path));
  }

  private key(path: string): string {
    return path === '/' ? '' : path;
  }

  apply(e: Txn): void {
    if (e.header.type === OpCode.createSession && e.body.type === OpCode.createSession) this.sessions.set(e.header.clientId, e.body.txn.timeOut);
    this.applyBody(e.body, e.header.zxid, e.header.time, e.header.clientId);
    if (e.header.zxid > this.lastZxid) this.lastZxid = e.header.zxid;
  }

  private create(path: string, data: Buffer | null, acl: readonly ACL[], owner: bigint, parentCVersion: number, zxid: bigint, time: bigint): void {
    const parent = this.nodes.get(parentOf(path));
    if (!parent) return;
    const pcv = parentCVersion === -1 ? parent.stat.cversion + 1 : parentCVersion;
    if (pcv > parent.stat.cversion) {
      parent.stat.cversion = pcv;
      parent.stat.pzxid = zxid;
    }
    if (this.nodes.has(path)) return; // replay over a fuzzy snapshot
    this.put(path, data, acl, { czxid: zxid, mzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, ephemeralOwner: owner, pzxid: zxid });
  }

  private remove(path: string, zxid: bigint): void {
    const parent = this.nodes.get(parentOf(path));
    if (!parent) return;
    parent.children.delete(nameOf(path));
    if (zxid > parent.stat.pzxid) parent.stat.pzxid = zxid;
    this.nodes.delete(path);
  }

  private applyBody(b: TxnBody, zxid: bigint, time: bigint, session: bigint): void {
    switch (b.type) {
      case OpCode.create:
      case OpCode.create2:
        return this.create(b.txn.path, b.txn.data, b.txn.acl, b.txn.ephemeral ? session : 0n, b.txn.parentCVersion, zxid, time);
      case OpCode.createContainer:
        return this.create(b.txn.path, b.txn.data, b.txn.acl, CONTAINER_OWNER, b.txn.parentCVersion, zxid, time);
      case OpCode.createTTL:
        return this.create(b.txn.path, b.txn.data, b.txn.acl, (0xffn << 56n) | b.txn.ttl, b.txn.parentCVersion, zxid, time);
      case OpCode.delete:
      case OpCode.deleteContainer:
        return this.remove(b.txn.path, zxid);
      case OpCode.setData:
      case OpCode.reconfig: {
        const n = this.nodes.get(this.key(b.txn.path));
        if (!n) return;
        n.data = b.txn.data;
        n.stat.mtime = time;
        n.stat.mzxid = zxid;
        n.stat.version = b.txn.version;
        return;
      }
      case OpCode.setACL: {
        const n = this.nodes.get(this.key(b.txn.path));
        if (!n) return;
        n.acl = b.txn.acl;
        n.stat.aversion = b.txn.version;
        return;
      }
      case OpCode.closeSession: {
        this.sessions.delete(session);
        const doomed = new Set(b.txn?.paths2Delete ?? []);
        for (const [p, n] of this.nodes) if (n.stat.ephemeralOwner === session) doomed.add(p);
        for (const p of doomed) this.remove(p, zxid);
        return;
      }
      case OpCode.multi:
        // A failed multi keeps the ops before the failing one in the log, but DataTree applies
        // none of them when any op is an ErrorTxn.
        if (b.txns.some((t) => t.type === OpCode.error)) return;
        for (const t of b.txns) this.applyBody(t, zxid, time, session);
        return;
      case OpCode.check:
      case OpCode.error:
      case OpCode.createSession:
        return;
    }
  }

  /** Pre-order, parents first, as DataTree.serializeNode walks. */
  *walk(path = ''): Generator<[string, ModelNode]> {
    const n = this.nodes.get(path);
    if (!n) return;
    yield [path, n];
    for (const c of [...n.children]) yield* this.walk(`${path}/${c}`);
  }

  source(): SnapshotSource {
    const index = new Map<string, bigint>();
    const acls: [bigint, readonly ACL[]][] = [];
    const aclIndex = (acl: readonly ACL[]): bigint => {
      const k = JSON.stringify(acl);
      let i = index.get(k);
      if (i === undefined) {
        i = BigInt(acls.length + 1);
        index.set(k, i);
        acls.push([i, acl]);
      }
      return i;
    };
    const nodes: SnapshotNode[] = [];
    for (const [path, n] of this.walk()) nodes.push({ path, data: n.data, acl: aclIndex(n.acl), stat: { ...n.stat } });
    return {
      sessions: () => this.sessions,
      acls: () => acls,
      nodes: () => nodes,
      digest: () => ({ zxid: this.lastZxid, digestVersion: TREE_DIGEST_VERSION, digest: this.digest() }),
    };
  }

  /** ZooKeeper's tree digest of this tree. */
  digest(): bigint {
    return treeDigest([...this.nodes].map(([path, n]) => ({ path, data: n.data, stat: n.stat })));
  }

  /** A comparable dump: path -> data, acl, stat (children count implied by paths). */
  dump(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [p, n] of this.nodes) {
      out.set(
        p === '' ? '/' : p,
        JSON.stringify({ data: n.data?.toString('base64') ?? null, acl: n.acl, stat: n.stat }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
      );
    }
    return out;
  }
}

/** A short hash of a model's nodes and sessions (for comparing states across processes). */
export function hashTree(t: ModelTree): string {
  const d = [...t.dump()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sessions = [...t.sessions].map(([k, v]) => [k.toString(), v]);
  return crypto.createHash('sha1').update(JSON.stringify(d)).update(JSON.stringify(sessions)).digest('hex').slice(0, 16);
}
