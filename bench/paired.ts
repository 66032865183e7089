/**
 * One-at-a-time write latency, tszk and ZooKeeper side by side in adjacent windows (see
 * pairedRun.ts for why): `npm run bench:paired -- [options]`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatPaired, runPaired, type PairedOp } from './pairedRun.js';

const positive = (v: string): number => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('a positive number');
  return n;
};
const program = new Command()
  .description('one-at-a-time writes, tszk and ZooKeeper in adjacent windows')
  .option('--ensemble <n>', 'members per system (1 = standalone)', positive, 3)
  .option('--ops <list>', 'create,setData', 'create,setData')
  .option('--pairs <n>', 'window pairs per op', positive, 20)
  .option('--window <s>', 'seconds per window', positive, 1.5)
  .option('--warmup <s>', 'seconds of writes per system and op before measuring (the JVM compiles)', positive, 5)
  .addOption(
    new Option('--member <role>', 'in an ensemble, the member both sessions use (a follower is where 2 of 3 clients land)')
      .choices(['follower', 'leader'])
      .default('follower'),
  )
  .option('--no-force-sync', 'forceSync=no on both')
  .option('--floor-samples <n>', "loopback round trips and fsync'd appends measured first, the floor (0: skip)", (v) => Number(v), 1000);

interface Flags {
  ensemble: number;
  ops: string;
  pairs: number;
  window: number;
  warmup: number;
  member: 'follower' | 'leader';
  forceSync: boolean;
  floorSamples: number;
}

async function main(): Promise<void> {
  const f = program.parse().opts<Flags>();
  const ops = f.ops.split(',').map((s) => s.trim());
  for (const op of ops) if (op !== 'create' && op !== 'setData') throw new Error(`--ops: create or setData, not ${op}`);
  const report = await runPaired({
    ensemble: Math.floor(f.ensemble),
    ops: ops as PairedOp[],
    pairs: Math.floor(f.pairs),
    window_ms: f.window * 1000,
    warmup_ms: f.warmup * 1000,
    member: f.member,
    forceSync: f.forceSync,
    floorSamples: Math.floor(f.floorSamples),
    progress: (line) => process.stderr.write(`[paired] ${line}\n`),
  });
  process.stdout.write(formatPaired(report) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
