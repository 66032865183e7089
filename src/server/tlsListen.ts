/**
 * What every TLS listener of a server shares (client ports, quorum and election ports): telling a
 * TLS ClientHello from plaintext on a unified port, and reloading the key and trust stores when
 * their files change.
 */
import fs from 'node:fs';
import type net from 'node:net';
import { log } from '../log.js';
import type { SslOptions } from './options.js';
import { serverTls } from './tlsContext.js';

/** How long a TLS handshake may take (Netty's SslHandler default, which ZooKeeper keeps). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The first byte of a TLS handshake record: how a unified port tells TLS from plaintext. */
const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * Waits for a connection's first bytes: `decided(true, first)` for a TLS record, `decided(false,
 * first)` otherwise, `timedOut()` when nothing came within `timeout_ms`. The socket is paused
 * when `decided` runs; `first` must be handed on (unshift or fed to the reader).
 */
export function detectTls(socket: net.Socket, timeout_ms: number, decided: (isTls: boolean, first: Buffer) => void, timedOut: () => void): void {
  const timer = setTimeout(() => {
    socket.off('data', onData);
    timedOut();
  }, timeout_ms);
  timer.unref();
  const onData = (first: Buffer): void => {
    clearTimeout(timer);
    socket.pause();
    decided(first[0] === TLS_HANDSHAKE_RECORD, first);
  };
  socket.once('error', () => clearTimeout(timer));
  socket.once('close', () => clearTimeout(timer));
  socket.once('data', onData);
}

/** How often a certReload watch looks at the store files. */
const CERT_RELOAD_POLL_MS = 1000;

/**
 * client.certReload / sslQuorumReloadCertFiles: new handshakes use the stores as they are now;
 * connections already made keep theirs. A store that no longer opens is logged and the previous
 * one kept. Returns the stop.
 */
export function watchStores(ssl: SslOptions, what: string, apply: (t: ReturnType<typeof serverTls>) => void): () => void {
  const files = [ssl.keyStore?.location, ssl.trustStore?.location].filter((f): f is string => f !== undefined);
  const reload = (): void => {
    try {
      apply(serverTls(ssl));
      log.info({ files }, `${what} TLS key and trust stores reloaded`);
    } catch (e) {
      log.error({ err: (e as Error).message }, `${what} TLS stores changed but do not open; keeping the previous ones`);
    }
  };
  for (const f of files) fs.watchFile(f, { interval: CERT_RELOAD_POLL_MS, persistent: false }, reload);
  return () => {
    for (const f of files) fs.unwatchFile(f, reload);
  };
}
