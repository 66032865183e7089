import type { QuorumMessage } from './packets.js';
import type { Action, HeldRequest, LeaderState, LearnerHandler, PeerState, Proposal } from './state.js';
import { answerNotification, becomeLooking } from './election.js';
import { appendTxn, applyThrough, firstAfter, indexOf, lastLogged } from './history.js';
import { minorityQuorum, type QuorumVerifier } from './quorum.js';
import { adoptConfig, configForNewLeader, configInForce, mayProposeReconfig, quorumOfBoth, reconfigInProgress } from './reconfig.js';
import { assert, counterOf, epochOf, makeZxid, maxBig, type Epoch, type ServerId, type Zxid } from './types.js';
import type { Message } from './packets.js';

/** The leader: discovery (epoch), synchronization of each learner, then broadcast. */

export function becomeLeader(s: PeerState, out: Action[]): void {
  const me = s.config.sid;
  const last = lastLogged(s);
  const l: LeaderState = {
    role: 'LEADING',
    phase: 'discovery',
    start_tick: s.tick,
    newEpoch: null,
    connecting: new Map([[me, s.acceptedEpoch]]),
    epochAcks: new Set([me]),
    newLeaderAcks: new Set(),
    summaryEpoch: s.currentEpoch,
    summaryZxid: last,
    initialHistoryZxid: last,
    established: false,
    handlers: new Map(),
    proposals: [],
    lastProposed: last,
    syncWaiters: [],
    lastPing_tick: s.tick,
    epochBump: null,
    heldRequests: [],
    draining: false,
    reheld: 0,
  };
  s.role = l;
  out.push({ type: 'role', role: 'LEADING', leader: me });
  maybeDecideEpoch(s, l, out);
}

function send(out: Action[], to: ServerId, msg: Message): void {
  out.push({ type: 'send', to, msg });
}

function stepDown(s: PeerState, l: LeaderState, out: Action[]): void {
  for (const h of l.handlers.values()) out.push({ type: 'disconnect', peer: h.sid });
  l.handlers.clear();
  if (l.established) out.push({ type: 'serving', serving: false });
  becomeLooking(s, out);
}

function dropHandler(l: LeaderState, h: LearnerHandler, out: Action[]): void {
  l.handlers.delete(h.sid);
  out.push({ type: 'disconnect', peer: h.sid });
}

/** getEpochToPropose: once a quorum of FOLLOWERINFOs is in, propose max(acceptedEpoch) + 1. */
function maybeDecideEpoch(s: PeerState, l: LeaderState, out: Action[]): void {
  if (l.phase !== 'discovery' || !quorumOfBoth(s, l.connecting.keys())) return;
  let max = s.acceptedEpoch;
  for (const e of l.connecting.values()) max = maxBig(max, e);
  const e = (s.config.mutations.has('reuseEpoch') ? max : max + 1n) as Epoch;
  l.newEpoch = e;
  s.acceptedEpoch = e;
  out.push({ type: 'persistAcceptedEpoch', epoch: e });
  l.phase = 'epochAck';
  for (const h of l.handlers.values()) send(out, h.sid, { type: 'LEADERINFO', newEpoch: e });
  maybeEpochAckQuorum(s, l, out);
}

function maybeEpochAckQuorum(s: PeerState, l: LeaderState, out: Action[]): void {
  if (l.phase !== 'epochAck' || !quorumOfBoth(s, l.epochAcks)) return;
  const e = l.newEpoch!;
  l.phase = 'newLeader';
  s.currentEpoch = e;
  out.push({ type: 'persistCurrentEpoch', epoch: e });
  for (const h of l.handlers.values()) if (h.stage === 'epochAcked') startSync(s, l, h, out);
  maybeSelfNewLeaderAck(s, l, out);
}

function maybeSelfNewLeaderAck(s: PeerState, l: LeaderState, out: Action[]): void {
  if (l.phase !== 'newLeader' || s.durableZxid < l.initialHistoryZxid) return;
  l.newLeaderAcks.add(s.config.sid);
  maybeEstablish(s, l, out);
}

function maybeEstablish(s: PeerState, l: LeaderState, out: Action[]): void {
  if (l.established || l.phase !== 'newLeader' || !quorumOfBoth(s, l.newLeaderAcks)) return;
  l.established = true;
  l.phase = 'broadcast';
  // ZooKeeper's updateElectionVote (ZOOKEEPER-1732): notifications now report the established
  // epoch; a peer rejoining a ZooKeeper ensemble compares out-of-election votes by leader and epoch.
  s.vote = { ...s.vote, peerEpoch: l.newEpoch! };
  // A quorum holds the initial history durably: it is committed.
  applyThrough(s, l.initialHistoryZxid, out);
  // The static config, numbered as NEWLEADER said (ZOOKEEPER-1783), is ours too now.
  const numbered = configInForce(s) === undefined ? configForNewLeader(s, l.newEpoch!) : undefined;
  if (numbered !== undefined) adoptConfig(s, numbered.zxid, numbered.data, out);
  out.push({ type: 'established', epoch: l.newEpoch! });
  out.push({ type: 'serving', serving: true });
  for (const h of l.handlers.values()) if (h.stage === 'newLeaderAcked') sendUptodate(s, l, h, out);
  // A reconfig in the initial history removed us from the voters: it is committed now (the learners
  // have their UPTODATE), and we step down as at any reconfig's commit (ZooKeeper's leader is no
  // longer allowed to commit); the new config elects.
  if (!s.quorum.isVoter(s.config.sid) && !s.config.mutations.has('removedLeaderLeads')) stepDown(s, l, out);
}

function sendUptodate(s: PeerState, l: LeaderState, h: LearnerHandler, out: Action[]): void {
  send(out, h.sid, h.syncCommitZxid > 0n ? { type: 'UPTODATE', committedZxid: h.syncCommitZxid } : { type: 'UPTODATE' });
  h.stage = 'uptodate';
  h.lastHeard_tick = s.tick;
  // Synced in the old epoch while a bump is under way: it is asked as the others were.
  if (l.epochBump !== null) send(out, h.sid, { type: 'NEWEPOCH', epoch: l.epochBump.epoch });
}

/** zxidRolloverWithoutElection: the counter of the leader's epoch is spent (README: zxid rollover). */
function counterSpent(s: PeerState, l: LeaderState): boolean {
  return (
    s.config.zxidRolloverWithoutElection === true &&
    l.established &&
    epochOf(l.lastProposed) === l.newEpoch &&
    counterOf(l.lastProposed) >= s.config.zxidCounter_max
  );
}

/** True while a leader holds proposals back until its next epoch: the runtime keeps its writes until `established` comes. */
export function awaitingNextEpoch(s: PeerState): boolean {
  return s.role.role === 'LEADING' && counterSpent(s, s.role);
}

/** Requests wait while the counter is spent, and behind those already waiting. */
function holding(s: PeerState, l: LeaderState): boolean {
  return l.heldRequests.length > 0 || counterSpent(s, l);
}

function holdRequest(s: PeerState, l: LeaderState, r: HeldRequest, out: Action[], at = l.heldRequests.length): void {
  if (l.heldRequests.length >= s.config.outstandingProposals_max) {
    // Bounded like proposals: a learner's client sees its request time out.
    if (r.type === 'write') out.push({ type: 'requestDropped', sync: false, data: r.data, reason: 'too many requests waiting for the next epoch' });
    return;
  }
  l.heldRequests.splice(at, 0, r);
}

/**
 * Hands held requests back in order: writes as `forwardedRequest` (the runtime proposes them
 * before its next event), no more than the counter has room for; a sync only at a later event
 * (`atBump` false), once the writes before it are proposed, so that its SYNC follows their
 * COMMITs. At the bump the runtime proposes the writes it kept itself first.
 */
function drainHeld(s: PeerState, l: LeaderState, out: Action[], atBump: boolean): void {
  l.draining = false;
  l.reheld = 0;
  let emitted = atBump;
  let room = s.config.zxidCounter_max - (epochOf(l.lastProposed) === l.newEpoch ? counterOf(l.lastProposed) : 0n);
  while (l.heldRequests.length > 0 && !counterSpent(s, l)) {
    const r = l.heldRequests[0]!;
    if (r.type === 'sync') {
      if (emitted) return void (l.draining = true);
      l.heldRequests.shift();
      if (l.handlers.get(r.of.sid) === r.of) handleSync(s, l, r.of, out);
      continue;
    }
    if (room <= 0n) return; // the rest goes on at the next bump
    room--;
    emitted = true;
    l.heldRequests.shift();
    out.push(
      r.authinfo === undefined
        ? { type: 'forwardedRequest', from: r.from, data: r.data }
        : { type: 'forwardedRequest', from: r.from, data: r.data, authinfo: r.authinfo },
    );
  }
}

/** Before any event but a `propose`: the held requests go on being handed back. */
export function leaderBeforeEvent(s: PeerState, l: LeaderState, out: Action[]): void {
  if (l.draining) drainHeld(s, l, out, false);
}

/**
 * The in-place epoch bump starts once the counter is spent and everything of this epoch is
 * committed, so every txn of it sits below the bump point: a member that takes the next epoch as
 * its current one holds all of them (the rule FLE's peerEpoch-first vote order relies on).
 */
function maybeStartEpochBump(s: PeerState, l: LeaderState, out: Action[]): void {
  if (l.epochBump !== null || l.proposals.length > 0 || !counterSpent(s, l)) return;
  const e = (l.newEpoch! + 1n) as Epoch;
  assert(s.acceptedEpoch < e, `leader of epoch ${l.newEpoch} has accepted epoch ${s.acceptedEpoch}`);
  s.acceptedEpoch = e;
  out.push({ type: 'persistAcceptedEpoch', epoch: e });
  l.epochBump = { epoch: e, zxid: l.lastProposed, acks: new Set(), start_tick: s.tick };
  for (const h of l.handlers.values()) if (h.stage === 'uptodate') send(out, h.sid, { type: 'NEWEPOCH', epoch: e });
  maybeCommitEpochBump(s, l, out);
}

/**
 * A quorum (us included, our log durable through the bump point) persisted the next epoch as
 * accepted and current: no election can pick it any more, and it is ours to number proposals in.
 */
function maybeCommitEpochBump(s: PeerState, l: LeaderState, out: Action[]): void {
  const b = l.epochBump;
  if (b === null) return;
  const acks = new Set(b.acks);
  if (s.durableZxid >= b.zxid) acks.add(s.config.sid);
  if (!quorumOfBoth(s, acks)) return;
  l.epochBump = null;
  l.newEpoch = b.epoch;
  s.currentEpoch = b.epoch;
  out.push({ type: 'persistCurrentEpoch', epoch: b.epoch });
  s.vote = { ...s.vote, peerEpoch: b.epoch };
  // Learners still syncing were told the old epoch (LEADERINFO, NEWLEADER): they join the new one.
  for (const h of [...l.handlers.values()]) if (h.stage !== 'uptodate') dropHandler(l, h, out);
  out.push({ type: 'established', epoch: b.epoch });
  drainHeld(s, l, out, true);
}

/**
 * LearnerHandler.syncFollower: DIFF when the learner's last zxid is in our history, TRUNC back to
 * the last common zxid when it has a suffix we lack, SNAP when it is older than our log. Then the
 * committed txns it lacks (PROPOSAL + COMMIT), NEWLEADER, and only then the proposals still in
 * flight. The learner joins the forwarding set in the same step, so no proposal can fall between
 * sync and broadcast.
 *
 * Why in-flight proposals follow NEWLEADER (ZooKeeper's leader queues them before it): their
 * COMMITs come later, possibly before UPTODATE, and a ZooKeeper 3.8.0 learner handles a COMMIT
 * there by peeking at the proposals it got since NEWLEADER — none, so it NPEs (Learner.java:655)
 * and drops the connection; after UPTODATE it commits only txns it got in this sync, so a COMMIT
 * of a proposal it already held is skipped ("without seeing txn") and its tree falls behind. So
 * the history synced before NEWLEADER ends at our commit point, and a learner that already holds
 * some of our in-flight proposals is truncated back to it, as ZooKeeper's leader does with a
 * learner past its committed log; it gets them again after NEWLEADER and acks them anew.
 */
function startSync(s: PeerState, l: LeaderState, h: LearnerHandler, out: Action[]): void {
  const peerLast = h.peerLastZxid;
  const commitLimit = maxBig(s.committedZxid, l.initialHistoryZxid);
  const last = lastLogged(s);
  const upTo = last < commitLimit ? last : commitLimit;
  const noTrunc = s.config.mutations.has('neverTrunc');
  let from: Zxid;
  if (peerLast === upTo) {
    send(out, h.sid, { type: 'DIFF', zxid: upTo });
    from = upTo;
  } else if (peerLast > upTo) {
    send(out, h.sid, noTrunc ? { type: 'DIFF', zxid: upTo } : { type: 'TRUNC', zxid: upTo });
    from = upTo;
  } else if (peerLast >= s.logFloor) {
    if (peerLast === s.logFloor || indexOf(s, peerLast) >= 0) {
      send(out, h.sid, { type: 'DIFF', zxid: peerLast });
      from = peerLast;
    } else {
      const i = firstAfter(s, peerLast);
      const prev = i > 0 ? s.log[i - 1]!.zxid : s.logFloor;
      send(out, h.sid, noTrunc ? { type: 'DIFF', zxid: prev } : { type: 'TRUNC', zxid: prev });
      from = prev;
    }
  } else {
    out.push({ type: 'sendSnapshot', to: h.sid, zxid: s.committedZxid });
    from = s.committedZxid;
  }
  const inFlight: { zxid: Zxid; data: Buffer }[] = [];
  for (let i = firstAfter(s, from); i < s.log.length; i++) {
    const t = s.log[i]!;
    if (t.zxid > upTo) inFlight.push(t);
    else if (h.participant) {
      send(out, h.sid, { type: 'PROPOSAL', zxid: t.zxid, data: t.data });
      send(out, h.sid, { type: 'COMMIT', zxid: t.zxid });
    } else send(out, h.sid, { type: 'INFORM', zxid: t.zxid, data: t.data });
  }
  // Spec issue 3: the learner must learn how far our history is committed, which also covers
  // txns it already held before the sync point (its own log is not applied until a leader says
  // so). A bare COMMIT here has no PROPOSAL before it in this sync, and a ZooKeeper learner
  // fails on that (NPE at Learner.java:655), so the zxid rides in UPTODATE, whose zxid ZooKeeper
  // learners ignore (ZooKeeper's leader sends -1).
  h.syncCommitZxid = commitLimit;
  if (!s.config.mutations.has('forwardAfterNewLeaderAck')) h.forwarding = true;
  const c = configForNewLeader(s, l.newEpoch!);
  send(
    out,
    h.sid,
    c === undefined
      ? { type: 'NEWLEADER', zxid: makeZxid(l.newEpoch!, 0n) }
      : { type: 'NEWLEADER', zxid: makeZxid(l.newEpoch!, 0n), config: c.data, configZxid: c.zxid },
  );
  h.stage = 'newLeaderSent';
  h.syncedThrough = upTo;
  // Acks it gave before this sync may be for txns the TRUNC above drops: it acks them again.
  for (const p of l.proposals) if (p.zxid > upTo) p.acks.delete(h.sid);
  if (h.participant) for (const t of inFlight) send(out, h.sid, { type: 'PROPOSAL', zxid: t.zxid, data: t.data });
}

function isMoreRecent(e1: Epoch, z1: Zxid, e2: Epoch, z2: Zxid): boolean {
  return e1 > e2 || (e1 === e2 && z1 > z2);
}

/** The configs whose quorums a proposal made now needs: the one in force, and the last-seen one while a reconfig is in flight. */
function proposalQuorums(s: PeerState): QuorumVerifier[] {
  const joint = reconfigInProgress(s) && !s.config.mutations.has('reconfigOldQuorumOnly');
  return joint ? [s.quorum, s.lastSeenQuorum] : [s.quorum];
}

/** A quorum of every config the proposal needs (both while a reconfig is in flight). */
function commitQuorum(s: PeerState, p: Proposal, acks: Set<ServerId>): boolean {
  if (s.config.mutations.has('commitOnMinority')) return p.quorums.every((q) => minorityQuorum(q.voters, q.observers).containsQuorum(acks));
  return p.quorums.every((q) => q.containsQuorum(acks));
}

/**
 * COMMIT strictly in zxid order: the head proposal first, each once a quorum (us included) holds
 * it. A learner with a sync still waiting for its ping quorum gets no COMMIT of anything proposed
 * after that sync arrived until its SYNC is sent: ZooKeeper's leader sends the SYNC right after
 * the COMMIT it waited for, and a ZooKeeper follower pairs each SYNC or COMMIT with its oldest
 * pending local request; a later write's COMMIT first is taken for another member's write, and
 * that write then waits forever with every later request of this member behind it. Only that
 * learner waits: commits go on for everyone else.
 */
function tryCommit(s: PeerState, l: LeaderState, out: Action[]): void {
  while (l.proposals.length > 0) {
    const p = l.proposals[0]!;
    const acks = new Set(p.acks);
    if (s.durableZxid >= p.zxid) acks.add(s.config.sid);
    if (!commitQuorum(s, p, acks)) return;
    l.proposals.shift();
    const configBefore = s.quorumZxid;
    applyThrough(s, p.zxid, out);
    // A reconfig's commit names the new config's leader (ZooKeeper's COMMITANDACTIVATE/INFORMANDACTIVATE).
    const designatedLeader = s.quorumZxid !== configBefore ? designate(s, l, p) : undefined;
    const activate = designatedLeader === undefined ? {} : { designatedLeader };
    for (const h of l.handlers.values()) {
      if (!h.forwarding) continue;
      const m: LearnerHandler['held'][number] = h.participant
        ? { type: 'COMMIT', zxid: p.zxid, ...activate }
        : { type: 'INFORM', zxid: p.zxid, data: p.data, ...activate };
      const hold = h.syncsAfter[0];
      if (hold !== undefined && p.zxid > hold) h.held.push(m);
      else send(out, h.sid, m);
    }
    // A leader that a committed reconfig removed from the voters steps down; the new config elects.
    if (s.quorumZxid !== configBefore && !s.quorum.isVoter(s.config.sid) && !s.config.mutations.has('removedLeaderLeads')) return stepDown(s, l, out);
    // The proposals after it waited for the old config's quorum too, in case the reconfig did not
    // commit; now it has, only the new one elects, and the old voters that became observers will
    // not ack them (core sim seed 2791 --ops 800 --reconfig stalled on such a proposal for good).
    if (s.quorumZxid !== configBefore && !s.config.mutations.has('oldQuorumAfterReconfig')) for (const later of l.proposals) later.quorums = proposalQuorums(s);
    releaseSyncs(s, l, out);
  }
  maybeStartEpochBump(s, l, out);
}

/**
 * The leader of the config reconfig `p` just put in force (ZooKeeper's getDesignatedLeader): we
 * stay if we vote in it; otherwise the first of its voters that acked `p`, kept to those that also
 * acked the most of the proposals after it (the most up to date, so the fewest are dropped).
 */
function designate(s: PeerState, l: LeaderState, p: Proposal): ServerId {
  if (s.quorum.isVoter(s.config.sid)) return s.config.sid;
  let candidates = [...p.acks].filter((sid) => s.quorum.isVoter(sid)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  assert(candidates.length > 0, `reconfig ${p.zxid} committed without acks of the new config's voters`);
  for (const later of l.proposals) {
    const acked = candidates.filter((sid) => later.acks.has(sid));
    if (acked.length === 0) break;
    candidates = acked;
    if (candidates.length === 1) break;
  }
  return candidates[0]!;
}

function releaseSyncs(s: PeerState, l: LeaderState, out: Action[]): void {
  while (l.syncWaiters.length > 0) {
    const w = l.syncWaiters[0]!;
    if (w.after > s.committedZxid) return;
    const confirmed: ServerId[] = [s.config.sid];
    for (const h of l.handlers.values()) {
      if (h.participant && h.stage === 'uptodate' && h.pingReplies >= (w.pingsNeeded.get(h) ?? 1)) confirmed.push(h.sid);
    }
    if (!quorumOfBoth(s, confirmed) && !s.config.mutations.has('syncWithoutQuorum')) return;
    l.syncWaiters.shift();
    if (w.to === 'local') out.push({ type: 'syncDone' });
    else if (l.handlers.get(w.to.sid) === w.to) answerSync(w.to, out);
  }
}

/** Sends a learner its oldest sync's SYNC, then the COMMITs held behind it up to its next sync. */
function answerSync(h: LearnerHandler, out: Action[]): void {
  h.syncsAfter.shift();
  send(out, h.sid, { type: 'SYNC' });
  const hold = h.syncsAfter[0];
  let i = 0;
  while (i < h.held.length && (hold === undefined || h.held[i]!.zxid <= hold)) send(out, h.sid, h.held[i++]!);
  h.held.splice(0, i);
}

function ping(l: LeaderState, h: LearnerHandler, out: Action[]): void {
  // Learners (ZooKeeper's, and ours) ignore PINGs until UPTODATE: only later ones are counted,
  // or every sync waiting on this learner would wait one more ping round per unanswered one.
  // They are still sent: a ZooKeeper learner waiting for UPTODATE times out after syncLimit.
  if (h.stage === 'uptodate') h.pingsSent++;
  send(out, h.sid, { type: 'PING', zxid: l.lastProposed, data: null });
}

function handleSync(s: PeerState, l: LeaderState, to: LearnerHandler | 'local', out: Action[]): void {
  if (l.syncWaiters.length >= s.config.outstandingProposals_max) {
    // Bounded like proposals; a learner's client sees its sync time out, a local one is told now.
    if (to === 'local') out.push({ type: 'requestDropped', sync: true, data: Buffer.alloc(0), reason: 'too many pending syncs' });
    return;
  }
  const pingsNeeded = new Map<LearnerHandler, number>();
  for (const h of l.handlers.values()) {
    if (!h.participant || h.stage !== 'uptodate') continue;
    ping(l, h, out);
    pingsNeeded.set(h, h.pingsSent);
  }
  l.syncWaiters.push({ after: l.lastProposed, to, pingsNeeded });
  if (to !== 'local') to.syncsAfter.push(l.lastProposed);
  releaseSyncs(s, l, out);
}

/** Where the leader's next proposal would go: its zxid, or why a propose now is refused. */
type ProposalSlot = { zxid: Zxid } | { refused: string; rollover: boolean };

/** The one place proposals are numbered: next counter in the new epoch, within the bounds. */
function proposalSlot(s: PeerState, l: LeaderState): ProposalSlot {
  if (!l.established) return { refused: 'leader not established', rollover: false };
  if (l.proposals.length >= s.config.outstandingProposals_max) return { refused: 'too many outstanding proposals', rollover: false };
  const e = l.newEpoch!;
  const counter = epochOf(l.lastProposed) === e ? counterOf(l.lastProposed) + 1n : 1n;
  // The zxid counter would roll over: a new epoch is needed, by an election (ZooKeeper) or in place.
  if (counter > s.config.zxidCounter_max)
    return s.config.zxidRolloverWithoutElection === true
      ? { refused: 'waiting for the next epoch', rollover: false }
      : { refused: 'zxid counter rollover', rollover: true };
  return { zxid: makeZxid(e, counter) };
}

/**
 * The zxid a `propose` stepped now must carry, or null when the core would refuse it. The runtime
 * prepares the txn with this zxid and steps `propose` before anything else, so the txn's own
 * header and the core agree by construction.
 */
export function nextProposalZxid(s: PeerState): Zxid | null {
  const l = s.role;
  if (l.role !== 'LEADING') return null;
  const slot = proposalSlot(s, l);
  return 'zxid' in slot ? slot.zxid : null;
}

export function leaderPropose(s: PeerState, l: LeaderState, zxid: Zxid | null, data: Buffer, out: Action[]): void {
  const slot = proposalSlot(s, l);
  if ('refused' in slot) {
    assert(zxid === null, `propose numbered ${zxid} by the runtime, but the leader refuses it (${slot.refused})`);
    // Prepared before the counter was spent and stepped after (the simulators number a request
    // when it is delivered): it waits for the next epoch as a request would. The real runtime
    // keeps such writes itself (awaitingNextEpoch) and never steps them.
    if (counterSpent(s, l)) return holdRequest(s, l, { type: 'write', from: s.config.sid, data }, out, l.reheld++);
    out.push({ type: 'requestDropped', sync: false, data, reason: slot.refused });
    if (slot.rollover) stepDown(s, l, out); // forces an election, hence a new epoch
    return;
  }
  const z = slot.zxid;
  assert(zxid === z, `propose numbered ${zxid} by the runtime, but ${z} is next`);
  // One reconfig at a time (the runtime's prep answers ReconfigInProgress first): a second one in
  // flight would commit under the last-seen config without the quorum of the one between.
  if (!mayProposeReconfig(s) && (s.config.reconfigOf?.(data) ?? null) !== null) {
    out.push({ type: 'requestDropped', sync: false, data, reason: 'a reconfig is in progress' });
    return;
  }
  l.lastProposed = z;
  appendTxn(s, { zxid: z, data }, out);
  l.proposals.push({ zxid: z, data, acks: new Set(), quorums: proposalQuorums(s) });
  for (const h of l.handlers.values()) if (h.forwarding && h.participant) send(out, h.sid, { type: 'PROPOSAL', zxid: z, data });
  tryCommit(s, l, out);
}

export function leaderRequest(s: PeerState, l: LeaderState, data: Buffer, out: Action[]): void {
  if (!l.established) return void out.push({ type: 'requestDropped', sync: false, data, reason: 'leader not established' });
  if (holding(s, l)) return holdRequest(s, l, { type: 'write', from: s.config.sid, data }, out);
  out.push({ type: 'forwardedRequest', from: s.config.sid, data });
}

export function leaderLocalSync(s: PeerState, l: LeaderState, out: Action[]): void {
  if (!l.established) return void out.push({ type: 'requestDropped', sync: true, data: Buffer.alloc(0), reason: 'leader not established' });
  handleSync(s, l, 'local', out);
}

export function leaderLogDurable(s: PeerState, l: LeaderState, out: Action[]): void {
  maybeSelfNewLeaderAck(s, l, out);
  if (l.established) tryCommit(s, l, out);
  maybeCommitEpochBump(s, l, out);
}

export function leaderDisconnected(l: LeaderState, peer: ServerId): void {
  l.handlers.delete(peer);
}

export function leaderMessage(s: PeerState, l: LeaderState, from: ServerId, msg: Message, out: Action[]): void {
  if (msg.type === 'NOTIFICATION') return answerNotification(s, from, msg, out);
  if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') return learnerInfo(s, l, from, msg, out);
  const h = l.handlers.get(from);
  if (h === undefined) return; // stale traffic from a connection we dropped
  h.lastHeard_tick = s.tick;
  handlerMessage(s, l, h, msg, out);
}

function learnerInfo(
  s: PeerState,
  l: LeaderState,
  from: ServerId,
  msg: Extract<QuorumMessage, { type: 'FOLLOWERINFO' | 'OBSERVERINFO' }>,
  out: Action[],
): void {
  const participant = msg.type === 'FOLLOWERINFO';
  const h: LearnerHandler = {
    sid: from,
    participant,
    stage: 'info',
    forwarding: false,
    peerLastZxid: 0n as Zxid,
    syncedThrough: 0n as Zxid,
    syncCommitZxid: 0n as Zxid,
    start_tick: s.tick,
    lastHeard_tick: s.tick,
    pingsSent: 0,
    pingReplies: 0,
    syncsAfter: [],
    held: [],
  };
  l.handlers.set(from, h); // a new connection replaces the old handler
  if (l.phase === 'discovery') {
    l.connecting.set(from, msg.acceptedEpoch);
    maybeDecideEpoch(s, l, out);
  } else {
    send(out, from, { type: 'LEADERINFO', newEpoch: l.newEpoch! });
  }
}

function handlerMessage(s: PeerState, l: LeaderState, h: LearnerHandler, msg: QuorumMessage, out: Action[]): void {
  switch (msg.type) {
    case 'ACKEPOCH': {
      if (h.stage !== 'info' || l.newEpoch === null) return dropHandler(l, h, out);
      if (l.phase === 'epochAck') {
        // Before the epoch is settled, a learner more recent than us means we must not lead.
        if (!s.config.mutations.has('skipAckEpochCheck') && isMoreRecent(msg.currentEpoch, msg.lastZxid, l.summaryEpoch, l.summaryZxid))
          return dropHandler(l, h, out);
        h.peerLastZxid = msg.lastZxid;
        h.stage = 'epochAcked';
        if (h.participant) l.epochAcks.add(h.sid);
        maybeEpochAckQuorum(s, l, out);
      } else {
        h.peerLastZxid = msg.lastZxid;
        h.stage = 'epochAcked';
        startSync(s, l, h, out);
      }
      return;
    }
    case 'ACK': {
      if (h.stage === 'newLeaderSent') {
        if (msg.zxid !== makeZxid(l.newEpoch!, 0n)) return dropHandler(l, h, out);
        h.stage = 'newLeaderAcked';
        h.forwarding = true;
        if (h.participant) {
          l.newLeaderAcks.add(h.sid);
          // It durably holds our history up to the sync point, including proposals still in
          // flight that it already had (a DIFF does not resend those, so no other ACK comes).
          for (const p of l.proposals) if (p.zxid <= h.syncedThrough) p.acks.add(h.sid);
        }
        if (l.established) {
          sendUptodate(s, l, h, out);
          tryCommit(s, l, out);
        } else maybeEstablish(s, l, out);
        return;
      }
      if (h.stage !== 'newLeaderAcked' && h.stage !== 'uptodate') return dropHandler(l, h, out);
      if (l.epochBump !== null && h.participant && msg.zxid === makeZxid(l.epochBump.epoch, 0n)) {
        l.epochBump.acks.add(h.sid);
        return maybeCommitEpochBump(s, l, out);
      }
      if (counterOf(msg.zxid) === 0n || !h.participant) return; // the UPTODATE ack (or a NEWEPOCH ack after the bump)
      const p = l.proposals.find((x) => x.zxid === msg.zxid);
      if (p === undefined) return; // already committed
      p.acks.add(h.sid);
      tryCommit(s, l, out);
      return;
    }
    case 'REQUEST':
      if (!l.established) return;
      if (holding(s, l)) {
        const r: HeldRequest = msg.sync
          ? { type: 'sync', of: h }
          : msg.authinfo === undefined
            ? { type: 'write', from: h.sid, data: msg.data }
            : { type: 'write', from: h.sid, data: msg.data, authinfo: msg.authinfo };
        holdRequest(s, l, r, out);
      } else if (msg.sync) handleSync(s, l, h, out);
      else
        out.push(
          msg.authinfo === undefined
            ? { type: 'forwardedRequest', from: h.sid, data: msg.data }
            : { type: 'forwardedRequest', from: h.sid, data: msg.data, authinfo: msg.authinfo },
        );
      return;
    case 'REVALIDATE':
      out.push({ type: 'revalidate', from: h.sid, data: msg.data });
      return;
    case 'PING':
      h.pingReplies++;
      if (msg.data !== null && msg.data.length > 0) out.push({ type: 'sessionActivity', from: h.sid, data: msg.data });
      releaseSyncs(s, l, out);
      return;
    default:
      return dropHandler(l, h, out); // nothing else is valid from a learner
  }
}

export function leaderTick(s: PeerState, l: LeaderState, out: Action[]): void {
  const c = s.config;
  if (!l.established && s.tick - l.start_tick > c.initLimit_ticks) return stepDown(s, l, out);
  // No quorum took the next epoch in time (a ZooKeeper member ignores NEWEPOCH): elect, as ZooKeeper does.
  if (l.epochBump !== null && s.tick - l.epochBump.start_tick > c.syncLimit_ticks) return stepDown(s, l, out);
  for (const h of [...l.handlers.values()]) {
    const late = h.stage === 'uptodate' ? s.tick - h.lastHeard_tick > c.syncLimit_ticks : s.tick - h.start_tick > c.initLimit_ticks;
    if (late) dropHandler(l, h, out);
  }
  if (l.established) {
    const synced: ServerId[] = [c.sid];
    for (const h of l.handlers.values()) if (h.participant && h.stage === 'uptodate') synced.push(h.sid);
    if (!quorumOfBoth(s, synced)) return stepDown(s, l, out);
  }
  if (s.tick - l.lastPing_tick >= c.ping_ticks) {
    l.lastPing_tick = s.tick;
    // Only once its sync has been sent: a ZooKeeper learner reads exactly LEADERINFO and then
    // DIFF/TRUNC/SNAP, and exits on anything else ("Got unexpected packet from leader: PING", code
    // 13) — also while the leader has yet to read its ACKEPOCH. ZooKeeper's LearnerHandler.ping
    // skips a learner whose sync has not started either.
    const pingBeforeSync = s.config.mutations.has('pingBeforeSync');
    for (const h of l.handlers.values()) if (pingBeforeSync || (h.stage !== 'info' && h.stage !== 'epochAcked')) ping(l, h, out);
  }
}
