import type { Mutation } from '../zab/state.js';
import type { ServerMutation, ServerSimResult } from './serverSim.js';
import type { SimResult } from './sim.js';

/** A failed seed, readable: what broke, how to replay it exactly, and what led up to it. */
export function report(r: SimResult, ops: number, mutations: readonly Mutation[]): string {
  const o = r.options;
  const m = mutations.length > 0 ? ` --mutation ${mutations.join(',')}` : '';
  return [
    `FAIL seed ${r.seed}: ${r.violation}`,
    `  ensemble: ${o.voters} voters + ${o.observers} observers, ${o.clients} clients, faults every ~${o.faults.interval_ms}ms, snapCount ${o.snapCount}, zxid counter max ${o.zxidCounter_max}`,
    `  replay: npm run sim -- --seed ${r.seed} --ops ${ops}${o.reconfig ? ' --reconfig' : ' --core'}${o.zxidRolloverWithoutElection ? ' --epoch-bump' : ''}${m}`,
    `  last events:`,
    ...(r.trace ?? []).map((l) => `    ${l}`),
  ].join('\n');
}

/** The same for the simulator of the real servers. */
export function serverReport(r: ServerSimResult, ops: number, mutations: readonly ServerMutation[]): string {
  const o = r.options;
  const m = mutations.length > 0 ? ` --mutation ${mutations.join(',')}` : '';
  return [
    `FAIL seed ${r.seed}: ${r.violation}`,
    `  ensemble: ${o.voters} voters + ${o.observers} observers, ${o.clients} clients, faults every ~${o.faults.interval_ms}ms, snapCount ${o.snapCount}`,
    `  replay: npm run sim -- --seed ${r.seed} --ops ${ops}${o.epochBump !== null ? ' --epoch-bump' : ''}${m}`,
    `  last events:`,
    ...(r.trace ?? []).map((l) => `    ${l}`),
  ].join('\n');
}
