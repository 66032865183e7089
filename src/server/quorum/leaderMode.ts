/**
 * Serving clients as the leader: a write is numbered by the ZAB core when the peer steps it
 * (quorumPeer's `proposeWrite`), proposed, and applied when the core commits it; a sync is the
 * core's (answered once a quorum has confirmed this member still leads). The leader owns session
 * expiry and container reaping for the ensemble.
 */
import { Err } from '../../proto/errors.js';
import type { ServingMode, SyncJob, WriteJob } from '../servingMode.js';
import { creatorServerId } from '../sessionIds.js';

export class LeaderMode implements ServingMode {
  readonly name = 'leader';
  readonly ownsSessions = true;
  readonly readOnly = false;

  constructor(
    readonly serverId: number,
    /** localSessionsEnabled: another member's local sessions may write through its REQUESTs. */
    private readonly foreignLocalSessions: boolean,
    private readonly peer: { proposeWrite(job: WriteJob): void; localSync(): void },
  ) {}

  write(job: WriteJob): void {
    this.peer.proposeWrite(job);
  }

  sync(_job: SyncJob): void {
    this.peer.localSync();
  }

  /**
   * As ZooKeeper's LeaderSessionTracker.checkSession: SessionExpired (a ZooKeeper learner cannot
   * even apply an error txn holding UnknownSession: KeeperException.create(-12) throws in its
   * FinalRequestProcessor), or, with local sessions on, another member's local session may write.
   */
  unknownSession(sessionId: bigint): typeof Err.SessionExpired | undefined {
    if (this.foreignLocalSessions && creatorServerId(sessionId) !== this.serverId) return undefined;
    return Err.SessionExpired;
  }

  async close(): Promise<void> {}
}
