import assert from 'node:assert/strict';
import { test } from 'node:test';
import { report, serverReport } from '../../src/sim/report.js';
import { runServerSeed } from '../../src/sim/serverSim.js';
import { runSeed } from '../../src/sim/sim.js';

/**
 * zxidRolloverWithoutElection in the bare core simulator's fault mix (`npm run sim -- --core
 * --epoch-bump`): the zxid counter is spent every 3, 8 or 64 proposals, so leaders move to the next
 * epoch in place many times per seed while peers crash, partitions come and go and messages are
 * lost; every checker after every step. TSZK_SIM_EPOCH_BUMP_SEEDS scales it.
 */
const SEEDS = Number(process.env.TSZK_SIM_EPOCH_BUMP_SEEDS ?? 100);
const OPS = 300;

test(`${SEEDS} random seeds with in-place epoch bumps keep every ZAB guarantee`, () => {
  const failures: string[] = [];
  let bumps = 0;
  let committed = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSeed(seed, OPS, [], false, true);
    bumps += r.stats.epochBumps;
    committed += r.stats.committed;
    if (!r.ok) {
      failures.push(report(r, OPS, []));
      if (failures.length >= 3) break;
    }
  }
  console.log(`# ${SEEDS} seeds: ${bumps} epochs bumped in place, ${committed} txns committed`);
  assert.deepEqual(failures, [], failures.join('\n\n'));
  assert.ok(bumps > SEEDS, 'epochs bumped in place');
});

/**
 * The same with the real servers (`npm run sim -- --epoch-bump`): QuorumPeer runtimes with their
 * pipelines, sessions and clients, the writes the leader's runtime keeps while the counter is spent,
 * and the quorum wire rules (a learner's SYNC after the COMMITs of its earlier writes: seed 14 once
 * got its SYNC first, when a held sync was answered before the held writes were proposed).
 */
const SERVER_SEEDS = Number(process.env.TSZK_SIM_EPOCH_BUMP_SERVER_SEEDS ?? 30);
const SERVER_OPS = 40;

test(`${SERVER_SEEDS} server simulator seeds with in-place epoch bumps pass every checker`, async () => {
  const failures: string[] = [];
  let bumps = 0;
  for (let seed = 1; seed <= SERVER_SEEDS; seed++) {
    const r = await runServerSeed(seed, SERVER_OPS, [], true);
    bumps += r.stats.epochBumps;
    if (!r.ok) {
      failures.push(serverReport(r, SERVER_OPS, []));
      if (failures.length >= 3) break;
    }
  }
  console.log(`# ${SERVER_SEEDS} server seeds: ${bumps} epochs bumped in place`);
  assert.deepEqual(failures, [], failures.join('\n\n'));
  assert.ok(bumps > SERVER_SEEDS, 'epochs bumped in place');
});
