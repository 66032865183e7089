/**
 * Recovery at scale: load N znodes × 100 B through a client (snapCount 100,000, fsync on), kill -9
 * the server, start it again on the same dataDir and time until a new session is served; tszk
 * beside Apache ZooKeeper 3.8 (-Xmx512m) in the same run. Also the dataDir's size and the time
 * each server reports for writing its last snapshot. Timings on a loaded machine are noisy: the
 * run repeats the restart (--restarts) and prints each.
 *
 *   npm run bench:recovery -- [--znodes 1000000 | 10000,100000,1000000] [--restarts 2] [--systems tszk,zookeeper]
 *   (tszk-base: another build, TSZK_BASE_CLI=<its dist/src/cli/main.js>, as in npm run bench)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTszk } from '../test/support/tszk.js';
import { startZooKeeper } from '../test/support/zookeeper.js';
import { loadZnodes } from './loadZnodes.js';
import { processCpu_us } from './procstat.js';
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

/** The snapshot write times (ms) a server's log reports. */
function snapshotTimes(system: SystemName, logFile: string): number[] {
  const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  const re = system === 'zookeeper' ? /Snapshot taken in (\d+) ms/g : /"ms":(\d+),"msg":"snapshot written"/g;
  return [...text.matchAll(re)].map((m) => Number(m[1]));
}

/** Until every snapshot tszk started is written (its log says "snapshotting", then "snapshot written"). */
async function snapshotsSettled(logFile: string): Promise<void> {
  const deadline = Date.now() + SNAPSHOT_WAIT_MS;
  const count = (re: RegExp): number => (fs.existsSync(logFile) ? [...fs.readFileSync(logFile, 'utf8').matchAll(re)].length : 0);
  while (count(/"msg":"snapshot written"/g) < count(/"msg":"snapshotting"/g) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
}

async function bench(system: SystemName, n: number, restarts: number): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `recovery-${system}-`));
  const logFile = path.join(dataDir, 'server.log');
  try {
    let s = await start(system, dataDir, logFile);
    const t0 = performance.now();
    await loadZnodes(s.member, n);
    const load_s = (performance.now() - t0) / 1000;
    // ZooKeeper logs a snapshot time only if its log4j is set up to; tszk's log says it at info.
    if (system === 'tszk') await snapshotsSettled(logFile);
    const snaps = snapshotTimes(system, logFile);
    await s.kill();
    const size_mib = (dataDirBytes([dataDir]) - (fs.existsSync(logFile) ? fs.statSync(logFile).size : 0)) / MIB;
    const times: string[] = [];
    for (let r = 0; r < restarts; r++) {
      const t1 = performance.now();
      s = await start(system, dataDir, logFile);
      await served(s.member);
      // Wall time is at the mercy of the machine's load; the CPU the server used until then is steadier.
      times.push(`${((performance.now() - t1) / 1000).toFixed(1)} (CPU ${(processCpu_us(s.pid) / 1e6).toFixed(1)})`);
      await s.kill();
    }
    const lastSnap = snaps.length > 0 ? `${snaps[snaps.length - 1]} ms` : 'not logged';
    return `| ${system} | ${n} | ${times.join(', ')} | ${size_mib.toFixed(0)} | ${lastSnap} | ${load_s.toFixed(1)} |`;
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // A list (10000,100000,1000000) gives one row per size and system: how each cost grows.
  const sizes = arg('znodes', '1000000').split(',').map(Number);
  const restarts = Number(arg('restarts', '2'));
  const systems = arg('systems', 'tszk,zookeeper').split(',') as SystemName[];
  console.log(
    `## Restart after kill -9 until a session is served, ${sizes.join(' / ')} znodes × 100 B (snapCount ${SNAP_COUNT}, fsync on; wall times noisy, server CPU steadier)\n`,
  );
  console.log('| system | znodes | restart → serving s (server CPU s), each restart | dataDir MiB | last snapshot write | load s |');
  console.log('|---|---|---|---|---|---|');
  for (const n of sizes) {
    for (const system of systems) {
      const missing = systemMissing(system);
      console.log(missing !== undefined ? `| ${system} | ${n} | SKIPPED: ${missing} | | | |` : await bench(system, n, restarts));
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
