/**
 * A Jepsen-style run on real processes: clients doing compare-and-set (setData with the expected
 * version) and sync+getData reads (a quarter of them plain getData) on a few registers, each client pinned to one member, while a
 * nemesis kills and restarts members (SIGKILL), kills the leader, and partitions peers through
 * the fault proxies. A client whose op has an unknown outcome (connection lost, timeout) is
 * retired and a fresh one (new session, new id) takes its place, as Jepsen does. At the end:
 * heal, restart everything, final sync+reads on every member, then the whole history goes
 * through the checker (test/jepsen/checker.ts) and every member's tree digest is compared.
 */
import { performance } from 'node:perf_hooks';
import { ZooKeeperClient, KeeperError, Err } from '../../src/client/index.js';
import { startFaultCluster, type FaultCluster } from '../support/fault-cluster.js';
import type { TargetKind } from '../support/target.js';
import { prng } from '../crash/model.js';
import { convergedDigests, sleep, withTimeout } from '../faults/helpers.js';
import { checkJepsenHistory, type CheckResult } from './checker.js';
import type { CasWrite, JepsenOp, SyncRead } from './history.js';

export interface JepsenOptions {
  kind: TargetKind;
  members: number;
  duration_ms: number;
  clients: number;
  registers: number;
  seed: number;
  /** Pause between the end of one fault and the next, ms (min, spread). */
  faultGap_ms?: [number, number];
  /** How long a fault lasts, ms (min, spread). */
  faultLength_ms?: [number, number];
  keepLogs?: boolean;
  print?: (line: string) => void;
  /**
   * Run on this cluster (already started, e.g. a mixed one) instead of starting a fresh one of
   * `kind`; it is healed and left running at the end, the caller stops it.
   */
  cluster?: FaultCluster;
}

export interface JepsenReport {
  ops: number;
  faults: string[];
  result: CheckResult;
  digests: Map<number, string>;
  dir: string;
  history: JepsenOp[];
  /** Members that died without being killed by the nemesis (restarted to go on). */
  crashes: string[];
  /** Members that did not serve clients after everything was healed and restarted. */
  stuck: string[];
}

const OP_TIMEOUT_MS = 4_000;
const CONNECT_TIMEOUT_MS = 3_000;

export async function runJepsen(o: JepsenOptions): Promise<JepsenReport> {
  const print = o.print ?? ((l: string) => console.log(l));
  const rnd = prng(o.seed);
  const own = o.cluster === undefined;
  const cluster = o.cluster ?? (await startFaultCluster({ kind: o.kind, n: o.members }));
  const history: JepsenOp[] = [];
  const faults: string[] = [];
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const keys = Array.from({ length: o.registers }, (_, i) => `r${i}`);
  let keepDir = true; // unless the run completes cleanly
  let stopping = false;
  let workers: Promise<void>[] = [];
  const stuck: string[] = [];
  try {
    const setup = await withTimeout(ZooKeeperClient.connect(cluster.connectString), 15_000, 'setup connect');
    await setup.create('/jepsen');
    for (const k of keys) await setup.create(`/jepsen/${k}`, '');
    await setup.close();

    let nextProc = 0;
    const worker = async (): Promise<void> => {
      while (!stopping) {
        const proc = nextProc++;
        const member = cluster.peers[Math.floor(rnd() * cluster.peers.length)]!;
        let zk: ZooKeeperClient;
        try {
          zk = await withTimeout(
            ZooKeeperClient.connect(member.connectString, { sessionTimeout_ms: 6_000, connectWait_ms: CONNECT_TIMEOUT_MS }),
            CONNECT_TIMEOUT_MS + 500,
            'connect',
          );
        } catch {
          await sleep(100);
          continue;
        }
        const known = new Map<string, number>();
        try {
          while (!stopping && (await oneOp(zk, proc, `${member.sid}`, known))) {
            /* next op */
          }
        } finally {
          zk.abandon();
        }
      }
    };
    /** One op; false when its outcome is unknown (the process retires). */
    const oneOp = async (zk: ZooKeeperClient, proc: number, member: string, known: Map<string, number>): Promise<boolean> => {
      const key = keys[Math.floor(rnd() * keys.length)]!;
      const path = `/jepsen/${key}`;
      if (rnd() < 0.5) {
        let ev = known.get(key) ?? 0;
        if (rnd() < 0.2) ev = Math.max(0, ev + (rnd() < 0.5 ? -1 : 1));
        const w: CasWrite = {
          kind: 'write',
          client: proc,
          key,
          expectedVersion: ev,
          value: `p${proc}-${history.length}`,
          invoke: now(),
          response: null,
          result: 'unknown',
        };
        history.push(w);
        try {
          const stat = await withTimeout(zk.setData(path, w.value, ev), OP_TIMEOUT_MS, 'setData');
          w.response = now();
          w.result = { ok: true, version: stat.version, zxid: stat.mzxid };
          known.set(key, stat.version);
          return true;
        } catch (e) {
          if (e instanceof KeeperError && e.code === Err.BadVersion) {
            w.response = now();
            w.result = { ok: false };
            return true;
          }
          return false;
        }
      }
      const sync = rnd() < 0.75;
      const r: SyncRead = {
        kind: 'read',
        client: proc,
        key,
        sync,
        invoke: now(),
        response: null,
        failed: true,
        version: 0,
        value: '',
        mzxid: 0n,
        zxid: 0n,
        member,
      };
      history.push(r);
      try {
        if (sync) await withTimeout(zk.sync(path), OP_TIMEOUT_MS, 'sync');
        const { data, stat } = await withTimeout(zk.getData(path), OP_TIMEOUT_MS, 'getData');
        r.zxid = zk.lastZxidSeen;
        r.response = now();
        r.failed = false;
        r.version = stat.version;
        r.value = data === null ? '' : data.toString();
        r.mzxid = stat.mzxid;
        known.set(key, stat.version);
        return true;
      } catch {
        r.response = now();
        return false;
      }
    };

    // A member that stops again while starting has that exit in cluster.unexpectedExits() (and is
    // noted here): the caller judges it with the rest of the run instead of the run ending here.
    const restart = async (p: (typeof cluster.peers)[number]): Promise<void> => {
      try {
        await p.start();
      } catch (e) {
        stuck.push(`member ${p.sid} did not restart: ${(e as Error).message}`);
      }
    };
    workers = Array.from({ length: o.clients }, () => worker());
    const [gapMin, gapSpread] = o.faultGap_ms ?? [500, 1500];
    const [lenMin, lenSpread] = o.faultLength_ms ?? [500, 2500];
    const end = Date.now() + o.duration_ms;
    while (Date.now() < end) {
      await sleep(gapMin + rnd() * gapSpread);
      if (Date.now() >= end) break;
      for (const p of cluster.peers) if (!p.running()) await restart(p); // it crashed by itself: noted below
      faults.push(await injectFault(cluster, rnd, lenMin + rnd() * lenSpread, now));
      print(`  [${(now() / 1000).toFixed(1)}s] ${faults[faults.length - 1]} — ${history.length} ops so far`);
    }
    cluster.heal();
    for (const p of cluster.peers) if (!p.running()) await restart(p);
    await cluster.waitForLeader({ timeout_ms: 60_000 });
    await sleep(1000);
    stopping = true;
    await Promise.all(workers);

    // Final reads: every register through every member. A member that cannot serve them after
    // healing is a liveness finding, reported (the history is still checked).
    for (const p of cluster.peers) {
      const proc = nextProc++;
      let zk: ZooKeeperClient | undefined;
      try {
        zk = await withTimeout(ZooKeeperClient.connect(p.connectString, { connectWait_ms: 15_000 }), 16_000, `final connect to member ${p.sid}`);
        for (const key of keys) {
          const r: SyncRead = {
            kind: 'read',
            client: proc,
            key,
            sync: true,
            invoke: now(),
            response: null,
            failed: true,
            version: 0,
            value: '',
            mzxid: 0n,
            zxid: 0n,
            member: `${p.sid}`,
          };
          history.push(r);
          await withTimeout(zk.sync(`/jepsen/${key}`), 10_000, 'final sync');
          const { data, stat } = await withTimeout(zk.getData(`/jepsen/${key}`), 10_000, 'final getData');
          Object.assign(r, { zxid: zk.lastZxidSeen, response: now(), failed: false, version: stat.version, value: data?.toString() ?? '', mzxid: stat.mzxid });
        }
      } catch (e) {
        stuck.push(`member ${p.sid} did not serve the final reads after healing: ${(e as Error).message}`);
      } finally {
        zk?.abandon();
      }
    }
    const result = checkJepsenHistory(history);
    const digests = await convergedDigests(cluster, '/jepsen');
    const crashes = cluster.unexpectedExits();
    keepDir = (o.keepLogs ?? false) || !result.ok || crashes.length > 0 || stuck.length > 0 || new Set(digests.values()).size !== 1;
    return { ops: history.length, faults, result, digests, dir: cluster.dir, history, crashes, stuck };
  } finally {
    stopping = true; // on an error too: the workers must not keep the process alive
    await Promise.all(workers);
    if (own) await cluster.stop({ keepDir });
    else cluster.heal();
  }
}

async function injectFault(cluster: FaultCluster, rnd: () => number, length_ms: number, now: () => number): Promise<string> {
  const all = cluster.peers.map((p) => p.sid);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const leader = (await cluster.waitForLeader({ timeout_ms: 30_000, allServing: false }).catch(() => undefined))?.sid;
  const r = rnd();
  const at = `${(now() / 1000).toFixed(1)}s`;
  const ms = Math.round(length_ms);
  if (r < 0.25 || (r < 0.4 && leader === undefined)) {
    const victim = cluster.peer(pick(all));
    await victim.kill('SIGKILL');
    await sleep(length_ms);
    await victim.start();
    return `${at} kill -9 member ${victim.sid}, restarted after ${ms} ms`;
  }
  if (r < 0.4) {
    const victim = cluster.peer(leader!);
    await victim.kill('SIGKILL');
    await sleep(length_ms);
    await victim.start();
    return `${at} kill -9 leader ${victim.sid}, restarted after ${ms} ms`;
  }
  const how = rnd() < 0.5 ? 'reset' : 'blackhole';
  if (r < 0.6 && leader !== undefined) {
    cluster.isolate(leader, how);
    await sleep(length_ms);
    cluster.heal();
    return `${at} isolate leader ${leader} (${how}) for ${ms} ms`;
  }
  if (r < 0.8) {
    const v = pick(all);
    cluster.isolate(v, how);
    await sleep(length_ms);
    cluster.heal();
    return `${at} isolate member ${v} (${how}) for ${ms} ms`;
  }
  // Split into a majority and a minority at random (3: 2/1, 5: 3/2).
  const shuffled = [...all].sort(() => rnd() - 0.5);
  const maj = shuffled.slice(0, Math.floor(all.length / 2) + 1);
  const min = shuffled.slice(maj.length);
  cluster.partition([maj, min], how);
  await sleep(length_ms);
  cluster.heal();
  return `${at} split ${JSON.stringify(maj)}/${JSON.stringify(min)} (${how}) for ${ms} ms`;
}

export function formatReport(
  kind: string,
  o: { duration_ms: number; members: number; clients: number; registers: number; seed: number },
  rep: JepsenReport,
): string[] {
  const r = rep.result;
  const digestsAgree = new Set(rep.digests.values()).size === 1;
  return [
    `jepsen ${kind}: ${o.members} members, ${o.clients} clients, ${o.registers} registers, ${(o.duration_ms / 1000).toFixed(0)} s, seed ${o.seed}`,
    `  ops ${rep.ops}: CAS ok ${r.writes.ok}, CAS failed ${r.writes.failed}, CAS unknown ${r.writes.unknown} (${r.writes.unknownLanded} of them took effect), reads ok ${r.reads.ok} (sync+get ${rep.history.filter((x) => x.kind === 'read' && x.sync && !x.failed).length}), reads failed ${r.reads.failed}`,
    `  faults ${rep.faults.length}: ${rep.faults.map((f) => f.replace(/^\S+ /, '')).join('; ')}`,
    `  result: ${r.ok ? 'VALID (writes linearizable, reads within ZooKeeper guarantees)' : 'INVALID'}; tree digests ${digestsAgree ? 'agree' : 'DIFFER'}: ${JSON.stringify(Object.fromEntries(rep.digests))}`,
    ...r.violations.map((v) => `  violation: ${v}`),
    ...rep.crashes.map((c) => `  member crashed by itself: ${c.split('\n')[0]}`),
    ...rep.stuck.map((c) => `  liveness: ${c}`),
  ];
}
