/**
 * `npm run bench` / `npm run bench:quick`: tszk and Apache ZooKeeper 3.8 standalone on this
 * machine, the same workloads and client against each, one after the other; prints a
 * side-by-side table and writes the results as JSON to bench/results/<date>.json.
 */
import path from 'node:path';
import { makeCerts } from '../test/security/certs.js';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import type { BenchConfig } from './harness.js';
import { formatReport, writeJson } from './report.js';
import { runBench, stopRunningServers } from './run.js';
import { ZK_HEAP_DEFAULT_MB, type SystemName } from './servers.js';
import { DEFAULT_OPS, parseWorkloads } from './workloads.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = import.meta.url.endsWith('.ts') ? path.resolve(here, '..') : path.resolve(here, '../..');

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
function nonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return n;
}

const program = new Command('bench')
  .description('tszk vs Apache ZooKeeper 3.8 standalone: same workloads, same client, side-by-side table')
  .option('--quick', 'short run: 2 s per workload, 1 s warm-up')
  .option('--duration <s>', 'measured seconds per async workload (default 10, quick 2)', nonNegative)
  .option('--sync-duration <s>', 'measured seconds per one-at-a-time workload (default 5, quick 1)', nonNegative)
  .option('--warmup <s>', 'warm-up seconds per workload, results discarded (default 3, quick 1)', nonNegative)
  .option('--workers <n>', 'load-generating processes', positiveInt, 2)
  .option('--sessions <n>', 'sessions per process', positiveInt, 8)
  .option('--depth <n>', 'requests outstanding per session (async)', positiveInt, 50)
  .option('--data-bytes <n>', 'znode data size', nonNegative, 100)
  .option('--children <n>', 'children of the node getChildren lists', nonNegative, 10)
  .option('--workloads <list>', 'ops: create,exists,getData,setData,getChildren,delete and mixNN (NN% reads)', DEFAULT_OPS)
  .option('--modes <list>', 'async (pipelined), sync (one at a time)', 'async,sync')
  .option('--systems <list>', 'which servers, in run order', 'tszk,zookeeper')
  .option('--rounds <n>', 'alternate the systems this many times; each row reports its best round', positiveInt, 1)
  .option('--no-force-sync', 'forceSync=no on both servers (default: fsync before acknowledging, as both default)')
  .option('--ensemble <n>', 'members per system: 1 = standalone, 3 = a local ensemble (clients spread over members)', positiveInt, 1)
  .option('--handshakes <seconds>', 'after the workloads, open sessions back to back (TLS handshakes with --tls) and report the rate', nonNegative, 0)
  .option('--fanout <watchers>', 'after the workloads, watch fan-out: N sessions watch one node, one setData, time until all N events are in', nonNegative, 0)
  .option('--fanout-reps <n>', 'fan-out repetitions (default 200, quick 50)', positiveInt)
  .option('--floor', "measure this machine's floor first (loopback round trip, an append's fsync) and show each sync row against it")
  .option('--failover <n>', 'with --ensemble: kill the leader n times under writes and report the fail-over time', nonNegative, 0)
  .option('--zk-heap-mb <n>', "ZooKeeper's -Xmx (zkServer.sh default)", positiveInt, ZK_HEAP_DEFAULT_MB)
  .option('--session-timeout-ms <n>', 'requested session timeout', positiveInt, 30_000)
  .option('--out <dir>', 'where the JSON results go', path.join(repoRoot, 'bench/results'))
  .option('--no-json', 'do not write the JSON results file')
  .option('--log-file <file>', 'append server output here')
  .option('--scrape', 'tszk standalone: scrape /metrics every second and the web console every 2 s during the run (their cost)')
  .option('--tls', "clients over TLS with client certificates (secureClientPort, ZooKeeper's Netty factory), standalone only")
  .option('--quorum-tls', 'with --ensemble: members talk over TLS (sslQuorum=true, ssl.quorum.* stores)');

interface Flags {
  quick?: boolean;
  duration?: number;
  syncDuration?: number;
  warmup?: number;
  workers: number;
  sessions: number;
  depth: number;
  dataBytes: number;
  children: number;
  workloads: string;
  modes: string;
  systems: string;
  rounds: number;
  forceSync: boolean;
  scrape?: boolean;
  zkHeapMb: number;
  ensemble: number;
  failover: number;
  handshakes: number;
  fanout: number;
  fanoutReps?: number;
  floor?: boolean;
  sessionTimeoutMs: number;
  out: string;
  json: boolean;
  logFile?: string;
  tls?: boolean;
  quorumTls?: boolean;
}

async function main(): Promise<void> {
  program.parse();
  const f = program.opts<Flags>();
  if (f.failover > 0 && f.ensemble < 3) throw new Error('--failover needs --ensemble 3 (or more)');
  if (f.tls === true && f.ensemble > 1) throw new Error('--tls is standalone only (client TLS of an ensemble is not benchmarked; --quorum-tls is the members)');
  if (f.quorumTls === true && f.ensemble < 3) throw new Error('--quorum-tls needs --ensemble 3 (or more)');
  // Certificates made for this run (openssl), removed at exit.
  const certs = f.tls === true || f.quorumTls === true ? makeCerts() : undefined;
  if (certs !== undefined) process.once('exit', () => certs.cleanup());
  const systems = f.systems.split(',').map((s) => s.trim());
  for (const s of systems) if (s !== 'tszk' && s !== 'tszk-base' && s !== 'zookeeper') throw new Error(`unknown system ${s} (tszk, tszk-base, zookeeper)`);
  const seconds = (v: number | undefined, full: number, quick: number): number => Math.round((v ?? (f.quick ? quick : full)) * 1000);
  const config: BenchConfig = {
    workers: f.workers,
    sessions: f.sessions,
    depth: f.depth,
    duration_ms: seconds(f.duration, 10, 2),
    syncDuration_ms: seconds(f.syncDuration, 5, 1),
    warmup_ms: seconds(f.warmup, 3, 1),
    dataBytes: f.dataBytes,
    children: f.children,
    sessionTimeout_ms: f.sessionTimeoutMs,
    workloads: parseWorkloads(f.workloads, f.modes),
  };
  const stopOnSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\n${sig}: stopping servers\n`);
    void stopRunningServers().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const report = await runBench({
    systems: systems as SystemName[],
    rounds: f.rounds,
    failoverRepeats: Math.floor(f.failover),
    handshakes_ms: f.handshakes * 1000,
    fanout: { watchers: Math.floor(f.fanout), reps: f.fanoutReps ?? (f.quick ? 50 : 200) },
    floorSamples: f.floor === true ? (f.quick ? 300 : 1000) : 0,
    config,
    server: {
      forceSync: f.forceSync,
      zkHeap_mb: f.zkHeapMb,
      ensembleSize: f.ensemble,
      scrape: f.scrape === true,
      ...(f.logFile ? { logFile: f.logFile } : {}),
      ...(certs && f.tls === true ? { tls: certs } : {}),
      ...(certs && f.quorumTls === true ? { quorumTls: certs } : {}),
    },
    progress: (line) => process.stderr.write(`[bench] ${line}\n`),
  });
  process.stdout.write(formatReport(report) + '\n');
  if (f.json) process.stdout.write(`\nresults: ${path.relative(process.cwd(), writeJson(report, f.out))}\n`);
  if (!report.systems.some((s) => s.ok)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  void stopRunningServers().finally(() => process.exit(1));
});
