/**
 * Scale, standalone, tszk beside Apache ZooKeeper 3.8 in the same run (each on a fresh server,
 * maxClientCnxns=0 for both: ZooKeeper's default of 60 per address would refuse most of these
 * sessions, all of which come from 127.0.0.1):
 *
 * - sessions: N sessions connecting at once; time until every one is established, the server's
 *   RSS (and its growth per session) with all of them open.
 * - watches: S sessions each set a data watch on each of P znodes (S × P watches, 100k by
 *   default); the time to set them, RSS growth per watch, and fan-out: one setData firing S
 *   watches (the median of a few), then setData on every other znode at once firing the rest,
 *   each until every event is in.
 *
 * How start-up and recovery grow from 10k to 1M znodes: `npm run bench:recovery -- --znodes
 * 10000,100000,1000000` (bench/recovery.ts); RSS per znode: `npm run bench:memory -- --server
 * 10000,100000,1000000`. Timings on a loaded machine are noisy; RSS is not.
 *
 *   npm run bench:scale -- [--sessions 10000] [--watch-sessions 1000] [--watch-znodes 100]
 *                          [--systems tszk,zookeeper]   (--sessions 0 / --watch-sessions 0 leave one out)
 */
import { OpCode } from '../src/proto/opcodes.js';
import { fourLetter } from '../test/support/ports.js';
import { createPaths } from './drive.js';
import { processCpu_us, processMemory } from './procstat.js';
import { startServer, systemMissing, type ServerUnderTest, type SystemName } from './servers.js';
import { BenchSession, writeSetData } from './session.js';

const MIB = 1024 * 1024;
const SESSION_TIMEOUT_MS = 30_000;
/** A crowd of connects overflows the listen backlog; the kernel's SYN retries (1 s, 3 s, ...) are part of the figure. */
const CROWD_CONNECT_TIMEOUT_MS = 120_000;
/** Watch sessions connect this many at a time (their connecting is not what is measured). */
const CONNECT_BATCH = 200;
/** Give up on a phase after this long. */
const PHASE_TIMEOUT_MS = 300_000;
/** Time given to the server before RSS is read (its GC settles). */
const SETTLE_MS = 2000;
const WATCH_ROOT = '/scale-watch';
/** One-znode fan-outs measured (a different znode each, so a different set of watches); the median is reported. */
const FAN_ONE_TIMES = 5;
const ZK_HEAP_MB = 1000;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rssOf = (server: ServerUnderTest): number => processMemory(server.pids[0]!).rss_bytes;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (t = setTimeout(() => reject(new Error(`${what}: not done within ${PHASE_TIMEOUT_MS} ms`)), PHASE_TIMEOUT_MS)),
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

function hostPort(member: string): { host: string; port: number } {
  const i = member.lastIndexOf(':');
  return { host: member.slice(0, i), port: Number(member.slice(i + 1)) };
}

async function connectMany(member: string, n: number, batch: number, timeout_ms: number): Promise<BenchSession[]> {
  const { host, port } = hostPort(member);
  const out: BenchSession[] = [];
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    out.push(...(await Promise.all(Array.from({ length: k }, () => BenchSession.connect(host, port, SESSION_TIMEOUT_MS, undefined, timeout_ms)))));
  }
  return out;
}

/** Sends one request per (session, op) pipelined on every session; resolves when every reply is in, rejects on an error reply. */
function pipelined(sessions: BenchSession[], ops: number, send: (s: BenchSession, i: number) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let left = sessions.length * ops;
    if (left === 0) return resolve();
    for (const s of sessions) {
      s.onReply = (err) => {
        if (err !== 0) return reject(new Error(`error ${err} from the server`));
        if (--left === 0) resolve();
      };
      s.onFailure = reject;
      for (let i = 0; i < ops; i++) send(s, i);
      s.flush();
    }
  });
}

interface SessionFigures {
  sessions: number;
  connect_s: number;
  rss_mib: number;
  perSession_kib: number;
  cpu_s: number;
}

async function sessionsScenario(system: SystemName, n: number): Promise<SessionFigures> {
  const server = await startServer(system, { forceSync: true, zkHeap_mb: ZK_HEAP_MB });
  let sessions: BenchSession[] = [];
  try {
    await sleep(SETTLE_MS);
    const rss0 = rssOf(server);
    const cpu0 = processCpu_us(server.pids[0]!);
    const t0 = performance.now();
    sessions = await withTimeout(connectMany(server.members[0]!, n, n, CROWD_CONNECT_TIMEOUT_MS), `${n} sessions`);
    const connect_s = (performance.now() - t0) / 1000;
    const cpu_s = (processCpu_us(server.pids[0]!) - cpu0) / 1e6;
    await sleep(SETTLE_MS);
    const rss = rssOf(server);
    return { sessions: n, connect_s, rss_mib: rss / MIB, perSession_kib: (rss - rss0) / n / 1024, cpu_s };
  } finally {
    for (const s of sessions) s.destroy();
    await server.stop();
  }
}

interface WatchFigures {
  watches: number;
  /** What the server's wchs says it holds. */
  reported: string;
  set_s: number;
  rss_mib: number;
  perWatch_b: number;
  fanOne_ms: number;
  fanAll_ms: number;
}

/** Resolves once `n` watch events have reached the sessions. */
function events(sessions: BenchSession[], n: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let left = n;
    for (const s of sessions) {
      s.onNotification = () => {
        if (--left === 0) resolve();
      };
    }
  });
}

async function watchesScenario(system: SystemName, watchers: number, znodes: number): Promise<WatchFigures> {
  const server = await startServer(system, { forceSync: true, zkHeap_mb: ZK_HEAP_MB });
  const member = server.members[0]!;
  const paths = Array.from({ length: znodes }, (_, i) => `${WATCH_ROOT}/z${i}`);
  let sessions: BenchSession[] = [];
  try {
    const writer = await BenchSession.connect(hostPort(member).host, hostPort(member).port, SESSION_TIMEOUT_MS);
    sessions.push(writer);
    await createPaths(writer, [WATCH_ROOT, ...paths], Buffer.alloc(16));
    const watching = await connectMany(member, watchers, CONNECT_BATCH, CROWD_CONNECT_TIMEOUT_MS);
    sessions = [writer, ...watching];
    await sleep(SETTLE_MS);
    const rss0 = rssOf(server);
    const t0 = performance.now();
    // getData with watch=true: a data watch per (session, znode).
    await withTimeout(
      pipelined(watching, znodes, (s, i) => {
        const w = s.begin(OpCode.getData);
        w.ustring(paths[i]!);
        w.boolean(true);
        s.end();
      }),
      'setting the watches',
    );
    const set_s = (performance.now() - t0) / 1000;
    await sleep(SETTLE_MS);
    const rss = rssOf(server);
    const reported = (await fourLetter(hostPort(member).port, 'wchs')).trim().split('\n').pop() ?? '';
    const data = Buffer.alloc(16, 0x61);
    const setData = async (targets: string[]): Promise<number> => {
      const all = events(watching, watchers * targets.length);
      const t = performance.now();
      await pipelined([writer], targets.length, (s, i) => {
        writeSetData(s.begin(OpCode.setData), targets[i]!, data);
        s.end();
      });
      await withTimeout(all, 'watch events');
      return performance.now() - t;
    };
    // Watches are one-shot: each setData spends its znode's watches. One znode at a time first
    // (the median of FAN_ONE_TIMES), then every other znode's at once.
    const ones: number[] = [];
    for (let i = 0; i < FAN_ONE_TIMES; i++) ones.push(await setData([paths[i]!]));
    const fanOne_ms = ones.sort((a, b) => a - b)[Math.floor(FAN_ONE_TIMES / 2)]!;
    const fanAll_ms = await setData(paths.slice(FAN_ONE_TIMES));
    const watches = watchers * znodes;
    return { watches, reported, set_s, rss_mib: rss / MIB, perWatch_b: (rss - rss0) / watches, fanOne_ms, fanAll_ms };
  } finally {
    for (const s of sessions) s.destroy();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const n = Number(arg('sessions', '10000'));
  const watchers = Number(arg('watch-sessions', '1000'));
  const znodes = Number(arg('watch-znodes', '100'));
  if (watchers > 0 && znodes <= FAN_ONE_TIMES) throw new Error(`--watch-znodes must be over ${FAN_ONE_TIMES}`);
  const systems = (arg('systems', 'tszk,zookeeper').split(',') as SystemName[]).filter((s) => {
    const missing = systemMissing(s);
    if (missing !== undefined) console.log(`${s}: SKIPPED (${missing})`);
    return missing === undefined;
  });
  const sessionRows: string[] = [];
  const watchRows: string[] = [];
  // --sessions 0 or --watch-sessions 0 leaves that scenario out.
  for (const system of n > 0 ? systems : []) {
    const f = await sessionsScenario(system, n);
    sessionRows.push(
      `| ${system} | ${f.sessions} | ${f.connect_s.toFixed(2)} | ${f.cpu_s.toFixed(2)} | ${f.rss_mib.toFixed(0)} | ${f.perSession_kib.toFixed(1)} |`,
    );
    console.error(`[scale] ${system}: ${n} sessions in ${f.connect_s.toFixed(2)} s`);
  }
  for (const system of watchers > 0 ? systems : []) {
    const w = await watchesScenario(system, watchers, znodes);
    watchRows.push(
      `| ${system} | ${w.watches} (${w.reported}) | ${w.set_s.toFixed(2)} | ${w.rss_mib.toFixed(0)} | ${w.perWatch_b.toFixed(0)} | ${w.fanOne_ms.toFixed(1)} | ${w.fanAll_ms.toFixed(0)} |`,
    );
    console.error(`[scale] ${system}: ${w.watches} watches set in ${w.set_s.toFixed(2)} s`);
  }
  if (sessionRows.length > 0) {
    console.log(`## ${n} sessions connecting at once, standalone (fsync on; times noisy)\n`);
    console.log('| system | sessions | until all established s | server CPU s | server RSS MiB | RSS growth per session KiB |');
    console.log('|---|---|---|---|---|---|');
    for (const r of sessionRows) console.log(r);
  }
  if (watchRows.length === 0) return;
  console.log(`\n## ${watchers} sessions × ${znodes} znodes of data watches, standalone (times noisy)\n`);
  console.log(
    `| system | watches (wchs) | time to set s | server RSS MiB | RSS growth per watch B | one setData → ${watchers} events ms (median of ${FAN_ONE_TIMES}) | ${znodes - FAN_ONE_TIMES} setData → ${watchers * (znodes - FAN_ONE_TIMES)} events ms |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of watchRows) console.log(r);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
