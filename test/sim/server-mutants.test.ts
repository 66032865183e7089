import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runServerSeed, type ServerMutation } from '../../src/sim/serverSim.js';

/**
 * Each broken variant of the real servers is caught by the simulator at a named seed (found with
 * `npm run sim -- --seeds 4000 --mutation NAME`), by the checker that should catch it, and the
 * same seed passes without it. If a change to the runtime or the simulator moves a schedule so
 * that a seed no longer catches its mutant, search again and update the seed here.
 */
const OPS = 40;
const CASES: { mutation: ServerMutation; seed: number; checker: string; what: string }[] = [
  { mutation: 'txnZxidOffByOne', seed: 1, checker: 'tree', what: 'proposals renumbered (the txn prepared with another zxid than the core proposes)' },
  { mutation: 'snapshotNamedBehind', seed: 1, checker: 'tree', what: 'a snapshot named at the wrong zxid' },
  { mutation: 'expiryKeepsEphemerals', seed: 3, checker: 'sessions', what: 'an ephemeral left behind an expired session' },
  { mutation: 'durableBeforeFsync', seed: 1, checker: 'durability', what: 'ack before fsync in the log writer' },
  { mutation: 'pingBeforeSync', seed: 6, checker: 'wire', what: "PING before a learner's sync" },
  { mutation: 'forwardedWritesNextTurn', seed: 3, checker: 'wire', what: "a learner's sync answered before the COMMITs of its earlier writes" },
  { mutation: 'staleDurabilityReports', seed: 805, checker: 'durability', what: 'a durability report from before a TRUNC counted for a txn appended again' },
  {
    mutation: 'failedMultiKeepsChanges',
    seed: 3,
    checker: 'server error log',
    what: "a failed multi's earlier ops left in prepare's view (the next txn is prepared against a tree that never was: its digest differs)",
  },
  { mutation: 'applyBeforeDurable', seed: 19, checker: 'tree', what: 'a standalone server applying (and answering) writes before their fsync' },
  { mutation: 'durableBeforeFsync', seed: 30, checker: 'durability', what: "ack before fsync in a standalone server's log writer" },
  {
    mutation: 'syncWithoutQuorum',
    seed: 367,
    checker: 'reads',
    what: 'a deposed leader that has not noticed answers a sync alone (a client reconnected to it after its stall reads stale data)',
  },
  // Reconfig (in 30% of seeds): each rule that ZooKeeper applies at a reconfig's COMMIT, applied at its proposal instead.
  { mutation: 'configActiveAtProposal', seed: 2, checker: 'config', what: "a reconfig's config put in force when proposed" },
  { mutation: 'configWrittenAtProposal', seed: 2, checker: 'config', what: 'the dynamic config file written when a reconfig is proposed' },
  { mutation: 'clientPortMovedAtProposal', seed: 10, checker: 'config', what: 'the client port moved when a reconfig is proposed (ZOOKEEPER-2847)' },
  { mutation: 'reconfigAnsweredAtProposal', seed: 12, checker: 'reconfig', what: 'a reconfig answered Ok before it commits' },
  { mutation: 'reconfigOldQuorumOnly', seed: 8, checker: 'durability', what: "a reconfig committed on the old config's quorum alone (core)" },
  { mutation: 'removedLeaderLeads', seed: 8, checker: 'config', what: 'a leader that a committed reconfig removed from the voters goes on leading (core)' },
];

for (const c of CASES) {
  test(`mutant ${c.mutation} (${c.what}) is caught by the ${c.checker} checker at seed ${c.seed}`, async () => {
    const broken = await runServerSeed(c.seed, OPS, [c.mutation]);
    assert.equal(broken.ok, false, `seed ${c.seed} no longer catches ${c.mutation}`);
    assert.equal(broken.checker, c.checker, broken.violation);
    console.log(`# ${c.mutation} @ seed ${c.seed}: ${broken.violation}`);
    const sound = await runServerSeed(c.seed, OPS);
    assert.equal(sound.ok, true, `seed ${c.seed} fails without the mutant: ${sound.violation}`);
  });
}
