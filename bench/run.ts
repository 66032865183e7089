/**
 * One benchmark run: each system in turn (never concurrently) is started fresh, measured with
 * the same workloads and client, and stopped; a system that cannot start is reported as
 * skipped with its reason instead of failing the run.
 */
import os from 'node:os';
import { benchServer, type BenchConfig, type Progress, type SystemResult } from './harness.js';
import type { BenchReport } from './report.js';
import { startServer, systemMissing, type ServerSettings, type ServerUnderTest, type SystemName } from './servers.js';

export interface RunOptions {
  systems: SystemName[];
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
  const systems: SystemResult[] = [];
  for (const system of o.systems) systems.push(await benchOne(system, o));
  const cpus = os.cpus();
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    host: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', loadAvgAtStart, node: process.version, platform: `${os.type()} ${os.release()}` },
    config: { ...o.config, workloads: o.config.workloads.map((w) => w.name) },
    server: o.server,
    systems,
  };
}

async function benchOne(system: SystemName, o: RunOptions): Promise<SystemResult> {
  const missing = systemMissing(system);
  if (missing) return { system, ok: false, reason: missing };
  let server: ServerUnderTest;
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
    return await benchServer(server, o.config, o.progress);
  } catch (e) {
    const reason = `failed during the run: ${e instanceof Error ? e.message : String(e)}`;
    o.progress(`${system}: ${reason}`);
    return { system, ok: false, reason };
  } finally {
    running.delete(server);
    await server.stop();
  }
}
