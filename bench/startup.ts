/**
 * Start-up to serving, standalone: from spawning the server process on a fresh dataDir (and on the
 * dataDir of the previous round, a restart) until a new session is established, tszk beside Apache
 * ZooKeeper 3.8 in the same run, rounds interleaved; the best and median of each. For tszk also the
 * CPU the process used until then, where the time went (from the startup_ms stamps its log
 * writes: modules and config loaded, dataDir recovered, client port listening), and `node -e 0`
 * on this machine as the floor any Node program pays. Timings on a loaded machine are noisy; the
 * CPU time is steadier.
 *
 *   npm run bench:startup -- [--rounds 5] [--systems tszk,zookeeper]
 *   (tszk-base: another build, TSZK_BASE_CLI=<its dist/src/cli/main.js>, to compare before and after)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/ports.js';
import { tszkCommand } from '../test/support/tszk.js';
import { ZK_SERVER_CLASSPATH } from '../test/support/zookeeper.js';
import { BenchSession } from './session.js';
import { processCpu_us } from './procstat.js';
import { BASE_CLI_ENV, systemMissing, type SystemName } from './servers.js';

const POLL_MS = 2;
const START_TIMEOUT_MS = 60_000;
/** A server may accept a connection before it serves and leave it unanswered: such an attempt is given up and retried. */
const ATTEMPT_TIMEOUT_MS = 250;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

function spawnServer(system: SystemName, dataDir: string, port: number): ChildProcess {
  const cfg = path.join(dataDir, 'zoo.cfg');
  fs.writeFileSync(
    cfg,
    `tickTime=2000\ndataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n`,
  );
  if (system === 'zookeeper')
    return spawn('java', ['-Xmx512m', '-cp', ZK_SERVER_CLASSPATH, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], { stdio: 'ignore' });
  const { cmd, args } = tszkCommand(system === 'tszk-base' ? process.env[BASE_CLI_ENV] : undefined);
  // At debug the log stamps each start-up step (startup_ms, since the process started).
  return spawn(cmd, [...args, 'server', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TSZK_LOG_LEVEL: 'debug' } });
}

/** The start-up steps tszk's log stamps, by message, in order. */
const STEPS = [
  { msg: 'loading the server', what: 'node + CLI modules + config' },
  { msg: 'data directory recovered', what: 'storage modules + recovery' },
  { msg: 'tszk standalone server started', what: 'serving modules + listen' },
] as const;

interface Start {
  ms: number;
  cpu_ms: number;
  /** tszk: startup_ms of each of STEPS (NaN where the log did not say). */
  stamps: number[];
  /** tszk: startup_cpu_ms of each of STEPS (NaN where the log did not say: an older build). */
  cpuStamps: number[];
}

/** The value of `field` in the log line of each of STEPS in a tszk log. */
function stepStamps(log: string, field: string): number[] {
  return STEPS.map(({ msg }) => {
    const line = log.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
    const m = line === undefined ? null : new RegExp(`"${field}":(\\d+)`).exec(line);
    return m === null ? NaN : Number(m[1]);
  });
}

/** Spawns the server and tries a session every POLL_MS until one is established. */
async function timeStart(system: SystemName, dataDir: string): Promise<Start> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawnServer(system, dataDir, port);
  let log = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${system} exited during start`);
      if (performance.now() - t0 > START_TIMEOUT_MS) throw new Error(`${system} did not serve within ${START_TIMEOUT_MS} ms`);
      try {
        const s = await BenchSession.connect('127.0.0.1', port, 30_000, undefined, ATTEMPT_TIMEOUT_MS);
        const ms = performance.now() - t0;
        const cpu_ms = processCpu_us(proc.pid!) / 1000;
        s.destroy();
        return { ms, cpu_ms, stamps: stepStamps(log, 'startup_ms'), cpuStamps: stepStamps(log, 'startup_cpu_ms') };
      } catch {
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]): string => `${Math.min(...xs).toFixed(0)} / ${median(xs).toFixed(0)}`;

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '5'));
  const systems = (arg('systems', 'tszk,zookeeper').split(',') as SystemName[]).filter((s) => {
    const missing = systemMissing(s);
    if (missing !== undefined) console.log(`${s}: SKIPPED (${missing})`);
    return missing === undefined;
  });
  const fresh = new Map<SystemName, Start[]>(systems.map((s) => [s, []]));
  const restart = new Map<SystemName, Start[]>(systems.map((s) => [s, []]));
  for (let r = 0; r < rounds; r++) {
    for (const system of systems) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `startup-${system}-`));
      try {
        fresh.get(system)!.push(await timeStart(system, dir));
        restart.get(system)!.push(await timeStart(system, dir));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const nodeFloor: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    nodeFloor.push(performance.now() - t0);
  }
  console.log(`## Start-up until a session is served, standalone (${rounds} rounds interleaved; best / median; noisy)\n`);
  console.log('| system | fresh dataDir ms | restart ms | server CPU until serving ms (fresh) |');
  console.log('|---|---|---|---|');
  for (const s of systems) {
    const f = fresh.get(s)!;
    console.log(`| ${s} | ${fmt(f.map((x) => x.ms))} | ${fmt(restart.get(s)!.map((x) => x.ms))} | ${fmt(f.map((x) => x.cpu_ms))} |`);
  }
  console.log(`| node -e 0 | ${fmt(nodeFloor)} | | |`);
  const tszks = systems.filter((s) => s !== 'zookeeper');
  if (tszks.length === 0) return;
  console.log(`\n## Where tszk's start-up goes (fresh dataDir; from its log's startup_ms and startup_cpu_ms stamps; median of each step, wall ms (CPU ms))\n`);
  console.log(`| system | ${STEPS.map((x) => x.what).join(' | ')} | total |`);
  console.log(`|---|${STEPS.map(() => '---|').join('')}---|`);
  for (const s of tszks) {
    const cell = (runs: number[][], i: number): number => median(runs.map((st) => st[i]! - (i === 0 ? 0 : st[i - 1]!)));
    const wall = fresh.get(s)!.map((x) => x.stamps);
    const cpu = fresh.get(s)!.map((x) => x.cpuStamps);
    const both = (i: number): string => `${cell(wall, i).toFixed(0)} (${cell(cpu, i).toFixed(0)})`;
    const total = (runs: number[][]): string => median(runs.map((st) => st[STEPS.length - 1]!)).toFixed(0);
    console.log(`| ${s} | ${STEPS.map((_, i) => both(i)).join(' | ')} | ${total(wall)} (${total(cpu)}) |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
