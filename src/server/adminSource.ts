/**
 * What a member offers the admin surface (four-letter words, the AdminServer, /metrics, health):
 * the admin code reads these and registers its answerer here, so admin depends on the server and
 * never the reverse.
 */
import type { ZkDatabase } from '../txn/database.js';
import type { ServerLine } from './config.js';
import type { ClientConnection } from './connection.js';
import type { ServerOptions } from './options.js';
import type { ServerMetrics } from './serverMetrics.js';
import type { ServerStats } from './serverStats.js';
import type { SessionTracker } from './sessionTracker.js';
import type { SnapshotFile } from './txnSink.js';

/** A member while it serves clients (its request pipeline). */
export interface AdminSource {
  readonly options: ServerOptions;
  readonly db: ZkDatabase;
  readonly stats: ServerStats;
  readonly sessions: SessionTracker;
  readonly started_ms: number;
  connections(): Iterable<ClientConnection>;
  outstandingRequests(): number;
  resetConnectionStats(): void;
  /** srvr/stat Mode line: standalone, leader, follower, observer or read-only. */
  modeName(): string;
  /** A quorum member serving read-only clients outside a quorum (isro answers "ro"). */
  readOnly(): boolean;
  /** The member this serves for (a standalone server is its own). */
  member(): MemberAdminSource;
}

/** Answers a whitelisted four-letter word about a member (src/admin's runFourLetterWord). */
export type FourLetterWordAnswerer = (word: string, src: AdminSource) => string;

/** ZooKeeper's QuorumPeer.ServerState. */
export type PeerRoleName = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/** One learner connected to a leader (ZooKeeper's LearnerHandler, as the admin commands show it). */
export interface LearnerView {
  readonly sid: number;
  readonly participant: boolean;
  /** In broadcast: synced and receiving proposals. */
  readonly synced: boolean;
  /** `/host:quorumPort` from the learner's server.N line (the connection's own remote port is not kept). */
  readonly remoteAddress: string;
  readonly established_ms: number;
}

/** What a quorum peer knows of its ensemble, for zabstate, voting_view, leader, observers and readiness. */
export interface QuorumView {
  readonly myid: number;
  readonly role: PeerRoleName;
  /** ZooKeeper's ZabState: election, discovery, synchronization, broadcast. */
  readonly zabState: 'election' | 'discovery' | 'synchronization' | 'broadcast';
  /** A participant (votes) rather than an observer. */
  readonly voting: boolean;
  readonly leader: number | null;
  /** Every server.N line, own included. */
  readonly servers: readonly ServerLine[];
  /** The last zxid in this peer's history (logged, maybe not yet committed). */
  readonly lastLoggedZxid: bigint;
  /** Voters needed for a quorum. */
  readonly quorumSize: number;
  /** Leader: its learners now; [] otherwise. */
  readonly learners: readonly LearnerView[];
  /** Leader: when it was established (broadcast), else undefined. */
  readonly leadingSince_ms: number | undefined;
  /** Leader: syncs waiting for their quorum (Leader.getNumPendingSyncs). */
  readonly pendingSyncs: number;
}

/** A member, serving or not: what the AdminServer, /metrics and the health probes read. */
export interface MemberAdminSource {
  readonly options: ServerOptions;
  readonly started_ms: number;
  /** Counters and summaries that live as long as the process (mntr and /metrics). */
  readonly metrics: ServerMetrics;
  /** The serving side, while clients are served; undefined while electing or syncing. */
  servingSource(): AdminSource | undefined;
  /** Undefined for a standalone server. */
  quorum(): QuorumView | undefined;
  /** A snapshot of the tree now, written to the dataDir (the AdminServer's `snapshot`); undefined without a dataDir. */
  snapshotNow(): Promise<SnapshotFile> | undefined;
}
