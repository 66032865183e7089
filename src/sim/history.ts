import type { WriteResult } from './machine.js';

/**
 * The version in a failed compare-and-set's result when the server does not say it (ZooKeeper
 * answers BadVersion without the node's version); the checkers then check only that it failed.
 */
export const VERSION_UNREPORTED = -1;

/** What the clients saw: the input of the linearizability and read checkers. */
export interface WriteOp {
  kind: 'write';
  client: number;
  key: string;
  expectedVersion: number;
  /** A multi's check: a compare that, when it matches, leaves the register as it is. */
  check?: true;
  value: string;
  invoke: number;
  /** Virtual time of the reply; null while pending or when the outcome is unknown. */
  response: number | null;
  /** 'unknown': timed out or the connection was lost; it may or may not have happened. */
  result: WriteResult | 'unknown' | null;
  zxid: bigint | null;
}
export interface ReadOp {
  kind: 'read';
  client: number;
  key: string;
  /** Sync-then-read: invoke is when the sync was sent. */
  sync: boolean;
  invoke: number;
  response: number | null;
  failed: boolean;
  version: number;
  value: string;
  /** The zxid of the state the server read from. */
  zxid: bigint;
}
export type Op = WriteOp | ReadOp;
