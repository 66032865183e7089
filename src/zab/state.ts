import type { Message, PeerStateName, QuorumMessage } from './packets.js';
import type { QuorumVerifier } from './quorum.js';
import type { Epoch, ServerId, Txn, Zxid } from './types.js';
import type { Id } from '../proto/records.js';

/**
 * Deliberately broken variants of the core, for showing that the simulator's checkers can fail.
 * Never set outside tests.
 */
export type Mutation =
  /** Leader commits when one ack short of a majority. */
  | 'commitOnMinority'
  /** Learner ACKs a proposal as soon as it is appended, before it is durable. */
  | 'ackBeforeFsync'
  /** Learner ACKs NEWLEADER without waiting for the synced txns to be durable (ZOOKEEPER-3911/3023). */
  | 'ackNewLeaderBeforeFsync'
  /** Learner persists currentEpoch on NEWLEADER before the synced txns are durable (ZOOKEEPER-4646). */
  | 'epochBeforeTxns'
  /** Leader never sends TRUNC; a divergent learner keeps its suffix (DIFF instead). */
  | 'neverTrunc'
  /** Leader accepts an ACKEPOCH from a learner more recent than itself (skips the check). */
  | 'skipAckEpochCheck'
  /** Learner accepts a LEADERINFO whose epoch is below its acceptedEpoch. */
  | 'acceptStaleLeaderInfo'
  /** Learner starts serving at NEWLEADER instead of UPTODATE. */
  | 'serveBeforeUptodate'
  /** Learner applies a SNAP in memory but does not persist it (ZOOKEEPER-3642). */
  | 'snapNotPersisted'
  /** Leader adds a learner to the forwarding set only after its NEWLEADER ack (spec issue 1). */
  | 'forwardAfterNewLeaderAck'
  /** FLE never resends notifications on timeout. */
  | 'noNotificationResend'
  /** Leader proposes max(acceptedEpoch) instead of max + 1. */
  | 'reuseEpoch'
  /** Leader answers sync without a quorum confirming it still leads (Apache ZooKeeper does this). */
  | 'syncWithoutQuorum'
  /** FLE orders votes by epoch and server id only, ignoring the zxid. */
  | 'voteIgnoresZxid'
  /** Leader PINGs a learner before its sync packet (a ZooKeeper learner exits on that PING). */
  | 'pingBeforeSync'
  /** Leader commits an in-flight reconfig (and what follows it) on a quorum of the old config alone. */
  | 'reconfigOldQuorumOnly'
  /** Learner ignores the config NEWLEADER carries (keeps its own until a reconfig commits through it). */
  | 'ignoreNewLeaderConfig'
  /** A reconfig's config is in force from its proposal (as soon as it is logged), not from its commit. */
  | 'activateAtProposal'
  /** Leader proposes a reconfig while another is in flight (no ReconfigInProgress). */
  | 'concurrentReconfig'
  /** Proposals made while a reconfig was in flight keep needing the old config's quorum after it commits. */
  | 'oldQuorumAfterReconfig'
  /** A leader that a committed reconfig removed from the voters goes on leading. */
  | 'removedLeaderLeads'
  /** zxidRolloverWithoutElection: a learner acks NEWEPOCH at once and keeps the new epoch in memory only. */
  | 'ackNewEpochUnpersisted';

/** Limits, all in ticks of the runtime's clock (the runtime chooses the tick length). */
export interface PeerConfig {
  readonly sid: ServerId;
  readonly quorum: QuorumVerifier;
  /** Learner must connect and sync within this many ticks; leader must gather its quorum within it. */
  readonly initLimit_ticks: number;
  /** A synced learner or leader that hears nothing from the other side for this long gives up. */
  readonly syncLimit_ticks: number;
  /** FLE: wait this long after a quorum agrees before deciding (finalizeWait). */
  readonly finalizeWait_ticks: number;
  /** FLE notification resend interval: starts at finalizeWait, doubles up to this. */
  readonly notificationInterval_ticks_max: number;
  /** Leader pings learners this often. */
  readonly ping_ticks: number;
  /** Take a snapshot after this many commits. */
  readonly snapCount: number;
  /**
   * Committed txns kept in memory past a snapshot (ZooKeeper's commitLogCount, default 500), so a
   * learner a little behind still gets DIFF rather than SNAP.
   */
  readonly commitLogCount: number;
  /** Largest zxid counter a leader may assign; the next request forces a new epoch (ZooKeeper: 0xfffffffe, PROPOSAL_COUNTER_MAX). */
  readonly zxidCounter_max: bigint;
  /**
   * tszk only, off by default (ZooKeeper elects when the counter is spent): the leader moves the
   * ensemble to the next epoch in place, without an election (NEWEPOCH, README: zxid rollover).
   * Every member must have it; without a quorum's ack within syncLimit the leader steps down.
   */
  readonly zxidRolloverWithoutElection?: boolean;
  /** Bound on outstanding proposals (and on pending syncs) at the leader; further requests are dropped. */
  readonly outstandingProposals_max: number;
  readonly mutations: ReadonlySet<Mutation>;
  /**
   * Dynamic reconfiguration: the quorum verifier a txn payload puts in force when it commits (a
   * reconfig txn), null for any other txn. Pure (the runtime decodes its own payloads). Without it
   * the ensemble is the static `quorum` for good.
   */
  readonly reconfigOf?: (data: Buffer) => QuorumVerifier | null;
  /**
   * The static config (`quorum`) as `reconfigOf` data numbered `version`. With it, a leader that
   * establishes itself on the static config numbers it with its epoch's first zxid (ZooKeeper's
   * ZOOKEEPER-1783), so that it takes precedence over the partial view a joining server starts with.
   */
  readonly initialConfig?: (version: Zxid) => Buffer;
}

export interface Vote {
  leader: ServerId;
  zxid: Zxid;
  electionEpoch: bigint;
  peerEpoch: Epoch;
}
export interface ReceivedVote extends Vote {
  state: PeerStateName;
}

export interface LookingState {
  role: 'LOOKING';
  proposal: Vote;
  recvset: Map<ServerId, ReceivedVote>;
  outofelection: Map<ServerId, ReceivedVote>;
  notificationInterval_ticks: number;
  lastNotification_tick: number;
  finalizeDeadline_tick: number | null;
  /**
   * FOLLOWERINFO/OBSERVERINFO from learners that decided before this peer did: answered as soon as
   * it leads (no refusal and retry round, which cost a learner up to two ticks), refused if it follows.
   */
  heldInfos: Map<ServerId, Extract<QuorumMessage, { type: 'FOLLOWERINFO' | 'OBSERVERINFO' }>>;
}

export type LearnerPhase = 'connecting' | 'syncing' | 'waitUptodate' | 'broadcast';
export interface LearnerState {
  role: 'FOLLOWING' | 'OBSERVING';
  leader: ServerId;
  phase: LearnerPhase;
  newEpoch: Epoch | null;
  start_tick: number;
  lastHeard_tick: number;
  /** Highest COMMIT/INFORM zxid received before UPTODATE; applied at UPTODATE. */
  maxCommitSeen: Zxid;
  /**
   * The leader's config NEWLEADER carried: in force here at UPTODATE, once the leader is established
   * (ZooKeeper's Learner.syncWithLeader keeps it as last-seen until then: a ZooKeeper leader sends
   * its last-seen config, which commits only with its initial history).
   */
  newLeaderConfig: { zxid: Zxid; data: Buffer } | null;
  /** NEWLEADER zxid received whose ACK waits for the synced txns to become durable. */
  newLeaderPending: Zxid | null;
  newLeaderAcked: boolean;
  /** Proposals to ACK once durable (and after the NEWLEADER ack). */
  ackQueue: Zxid[];
  /** NEWEPOCH received: its ACK waits until everything logged before it (`through`) is durable. */
  newEpochPending: { epoch: Epoch; through: Zxid } | null;
  serving: boolean;
  /** Session activity to report in the next PING reply. */
  pingData: Buffer | null;
  /** When to try connecting again after the leader refused us. */
  reconnect_tick: number | null;
  /** Connections tried to the leader so far (the first with FOLLOWERINFO/OBSERVERINFO). */
  connectAttempts: number;
  /** Set between SNAP and NEWLEADER: the log we had before, to rewrite the disk at NEWLEADER. */
  snapSync: {
    zxid: Zxid;
    data: Buffer;
    oldLog: Txn[];
    oldSnapZxid: Zxid;
    oldLogFloor: Zxid;
    oldCommitted: Zxid;
    oldDurable: Zxid;
    oldCommitsSinceSnapshot: number;
  } | null;
}

export type HandlerStage = 'info' | 'epochAcked' | 'newLeaderSent' | 'newLeaderAcked' | 'uptodate';
/** The leader's view of one learner connection (ZooKeeper's LearnerHandler). */
export interface LearnerHandler {
  sid: ServerId;
  participant: boolean;
  stage: HandlerStage;
  forwarding: boolean;
  peerLastZxid: Zxid;
  /** Our last zxid when we synced it: its NEWLEADER ACK says it holds everything up to here. */
  syncedThrough: Zxid;
  /** How far our history was committed when we synced it; told to the learner in UPTODATE. */
  syncCommitZxid: Zxid;
  start_tick: number;
  lastHeard_tick: number;
  /** PINGs sent on this connection and replies received (replies come back in order). */
  pingsSent: number;
  pingReplies: number;
  /** The `after` of each of its syncs not yet answered, oldest first. */
  syncsAfter: Zxid[];
  /** COMMITs/INFORMs held back behind its oldest unanswered sync (see tryCommit). */
  held: Extract<QuorumMessage, { type: 'COMMIT' | 'INFORM' }>[];
}
export interface Proposal {
  zxid: Zxid;
  data: Buffer;
  acks: Set<ServerId>;
  /** Every config whose quorum must ack it: the one in force, and the last seen while a reconfig is in flight. */
  quorums: QuorumVerifier[];
}
/**
 * A sync waits until everything proposed before it is committed and a quorum has answered a PING
 * sent after it arrived, so a leader that was deposed without noticing cannot answer it. Per
 * connection (a learner that reconnects is a new handler): the replies each one needs, counted
 * on that connection; a connection that became up to date later needs one.
 */
export type SyncWaiter = { after: Zxid; to: LearnerHandler | 'local'; pingsNeeded: Map<LearnerHandler, number> };

export type LeaderPhase = 'discovery' | 'epochAck' | 'newLeader' | 'broadcast';
export interface LeaderState {
  role: 'LEADING';
  phase: LeaderPhase;
  start_tick: number;
  newEpoch: Epoch | null;
  /** Accepted epochs from FOLLOWERINFO (participants count toward the quorum). */
  connecting: Map<ServerId, Epoch>;
  epochAcks: Set<ServerId>;
  newLeaderAcks: Set<ServerId>;
  /** The leader's (currentEpoch, lastZxid) when it started leading: ACKEPOCH is checked against it. */
  summaryEpoch: Epoch;
  summaryZxid: Zxid;
  /** Last zxid of the initial history (all of the leader's log when elected). */
  initialHistoryZxid: Zxid;
  established: boolean;
  handlers: Map<ServerId, LearnerHandler>;
  proposals: Proposal[];
  lastProposed: Zxid;
  syncWaiters: SyncWaiter[];
  lastPing_tick: number;
  /** zxidRolloverWithoutElection: the next epoch sent in NEWEPOCH once the counter was spent and all committed; `zxid` is the last of this epoch. */
  epochBump: { epoch: Epoch; zxid: Zxid; acks: Set<ServerId>; start_tick: number } | null;
  /**
   * Requests that came while the counter was spent, and everything after them, in order: writes
   * handed back as `forwardedRequest` in the next epoch, a learner's sync once the writes before
   * it are proposed (a learner pairs each SYNC or COMMIT with its oldest pending request).
   */
  heldRequests: HeldRequest[];
  /** Held requests are being handed back: the next event that is not a `propose` goes on with them. */
  draining: boolean;
  /** Where a write refused for a spent counter goes back into `heldRequests` (ahead of later ones). */
  reheld: number;
}

export type HeldRequest = { type: 'write'; from: ServerId; data: Buffer; authinfo?: Id[] } | { type: 'sync'; of: LearnerHandler };

export type RoleState = LookingState | LearnerState | LeaderState;

/** Everything one peer's core knows. Owned by the runtime; `step` may update it in place. */
export interface PeerState {
  readonly config: PeerConfig;
  tick: number;
  acceptedEpoch: Epoch;
  currentEpoch: Epoch;
  /** Zxid of the state the tree was loaded from / last snapshot. */
  snapZxid: Zxid;
  /** The in-memory history: every txn after logFloor (committedLog and beyond), in zxid order. */
  log: Txn[];
  /** The txn just before log[0] (snapZxid after a restart; up to commitLogCount txns before it after a snapshot). */
  logFloor: Zxid;
  /** Highest zxid known durable in the log (or covered by a durable snapshot). */
  durableZxid: Zxid;
  /** Highest zxid applied to the tree. */
  committedZxid: Zxid;
  commitsSinceSnapshot: number;
  logicalclock: bigint;
  /** The config in force (ZooKeeper's quorum verifier): `config.quorum` until a reconfig commits. */
  quorum: QuorumVerifier;
  /** Zxid of the reconfig txn that put `quorum` in force (0: the static config), and its payload. */
  quorumZxid: Zxid;
  quorumData: Buffer | null;
  /** The newest config in our history (ZooKeeper's last-seen verifier): `quorum` unless a reconfig is in flight. */
  lastSeenQuorum: QuorumVerifier;
  lastSeenZxid: Zxid;
  /** Current vote (what we answer to LOOKING peers). */
  vote: Vote;
  role: RoleState;
}

/** What a peer persisted: the runtime reads this back from disk on restart. */
export interface Persisted {
  acceptedEpoch: Epoch;
  currentEpoch: Epoch;
  snapZxid: Zxid;
  /** Log txns after snapZxid, in zxid order. */
  log: Txn[];
  /**
   * The config in force when it stopped, if a reconfig ever committed (ZooKeeper's dynamic config
   * file, written when a reconfig commits): the runtime keeps it when it applies a reconfig txn.
   */
  config?: { zxid: Zxid; data: Buffer };
}

export type Event =
  | { type: 'message'; from: ServerId; msg: Message }
  /** The quorum connection with `peer` closed. */
  | { type: 'disconnected'; peer: ServerId }
  | { type: 'tick' }
  /** Every log append up to and including `zxid` is durable. */
  | { type: 'logDurable'; zxid: Zxid }
  /**
   * Leader only: propose a prepared txn payload. `zxid` is what `nextProposalZxid` said right
   * before this step (the txn is prepared with it); null when it said the leader would refuse.
   */
  | { type: 'propose'; zxid: Zxid | null; data: Buffer }
  /** A local client write: the leader proposes it, a learner forwards it as REQUEST. */
  | { type: 'request'; data: Buffer; authinfo?: Id[] }
  /**
   * A local client sync. `data`: what a learner's REQUEST carries for it (the real server:
   * sessionId|cxid|type=sync|SyncRequest, as ZooKeeper's leader parses it); the simulator sends none.
   * `authinfo`: the client's auth ids, which ZooKeeper's Learner.request sends with every REQUEST.
   */
  | { type: 'sync'; data?: Buffer; authinfo?: Id[] }
  /** Learner: session activity to report to the leader in the next PING reply. */
  | { type: 'sessionActivity'; data: Buffer }
  /** Learner: ask the leader whether a reconnecting session is valid. Leader: the answer to `to`. */
  | { type: 'revalidate'; data: Buffer; to?: ServerId };

export type Role = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/**
 * Effects, to be executed by the runtime strictly in the order given. Actions marked "sync" must
 * be durable before the runtime delivers the next event; `append` is reported by `logDurable`.
 */
export type Action =
  | { type: 'send'; to: ServerId; msg: Message }
  /** Send SNAP with the tree serialized at `zxid` (the runtime's tree is exactly there now). */
  | { type: 'sendSnapshot'; to: ServerId; zxid: Zxid }
  /** Close the quorum connection with `peer`. */
  | { type: 'disconnect'; peer: ServerId }
  | { type: 'persistAcceptedEpoch'; epoch: Epoch } // sync
  | { type: 'persistCurrentEpoch'; epoch: Epoch } // sync
  | { type: 'append'; txns: Txn[] } // async, reported by logDurable
  | { type: 'truncate'; zxid: Zxid } // sync: drop log txns after zxid
  | { type: 'loadSnapshot'; zxid: Zxid; data: Buffer } // replace the tree in memory
  | { type: 'takeSnapshot'; zxid: Zxid } // sync: persist the tree (at zxid), drop log <= zxid
  | { type: 'apply'; txn: Txn } // commit to the tree, in zxid order
  /** The config in force changed to the one reconfig txn `zxid` (payload `data`) made: keep it for recovery (sync). */
  | { type: 'persistConfig'; zxid: Zxid; data: Buffer }
  | { type: 'role'; role: Role; leader: ServerId | null }
  | { type: 'established'; epoch: Epoch }
  /** Reads and writes may (or may no longer) be served here. */
  | { type: 'serving'; serving: boolean }
  /** Leader: a learner forwarded this request; prepare it and feed back a `propose` event. */
  | { type: 'forwardedRequest'; from: ServerId; data: Buffer; authinfo?: Id[] }
  /** A request could not be handled here (not serving, overflow, bounds). */
  | { type: 'requestDropped'; sync: boolean; data: Buffer; reason: string }
  /** The oldest pending local sync completed. */
  | { type: 'syncDone' }
  /** Leader: session activity a learner reported in PING. */
  | { type: 'sessionActivity'; from: ServerId; data: Buffer }
  /** Leader: a learner asks to revalidate a session (answer with a `revalidate` event, `to` set). Learner: the answer. */
  | { type: 'revalidate'; from: ServerId; data: Buffer };

export interface StepResult {
  state: PeerState;
  actions: Action[];
}
