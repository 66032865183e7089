/**
 * A local tszk ensemble of real processes for tests: `startEnsemble(n, opts)` gives each member
 * its own ports (client, quorum, election), data dir with myid and zoo.cfg, and log file, and
 * lets a test kill (SIGKILL by default), restart and query (srvr) members.
 *
 *   const ens = await startEnsemble(3);
 *   const leader = await ens.waitForLeader();          // the member whose srvr says Mode: leader
 *   const zk = await ZooKeeperClient.connect(ens.connectString);
 *   await leader.kill();  await ens.waitForLeader({ exclude: [leader.id] });  await leader.restart();
 *   await ens.stop();                                    // kills everything, removes the dirs
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnPeer, srvrStatus, waitForImok, waitForLeaderAmong, writePeerConfig, type PeerMode, type PeerStatus } from './peer-process.js';
import { killAndWait } from './stop-process.js';
import { freePort } from './ports.js';

export type MemberMode = PeerMode;
export type MemberStatus = PeerStatus;

export interface EnsembleMember {
  readonly id: number;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly connectString: string;
  /** The AdminServer's port on 127.0.0.1 (startEnsemble with adminServer: true), else undefined. */
  readonly adminPort: number | undefined;
  /** Prometheus /metrics port on 127.0.0.1 (startEnsemble with metrics: true), else undefined. */
  readonly metricsPort: number | undefined;
  /** Pid of the running process (undefined while down). */
  readonly pid: number | undefined;
  readonly running: boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  status(): Promise<MemberStatus>;
}

export interface EnsembleOptions {
  /** Observers: the last `observers` members get peerType=observer. Default 0. */
  observers?: number;
  /** tickTime in ms (default 200: fast fail-over in tests). */
  tickTime_ms?: number;
  initLimit?: number;
  syncLimit?: number;
  /** Extra zoo.cfg keys for every member. */
  cfg?: Record<string, string | number>;
  /** Base directory (default: a new temp dir, removed by stop()). */
  dir?: string;
  /** Environment for the processes. Members log at 'info' into their own log files (tests read those lines), whatever the runner's TSZK_LOG_LEVEL; TSZK_MEMBER_LOG_LEVEL overrides. */
  env?: Record<string, string>;
  /** Wait until a leader is up and every member serves (default true). */
  waitReady?: boolean;
  readyTimeout_ms?: number;
  /**
   * For fault layers (a proxy per link): the port member `from` uses to reach member `to`'s quorum
   * or election port (default: the real one). Each member still listens on its own real ports.
   */
  /** Give each member an AdminServer on a free port (EnsembleMember.adminPort); default none. */
  adminServer?: boolean;
  /** Give each member Prometheus /metrics on a free port (EnsembleMember.metricsPort); default none. */
  metrics?: boolean;
  /** Use these ports instead of picking free ones (e.g. chosen before starting a proxy). */
  ports?: MemberPorts[];
  route?: (from: number, to: number, kind: 'quorum' | 'election', port: number) => number;
}

/** Ports each member listens on, known before any process starts (for building a fault layer). */
export interface MemberPorts {
  id: number;
  client: number;
  quorum: number;
  election: number;
  /** The AdminServer's port (on 127.0.0.1); without one the member runs none. */
  admin?: number;
  /** Prometheus /metrics (on 127.0.0.1); without one the member serves none. */
  metrics?: number;
}

export interface Ensemble {
  readonly members: EnsembleMember[];
  /** Every member's client address. */
  readonly connectString: string;
  readonly dir: string;
  /** Mode of every member by id, from srvr ('down' when not answering). */
  roles(): Promise<Map<number, MemberMode>>;
  /** Waits until exactly one running member says leader (and, by default, all running members serve). */
  waitForLeader(opts?: { exclude?: number[]; timeout_ms?: number; allServing?: boolean }): Promise<EnsembleMember>;
  stop(): Promise<void>;
}

export { parseSrvr } from './peer-process.js';

export async function startEnsemble(n: number, opts: EnsembleOptions = {}): Promise<Ensemble> {
  const own = opts.dir === undefined;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-ens-'));
  const observers = opts.observers ?? 0;
  const ports: MemberPorts[] = opts.ports ?? [];
  for (let i = ports.length + 1; i <= n; i++) {
    ports.push({
      id: i,
      client: await freePort(),
      quorum: await freePort(),
      election: await freePort(),
      admin: opts.adminServer === true ? await freePort() : undefined,
      metrics: opts.metrics === true ? await freePort() : undefined,
    });
  }
  const route = opts.route ?? ((_f: number, _t: number, _k: 'quorum' | 'election', port: number) => port);
  const serverLinesFor = (from: number): string[] =>
    ports.map((p) => {
      const q = p.id === from ? p.quorum : route(from, p.id, 'quorum', p.quorum);
      const e = p.id === from ? p.election : route(from, p.id, 'election', p.election);
      return `server.${p.id}=127.0.0.1:${q}:${e}:${p.id > n - observers ? 'observer' : 'participant'};127.0.0.1:${p.client}`;
    });
  const members: Member[] = [];
  for (const p of ports) {
    const dataDir = path.join(dir, `member${p.id}`);
    const cfg: Record<string, string | number> = {
      tickTime: opts.tickTime_ms ?? 200,
      initLimit: opts.initLimit ?? 10,
      syncLimit: opts.syncLimit ?? 5,
      dataDir,
      clientPort: p.client,
      clientPortAddress: '127.0.0.1',
      maxClientCnxns: 0,
      '4lw.commands.whitelist': '*',
      ...(p.admin === undefined ? { 'admin.enableServer': 'false' } : { 'admin.serverAddress': '127.0.0.1', 'admin.serverPort': p.admin }),
      ...(p.metrics === undefined
        ? {}
        : {
            'metricsProvider.className': 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
            'metricsProvider.httpHost': '127.0.0.1',
            'metricsProvider.httpPort': p.metrics,
          }),
      ...(p.id > n - observers ? { peerType: 'observer' } : {}),
      ...opts.cfg,
    };
    const cfgPath = writePeerConfig(dataDir, p.id, cfg, serverLinesFor(p.id));
    members.push(new Member(p.id, p.client, p.quorum, p.election, dataDir, cfgPath, path.join(dataDir, 'tszk.log'), opts.env ?? {}, p.admin, p.metrics));
  }
  const ens: Ensemble = {
    members,
    connectString: members.map((m) => m.connectString).join(','),
    dir,
    async roles() {
      const out = new Map<number, MemberMode>();
      await Promise.all(members.map(async (m) => out.set(m.id, (await m.status()).mode)));
      return out;
    },
    waitForLeader(w = {}) {
      const candidates = () => members.filter((m) => m.running && !(w.exclude ?? []).includes(m.id));
      return waitForLeaderAmong(
        candidates,
        (m) => m.status(),
        (m) => m.id,
        w,
        'members',
        dir,
      );
    },
    async stop() {
      await Promise.all(members.map((m) => m.kill('SIGKILL')));
      if (own) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const started = await Promise.allSettled(members.map((m) => m.restart()));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    if (opts.waitReady ?? true) await ens.waitForLeader({ timeout_ms: opts.readyTimeout_ms ?? 30_000 });
  } catch (e) {
    // Leave no process behind.
    await Promise.all(members.map((m) => m.kill('SIGKILL')));
    throw e;
  }
  return ens;
}

class Member implements EnsembleMember {
  private proc: ChildProcess | undefined;
  readonly connectString: string;

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly quorumPort: number,
    readonly electionPort: number,
    readonly dataDir: string,
    private readonly cfgPath: string,
    readonly logFile: string,
    private readonly env: Record<string, string>,
    readonly adminPort: number | undefined,
    readonly metricsPort: number | undefined = undefined,
  ) {
    this.connectString = `127.0.0.1:${clientPort}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Starts the process and waits until its client port answers ruok (it may still be electing). */
  async restart(): Promise<void> {
    if (this.proc !== undefined) throw new Error(`member ${this.id} is already running`);
    const proc = spawnPeer('tszk', this.cfgPath, this.logFile, {
      env: { ...process.env, TSZK_LOG_LEVEL: process.env['TSZK_MEMBER_LOG_LEVEL'] ?? 'info', ...this.env },
    });
    this.proc = proc;
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      if (this.proc === proc) this.proc = undefined;
    });
    await waitForImok(this.clientPort, () => exited, 20_000, `member ${this.id}`, this.logFile);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.proc !== undefined) await killAndWait(this.proc, signal);
  }

  async status(): Promise<MemberStatus> {
    if (this.proc === undefined) return { mode: 'down', zxid: undefined };
    return srvrStatus(this.clientPort);
  }
}
