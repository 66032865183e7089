/**
 * Logs txns whose recorded tree digest (TxnDigest, from the leader's prediction or from the log,
 * or a snapshot's) differs from the tree's after applying them: the first in full, then every 1000th, since one
 * divergence usually repeats on every later txn. ZooKeeper logs and counts these and goes on.
 */
import { log } from '../log.js';
import type { ZkDatabase } from '../txn/database.js';

const EVERY = 1000;

export function reportDigestMismatches(db: ZkDatabase): void {
  db.onDigestMismatch = (m) => {
    if (db.digestMismatches !== 1 && db.digestMismatches % EVERY !== 0) return;
    log.error(
      {
        zxid: `0x${m.zxid.toString(16)}`,
        recordedBy: m.recordedBy,
        expected: m.expected.toString(),
        actual: m.actual.toString(),
        mismatches: db.digestMismatches,
      },
      'tree digest differs from the one recorded for this zxid',
    );
  };
}
