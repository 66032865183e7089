/**
 * Applying a committed txn to the tree (DataTree.processTxn): returns what the reply needs and
 * fires watches through the tree's watch tables. Pure apart from the watchers it calls.
 */
import { OpCode } from '../proto/opcodes.js';
import { Err, KeeperError } from '../proto/errors.js';
import type { Stat } from '../proto/records.js';
import type { TxnHeader } from './records.js';
import type { DataTree } from '../tree/dataTree.js';
import { CONTAINER_EPHEMERAL_OWNER, ttlToEphemeralOwner } from '../tree/ephemeralType.js';
import type { Txn, TxnBody } from './txn.js';

export interface ProcessTxnResult {
  clientId: bigint;
  cxid: number;
  zxid: bigint;
  /** The (sub-)txn type; OpCode.error for failures. */
  type: number;
  err: number;
  path: string | undefined;
  stat: Stat | undefined;
  multiResult: ProcessTxnResult[] | undefined;
  /** reconfig: the new config, which the reply carries. */
  data?: Buffer | null;
}

function result(h: TxnHeader, type: number): ProcessTxnResult {
  return { clientId: h.clientId, cxid: h.cxid, zxid: h.zxid, type, err: 0, path: undefined, stat: undefined, multiResult: undefined };
}

export function applyTxn(tree: DataTree, txn: Txn): ProcessTxnResult {
  const rc = applyBody(tree, txn.header, txn.body);
  if (txn.header.zxid > tree.lastProcessedZxid) tree.lastProcessedZxid = txn.header.zxid;
  return rc;
}

function applyBody(tree: DataTree, h: TxnHeader, b: TxnBody): ProcessTxnResult {
  const rc = result(h, b.type);
  try {
    switch (b.type) {
      case OpCode.create:
      case OpCode.create2: {
        rc.path = b.txn.path;
        const n = tree.createNode(b.txn.path, b.txn.data, b.txn.acl, b.txn.ephemeral ? h.clientId : 0n, b.txn.parentCVersion, h.zxid, h.time);
        if (b.type === OpCode.create2) rc.stat = n.toStat();
        break;
      }
      case OpCode.createContainer: {
        rc.path = b.txn.path;
        rc.stat = tree.createNode(b.txn.path, b.txn.data, b.txn.acl, CONTAINER_EPHEMERAL_OWNER, b.txn.parentCVersion, h.zxid, h.time).toStat();
        break;
      }
      case OpCode.createTTL: {
        rc.path = b.txn.path;
        const owner = ttlToEphemeralOwner(b.txn.ttl) ?? 0n;
        rc.stat = tree.createNode(b.txn.path, b.txn.data, b.txn.acl, owner, b.txn.parentCVersion, h.zxid, h.time).toStat();
        break;
      }
      case OpCode.delete:
      case OpCode.deleteContainer:
        rc.path = b.txn.path;
        tree.deleteNode(b.txn.path, h.zxid);
        break;
      case OpCode.setData:
        rc.path = b.txn.path;
        rc.stat = tree.setData(b.txn.path, b.txn.data, b.txn.version, h.zxid, h.time);
        break;
      case OpCode.reconfig:
        rc.path = b.txn.path;
        rc.stat = tree.setData(b.txn.path, b.txn.data, b.txn.version, h.zxid, h.time);
        rc.data = b.txn.data;
        break;
      case OpCode.setACL:
        rc.path = b.txn.path;
        rc.stat = tree.setACL(b.txn.path, b.txn.acl, b.txn.version);
        break;
      case OpCode.check:
        rc.path = b.txn.path;
        break;
      case OpCode.error:
        rc.err = b.txn.err;
        break;
      case OpCode.createSession:
        break;
      case OpCode.closeSession:
        // An old closeSession without a body lists nothing: the session's own ephemerals go.
        killSession(tree, h.clientId, h.zxid, b.txn?.paths2Delete ?? []);
        break;
      case OpCode.multi:
        rc.multiResult = applyMulti(tree, h, b.txns);
        for (const s of rc.multiResult) {
          if (s.err !== 0) {
            rc.err = s.err;
            break;
          }
        }
        break;
    }
  } catch (e) {
    if (!(e instanceof KeeperError)) throw e;
    rc.err = e.code;
  }
  // A create replayed over a fuzzy snapshot that already has the node still moves the parent's cversion.
  if (b.type === OpCode.create && rc.err === Err.NodeExists && rc.path !== undefined) {
    try {
      tree.setCversionPzxid(rc.path.substring(0, rc.path.lastIndexOf('/')), b.txn.parentCVersion, h.zxid);
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
      rc.err = e.code;
    }
  }
  return rc;
}

/** All sub-txns share the header; when one failed, the others are answered Ok (before) or RuntimeInconsistency (after). */
function applyMulti(tree: DataTree, h: TxnHeader, txns: TxnBody[]): ProcessTxnResult[] {
  const failed = txns.some((t) => t.type === OpCode.error);
  let postFailed = false;
  const out: ProcessTxnResult[] = [];
  for (const t of txns) {
    let sub = t;
    if (t.type === OpCode.error) postFailed = true;
    else if (failed) sub = { type: OpCode.error, txn: { err: postFailed ? Err.RuntimeInconsistency : Err.Ok } };
    out.push(applyBody(tree, { ...h, type: sub.type }, sub));
  }
  return out;
}

function killSession(tree: DataTree, sessionId: bigint, zxid: bigint, paths: readonly string[]): void {
  const local = tree.getEphemerals(sessionId);
  tree.forgetSession(sessionId);
  for (const p of paths) {
    local.delete(p);
    try {
      tree.deleteNode(p, zxid);
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
    }
  }
  // Ephemerals the txn did not list (should not happen) go too, as ZooKeeper does.
  for (const p of local) {
    try {
      tree.deleteNode(p, zxid);
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
    }
  }
}
