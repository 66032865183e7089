import { performance } from 'node:perf_hooks';
import type { Mutation } from '../zab/state.js';
import type { ServerMutation } from './serverSim.js';
import { report, serverReport } from './report.js';
import { EXERCISED_STATS, runServerSeed, type ExercisedStat } from './serverSim.js';
import { runSeed } from './sim.js';

/**
 * `npm run sim -- --seeds N --ops M [--first F] [--seed S] [--mutation a,b] [--core] [--reconfig] [--epoch-bump]`: runs
 * random seeds through the simulator of the real servers (serverSim.ts; reconfigs in 30% of seeds,
 * summed in its `exercised:` line), or with --core through the one of the bare ZAB core (sim.ts). A failure prints its seed, a replay command and the
 * last events before it.
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const reconfig = process.argv.includes('--reconfig');
  const epochBump = process.argv.includes('--epoch-bump');
  // --reconfig is the bare core's reconfig mix; the real servers' simulator reconfigures in 30% of its seeds anyway (serverReconfig.ts).
  const core = process.argv.includes('--core') || reconfig;
  const ops = Number(arg('ops') ?? (core ? 60 : 40));
  const one = arg('seed');
  const seeds = Number(arg('seeds') ?? 100);
  const first = Number(arg('first') ?? 1);
  const mutations = (arg('mutation')?.split(',').filter(Boolean) ?? []) as ServerMutation[];
  const list = one !== undefined ? [Number(one)] : Array.from({ length: seeds }, (_, i) => first + i);
  const t0 = performance.now();
  let failures = 0;
  let events = 0;
  let committed = 0;
  let reconfigs = 0;
  let epochBumps = 0;
  let elections = 0;
  /** What the server seeds exercised, summed (printed as the last line, for test/sim/server-seeds). */
  const exercised = Object.fromEntries(EXERCISED_STATS.map((k) => [k, 0])) as Record<ExercisedStat, number>;
  const sizes = new Set<string>();
  for (const seed of list) {
    const r = core ? runSeed(seed, ops, mutations as Mutation[], reconfig, epochBump) : await runServerSeed(seed, ops, mutations, epochBump);
    events += r.stats.events;
    if (core) {
      const st = (r as ReturnType<typeof runSeed>).stats;
      reconfigs += st.reconfigs;
      epochBumps += st.epochBumps;
      elections += st.elections;
    }
    committed += r.stats.committed;
    if (!core) {
      const st = (r as Awaited<ReturnType<typeof runServerSeed>>).stats;
      for (const k of EXERCISED_STATS) exercised[k] += st[k];
      sizes.add(`${r.options.voters}+${r.options.observers}`);
    }
    if (!r.ok) {
      failures++;
      console.log(
        core
          ? report(r as ReturnType<typeof runSeed>, ops, mutations as Mutation[])
          : serverReport(r as Awaited<ReturnType<typeof runServerSeed>>, ops, mutations),
      );
      if (one === undefined && failures >= 3) break;
    } else if (one !== undefined) {
      console.log(`ok seed ${seed}: ${JSON.stringify(r.stats)}`);
    }
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${core ? 'core' : 'server'} simulator: ${list.length} seeds, ${failures} failed, ${s.toFixed(1)}s (${(list.length / s).toFixed(1)} seeds/s, ${Math.round(events / s)} events/s, ${committed} txns committed)`,
  );
  if (reconfig) console.log(`reconfigs committed: ${reconfigs}`);
  if (epochBump && core) console.log(`epochs bumped in place: ${epochBumps} (elections: ${elections})`);
  if (!core) console.log(`exercised: ${JSON.stringify({ ...exercised, sizes: [...sizes].sort() })}`);
  process.exitCode = failures > 0 ? 1 : 0;
}

await main();
