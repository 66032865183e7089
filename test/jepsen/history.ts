/**
 * What the Jepsen clients saw on the real system. Like the simulator's history (src/sim/history.ts)
 * but with what a real ZooKeeper reply gives: a failed compare-and-set (BadVersion) does not say
 * the register's version, and every successful write and read carries zxids (stat.mzxid and the
 * reply header's zxid).
 */
export interface CasWrite {
  kind: 'write';
  /** Client process id: a new one after every op whose outcome is unknown (fresh session). */
  client: number;
  key: string;
  expectedVersion: number;
  value: string;
  /** Milliseconds (monotonic clock of the test process). */
  invoke: number;
  response: number | null;
  /** ok: setData succeeded, giving the new version and its zxid (stat.mzxid); failed: BadVersion. */
  result: { ok: true; version: number; zxid: bigint } | { ok: false } | 'unknown';
}

export interface SyncRead {
  kind: 'read';
  client: number;
  key: string;
  /** sync then getData (false: a plain getData from the member's local state). */
  sync: boolean;
  /** When the sync (or the read) was sent. */
  invoke: number;
  response: number | null;
  failed: boolean;
  version: number;
  value: string;
  /** stat.mzxid of what was read. */
  mzxid: bigint;
  /** The reply header's zxid: the state the member read from. */
  zxid: bigint;
  /** Which member answered (for the report). */
  member: string;
}

export type JepsenOp = CasWrite | SyncRead;
