/**
 * What every TLS listener of a server shares (client ports, quorum and election ports): the TLS
 * server that checks peer certificates, telling a TLS ClientHello from plaintext on a unified
 * port, and reloading the key and trust stores when their files change.
 */
import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import { remoteAddress } from '../proto/addresses.js';
import { log } from '../log.js';
import type { SslOptions } from './options.js';
import { serverTls, type ServerTls } from './tlsContext.js';

/** How long a TLS handshake may take (Netty's SslHandler default, which ZooKeeper keeps). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The first byte of a TLS handshake record: how a unified port tells TLS from plaintext. */
const TLS_HANDSHAKE_RECORD = 0x16;

/**
 * A tls.Server for a port whose TCP connections are handed to it (emit 'connection'); it never
 * listens itself. Certificates are checked here rather than by rejectUnauthorized, which closes
 * the connection without saying why: a peer that sends none when `clientAuthKey` is need, or one
 * that is not trusted (even with want, as Java's SSLEngine insists), is closed with one log line
 * naming `what` and the problem. `secured` gets the others once their handshake is done.
 * requestCert stays as created; a reload replaces the stores only.
 */
export function tlsAcceptor(t: ServerTls, what: string, clientAuthKey: string, secured: (s: tls.TLSSocket) => void): tls.Server {
  const server = tls.createServer(
    { ...t.secureOptions, requestCert: t.requestCert, rejectUnauthorized: false, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS },
    (s) => {
      const cert = s.getPeerX509Certificate();
      const refused =
        cert === undefined
          ? t.rejectUnauthorized
            ? `no certificate sent (${clientAuthKey}=need)`
            : undefined
          : s.authorized
            ? undefined
            : `certificate not trusted (${String(s.authorizationError)})`;
      if (refused === undefined) return secured(s);
      log.warn({ addr: remoteAddress(s) }, `${what}: unsuccessful TLS handshake: ${refused}`);
      s.destroy();
    },
  );
  server.on('tlsClientError', (e, s) => {
    log.warn({ addr: remoteAddress(s), err: e.message }, `${what}: unsuccessful TLS handshake`);
    s.destroy();
  });
  return server;
}

/**
 * Waits for a connection's first bytes: `decided(true, first)` for a TLS record, `decided(false,
 * first)` otherwise; with `detection`, `detection.timedOut()` when nothing came within its
 * `timeout_ms`. The socket is paused when `decided` runs; `first` must be handed on (unshift or
 * fed to the reader).
 */
export function detectTls(
  socket: net.Socket,
  decided: (isTls: boolean, first: Buffer) => void,
  detection?: { timeout_ms: number; timedOut: () => void },
): void {
  const timer =
    detection === undefined
      ? undefined
      : setTimeout(() => {
          socket.off('data', onData);
          detection.timedOut();
        }, detection.timeout_ms);
  timer?.unref();
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
 * connections already made keep theirs. The CRL file of ssl.crl is always watched (a revocation
 * must not wait for a restart, as Java fetches CRLs afresh). A store that no longer opens is
 * logged and the previous one kept. Returns the stop.
 */
export function watchStores(ssl: SslOptions, what: string, apply: (t: ReturnType<typeof serverTls>) => void): () => void {
  const files = [...(ssl.certReload ? [ssl.keyStore?.location, ssl.trustStore?.location] : []), ssl.crl].filter((f): f is string => f !== undefined);
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
