/**
 * A gate in front of one peer's election port that knows who is calling. Every election
 * connection opens with ZooKeeper's InitialMessage (long protocolVersion, long sid, int length,
 * address), so the gate reads the caller's sid before it dials on, and refuses (RST) the caller
 * while `isCut(callerSid)` or `isCut(targetSid)` holds. One gate per peer therefore cuts one peer
 * from all others without touching the links between the rest (a per-target proxy alone cannot:
 * the connection that survives between two peers is the one the higher sid dials).
 *
 * It also rewrites the address in that message to the caller's own gate: a ZooKeeper peer that
 * drops a connection from a lower sid dials back the address it was sent (QuorumCnxManager), and
 * that connect-back must pass a gate too.
 *
 * Nothing is dialed before the handshake is read, so a refused caller never reaches the target
 * (a ZooKeeper peer reads the InitialMessage on its listener thread, without a timeout).
 */
import net from 'node:net';
import { electionInitialMessageRewriter } from './tcp-proxy.js';

export interface ElectionGate {
  readonly port: number;
  /** Reset live connections that the cut now forbids (call after the cut set changed). */
  enforce(): void;
  close(): Promise<void>;
}

export interface ElectionGateOptions {
  /** The peer behind the gate. */
  targetSid: number;
  /** Where accepted connections go (the peer's election port, or a proxy in front of it). */
  downstreamPort: number;
  /** Gate port of a caller, for the connect-back address; undefined leaves the address alone. */
  gatePortOf: (sid: number) => number | undefined;
  isCut: (sid: number) => boolean;
}

/** Bytes of a handshake kept before giving up on parsing it (its address is at most 4 KiB). */
const HANDSHAKE_BYTES_MAX = 8192;
const PROTOCOL_VERSIONS = new Set([-65536n, -65535n]);

interface Live {
  callerSid: number | undefined;
  client: net.Socket;
  upstream: net.Socket | undefined;
}

export async function startElectionGate(o: ElectionGateOptions): Promise<ElectionGate> {
  const live = new Set<Live>();
  const forbidden = (l: Live): boolean => o.isCut(o.targetSid) || (l.callerSid !== undefined && o.isCut(l.callerSid));
  const server = net.createServer((client) => {
    const l: Live = { callerSid: undefined, client, upstream: undefined };
    live.add(l);
    const end = (): void => {
      live.delete(l);
      client.destroy();
      l.upstream?.destroy();
    };
    client.on('error', end);
    client.on('close', end);
    let head = Buffer.alloc(0);
    const onHead = (c: Buffer): void => {
      head = Buffer.concat([head, c]);
      if (head.length < 16 && head.length < HANDSHAKE_BYTES_MAX) return;
      const version = head.readBigInt64BE(0);
      if (PROTOCOL_VERSIONS.has(version)) l.callerSid = Number(head.readBigInt64BE(8));
      if (forbidden(l)) {
        client.resetAndDestroy();
        return;
      }
      const gatePort = l.callerSid === undefined ? undefined : o.gatePortOf(l.callerSid);
      let out = head;
      if (gatePort !== undefined) {
        const r = electionInitialMessageRewriter(() => `127.0.0.1:${gatePort}`)(head);
        if (r === undefined && head.length < HANDSHAKE_BYTES_MAX) return; // the address is still coming
        if (r !== undefined) out = Buffer.concat([r.out, head.subarray(r.consumed)]);
      }
      client.off('data', onHead);
      client.pause();
      const upstream = net.connect(o.downstreamPort, '127.0.0.1');
      l.upstream = upstream;
      upstream.on('error', end);
      upstream.on('close', end);
      upstream.write(out);
      upstream.pipe(client);
      client.pipe(upstream);
      client.resume();
    };
    client.on('data', onHead);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('election gate: no port');
  return {
    port: addr.port,
    enforce() {
      for (const l of [...live]) {
        if (!forbidden(l)) continue;
        live.delete(l);
        l.client.resetAndDestroy();
        l.upstream?.resetAndDestroy();
      }
    },
    close() {
      for (const l of live) {
        l.client.destroy();
        l.upstream?.destroy();
      }
      live.clear();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
