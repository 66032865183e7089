/**
 * Runs the workload list against one server: forks the load-generating workers, lays out the
 * benchmark's nodes, runs a warm-up pass (results discarded: the JVM needs it, and it is the
 * same for both systems), then measures each workload while sampling the server's CPU, memory
 * and, where the server reports it, its fsync count.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import hdr from 'hdr-histogram-js';
import { fourLetter } from '../test/support/ports.js';
import { createPaths, newLatencyHistogram } from './drive.js';
import type { FailoverResult } from './failover.js';
import type { FanoutResult } from './fanout.js';
import type { FloorResult } from './floor.js';
import type { HandshakeResult } from './handshakes.js';
import { sessionDir, type FromWorker, type ToWorker, type WorkerResult, type WorkerRun } from './messages.js';
import { machineBusyCpu_us, processCpu_us, processMemory } from './procstat.js';
import { dataDirBytes, type ServerUnderTest, type SystemName } from './servers.js';
import { BenchSession, parseConnectString } from './session.js';
import type { Workload } from './workloads.js';

export interface BenchConfig {
  /** Load-generating processes. */
  workers: number;
  /** Sessions per worker process. */
  sessions: number;
  /** Requests outstanding per session in async workloads. */
  depth: number;
  /** Measured time per async workload. */
  duration_ms: number;
  /** Measured time per sync (one at a time) workload. */
  syncDuration_ms: number;
  /** Time per workload in the warm-up pass (0 = none). */
  warmup_ms: number;
  dataBytes: number;
  /** Children of the node getChildren lists. */
  children: number;
  sessionTimeout_ms: number;
  workloads: Workload[];
}

export interface WorkloadResult {
  name: string;
  op: string;
  mode: string;
  ops: number;
  errors: number;
  errorCodes: Record<string, number>;
  elapsed_ms: number;
  ops_per_s: number;
  latency_us: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  serverCpu_us: number;
  serverCpuPerOp_us: number;
  /** Server CPU as a percentage of one core over the workload. */
  serverCpu_pct: number;
  /** Server RSS at the end of the workload, and the peak so far. */
  rss_bytes: number;
  rssPeak_bytes: number;
  /** All workers' CPU (user + system) as a percentage of one core. */
  clientCpu_pct: number;
  clientCpuPerOp_us: number;
  /** CPU used by everything else on the machine meanwhile (other users' processes), % of one core: noise to judge the run by. */
  otherCpu_pct: number;
  /** fsyncs during the workload (all members) and txns per fsync per member, when mntr reports zk_cnt_fsynctime. */
  fsyncs: number | undefined;
  txnsPerFsync: number | undefined;
}

export type SystemResult =
  | {
      system: SystemName;
      ok: true;
      members: string[];
      version: string | undefined;
      workloads: WorkloadResult[];
      rssEnd_bytes: number;
      rssPeak_bytes: number;
      /** Bytes in the data dirs at the end (txn logs, snapshots): 0 means writes never reached the disk. */
      dataDir_bytes: number;
      /** Leader fail-over times, for ensembles when asked. */
      failover?: FailoverResult;
      /** Sessions opened (and closed) per second, when asked. */
      handshakes?: HandshakeResult;
      /** Watch fan-out (N watchers, one setData, all events in), when asked. */
      fanout?: FanoutResult;
      /** This machine's floor under a one-at-a-time write, measured right before this system ran (`--floor`). */
      floor?: FloorResult;
    }
  | { system: SystemName; ok: false; reason: string };

const WARMUP_ROOT = '/tszk-bench-warmup';
const MEASURED_ROOT = '/tszk-bench';
const FSYNC_COUNT_KEY = 'zk_cnt_fsynctime';
const MNTR_TIMEOUT_MS = 2000;

const fromSource = import.meta.url.endsWith('.ts');
const workerPath = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));

/** One worker process; every message sent gets exactly one answer. */
class WorkerProc {
  private readonly child: ChildProcess;
  private waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  private exited: Error | undefined;

  constructor(readonly index: number) {
    // Explicit execArgv: do not inherit the parent's flags (e.g. node --test).
    this.child = fork(workerPath, [], { execArgv: fromSource ? ['--import', 'tsx'] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: FromWorker) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (!w) return;
      if (m.type === 'error') w.reject(new Error(`worker ${index}: ${m.message}`));
      else w.resolve(m);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`worker ${index} exited (code ${code}, signal ${signal})`);
      this.waiting?.reject(this.exited);
      this.waiting = undefined;
    });
  }

  ask(m: ToWorker): Promise<FromWorker> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.waiting) throw new Error(`worker ${this.index}: request while another is pending`);
    return new Promise<FromWorker>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send(m);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    try {
      await this.ask({ type: 'close' });
    } catch {
      this.child.kill('SIGKILL');
    }
    await gone;
    clearTimeout(t);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

export type Progress = (line: string) => void;

export async function benchServer(server: ServerUnderTest, cfg: BenchConfig, progress: Progress): Promise<SystemResult> {
  const workers = Array.from({ length: cfg.workers }, (_, i) => new WorkerProc(i));
  let setup: BenchSession | undefined;
  try {
    for (const w of workers) {
      const init: ToWorker = {
        type: 'init',
        index: w.index,
        members: server.members,
        sessions: cfg.sessions,
        workers: cfg.workers,
        sessionTimeout_ms: cfg.sessionTimeout_ms,
        ...(server.clientTls ? { tls: server.clientTls } : {}),
      };
      await w.ask(init);
    }
    const first = parseConnectString(server.members[0]!)[0]!;
    setup = await BenchSession.connectRetrying(first.host, first.port, cfg.sessionTimeout_ms, server.clientTls);
    const roots = cfg.warmup_ms > 0 ? [WARMUP_ROOT, MEASURED_ROOT] : [MEASURED_ROOT];
    for (const root of roots) await createPaths(setup, layout(root, cfg), Buffer.alloc(0));
    const version = await serverVersion(server);
    if (cfg.warmup_ms > 0) {
      progress(`${server.system}: warm-up, ${cfg.warmup_ms / 1000} s per workload`);
      for (const wl of cfg.workloads) await runWorkload(workers, wl, WARMUP_ROOT, cfg, cfg.warmup_ms);
    }
    const results: WorkloadResult[] = [];
    for (const wl of cfg.workloads) {
      const duration_ms = wl.mode === 'sync' ? cfg.syncDuration_ms : cfg.duration_ms;
      const r = await measureWorkload(server, workers, wl, cfg, duration_ms);
      results.push(r);
      progress(
        `${server.system}: ${wl.name.padEnd(18)} ${Math.round(r.ops_per_s).toString().padStart(8)} ops/s  p50 ${ms(r.latency_us.p50)} ms  p99 ${ms(r.latency_us.p99)} ms  errors ${r.errors}`,
      );
    }
    const mem = sumMemory(server.pids);
    return {
      system: server.system,
      ok: true,
      members: server.members,
      version,
      workloads: results,
      rssEnd_bytes: mem.rss_bytes,
      rssPeak_bytes: mem.rssPeak_bytes,
      dataDir_bytes: dataDirBytes(server.dataDirs),
    };
  } finally {
    await setup?.close().catch(() => undefined);
    await Promise.all(workers.map((w) => w.close().catch(() => w.kill())));
  }
}

/** Every node the workloads need before they start: the root, the getChildren fan, one directory per session. */
function layout(root: string, cfg: BenchConfig): string[] {
  const paths = [root, `${root}/fan`];
  for (let c = 0; c < cfg.children; c++) paths.push(`${root}/fan/c${c}`);
  for (let w = 0; w < cfg.workers; w++) for (let s = 0; s < cfg.sessions; s++) paths.push(sessionDir(root, w, s));
  return paths;
}

interface RunOutcome {
  results: WorkerResult[];
  wall_ms: number;
}

async function runWorkload(workers: WorkerProc[], wl: Workload, root: string, cfg: BenchConfig, duration_ms: number): Promise<RunOutcome> {
  // Sync workloads: one session of the first worker, one request at a time.
  const sync = wl.mode === 'sync';
  const taking = sync ? workers.slice(0, 1) : workers;
  const run: WorkerRun = {
    type: 'run',
    op: wl.op,
    readPct: wl.readPct,
    root,
    keyspace: sync ? 's' : 'a',
    depth: sync ? 1 : cfg.depth,
    sessions: sync ? 1 : cfg.sessions,
    duration_ms,
    fanPath: `${root}/fan`,
    fanChildren: cfg.children,
    dataBytes: cfg.dataBytes,
  };
  const t0 = performance.now();
  const answers = await Promise.all(taking.map((w) => w.ask(run)));
  const wall_ms = performance.now() - t0;
  const results = answers.map((a) => {
    if (a.type !== 'result') throw new Error(`worker answered ${a.type} to run`);
    return a;
  });
  return { results, wall_ms };
}

async function measureWorkload(server: ServerUnderTest, workers: WorkerProc[], wl: Workload, cfg: BenchConfig, duration_ms: number): Promise<WorkloadResult> {
  const fsync0 = await fsyncCount(server);
  const cpu0 = sumCpu(server.pids);
  const machine0 = machineBusyCpu_us();
  const { results, wall_ms } = await runWorkload(workers, wl, MEASURED_ROOT, cfg, duration_ms);
  const machine1 = machineBusyCpu_us();
  const cpu1 = sumCpu(server.pids);
  const fsync1 = await fsyncCount(server);
  const mem = sumMemory(server.pids);
  const hist = newLatencyHistogram();
  let ops = 0;
  let errors = 0;
  let clientCpu_us = 0;
  const errorCodes: Record<string, number> = {};
  for (const r of results) {
    hist.add(hdr.decodeFromCompressedBase64(r.histogram));
    ops += r.ops;
    errors += r.errors;
    clientCpu_us += r.cpuUser_us + r.cpuSystem_us;
    for (const [code, n] of Object.entries(r.errorCodes)) errorCodes[code] = (errorCodes[code] ?? 0) + n;
  }
  const serverCpu_us = cpu1 - cpu0;
  const fsyncs = fsync0 !== undefined && fsync1 !== undefined ? fsync1 - fsync0 : undefined;
  const txns = wl.write ? Math.round(ops * (wl.op === 'mix' ? (100 - wl.readPct) / 100 : 1)) : 0;
  return {
    name: wl.name,
    op: wl.op,
    mode: wl.mode,
    ops,
    errors,
    errorCodes,
    elapsed_ms: wall_ms,
    ops_per_s: (ops * 1000) / wall_ms,
    latency_us: {
      p50: hist.getValueAtPercentile(50),
      p90: hist.getValueAtPercentile(90),
      p99: hist.getValueAtPercentile(99),
      p999: hist.getValueAtPercentile(99.9),
      max: hist.maxValue,
      mean: hist.mean,
    },
    serverCpu_us,
    serverCpuPerOp_us: ops > 0 ? serverCpu_us / ops : 0,
    serverCpu_pct: (serverCpu_us / (wall_ms * 1000)) * 100,
    rss_bytes: mem.rss_bytes,
    rssPeak_bytes: mem.rssPeak_bytes,
    clientCpu_pct: (clientCpu_us / (wall_ms * 1000)) * 100,
    clientCpuPerOp_us: ops > 0 ? clientCpu_us / ops : 0,
    otherCpu_pct: (Math.max(0, machine1 - machine0 - serverCpu_us - clientCpu_us) / (wall_ms * 1000)) * 100,
    fsyncs,
    // Every member logs every txn, and the fsync count is summed over members.
    txnsPerFsync: fsyncs !== undefined && fsyncs > 0 && txns > 0 ? (txns * server.members.length) / fsyncs : undefined,
  };
}

function sumCpu(pids: number[]): number {
  return pids.reduce((a, p) => a + processCpu_us(p), 0);
}

function sumMemory(pids: number[]): { rss_bytes: number; rssPeak_bytes: number } {
  return pids.reduce(
    (a, p) => {
      const m = processMemory(p);
      return { rss_bytes: a.rss_bytes + m.rss_bytes, rssPeak_bytes: a.rssPeak_bytes + m.rssPeak_bytes };
    },
    { rss_bytes: 0, rssPeak_bytes: 0 },
  );
}

/** mntr as key → value, or undefined when the server does not answer it. */
async function mntr(member: string): Promise<Map<string, string> | undefined> {
  try {
    const { port } = parseConnectString(member)[0]!;
    const text = await fourLetter(port, 'mntr', MNTR_TIMEOUT_MS);
    const m = new Map<string, string>();
    for (const line of text.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) m.set(line.slice(0, tab), line.slice(tab + 1).trim());
    }
    return m.size > 0 ? m : undefined;
  } catch {
    return undefined;
  }
}

/** fsyncs so far summed over members, if every member reports them. */
async function fsyncCount(server: ServerUnderTest): Promise<number | undefined> {
  let total = 0;
  for (const member of server.plainMembers ?? server.members) {
    const v = (await mntr(member))?.get(FSYNC_COUNT_KEY);
    if (v === undefined || !Number.isFinite(Number(v))) return undefined;
    total += Number(v);
  }
  return total;
}

async function serverVersion(server: ServerUnderTest): Promise<string | undefined> {
  return (await mntr((server.plainMembers ?? server.members)[0]!))?.get('zk_version');
}

function ms(us: number): string {
  return (us / 1000).toFixed(2);
}
