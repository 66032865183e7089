/**
 * What a zxid rollover costs the writers of a 3-member tszk ensemble: ZooKeeper's way (the leader
 * steps down, an election) against tszk.zxidRolloverWithoutElection (the next epoch in place).
 * The counter is cut short with the test-only TSZK_TEST_ZXID_COUNTER_MAX so that one run crosses
 * several rollovers; one writer issues acknowledged setData one at a time and the longest write
 * (the outage a rollover causes) is reported with the median, rounds interleaved.
 *
 *   npx tsx bench/rollover.ts [--rounds 2] [--writes 600] [--counter 100]
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ZooKeeperClient } from '../src/client/index.js';
import { Err, KeeperError } from '../src/proto/errors.js';
import { startEnsemble } from '../test/support/ensemble.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const ROUNDS = arg('rounds', 2);
const WRITES = arg('writes', 600);
const COUNTER = arg('counter', 100);

interface Round {
  inPlace: boolean;
  epochs: number;
  elections: number;
  median_ms: number;
  max_ms: number;
}

async function round(inPlace: boolean): Promise<Round> {
  const ens = await startEnsemble(3, {
    cfg: inPlace ? { 'tszk.zxidRolloverWithoutElection': 'true' } : {},
    env: { TSZK_TEST_ZXID_COUNTER_MAX: String(COUNTER) },
  });
  const lookings = (): number =>
    ens.members.reduce(
      (n, m) =>
        n +
        fs
          .readFileSync(m.logFile, 'utf8')
          .split('\n')
          .filter((l) => l.includes('LOOKING: starting leader election')).length,
      0,
    );
  const zk = await ZooKeeperClient.connect(ens.connectString, { sessionTimeout_ms: 10_000 });
  try {
    await zk.create('/bench-rollover', '');
    const before = lookings();
    const took: number[] = [];
    const epochs = new Set<bigint>();
    for (let i = 0; i < WRITES; i++) {
      const t0 = performance.now();
      for (;;) {
        try {
          epochs.add((await zk.setData('/bench-rollover', `v${i}`)).mzxid >> 32n);
          break;
        } catch (e) {
          if (!(e instanceof KeeperError) || e.code !== Err.ConnectionLoss) throw e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      took.push(performance.now() - t0);
    }
    took.sort((a, b) => a - b);
    return { inPlace, epochs: epochs.size, elections: lookings() - before, median_ms: took[Math.floor(took.length / 2)]!, max_ms: took[took.length - 1]! };
  } finally {
    await zk.close().catch(() => {});
    await ens.stop();
  }
}

const results: Round[] = [];
for (let r = 0; r < ROUNDS; r++) for (const inPlace of [false, true]) results.push(await round(inPlace));
for (const r of results)
  console.log(
    `${r.inPlace ? 'in place' : 'election'}: ${WRITES} writes over ${r.epochs} epochs, ${r.elections} member elections, median ${r.median_ms.toFixed(2)} ms, longest ${r.max_ms.toFixed(1)} ms`,
  );
const worst = (inPlace: boolean): number => Math.max(...results.filter((r) => r.inPlace === inPlace).map((r) => r.max_ms));
console.log(
  `longest write across a rollover: election ${worst(false).toFixed(1)} ms, in place ${worst(true).toFixed(1)} ms (${(worst(false) / worst(true)).toFixed(1)}x shorter)`,
);
