/**
 * A local tszk ensemble for tests: each member a real `tszk server --config zoo.cfg` child process
 * (kill = SIGKILL, so it loses what kill -9 loses) with its own dataDir, speaking ZAB over
 * loopback. Every link from one member to another's quorum and election ports runs through a
 * proxy (link-proxy.ts) so partition() can cut it; clients reach the members' client ports directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electionInitialMessageRewriter, startLinkProxy, type LinkProxy } from './link-proxy.js';
import { fourLetterWord, freePort } from './ports.js';
import type { ZooCfg } from '../server/embed.js';

export type MemberRole = 'leader' | 'follower' | 'observer' | 'looking' | 'down';

export interface TestingClusterOptions {
  /** Members, 1..15. */
  size: number;
  /** How many of them are observers (the highest ids); default 0. */
  observers?: number;
  /** tickTime (default 200: a lost leader is noticed within about a second). */
  tickTime_ms?: number;
  /** More zoo.cfg keys for every member. */
  config?: ZooCfg;
  /** How long start() and restart() wait for members (default 30 000). */
  startTimeout_ms?: number;
}

export interface ClusterMember {
  readonly id: number;
  /** `127.0.0.1:<client port>` of this member alone. */
  readonly connectString: string;
  readonly dataDir: string;
  /** Its AdminServer's port on 127.0.0.1 (a free one; `admin.enableServer: false` in config turns it off). */
  readonly adminPort: number;
  /** The member's own log (JSON lines). */
  readonly logFile: string;
  /** Whether its process is running (false after kill()). */
  readonly running: boolean;
  /** From the member's srvr: 'looking' while it does not serve, 'down' when its process is not running or not answering. */
  role(): Promise<MemberRole>;
}

const POLL_MS = 50;

/** The CLI entry next to this module: compiled, or the .ts sources when run through tsx. */
function memberCommand(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  if (import.meta.url.endsWith('.ts')) return ['--import', 'tsx', path.join(here, '../cli/main.ts')];
  return [path.join(here, '../cli/main.js')];
}

class Member implements ClusterMember {
  proc: ChildProcess | undefined;
  readonly connectString: string;
  readonly logFile: string;

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly quorumPort: number,
    readonly electionPort: number,
    readonly dataDir: string,
    readonly observer: boolean,
    readonly adminPort: number,
  ) {
    this.connectString = `127.0.0.1:${clientPort}`;
    this.logFile = path.join(dataDir, 'tszk.log');
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  async role(): Promise<MemberRole> {
    if (this.proc === undefined) return 'down';
    let text: string;
    try {
      text = await fourLetterWord(this.clientPort, 'srvr');
    } catch {
      return 'down';
    }
    if (text.includes('not currently serving')) return 'looking';
    const mode = /Mode: (\w+)/.exec(text)?.[1];
    return mode === 'leader' || mode === 'follower' || mode === 'observer' ? mode : 'looking';
  }

  /** Spawns the process and waits until its client port answers ruok (it may still be electing). */
  async start(timeout_ms: number): Promise<void> {
    const out = fs.openSync(this.logFile, 'a');
    const proc = spawn(process.execPath, [...memberCommand(), 'server', '--config', path.join(this.dataDir, 'zoo.cfg')], {
      stdio: ['ignore', out, out],
      env: { ...process.env, TSZK_LOG_LEVEL: process.env['TSZK_LOG_LEVEL'] ?? 'info' },
    });
    fs.closeSync(out);
    this.proc = proc;
    let exit: string | undefined;
    proc.once('exit', (code, signal) => {
      exit = signal ?? `code ${code}`;
      if (this.proc === proc) this.proc = undefined;
    });
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      if (exit !== undefined) throw new Error(`member ${this.id} exited during start (${exit}); its log ${this.logFile} ends:\n${this.logTail()}`);
      if ((await fourLetterWord(this.clientPort, 'ruok', 500).catch(() => '')) === 'imok') return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`member ${this.id} did not answer on ${this.connectString} within ${timeout_ms} ms; its log ${this.logFile} ends:\n${this.logTail()}`);
      }
      await sleep(POLL_MS);
    }
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (p === undefined) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  logTail(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export class TestingCluster implements AsyncDisposable {
  private closed = false;
  /** A test process that exits without close() (a failed test, --test-force-exit) takes its members with it. */
  private readonly killOnExit = (): void => {
    for (const m of this.all) m.proc?.kill('SIGKILL');
  };

  private constructor(
    private readonly all: Member[],
    /** links.get(`${from}>${to}`): the quorum and election proxies member `from` dials to reach `to`. */
    private readonly links: Map<string, LinkProxy[]>,
    private readonly dir: string,
    private readonly startTimeout_ms: number,
  ) {
    process.on('exit', this.killOnExit);
  }

  /** Every member's client address: a client given this fails over between them. */
  get connectString(): string {
    return this.all.map((m) => m.connectString).join(',');
  }

  get members(): readonly ClusterMember[] {
    return this.all;
  }

  /** Starts every member and resolves once one leads and all serve. */
  static async start(opts: TestingClusterOptions): Promise<TestingCluster> {
    const { size } = opts;
    const observers = opts.observers ?? 0;
    if (!Number.isInteger(size) || size < 1 || size > 15) throw new RangeError(`TestingCluster size must be an integer 1..15, got ${size}`);
    if (!Number.isInteger(observers) || observers < 0 || observers >= size) {
      throw new RangeError(`TestingCluster observers must be an integer 0..${size - 1} (at least one voting member), got ${observers}`);
    }
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-cluster-'));
    const members: Member[] = [];
    const links = new Map<string, LinkProxy[]>();
    const member = (id: number): Member => members[id - 1]!;
    const cluster = new TestingCluster(members, links, dir, opts.startTimeout_ms ?? 30_000);
    try {
      for (const id of ids) {
        const dataDir = path.join(dir, `member${id}`);
        fs.mkdirSync(dataDir);
        members.push(new Member(id, await freePort(), await freePort(), await freePort(), dataDir, id > size - observers, await freePort()));
      }
      for (const from of ids)
        for (const to of ids) {
          if (from === to) continue;
          const quorum = await startLinkProxy(() => member(to).quorumPort);
          // The election connect-back from `to` goes through the to→from proxy (it exists by then).
          const election = await startLinkProxy(
            () => member(to).electionPort,
            electionInitialMessageRewriter(() => `127.0.0.1:${links.get(`${to}>${from}`)![1]!.port}`),
          );
          links.set(`${from}>${to}`, [quorum, election]);
        }
      for (const m of members) {
        const servers = members.map((o) => {
          const [q, e] = o === m ? [o.quorumPort, o.electionPort] : links.get(`${m.id}>${o.id}`)!.map((l) => l.port);
          return `server.${o.id}=127.0.0.1:${q}:${e}:${o.observer ? 'observer' : 'participant'};127.0.0.1:${o.clientPort}`;
        });
        const cfg: Record<string, string | number | boolean> = {
          tickTime: opts.tickTime_ms ?? 200,
          initLimit: 10,
          syncLimit: 5,
          dataDir: m.dataDir,
          clientPort: m.clientPort,
          clientPortAddress: '127.0.0.1',
          maxClientCnxns: 0,
          '4lw.commands.whitelist': '*',
          'admin.serverAddress': '127.0.0.1',
          'admin.serverPort': m.adminPort,
          standaloneEnabled: false,
          ...(m.observer ? { peerType: 'observer' } : {}),
          ...opts.config,
        };
        const lines = [...Object.entries(cfg).map(([k, v]) => `${k}=${String(v)}`), ...servers];
        fs.writeFileSync(path.join(m.dataDir, 'zoo.cfg'), lines.join('\n') + '\n');
        fs.writeFileSync(path.join(m.dataDir, 'myid'), `${m.id}\n`);
      }
      await Promise.all(members.map((m) => m.start(cluster.startTimeout_ms)));
      await cluster.waitForLeader(cluster.startTimeout_ms, true);
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  /**
   * Waits until exactly one running member says it leads while a majority of the voting members
   * serve under it, and returns that member.
   */
  async leader(timeout_ms = 30_000): Promise<ClusterMember> {
    this.checkOpen('leader');
    return this.waitForLeader(timeout_ms, false);
  }

  /** SIGKILLs the member's process (as kill -9: nothing is flushed). A member already down stays down. */
  async kill(id: number): Promise<void> {
    this.checkOpen('kill');
    await this.member(id).kill();
  }

  /** Starts a killed member again from its dataDir; resolves once it answers on its client port (it may still be syncing). */
  async restart(id: number): Promise<void> {
    this.checkOpen('restart');
    const m = this.member(id);
    if (m.running) throw new Error(`member ${id} is running: kill(${id}) before restart(${id})`);
    await m.start(this.startTimeout_ms);
  }

  /**
   * Cuts every link between a member of groupA and a member of groupB, both ways (connections
   * reset, new ones refused); links within a group and to members in neither stay up. Cuts add up
   * until heal().
   */
  partition(groupA: readonly number[], groupB: readonly number[]): void {
    this.checkOpen('partition');
    for (const g of [groupA, groupB]) {
      if (g.length === 0) throw new Error('partition: a group is empty');
      for (const id of g) this.member(id);
    }
    const overlap = groupA.filter((id) => groupB.includes(id));
    if (overlap.length > 0) throw new Error(`partition: member${overlap.length > 1 ? 's' : ''} ${overlap.join(', ')} in both groups`);
    for (const a of groupA) for (const b of groupB) for (const l of [...this.links.get(`${a}>${b}`)!, ...this.links.get(`${b}>${a}`)!]) l.cut();
  }

  /** Restores every link cut by partition(). */
  heal(): void {
    this.checkOpen('heal');
    for (const ls of this.links.values()) for (const l of ls) l.restore();
  }

  /** Kills every member and removes their data dirs. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.all.map((m) => m.kill()));
    process.off('exit', this.killOnExit);
    await Promise.all([...this.links.values()].flat().map((l) => l.close()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private member(id: number): Member {
    const m = Number.isInteger(id) ? this.all[id - 1] : undefined;
    if (m === undefined) throw new RangeError(`no member ${id}: members are ${this.all.map((x) => x.id).join(', ')}`);
    return m;
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new Error(`TestingCluster.${what}(): the cluster was closed`);
  }

  private async waitForLeader(timeout_ms: number, allServing: boolean): Promise<Member> {
    const voters = this.all.filter((m) => !m.observer).length;
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const running = this.all.filter((m) => m.running);
      const roles = await Promise.all(running.map((m) => m.role()));
      const leaders = running.filter((_, i) => roles[i] === 'leader');
      const serving = roles.filter((r) => r === 'leader' || r === 'follower').length;
      const allUp = !allServing || (running.length === this.all.length && roles.every((r) => r !== 'looking' && r !== 'down'));
      if (leaders.length === 1 && serving > voters / 2 && allUp) return leaders[0]!;
      if (Date.now() > deadline) {
        const seen = this.all.map((m) => `member ${m.id}: ${m.running ? (roles[running.indexOf(m)] ?? 'down') : 'down'}; its log ends:\n${m.logTail()}`);
        throw new Error(`TestingCluster: no leader with a serving quorum within ${timeout_ms} ms\n${seen.join('\n')}`);
      }
      await sleep(POLL_MS);
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
