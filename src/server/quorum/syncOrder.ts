import type { Event } from '../../zab/state.js';

/**
 * Reorders a leader's event queue so that a learner's sync is stepped right behind every write
 * the leader has prepared so far: all waiting `propose` events go first, in the order they were
 * queued (which is zxid order: the preparer numbered them as it queued them), then `sync`, then
 * every other event in its order.
 *
 * Proposals queued after the sync arrived are prepared before the ones the caller has just
 * flushed, so they must stay ahead of those: putting only the flushed ones first made the core
 * number a txn one below the zxid the preparer gave it, and the leader stopped ("txn data holds
 * zxid 0x900000b65 but ZAB assigned 0x900000b64", seen under the mixed long Jepsen run while a
 * SNAP was being written and events piled up).
 */
export function syncBehindProposals(queue: Event[], sync: Event): void {
  const proposals: Event[] = [];
  const rest: Event[] = [];
  for (const e of queue) (e.type === 'propose' ? proposals : rest).push(e);
  queue.length = 0;
  queue.push(...proposals, sync, ...rest);
}
