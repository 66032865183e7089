import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXERCISED_STATS, type ExercisedStat } from '../../src/sim/serverSim.js';

/**
 * The CI budget of the simulator of the real servers (src/sim/serverSim.ts): TSZK_SERVER_SIM_SEEDS
 * random seeds (default 10,000), split over two processes so both cores work. Every checker runs
 * after every event; a failure prints its seed and a one-line replay command.
 */
const SEEDS = Number(process.env['TSZK_SERVER_SIM_SEEDS'] ?? 10_000);
const WORKERS = 2;

const here = path.dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const repoRoot = fromSource ? path.resolve(here, '../..') : path.resolve(here, '../../..');
const simArgs = fromSource ? ['--import', 'tsx', path.join(repoRoot, 'src/sim/main.ts')] : [path.join(repoRoot, 'dist/src/sim/main.js')];

function runSeeds(first: number, seeds: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...simArgs, '--seeds', String(seeds), '--first', String(first)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.on('close', (code) => resolve({ code, out }));
  });
}

test(`${SEEDS} random seeds of real tszk servers keep every guarantee`, { timeout: 30 * 60_000 }, async () => {
  const t0 = Date.now();
  const per = Math.ceil(SEEDS / WORKERS);
  const runs = await Promise.all(Array.from({ length: WORKERS }, (_, i) => runSeeds(1 + i * per, Math.min(per, SEEDS - i * per))));
  const failures = runs.filter((r) => r.code !== 0).map((r) => r.out);
  assert.deepEqual(failures, [], failures.join('\n'));
  const totals = { ...(Object.fromEntries(EXERCISED_STATS.map((k) => [k, 0])) as Record<ExercisedStat, number>), seeds: 0, sizes: new Set<string>() };
  for (const r of runs) {
    const seeds = /server simulator: (\d+) seeds, 0 failed/.exec(r.out);
    assert.ok(seeds !== null, `no summary line in:\n${r.out}`);
    totals.seeds += Number(seeds[1]);
    const ex = /^exercised: (.*)$/m.exec(r.out);
    assert.ok(ex !== null, `no exercised line in:\n${r.out}`);
    const e = JSON.parse(ex[1]!) as Record<ExercisedStat, number> & { sizes: string[] };
    for (const k of EXERCISED_STATS) totals[k] += e[k];
    for (const s of e.sizes) totals.sizes.add(s);
  }
  console.log(`# ${totals.seeds} seeds in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${JSON.stringify({ ...totals, sizes: [...totals.sizes].sort() })}`);
  assert.equal(totals.seeds, SEEDS);
  // The run really exercised the servers: crashes, sessions and their ephemerals, expiry.
  assert.ok(totals.committed > SEEDS * 10, 'txns were committed');
  assert.ok(totals.crashes > SEEDS / 2, 'servers were killed and restarted');
  assert.ok(totals.ephemerals > SEEDS, 'ephemerals were made');
  assert.ok(totals.expired > 0, 'clients met expired sessions');
  assert.ok(totals.readOnlyReads > 0, 'members in read-only mode served reads');
  assert.ok(totals.multisApplied > SEEDS / 4 && totals.multisFailed > SEEDS / 4, 'multis were applied and failed as one');
  for (const v of ['1+0', '3+0', '3+1', '5+0']) assert.ok(totals.sizes.has(v), `${v} ensembles ran`);
  // Reconfig (30% of seeds): reconfigs committed and answered Ok, others refused with ZooKeeper's codes.
  assert.ok(totals.reconfigsCommitted > SEEDS / 10 && totals.reconfigsAnsweredOk > SEEDS / 10, 'reconfigs committed and were answered Ok');
  assert.ok(totals.reconfigsRefused > SEEDS / 10, 'reconfigs were refused');
});
