/**
 * The benchmark harness end to end on a tiny run: real server process, forked workers,
 * warm-up, every workload, the printed table. Asserts that every workload row is there with
 * nonzero ops and that no request got an error reply; nothing about speed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from '../../bench/harness.js';
import { formatReport, formatTable } from '../../bench/report.js';
import { runBench } from '../../bench/run.js';
import { systemMissing, type SystemName } from '../../bench/servers.js';
import { DEFAULT_OPS, parseWorkloads } from '../../bench/workloads.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const requireExternal = process.env['TSZK_REQUIRE_EXTERNAL'] === '1';

const config: BenchConfig = {
  workers: 2,
  sessions: 2,
  depth: 8,
  duration_ms: 300,
  syncDuration_ms: 200,
  warmup_ms: 100,
  dataBytes: 100,
  children: 3,
  sessionTimeout_ms: 30_000,
  workloads: parseWorkloads(DEFAULT_OPS, 'async,sync'),
};

function skipReason(system: SystemName): string | false {
  if (system === 'zookeeper') {
    const missing = systemMissing('zookeeper');
    return missing && !requireExternal ? missing : false;
  }
  // Until the standalone server lands there is nothing to start; once it exists it must work.
  if (!fs.existsSync(path.resolve(here, `../../src/server/standalone${ext}`))) return 'tszk standalone server not written yet (src/server/standalone)';
  return false;
}

/** The ops/s cell of a system's column in a table row, as a number. */
function opsCell(row: string, column: number): number {
  const cell = row.split('|').map((c) => c.trim())[column]!;
  return Number(cell.replace(/,/g, ''));
}

for (const system of ['zookeeper', 'tszk'] as const) {
  test(`bench harness runs every workload against ${system}`, { skip: skipReason(system), timeout: 120_000 }, async () => {
    const report = await runBench({
      systems: [system],
      rounds: 1,
      failoverRepeats: 0,
      handshakes_ms: 1000,
      fanout: { watchers: 10, reps: 3 },
      floorSamples: 20,
      config,
      server: { forceSync: true, zkHeap_mb: 256 },
      progress: () => {},
    });
    const r = report.systems[0]!;
    assert.ok(r.ok, `${system} run failed: ${r.ok ? '' : r.reason}`);
    const table = formatTable(report);
    const rows = table.split('\n').slice(2);
    // split('|'): 0 is before the leading '|', 1 the workload, 2 tszk ops/s, 3 ZK ops/s.
    const column = system === 'tszk' ? 2 : 3;
    for (const wl of config.workloads) {
      const row = rows.find((line) => line.split('|')[1]!.trim() === wl.name);
      assert.ok(row, `table has no row for ${wl.name}:\n${table}`);
      assert.ok(opsCell(row, column) > 0, `${wl.name}: no ops in\n${row}`);
    }
    assert.equal(rows.length, config.workloads.length);
    for (const w of r.workloads) {
      assert.equal(w.errors, 0, `${w.name}: error replies ${JSON.stringify(w.errorCodes)}`);
      assert.ok(w.serverCpu_us >= 0 && w.rss_bytes > 0);
    }
    assert.ok(r.handshakes !== undefined && r.handshakes.sessions_per_s > 0, `no sessions opened: ${JSON.stringify(r.handshakes)}`);
    assert.equal(r.handshakes.failures, 0, 'sessions refused while opening them back to back');
    // Every one of the watchers got its event in every repetition (a missing one times the rep out).
    assert.ok(r.fanout !== undefined && r.fanout.reps === 3 && r.fanout.events_per_s > 0, `no fan-out: ${JSON.stringify(r.fanout)}`);
    assert.ok(r.floor !== undefined && r.floor.rtt_us.p50 > 0 && r.floor.fsync_us.p50 > 0, `no floor: ${JSON.stringify(r.floor)}`);
    const text = formatReport(report);
    assert.match(text, /watch fan-out, 10 watchers × 3/);
    assert.match(text, /against it: create sync p50/);
    process.stdout.write(`${text}\n`);
  });
}
