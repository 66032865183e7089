/**
 * The effects the request pipeline and the peer runtime reach the world through: time, the client
 * port, and (for a quorum peer) the quorum and election transports and its dataDir. The real
 * implementations are in nodeIo.ts (and src/storage, quorum/electionConnections.ts,
 * quorum/learnerConnections.ts); src/sim supplies simulated twins, so the simulator runs the code
 * that runs in production. Nothing behind these interfaces may call back synchronously from a
 * method call; everything that "happens later" is reported through the callbacks given.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch (ctime/mtime, session expiry, latencies). */
  now_ms(): number;
  /** Runs `fn` once after `delay_ms`. Real timers never keep the process alive. */
  after(delay_ms: number, fn: () => void): Timer;
  /** Runs `fn` once the current turn's work is done (setImmediate): where output is batched. */
  soon(fn: () => void): void;
}

import type { ServerOptions, SslOptions } from './options.js';

/** A client's TCP connection as the pipeline uses it. */
export interface ClientSocket {
  /** IPv4 addresses without the ::ffff: prefix. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The connection came over TLS (handshake done). */
  readonly secure: boolean;
  /** DER of the client's certificate, verified against the trust store; undefined when it sent none. */
  readonly peerCertificate: Buffer | undefined;
  /** Bytes written and not yet handed to the network. */
  readonly writableLength: number;
  write(bytes: Buffer): void;
  /** Sends what is written (then `last`, if given) and closes. */
  end(last?: string): void;
  /** Closes at once. */
  destroy(): void;
  pause(): void;
  resume(): void;
}

export interface ClientSocketHandlers {
  data(chunk: Buffer): void;
  close(): void;
  /** The written backlog has been handed to the network. */
  drain(): void;
}

export interface ClientListener {
  /** The port bound (the one asked for, or the one chosen for port 0). */
  readonly port: number;
  /** Stops accepting; connections already made stay until the pipeline closes them. */
  close(): Promise<void>;
}

/** How a client port speaks: TLS only (secureClientPort), or TLS and plaintext told apart by the first byte. */
export interface ClientPortTls {
  ssl: SslOptions;
  unified: boolean;
}

/** A client port to open: where, and how it speaks (no tls: plaintext). */
export interface ClientPortSpec {
  port: number;
  address: string;
  tls: ClientPortTls | undefined;
}

type ClientPortOptions = Pick<
  ServerOptions,
  'clientPortListen' | 'clientPort' | 'clientPortAddress' | 'clientPortUnification' | 'secureClientPort' | 'secureClientPortAddress' | 'ssl'
>;

/**
 * The client ports a server opens, as ZooKeeper's cnxnFactory and secureCnxnFactory: clientPort
 * (TLS too with client.portUnification) first, then secureClientPort (TLS only). Whether it serves
 * or not (a quorum member electing), the same ports answer.
 */
export function clientPorts(o: ClientPortOptions): ClientPortSpec[] {
  const out: ClientPortSpec[] = [];
  if (o.clientPortListen)
    out.push({ port: o.clientPort, address: o.clientPortAddress, tls: o.clientPortUnification ? { ssl: o.ssl, unified: true } : undefined });
  if (o.secureClientPort !== undefined) out.push({ port: o.secureClientPort, address: o.secureClientPortAddress, tls: { ssl: o.ssl, unified: false } });
  return out;
}

/**
 * Binds a client port (plaintext unless `tls` is given); each accepted connection is handed to
 * `accept` (a TLS one once its handshake is done), which returns its handlers.
 */
export type ListenClients = (port: number, address: string, accept: (s: ClientSocket) => ClientSocketHandlers, tls?: ClientPortTls) => Promise<ClientListener>;

/** What a request pipeline needs from the world. */
export interface PipelineIo {
  clock: Clock;
  listenClients: ListenClients;
}
