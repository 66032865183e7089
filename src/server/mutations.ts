/**
 * Deliberately broken variants of the server runtime, for showing that the simulator of the real
 * servers (src/sim/serverSim.ts) catches each kind of bug that was once found late. Never set
 * outside tests.
 */
export type RuntimeMutation =
  /** A learner's writes wait at the back of the leader's queue, behind a SYNC it sent after them. */
  | 'forwardedWritesQueued'
  /** The leader prepares a txn with a zxid one past the one the core gives the proposal. */
  | 'txnZxidOffByOne'
  /** Snapshots are named one txn behind the tree they hold. */
  | 'snapshotNamedBehind'
  /** Session expiry forgets the session without a closeSession txn (its ephemerals stay). */
  | 'expiryKeepsEphemerals'
  /** Durability reports of appends made before a truncation still count (for txns appended again since). */
  | 'staleDurabilityReports';

export const RUNTIME_MUTATIONS: readonly RuntimeMutation[] = ['forwardedWritesQueued', 'txnZxidOffByOne', 'snapshotNamedBehind', 'expiryKeepsEphemerals', 'staleDurabilityReports'];
