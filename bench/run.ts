/**
 * One benchmark run: each system in turn (never concurrently) is started fresh, measured with
 * the same workloads and client, and stopped; a system that cannot start is reported as
 * skipped with its reason instead of failing the run.
 */
import os from 'node:os';
import { benchServer, type BenchConfig, type Progress, type SystemResult } from './harness.js';
import type { BenchReport } from './report.js';
import type { Ensemble } from './ensemble.js';
import { measureFailover } from './failover.js';
import { measureFanout } from './fanout.js';
import { measureFloor } from './floor.js';
import { measureHandshakes } from './handshakes.js';
import { startServer, systemMissing, type ServerSettings, type ServerUnderTest, type SystemName } from './servers.js';

export interface RunOptions {
  systems: SystemName[];
  /** Rounds alternate the systems (A B A B …) so that background load hits both alike; each row reports its best round. */
  rounds: number;
  /** Leader kills to time per system (ensembles only; 0 = none). */
  failoverRepeats: number;
  /** How long to open sessions back to back after the workloads (0 = not measured). */
  handshakes_ms: number;
  /** Watch fan-out after the workloads: watchers and repetitions (watchers 0 = not measured). */
  fanout: { watchers: number; reps: number };
  /** Samples of the loopback round trip and of an append's fsync, measured before each system's run (0 = not measured). */
  floorSamples: number;
  config: BenchConfig;
  server: ServerSettings;
  progress: Progress;
}

/** Servers running right now, so an interrupted run can still stop them. */
const running = new Set<ServerUnderTest>();

export async function stopRunningServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop().catch(() => undefined)));
  running.clear();
}

export async function runBench(o: RunOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadAvgAtStart = os.loadavg();
  const rounds: SystemResult[][] = [];
  for (let round = 0; round < o.rounds; round++) {
    const results: SystemResult[] = [];
    if (o.rounds > 1) o.progress(`round ${round + 1} of ${o.rounds}`);
    for (const system of o.systems) results.push(await benchOne(system, o));
    rounds.push(results);
  }
  const systems = o.systems.map((_, i) => bestRound(rounds.map((r) => r[i]!)));
  const cpus = os.cpus();
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    host: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', loadAvgAtStart, node: process.version, platform: `${os.type()} ${os.release()}` },
    config: { ...o.config, workloads: o.config.workloads.map((w) => w.name) },
    server: o.server,
    systems,
    ...(o.rounds > 1 ? { rounds } : {}),
  };
}

/**
 * Per workload, the round with the highest ops/s, whole, so each row's numbers come from one
 * measurement. On a shared machine, other processes only ever slow a run down, so the best
 * round is the least disturbed one. Failed rounds are left out.
 */
export function bestRound(results: SystemResult[]): SystemResult {
  const ok = results.filter((r): r is Extract<SystemResult, { ok: true }> => r.ok);
  if (ok.length === 0) return results[0]!;
  if (ok.length === 1) return ok[0]!;
  const first = ok[0]!;
  const workloads = first.workloads.map((w, i) => {
    const candidates = ok.map((r) => r.workloads[i]!).sort((a, b) => b.ops_per_s - a.ops_per_s);
    return candidates[0]!;
  });
  const failovers = ok.flatMap((r) => r.failover?.times_ms ?? []);
  const handshakes = ok.flatMap((r) => (r.handshakes === undefined ? [] : [r.handshakes])).sort((a, b) => b.sessions_per_s - a.sessions_per_s)[0];
  const fanout = ok.flatMap((r) => (r.fanout === undefined ? [] : [r.fanout])).sort((a, b) => a.allIn_us.p50 - b.allIn_us.p50)[0];
  const floor = ok.flatMap((r) => (r.floor === undefined ? [] : [r.floor])).sort((a, b) => a.fsync_us.p50 + a.rtt_us.p50 - b.fsync_us.p50 - b.rtt_us.p50)[0];
  const sorted = [...failovers].sort((a, b) => a - b);
  return {
    ...first,
    workloads,
    ...(failovers.length > 0 ? { failover: { times_ms: failovers, median_ms: sorted[Math.floor((sorted.length - 1) / 2)]! } } : {}),
    ...(handshakes !== undefined ? { handshakes } : {}),
    ...(fanout !== undefined ? { fanout } : {}),
    ...(floor !== undefined ? { floor } : {}),
    rssEnd_bytes: Math.max(...ok.map((r) => r.rssEnd_bytes)),
    rssPeak_bytes: Math.max(...ok.map((r) => r.rssPeak_bytes)),
  };
}

async function benchOne(system: SystemName, o: RunOptions): Promise<SystemResult> {
  const missing = systemMissing(system);
  if (missing) return { system, ok: false, reason: missing };
  let server: ServerUnderTest;
  // Measured right before each system, so that a loaded machine's floor is the one this run met.
  const floor = o.floorSamples > 0 ? await measureFloor(o.floorSamples) : undefined;
  o.progress(`${system}: starting`);
  try {
    server = await startServer(system, o.server);
  } catch (e) {
    const reason = `did not start: ${e instanceof Error ? e.message : String(e)}`;
    o.progress(`${system}: SKIPPED, ${reason}`);
    return { system, ok: false, reason };
  }
  running.add(server);
  try {
    const result = await benchServer(server, o.config, o.progress);
    if (result.ok && floor !== undefined) result.floor = floor;
    if (result.ok && o.handshakes_ms > 0) {
      o.progress(`${system}: sessions opened back to back for ${o.handshakes_ms / 1000} s`);
      result.handshakes = await measureHandshakes(server, o.handshakes_ms);
    }
    if (result.ok && o.fanout.watchers > 0) {
      o.progress(`${system}: watch fan-out, ${o.fanout.watchers} watchers × ${o.fanout.reps}`);
      result.fanout = await measureFanout(server, o.fanout.watchers, o.fanout.reps);
    }
    if (result.ok && o.failoverRepeats > 0) {
      if (!isEnsemble(server)) throw new Error('fail-over time needs an ensemble (--ensemble 3)');
      result.failover = await measureFailover(server, o.failoverRepeats, o.progress);
    }
    return result;
  } catch (e) {
    const reason = `failed during the run: ${e instanceof Error ? e.message : String(e)}`;
    o.progress(`${system}: ${reason}`);
    return { system, ok: false, reason };
  } finally {
    running.delete(server);
    await server.stop();
  }
}

function isEnsemble(s: ServerUnderTest): s is Ensemble {
  return 'leader' in s && 'kill' in s;
}
