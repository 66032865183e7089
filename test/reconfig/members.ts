/**
 * Real tszk peer processes whose membership changes by reconfig: each member has its own dataDir
 * and zoo.cfg (reconfigEnabled, the super user of direct-ensemble.ts), can be started with any
 * server lines (a joiner: the current members plus itself), killed with -9 and restarted on the
 * zoo.cfg it left behind (which a committed reconfig rewrote). An acknowledged writer records what
 * the ensemble confirmed, and `checkAcknowledged` looks for all of it on every member.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZooKeeperClient } from '../../src/client/index.js';
import { Err, KeeperError } from '../../src/proto/errors.js';
import { freePort } from '../support/ports.js';
import { spawnPeer, srvrStatus, writePeerConfig, type PeerMode } from '../support/peer-process.js';
import { killAndWait } from '../support/stop-process.js';
import { waitFor } from '../support/wait.js';
import { SUPER_DIGEST } from './direct-ensemble.js';

export interface Member {
  sid: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  dataDir: string;
  cfgPath: string;
  logFile: string;
  proc: ChildProcess | undefined;
  kind: 'tszk' | 'zookeeper';
}

/** `server.N=` value of a member, as the reconfig's joining list and zoo.cfg write it. */
export function serverLine(m: Member, role: 'participant' | 'observer' = 'participant', clientPort = m.clientPort): string {
  return `server.${m.sid}=127.0.0.1:${m.quorumPort}:${m.electionPort}:${role};127.0.0.1:${clientPort}`;
}

export class Members {
  readonly all = new Map<number, Member>();
  private constructor(readonly dir: string) {}

  static create(): Members {
    return new Members(fs.mkdtempSync(path.join(os.tmpdir(), 'reconfig-members-')));
  }

  async add(sid: number): Promise<Member> {
    const dataDir = path.join(this.dir, `peer${sid}`);
    const m: Member = {
      sid,
      clientPort: await freePort(),
      quorumPort: await freePort(),
      electionPort: await freePort(),
      dataDir,
      cfgPath: path.join(dataDir, 'zoo.cfg'),
      logFile: path.join(this.dir, `peer${sid}.log`),
      proc: undefined,
      kind: 'tszk',
    };
    this.all.set(sid, m);
    return m;
  }

  /** Writes the member's zoo.cfg with these server lines and starts it (as tszk, or as Apache ZooKeeper 3.8). */
  start(m: Member, lines: string[], kind: 'tszk' | 'zookeeper' = 'tszk', reconfigEnabled = true): void {
    m.kind = kind;
    const cfg = {
      tickTime: 200,
      initLimit: 10,
      syncLimit: 5,
      dataDir: m.dataDir,
      reconfigEnabled: String(reconfigEnabled),
      standaloneEnabled: 'false',
      'admin.enableServer': 'false',
      '4lw.commands.whitelist': '*',
      'DigestAuthenticationProvider.superDigest': SUPER_DIGEST,
    };
    writePeerConfig(m.dataDir, m.sid, cfg, lines);
    this.restart(m);
  }

  /** Starts the member on the zoo.cfg it has now. */
  restart(m: Member): void {
    // ZooKeeper reads superDigest only as a system property.
    const jvmArgs = ['-Xmx192m', '-XX:+UseSerialGC', `-Dzookeeper.DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`];
    m.proc = spawnPeer(m.kind, m.cfgPath, m.logFile, { jvmArgs });
  }

  async kill(m: Member): Promise<void> {
    const p = m.proc;
    m.proc = undefined;
    if (p !== undefined && p.exitCode === null && p.signalCode === null) await killAndWait(p, 'SIGKILL');
  }

  async mode(m: Member, clientPort = m.clientPort): Promise<PeerMode> {
    return (await srvrStatus(clientPort)).mode;
  }

  /** Waits until the members `sids` are serving with exactly one leader among them; returns it. */
  async waitForLeader(sids: number[], timeout_ms = 60_000): Promise<Member> {
    let last = '';
    return waitFor(
      `one leader among ${sids.join(',')}, all serving (${this.dir})`,
      async () => {
        const modes = await Promise.all(sids.map(async (s) => [s, await this.mode(this.all.get(s)!)] as const));
        last = modes.map(([s, m]) => `${s}:${m}`).join(' ');
        const leaders = modes.filter(([, m]) => m === 'leader');
        if (leaders.length === 1 && modes.every(([, m]) => m === 'leader' || m === 'follower' || m === 'observer')) return this.all.get(leaders[0]![0])!;
        return undefined;
      },
      timeout_ms,
      100,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; last: ${last}`);
    });
  }

  connectString(sids: number[]): string {
    return sids.map((s) => `127.0.0.1:${this.all.get(s)!.clientPort}`).join(',');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.all.values()].map((m) => this.kill(m)));
    if (process.env['KEEP_RECONFIG_LOGS'] === undefined) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function superClient(connectString: string): Promise<ZooKeeperClient> {
  const c = await ZooKeeperClient.connect(connectString, { sessionTimeout_ms: 10_000 });
  await c.addAuth('digest', 'super:test');
  return c;
}

/** The server lines and version of /zookeeper/config's text. */
export function parseConfig(data: Buffer | null): { lines: string[]; version: string } {
  const text = data?.toString('utf8') ?? '';
  const lines = text.split('\n').filter((l) => l.startsWith('server.'));
  return { lines: lines.sort(), version: /^version=(\w+)$/m.exec(text)?.[1] ?? '' };
}

/**
 * Reconfigures and answers the config now in force. A member whose leader the reconfig changes
 * drops its clients, ZooKeeper's too (its follower throws "changes proposed in reconfig" while the
 * answer may still be queued), so on ConnectionLoss the outcome is read from /zookeeper/config.
 */
export async function reconfigured(admin: ZooKeeperClient, req: Parameters<ZooKeeperClient['reconfig']>[0]): Promise<{ lines: string[]; version: string }> {
  const before = parseConfig((await admin.getConfig()).data).version;
  try {
    return parseConfig((await admin.reconfig(req)).data);
  } catch (e) {
    if (!(e instanceof KeeperError) || e.code !== Err.ConnectionLoss) throw e;
  }
  return waitFor(
    'the reconfig in force after a connection loss',
    async () => {
      try {
        await admin.sync('/zookeeper/config');
        const c = parseConfig((await admin.getConfig()).data);
        return c.version !== before ? c : undefined;
      } catch {
        return undefined;
      }
    },
    60_000,
  );
}

/**
 * Writes /w/<n> one after another through whichever member the client reaches, and remembers each
 * the ensemble acknowledged; a failed write (connection loss during a change) is not remembered.
 */
export class AcknowledgedWriter {
  readonly acked: string[] = [];
  failures = 0;
  private running = true;
  private done: Promise<void>;
  constructor(private readonly client: ZooKeeperClient) {
    this.done = this.loop();
  }

  static async start(connectString: string): Promise<AcknowledgedWriter> {
    const c = await ZooKeeperClient.connect(connectString, { sessionTimeout_ms: 20_000 });
    try {
      await c.create('/w', '');
    } catch {
      /* there from an earlier writer */
    }
    return new AcknowledgedWriter(c);
  }

  private async loop(): Promise<void> {
    let n = 0;
    while (this.running) {
      const name = `n${String(n++).padStart(6, '0')}`;
      try {
        await this.client.create(`/w/${name}`, name);
        this.acked.push(name);
      } catch {
        this.failures++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Waits until at least `more` further writes were acknowledged (the ensemble takes writes again). */
  async progress(more: number, timeout_ms = 60_000): Promise<void> {
    const target = this.acked.length + more;
    await waitFor(`${more} more acknowledged writes`, async () => (this.acked.length >= target ? true : undefined), timeout_ms, 50);
  }

  async stop(): Promise<string[]> {
    this.running = false;
    await this.done;
    await this.client.close();
    return this.acked;
  }
}

/** Every acknowledged write is on each of `members` (each synced first), and they all hold the same config. */
export async function checkAcknowledged(ms: Members, sids: number[], ackedSoFar: readonly string[]): Promise<string> {
  // The writer may still be running: what it had acknowledged before the reads began.
  const acked = ackedSoFar.slice();
  let config: string | undefined;
  for (const sid of sids) {
    const m = ms.all.get(sid)!;
    const c = await ZooKeeperClient.connect(`127.0.0.1:${m.clientPort}`, { sessionTimeout_ms: 10_000 });
    try {
      await c.sync('/w');
      const have = new Set(await c.getChildren('/w'));
      const lost = acked.filter((n) => !have.has(n));
      assert.deepEqual(lost, [], `member ${sid} lacks ${lost.length} of ${acked.length} acknowledged writes, has ${have.size} (log ${m.logFile})`);
      const cfg = (await c.getConfig()).data?.toString('utf8') ?? '';
      if (config === undefined) config = cfg;
      else assert.equal(cfg, config, `member ${sid}'s /zookeeper/config`);
    } finally {
      await c.close();
    }
  }
  return config ?? '';
}
