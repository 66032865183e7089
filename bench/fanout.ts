/**
 * Watch fan-out: N sessions (spread over the members) each set a data watch on one node, another
 * session sets its data once, and the time from sending that setData until all N
 * NodeDataChanged events have arrived is one sample; repeated. What a server pays to encode and
 * write one event to many connections (and, in an ensemble, to commit the write first).
 */
import { performance } from 'node:perf_hooks';
import { OpCode } from '../src/proto/opcodes.js';
import { createPaths } from './drive.js';
import { percentile } from './floor.js';
import type { ServerUnderTest } from './servers.js';
import { BenchSession, parseConnectString, writePathWatch, writeSetData } from './session.js';

const SESSION_TIMEOUT_MS = 30_000;
/** One repetition must be done (watches set, write made, every event in) within this. */
const REP_TIMEOUT_MS = 10_000;
const FANOUT_PATH = '/tszk-bench-fanout';
const DATA = Buffer.alloc(100, 0x66);

export interface FanoutResult {
  watchers: number;
  reps: number;
  /** Per repetition: setData sent → the last of the N events received. */
  allIn_us: { p50: number; p99: number; max: number };
  /** Events delivered per second of fan-out time (N × reps ÷ the summed all-in times). */
  events_per_s: number;
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (t = setTimeout(() => reject(new Error(`fan-out: ${what} took over ${REP_TIMEOUT_MS} ms`)), REP_TIMEOUT_MS)),
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** Sends one request of `type` on each session and resolves when every session has its reply. */
function onEach(sessions: BenchSession[], type: number, body: (s: BenchSession) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let left = sessions.length;
    for (const s of sessions) {
      s.onFailure = reject;
      s.onReply = (err) => {
        if (err !== 0) return reject(new Error(`fan-out: op ${type} answered error ${err}`));
        if (--left === 0) resolve();
      };
      body(s);
      s.end();
      s.flush();
    }
  });
}

export async function measureFanout(server: ServerUnderTest, watchers: number, reps: number): Promise<FanoutResult> {
  const targets = server.members.map((m) => parseConnectString(m)[0]!);
  const setter = await BenchSession.connectRetrying(targets[0]!.host, targets[0]!.port, SESSION_TIMEOUT_MS, server.clientTls);
  const sessions: BenchSession[] = [];
  try {
    for (let i = 0; i < watchers; i++) {
      const t = targets[i % targets.length]!;
      sessions.push(await BenchSession.connectRetrying(t.host, t.port, SESSION_TIMEOUT_MS, server.clientTls));
    }
    await createPaths(setter, [FANOUT_PATH], Buffer.alloc(0));
    const samples: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      await within(
        onEach(sessions, OpCode.getData, (s) => writePathWatch(s.begin(OpCode.getData), FANOUT_PATH, true)),
        'setting the watches',
      );
      let events = 0;
      let t0 = 0;
      const allIn = new Promise<number>((resolve) => {
        for (const s of sessions) {
          s.onNotification = () => {
            if (++events === watchers) resolve(performance.now() - t0);
          };
        }
      });
      t0 = performance.now();
      const written = onEach([setter], OpCode.setData, (s) => writeSetData(s.begin(OpCode.setData), FANOUT_PATH, DATA));
      const [took_ms] = await within(Promise.all([allIn, written]), 'the events');
      samples.push(took_ms * 1000);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const sum_us = samples.reduce((a, b) => a + b, 0);
    return {
      watchers,
      reps,
      allIn_us: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! },
      events_per_s: (watchers * reps) / (sum_us / 1e6),
    };
  } finally {
    for (const s of sessions) s.onNotification = () => {};
    await Promise.all([setter, ...sessions].map((s) => s.close().catch(() => s.destroy())));
  }
}
