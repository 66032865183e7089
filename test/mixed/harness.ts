/**
 * Mixed ensembles: Apache ZooKeeper 3.8 and tszk peers in one ensemble (issue 6). Starts the peers
 * (through recording proxies, so the wire is inspectable), waits for an established leader, writes
 * through every member and reads the whole tree back through each.
 */
import { ZooKeeperClient, CreateMode } from '../../src/client/index.js';
import { startZkEnsemble, type PeerKind, type ZkEnsemble } from '../support/zk-ensemble.js';

export interface MixedRun {
  ens: ZkEnsemble;
  leaderSid: number;
  modes: string[];
}

/**
 * ZooKeeper peers run with local sessions, so a client can read through a ZooKeeper follower even
 * when the leader cannot take its forwarded createSession (the reads compare trees, nothing more).
 */
export const ZK_LOCAL_SESSIONS = { localSessionsEnabled: 'true', localSessionsUpgradingEnabled: 'true' };

export async function startMixed(
  kinds: PeerKind[],
  opts: { ready_ms?: number; dir?: string; zkLocalSessions?: boolean; cfg?: Record<string, string | number>; env?: Record<string, string> } = {},
): Promise<MixedRun> {
  const peers = kinds.map((kind) => ({ kind, cfg: kind === 'zookeeper' && opts.zkLocalSessions ? ZK_LOCAL_SESSIONS : {} }));
  const ens = await startZkEnsemble({
    peers,
    tickTime_ms: 1000,
    initLimit: 10,
    syncLimit: 5,
    dir: opts.dir,
    cfg: opts.cfg,
    env: { TSZK_LOG_LEVEL: 'info', ...opts.env },
    deferStart: true,
  });
  try {
    // The highest sid leads only if it takes part in the first election: start it with the lowest
    // sid (a quorum of 3), let them elect, then start the others (they join the leader).
    const first = [ens.peers.at(-1)!, ens.peers[0]!];
    for (const p of first) await p.start();
    await ens.waitForQuorum(opts.ready_ms ?? 40_000);
    for (const p of ens.peers) if (!first.includes(p)) await p.start();
    const leader = await ens.waitForQuorum(opts.ready_ms ?? 40_000);
    const modes = await Promise.all(ens.peers.map((p) => p.mode().then((m) => `${p.sid}:${p.kind}:${m}`)));
    return { ens, leaderSid: leader.sid, modes };
  } catch (e) {
    await ens.stop({ keepDir: true });
    throw e;
  }
}

export interface TreeNode {
  path: string;
  data: string;
  version: number;
  czxid: bigint;
  mzxid: bigint;
  ephemeral: boolean;
}

/** The whole tree under `root` as seen through one member (after sync if asked), in path order. */
export async function readTree(zk: ZooKeeperClient, root: string, sync = true): Promise<TreeNode[]> {
  if (sync) await zk.sync(root);
  const out: TreeNode[] = [];
  const walk = async (p: string): Promise<void> => {
    const { data, stat } = await zk.getData(p);
    out.push({
      path: p,
      data: data?.toString('hex') ?? '',
      version: stat.version,
      czxid: stat.czxid,
      mzxid: stat.mzxid,
      ephemeral: stat.ephemeralOwner !== 0n,
    });
    for (const c of (await zk.getChildren(p)).sort()) await walk(p === '/' ? `/${c}` : `${p}/${c}`);
  };
  await walk(root);
  return out;
}

/** Every member: a client writes persistent, sequential and ephemeral nodes, and a setData. Returns per-member errors. */
export async function writeThroughEveryMember(ens: ZkEnsemble, root: string): Promise<{ clients: ZooKeeperClient[]; errors: Map<number, string> }> {
  const clients: ZooKeeperClient[] = [];
  const errors = new Map<number, string>();
  for (const p of ens.peers) {
    try {
      const zk = await ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 10_000 });
      clients.push(zk);
      await zk.create(root, 'mixed').catch((e: unknown) => {
        if (!(e instanceof Error && /NodeExists/i.test(`${e.name} ${e.message}`))) throw e;
      });
      const base = `${root}/via-${p.sid}-${p.kind}`;
      await zk.create(base, `from ${p.sid}`);
      await zk.create(`${base}/seq-`, 's', { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      await zk.create(`${base}/eph`, 'e', { mode: CreateMode.EPHEMERAL });
      await zk.setData(base, `updated by ${p.sid}`);
    } catch (e) {
      errors.set(p.sid, String(e));
    }
  }
  return { clients, errors };
}

const show = (t: TreeNode[] | string): string =>
  typeof t === 'string' ? t : JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));

/**
 * Reads `root` through every member without sync until all agree (or the time is up); returns each
 * member's last view (a string when the read failed).
 */
export async function waitForSameTree(ens: ZkEnsemble, root: string, timeout_ms = 15_000): Promise<{ same: boolean; views: string[] }> {
  const clients = new Map<number, ZooKeeperClient>();
  const deadline = Date.now() + timeout_ms;
  let views: string[] = [];
  try {
    for (;;) {
      views = [];
      for (const p of ens.peers) {
        try {
          let zk = clients.get(p.sid);
          if (!zk) {
            zk = await ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 5000 });
            clients.set(p.sid, zk);
          }
          views.push(show(await readTree(zk, root, false)));
        } catch (e) {
          views.push(`read through ${p.sid} failed: ${String(e)}`);
        }
      }
      const same = views.every((v) => v === views[0]) && !views[0]!.startsWith('read through');
      if (same || Date.now() > deadline) return { same, views };
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    for (const zk of clients.values()) await zk.close().catch(() => undefined);
  }
}
