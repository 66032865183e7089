/**
 * A local ensemble of real peer processes — tszk (`tszk server --config`) or Apache ZooKeeper 3.8
 * (QuorumPeerMain) — whose peer-to-peer traffic runs through fault proxies the test controls:
 * peer i's zoo.cfg lists its own real ports on server.i and, on server.j, a proxy for the
 * directed link i→j (quorum and election port each), so any pair can be cut in either state
 * ('reset' or 'blackhole'). Clients talk to the peers' client ports directly.
 *
 *   const c = await startFaultCluster({ kind: 'tszk', n: 3 });
 *   // mixed (issue 6): one kind per member; sid 3 wins the first election
 *   const m = await startFaultCluster({ kind: 'tszk', n: 3, kinds: ['zookeeper', 'zookeeper', 'tszk'], leaderFirst: 3 });
 *   const leader = await c.waitForLeader();
 *   c.partition([[leader.sid], others]);  ...  c.heal();
 *   await c.stop();
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { electionInitialMessageRewriter, startTcpProxy, type TcpProxy, type LinkState } from './tcp-proxy.js';
import { spawnPeer, srvrStatus, waitForImok, waitForLeaderAmong, writePeerConfig, type PeerMode } from './peer-process.js';
import { killAndWait } from './stop-process.js';
import { freePort } from './ports.js';
import type { TargetKind } from './target.js';

export type { PeerMode } from './peer-process.js';
export { parseSrvr } from './peer-process.js';

export interface ClusterPeer {
  readonly sid: number;
  readonly kind: TargetKind;
  readonly clientPort: number;
  readonly connectString: string;
  readonly dataDir: string;
  readonly logFile: string;
  running(): boolean;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Mode and zxid from srvr ('looking' when it does not serve, 'down' when it does not answer). */
  status(): Promise<{ mode: PeerMode; zxid: bigint | undefined }>;
}

export interface FaultCluster {
  /** The kind of every member (mixed clusters: the first member's; see kinds). */
  readonly kind: TargetKind;
  /** Each member's kind, by sid - 1. */
  readonly kinds: TargetKind[];
  readonly peers: ClusterPeer[];
  readonly dir: string;
  /** Every peer's client address. */
  readonly connectString: string;
  peer(sid: number): ClusterPeer;
  /** Cut every link between peers of different groups (peers in no group are cut from all). */
  partition(groups: number[][], how?: LinkState): void;
  /** Cut one peer from all others. */
  isolate(sid: number, how?: LinkState): void;
  heal(): void;
  /** The sid whose quorum port the proxy on `port` leads to (what a peer's log calls its leader's address). */
  quorumProxyTarget(port: number): number | undefined;
  /** Peers that exited without being killed by the harness (a crash), with the tail of their log. */
  unexpectedExits(): string[];
  /** Until exactly one running peer (not excluded) is leader and, by default, every running peer serves. */
  waitForLeader(opts?: { exclude?: number[]; among?: number[]; timeout_ms?: number; allServing?: boolean }): Promise<ClusterPeer>;
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export interface FaultClusterOptions {
  kind: TargetKind;
  n: number;
  tickTime_ms?: number;
  initLimit?: number;
  syncLimit?: number;
  cfg?: Record<string, string | number>;
  /** Extra environment (tszk). Peers log at info (TSZK_FAULT_LOG_LEVEL overrides) so sync lines are there. */
  env?: Record<string, string>;
  /** Extra JVM options for ZooKeeper members (e.g. -Dorg.slf4j.simpleLogger.log.<class>=debug). */
  jvmArgs?: string[];
  /** A mixed cluster: member sid runs kinds[sid - 1] (default: every member runs `kind`). */
  kinds?: TargetKind[];
  /**
   * The sid that should lead the first election. An empty ensemble elects its highest sid among
   * the first quorum to meet, so this sid starts first together with the fewest others for a
   * quorum, all of them lower; the rest start once that quorum has a leader and join it.
   * Needs every sid started after the first group to be lower than leaderFirst, i.e. leaderFirst = n
   * always works (default: all members start at once, whoever wins).
   */
  leaderFirst?: number;
}

const START_WAIT_MS = 30_000;

export async function startFaultCluster(opts: FaultClusterOptions): Promise<FaultCluster> {
  const n = opts.n;
  const kinds = opts.kinds ?? Array.from({ length: n }, () => opts.kind);
  if (kinds.length !== n) throw new Error(`kinds has ${kinds.length} entries for ${n} members`);
  const mixed = new Set(kinds).size > 1;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `faults-${mixed ? 'mixed' : opts.kind}-`));
  const sids = Array.from({ length: n }, (_, i) => i + 1);
  const real = new Map<number, { client: number; quorum: number; election: number }>();
  // links.get(`${i}>${j}`): what peer i dials to reach peer j. Election connect-backs go to the
  // address in the initial message: it is rewritten so that j reaches i through the j→i proxy as
  // well (looked up at dial time, when every proxy exists).
  const links = new Map<string, { quorum: TcpProxy; election: TcpProxy }>();
  for (const i of sids)
    for (const j of sids) {
      if (i === j) continue;
      const quorum = await startTcpProxy(() => real.get(j)!.quorum, { name: `q${i}>${j}`, noDelay: true });
      const election = await startTcpProxy(() => real.get(j)!.election, {
        name: `e${i}>${j}`,
        noDelay: true,
        rewriteFirst: electionInitialMessageRewriter(() => `127.0.0.1:${links.get(`${j}>${i}`)!.election.port}`),
      });
      links.set(`${i}>${j}`, { quorum, election });
    }

  // freePort never repeats a port it handed out, and the proxies' ports stay bound meanwhile.
  for (const s of sids) real.set(s, { client: await freePort(), quorum: await freePort(), election: await freePort() });

  const peers: Peer[] = [];
  for (const i of sids) {
    const dataDir = path.join(dir, `peer${i}`);
    const lines = sids.map((j) => {
      const r = real.get(j)!;
      if (j === i) return `server.${j}=127.0.0.1:${r.quorum}:${r.election}:participant;127.0.0.1:${r.client}`;
      const l = links.get(`${i}>${j}`)!;
      return `server.${j}=127.0.0.1:${l.quorum.port}:${l.election.port}:participant;127.0.0.1:${r.client}`;
    });
    const cfg: Record<string, string | number> = {
      tickTime: opts.tickTime_ms ?? 200,
      initLimit: opts.initLimit ?? 10,
      syncLimit: opts.syncLimit ?? 5,
      dataDir,
      clientPort: real.get(i)!.client,
      clientPortAddress: '127.0.0.1',
      maxClientCnxns: 0,
      '4lw.commands.whitelist': '*',
      'admin.enableServer': 'false',
      standaloneEnabled: 'false',
      reconfigEnabled: 'false',
      ...opts.cfg,
    };
    const cfgPath = writePeerConfig(dataDir, i, cfg, lines);
    peers.push(new Peer(kinds[i - 1]!, i, real.get(i)!.client, dataDir, cfgPath, path.join(dir, `peer${i}.log`), opts.env ?? {}, opts.jvmArgs ?? []));
  }

  const setLink = (i: number, j: number, s: LinkState): void => {
    const l = links.get(`${i}>${j}`)!;
    l.quorum.setState(s);
    l.election.setState(s);
  };
  const cluster: FaultCluster = {
    kind: kinds[0]!,
    kinds,
    peers,
    dir,
    connectString: peers.map((p) => p.connectString).join(','),
    peer: (sid) => peers[sid - 1]!,
    partition(groups, how = 'reset') {
      const groupOf = new Map<number, number>();
      groups.forEach((g, gi) => g.forEach((s) => groupOf.set(s, gi)));
      for (const i of sids)
        for (const j of sids) {
          if (i === j) continue;
          const gi = groupOf.get(i);
          const same = gi !== undefined && gi === groupOf.get(j);
          setLink(i, j, same ? 'up' : how);
        }
    },
    isolate(sid, how = 'reset') {
      cluster.partition([sids.filter((s) => s !== sid)], how);
    },
    heal() {
      for (const i of sids) for (const j of sids) if (i !== j) setLink(i, j, 'up');
    },
    quorumProxyTarget(port) {
      for (const [k, l] of links) if (l.quorum.port === port) return Number(k.split('>')[1]);
      return undefined;
    },
    unexpectedExits: () => peers.flatMap((p) => p.crashes),
    waitForLeader(w = {}) {
      const candidates = () => peers.filter((p) => p.running() && !(w.exclude ?? []).includes(p.sid) && (w.among === undefined || w.among.includes(p.sid)));
      return waitForLeaderAmong(
        candidates,
        (p) => p.status(),
        (p) => p.sid,
        w,
        'peers',
        dir,
      );
    },
    async stop(s = {}) {
      await Promise.all(peers.map((p) => p.kill('SIGKILL')));
      for (const l of links.values()) {
        await l.quorum.close();
        await l.election.close();
      }
      if (!s.keepDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const lf = opts.leaderFirst;
    if (lf === undefined) await Promise.all(peers.map((p) => p.start()));
    else {
      if (!sids.includes(lf)) throw new Error(`leaderFirst ${lf} is not a member`);
      // leaderFirst and the lowest sids up to a quorum; it must win among them.
      const first = [lf, ...sids.filter((s) => s !== lf).slice(0, Math.floor(n / 2))];
      if (first.some((s) => s > lf)) throw new Error(`leaderFirst ${lf} would lose to sid ${Math.max(...first)} in the first election`);
      await Promise.all(first.map((s) => cluster.peer(s).start()));
      const l = await cluster.waitForLeader({ timeout_ms: 60_000, among: first });
      if (l.sid !== lf) throw new Error(`sid ${l.sid} leads, not leaderFirst ${lf} (logs in ${dir})`);
      await Promise.all(peers.filter((p) => !first.includes(p.sid)).map((p) => p.start()));
    }
    await cluster.waitForLeader({ timeout_ms: 60_000 });
  } catch (e) {
    await cluster.stop({ keepDir: true });
    throw e;
  }
  return cluster;
}

class Peer implements ClusterPeer {
  private proc: ChildProcess | undefined;
  private killing = false;
  readonly crashes: string[] = [];
  readonly connectString: string;
  constructor(
    readonly kind: TargetKind,
    readonly sid: number,
    readonly clientPort: number,
    readonly dataDir: string,
    private readonly cfgPath: string,
    readonly logFile: string,
    private readonly env: Record<string, string>,
    private readonly jvmArgs: string[],
  ) {
    this.connectString = `127.0.0.1:${clientPort}`;
  }

  running(): boolean {
    return this.proc !== undefined;
  }

  async start(): Promise<void> {
    if (this.proc !== undefined) throw new Error(`peer ${this.sid} is already running`);
    fs.appendFileSync(this.logFile, `---- start ${new Date().toISOString()}\n`);
    const proc: ChildProcess = spawnPeer(this.kind, this.cfgPath, this.logFile, {
      // info, whatever the test runner sets: the suites read the sync-mode lines from the log.
      env: { ...process.env, TSZK_LOG_LEVEL: process.env['TSZK_FAULT_LOG_LEVEL'] ?? 'info', ...this.env },
      jvmArgs: ['-Xmx256m', '-XX:+UseSerialGC', '-Xshare:auto', ...this.jvmArgs],
    });
    this.proc = proc;
    let exited = false;
    proc.once('exit', (code, signal) => {
      exited = true;
      if (this.proc === proc) this.proc = undefined;
      if (!this.killing) {
        const tail = fs
          .readFileSync(this.logFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .slice(-12)
          .join('\n');
        this.crashes.push(`peer ${this.sid} exited by itself (code ${code}, signal ${signal}) at ${new Date().toISOString()}; log ${this.logFile}:\n${tail}`);
      }
    });
    await waitForImok(this.clientPort, () => exited, START_WAIT_MS, `peer ${this.sid}`, this.logFile);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (p === undefined) return;
    this.killing = true;
    await killAndWait(p, signal);
    this.killing = false;
  }

  async status(): Promise<{ mode: PeerMode; zxid: bigint | undefined }> {
    if (this.proc === undefined) return { mode: 'down', zxid: undefined };
    return srvrStatus(this.clientPort);
  }
}
