/**
 * A member outside a quorum with readonlymode on (ZooKeeper's ReadOnlyZooKeeperServer): only
 * read-only clients and local sessions (no txn); the pipeline answers writes and sync with
 * NotReadOnly before they reach a mode, so this one never commits anything.
 */
import { Err } from '../../proto/errors.js';
import type { ServingMode } from '../servingMode.js';

export class ReadOnlyMode implements ServingMode {
  readonly name = 'read-only';
  readonly ownsSessions = false;
  readonly readOnly = true;

  constructor(readonly serverId: number) {}

  write(): void {
    throw new Error('a write reached the read-only mode');
  }

  sync(): void {
    throw new Error('a sync reached the read-only mode');
  }

  unknownSession(): typeof Err.UnknownSession {
    return Err.UnknownSession;
  }

  async close(): Promise<void> {}
}
