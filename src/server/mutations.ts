/**
 * Deliberately broken variants of the server runtime, for showing that the simulator of the real
 * servers (src/sim/serverSim.ts) catches each kind of bug that was once found late. Never set
 * outside tests.
 */
export type RuntimeMutation =
  /**
   * A learner's writes are proposed on the next turn, as the leader's old per-turn batch did: a
   * SYNC the learner sent right after them is answered first.
   */
  | 'forwardedWritesNextTurn'
  /** The leader prepares a txn with a zxid one past the one the core gives the proposal. */
  | 'txnZxidOffByOne'
  /** Snapshots are named one txn behind the tree they hold. */
  | 'snapshotNamedBehind'
  /** Session expiry forgets the session without a closeSession txn (its ephemerals stay). */
  | 'expiryKeepsEphemerals'
  /** Durability reports of appends made before a truncation still count (for txns appended again since). */
  | 'staleDurabilityReports'
  /** A multi that fails keeps the changes of its ops before the failure in prepare's view of the tree. */
  | 'failedMultiKeepsChanges'
  /** A standalone server applies (and answers) a batch of writes before its fsync. */
  | 'applyBeforeDurable'
  /** The leader puts a reconfig's config in force when it proposes it, not when it commits. */
  | 'configActiveAtProposal'
  /** The leader moves its client port to the one a reconfig gives it when it proposes it (ZOOKEEPER-2847's neighbour). */
  | 'clientPortMovedAtProposal'
  /** The leader writes the dynamic config file of a reconfig when it proposes it: a restart reads a config never committed. */
  | 'configWrittenAtProposal'
  /** The leader answers a reconfig Ok when it proposes it, before it commits. */
  | 'reconfigAnsweredAtProposal';

export const RUNTIME_MUTATIONS: readonly RuntimeMutation[] = [
  'forwardedWritesNextTurn',
  'txnZxidOffByOne',
  'snapshotNamedBehind',
  'expiryKeepsEphemerals',
  'staleDurabilityReports',
  'failedMultiKeepsChanges',
  'applyBeforeDurable',
  'configActiveAtProposal',
  'clientPortMovedAtProposal',
  'configWrittenAtProposal',
  'reconfigAnsweredAtProposal',
];
