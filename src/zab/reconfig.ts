import type { Action, PeerState } from './state.js';
import { makeZxid, type Epoch, type ServerId, type Txn, type Zxid } from './types.js';

/**
 * Dynamic reconfiguration, as ZooKeeper 3.5+ does it: a reconfig is a txn like any other, whose
 * payload the runtime's `config.reconfigOf` reads as the next config. From its proposal on it is
 * the last-seen config; while it is in flight every proposal needs the acks of a quorum of both
 * the config in force and the last-seen one (and so does a new leader's discovery and sync of a
 * history holding it); at its commit it is in force.
 */

/**
 * How this peer learns: FOLLOWING when it votes in the config in force, OBSERVING when it observes
 * there. A peer the config does not name at all keeps the role its own starting config gave it
 * (ZooKeeper's updateLearnerType leaves the learner type alone): a server started as a participant
 * follows without a vote until a reconfig adds it, or after one removed it.
 */
export function learnerRole(s: PeerState): 'FOLLOWING' | 'OBSERVING' {
  const me = s.config.sid;
  if (s.quorum.isVoter(me)) return 'FOLLOWING';
  if (s.quorum.observers.includes(me)) return 'OBSERVING';
  return s.config.quorum.isVoter(me) ? 'FOLLOWING' : 'OBSERVING';
}

/** Whether a proposed reconfig has not committed yet (a leader answers ReconfigInProgress). */
export function reconfigInProgress(s: PeerState): boolean {
  return s.lastSeenZxid > s.quorumZxid;
}

/**
 * Whether a leader may propose a reconfig now: not while another is in flight (ZooKeeper's prep
 * answers ReconfigInProgress; the core drops one that gets past it).
 */
export function mayProposeReconfig(s: PeerState): boolean {
  return !reconfigInProgress(s) || s.config.mutations.has('concurrentReconfig');
}

/** `sids` hold a quorum of the config in force and, while a reconfig is in flight, of the last-seen one too. */
export function quorumOfBoth(s: PeerState, sids: Iterable<ServerId>): boolean {
  const set = [...sids];
  return s.quorum.containsQuorum(set) && (!reconfigInProgress(s) || s.lastSeenQuorum.containsQuorum(set));
}

/** A txn entered our history (proposed, or received from the leader): a reconfig is now the last seen. */
export function noteLogged(s: PeerState, txn: Txn, out?: Action[]): void {
  const q = s.config.reconfigOf?.(txn.data);
  if (q === undefined || q === null || txn.zxid <= s.lastSeenZxid) return;
  s.lastSeenQuorum = q;
  s.lastSeenZxid = txn.zxid;
  if (out !== undefined && s.config.mutations.has('activateAtProposal')) adoptConfig(s, txn.zxid, txn.data, out);
}

/** After the log changed under us (TRUNC, SNAP, recovery): the newest reconfig still in it past the one in force. */
export function recomputeLastSeen(s: PeerState): void {
  s.lastSeenQuorum = s.quorum;
  s.lastSeenZxid = s.quorumZxid;
  if (s.config.reconfigOf === undefined) return;
  for (let i = s.log.length - 1; i >= 0 && s.log[i]!.zxid > s.quorumZxid; i--) {
    const q = s.config.reconfigOf(s.log[i]!.data);
    if (q !== null) {
      s.lastSeenQuorum = q;
      s.lastSeenZxid = s.log[i]!.zxid;
      return;
    }
  }
}

/** A txn committed: a reconfig puts its config in force. */
export function activateIfReconfig(s: PeerState, txn: Txn, out: Action[]): void {
  adoptConfig(s, txn.zxid, txn.data, out);
}

/**
 * The config that reconfig txn `zxid` made is in force: committed here, or known committed from the
 * leader's NEWLEADER or a peer's notification (ZooKeeper's processReconfig). Ignored unless newer
 * than ours. True when it changed.
 */
export function adoptConfig(s: PeerState, zxid: Zxid, data: Buffer, out: Action[]): boolean {
  if (zxid <= s.quorumZxid) return false;
  const q = s.config.reconfigOf?.(data);
  if (q === undefined || q === null) return false;
  s.quorum = q;
  s.quorumZxid = zxid;
  s.quorumData = data;
  if (s.lastSeenZxid <= zxid) {
    s.lastSeenQuorum = q;
    s.lastSeenZxid = zxid;
  }
  out.push({ type: 'persistConfig', zxid, data });
  return true;
}

/** Our config in force, for NEWLEADER and notifications (none while it is the static one). */
export function configInForce(s: PeerState): { zxid: Zxid; data: Buffer } | undefined {
  return s.quorumData === null ? undefined : { zxid: s.quorumZxid, data: s.quorumData };
}

/**
 * The config a new leader of epoch `e` sends in NEWLEADER: the one in force, or — while that is
 * still the static one and no reconfig is in our history — the static one numbered with the
 * epoch's first zxid (ZOOKEEPER-1783), which every member adopts as the sync completes.
 */
export function configForNewLeader(s: PeerState, e: Epoch): { zxid: Zxid; data: Buffer } | undefined {
  const c = configInForce(s);
  if (c !== undefined || s.lastSeenZxid > 0n || s.config.initialConfig === undefined) return c;
  const zxid = makeZxid(e, 0n);
  return { zxid, data: s.config.initialConfig(zxid) };
}
