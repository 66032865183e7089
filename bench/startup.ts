/**
 * Start-up to serving, standalone: from spawning the server process on a fresh dataDir (and on the
 * dataDir of the previous round, a restart) until a new session is established, tszk beside Apache
 * ZooKeeper 3.8 in the same run, rounds interleaved; the best and median of each. For tszk also the
 * CPU the process used until then, where the time went (from the startup_ms stamps its log
 * writes: modules and config loaded, dataDir recovered, client port listening), and `node -e 0`
 * on this machine as the floor any Node program pays (wall, and the CPU of a Node that does
 * nothing). Timings on a loaded machine are noisy; the CPU time is steadier. tszk runs as
 * installed (bin/tszk.cjs: its bundle with the compile cache, src/cli/compileCache.ts); one start
 * before the rounds, not counted, writes that cache as the first start after a build does.
 *
 * NODE_EXTRA_CA_CERTS, when set, has every Node process parse that bundle of certificates before
 * it runs any code (about 55 ms of a 80 ms `node -e 0` on this sandbox, which sets it). A tszk
 * server needs it only for TLS without a trust store (Node's default CAs are then trusted, those
 * certificates among them), and the JVM does not read it, so when it is set tszk and `node -e 0`
 * are also measured with it unset, as extra rows.
 *
 *   npm run bench:startup -- [--rounds 5] [--systems tszk,zookeeper]
 *   (tszk-base: another build, TSZK_BASE_CLI=<its bin/tszk.cjs or dist/src/cli/main.js>, to compare before and after)
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

/** What a row measures: a system, and the environment its process starts with. */
interface Variant {
  label: string;
  system: SystemName;
  env: NodeJS.ProcessEnv;
}

/** The environment without NODE_EXTRA_CA_CERTS (see the header), or undefined when it is not set. */
function withoutExtraCaCerts(): NodeJS.ProcessEnv | undefined {
  if (process.env['NODE_EXTRA_CA_CERTS'] === undefined) return undefined;
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}
const UNSET_LABEL = 'NODE_EXTRA_CA_CERTS unset';

function spawnServer(system: SystemName, dataDir: string, port: number, env: NodeJS.ProcessEnv): ChildProcess {
  const cfg = path.join(dataDir, 'zoo.cfg');
  fs.writeFileSync(
    cfg,
    `tickTime=2000\ndataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n`,
  );
  if (system === 'zookeeper')
    return spawn('java', ['-Xmx512m', '-cp', ZK_SERVER_CLASSPATH, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], { stdio: 'ignore' });
  const { cmd, args } = tszkCommand(system === 'tszk-base' ? process.env[BASE_CLI_ENV] : undefined);
  // At debug the log stamps each start-up step (startup_ms, since the process started).
  return spawn(cmd, [...args, 'server', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...env, TSZK_LOG_LEVEL: 'debug' } });
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
  /** tszk: how the start used the compile cache (undefined: it ran dist/src, or an older build). */
  compileCache: string | undefined;
}

/** The value of `field` in the log line of each of STEPS in a tszk log. */
function stepStamps(log: string, field: string): number[] {
  return STEPS.map(({ msg }) => {
    const line = log.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
    const m = line === undefined ? null : new RegExp(`"${field}":(\\d+)`).exec(line);
    return m === null ? NaN : Number(m[1]);
  });
}

/** The compileCache field of the log's start-up line. */
function compileCacheOf(log: string): string | undefined {
  return /"compileCache":"(\w+)"/.exec(log.split('\n').find((l) => l.includes(`"msg":"${STEPS[0].msg}"`)) ?? '')?.[1];
}

/** How long a warm-up start waits for the server to write its compile cache (it does a second after serving). */
const CACHE_WRITE_WAIT_MS = 10_000;

/**
 * Spawns the server and tries a session every POLL_MS until one is established. `warmUp`: then
 * waits until a start without a compile cache has written it.
 */
async function timeStart({ system, env }: Variant, dataDir: string, warmUp = false): Promise<Start> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawnServer(system, dataDir, port, env);
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
        const compileCache = compileCacheOf(log);
        if (warmUp && (compileCache === 'miss' || compileCache === 'rejected')) {
          for (const t1 = performance.now(); !log.includes('compile cache written') && performance.now() - t1 < CACHE_WRITE_WAIT_MS;)
            await new Promise((r) => setTimeout(r, 50));
        }
        return { ms, cpu_ms, stamps: stepStamps(log, 'startup_ms'), cpuStamps: stepStamps(log, 'startup_cpu_ms'), compileCache };
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

/** Wall and CPU ms of a Node process that does nothing (its CPU as it exits, from process.cpuUsage). */
function nodeFloor(env: NodeJS.ProcessEnv): { ms: number; cpu_ms: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['-e', 'const c = process.cpuUsage(); console.log((c.user + c.system) / 1000)'], { encoding: 'utf8', env });
  return { ms: performance.now() - t0, cpu_ms: Number(r.stdout.trim()) };
}

async function main(): Promise<void> {
  const rounds = Number(arg('rounds', '5'));
  const systems = (arg('systems', 'tszk,zookeeper').split(',') as SystemName[]).filter((s) => {
    const missing = systemMissing(s);
    if (missing !== undefined) console.log(`${s}: SKIPPED (${missing})`);
    return missing === undefined;
  });
  const unset = withoutExtraCaCerts();
  const variants: Variant[] = systems.map((system) => ({ label: system, system, env: process.env }));
  if (unset !== undefined)
    for (const system of systems.filter((s) => s !== 'zookeeper')) variants.push({ label: `${system}, ${UNSET_LABEL}`, system, env: unset });
  const fresh = new Map<string, Start[]>(variants.map((v) => [v.label, []]));
  const restart = new Map<string, Start[]>(variants.map((v) => [v.label, []]));
  for (const v of variants.filter((x) => x.system !== 'zookeeper' && x.env === process.env)) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `startup-warm-${v.system}-`));
    try {
      await timeStart(v, dir, true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `startup-${v.system}-`));
      try {
        fresh.get(v.label)!.push(await timeStart(v, dir));
        restart.get(v.label)!.push(await timeStart(v, dir));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const floors: { label: string; runs: { ms: number; cpu_ms: number }[] }[] = [
    { label: 'node -e 0', runs: Array.from({ length: rounds }, () => nodeFloor(process.env)) },
  ];
  if (unset !== undefined) floors.push({ label: `node -e 0, ${UNSET_LABEL}`, runs: Array.from({ length: rounds }, () => nodeFloor(unset)) });
  const zk = fresh.get('zookeeper');
  // ZooKeeper's median over this row's: how many times faster it serves (the ratio).
  const vsZk = (label: string, pick: (x: Start) => number): string => `${(median(zk!.map(pick)) / median(fresh.get(label)!.map(pick))).toFixed(2)}×`;
  console.log(`## Start-up until a session is served, standalone (${rounds} rounds interleaved; best / median; noisy)\n`);
  if (unset !== undefined)
    console.log(`NODE_EXTRA_CA_CERTS is set here (${process.env['NODE_EXTRA_CA_CERTS']}): the rows "${UNSET_LABEL}" start without it.\n`);
  console.log('| system | fresh dataDir ms | restart ms | server CPU until serving ms (fresh) | vs ZooKeeper, fresh median (wall / CPU) |');
  console.log('|---|---|---|---|---|');
  for (const { label, system } of variants) {
    const f = fresh.get(label)!;
    const ratio = zk === undefined || system === 'zookeeper' ? '' : `${vsZk(label, (x) => x.ms)} / ${vsZk(label, (x) => x.cpu_ms)}`;
    console.log(`| ${label} | ${fmt(f.map((x) => x.ms))} | ${fmt(restart.get(label)!.map((x) => x.ms))} | ${fmt(f.map((x) => x.cpu_ms))} | ${ratio} |`);
  }
  for (const { label, runs } of floors) console.log(`| ${label} | ${fmt(runs.map((x) => x.ms))} | | ${fmt(runs.map((x) => x.cpu_ms))} | |`);
  const tszks = variants.filter((v) => v.system !== 'zookeeper');
  if (tszks.length === 0) return;
  console.log(`\n## Where tszk's start-up goes (fresh dataDir; from its log's startup_ms and startup_cpu_ms stamps; median of each step, wall ms (CPU ms))\n`);
  console.log(`| system | ${STEPS.map((x) => x.what).join(' | ')} | total | compile cache |`);
  console.log(`|---|${STEPS.map(() => '---|').join('')}---|---|`);
  for (const { label } of tszks) {
    const cell = (runs: number[][], i: number): number => median(runs.map((st) => st[i]! - (i === 0 ? 0 : st[i - 1]!)));
    const wall = fresh.get(label)!.map((x) => x.stamps);
    const cpu = fresh.get(label)!.map((x) => x.cpuStamps);
    const both = (i: number): string => `${cell(wall, i).toFixed(0)} (${cell(cpu, i).toFixed(0)})`;
    const total = (runs: number[][]): string => median(runs.map((st) => st[STEPS.length - 1]!)).toFixed(0);
    const caches = [...new Set(fresh.get(label)!.map((x) => x.compileCache ?? 'none'))].join(', ');
    console.log(`| ${label} | ${STEPS.map((_, i) => both(i)).join(' | ')} | ${total(wall)} (${total(cpu)}) | ${caches} |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
