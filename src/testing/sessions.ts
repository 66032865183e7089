/**
 * Session faults for clients of a TestingServer or TestingCluster, as a network or a server
 * would cause them: a session expiry and a dropped connection.
 */
import net from 'node:net';
import type { ZooKeeperClient } from '../client/client.js';
import { JuteWriter } from '../jute/index.js';
import { KeeperState, OpCode } from '../proto/opcodes.js';
import { ConnectRequest, RequestHeader } from '../proto/records.js';

export interface SessionFaultOptions {
  /** How long to wait for the client to see the outcome (default: twice its session timeout, at least 10 s). */
  timeout_ms?: number;
}

/**
 * Expires the client's session as the ensemble would: another connection takes the session over
 * with its id and password and closes it (closeSession: its ephemerals go, its watches end), as
 * Curator's KillSession did. Resolves once the client has seen Expired.
 */
export async function expireSession(client: ZooKeeperClient, opts: SessionFaultOptions = {}): Promise<void> {
  if (client.state !== 'connected' && client.state !== 'connectedReadOnly') {
    throw new Error(`expireSession: the client has no live session (state ${client.state})`);
  }
  const host = client.currentHost;
  if (host === null) throw new Error('expireSession: the client is not connected to any server');
  const expired = waitForState(client, [KeeperState.Expired], 'Expired', timeoutFor(client, opts));
  let seen = false;
  void expired.done.then(
    () => (seen = true),
    () => (seen = true),
  );
  try {
    // The client reconnecting in the meantime takes the session back and may make the server
    // drop our closeSession with our connection: then try again.
    while (!seen) {
      await closeSessionAs(host.host, host.port, client.sessionId, client.sessionPasswd, client.sessionTimeout_ms);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([expired.done.catch(() => {}), new Promise((r) => (timer = setTimeout(r, RETRY_AFTER_MS)))]);
      clearTimeout(timer);
    }
  } catch (e) {
    expired.cancel();
    throw e;
  }
  await expired.done;
}

/**
 * Cuts the client's TCP connection as a network failure would (the session stays). Resolves once
 * the client has reconnected and resumed its session (its watchers saw Disconnected, then
 * SyncConnected or ConnectedReadOnly).
 */
export async function dropConnection(client: ZooKeeperClient, opts: SessionFaultOptions = {}): Promise<void> {
  if (!client.isAlive) throw new Error(`dropConnection: the client is ${client.state}`);
  const reconnected = waitForState(client, [KeeperState.SyncConnected, KeeperState.ConnectedReadOnly], 'a reconnect', timeoutFor(client, opts));
  client.dropConnection();
  await reconnected.done;
}

/** How long one closeSession attempt waits for the client to see Expired before the next. */
const RETRY_AFTER_MS = 2000;

function timeoutFor(client: ZooKeeperClient, opts: SessionFaultOptions): number {
  return opts.timeout_ms ?? Math.max(10_000, 2 * client.sessionTimeout_ms);
}

/** Waits for one of `states`; a terminal state other than those rejects at once. */
function waitForState(client: ZooKeeperClient, states: KeeperState[], what: string, timeout_ms: number): { done: Promise<void>; cancel(): void } {
  let cancel = (): void => {};
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel();
      reject(new Error(`the client did not see ${what} within ${timeout_ms} ms (state ${client.state})`));
    }, timeout_ms);
    const off = client.onState((s) => {
      if (states.includes(s)) {
        cancel();
        resolve();
      } else if (s === KeeperState.Expired || s === KeeperState.Closed || s === KeeperState.AuthFailed) {
        cancel();
        reject(new Error(`the client went ${client.state} while waiting for ${what}`));
      }
    });
    cancel = () => {
      clearTimeout(timer);
      off();
    };
  });
  return { done, cancel: () => cancel() };
}

/**
 * Connects with the session's id and password and sends closeSession in the same write, so the
 * server closes the session before the original client can reconnect and take it back. Resolves
 * when the server answered or closed the connection.
 */
function closeSessionAs(host: string, port: number, sessionId: bigint, passwd: Buffer, timeout_ms: number): Promise<void> {
  const w = new JuteWriter(128);
  let at = w.reserveInt();
  ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: timeout_ms, sessionId, passwd, readOnly: false });
  w.patchInt(at, w.offset - at - 4);
  at = w.reserveInt();
  RequestHeader.write(w, { xid: 1, type: OpCode.closeSession });
  w.patchInt(at, w.offset - at - 4);
  const request = Buffer.from(w.bytes());
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, noDelay: true });
    let input = Buffer.alloc(0);
    const timer = setTimeout(() => sock.destroy(new Error('no answer within 10 s')), 10_000);
    sock.on('connect', () => sock.write(request));
    sock.on('error', (e) => reject(new Error(`expireSession: ${e.message} (server ${host}:${port})`)));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    // Two frames: the ConnectResponse and closeSession's reply.
    let frames = 0;
    sock.on('data', (chunk: Buffer) => {
      input = Buffer.concat([input, chunk]);
      while (input.length >= 4) {
        const len = input.readInt32BE(0);
        if (len < 0) return void sock.destroy(new Error(`bad frame length ${len}`));
        if (input.length < 4 + len) return;
        input = input.subarray(4 + len);
        if (++frames === 2) return void sock.destroy();
      }
    });
  });
}
