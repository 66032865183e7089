/**
 * Serving clients as a follower or observer: writes (createSession and closeSession too) and
 * syncs go to the leader unprepared, as REQUEST; the committed txn comes back from the core as
 * `apply`, and the SYNC answer as `syncDone`. Session activity is reported in PING replies.
 */
import { OpCode } from '../../proto/opcodes.js';
import { Err } from '../../proto/errors.js';
import type { Event } from '../../zab/state.js';
import type { ServingMode, SyncJob, WriteJob } from '../servingMode.js';
import { encodeForwardedSync, encodeForwardedWrite } from './forwardedRequest.js';

/** REVALIDATE question: long sessionId, int timeout (ZooKeeper's Learner.validateSession). */
const REVALIDATE_QUESTION_BYTES = 12;

export class LearnerMode implements ServingMode {
  readonly ownsSessions = false;
  readonly readOnly = false;

  constructor(
    readonly name: 'follower' | 'observer',
    readonly serverId: number,
    private readonly step: (e: Event) => void,
  ) {}

  write(job: WriteJob): void {
    const { ctx, write } = job;
    let type: number;
    let body: Buffer;
    if (write.op === OpCode.createSession) {
      type = OpCode.createSession;
      body = Buffer.alloc(4);
      body.writeInt32BE(write.timeout_ms);
    } else if (job.request !== undefined) ({ type, body } = job.request);
    else throw new Error(`a learner has no request bytes to forward for op ${write.op}`);
    this.step({ type: 'request', ...encodeForwardedWrite({ sessionId: ctx.sessionId, cxid: ctx.cxid, type, body, authInfo: ctx.authInfo }) });
  }

  sync(job: SyncJob): void {
    this.step({ type: 'sync', data: encodeForwardedSync(job.sessionId, job.cxid, job.path), authinfo: [...job.authInfo] });
  }

  revalidate(sessionId: bigint, timeout_ms: number): void {
    const q = Buffer.alloc(REVALIDATE_QUESTION_BYTES);
    q.writeBigInt64BE(sessionId, 0);
    q.writeInt32BE(timeout_ms, 8);
    this.step({ type: 'revalidate', data: q });
  }

  /** A learner never prepares: the leader decides about every session. */
  unknownSession(): typeof Err.UnknownSession {
    return Err.UnknownSession;
  }

  async close(): Promise<void> {}
}
