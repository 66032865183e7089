/**
 * Shared pieces of the fault suites: which system runs (tszk by default, TSZK_TEST_TARGET=zookeeper
 * for the real Apache ZooKeeper 3.8 — how the harness itself is validated), a write load that
 * records what was acknowledged, and tree dumps through a client.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ZooKeeperClient, KeeperError, Err, errName } from '../../src/client/index.js';
import { targetKind, targetMissing, type TargetKind } from '../support/target.js';
import type { FaultCluster } from '../support/fault-cluster.js';

export const kind: TargetKind = targetKind();
export const missing = targetMissing(kind);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const connectionLost = (e: unknown): boolean =>
  e instanceof KeeperError &&
  (e.code === Err.ConnectionLoss || e.code === Err.SessionExpired || e.code === Err.OperationTimeout || e.code === Err.SessionMoved);

/** Rejects after ms (an op stuck on a partitioned member must not hang a test). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(t),
  );
}

export interface AckedWrite {
  path: string;
  data: string;
  /** When the create was sent and when its acknowledgement arrived (ms since the epoch). */
  invoked_ms: number;
  at_ms: number;
}

/**
 * `clients` sessions creating unique znodes under `root` back to back (one in flight each);
 * every acknowledged create is recorded with the time it was acknowledged.
 */
export class WriteLoad {
  readonly acked: AckedWrite[] = [];
  readonly failures = new Map<string, number>();
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly zks: ZooKeeperClient[] = [];

  constructor(
    private readonly connectString: string,
    private readonly root: string,
    private readonly clients: number,
  ) {}

  async start(): Promise<void> {
    for (let c = 0; c < this.clients; c++) {
      const zk = new ZooKeeperClient(this.connectString, { sessionTimeout_ms: 20_000, shuffleHosts: true });
      this.zks.push(zk);
      await zk.connected();
      this.loops.push(this.loop(zk, c));
    }
  }

  private async loop(zk: ZooKeeperClient, c: number): Promise<void> {
    for (let k = 0; !this.stopped; k++) {
      const path = `${this.root}/c${c}-${k}`;
      const invoked_ms = Date.now();
      const data = `${c}:${k}:${invoked_ms}`;
      try {
        await withTimeout(zk.create(path, data), 10_000, `create ${path}`);
        this.acked.push({ path, data, invoked_ms, at_ms: Date.now() });
      } catch (e) {
        const name = e instanceof KeeperError ? errName(e.code) : (e as Error).message.slice(0, 40);
        this.failures.set(String(name), (this.failures.get(String(name)) ?? 0) + 1);
        await sleep(20);
      }
    }
  }

  /** The first acknowledgement of a write sent at or after t (ms epoch), or undefined. */
  firstAckAfter(t: number): number | undefined {
    let first: number | undefined;
    for (const a of this.acked) if (a.invoked_ms >= t && (first === undefined || a.at_ms < first)) first = a.at_ms;
    return first;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.loops);
    await Promise.all(this.zks.map((z) => withTimeout(z.close(), 5_000, 'close').catch(() => z.abandon())));
  }
}

/** Connect to exactly one member (no fail-over to others). */
export async function connectTo(connectString: string, timeout_ms = 15_000): Promise<ZooKeeperClient> {
  return withTimeout(
    ZooKeeperClient.connect(connectString, { sessionTimeout_ms: 20_000, connectWait_ms: timeout_ms }),
    timeout_ms + 1000,
    `connect ${connectString}`,
  );
}

/** Every znode under `root` (recursively) with its data and version, after a sync, as sorted lines. */
export async function dumpTree(zk: ZooKeeperClient, root = '/'): Promise<string[]> {
  await zk.sync(root);
  const out: string[] = [];
  const walk = async (p: string): Promise<void> => {
    if (p !== '/zookeeper' && !p.startsWith('/zookeeper/')) {
      const { data, stat } = await zk.getData(p);
      out.push(`${p} v${stat.version} c${stat.cversion} ${data === null ? '-' : data.toString('base64')}`);
    }
    const kids = await zk.getChildren(p);
    for (const k of kids.sort()) if (!(p === '/' && k === 'zookeeper')) await walk(p === '/' ? `/${k}` : `${p}/${k}`);
  };
  await walk(root);
  return out.sort();
}

export function digestOf(lines: string[]): string {
  return crypto.createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

/**
 * Tree digest as seen through every running member; waits until they all agree or the timeout
 * passes. `auth` (e.g. digest user:password) lets the dump read nodes whose ACL needs it.
 */
export async function convergedDigests(
  cluster: FaultCluster,
  root: string,
  timeout_ms = 20_000,
  auth?: { scheme: string; auth: string },
): Promise<Map<number, string>> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const out = new Map<number, string>();
    for (const p of cluster.peers.filter((x) => x.running())) {
      try {
        const zk = await connectTo(p.connectString, 5_000);
        try {
          if (auth !== undefined) await withTimeout(zk.addAuth(auth.scheme, auth.auth), 5_000, 'addAuth');
          out.set(p.sid, digestOf(await withTimeout(dumpTree(zk, root), 10_000, `dump ${p.sid}`)));
        } finally {
          await zk.close();
        }
      } catch (e) {
        out.set(p.sid, `error: ${(e as Error).message}`);
      }
    }
    if (new Set(out.values()).size === 1 && ![...out.values()][0]!.startsWith('error')) return out;
    if (Date.now() > deadline) return out;
    await sleep(500);
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Sync-mode lines a peer logged as a learner, in order: tszk's pino JSON, or ZooKeeper's Learner lines. */
export function learnerSyncModes(logFile: string): ('DIFF' | 'SNAP' | 'TRUNC')[] {
  const out: ('DIFF' | 'SNAP' | 'TRUNC')[] = [];
  const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as { msg?: string; mode?: string };
        if (typeof j.msg === 'string' && j.msg.startsWith('syncing with leader') && (j.mode === 'DIFF' || j.mode === 'SNAP' || j.mode === 'TRUNC'))
          out.push(j.mode);
      } catch {
        /* not a log record */
      }
      continue;
    }
    if (line.includes('Getting a diff from the leader')) out.push('DIFF');
    else if (line.includes('Getting a snapshot from leader')) out.push('SNAP');
    else if (line.includes('Truncating log to get in sync with the leader')) out.push('TRUNC');
  }
  return out;
}
