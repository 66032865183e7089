import assert from 'node:assert/strict';
import { test } from 'node:test';
import { report } from '../../src/sim/report.js';
import { runSeed } from '../../src/sim/sim.js';

/**
 * The CI budget of random seeds: mixed ensemble sizes (3/5/7 voters, some with observers), fault
 * rates from calm to heavy, every checker after every step. TSZK_SIM_SEEDS / TSZK_SIM_OPS scale it.
 */
const SEEDS = Number(process.env.TSZK_SIM_SEEDS ?? 1000);
const OPS = Number(process.env.TSZK_SIM_OPS ?? 800);

test(`${SEEDS} random seeds with ${OPS} client ops each keep every ZAB guarantee`, () => {
  const failures: string[] = [];
  const sizes = new Set<string>();
  let crashes = 0;
  let elections = 0;
  let committed = 0;
  let wire = 0;
  const t0 = Date.now();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runSeed(seed, OPS);
    sizes.add(`${r.options.voters}+${r.options.observers}`);
    crashes += r.stats.crashes;
    elections += r.stats.elections;
    committed += r.stats.committed;
    if (r.options.wire) wire++;
    if (!r.ok) {
      failures.push(report(r, OPS, []));
      if (failures.length >= 3) break;
    }
  }
  const s = (Date.now() - t0) / 1000;
  console.log(
    `# ${SEEDS} seeds in ${s.toFixed(1)}s: ${committed} txns committed, ${elections} elections, ${crashes} crashes, ${wire} over the wire formats, sizes ${[...sizes].sort().join(' ')}`,
  );
  assert.deepEqual(failures, [], failures.join('\n\n'));
  // The run really exercised the protocol.
  assert.ok(committed > SEEDS * 10, 'txns were committed');
  assert.ok(crashes > SEEDS, 'peers crashed and restarted');
  for (const v of [3, 5, 7])
    assert.ok(
      [...sizes].some((x) => x.startsWith(`${v}+`)),
      `${v}-voter ensembles ran`,
    );
  assert.ok(
    [...sizes].some((x) => !x.endsWith('+0')),
    'ensembles with observers ran',
  );
  assert.ok(wire > SEEDS / 10, 'some runs sent every packet through ZooKeeper wire formats');
});

test('a seed replays exactly', () => {
  for (const seed of [7, 4242]) {
    const a = runSeed(seed, 300);
    const b = runSeed(seed, 300);
    assert.deepEqual(b.stats, a.stats);
    assert.ok(a.stats.events > 1000);
  }
});
