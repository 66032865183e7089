/**
 * ZKDatabase's in-memory half: the data tree plus the session table (id → timeout) that
 * snapshots persist. Applying a txn updates both; the durable log lives in src/storage.
 */
import { OpCode } from '../proto/opcodes.js';
import { DataTree } from '../tree/dataTree.js';
import { applyTxn, type ProcessTxnResult } from './apply.js';
import type { Txn } from './txn.js';

export class ZkDatabase {
  readonly sessionsWithTimeouts = new Map<bigint, number>();

  constructor(readonly tree: DataTree = new DataTree()) {}

  get lastProcessedZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  apply(txn: Txn): ProcessTxnResult {
    const rc = applyTxn(this.tree, txn);
    if (txn.body.type === OpCode.createSession) this.sessionsWithTimeouts.set(txn.header.clientId, txn.body.txn.timeOut);
    else if (txn.body.type === OpCode.closeSession) this.sessionsWithTimeouts.delete(txn.header.clientId);
    return rc;
  }
}
