/**
 * The interop scenarios against a 3-member tszk ensemble (issue 5, "connecting to any member").
 * The scenarios' first client goes through a TCP proxy; here that proxy starts on one member
 * and, when the scenario cuts the connection, points new connections at another member first,
 * so the client re-establishes its session (id, password, watches) on a different server.
 */
import { startEnsemble, type Ensemble, type EnsembleMember } from './ensemble.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

export interface InteropEnsemble {
  ens: Ensemble;
  leader: EnsembleMember;
  /** The two followers, by id. */
  followers: [EnsembleMember, EnsembleMember];
  stop(): Promise<void>;
}

/** tickTime 200 ms as startEnsemble's default; extendedTypesEnabled so the TTL step runs too. */
export async function startInteropEnsemble(): Promise<InteropEnsemble> {
  const ens = await startEnsemble(3, { cfg: { extendedTypesEnabled: 'true' }, env: { TSZK_LOG_LEVEL: process.env['TSZK_LOG_LEVEL'] ?? 'info' } });
  try {
    const leader = await ens.waitForLeader();
    const roles = await ens.roles();
    const followers = ens.members.filter((m) => roles.get(m.id) === 'follower');
    if (followers.length !== 2) throw new Error(`expected 2 followers, roles: ${[...roles].map(([id, r]) => `${id}:${r}`).join(' ')} (logs in ${ens.dir})`);
    return { ens, leader, followers: [followers[0]!, followers[1]!], stop: () => ens.stop() };
  } catch (e) {
    await ens.stop();
    throw e;
  }
}

/**
 * A proxy to `from`'s client port whose dropAll() first moves new connections to `to`, then
 * cuts the live ones: the client's reconnect lands on the other member.
 */
export async function startHopProxy(from: EnsembleMember, to: EnsembleMember): Promise<TcpProxy> {
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
export function connectStringOf(members: EnsembleMember[]): string {
  return members.map((m) => m.connectString).join(',');
}
