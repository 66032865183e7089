/**
 * ZKDatabase's in-memory half: the data tree plus the session table (id → timeout) that
 * snapshots persist. Applying a txn updates both; the durable log lives in src/storage.
 */
import { OpCode } from '../proto/opcodes.js';
import { DataTree } from '../tree/dataTree.js';
import { TREE_DIGEST_VERSION } from '../tree/digest.js';
import { applyTxn, type ProcessTxnResult } from './apply.js';
import type { Txn } from './txn.js';

export class ZkDatabase {
  readonly sessionsWithTimeouts = new Map<bigint, number>();
  /** Txns whose recorded tree digest differed from the tree's after applying them (zk_digest_mismatches_count). */
  digestMismatches = 0;
  /**
   * Txns up to this zxid are not digest-checked: a fuzzy snapshot may already hold some of their
   * effects, so the tree only matches the recorded digests once replay has passed them.
   */
  digestCheckAfter = 0n;
  /** Told of each mismatch (the server logs it). */
  onDigestMismatch: ((txn: Txn, actual: bigint) => void) | undefined;

  constructor(readonly tree: DataTree = new DataTree()) {}

  get lastProcessedZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  apply(txn: Txn): ProcessTxnResult {
    const rc = applyTxn(this.tree, txn);
    if (txn.body.type === OpCode.createSession) this.sessionsWithTimeouts.set(txn.header.clientId, txn.body.txn.timeOut);
    else if (txn.body.type === OpCode.closeSession) this.sessionsWithTimeouts.delete(txn.header.clientId);
    const d = txn.digest;
    if (d !== undefined && d.version === TREE_DIGEST_VERSION && txn.header.zxid > this.digestCheckAfter) {
      const actual = this.tree.digest;
      if (actual !== d.treeDigest) {
        this.digestMismatches++;
        this.onDigestMismatch?.(txn, actual);
      }
    }
    return rc;
  }
}
