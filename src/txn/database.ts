/**
 * ZKDatabase's in-memory half: the data tree plus the session table (id → timeout) that
 * snapshots persist. Applying a txn updates both; the durable log lives in src/storage.
 */
import { OpCode } from '../proto/opcodes.js';
import { DataTree } from '../tree/dataTree.js';
import { TREE_DIGEST_VERSION, type ZxidDigest } from '../tree/digest.js';
import { applyTxn, type ProcessTxnResult } from './apply.js';
import type { Txn } from './txn.js';

export interface DigestMismatch {
  zxid: bigint;
  expected: bigint;
  actual: bigint;
  /** What recorded the expected digest (a txn, a snapshot). */
  recordedBy: string;
}

/** DataTree.DIGEST_LOG_INTERVAL: the digest after every txn whose zxid is a multiple of this is kept (0x80: easy to line up between servers). */
const DIGEST_LOG_INTERVAL = 128n;
/** DataTree.DIGEST_LOG_LIMIT: how many of those are kept, newest last. */
const DIGEST_LOG_LIMIT = 1024;

export class ZkDatabase {
  readonly sessionsWithTimeouts = new Map<bigint, number>();
  /** Txns whose recorded tree digest differed from the tree's after applying them (zk_digest_mismatches_count). */
  digestMismatches = 0;
  /**
   * Txns up to this zxid are not digest-checked: a fuzzy snapshot may already hold some of their
   * effects, so the tree only matches the recorded digests once replay has passed them.
   */
  digestCheckAfter = 0n;
  /** The digest a loaded snapshot recorded for the zxid where replay makes it exact (checked there). */
  snapshotDigest: { zxid: bigint; digest: bigint } | undefined;
  /** Told of each mismatch (the server logs it). */
  onDigestMismatch: ((m: DigestMismatch) => void) | undefined;
  /** Recent tree digests (the AdminServer's `hash`), oldest first. */
  private readonly digests: ZxidDigest[] = [];

  constructor(readonly tree: DataTree = new DataTree()) {}

  get lastProcessedZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  apply(txn: Txn): ProcessTxnResult {
    const rc = applyTxn(this.tree, txn);
    if (txn.body.type === OpCode.createSession) this.sessionsWithTimeouts.set(txn.header.clientId, txn.body.txn.timeOut);
    else if (txn.body.type === OpCode.closeSession) this.sessionsWithTimeouts.delete(txn.header.clientId);
    const zxid = txn.header.zxid;
    // As DataTree.logZxidDigest: not while the tree is still in a fuzzy snapshot's range.
    if (zxid % DIGEST_LOG_INTERVAL === 0n && zxid > this.digestCheckAfter) {
      this.digests.push({ zxid, digestVersion: TREE_DIGEST_VERSION, digest: this.tree.digest });
      if (this.digests.length > DIGEST_LOG_LIMIT) this.digests.shift();
    }
    return rc;
  }

  /** The digest history `hash` answers with (DataTree.getDigestLog), oldest first. */
  digestLog(): readonly ZxidDigest[] {
    return this.digests;
  }

  /**
   * Compares the tree with the digest recorded on `txn`, the last txn applied. Followers check
   * after every txn as ZooKeeper does; a leader checks its own predictions once per applied batch
   * (the digest is cumulative, so a wrong prediction still shows).
   */
  checkDigest(txn: Txn): void {
    const zxid = txn.header.zxid;
    if (this.snapshotDigest !== undefined && zxid >= this.snapshotDigest.zxid) {
      if (zxid === this.snapshotDigest.zxid) this.compare(zxid, this.snapshotDigest.digest, 'snapshot');
      this.snapshotDigest = undefined;
    }
    const d = txn.digest;
    if (d === undefined || d.version !== TREE_DIGEST_VERSION || zxid <= this.digestCheckAfter) return;
    this.compare(zxid, d.treeDigest, `txn type ${txn.header.type}`);
  }

  /** Compares the tree's digest with one recorded for `zxid`; counts and reports a mismatch. */
  compare(zxid: bigint, expected: bigint, recordedBy: string): void {
    const actual = this.tree.digest;
    if (actual === expected) return;
    this.digestMismatches++;
    this.onDigestMismatch?.({ zxid, expected, actual, recordedBy });
  }

  /** Applies and checks one txn (a follower's and recovery's step). */
  applyChecked(txn: Txn): ProcessTxnResult {
    const rc = this.apply(txn);
    this.checkDigest(txn);
    return rc;
  }
}
