/**
 * Turning a client write into a txn (PrepRequestProcessor): validated against the committed tree
 * plus the changes of txns prepared but not yet applied ("outstanding changes"), so a pipeline
 * of writes sees its own effects before they are applied. Pure: no I/O, no clock (time is given).
 */
import { OpCode, Perms, CreateMode } from '../proto/opcodes.js';
import { Err, KeeperError } from '../proto/errors.js';
import type {
  ACL,
  CheckVersionRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  Id,
  ReconfigRequest,
  SetACLRequest,
  SetDataRequest,
  StatPersisted,
} from '../proto/records.js';
import { CONFIG_PATH, DataTree } from '../tree/dataTree.js';
import { createStat, javaCloneCapacity, javaGrownCapacity, javaHashOrder } from '../tree/dataNode.js';
import { DigestSum, nodeDigest, TREE_DIGEST_VERSION } from '../tree/digest.js';
import { CONTAINER_EPHEMERAL_OWNER, ephemeralKind, ttlToEphemeralOwner } from '../tree/ephemeralType.js';
import { pathProblem } from '../tree/paths.js';
import { checkACL, fixupACL, type AclPolicy } from './auth.js';
import type { Txn, TxnBody } from './txn.js';

/** A client write, decoded. Multi holds only create*, delete, setData and check. */
export type WriteRequest =
  | { op: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; req: CreateRequest }
  | { op: typeof OpCode.createTTL; req: CreateTTLRequest }
  | { op: typeof OpCode.delete; req: DeleteRequest }
  | { op: typeof OpCode.deleteContainer; path: string }
  | { op: typeof OpCode.setData; req: SetDataRequest }
  | { op: typeof OpCode.setACL; req: SetACLRequest }
  | { op: typeof OpCode.check; req: CheckVersionRequest }
  | { op: typeof OpCode.multi; ops: WriteRequest[] }
  | { op: typeof OpCode.createSession; timeout_ms: number }
  | { op: typeof OpCode.closeSession }
  | { op: typeof OpCode.reconfig; req: ReconfigRequest };

/** Who sends the write and when. */
export interface RequestContext {
  sessionId: bigint;
  cxid: number;
  authInfo: readonly Id[];
  /** Wall-clock ms for ctime/mtime and the header. */
  time: bigint;
}

/** What prepare needs to know about sessions (SessionTracker.checkSession). */
export interface SessionView {
  /** undefined when the session may write; else UnknownSession or SessionExpired. */
  check(sessionId: bigint): typeof Err.UnknownSession | typeof Err.SessionExpired | undefined;
}

/**
 * What prepare needs to know about the ensemble for a reconfig. Its checks run in ZooKeeper's
 * order: reconfigEnabled, the session, then `next`'s (standalone: Unimplemented; a reconfig in
 * progress; curConfigId; the request's arguments; a synced quorum of the new config), then the
 * WRITE ACL on /zookeeper/config, then `proposing`.
 */
export interface ReconfigPolicy {
  readonly enabled: boolean;
  /** The new config's bytes (/zookeeper/config's data), numbered `zxid`; throws KeeperError when refused. */
  next(req: ReconfigRequest, zxid: bigint): Buffer;
  /** The reconfig txn holding `data` is about to be proposed; throws KeeperError when this server cannot carry it out. */
  proposing(data: Buffer, zxid: bigint): void;
}

/** A standalone server's: reconfiguration needs an ensemble (ZooKeeper: UnimplementedException). */
export function standaloneReconfig(enabled: boolean): ReconfigPolicy {
  const refuse = (): never => {
    throw new KeeperError(Err.Unimplemented);
  };
  return { enabled, next: refuse, proposing: refuse };
}

export interface PrepOptions extends AclPolicy {
  extendedTypesEnabled: boolean;
  /** zookeeper.digest.enabled: put the predicted tree digest on every txn (TxnDigest). */
  digestEnabled: boolean;
  /** Test-only broken variant (src/server/mutations.ts): a failed multi's earlier changes stay outstanding. */
  failedMultiKeepsChanges?: boolean;
}

/** A node's state as prepare sees it (ChangeRecord); stat null = deleted by an outstanding txn. */
interface ChangeRecord {
  zxid: bigint;
  path: string;
  stat: StatPersisted | null;
  childCount: number;
  acl: readonly ACL[];
  data: Buffer | null;
  /** With digests on: this node's digest in this state, and what the change did to the tree's. */
  digest?: number;
  digestDelta?: number;
}

/** Largest count of outstanding change records kept before prepare refuses to run ahead. */
export const OUTSTANDING_CHANGES_MAX = 1_000_000;
/** Applied change records are cut from the front of the array once this many have piled up there. */
const CHANGES_COMPACT_AT = 1024;

export class TxnPreparer {
  /** Outstanding change records are changes[head..], oldest first (a head index: commits drop them one txn at a time). */
  private readonly changes: ChangeRecord[] = [];
  private head = 0;
  private readonly changesByPath = new Map<string, ChangeRecord>();
  /** The tree digest once every prepared txn is applied (valid while changes are outstanding). */
  private readonly predicted = new DigestSum();
  constructor(
    private readonly tree: DataTree,
    private readonly opts: PrepOptions,
    private readonly sessions: SessionView,
    private readonly reconfig: ReconfigPolicy,
  ) {}

  get outstandingCount(): number {
    return this.changes.length - this.head;
  }

  /**
   * Prepares one write as the txn with `zxid` (numbered by the caller: the ZAB core, or the
   * standalone server's counter). Always yields a txn: an error txn when the write fails, as
   * ZooKeeper logs it.
   */
  prepare(ctx: RequestContext, w: WriteRequest, zxid: bigint): Txn {
    if (this.outstandingCount >= OUTSTANDING_CHANGES_MAX) throw new Error('outstanding changes over their bound');
    const header = { clientId: ctx.sessionId, cxid: ctx.cxid, zxid, time: ctx.time, type: w.op as number };
    if (w.op === OpCode.multi) return this.withDigest({ header, body: this.prepareMulti(ctx, zxid, w.ops) });
    try {
      return this.withDigest({ header, body: this.prepareOne(ctx, zxid, w) });
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
      header.type = OpCode.error;
      return this.withDigest({ header, body: { type: OpCode.error, txn: { err: e.code } } });
    }
  }

  /** A write that failed before it could be prepared (undecodable): it still takes a zxid, as an error txn. */
  prepareError(ctx: RequestContext, err: number, zxid: bigint): Txn {
    return this.withDigest({
      header: { clientId: ctx.sessionId, cxid: ctx.cxid, zxid, time: ctx.time, type: OpCode.error },
      body: { type: OpCode.error, txn: { err } },
    });
  }

  /** Stamps the txn with the digest its followers must reach after applying it (ZooKeeper 3.8 does by default). */
  private withDigest(txn: Txn): Txn {
    if (!this.opts.digestEnabled) return txn;
    // Nothing outstanding: the tree has applied every txn that changed a node (txns that change
    // none leave no record), so it is the starting point.
    const digest = this.outstandingCount === 0 ? this.tree.digest : this.predicted.value;
    txn.digest = { version: TREE_DIGEST_VERSION, treeDigest: digest };
    return txn;
  }

  /** Drops change records made by txns up to `zxid` once those are applied to the tree. */
  applied(zxid: bigint): void {
    const cs = this.changes;
    while (this.head < cs.length && cs[this.head]!.zxid <= zxid) {
      const c = cs[this.head++]!;
      if (this.changesByPath.get(c.path) === c) this.changesByPath.delete(c.path);
    }
    if (this.head === cs.length) {
      cs.length = 0;
      this.head = 0;
    } else if (this.head >= CHANGES_COMPACT_AT && this.head * 2 >= cs.length) {
      cs.splice(0, this.head);
      this.head = 0;
    }
  }

  private prepareMulti(ctx: RequestContext, zxid: bigint, ops: WriteRequest[]): TxnBody {
    const saved = this.savePending(ops);
    const savedLength = this.changes.length;
    const txns: TxnBody[] = [];
    let failed = false;
    for (const op of ops) {
      if (failed) {
        txns.push({ type: OpCode.error, txn: { err: Err.RuntimeInconsistency } });
        continue;
      }
      try {
        txns.push(this.prepareOne(ctx, zxid, op));
      } catch (e) {
        if (!(e instanceof KeeperError)) throw e;
        failed = true;
        txns.push({ type: OpCode.error, txn: { err: e.code } });
        if (this.opts.failedMultiKeepsChanges !== true) this.rollback(saved, savedLength);
      }
    }
    return { type: OpCode.multi, txns };
  }

  private savePending(ops: WriteRequest[]): Map<string, ChangeRecord | undefined> {
    const saved = new Map<string, ChangeRecord | undefined>();
    const keep = (p: string): void => {
      if (!saved.has(p)) saved.set(p, this.changesByPath.get(p));
    };
    for (const op of ops) {
      const p = writePath(op);
      if (p === undefined) continue;
      keep(p);
      const i = p.lastIndexOf('/');
      if (i >= 0) keep(p.substring(0, i));
    }
    return saved;
  }

  private rollback(saved: Map<string, ChangeRecord | undefined>, length: number): void {
    const removed = this.changes.splice(length);
    for (const c of removed) {
      if (this.changesByPath.get(c.path) === c) this.changesByPath.delete(c.path);
      if (c.digestDelta !== undefined) this.predicted.add(-c.digestDelta);
    }
    for (const [p, c] of saved) {
      if (c === undefined) this.changesByPath.delete(p);
      else this.changesByPath.set(p, c);
    }
  }

  private add(c: ChangeRecord): void {
    if (this.opts.digestEnabled) {
      if (this.outstandingCount === 0) this.predicted.reset(this.tree.digest);
      // What this change does to the tree digest: the node's digest as it stands now out, its new one in.
      c.digest = c.stat === null ? 0 : nodeDigest(c.path, c.data, c.stat);
      c.digestDelta = c.digest - this.digestNow(c.path);
      this.predicted.add(c.digestDelta);
    }
    this.changes.push(c);
    this.changesByPath.set(c.path, c);
  }

  /** The digest of the node at `path` in its outstanding state (0 if absent). */
  private digestNow(path: string): number {
    const c = this.changesByPath.get(path);
    if (c !== undefined) return c.digest!;
    const n = this.tree.getNode(path);
    return n === undefined ? 0 : this.tree.nodeDigestOf(path, n);
  }

  /** getRecordForPath: the outstanding view of a node, NoNode if absent there. */
  private record(path: string): ChangeRecord {
    const c = this.changesByPath.get(path);
    if (c !== undefined) {
      if (c.stat === null) throw new KeeperError(Err.NoNode, path);
      return c;
    }
    const n = this.tree.getNode(path);
    if (n === undefined) throw new KeeperError(Err.NoNode, path);
    return { zxid: -1n, path, stat: n.stat, childCount: n.numChildren, acl: this.tree.aclOf(n), data: n.data };
  }

  private duplicate(c: ChangeRecord, zxid: bigint): ChangeRecord {
    if (c.stat === null) throw new Error('duplicate of a deleted record');
    return { zxid, path: c.path, stat: { ...c.stat }, childCount: c.childCount, acl: c.acl, data: c.data };
  }

  private checkSession(sessionId: bigint): void {
    const e = this.sessions.check(sessionId);
    if (e !== undefined) throw new KeeperError(e);
  }

  private validatePath(path: string): void {
    if (pathProblem(path) !== undefined) throw new KeeperError(Err.BadArguments, path);
  }

  private prepareOne(ctx: RequestContext, zxid: bigint, w: WriteRequest): TxnBody {
    switch (w.op) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        return this.prepareCreate(ctx, zxid, w.op, w.req, -1n);
      case OpCode.createTTL:
        return this.prepareCreate(ctx, zxid, w.op, w.req, w.req.ttl);
      case OpCode.delete:
        this.checkSession(ctx.sessionId);
        return this.prepareDelete(ctx, zxid, w.req.path, w.req.version, false);
      case OpCode.deleteContainer:
        return this.prepareDelete(ctx, zxid, w.path, -1, true);
      case OpCode.setData: {
        this.checkSession(ctx.sessionId);
        const path = w.req.path;
        this.validatePath(path);
        const rec = this.record(path);
        checkACL(this.opts, rec.acl, Perms.WRITE, ctx.authInfo, path);
        const version = checkAndIncVersion(rec.stat!.version, w.req.version, path);
        const next = this.duplicate(rec, zxid);
        next.stat!.version = version;
        next.stat!.mtime = ctx.time;
        next.stat!.mzxid = zxid;
        next.data = w.req.data;
        this.add(next);
        return { type: OpCode.setData, txn: { path, data: w.req.data, version } };
      }
      case OpCode.setACL: {
        this.checkSession(ctx.sessionId);
        const path = w.req.path;
        this.validatePath(path);
        const acl = fixupACL(path, ctx.authInfo, w.req.acl, this.opts);
        const rec = this.record(path);
        checkACL(this.opts, rec.acl, Perms.ADMIN, ctx.authInfo, path);
        const version = checkAndIncVersion(rec.stat!.aversion, w.req.version, path);
        const next = this.duplicate(rec, zxid);
        next.stat!.aversion = version;
        next.acl = acl;
        this.add(next);
        return { type: OpCode.setACL, txn: { path, acl, version } };
      }
      case OpCode.check: {
        this.checkSession(ctx.sessionId);
        const path = w.req.path;
        this.validatePath(path);
        const rec = this.record(path);
        checkACL(this.opts, rec.acl, Perms.READ, ctx.authInfo, path);
        return { type: OpCode.check, txn: { path, version: checkAndIncVersion(rec.stat!.version, w.req.version, path) } };
      }
      case OpCode.createSession:
        return { type: OpCode.createSession, txn: { timeOut: w.timeout_ms } };
      case OpCode.closeSession:
        return this.prepareCloseSession(ctx, zxid);
      case OpCode.reconfig:
        return this.prepareReconfig(ctx, zxid, w.req);
      case OpCode.multi:
        throw new KeeperError(Err.BadArguments);
    }
  }

  /** A reconfig is a SetDataTxn of /zookeeper/config holding the new config, with version -1 as ZooKeeper writes it. */
  private prepareReconfig(ctx: RequestContext, zxid: bigint, req: ReconfigRequest): TxnBody {
    if (!this.reconfig.enabled) throw new KeeperError(Err.ReconfigDisabled);
    this.checkSession(ctx.sessionId);
    const data = this.reconfig.next(req, zxid);
    const rec = this.record(CONFIG_PATH);
    checkACL(this.opts, rec.acl, Perms.WRITE, ctx.authInfo, CONFIG_PATH);
    this.reconfig.proposing(data, zxid);
    const next = this.duplicate(rec, zxid);
    next.stat!.version = -1;
    next.stat!.mtime = ctx.time;
    next.stat!.mzxid = zxid;
    next.data = data;
    this.add(next);
    return { type: OpCode.reconfig, txn: { path: CONFIG_PATH, data, version: -1 } };
  }

  private prepareCreate(
    ctx: RequestContext,
    zxid: bigint,
    op: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL,
    req: CreateRequest,
    ttl: bigint,
  ): TxnBody {
    const mode = createModeOf(req.flags);
    if (mode === undefined) throw new KeeperError(Err.BadArguments, req.path);
    const isTTL = mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
    if (isTTL && !this.opts.extendedTypesEnabled) throw new KeeperError(Err.Unimplemented, req.path);
    if (isTTL ? ttlToEphemeralOwner(ttl) === undefined : ttl >= 0n) throw new KeeperError(Err.BadArguments, req.path);
    // ZooKeeper 3.8 accepts createTTL with a non-TTL mode here and then dies applying it; refuse it instead.
    if (op === OpCode.createTTL && !isTTL) throw new KeeperError(Err.BadArguments, req.path);
    this.checkSession(ctx.sessionId);
    let path = req.path;
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.includes('\0')) throw new KeeperError(Err.BadArguments, path);
    const parentKey = path.substring(0, lastSlash);
    const acl = fixupACL(path, ctx.authInfo, req.acl, this.opts);
    const parent = this.record(parentKey);
    checkACL(this.opts, parent.acl, Perms.CREATE, ctx.authInfo, path);
    const parentCVersion = parent.stat!.cversion;
    const sequential =
      mode === CreateMode.PERSISTENT_SEQUENTIAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
    if (sequential) path = path + sequenceSuffix(parentCVersion);
    this.validatePath(path);
    const existing = this.changesByPath.get(path);
    if (existing !== undefined ? existing.stat !== null : this.tree.getNode(path) !== undefined) {
      throw new KeeperError(Err.NodeExists, path);
    }
    if (ephemeralKind(parent.stat!.ephemeralOwner) === 'normal') throw new KeeperError(Err.NoChildrenForEphemerals, path);
    const newCversion = (parentCVersion + 1) | 0;
    const ephemeral = mode === CreateMode.EPHEMERAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL;
    let body: TxnBody;
    if (op === OpCode.createContainer) body = { type: op, txn: { path, data: req.data, acl, parentCVersion: newCversion } };
    else if (op === OpCode.createTTL) body = { type: op, txn: { path, data: req.data, acl, parentCVersion: newCversion, ttl } };
    else body = { type: op, txn: { path, data: req.data, acl, ephemeral, parentCVersion: newCversion } };
    // The owner the txn gives the node when applied: it follows the op, not the flags (ZooKeeper
    // goes by the flags here, so createContainer with other flags mispredicts its own digest).
    let owner = 0n;
    if (op === OpCode.createContainer) owner = CONTAINER_EPHEMERAL_OWNER;
    else if (op === OpCode.createTTL) owner = ttlToEphemeralOwner(ttl)!;
    else if (ephemeral) owner = ctx.sessionId;
    const nextParent = this.duplicate(parent, zxid);
    nextParent.childCount++;
    nextParent.stat!.cversion = newCversion;
    nextParent.stat!.pzxid = zxid;
    this.add(nextParent);
    this.add({ zxid, path, stat: createStat(zxid, ctx.time, owner), childCount: 0, acl, data: req.data });
    return body;
  }

  private prepareDelete(ctx: RequestContext, zxid: bigint, path: string, version: number, container: boolean): TxnBody {
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.includes('\0') || DataTree.isSpecialPath(path)) throw new KeeperError(Err.BadArguments, path);
    const parentKey = path.substring(0, lastSlash);
    let parent: ChangeRecord;
    if (container) {
      const rec = this.record(path);
      if (rec.childCount > 0) throw new KeeperError(Err.NotEmpty, path);
      if (ephemeralKind(rec.stat!.ephemeralOwner) === 'normal') throw new KeeperError(Err.BadVersion, path);
      parent = this.record(parentKey);
    } else {
      parent = this.record(parentKey);
      checkACL(this.opts, parent.acl, Perms.DELETE, ctx.authInfo, path);
      const rec = this.record(path);
      checkAndIncVersion(rec.stat!.version, version, path);
      if (rec.childCount > 0) throw new KeeperError(Err.NotEmpty, path);
    }
    const nextParent = this.duplicate(parent, zxid);
    nextParent.childCount--;
    nextParent.stat!.pzxid = zxid;
    this.add(nextParent);
    this.add({ zxid, path, stat: null, childCount: -1, acl: [], data: null });
    return { type: container ? OpCode.deleteContainer : OpCode.delete, txn: { path } };
  }

  private prepareCloseSession(ctx: RequestContext, zxid: bigint): TxnBody {
    const es = this.tree.getEphemerals(ctx.sessionId);
    const cloneCapacity = javaCloneCapacity(es.size);
    let added = false;
    for (let i = this.head; i < this.changes.length; i++) {
      const c = this.changes[i]!;
      if (c.stat === null) es.delete(c.path);
      else if (c.stat.ephemeralOwner === ctx.sessionId && !es.has(c.path)) {
        es.add(c.path);
        added = true;
      }
    }
    // The list follows ZooKeeper's HashSet order (its deletes, and so its watch events, come in it).
    const paths = added ? javaHashOrder(es, javaGrownCapacity(cloneCapacity, es.size)) : [...es];
    for (const p of paths) {
      if (this.opts.digestEnabled) {
        // The delete moves the parent's pzxid, which the digest covers (ZooKeeper records the parent
        // only when digests are on, and leaves its childCount as it was).
        const parent = this.duplicate(this.record(p.substring(0, p.lastIndexOf('/'))), zxid);
        parent.stat!.pzxid = zxid;
        this.add(parent);
      }
      this.add({ zxid, path: p, stat: null, childCount: 0, acl: [], data: null });
    }
    return { type: OpCode.closeSession, txn: { paths2Delete: paths } };
  }
}

function checkAndIncVersion(current: number, expected: number, path: string): number {
  if (expected !== -1 && expected !== current) throw new KeeperError(Err.BadVersion, path);
  return (current + 1) | 0;
}

function createModeOf(flags: number): CreateMode | undefined {
  return flags >= 0 && flags <= 6 ? (flags as CreateMode) : undefined;
}

/** String.format("%010d", n) for a Java int. */
export function sequenceSuffix(n: number): string {
  if (n < 0) return '-' + String(-n).padStart(9, '0');
  return String(n).padStart(10, '0');
}

function writePath(w: WriteRequest): string | undefined {
  switch (w.op) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.check:
      return w.req.path;
    case OpCode.deleteContainer:
      return w.path;
    default:
      return undefined;
  }
}
