import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSeed } from '../../src/sim/sim.js';
import type { Mutation } from '../../src/zab/state.js';

/**
 * Each checker can fail: a deliberately broken core is caught by random seeds within the CI
 * budget, by the checker that guards the broken rule. (Mutants that need a precise schedule are
 * shown in scenarios.test.ts; checkers of client histories in checkers.test.ts.)
 */
const SEEDS_MAX = 1000;
const OPS = 300;

/** `assertion`: when given, a core assertion counts only with this message. */
const cases: { mutations: Mutation[]; caughtBy: string[]; assertion?: RegExp; why: string }[] = [
  { mutations: ['commitOnMinority'], caughtBy: ['durability'], why: 'a commit on a minority is not on a quorum of disks' },
  { mutations: ['ackBeforeFsync'], caughtBy: ['durability'], why: 'an ACK before fsync lets a commit outrun the disks' },
  { mutations: ['ackNewLeaderBeforeFsync'], caughtBy: ['durability'], why: 'ZOOKEEPER-3911: NEWLEADER ACKed before the synced txns are durable' },
  // The learner holding the epoch but not the txns leads next and TRUNCates committed txns away
  // on the others; a follower's core refuses to truncate below what it applied.
  {
    mutations: ['epochBeforeTxns'],
    caughtBy: ['durability', 'agreement', 'primary integrity', 'core assertion'],
    assertion: /truncate to \d+ below applied/,
    why: 'ZOOKEEPER-4643/4646: currentEpoch persisted before the synced txns',
  },
  // The same symptom as epochBeforeTxns may come first: a leader without the SNAP's txns (not on
  // the learner's disk) TRUNCates the learner below what it applied.
  {
    mutations: ['snapNotPersisted'],
    caughtBy: ['durability', 'agreement', 'core assertion'],
    assertion: /truncate to \d+ below applied/,
    why: 'ZOOKEEPER-3642: SNAP applied in memory only',
  },
  { mutations: ['neverTrunc'], caughtBy: ['agreement', 'core assertion'], why: 'a divergent suffix survives without TRUNC' },
  {
    mutations: ['forwardAfterNewLeaderAck'],
    caughtBy: ['agreement', 'core assertion', 'primary order'],
    why: 'spec issue 1: proposals missed between sync and NEWLEADER ACK',
  },
  { mutations: ['serveBeforeUptodate'], caughtBy: ['serving before UPTODATE'], why: 'a learner serves before UPTODATE' },
  { mutations: ['reuseEpoch'], caughtBy: ['one leader per epoch'], why: 'two leaders establish the same epoch' },
  { mutations: ['noNotificationResend'], caughtBy: ['liveness'], why: 'lost votes are never resent: elections stall' },
  {
    mutations: ['voteIgnoresZxid', 'skipAckEpochCheck'],
    caughtBy: ['durability', 'agreement', 'primary integrity', 'core assertion'],
    why: 'a leader lacking committed txns is elected and nothing stops it at ACKEPOCH',
  },
];

for (const c of cases) {
  test(`mutant ${c.mutations.join('+')} is caught (${c.why})`, () => {
    for (let seed = 1; seed <= SEEDS_MAX; seed++) {
      const r = runSeed(seed, OPS, c.mutations);
      if (r.ok) continue;
      assert.ok(c.caughtBy.includes(r.checker!), `seed ${seed} failed in an unexpected checker: ${r.violation}`);
      if (r.checker === 'core assertion' && c.assertion) assert.match(r.violation!, c.assertion, `seed ${seed}: an unexpected core assertion`);
      console.log(`# ${c.mutations.join('+')}: seed ${seed}: ${r.violation}`);
      return;
    }
    assert.fail(`not caught within ${SEEDS_MAX} seeds`);
  });
}

test('without mutations, voteIgnoresZxid alone is still safe: the ACKEPOCH check refuses the stale leader', () => {
  let liveness = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const r = runSeed(seed, 100, ['voteIgnoresZxid']);
    if (!r.ok) {
      assert.equal(r.checker, 'liveness', r.violation);
      liveness++;
    }
  }
  console.log(`# voteIgnoresZxid: ${liveness} of 300 seeds lost liveness, none lost safety`);
});

/**
 * The reconfig rules, each broken on its own, caught in the reconfig core simulator
 * (`npm run sim -- --core --reconfig --ops 800 --mutation <m> --seed <seed>`) at the seed named
 * here; the same seed passes with the rule intact.
 */
const RECONFIG_OPS = 800;
const reconfigCases: { mutation: Mutation; seed: number; caughtBy: string; why: string }[] = [
  { mutation: 'reconfigOldQuorumOnly', seed: 1, caughtBy: 'durability', why: 'a reconfig committed on the old config’s quorum alone (no joint quorum)' },
  { mutation: 'activateAtProposal', seed: 1, caughtBy: 'config', why: 'a config in force from its proposal, not its commit' },
  { mutation: 'concurrentReconfig', seed: 535, caughtBy: 'durability', why: 'a second reconfig proposed while one is in flight' },
  { mutation: 'ignoreNewLeaderConfig', seed: 27, caughtBy: 'config', why: 'a learner ignoring the config NEWLEADER carries' },
  {
    mutation: 'oldQuorumAfterReconfig',
    seed: 728,
    caughtBy: 'liveness',
    why: 'proposals made while a reconfig was in flight still wait for the old quorum once it commits',
  },
];

for (const c of reconfigCases) {
  test(`reconfig mutant ${c.mutation} is caught at seed ${c.seed} by ${c.caughtBy} (${c.why})`, () => {
    const r = runSeed(c.seed, RECONFIG_OPS, [c.mutation], true);
    assert.equal(r.ok, false, `seed ${c.seed} no longer catches ${c.mutation}: find the new seed with the command above`);
    assert.equal(r.checker, c.caughtBy, r.violation);
    console.log(`# ${c.mutation}: seed ${c.seed}: ${r.violation}`);
    const intact = runSeed(c.seed, RECONFIG_OPS, [], true);
    assert.ok(intact.ok, `seed ${c.seed} fails without the mutant: ${intact.violation}`);
  });
}

/**
 * zxidRolloverWithoutElection's rule, broken: a follower that acks NEWEPOCH without persisting the
 * next epoch forgets it in a crash, and an election hands that epoch to a second leader. Caught in
 * the epoch-bump core simulator (`npm run sim -- --core --epoch-bump --ops 300 --mutation
 * ackNewEpochUnpersisted --seed 3`); the same seed passes with the rule intact.
 */
test('epoch-bump mutant ackNewEpochUnpersisted is caught at seed 3 by one leader per epoch (NEWEPOCH acked before the epoch is on disk)', () => {
  const seed = 3;
  const r = runSeed(seed, 300, ['ackNewEpochUnpersisted'], false, true);
  assert.equal(r.ok, false, `seed ${seed} no longer catches ackNewEpochUnpersisted: find the new seed with the command above`);
  assert.equal(r.checker, 'one leader per epoch', r.violation);
  console.log(`# ackNewEpochUnpersisted: seed ${seed}: ${r.violation}`);
  const intact = runSeed(seed, 300, [], false, true);
  assert.ok(intact.ok, `seed ${seed} fails without the mutant: ${intact.violation}`);
  assert.ok(intact.stats.epochBumps > 0);
});
