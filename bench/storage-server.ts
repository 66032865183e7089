/**
 * Sustained write throughput with fsync on: the standalone tszk server on tszk storage
 * (test/storage/serverChild.ts: the wiring `tszk server` gets) beside Apache ZooKeeper 3.8, one
 * after the other, same client (bench/harness.ts), plus tszk's txns per fsync from its log.
 *
 *   npx tsx bench/storage-server.ts [--seconds 5] [--workloads create,setData]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchServer, type BenchConfig, type SystemResult } from './harness.js';
import { startServer, type ServerUnderTest } from './servers.js';
import { parseWorkloads } from './workloads.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const seconds = Number(arg('seconds', '5'));
const CHILD = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'test', 'storage', 'serverChild.ts');

let tszkStats = '';

async function startTszkOnStorage(): Promise<ServerUnderTest> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-bench-storage-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, arg('snap-count', '100000')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TSZK_LOG_LEVEL: 'warn' },
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`tszk exited with ${code}`)));
  });
  return {
    system: 'tszk',
    members: [`127.0.0.1:${port}`],
    pids: [proc.pid!],
    dataDirs: [dataDir],
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      tszkStats = /stats (.*)/.exec(out)?.[1] ?? '';
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const config: BenchConfig = {
  workers: 2,
  sessions: 8,
  depth: 50,
  duration_ms: seconds * 1000,
  syncDuration_ms: 1000,
  warmup_ms: 2000,
  dataBytes: 100,
  children: 10,
  sessionTimeout_ms: 30_000,
  workloads: parseWorkloads(arg('workloads', 'create,setData'), 'async'),
};

const progress = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);
const results: SystemResult[] = [];
const tszk = await startTszkOnStorage();
try {
  results.push(await benchServer(tszk, config, progress));
} finally {
  await tszk.stop();
}
const zk = await startServer('zookeeper', { forceSync: true, zkHeap_mb: 1000 });
try {
  results.push(await benchServer(zk, config, progress));
} finally {
  await zk.stop();
}

console.log(`writes with fsync on, ${config.workers}×${config.sessions} sessions × ${config.depth} outstanding, ${seconds}s each`);
console.log('system     workload        ops/s   p99 ms  txns/fsync');
for (const r of results) {
  if (!r.ok) {
    console.log(`${r.system}: failed`);
    continue;
  }
  for (const w of r.workloads) {
    const tpf = w.txnsPerFsync === undefined ? '-' : w.txnsPerFsync.toFixed(1);
    console.log(
      `${r.system.padEnd(10)} ${w.name.padEnd(12)} ${String(Math.round(w.ops_per_s)).padStart(8)} ${(w.latency_us.p99 / 1000).toFixed(1).padStart(8)}  ${tpf.padStart(10)}`,
    );
  }
}
if (tszkStats) {
  const s = JSON.parse(tszkStats) as { log: { txns: number; fsyncs: number; batches: number; batchTxnsMax: number } };
  console.log(
    `tszk log over the whole run: ${s.log.txns} txns, ${s.log.fsyncs} fsyncs, ${(s.log.txns / Math.max(1, s.log.fsyncs)).toFixed(1)} txns/fsync, largest batch ${s.log.batchTxnsMax}`,
  );
}
console.log(JSON.stringify({ bench: 'storage-server', tszkStats: tszkStats ? JSON.parse(tszkStats) : null, results }));
