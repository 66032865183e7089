import type { Message, QuorumMessage } from './packets.js';
import type { Id } from '../proto/records.js';
import type { Action, LearnerState, PeerState } from './state.js';
import { answerNotification, becomeLooking } from './election.js';
import { becomeLeader } from './leader.js';
import { appendTxn, applyThrough, indexOf, lastLogged, truncateAfter } from './history.js';
import { adoptConfig, learnerRole, noteLogged } from './reconfig.js';
import { makeZxid, maxBig, minBig, type Epoch, type ServerId, type Zxid } from './types.js';

/** Follower and observer: register with the leader, sync, then follow the broadcast. */

export function becomeLearner(s: PeerState, leader: ServerId, out: Action[]): void {
  const l: LearnerState = {
    role: learnerRole(s),
    leader,
    phase: 'connecting',
    newEpoch: null,
    start_tick: s.tick,
    lastHeard_tick: s.tick,
    maxCommitSeen: 0n as Zxid,
    newLeaderConfig: null,
    newLeaderPending: null,
    newLeaderAcked: false,
    ackQueue: [],
    newEpochPending: null,
    serving: false,
    pingData: null,
    snapSync: null,
    reconnect_tick: null,
    connectAttempts: 1,
  };
  s.role = l;
  out.push({ type: 'role', role: l.role, leader });
  sendInfo(s, l, out);
}

/** Ticks between attempts to connect to a leader that refused us. */
const RECONNECT_TICKS = 2;
/**
 * Attempts to reach the chosen leader before looking again, as Learner.connectToLeader's five
 * tries: a peer that never leads (it follows another, or it is down) is given up at once rather
 * than after initLimit.
 */
const LEADER_CONNECT_TRIES = 5;

function send(out: Action[], to: ServerId, msg: Message): void {
  out.push({ type: 'send', to, msg });
}

/** Any error while following sends the peer back to LOOKING. */
function leave(s: PeerState, l: LearnerState, out: Action[]): void {
  const snap = l.snapSync;
  if (snap !== null) {
    // A SNAP sync cut short: nothing of it reached the tree or the disk; forget it.
    s.log = snap.oldLog;
    s.snapZxid = snap.oldSnapZxid;
    s.logFloor = snap.oldLogFloor;
    s.committedZxid = snap.oldCommitted;
    s.durableZxid = snap.oldDurable;
    s.commitsSinceSnapshot = snap.oldCommitsSinceSnapshot;
    l.snapSync = null;
  }
  out.push({ type: 'disconnect', peer: l.leader });
  if (l.serving) out.push({ type: 'serving', serving: false });
  becomeLooking(s, out);
}

function startServing(l: LearnerState, out: Action[]): void {
  if (l.serving) return;
  l.serving = true;
  out.push({ type: 'serving', serving: true });
}

/**
 * The order ZOOKEEPER-3911/4646/4685 settled: the synced txns are durable, then currentEpoch is
 * persisted, then NEWLEADER is ACKed; proposal ACKs only follow the NEWLEADER ACK.
 */
function tryAckNewLeader(s: PeerState, l: LearnerState, out: Action[]): void {
  if (l.newLeaderPending === null || l.newLeaderAcked) return;
  if (s.durableZxid < lastLogged(s) && !s.config.mutations.has('ackNewLeaderBeforeFsync')) return;
  const e = l.newEpoch!;
  if (s.currentEpoch !== e) {
    s.currentEpoch = e;
    out.push({ type: 'persistCurrentEpoch', epoch: e });
  }
  send(out, l.leader, { type: 'ACK', zxid: l.newLeaderPending });
  l.newLeaderAcked = true;
  l.phase = 'waitUptodate';
  flushAcks(s, l, out);
}

/**
 * NEWEPOCH (zxidRolloverWithoutElection): the next epoch is persisted as accepted at once, and as
 * current once everything logged before NEWEPOCH (all of the old epoch) is durable; then ACKed.
 * A quorum of these ACKs is what lets the leader number proposals in it (README: zxid rollover).
 */
function tryAckNewEpoch(s: PeerState, l: LearnerState, out: Action[]): void {
  const p = l.newEpochPending;
  const unpersisted = s.config.mutations.has('ackNewEpochUnpersisted');
  if (p === null || (s.durableZxid < p.through && !unpersisted)) return;
  l.newEpochPending = null;
  s.currentEpoch = p.epoch;
  if (!unpersisted) out.push({ type: 'persistCurrentEpoch', epoch: p.epoch });
  l.newEpoch = p.epoch;
  s.vote = { ...s.vote, peerEpoch: p.epoch };
  if (l.role === 'FOLLOWING') send(out, l.leader, { type: 'ACK', zxid: makeZxid(p.epoch, 0n) });
}

function flushAcks(s: PeerState, l: LearnerState, out: Action[]): void {
  if (!l.newLeaderAcked) return;
  const early = s.config.mutations.has('ackBeforeFsync');
  // Nothing after NEWEPOCH is acked before NEWEPOCH itself.
  const bound = l.newEpochPending?.through;
  while (l.ackQueue.length > 0 && (early || l.ackQueue[0]! <= s.durableZxid) && (bound === undefined || l.ackQueue[0]! <= bound)) {
    send(out, l.leader, { type: 'ACK', zxid: l.ackQueue.shift()! });
  }
}

export function learnerLogDurable(s: PeerState, l: LearnerState, out: Action[]): void {
  tryAckNewLeader(s, l, out);
  tryAckNewEpoch(s, l, out);
  flushAcks(s, l, out);
}

export function learnerMessage(s: PeerState, l: LearnerState, from: ServerId, msg: Message, out: Action[]): void {
  if (msg.type === 'NOTIFICATION') return answerNotification(s, from, msg, out);
  if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') return void out.push({ type: 'disconnect', peer: from });
  if (from !== l.leader) return;
  l.lastHeard_tick = s.tick;
  fromLeader(s, l, msg, out);
}

function fromLeader(s: PeerState, l: LearnerState, msg: QuorumMessage, out: Action[]): void {
  const m = s.config.mutations;
  switch (msg.type) {
    case 'LEADERINFO': {
      if (l.phase !== 'connecting') return leave(s, l, out);
      const e = msg.newEpoch;
      if (e > s.acceptedEpoch) {
        s.acceptedEpoch = e;
        out.push({ type: 'persistAcceptedEpoch', epoch: e });
      } else if (e < s.acceptedEpoch && !m.has('acceptStaleLeaderInfo')) {
        return leave(s, l, out); // we promised a later epoch to someone else
      }
      l.newEpoch = e;
      l.phase = 'syncing';
      send(out, l.leader, { type: 'ACKEPOCH', currentEpoch: s.currentEpoch, lastZxid: lastLogged(s) });
      return;
    }
    case 'DIFF':
      if (l.phase !== 'syncing') return leave(s, l, out);
      noteSyncPoint(s, l, msg.zxid);
      return;
    case 'TRUNC':
      if (l.phase !== 'syncing') return leave(s, l, out);
      truncateAfter(s, msg.zxid, out);
      noteSyncPoint(s, l, msg.zxid);
      return;
    case 'SNAP': {
      if (l.phase !== 'syncing') return leave(s, l, out);
      // Nothing touches the tree or the disk until NEWLEADER: a sync cut short must leave the
      // peer exactly as its disk says (ZOOKEEPER-3642), and at NEWLEADER we know which of our
      // old txns the leader's history keeps (dropping them earlier would lose durable copies).
      l.snapSync = {
        zxid: msg.zxid,
        data: msg.data,
        oldLog: s.log,
        oldSnapZxid: s.snapZxid,
        oldLogFloor: s.logFloor,
        oldCommitted: s.committedZxid,
        oldDurable: s.durableZxid,
        oldCommitsSinceSnapshot: s.commitsSinceSnapshot,
      };
      s.log = [];
      s.snapZxid = msg.zxid;
      s.logFloor = msg.zxid;
      s.committedZxid = msg.zxid;
      s.durableZxid = msg.zxid;
      s.commitsSinceSnapshot = 0;
      return;
    }
    case 'PROPOSAL':
    case 'INFORM': {
      if (l.phase === 'connecting') return leave(s, l, out);
      if (indexOf(s, msg.zxid) >= 0 || msg.zxid <= s.snapZxid) {
        // A redundant PROPOSAL (spec issue 2) is harmless: we hold it already.
        if (msg.type === 'INFORM') commitOrRemember(s, l, msg.zxid, out);
        return;
      }
      if (l.snapSync !== null) {
        s.log.push({ zxid: msg.zxid, data: msg.data }); // written at NEWLEADER
        noteLogged(s, s.log[s.log.length - 1]!);
      } else appendTxn(s, { zxid: msg.zxid, data: msg.data }, out);
      if (msg.type === 'INFORM') return commitOrRemember(s, l, msg.zxid, out, msg.designatedLeader);
      if (l.role === 'FOLLOWING') {
        l.ackQueue.push(msg.zxid);
        flushAcks(s, l, out);
      }
      return;
    }
    case 'COMMIT':
      if (l.phase === 'connecting') return leave(s, l, out);
      return commitOrRemember(s, l, msg.zxid, out, msg.designatedLeader);
    case 'NEWLEADER':
      if (l.phase !== 'syncing') return leave(s, l, out);
      // The leader's config: ours too once the leader is established (UPTODATE).
      if (msg.config !== undefined && msg.configZxid !== undefined && !m.has('ignoreNewLeaderConfig'))
        l.newLeaderConfig = { zxid: msg.configZxid, data: msg.config };
      l.newLeaderPending = msg.zxid;
      if (l.snapSync !== null) persistSnapSync(s, l, out);
      if (m.has('epochBeforeTxns') && s.currentEpoch !== l.newEpoch) {
        s.currentEpoch = l.newEpoch as Epoch;
        out.push({ type: 'persistCurrentEpoch', epoch: s.currentEpoch });
      }
      if (m.has('serveBeforeUptodate')) startServing(l, out);
      tryAckNewLeader(s, l, out);
      return;
    case 'UPTODATE':
      if (!l.newLeaderAcked) return leave(s, l, out);
      // Everything the leader committed before this point reached us as COMMIT/INFORM first, or
      // is at or below the sync's commit point that UPTODATE carries (tszk leaders only).
      if (msg.committedZxid !== undefined) l.maxCommitSeen = maxBig(l.maxCommitSeen, msg.committedZxid);
      const configBefore = s.quorumZxid;
      applyThrough(s, l.maxCommitSeen, out);
      // The leader is established: NEWLEADER's config is in force (already, unless a SNAP skipped its txn).
      if (l.newLeaderConfig !== null) adoptConfig(s, l.newLeaderConfig.zxid, l.newLeaderConfig.data, out);
      // A config that moves us (or our leader) out of this role: rejoin instead of serving.
      if (s.quorumZxid !== configBefore && movedOut(s, l)) return leave(s, l, out);
      // ZooKeeper's updateElectionVote: notifications now report the established epoch.
      s.vote = { ...s.vote, peerEpoch: l.newEpoch! };
      l.phase = 'broadcast';
      startServing(l, out);
      send(out, l.leader, { type: 'ACK', zxid: makeZxid(l.newEpoch!, 0n) });
      return;
    case 'NEWEPOCH': {
      // Only the next epoch of the leader we follow, only one we promised no one else, and only
      // with the option (a member without it rejoins; the leader then falls back to an election).
      const next = l.newEpoch === null ? null : l.newEpoch + 1n;
      if (l.phase !== 'broadcast' || s.config.zxidRolloverWithoutElection !== true || msg.epoch !== next || msg.epoch <= s.acceptedEpoch)
        return leave(s, l, out);
      l.newEpochPending = { epoch: msg.epoch, through: lastLogged(s) };
      s.acceptedEpoch = msg.epoch;
      if (!m.has('ackNewEpochUnpersisted')) out.push({ type: 'persistAcceptedEpoch', epoch: msg.epoch });
      tryAckNewEpoch(s, l, out);
      return;
    }
    case 'PING':
      // Not before UPTODATE, as ZooKeeper's Learner.syncWithLeader: a ZooKeeper leader drops a
      // learner whose first packet after NEWLEADER is anything but the NEWLEADER ACK, and ours
      // waits for the sync to be durable, so a PING reply would get there first.
      if (l.phase !== 'broadcast') return;
      // Never null: ZooKeeper's LearnerHandler reads the reply data unconditionally (NPE on null).
      send(out, l.leader, { type: 'PING', zxid: msg.zxid, data: l.pingData ?? Buffer.alloc(0) });
      l.pingData = null;
      return;
    case 'SYNC':
      out.push({ type: 'syncDone' });
      return;
    case 'REVALIDATE':
      out.push({ type: 'revalidate', from: l.leader, data: msg.data });
      return;
    default:
      return leave(s, l, out);
  }
}

/**
 * After a SNAP: write the snapshot and the txns that followed it, keeping the old log's durable
 * txns that the leader's history also holds (ZOOKEEPER-3642: the SNAP is on disk before the ACK).
 */
function persistSnapSync(s: PeerState, l: LearnerState, out: Action[]): void {
  const { oldLog, oldDurable, zxid, data } = l.snapSync!;
  l.snapSync = null;
  out.push({ type: 'loadSnapshot', zxid, data });
  if (s.config.mutations.has('snapNotPersisted')) {
    s.durableZxid = lastLogged(s); // believes it is safe; the disk still holds the old state
    return;
  }
  const inNew = new Set<bigint>(s.log.map((t) => t.zxid));
  let keep: Zxid = s.snapZxid;
  for (const t of oldLog) {
    if (t.zxid <= s.snapZxid || inNew.has(t.zxid)) keep = maxBig(keep, t.zxid);
    else break;
  }
  out.push({ type: 'truncate', zxid: keep });
  out.push({ type: 'takeSnapshot', zxid: s.snapZxid });
  const fresh = s.log.filter((t) => t.zxid > keep);
  if (fresh.length > 0) out.push({ type: 'append', txns: fresh });
  s.durableZxid = maxBig(s.snapZxid, minBig(oldDurable, keep));
}

/**
 * A leader DIFFs or TRUNCs us to a point of its history it has committed (ZooKeeper: its last
 * committed zxid, or our last zxid found in its committed log; tszk: at most its commit point),
 * and our log up to there is that history: committed, to be applied at UPTODATE. A ZooKeeper
 * leader says nothing else about it (its UPTODATE has no zxid, and it sends no COMMIT for txns
 * we already held), so a restarted follower whose DIFF is empty would otherwise serve its last
 * snapshot until the next write.
 */
function noteSyncPoint(s: PeerState, l: LearnerState, z: Zxid): void {
  l.maxCommitSeen = maxBig(l.maxCommitSeen, minBig(z, lastLogged(s)));
}

function commitOrRemember(s: PeerState, l: LearnerState, z: Zxid, out: Action[], designatedLeader?: ServerId): void {
  if (l.phase !== 'broadcast') {
    l.maxCommitSeen = maxBig(l.maxCommitSeen, z);
    return;
  }
  const before = s.quorumZxid;
  applyThrough(s, z, out);
  if (s.quorumZxid === before) return;
  if (designatedLeader !== undefined && designatedLeader !== l.leader && s.quorum.isVoter(designatedLeader)) return takeOver(s, l, designatedLeader, out);
  if (movedOut(s, l)) leave(s, l, out);
}

/**
 * The committed reconfig named a new leader (its old one left the voters): follow it, or lead if
 * it is us, without an election (ZooKeeper's updateVote + updateServerState). It acked the
 * reconfig, so it holds every txn the old leader committed; if it cannot gather a quorum, the
 * usual timeouts send everyone back to LOOKING.
 */
function takeOver(s: PeerState, l: LearnerState, leader: ServerId, out: Action[]): void {
  out.push({ type: 'disconnect', peer: l.leader });
  if (l.serving) out.push({ type: 'serving', serving: false });
  s.vote = { leader, zxid: lastLogged(s), electionEpoch: s.logicalclock, peerEpoch: s.currentEpoch };
  if (leader === s.config.sid) becomeLeader(s, out);
  else becomeLearner(s, leader, out);
}

/**
 * After a new config came into force: a learner whose leader is no voter of it, or whose own role
 * changed (participant <-> observer), goes back to LOOKING and joins it.
 */
function movedOut(s: PeerState, l: LearnerState): boolean {
  return !s.quorum.isVoter(l.leader) || learnerRole(s) !== l.role;
}

export function learnerTick(s: PeerState, l: LearnerState, out: Action[]): void {
  const c = s.config;
  if (l.phase !== 'broadcast' && s.tick - l.start_tick > c.initLimit_ticks) return leave(s, l, out);
  if (l.reconnect_tick !== null && s.tick >= l.reconnect_tick) {
    l.reconnect_tick = null;
    l.connectAttempts++;
    sendInfo(s, l, out);
  }
  if (l.phase === 'broadcast' && s.tick - l.lastHeard_tick > c.syncLimit_ticks) return leave(s, l, out);
}

export function learnerDisconnected(s: PeerState, l: LearnerState, peer: ServerId, out: Action[]): void {
  if (peer !== l.leader) return;
  // The leader may not be listening yet (still finishing its election): retry, as
  // Learner.connectToLeader does, a few times within initLimit.
  if (l.phase === 'connecting' && l.connectAttempts < LEADER_CONNECT_TRIES) l.reconnect_tick = s.tick + RECONNECT_TICKS;
  else leave(s, l, out);
}

function sendInfo(s: PeerState, l: LearnerState, out: Action[]): void {
  const info = { acceptedEpoch: s.acceptedEpoch, sid: s.config.sid };
  send(out, l.leader, l.role === 'FOLLOWING' ? { type: 'FOLLOWERINFO', ...info } : { type: 'OBSERVERINFO', ...info });
}

export function learnerRequest(s: PeerState, l: LearnerState, data: Buffer, sync: boolean, authinfo: Id[] | undefined, out: Action[]): void {
  if (!l.serving || l.phase !== 'broadcast') return void out.push({ type: 'requestDropped', sync, data, reason: 'not serving' });
  send(out, l.leader, authinfo === undefined ? { type: 'REQUEST', sync, data } : { type: 'REQUEST', sync, data, authinfo });
}
