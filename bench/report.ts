/**
 * The side-by-side table (markdown, so it pastes into an issue note) and the JSON results file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { floorRoundTrips, writeFloor_us, type FloorResult } from './floor.js';
import type { BenchConfig, SystemResult, WorkloadResult } from './harness.js';
import type { ServerSettings, SystemName } from './servers.js';

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  host: { cpus: number; cpuModel: string; loadAvgAtStart: number[]; node: string; platform: string };
  config: Omit<BenchConfig, 'workloads'> & { workloads: string[] };
  server: ServerSettings;
  /** The best round per workload (the only round when there was one). */
  systems: SystemResult[];
  /** Every round's results, when there was more than one. */
  rounds?: SystemResult[][];
}

const LABEL: Record<SystemName, string> = { tszk: 'tszk', 'tszk-base': 'base', zookeeper: 'ZK' };
const DASH = '—';

function okResult(report: BenchReport, system: SystemName): Extract<SystemResult, { ok: true }> | undefined {
  const r = report.systems.find((s) => s.system === system);
  return r && r.ok ? r : undefined;
}

function pair(a: string | undefined, b: string | undefined): string {
  return `${a ?? DASH} / ${b ?? DASH}`;
}

const fmt = {
  rate: (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)),
  ms: (us: number): string => (us >= 100_000 ? (us / 1000).toFixed(0) : (us / 1000).toFixed(2)),
  us: (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1)),
  mb: (bytes: number): string => (bytes / (1024 * 1024)).toFixed(0),
  pct: (v: number): string => v.toFixed(0),
};

/** Workload rows in run order, the union of what each system ran. */
function workloadNames(report: BenchReport): string[] {
  const names: string[] = [];
  for (const s of report.systems) if (s.ok) for (const w of s.workloads) if (!names.includes(w.name)) names.push(w.name);
  return names;
}

export function formatTable(report: BenchReport): string {
  const t = okResult(report, 'tszk');
  const z = okResult(report, 'zookeeper');
  const base = okResult(report, 'tszk-base');
  const get = (r: typeof t, name: string): WorkloadResult | undefined => r?.workloads.find((w) => w.name === name);
  const ratioOf = (a: WorkloadResult | undefined, b: WorkloadResult | undefined): string =>
    a && b && b.ops_per_s > 0 ? `${(a.ops_per_s / b.ops_per_s).toFixed(2)}×` : DASH;
  const header = [
    'workload',
    'tszk ops/s',
    'ZK ops/s',
    'tszk/ZK',
    'p50 ms tszk / ZK',
    'p99 ms tszk / ZK',
    'srv CPU µs/op tszk / ZK',
    'RSS MB tszk / ZK',
    'client CPU % tszk / ZK',
    // Before/after a change: the other build's figures beside this one's.
    ...(base ? ['base ops/s', 'tszk/base', 'srv CPU µs/op base'] : []),
  ];
  const rows: string[][] = [];
  for (const name of workloadNames(report)) {
    const a = get(t, name);
    const b = get(z, name);
    const f = <T>(w: WorkloadResult | undefined, g: (w: WorkloadResult) => T, h: (v: T) => string): string | undefined => (w ? h(g(w)) : undefined);
    rows.push([
      name,
      f(a, (w) => w.ops_per_s, fmt.rate) ?? DASH,
      f(b, (w) => w.ops_per_s, fmt.rate) ?? DASH,
      ratioOf(a, b),
      pair(
        f(a, (w) => w.latency_us.p50, fmt.ms),
        f(b, (w) => w.latency_us.p50, fmt.ms),
      ),
      pair(
        f(a, (w) => w.latency_us.p99, fmt.ms),
        f(b, (w) => w.latency_us.p99, fmt.ms),
      ),
      pair(
        f(a, (w) => w.serverCpuPerOp_us, fmt.us),
        f(b, (w) => w.serverCpuPerOp_us, fmt.us),
      ),
      pair(
        f(a, (w) => w.rss_bytes, fmt.mb),
        f(b, (w) => w.rss_bytes, fmt.mb),
      ),
      pair(
        f(a, (w) => w.clientCpu_pct, fmt.pct),
        f(b, (w) => w.clientCpu_pct, fmt.pct),
      ),
      ...(base
        ? [
            f(get(base, name), (w) => w.ops_per_s, fmt.rate) ?? DASH,
            ratioOf(a, get(base, name)),
            f(get(base, name), (w) => w.serverCpuPerOp_us, fmt.us) ?? DASH,
          ]
        : []),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), sep, ...rows.map(line)].join('\n');
}

/** Everything around the table: setup, skipped systems, peaks, errors, fsync batching. */
export function formatReport(report: BenchReport): string {
  const c = report.config;
  const out: string[] = [];
  const shape = (report.server.ensembleSize ?? 1) > 1 ? `${report.server.ensembleSize}-member ensembles` : 'standalone';
  const tls = report.server.tls ? ', clients over TLS (secureClientPort, client certificates; ZooKeeper on its Netty factory)' : '';
  out.push(`# tszk vs Apache ZooKeeper, ${shape}${tls}, ${report.startedAt}`);
  out.push(
    `machine: ${report.host.cpus} × ${report.host.cpuModel}, node ${report.host.node}, load average at start ${report.host.loadAvgAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  out.push(
    `client: ${c.workers} processes × ${c.sessions} sessions × ${c.depth} outstanding (async); 1 session × 1 outstanding (sync); ` +
      `data ${c.dataBytes} B; getChildren over ${c.children} children; ${c.duration_ms / 1000} s per async workload, ${c.syncDuration_ms / 1000} s per sync workload, ` +
      `warm-up ${c.warmup_ms / 1000} s per workload`,
  );
  const rounds = report.rounds ? `, ${report.rounds.length} alternating rounds, each row the best round by ops/s` : '';
  out.push(`servers: forceSync=${report.server.forceSync ? 'yes' : 'no'}, one after the other${rounds}; ZooKeeper -Xmx${report.server.zkHeap_mb}m`);
  for (const s of report.systems) {
    if (!s.ok) out.push(`${LABEL[s.system]}: SKIPPED — ${s.reason}`);
    else out.push(`${LABEL[s.system]}: ${s.version ?? 'version not reported'} at ${s.members.join(',')}`);
  }
  (report.rounds ?? []).forEach((round, i) => {
    for (const s of round)
      if (!s.ok && report.systems.find((x) => x.system === s.system)?.ok) out.push(`${LABEL[s.system]}: round ${i + 1} left out — ${s.reason}`);
  });
  out.push('');
  out.push(formatTable(report));
  out.push('');
  out.push('p50/p99: per-request latency seen by the client (async: includes queueing behind the outstanding requests).');
  out.push(
    'srv CPU: server process user+system CPU over the workload / ops. RSS: at the end of the workload (both summed over members). client CPU: all worker processes, % of one core.',
  );
  for (const s of report.systems) {
    if (!s.ok) continue;
    out.push(
      `${LABEL[s.system]}: peak RSS (VmHWM) ${fmt.mb(s.rssPeak_bytes)} MB, RSS at end ${fmt.mb(s.rssEnd_bytes)} MB; ${fmt.mb(s.dataDir_bytes)} MB in its data dir at the end`,
    );
    if (s.dataDir_bytes === 0 && s.workloads.some((w) => w.op === 'create' || w.op === 'setData' || w.op === 'delete')) {
      out.push(`${LABEL[s.system]}: WARNING — wrote nothing to its data dir: it kept no txn log, so its write rows measure an in-memory server`);
    }
    const other = s.workloads.reduce((a, w) => a + w.otherCpu_pct, 0) / Math.max(1, s.workloads.length);
    out.push(`${LABEL[s.system]}: other processes on the machine used ${fmt.pct(other)}% of a core on average meanwhile (of ${report.host.cpus * 100}%)`);
    if (s.handshakes) {
      const zk = report.systems.find((x) => x.ok && x.system === 'zookeeper');
      const zkRate = zk?.ok === true ? zk.handshakes?.sessions_per_s : undefined;
      const vs = s.system !== 'zookeeper' && zkRate !== undefined ? ` (${(s.handshakes.sessions_per_s / zkRate).toFixed(2)}× ZK)` : '';
      out.push(
        `${LABEL[s.system]}: ${s.handshakes.sessions_per_s.toFixed(0)} sessions opened and closed per second${report.server.tls !== undefined ? ' over TLS' : ''}${vs}; ${s.handshakes.failures} failed`,
      );
    }
    if (s.failover) {
      out.push(
        `${LABEL[s.system]}: leader fail-over (SIGKILL to first successful write) median ${s.failover.median_ms.toFixed(0)} ms over ${s.failover.times_ms.length}: ${s.failover.times_ms.map((t) => t.toFixed(0)).join(', ')} ms`,
      );
    }
    const batching = s.workloads.filter((w) => w.txnsPerFsync !== undefined).map((w) => `${w.name} ${w.txnsPerFsync!.toFixed(1)}`);
    if (batching.length > 0) out.push(`${LABEL[s.system]}: txns per fsync — ${batching.join(', ')}`);
    if (s.fanout) {
      const f = s.fanout;
      const vs = (other: SystemName): string => {
        const o = report.systems.find((x) => x.ok && x.system === other);
        const of = o?.ok === true ? o.fanout : undefined;
        return s.system !== other && of !== undefined ? `, ${(of.allIn_us.p50 / f.allIn_us.p50).toFixed(2)}× ${LABEL[other]}'s p50` : '';
      };
      out.push(
        `${LABEL[s.system]}: watch fan-out, ${f.watchers} watchers × ${f.reps}: all events in p50 ${fmt.ms(f.allIn_us.p50)} ms, p99 ${fmt.ms(f.allIn_us.p99)} ms, ` +
          `${fmt.rate(f.events_per_s)} events/s${vs('zookeeper')}${s.system === 'tszk' ? vs('tszk-base') : ''}`,
      );
    }
    const failed = s.workloads.filter((w) => w.errors > 0).map((w) => `${w.name}: ${JSON.stringify(w.errorCodes)}`);
    if (failed.length > 0) out.push(`${LABEL[s.system]}: ERROR REPLIES — ${failed.join('; ')}`);
  }
  for (const s of report.systems) if (s.ok && s.floor !== undefined) out.push(...formatFloor(report, s, s.floor));
  return out.join('\n');
}

/** The floor met by one system's run and each of its sync write rows as a multiple of it. */
function formatFloor(report: BenchReport, s: Extract<SystemResult, { ok: true }>, f: FloorResult): string[] {
  const members = report.server.ensembleSize ?? 1;
  // The one-at-a-time session is on server.1, a follower: fresh dataDirs elect the highest sid.
  const trips = floorRoundTrips(members, 'follower');
  const shape =
    members > 1
      ? `${trips} round trips + 1 fsync (client↔follower, the request to the leader and its COMMIT back, PROPOSAL and ACK; the members' fsyncs in parallel)`
      : '1 round trip + 1 fsync';
  const rows = s.workloads
    .filter((w) => w.mode === 'sync' && (w.op === 'create' || w.op === 'setData' || w.op === 'delete'))
    .map((w) => {
      const x = (p: 'p50' | 'p99'): string => (w.latency_us[p] / writeFloor_us(f, trips, p)).toFixed(1);
      return `${w.name} p50 ${x('p50')}× / p99 ${x('p99')}×`;
    });
  return [
    `${LABEL[s.system]}: floor measured before its run (${f.samples} samples): loopback TCP round trip p50 ${fmt.ms(f.rtt_us.p50)} / p99 ${fmt.ms(f.rtt_us.p99)} ms, ` +
      `append + fdatasync p50 ${fmt.ms(f.fsync_us.p50)} / p99 ${fmt.ms(f.fsync_us.p99)} ms; write floor = ${shape}: ` +
      `p50 ${fmt.ms(writeFloor_us(f, trips, 'p50'))} / p99 ${fmt.ms(writeFloor_us(f, trips, 'p99'))} ms` +
      (rows.length > 0 ? `; against it: ${rows.join(', ')}` : ''),
  ];
}

/** Writes the report as JSON to `<dir>/<date>.json` and returns the path. */
export function writeJson(report: BenchReport, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${report.startedAt.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}
