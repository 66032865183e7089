import type { Notification, PeerStateName } from './packets.js';
import type { Action, LookingState, PeerState, ReceivedVote, Vote } from './state.js';
import { lastLogged } from './history.js';
import { becomeLeader, leaderMessage } from './leader.js';
import { becomeLearner } from './learner.js';
import { adoptConfig, configInForce } from './reconfig.js';
import { assert, type ServerId } from './types.js';

/** Fast Leader Election (FastLeaderElection.lookForLeader), one notification at a time. */

/** ZooKeeper votes Long.MIN_VALUE for leader and zxid when the peer is not a participant. */
export const NO_VOTE = -(2n ** 63n);

/**
 * The total order on votes: higher peer epoch, then higher zxid, then higher server id
 * (FastLeaderElection.totalOrderPredicate with equal weights).
 */
export function voteBetter(n: Pick<Vote, 'leader' | 'zxid' | 'peerEpoch'>, cur: Pick<Vote, 'leader' | 'zxid' | 'peerEpoch'>): boolean {
  if (n.peerEpoch !== cur.peerEpoch) return n.peerEpoch > cur.peerEpoch;
  if (n.zxid !== cur.zxid) return n.zxid > cur.zxid;
  return n.leader > cur.leader;
}

function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
}

function sameRecordedVote(r: ReceivedVote | undefined, v: Vote): boolean {
  return r !== undefined && r.state === 'LOOKING' && sameVote(r, v);
}

function better(s: PeerState, n: Vote, cur: Vote): boolean {
  if (s.config.mutations.has('voteIgnoresZxid')) return n.peerEpoch !== cur.peerEpoch ? n.peerEpoch > cur.peerEpoch : n.leader > cur.leader;
  return voteBetter(n, cur);
}

function initVote(s: PeerState): Vote {
  const voter = s.quorum.isVoter(s.config.sid);
  return {
    leader: (voter ? s.config.sid : NO_VOTE) as ServerId,
    zxid: voter ? lastLogged(s) : (NO_VOTE as typeof s.vote.zxid),
    electionEpoch: s.logicalclock,
    peerEpoch: s.currentEpoch,
  };
}

function stateName(s: PeerState): PeerStateName {
  return s.role.role;
}

function notification(s: PeerState, v: Vote, state: PeerStateName): Notification {
  const n: Notification = { type: 'NOTIFICATION', state, leader: v.leader, zxid: v.zxid, electionEpoch: v.electionEpoch, peerEpoch: v.peerEpoch };
  const c = configInForce(s);
  return c === undefined ? n : { ...n, config: c };
}

function sendNotifications(s: PeerState, l: LookingState, out: Action[]): void {
  const v = { ...l.proposal, electionEpoch: s.logicalclock };
  // The voters of the config in force and of one in flight (ZooKeeper's getCurrentAndNextConfigVoters):
  // a leader whose history holds the reconfig needs the joiners' votes too.
  for (const to of new Set([...s.quorum.voters, ...s.lastSeenQuorum.voters])) {
    if (to === s.config.sid) continue;
    out.push({ type: 'send', to, msg: notification(s, v, 'LOOKING') });
  }
  if (s.quorum.isVoter(s.config.sid)) l.recvset.set(s.config.sid, { ...v, state: 'LOOKING' });
}

/** Enter LOOKING: a new election round, voting for ourselves. */
export function becomeLooking(s: PeerState, out: Action[]): void {
  s.logicalclock += 1n;
  const proposal = initVote(s);
  const l: LookingState = {
    role: 'LOOKING',
    proposal,
    recvset: new Map(),
    outofelection: new Map(),
    notificationInterval_ticks: s.config.finalizeWait_ticks,
    lastNotification_tick: s.tick,
    finalizeDeadline_tick: null,
    // A new round while looking keeps the learners waiting on this peer.
    heldInfos: s.role.role === 'LOOKING' ? s.role.heldInfos : new Map(),
  };
  s.role = l;
  s.vote = proposal;
  out.push({ type: 'role', role: 'LOOKING', leader: null });
  sendNotifications(s, l, out);
  checkLookingQuorum(s, l);
}

function agreeing(votes: Map<ServerId, ReceivedVote>, v: Vote, same: (a: Vote, b: Vote) => boolean = sameVote): ServerId[] {
  const out: ServerId[] = [];
  for (const [sid, r] of votes) if (same(r, v)) out.push(sid);
  return out;
}

/**
 * Votes of peers already FOLLOWING or LEADING agree when they name the same leader in the same
 * epoch (ZooKeeper's Vote.equals for two non-LOOKING votes): their zxids and election rounds
 * differ with when each joined, and a late peer must still see the quorum behind the leader.
 */
function sameEstablishedVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

function checkLeader(s: PeerState, votes: Map<ServerId, ReceivedVote>, leader: ServerId, electionEpoch: bigint): boolean {
  if (leader !== s.config.sid) return votes.get(leader)?.state === 'LEADING';
  return s.logicalclock === electionEpoch;
}

function checkLookingQuorum(s: PeerState, l: LookingState): void {
  const v = { ...l.proposal, electionEpoch: s.logicalclock };
  const ok = s.quorum.containsQuorum(agreeing(l.recvset, v));
  if (!ok) l.finalizeDeadline_tick = null;
  else if (l.finalizeDeadline_tick === null) l.finalizeDeadline_tick = s.tick + s.config.finalizeWait_ticks;
}

function decide(s: PeerState, l: LookingState, v: Vote, out: Action[]): void {
  s.vote = { ...v };
  if (v.leader === s.config.sid) {
    becomeLeader(s, out);
    const r = s.role;
    assert(r.role === 'LEADING', 'becomeLeader must leave the peer leading');
    for (const [from, msg] of l.heldInfos) leaderMessage(s, r, from, msg, out);
    return;
  }
  // Refused before following: the learner connection to the leader opens after this.
  for (const from of l.heldInfos.keys()) out.push({ type: 'disconnect', peer: from });
  becomeLearner(s, v.leader, out);
}

/** A LOOKING peer handles one notification. */
export function lookingNotification(s: PeerState, l: LookingState, from: ServerId, n: Notification, out: Action[]): void {
  // A newer config from a peer (ZooKeeper's WorkerReceiver): in force here too, and the election starts over in it.
  if (n.config !== undefined && adoptConfig(s, n.config.zxid, n.config.data, out)) return becomeLooking(s, out);
  const q = s.quorum;
  if (!q.isVoter(from)) {
    // Observers and strangers are told our current vote; they never count, and (as in
    // FastLeaderElection's receiver thread) they do not reset our resend timer.
    out.push({ type: 'send', to: from, msg: notification(s, { ...l.proposal, electionEpoch: s.logicalclock }, 'LOOKING') });
    return;
  }
  l.lastNotification_tick = s.tick;
  if (n.state === 'LOOKING') {
    const nv: Vote = { leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch };
    if (n.electionEpoch > s.logicalclock) {
      s.logicalclock = n.electionEpoch;
      l.recvset.clear();
      const mine = initVote(s);
      l.proposal = q.isVoter(nv.leader) && better(s, nv, mine) ? { ...nv } : mine;
      l.finalizeDeadline_tick = null;
      sendNotifications(s, l, out);
    } else if (n.electionEpoch < s.logicalclock) {
      out.push({ type: 'send', to: from, msg: notification(s, { ...l.proposal, electionEpoch: s.logicalclock }, 'LOOKING') });
      return;
    } else if (q.isVoter(nv.leader) && better(s, nv, l.proposal)) {
      l.proposal = { ...nv };
      l.finalizeDeadline_tick = null;
      sendNotifications(s, l, out);
    } else if (!sameVote(nv, { ...l.proposal, electionEpoch: s.logicalclock }) && !sameRecordedVote(l.recvset.get(from), nv)) {
      // A worse vote in our round: the sender has not heard ours (it would have taken it), e.g. it
      // was still following when we started looking and only answered. Tell it now, not at our
      // next resend (finalizeWait later): that wait is what made some fail-overs twice as long.
      // ZooKeeper does not answer here; an extra notification is one more vote it takes as any
      // other. Once per changed vote of the sender, so two peers that rank votes differently (a
      // config in flux) do not answer each other forever.
      out.push({ type: 'send', to: from, msg: notification(s, { ...l.proposal, electionEpoch: s.logicalclock }, 'LOOKING') });
    }
    l.recvset.set(from, { ...nv, state: 'LOOKING' });
    s.vote = { ...l.proposal, electionEpoch: s.logicalclock };
    checkLookingQuorum(s, l);
    return;
  }
  if (n.state === 'OBSERVING') return;
  // FOLLOWING or LEADING: an election already finished; maybe join it.
  if (!q.isVoter(n.leader)) return;
  const rv: ReceivedVote = { leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state };
  if (n.electionEpoch === s.logicalclock) {
    l.recvset.set(from, rv);
    if (q.containsQuorum(agreeing(l.recvset, rv)) && checkLeader(s, l.recvset, rv.leader, rv.electionEpoch)) {
      decide(s, l, rv, out);
      return;
    }
  }
  l.outofelection.set(from, rv);
  if (q.containsQuorum(agreeing(l.outofelection, rv, sameEstablishedVote)) && checkLeader(s, l.outofelection, rv.leader, rv.electionEpoch)) {
    s.logicalclock = rv.electionEpoch;
    decide(s, l, rv, out);
  }
}

export function lookingTick(s: PeerState, l: LookingState, out: Action[]): void {
  if (l.finalizeDeadline_tick !== null && s.tick >= l.finalizeDeadline_tick) {
    // No better vote arrived within finalizeWait: the quorum's choice stands.
    decide(s, l, { ...l.proposal, electionEpoch: s.logicalclock }, out);
    return;
  }
  if (s.tick - l.lastNotification_tick >= l.notificationInterval_ticks && !s.config.mutations.has('noNotificationResend')) {
    sendNotifications(s, l, out);
    l.notificationInterval_ticks = Math.min(l.notificationInterval_ticks * 2, s.config.notificationInterval_ticks_max);
    l.lastNotification_tick = s.tick;
  }
}

/** A peer that is not LOOKING answers LOOKING peers with the vote it settled on. */
export function answerNotification(s: PeerState, from: ServerId, n: Notification, out: Action[]): void {
  if (n.state !== 'LOOKING') return;
  out.push({ type: 'send', to: from, msg: notification(s, s.vote, stateName(s)) });
}
