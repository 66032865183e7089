/**
 * What the request pipeline (pipeline.ts) needs from the role it serves clients in: standalone,
 * leader, learner (follower or observer) or read-only. The pipeline decodes, orders and answers
 * requests; the mode decides where a write gets its zxid and how it commits, and how a sync is
 * confirmed. Every committed txn comes back through `RequestPipeline.applyCommitted`, in zxid
 * order, whatever the mode.
 */
import type { Err } from '../proto/errors.js';
import type { OpCode } from '../proto/opcodes.js';
import type { RequestContext, WriteRequest } from '../txn/prep.js';
import type { SnapshotFile } from './txnSink.js';

/** srvr/stat's "Mode:" word. */
export type ModeName = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

/** A write on its way to a txn: from a client of this member, a learner's REQUEST, or the server itself. */
export interface WriteJob {
  ctx: RequestContext;
  /** The decoded write, or the error it already failed with (undecodable: still an error txn, as ZooKeeper logs it). */
  write: WriteRequest | { op: typeof OpCode.error; err: number };
  /**
   * The member the session's request came through (this one for its own clients, the learner for
   * a REQUEST); undefined for the server's own writes (expiry, container reaping).
   */
  via: number | undefined;
  /** A client's request as it came: op code and the bytes after the request header (what a learner forwards). */
  request?: { type: number; body: Buffer };
}

/** A client's sync, as a learner forwards it. */
export interface SyncJob {
  sessionId: bigint;
  cxid: number;
  path: string;
  authInfo: RequestContext['authInfo'];
}

export interface ServingMode {
  readonly name: ModeName;
  /** Session ids made here carry this server id in their high byte. */
  readonly serverId: number;
  /** Leader and standalone: session expiry, container reaping, session owners. Learners report activity instead. */
  readonly ownsSessions: boolean;
  /** Only read-only clients and local sessions; writes and sync answered NotReadOnly. */
  readonly readOnly: boolean;
  /** Give the write a zxid, make it durable (and committed by a quorum), then applyCommitted. */
  write(job: WriteJob): void;
  /** Answer with RequestPipeline.syncDone() once everything committed before the sync is applied here. */
  sync(job: SyncJob): void;
  /** Learner: ask the leader whether a reconnecting session is valid (answer: RequestPipeline.revalidated). */
  revalidate?(sessionId: bigint, timeout_ms: number): void;
  /** The error a write from a session this member does not track is prepared with (undefined: it may write). */
  unknownSession(sessionId: bigint): typeof Err.UnknownSession | typeof Err.SessionExpired | undefined;
  /** Standalone: a snapshot of the tree now, as a file, when its sink keeps one. */
  snapshotNow?(): Promise<SnapshotFile> | undefined;
  close(): Promise<void>;
}
