import type { Action, Event, PeerConfig, PeerState, Persisted, StepResult } from './state.js';
import { becomeLooking, lookingNotification, lookingTick } from './election.js';
import { lastLogged } from './history.js';
import { adoptConfig, recomputeLastSeen } from './reconfig.js';
import { leaderBeforeEvent, leaderDisconnected, leaderLocalSync, leaderLogDurable, leaderMessage, leaderPropose, leaderRequest, leaderTick } from './leader.js';
import { learnerDisconnected, learnerLogDurable, learnerMessage, learnerRequest, learnerTick } from './learner.js';
import { assert, maxBig, minBig, type Zxid } from './types.js';

/**
 * A peer's protocol core: `step(state, event) -> { state, actions }`. No I/O, no clock, no
 * randomness: the same events give the same actions. The runtime owns the state object (step
 * updates it in place and returns it) and executes the actions in order.
 */

/** Start (or restart) a peer from what it persisted. The runtime has loaded the tree from the snapshot. */
export function recover(config: PeerConfig, p: Persisted): StepResult {
  for (let i = 1; i < p.log.length; i++) assert(p.log[i - 1]!.zxid < p.log[i]!.zxid, 'persisted log out of order');
  assert(p.log.length === 0 || p.log[0]!.zxid > p.snapZxid, 'persisted log starts before the snapshot');
  const s: PeerState = {
    config,
    tick: 0,
    acceptedEpoch: p.acceptedEpoch,
    currentEpoch: p.currentEpoch,
    snapZxid: p.snapZxid,
    log: [...p.log],
    logFloor: p.snapZxid,
    durableZxid: p.log.length > 0 ? p.log[p.log.length - 1]!.zxid : p.snapZxid,
    committedZxid: p.snapZxid,
    commitsSinceSnapshot: 0,
    logicalclock: 0n,
    quorum: config.quorum,
    quorumZxid: 0n as Zxid,
    quorumData: null,
    lastSeenQuorum: config.quorum,
    lastSeenZxid: 0n as Zxid,
    vote: { leader: config.sid, zxid: p.snapZxid, electionEpoch: 0n, peerEpoch: p.currentEpoch },
    role: { role: 'LOOKING', heldInfos: new Map() } as unknown as PeerState['role'],
  };
  // A reconfig in the log is the last seen config until it commits (the runtime's `config.quorum`
  // is the config in force when it restarts).
  if (p.config !== undefined) adoptConfig(s, p.config.zxid, p.config.data, []);
  recomputeLastSeen(s);
  const actions: Action[] = [];
  becomeLooking(s, actions);
  return { state: s, actions };
}

export function step(s: PeerState, e: Event): StepResult {
  const out: Action[] = [];
  const r = s.role;
  // The runtime proposes the writes a step hands back before its next event: held requests behind them go on now.
  if (r.role === 'LEADING' && e.type !== 'propose') leaderBeforeEvent(s, r, out);
  switch (e.type) {
    case 'tick':
      s.tick++;
      if (r.role === 'LOOKING') lookingTick(s, r, out);
      else if (r.role === 'LEADING') leaderTick(s, r, out);
      else learnerTick(s, r, out);
      break;
    case 'message':
      if (r.role === 'LOOKING') {
        if (e.msg.type === 'NOTIFICATION') lookingNotification(s, r, e.from, e.msg, out);
        // Not leading yet: held until the election ends here (then answered, or refused and retried).
        else if (e.msg.type === 'FOLLOWERINFO' || e.msg.type === 'OBSERVERINFO') r.heldInfos.set(e.from, e.msg);
      } else if (r.role === 'LEADING') leaderMessage(s, r, e.from, e.msg, out);
      else learnerMessage(s, r, e.from, e.msg, out);
      break;
    case 'disconnected':
      if (r.role === 'LOOKING') r.heldInfos.delete(e.peer);
      else if (r.role === 'LEADING') leaderDisconnected(r, e.peer);
      else learnerDisconnected(s, r, e.peer, out);
      break;
    case 'logDurable':
      s.durableZxid = minBig<Zxid>(maxBig<Zxid>(s.durableZxid, e.zxid), lastLogged(s));
      if (r.role === 'LEADING') leaderLogDurable(s, r, out);
      else if (r.role !== 'LOOKING') learnerLogDurable(s, r, out);
      break;
    case 'propose':
      if (r.role === 'LEADING') leaderPropose(s, r, e.zxid, e.data, out);
      else {
        assert(e.zxid === null, `propose numbered ${e.zxid} by the runtime while ${r.role}`);
        out.push({ type: 'requestDropped', sync: false, data: e.data, reason: 'not leading' });
      }
      break;
    case 'request':
    case 'sync': {
      const data = e.type === 'request' ? e.data : (e.data ?? Buffer.alloc(0));
      if (r.role === 'LEADING') {
        if (e.type === 'request') leaderRequest(s, r, data, out);
        else leaderLocalSync(s, r, out);
      } else if (r.role === 'LOOKING') out.push({ type: 'requestDropped', sync: e.type === 'sync', data, reason: 'looking' });
      else learnerRequest(s, r, data, e.type === 'sync', e.authinfo, out);
      break;
    }
    case 'sessionActivity':
      if (r.role === 'FOLLOWING' || r.role === 'OBSERVING') r.pingData = e.data;
      break;
    case 'revalidate':
      if (r.role === 'LEADING' && e.to !== undefined && r.handlers.has(e.to)) out.push({ type: 'send', to: e.to, msg: { type: 'REVALIDATE', data: e.data } });
      else if ((r.role === 'FOLLOWING' || r.role === 'OBSERVING') && r.phase === 'broadcast')
        out.push({ type: 'send', to: r.leader, msg: { type: 'REVALIDATE', data: e.data } });
      break;
  }
  return { state: s, actions: out };
}

/** True when this peer may serve client reads (leader established, learner after UPTODATE). */
export function isServing(s: PeerState): boolean {
  const r = s.role;
  if (r.role === 'LEADING') return r.established;
  if (r.role === 'LOOKING') return false;
  return r.serving;
}

export { lastLogged };
