/**
 * What a serving member offers the admin surface (four-letter words now, an AdminServer later):
 * the admin code reads these and registers its answerer here, so admin depends on the server and
 * never the reverse.
 */
import type { ZkDatabase } from '../txn/database.js';
import type { ClientConnection } from './connection.js';
import type { ServerOptions } from './options.js';
import type { ServerStats } from './serverStats.js';
import type { SessionTracker } from './sessionTracker.js';

export interface AdminSource {
  readonly options: ServerOptions;
  readonly db: ZkDatabase;
  readonly stats: ServerStats;
  readonly sessions: SessionTracker;
  readonly started_ms: number;
  connections(): Iterable<ClientConnection>;
  outstandingRequests(): number;
  resetConnectionStats(): void;
  /** Counters from the durable log (fsync counts and times), printed by mntr. */
  sinkMetrics(): ReadonlyArray<readonly [string, number]>;
  /** srvr/stat Mode line: standalone, leader, follower, observer or read-only. */
  modeName(): string;
  /** A quorum member serving read-only clients outside a quorum (isro answers "ro"). */
  readOnly(): boolean;
}

/** Answers a whitelisted four-letter word about a member (src/admin's runFourLetterWord). */
export type FourLetterWordAnswerer = (word: string, src: AdminSource) => string;
