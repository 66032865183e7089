/**
 * Retrying requests that failed with a connection loss. The client keeps unsent requests queued
 * while it reconnects, so only requests that were on the wire fail this way; trying them again
 * is what Curator's retry loop does for the recipes.
 */
import { Err, KeeperError, type ZooKeeperClient } from '../client/index.js';
import { connectionStateOf } from './connection-state.js';

export function isRetryable(e: unknown): boolean {
  return e instanceof KeeperError && (e.code === Err.ConnectionLoss || e.code === Err.OperationTimeout);
}

export function isCode(e: unknown, code: number): boolean {
  return e instanceof KeeperError && e.code === code;
}

export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `f` again after a connection loss while the client is alive (use only for idempotent requests). */
export async function retrying<T>(client: ZooKeeperClient, f: () => Promise<T>): Promise<T> {
  for (let delay_ms = 10; ; delay_ms = Math.min(2 * delay_ms, 500)) {
    try {
      return await f();
    } catch (e) {
      if (!isRetryable(e)) throw e;
      // A request cut off by close() or expiry reports why the client is gone, not a connection loss.
      if (!client.isAlive) throw connectionStateOf(client).terminalError() ?? e;
    }
    await pause(delay_ms);
  }
}

/** Deletes a node, tolerating its absence and retrying connection losses (Curator's guaranteed delete, in the foreground). */
export async function deleteQuietly(client: ZooKeeperClient, path: string): Promise<void> {
  try {
    await retrying(client, () => client.delete(path));
  } catch (e) {
    // Gone already, or the session is gone and its ephemeral nodes with it.
    if (isCode(e, Err.NoNode) || !client.isAlive) return;
    throw e;
  }
}
