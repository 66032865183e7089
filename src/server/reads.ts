/**
 * Answering reads and watch management ops (FinalRequestProcessor's read half) straight into the
 * connection's output: the reply header, then the body; a KeeperError rewinds to a header-only
 * error reply.
 */
import { Err, KeeperError } from '../proto/errors.js';
import { AddWatchMode, OpCode, Perms, TszkOpCode } from '../proto/opcodes.js';
import type { ACL, Id, PagedReadRequest } from '../proto/records.js';
import type { DataNode } from '../tree/dataNode.js';
import type { JuteWriter } from '../jute/index.js';
import { checkACL, hasPermission, javaAuthOrder, userName } from '../txn/auth.js';
import type { ZkDatabase } from '../txn/database.js';
import type { ServerOptions } from './options.js';
import type { ClientConnection } from './connection.js';
import type { MultiReadOp, ReadOp } from './requests.js';
import { beginFrame, endFrame, multiHeader, writeAcls, writeClientInfos, writeNodeStat, writeStat, writeStrings } from './replies.js';

export interface ReadContext {
  readonly db: ZkDatabase;
  readonly options: ServerOptions;
  /** read_per_namespace: told of each read that found its node and passed its ACL. */
  readonly metrics: { recordRead(path: string, bytes: number): void };
}

export function executeRead(ctx: ReadContext, conn: ClientConnection, xid: number, zxid: bigint, read: ReadOp, authInfo: readonly Id[]): void {
  const w = conn.out;
  if (read.op === OpCode.setWatches || read.op === OpCode.setWatches2) {
    // Events for watches that already fired go out before the reply, not inside it.
    setWatches(ctx, conn, read);
    endFrame(w, beginFrame(w, xid, zxid, 0));
    return;
  }
  if (read.op === OpCode.multiRead && read.ops === undefined) {
    // ZooKeeper has already made its (empty) MultiResponse when it meets a non-read op.
    const at = beginFrame(w, xid, zxid, Err.MarshallingError);
    multiHeader(w, -1, -1, true);
    endFrame(w, at);
    return;
  }
  const start = w.offset;
  const at = beginFrame(w, xid, zxid, 0);
  try {
    writeReadBody(ctx, conn, w, read, authInfo);
  } catch (e) {
    const code = e instanceof KeeperError ? e.code : e instanceof BadWatchMode ? Err.MarshallingError : undefined;
    if (code === undefined) throw e;
    w.offset = start;
    endFrame(w, beginFrame(w, xid, zxid, code));
    return;
  }
  endFrame(w, at);
}

/** A watch mode or watcher type ZooKeeper 3.8 cannot decode: it answers MarshallingError. */
class BadWatchMode extends Error {}

/** WatcherType 3.8 decodes for checkWatches/removeWatches: Children, Data, Any. */
function knownWatcherType(t: number): boolean {
  return t === 1 || t === 2 || t === 3;
}

function setWatches(ctx: ReadContext, conn: ClientConnection, read: ReadOp & { op: typeof OpCode.setWatches | typeof OpCode.setWatches2 }): void {
  const q = read.req;
  const persistent = read.op === OpCode.setWatches2 ? read.req.persistentWatches : [];
  const recursive = read.op === OpCode.setWatches2 ? read.req.persistentRecursiveWatches : [];
  ctx.db.tree.setWatches(q.relativeZxid, q.dataWatches, q.existWatches, q.childWatches, persistent, recursive, conn);
}

function writeReadBody(ctx: ReadContext, conn: ClientConnection, w: JuteWriter, read: ReadOp, authInfo: readonly Id[]): void {
  const tree = ctx.db.tree;
  const policy = ctx.options;
  switch (read.op) {
    case OpCode.exists: {
      const path = read.req.path;
      if (path.includes('\0')) throw new KeeperError(Err.BadArguments, path);
      // No ACL check: the 3.8.0 server we compare with answers exists regardless of READ.
      writeStat(w, tree.statNode(path, read.req.watch ? conn : undefined));
      ctx.metrics.recordRead(path, 0);
      return;
    }
    case OpCode.getData:
      return writeGetData(ctx, conn, w, read.req.path, read.req.watch, authInfo);
    case OpCode.getChildren:
      return writeGetChildren(ctx, conn, w, read.req.path, read.req.watch, authInfo, false);
    case OpCode.getChildren2:
      return writeGetChildren(ctx, conn, w, read.req.path, read.req.watch, authInfo, true);
    case OpCode.getACL: {
      const path = read.req.path;
      const n = tree.getNode(path);
      if (n === undefined) throw new KeeperError(Err.NoNode, path);
      const acl = tree.aclOf(n);
      checkACL(policy, acl, Perms.READ | Perms.ADMIN, authInfo, path);
      // Without ADMIN the digest hashes are masked.
      const shown: readonly ACL[] = hasPermission(policy, acl, Perms.ADMIN, authInfo)
        ? acl
        : acl.map((a) => (a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/s, ':x') } } : a));
      writeAcls(w, shown);
      writeNodeStat(w, n);
      return;
    }
    case OpCode.getAllChildrenNumber: {
      const path = read.req.path;
      const n = tree.getNode(path);
      if (n === undefined) throw new KeeperError(Err.NoNode, path);
      checkACL(policy, tree.aclOf(n), Perms.READ, authInfo, path);
      w.int(tree.getAllChildrenNumber(path));
      return;
    }
    case OpCode.getEphemerals: {
      const prefix = read.req.prefixPath;
      const all = tree.getEphemerals(conn.sessionId);
      const out: string[] = [];
      const trimmed = prefix.trim();
      for (const p of all) if (trimmed === '' || trimmed === '/' || p.startsWith(prefix)) out.push(p);
      writeStrings(w, out);
      return;
    }
    case OpCode.whoAmI:
      writeClientInfos(
        w,
        javaAuthOrder(authInfo).map((id) => ({ authScheme: id.scheme, user: userName(id) })),
      );
      return;
    case OpCode.ping:
      return;
    case OpCode.error:
      throw new KeeperError(read.err ?? Err.MarshallingError);
    case OpCode.checkWatches:
      if (!knownWatcherType(read.req.type)) throw new BadWatchMode();
      if (!tree.containsWatcher(read.req.path, read.req.type, conn)) throw new KeeperError(Err.NoWatcher, read.req.path);
      return;
    case OpCode.removeWatches:
      if (!knownWatcherType(read.req.type)) throw new BadWatchMode();
      if (!tree.removeWatch(read.req.path, read.req.type, conn)) throw new KeeperError(Err.NoWatcher, read.req.path);
      return;
    case OpCode.addWatch: {
      const mode = read.req.mode;
      if (mode !== AddWatchMode.PERSISTENT && mode !== AddWatchMode.PERSISTENT_RECURSIVE) throw new BadWatchMode();
      tree.addWatch(read.req.path, conn, mode === AddWatchMode.PERSISTENT ? 'persistent' : 'persistentRecursive');
      w.int(0);
      return;
    }
    case OpCode.setWatches:
    case OpCode.setWatches2:
      return;
    case OpCode.multiRead:
      if (read.ops === undefined) throw new KeeperError(Err.MarshallingError);
      for (const op of read.ops) writeMultiReadOp(ctx, conn, w, op, authInfo);
      multiHeader(w, -1, -1, true);
      return;
    case TszkOpCode.getChildrenPage:
      return writeChildrenPage(ctx, conn, w, read.req, authInfo);
    case TszkOpCode.getDataPage:
      return writeDataPage(ctx, conn, w, read.req, authInfo);
  }
}

/** The node at `path` if this session may READ it (NoNode, NoAuth otherwise). */
function readableNode(ctx: ReadContext, path: string, authInfo: readonly Id[]): DataNode {
  const tree = ctx.db.tree;
  const n = tree.getNode(path);
  if (n === undefined) throw new KeeperError(Err.NoNode, path);
  checkACL(ctx.options, tree.aclOf(n), Perms.READ, authInfo, path);
  return n;
}

function writeGetData(ctx: ReadContext, conn: ClientConnection, w: JuteWriter, path: string, watch: boolean, authInfo: readonly Id[]): void {
  const n = readableNode(ctx, path, authInfo);
  if (watch) ctx.db.tree.dataWatches.add(path, conn);
  w.buffer(n.data);
  writeNodeStat(w, n);
  ctx.metrics.recordRead(path, n.data?.length ?? 0);
}

/**
 * A page of getData (tszk.pagedReads): at most maxBytes of the data from byte `offset`, and the
 * Stat (dataLength says how much there is, mzxid whether it changed since the first page).
 */
function writeDataPage(ctx: ReadContext, conn: ClientConnection, w: JuteWriter, q: PagedReadRequest, authInfo: readonly Id[]): void {
  if (q.offset < 0 || q.maxBytes < 1) throw new KeeperError(Err.BadArguments, q.path);
  const n = readableNode(ctx, q.path, authInfo);
  if (q.watch) ctx.db.tree.dataWatches.add(q.path, conn);
  const data = n.data;
  const slice = data === null ? null : data.subarray(Math.min(q.offset, data.length), Math.min(data.length, q.offset + q.maxBytes));
  w.buffer(slice);
  writeNodeStat(w, n);
  ctx.metrics.recordRead(q.path, slice?.length ?? 0);
}

/**
 * A page of getChildren2 (tszk.pagedReads): the children from index `offset` of the listing (the
 * order getChildren gives, fixed while the children are), as many as fit in maxBytes of encoded
 * names but at least one, and the Stat (numChildren says how many there are, cversion whether
 * they changed since the first page).
 */
function writeChildrenPage(ctx: ReadContext, conn: ClientConnection, w: JuteWriter, q: PagedReadRequest, authInfo: readonly Id[]): void {
  if (q.offset < 0 || q.maxBytes < 1) throw new KeeperError(Err.BadArguments, q.path);
  const n = readableNode(ctx, q.path, authInfo);
  if (q.watch) ctx.db.tree.childWatches.add(q.path, conn);
  const children = n.childrenInZkOrder();
  const countAt = w.reserveInt();
  let i = q.offset;
  let bytes = 0;
  for (; i < children.length; i++) {
    const before = w.offset;
    const name = children[i]!;
    w.ustring(name);
    // The vector (count included) stays within maxBytes, except that a page always has one name.
    if (w.offset - countAt > q.maxBytes && i > q.offset) {
      w.offset = before;
      break;
    }
    bytes += name.length;
  }
  w.patchInt(countAt, Math.max(0, i - q.offset));
  writeNodeStat(w, n);
  ctx.metrics.recordRead(q.path, bytes);
}

function writeGetChildren(
  ctx: ReadContext,
  conn: ClientConnection,
  w: JuteWriter,
  path: string,
  watch: boolean,
  authInfo: readonly Id[],
  withStat: boolean,
): void {
  const n = readableNode(ctx, path, authInfo);
  if (watch) ctx.db.tree.childWatches.add(path, conn);
  const children = n.childrenInZkOrder();
  writeStrings(w, children);
  if (withStat) writeNodeStat(w, n);
  let bytes = 0;
  for (const c of children) bytes += c.length;
  ctx.metrics.recordRead(path, bytes);
}

/** One multiRead result; an error becomes an ErrorResult and the others still run. */
function writeMultiReadOp(ctx: ReadContext, conn: ClientConnection, w: JuteWriter, op: MultiReadOp, authInfo: readonly Id[]): void {
  const start = w.offset;
  try {
    if (op.op === OpCode.getData) {
      multiHeader(w, OpCode.getData, 0);
      writeGetData(ctx, conn, w, op.req.path, op.req.watch, authInfo);
    } else {
      multiHeader(w, OpCode.getChildren, 0);
      writeGetChildren(ctx, conn, w, op.req.path, op.req.watch, authInfo, false);
    }
  } catch (e) {
    if (!(e instanceof KeeperError)) throw e;
    w.offset = start;
    multiHeader(w, OpCode.error, e.code);
    w.int(e.code);
  }
}
