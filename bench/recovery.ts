/**
 * Recovery at scale: load N znodes × 100 B through a client (snapCount 100,000, fsync on), kill -9
 * the server, start it again on the same dataDir and time until a new session is served; tszk
 * beside Apache ZooKeeper 3.8 (-Xmx512m) in the same run. Also the time each server reports for
 * writing its last snapshot, the newest snapshot's size, the dataDir's size and the RSS once
 * serving again. Timings on a loaded machine are noisy: the run repeats the restart (--restarts)
 * and prints each, with the server CPU until serving (steadier). A list of sizes prints one table
 * per figure, a row per size: how each cost grows with the tree, and the ratio to ZooKeeper's.
 *
 *   npm run bench:recovery -- [--znodes 1000000 | 10000,100000,1000000] [--restarts 2] [--systems tszk,zookeeper]
 *   (tszk-base: another build, TSZK_BASE_CLI=<its dist/src/cli/main.js>, as in npm run bench)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTszk } from '../test/support/tszk.js';
import { startZooKeeper } from '../test/support/zookeeper.js';
import { fourLetter } from '../test/support/ports.js';
import { loadZnodes } from './loadZnodes.js';
import { processCpu_us, processMemory } from './procstat.js';
import { listSnapshots } from '../src/storage/history.js';
import { VERSION_DIR } from '../src/storage/names.js';
import { BASE_CLI_ENV, dataDirBytes, systemMissing, type SystemName } from './servers.js';
import { BenchSession } from './session.js';

const MIB = 1024 * 1024;
const SNAP_COUNT = 100_000;
/** How long the loaded server gets to finish a snapshot in progress before it is killed. */
const SNAPSHOT_WAIT_MS = 120_000;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

interface Running {
  member: string;
  pid: number;
  kill(): Promise<void>;
}

async function start(system: SystemName, dataDir: string, logFile: string): Promise<Running> {
  const cfg = { forceSync: 'yes', snapCount: SNAP_COUNT };
  if (system === 'zookeeper') {
    const zk = await startZooKeeper({ cfg, dataDir, logFile, startTimeout_ms: 600_000 });
    return { member: `127.0.0.1:${zk.port}`, pid: zk.proc.pid!, kill: () => zk.stop() };
  }
  const cli = system === 'tszk-base' ? { cli: process.env[BASE_CLI_ENV] } : {};
  const t = await startTszk({ cfg, dataDir, keepDataDir: true, logFile, env: { TSZK_LOG_LEVEL: 'info' }, startTimeout_ms: 600_000, ...cli });
  return { member: `127.0.0.1:${t.port}`, pid: t.proc.pid!, kill: () => t.stop('SIGKILL') };
}

/** Until a session is established: the server serves. */
async function served(member: string): Promise<void> {
  const i = member.lastIndexOf(':');
  const s = await BenchSession.connectRetrying(member.slice(0, i), Number(member.slice(i + 1)), 30_000);
  await s.close();
}

/** Until every snapshot tszk started is written (its log says "snapshotting", then "snapshot written"). */
async function snapshotsSettled(logFile: string): Promise<void> {
  const deadline = Date.now() + SNAPSHOT_WAIT_MS;
  const count = (re: RegExp): number => (fs.existsSync(logFile) ? [...fs.readFileSync(logFile, 'utf8').matchAll(re)].length : 0);
  while (count(/"msg":"snapshot written"/g) < count(/"msg":"snapshotting"/g) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
}

interface Figures {
  load_s: number;
  /** The longest snapshot write, from mntr's zk_max_snapshottime (both servers keep it). */
  snapshotWrite_ms: number | undefined;
  /** The newest snapshot's bytes per znode: its size over its zxid's counter (one create per txn, so about the znodes it holds). */
  snapshotPerZnode_bytes: number;
  dataDir_mib: number;
  restart_s: number[];
  restartCpu_s: number[];
  rss_mib: number;
}

/** The newest snapshot's size over the txns before it (its zxid's counter). */
async function newestSnapshotPerZnode(dataDir: string): Promise<number> {
  const snaps = await listSnapshots(path.join(dataDir, VERSION_DIR));
  const newest = snaps[snaps.length - 1];
  const txns = newest === undefined ? 0 : Number(newest.zxid & 0xffffffffn);
  return txns === 0 ? 0 : fs.statSync(newest!.path).size / txns;
}

/** mntr's zk_max_snapshottime once a snapshot was taken (ZooKeeper takes its first one in the background after snapCount/2 or more txns). */
async function maxSnapshotTime(member: string): Promise<number | undefined> {
  const port = Number(member.slice(member.lastIndexOf(':') + 1));
  const deadline = Date.now() + SNAPSHOT_WAIT_MS;
  for (;;) {
    const text = await fourLetter(port, 'mntr', 10_000).catch(() => '');
    const max = /^zk_max_snapshottime\s+(\d+)/m.exec(text);
    const count = /^zk_cnt_snapshottime\s+(\d+)/m.exec(text);
    if (max !== null && count !== null && Number(count[1]) > 0) return Number(max[1]);
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function bench(system: SystemName, n: number, restarts: number): Promise<Figures> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `recovery-${system}-`));
  const logFile = path.join(dataDir, 'server.log');
  try {
    let s = await start(system, dataDir, logFile);
    const t0 = performance.now();
    await loadZnodes(s.member, n);
    const load_s = (performance.now() - t0) / 1000;
    if (system !== 'zookeeper') await snapshotsSettled(logFile);
    const snapshotWrite_ms = n >= SNAP_COUNT / 2 ? await maxSnapshotTime(s.member) : undefined;
    await s.kill();
    const dataDir_mib = (dataDirBytes([dataDir]) - (fs.existsSync(logFile) ? fs.statSync(logFile).size : 0)) / MIB;
    const restart_s: number[] = [];
    const restartCpu_s: number[] = [];
    let rss_mib = 0;
    for (let r = 0; r < restarts; r++) {
      const t1 = performance.now();
      s = await start(system, dataDir, logFile);
      await served(s.member);
      // Wall time is at the mercy of the machine's load; the CPU the server used until then is steadier.
      restart_s.push((performance.now() - t1) / 1000);
      restartCpu_s.push(processCpu_us(s.pid) / 1e6);
      rss_mib = processMemory(s.pid).rss_bytes / MIB;
      await s.kill();
    }
    // After the restarts: ZooKeeper writes a snapshot of the whole tree before it serves again (and
    // one it was writing in the background when killed may be cut short); tszk's newest is whole.
    const snapshotPerZnode_bytes = await newestSnapshotPerZnode(dataDir);
    return { load_s, snapshotWrite_ms, snapshotPerZnode_bytes, dataDir_mib, restart_s, restartCpu_s, rss_mib };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Figure {
  title: string;
  /** The value compared across systems (lower is better), and what the cell shows. */
  value(f: Figures): number | undefined;
  cell(f: Figures): string;
}

const FIGURES: Figure[] = [
  {
    title: 'Restart after kill -9 until a session is served, s (best; each restart, server CPU s in brackets)',
    value: (f) => Math.min(...f.restart_s),
    cell: (f) => f.restart_s.map((t, i) => `${t.toFixed(1)} (${f.restartCpu_s[i]!.toFixed(1)})`).join(', '),
  },
  {
    title: 'Server CPU until serving after a restart, s (best)',
    value: (f) => Math.min(...f.restartCpu_s),
    cell: (f) => Math.min(...f.restartCpu_s).toFixed(2),
  },
  { title: 'RSS once serving after a restart, MiB', value: (f) => f.rss_mib, cell: (f) => f.rss_mib.toFixed(0) },
  {
    title: 'Longest snapshot write while loading (mntr zk_max_snapshottime), ms; none below snapCount/2 znodes',
    value: (f) => f.snapshotWrite_ms,
    cell: (f) => (f.snapshotWrite_ms === undefined ? 'none' : String(f.snapshotWrite_ms)),
  },
  {
    title: "Newest snapshot's size per znode (size over its zxid's txn count), bytes",
    value: (f) => (f.snapshotPerZnode_bytes > 0 ? f.snapshotPerZnode_bytes : undefined),
    cell: (f) => (f.snapshotPerZnode_bytes > 0 ? f.snapshotPerZnode_bytes.toFixed(0) : 'none (snapshot.0 only)'),
  },
  { title: 'dataDir size, MiB', value: (f) => f.dataDir_mib, cell: (f) => f.dataDir_mib.toFixed(0) },
  { title: 'Load by async creates (one pipelined session), s', value: (f) => f.load_s, cell: (f) => f.load_s.toFixed(1) },
];

/** One table per figure: a row per size, a column per system, and each tszk build's ratio to ZooKeeper's (> 1: ZooKeeper's figure is that many times tszk's). */
function printTables(sizes: number[], systems: SystemName[], results: Map<string, Figures | string>): void {
  const others = systems.filter((s) => s !== 'zookeeper');
  const ratios = systems.includes('zookeeper') ? others : [];
  for (const fig of FIGURES) {
    console.log(`\n### ${fig.title}\n`);
    console.log(`| znodes | ${systems.join(' | ')} |${ratios.map((s) => ` zookeeper / ${s} |`).join('')}`);
    console.log(`|---|${systems.map(() => '---|').join('')}${ratios.map(() => '---|').join('')}`);
    for (const n of sizes) {
      const get = (s: SystemName): Figures | string | undefined => results.get(`${s}:${n}`);
      const cells = systems.map((s) => {
        const r = get(s);
        return typeof r === 'string' ? r : r === undefined ? '' : fig.cell(r);
      });
      const zk = get('zookeeper');
      const ratioCells = ratios.map((s) => {
        const r = get(s);
        const a = typeof r === 'object' ? fig.value(r) : undefined;
        const b = typeof zk === 'object' ? fig.value(zk) : undefined;
        return a !== undefined && b !== undefined && a > 0 ? `${(b / a).toFixed(2)}×` : '';
      });
      console.log(`| ${n} | ${cells.join(' | ')} |${ratioCells.map((c) => ` ${c} |`).join('')}`);
    }
  }
}

async function main(): Promise<void> {
  // A list (10000,100000,1000000) gives one row per size: how each cost grows.
  const sizes = arg('znodes', '1000000').split(',').map(Number);
  const restarts = Number(arg('restarts', '2'));
  const systems = arg('systems', 'tszk,zookeeper').split(',') as SystemName[];
  console.log(
    `## Recovery and snapshots at ${sizes.join(' / ')} znodes × 100 B, standalone (snapCount ${SNAP_COUNT}, fsync on; ZooKeeper -Xmx512m; wall times noisy on a loaded machine, CPU and bytes steadier)`,
  );
  const results = new Map<string, Figures | string>();
  for (const n of sizes) {
    for (const system of systems) {
      const missing = systemMissing(system);
      results.set(`${system}:${n}`, missing !== undefined ? `SKIPPED: ${missing}` : await bench(system, n, restarts));
      console.error(`done: ${system} at ${n} znodes`);
    }
  }
  printTables(sizes, systems, results);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
