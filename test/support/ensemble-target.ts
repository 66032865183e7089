/**
 * The interop scenarios against a 3-member tszk ensemble (issue 5, "connecting to any member").
 * The scenarios' first client goes through a TCP proxy; here that proxy starts on one member
 * and, when the scenario cuts the connection, points new connections at another member first,
 * so the client re-establishes its session (id, password, watches) on a different server.
 */
import { startEnsemble } from './ensemble.js';
import type { FaultCluster } from './fault-cluster.js';
import { waitServing, type TargetKind } from './target.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { startZkEnsemble } from './zk-ensemble.js';

/** What the scenarios need of a member. */
export interface InteropMember {
  id: number;
  /** Which server runs it (differs between members of a mixed ensemble). */
  kind?: TargetKind;
  clientPort: number;
  connectString: string;
  logFile: string;
}

export interface InteropEnsemble {
  kind: TargetKind;
  members: InteropMember[];
  leader: InteropMember;
  /** The two followers, by id. */
  followers: [InteropMember, InteropMember];
  stop(): Promise<void>;
}

/**
 * A 3-member ensemble of `kind`: tszk (test/support/ensemble.ts, tickTime 200 ms) or, to validate
 * the suites, Apache ZooKeeper 3.8 (test/support/zk-ensemble.ts). extendedTypesEnabled on both,
 * so the TTL step runs too.
 */
export async function startInteropEnsemble(kind: TargetKind): Promise<InteropEnsemble> {
  if (kind === 'zookeeper') {
    const zk = await startZkEnsemble({
      peers: [{ kind: 'zookeeper' }, { kind: 'zookeeper' }, { kind: 'zookeeper' }],
      sysProps: { 'zookeeper.extendedTypesEnabled': 'true' },
    });
    try {
      const leader = await zk.waitForQuorum();
      const modes = await Promise.all(zk.peers.map(async (p) => [p, await p.mode()] as const));
      // ZooKeeper answers 4lw before its request pipeline runs: wait until every member takes sessions.
      await Promise.all(zk.peers.map((p) => waitServing(p.clientPort)));
      const members = zk.peers.map((p) => ({ id: p.sid, clientPort: p.clientPort, connectString: p.connectString, logFile: p.logFile }));
      const followers = modes.filter(([, m]) => m === 'follower').map(([p]) => members.find((m) => m.id === p.sid)!);
      if (followers.length !== 2) throw new Error(`expected 2 followers, modes: ${modes.map(([p, m]) => `${p.sid}:${m}`).join(' ')} (logs in ${zk.dir})`);
      return { kind, members, leader: members.find((m) => m.id === leader.sid)!, followers: [followers[0]!, followers[1]!], stop: () => zk.stop() };
    } catch (e) {
      await zk.stop();
      throw e;
    }
  }
  const ens = await startEnsemble(3, { cfg: { extendedTypesEnabled: 'true' } });
  try {
    const leader = await ens.waitForLeader();
    const roles = await ens.roles();
    const followers = ens.members.filter((m) => roles.get(m.id) === 'follower');
    if (followers.length !== 2) throw new Error(`expected 2 followers, roles: ${[...roles].map(([id, r]) => `${id}:${r}`).join(' ')} (logs in ${ens.dir})`);
    return { kind, members: ens.members, leader, followers: [followers[0]!, followers[1]!], stop: () => ens.stop() };
  } catch (e) {
    await ens.stop();
    throw e;
  }
}

/**
 * The interop view of a running fault cluster (mixed or not, test/support/fault-cluster.ts): its
 * leader and followers once every member takes sessions. stop() stops nothing: the caller owns
 * the cluster. Start it with cfg extendedTypesEnabled=true for the TTL steps (ZooKeeper takes the
 * unknown zoo.cfg key as the zookeeper.extendedTypesEnabled property).
 */
export async function interopEnsembleOf(cluster: FaultCluster, timeout_ms = 60_000): Promise<InteropEnsemble> {
  const leader = await cluster.waitForLeader({ timeout_ms });
  await Promise.all(cluster.peers.map((p) => waitServing(p.clientPort)));
  const members: InteropMember[] = cluster.peers.map((p) => ({
    id: p.sid,
    kind: p.kind,
    clientPort: p.clientPort,
    connectString: p.connectString,
    logFile: p.logFile,
  }));
  const followers = members.filter((m) => m.id !== leader.sid);
  if (followers.length !== 2) throw new Error(`expected 3 members, got ${members.length} (logs in ${cluster.dir})`);
  return {
    kind: cluster.kind,
    members,
    leader: members.find((m) => m.id === leader.sid)!,
    followers: [followers[0]!, followers[1]!],
    stop: async () => undefined,
  };
}

/**
 * A proxy to `from`'s client port whose dropAll() first moves new connections to `to`, then
 * cuts the live ones: the client's reconnect lands on the other member.
 */
export async function startHopProxy(from: InteropMember, to: InteropMember): Promise<TcpProxy> {
  const p = await startTcpProxy(from.clientPort);
  return {
    ...p,
    dropAll() {
      p.retarget(to.clientPort);
      p.dropAll();
    },
  };
}

/** The members' connect string, in the given order. */
export function connectStringOf(members: InteropMember[]): string {
  return members.map((m) => m.connectString).join(',');
}
