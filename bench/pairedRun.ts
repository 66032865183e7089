/**
 * One-at-a-time writes, tszk and ZooKeeper in adjacent windows (bench/paired.ts is the command).
 * Both systems run at once; one session on each writes one request at a time, and the two
 * sessions take turns in short windows, the order alternating (ABBA). A disk whose speed changes
 * within seconds puts rounds tens of seconds apart (npm run bench) in different phases; adjacent
 * windows see the same one, so the per-pair ratio is the figure, reported with its spread.
 */
import type { Histogram } from 'hdr-histogram-js';
import { createPaths, drive, newLatencyHistogram, type DriveLane } from './drive.js';
import { memberMode } from './ensemble.js';
import { floorRoundTrips, measureFloor, percentile, writeFloor_us, type FloorResult } from './floor.js';
import { startServer, systemMissing, ZK_HEAP_DEFAULT_MB, type ServerUnderTest, type SystemName } from './servers.js';
import { BenchSession, parseConnectString } from './session.js';

export type PairedOp = 'create' | 'setData';

export interface PairedOptions {
  /** Members per system: 1 = standalone. */
  ensemble: number;
  ops: PairedOp[];
  pairs: number;
  window_ms: number;
  /** Writes per system and op before measuring (the JVM compiles meanwhile). */
  warmup_ms: number;
  /** In an ensemble, the member both sessions use. */
  member: 'follower' | 'leader';
  forceSync: boolean;
  /** Loopback round trips and appends with fsync measured before the servers start (0: none). */
  floorSamples: number;
  zkHeap_mb?: number;
  progress?: (line: string) => void;
}

export interface PairedRow {
  op: PairedOp;
  /** p50 of each window, ms, in pair order. */
  tszkWindows_ms: number[];
  zkWindows_ms: number[];
  /** Over all measured windows, ms. */
  tszk: { p50: number; p99: number };
  zk: { p50: number; p99: number };
}

/** ZooKeeper's window p50 over tszk's, one per pair. */
function pairRatios(row: PairedRow): number[] {
  return row.zkWindows_ms.map((zk, i) => zk / row.tszkWindows_ms[i]!);
}

export interface PairedReport {
  options: PairedOptions;
  startedAt: string;
  members: { tszk: string; zookeeper: string };
  floor?: FloorResult;
  rows: PairedRow[];
}

const SYSTEMS = ['tszk', 'zookeeper'] as const;
const ROOT = '/bench-paired';

interface Side {
  system: SystemName;
  server: ServerUnderTest;
  member: string;
  lane: DriveLane;
}

async function pickMember(server: ServerUnderTest, role: PairedOptions['member']): Promise<string> {
  if (server.members.length === 1) return server.members[0]!;
  for (const m of server.members) if ((await memberMode(parseConnectString(m)[0]!.port)) === role) return m;
  throw new Error(`${server.system}: no member reports Mode: ${role}`);
}

/** One window of one-at-a-time `op` on this side. */
async function runWindow(side: Side, op: PairedOp, ms: number): Promise<Histogram> {
  const h = newLatencyHistogram();
  const spec = { op, readPct: 0, keyspace: 'k', depth: 1, duration_ms: ms, fanPath: ROOT, fanChildren: 0, data: Buffer.alloc(100, 0x61) };
  const o = await drive([side.lane], spec, h);
  if (o.errors > 0) throw new Error(`${side.system} ${op}: ${o.errors} error replies ${JSON.stringify(o.errorCodes)}`);
  if (o.ops === 0) throw new Error(`${side.system} ${op}: no reply in a ${ms} ms window`);
  return h;
}

const toMs = (us: number): number => us / 1000;

export async function runPaired(o: PairedOptions): Promise<PairedReport> {
  for (const s of SYSTEMS) {
    const why = systemMissing(s);
    if (why) throw new Error(why);
  }
  const startedAt = new Date().toISOString();
  const floor = o.floorSamples > 0 ? await measureFloor(o.floorSamples) : undefined;
  const servers: ServerUnderTest[] = [];
  const sides: Side[] = [];
  try {
    for (const system of SYSTEMS) {
      const server = await startServer(system, { forceSync: o.forceSync, zkHeap_mb: o.zkHeap_mb ?? ZK_HEAP_DEFAULT_MB, ensembleSize: o.ensemble });
      servers.push(server);
      const member = await pickMember(server, o.member);
      const { host, port } = parseConnectString(member)[0]!;
      const session = await BenchSession.connectRetrying(host, port, 30_000);
      sides.push({ system, server, member, lane: { session, dir: `${ROOT}/s`, keys: { created: 0, deleted: 0, cursor: 0 } } });
      await createPaths(session, [ROOT, `${ROOT}/s`], Buffer.alloc(0));
    }
    const [t, z] = sides as [Side, Side];
    const rows: PairedRow[] = [];
    for (const op of o.ops) {
      for (const s of sides) {
        // setData rewrites one node: make it first.
        if (op === 'setData' && s.lane.keys.created === 0) await runWindow(s, 'create', 1);
        await runWindow(s, op, o.warmup_ms);
      }
      const all = new Map(sides.map((s) => [s, newLatencyHistogram()]));
      const windows = new Map<Side, number[]>(sides.map((s) => [s, []]));
      for (let p = 0; p < o.pairs; p++) {
        for (const s of p % 2 === 0 ? [t, z] : [z, t]) {
          const h = await runWindow(s, op, o.window_ms);
          all.get(s)!.add(h);
          windows.get(s)!.push(toMs(h.getValueAtPercentile(50)));
        }
        o.progress?.(`${op} pair ${p + 1} of ${o.pairs}: tszk ${windows.get(t)![p]!.toFixed(2)} ms, ZooKeeper ${windows.get(z)![p]!.toFixed(2)} ms`);
      }
      const overall = (s: Side): { p50: number; p99: number } => ({
        p50: toMs(all.get(s)!.getValueAtPercentile(50)),
        p99: toMs(all.get(s)!.getValueAtPercentile(99)),
      });
      rows.push({ op, tszkWindows_ms: windows.get(t)!, zkWindows_ms: windows.get(z)!, tszk: overall(t), zk: overall(z) });
    }
    return { options: o, startedAt, members: { tszk: t.member, zookeeper: z.member }, ...(floor ? { floor } : {}), rows };
  } finally {
    for (const s of sides) await s.lane.session.close().catch(() => undefined);
    for (const s of servers) await s.stop();
  }
}

export function formatPaired(r: PairedReport): string {
  const o = r.options;
  const where = o.ensemble === 1 ? 'standalone' : `${o.ensemble}-member ensembles, each session on a ${o.member}`;
  const lines = [
    `# one-at-a-time writes, tszk vs Apache ZooKeeper in adjacent ${o.window_ms / 1000} s windows, ${r.startedAt}`,
    `${where}; forceSync=${o.forceSync ? 'yes' : 'no'}; ${o.warmup_ms / 1000} s warm-up per system and op; pairs run both systems back to back, the order alternating`,
    '',
    '| op | pairs | tszk p50 / p99 ms | ZK p50 / p99 ms | ZK/tszk window p50, per pair: median (min – max) | pairs ≥ 1.5× |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    const s = pairRatios(row).sort((a, b) => a - b);
    lines.push(
      `| ${row.op} | ${s.length} | ${row.tszk.p50.toFixed(2)} / ${row.tszk.p99.toFixed(2)} | ${row.zk.p50.toFixed(2)} / ${row.zk.p99.toFixed(2)} | ` +
        `${percentile(s, 50).toFixed(2)}× (${s[0]!.toFixed(2)} – ${s.at(-1)!.toFixed(2)}) | ${s.filter((x) => x >= 1.5).length} |`,
    );
  }
  lines.push('', `p50 / p99 over all measured windows. Sessions: tszk ${r.members.tszk}, ZooKeeper ${r.members.zookeeper}.`);
  const f = r.floor;
  if (f !== undefined) {
    const trips = floorRoundTrips(o.ensemble, o.member);
    const floor = writeFloor_us(f, trips, 'p50') / 1000;
    const against = r.rows.map((row) => `${row.op} tszk ${(row.tszk.p50 / floor).toFixed(1)}×, ZK ${(row.zk.p50 / floor).toFixed(1)}×`).join('; ');
    lines.push(
      `Floor, measured before the servers started (${f.samples} samples, p50): loopback round trip ${(f.rtt_us.p50 / 1000).toFixed(2)} ms, append + fdatasync ${(f.fsync_us.p50 / 1000).toFixed(2)} ms; ` +
        `a write here is ${trips} round trip${trips > 1 ? 's' : ''} + 1 fsync = ${floor.toFixed(2)} ms. p50 against it: ${against}.`,
    );
  }
  return lines.join('\n');
}
