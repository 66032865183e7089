/**
 * SNAP sync at scale: a 3-member ensemble holds N znodes × 100 B; one follower is killed, its
 * dataDir emptied (a new member), and started again. Measured: from its start until it serves as a
 * follower (srvr says so and a session on it reads the last znode loaded); the leader's CPU and
 * RSS growth during that time; the latency of one-at-a-time setData calls on the leader meanwhile
 * (p50, p99, max: a leader that stalls to serialize the snapshot shows here); the new follower's
 * peak RSS. tszk beside Apache ZooKeeper 3.8 (-Xmx as --zk-heap) with the same data, one system
 * after the other. Wall times on a loaded machine are noisy; CPU and memory are steadier.
 *
 *   npm run bench:snap-sync -- [--znodes 1000000 | 100000] [--syncs 2] [--systems tszk,zookeeper] [--zk-heap 1024]
 *   (tszk-base: another build, TSZK_BASE_CLI=<its dist/src/cli/main.js>, as in npm run bench)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpCode } from '../src/proto/opcodes.js';
import { startEnsemble, memberMode, type Ensemble } from './ensemble.js';
import { DATA_BYTES, FANOUT, loadZnodes } from './loadZnodes.js';
import { processCpu_us, processMemory } from './procstat.js';
import { systemMissing, type SystemName } from './servers.js';
import { BenchSession, writePathWatch, writeSetData } from './session.js';

const MIB = 1024 * 1024;
const POLL_MS = 50;
/** How long a new follower may take to sync and serve. */
const SYNC_TIMEOUT_MS = 600_000;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

function sessionTo(port: number): Promise<BenchSession> {
  return BenchSession.connectRetrying('127.0.0.1', port, 30_000);
}

/** One request at a time on `s` until stop() is called; the latencies (ms) of all of them. */
function probeWrites(s: BenchSession, node: string): { stop(): Promise<number[]> } {
  const lat_ms: number[] = [];
  const data = Buffer.alloc(DATA_BYTES, 9);
  let stopping = false;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((r) => (finished = r));
  const send = (): void => {
    writeSetData(s.begin(OpCode.setData), node, data);
    s.end();
    s.flush();
  };
  s.onReply = (err, us) => {
    if (err !== 0) throw new Error(`probe setData failed: error ${err}`);
    lat_ms.push(us / 1000);
  };
  s.onBatch = () => (stopping ? finished() : send());
  send();
  return {
    stop: async () => {
      stopping = true;
      await done;
      return lat_ms;
    },
  };
}

/** True once a session on the member reads `node` (a follower that serves before its tree is whole would say no node). */
async function reads(port: number, node: string): Promise<boolean> {
  let s: BenchSession | undefined;
  try {
    s = await BenchSession.connect('127.0.0.1', port, 30_000);
    const session = s;
    const err = await new Promise<number>((resolve) => {
      session.onReply = (e) => resolve(e);
      writePathWatch(session.begin(OpCode.exists), node);
      session.end();
      session.flush();
    });
    return err === 0;
  } catch {
    return false;
  } finally {
    await s?.close().catch(() => undefined);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Empties a member's dataDir but for its identity and config: it rejoins as a new member. */
function wipe(dataDir: string): void {
  for (const f of fs.readdirSync(dataDir)) if (f !== 'myid' && f !== 'zoo.cfg') fs.rmSync(path.join(dataDir, f), { recursive: true, force: true });
}

/** The sync modes the leader's log names after byte `from` of the ensemble's log (for learner `sid`, where tszk says), in order: more than one means the learner synced again. */
function syncModes(system: SystemName, logFile: string, from: number, sid: number): string {
  const text = fs.existsSync(logFile) ? fs.readFileSync(logFile).subarray(from).toString('utf8') : '';
  const re = system === 'zookeeper' ? /Sending (snapshot|DIFF|TRUNC)/g : new RegExp(`syncing learner ${sid} by (SNAP|DIFF|TRUNC)`, 'g');
  const modes = [...text.matchAll(re)].map((m) => (m[1] === 'snapshot' ? 'SNAP' : m[1]!));
  return modes.length === 0 ? '?' : modes.join('+');
}

interface SyncResult {
  serving_s: number;
  followerCpu_s: number;
  followerPeakRss_mib: number;
  leaderCpu_s: number;
  leaderRssGrowth_mib: number;
  probes: number[];
  mode: string;
}

async function syncOnce(system: SystemName, e: Ensemble, follower: number, leaderPid: number, logFile: string, lastNode: string): Promise<SyncResult> {
  await e.kill(follower);
  wipe(e.dataDirs[follower]!);
  const probeSession = await sessionTo(e.clientPorts[(await e.leader())!]!);
  const probe = probeWrites(probeSession, '/mem');
  let leaderRssPeak = 0;
  const leaderRss0 = processMemory(leaderPid).rss_bytes;
  const leaderCpu0 = processCpu_us(leaderPid);
  const sampler = setInterval(() => (leaderRssPeak = Math.max(leaderRssPeak, processMemory(leaderPid).rss_bytes)), POLL_MS);
  const logFrom = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const t0 = performance.now();
  e.restart(follower);
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  while (!((await memberMode(e.clientPorts[follower]!)) === 'follower' && (await reads(e.clientPorts[follower]!, lastNode)))) {
    if (Date.now() > deadline) throw new Error(`${system}: the new follower did not serve within ${SYNC_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const serving_s = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const leaderCpu_s = (processCpu_us(leaderPid) - leaderCpu0) / 1e6;
  const probes = (await probe.stop()).sort((a, b) => a - b);
  await probeSession.close();
  const fpid = e.pid(follower)!;
  return {
    serving_s,
    followerCpu_s: processCpu_us(fpid) / 1e6,
    followerPeakRss_mib: processMemory(fpid).rssPeak_bytes / MIB,
    leaderCpu_s,
    leaderRssGrowth_mib: Math.max(0, leaderRssPeak - leaderRss0) / MIB,
    probes,
    mode: syncModes(system, logFile, logFrom, follower + 1),
  };
}

async function bench(system: SystemName, n: number, syncs: number, zkHeap_mb: number): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `snap-sync-${system}-`));
  const logFile = path.join(dir, 'ensemble.log');
  process.env['TSZK_LOG_LEVEL'] = 'info';
  const e = await startEnsemble(system, 3, { forceSync: true, zkHeap_mb, logFile });
  try {
    const leader = await e.leader();
    if (leader === undefined) throw new Error(`${system}: no leader`);
    const t0 = performance.now();
    await loadZnodes(`127.0.0.1:${e.clientPorts[leader]!}`, n);
    const load_s = (performance.now() - t0) / 1000;
    const lastNode = `/mem/d${Math.floor((n - 1) / FANOUT)}/n${n - 1}`;
    const follower = [0, 1, 2].find((i) => i !== leader)!;
    const rows: string[] = [];
    for (let k = 0; k < syncs; k++) {
      const r = await syncOnce(system, e, follower, e.pid(leader)!, logFile, lastNode);
      const p = (q: number): string => percentile(r.probes, q).toFixed(1);
      rows.push(
        `| ${system} | ${n} | ${r.mode} | ${r.serving_s.toFixed(1)} | ${r.followerCpu_s.toFixed(1)} | ${r.followerPeakRss_mib.toFixed(0)} | ` +
          `${r.leaderCpu_s.toFixed(1)} | ${r.leaderRssGrowth_mib.toFixed(0)} | ${r.probes.length} | ${p(50)} / ${p(99)} / ${r.probes[r.probes.length - 1]?.toFixed(0) ?? '-'} | ${load_s.toFixed(0)} |`,
      );
    }
    return rows;
  } finally {
    await e.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const n = Number(arg('znodes', '1000000'));
  const syncs = Number(arg('syncs', '2'));
  const zkHeap_mb = Number(arg('zk-heap', '1024'));
  const systems = arg('systems', 'tszk,zookeeper').split(',') as SystemName[];
  console.log(`## SNAP sync of a new follower, 3 members holding ${n} znodes × ${DATA_BYTES} B (fsync on; ZooKeeper -Xmx${zkHeap_mb}m)\n`);
  console.log('Wall times are noisy on a loaded machine; CPU and memory are steadier. Probe: one setData at a time on the leader during the sync.\n');
  console.log(
    '| system | znodes | sync | start → serving s | follower CPU s | follower peak RSS MiB | leader CPU s | leader RSS growth MiB | probes | probe p50 / p99 / max ms | load s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  const serving = new Map<SystemName, number[]>();
  for (const system of systems) {
    const missing = systemMissing(system);
    if (missing !== undefined) {
      console.log(`| ${system} | ${n} | SKIPPED: ${missing} | | | | | | | | |`);
      continue;
    }
    for (const row of await bench(system, n, syncs, zkHeap_mb)) {
      console.log(row);
      const s = Number(row.split('|')[4]);
      serving.set(system, [...(serving.get(system) ?? []), s]);
    }
  }
  const best = (s: SystemName): number | undefined => (serving.has(s) ? Math.min(...serving.get(s)!) : undefined);
  const zk = best('zookeeper');
  for (const s of systems) {
    const t = best(s);
    if (s !== 'zookeeper' && t !== undefined && zk !== undefined)
      console.log(`\n${s}: start → serving ${(zk / t).toFixed(2)}× ZooKeeper's speed (best of each)`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
