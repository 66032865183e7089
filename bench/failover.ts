/**
 * Leader fail-over time of an ensemble: while a prober on every other member keeps writing,
 * the leader is killed with SIGKILL; the fail-over time is from the kill to the first write
 * issued after it that succeeds (it can only succeed through a new leader). The killed member
 * is restarted and the ensemble allowed to settle before the next repetition.
 */
import { performance } from 'node:perf_hooks';
import { OpCode } from '../src/proto/opcodes.js';
import type { Ensemble } from './ensemble.js';
import { BenchSession, writeCreate } from './session.js';
import { createPaths } from './drive.js';

const FAILOVER_ROOT = '/tszk-bench-failover';
/** Give up on one repetition after this long without a successful write. */
const FAILOVER_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 5_000;
const RETRY_MS = 20;
const SESSION_TIMEOUT_MS = 10_000;

export interface FailoverResult {
  times_ms: number[];
  median_ms: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One create, one at a time; resolves with the reply's error code, rejects if the connection dies or stalls. */
function createOnce(s: BenchSession, path: string, data: Buffer): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('request timed out')), REQUEST_TIMEOUT_MS);
    s.onReply = (err) => {
      clearTimeout(t);
      resolve(err);
    };
    s.onBatch = () => {};
    s.onFailure = (e) => {
      clearTimeout(t);
      reject(e);
    };
    writeCreate(s.begin(OpCode.create), path, data, 0);
    s.end();
    s.flush();
  });
}

interface Probe {
  /** ms after the kill of the first successful write issued after it. */
  done: Promise<number | undefined>;
  stop(): void;
}

function probe(port: number, name: string, kill_ms: () => number | undefined): Probe {
  let stopped = false;
  const data = Buffer.alloc(16, 0x62);
  const run = async (): Promise<number | undefined> => {
    let n = 0;
    while (!stopped) {
      let s: BenchSession;
      try {
        s = await BenchSession.connect('127.0.0.1', port, SESSION_TIMEOUT_MS);
      } catch {
        await sleep(RETRY_MS);
        continue;
      }
      try {
        while (!stopped) {
          const issued_ms = performance.now();
          const err = await createOnce(s, `${FAILOVER_ROOT}/${name}-${n++}`, data);
          const t0 = kill_ms();
          if (err === 0 && t0 !== undefined && issued_ms >= t0) return performance.now() - t0;
          if (err !== 0) await sleep(RETRY_MS);
        }
      } catch {
        await sleep(RETRY_MS);
      } finally {
        s.destroy();
      }
    }
    return undefined;
  };
  return { done: run(), stop: () => (stopped = true) };
}

export async function measureFailover(e: Ensemble, repeats: number, progress: (line: string) => void): Promise<FailoverResult> {
  const first = await BenchSession.connect('127.0.0.1', e.clientPorts[0]!, SESSION_TIMEOUT_MS);
  await createPaths(first, [FAILOVER_ROOT], Buffer.alloc(0));
  first.destroy();
  const times_ms: number[] = [];
  for (let r = 0; r < repeats; r++) {
    await e.waitServing();
    const leader = await e.leader();
    if (leader === undefined) throw new Error('no leader to kill');
    let killedAt: number | undefined;
    const probes = e.clientPorts.flatMap((port, i) => (i === leader ? [] : [probe(port, `r${r}m${i}`, () => killedAt)]));
    await sleep(500); // let the probes connect and write under a healthy leader
    killedAt = performance.now();
    await e.kill(leader);
    const timeout = sleep(FAILOVER_TIMEOUT_MS).then(() => undefined);
    const first_ms = await Promise.race([Promise.any(probes.map((p) => p.done.then((v) => v ?? Promise.reject(new Error('stopped'))))), timeout]);
    for (const p of probes) p.stop();
    await Promise.allSettled(probes.map((p) => p.done));
    if (first_ms === undefined) throw new Error(`no write succeeded within ${FAILOVER_TIMEOUT_MS} ms of killing the leader`);
    times_ms.push(first_ms);
    progress(`${e.system}: fail-over ${r + 1}/${repeats}: killed leader member ${leader + 1}, writes resumed after ${first_ms.toFixed(0)} ms`);
    e.restart(leader);
  }
  await e.waitServing();
  const sorted = [...times_ms].sort((a, b) => a - b);
  return { times_ms, median_ms: sorted[Math.floor((sorted.length - 1) / 2)]! };
}
