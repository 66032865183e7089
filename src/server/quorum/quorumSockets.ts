/**
 * The sockets between quorum peers (election and quorum ports), as ZooKeeper's QuorumCnxManager,
 * Learner and Leader make them: plain TCP; TLS with sslQuorum=true (ssl.quorum.* stores, client
 * certificates required unless ssl.quorum.clientAuth says otherwise, the other end's certificate
 * naming its address or host on both ends unless ssl.quorum.hostnameVerification=false, a reverse
 * lookup allowed by ssl.quorum.allowReverseDnsLookup, revocation by ssl.quorum.crl); with portUnification=true the listeners take TLS
 * and plaintext alike, told apart by the first byte (UnifiedServerSocket), which is how an
 * ensemble moves to TLS one member at a time. Without it, a TLS listener refuses plaintext.
 * Only the node I/O layer sees this; the core and the simulator get connected byte streams.
 */
import net from 'node:net';
import tls from 'node:tls';
import { peerHostMismatch } from '../../client/hostVerification.js';
import { log } from '../../log.js';
import type { QuorumTlsOptions } from '../options.js';
import { serverTls, type ServerTls } from '../tlsContext.js';
import { remoteAddress } from '../../proto/addresses.js';
import { detectTls, tlsAcceptor, watchStores } from '../tlsListen.js';

export interface QuorumSockets {
  /** A connection to a peer's port; `ready` runs once it carries bytes (after the TLS handshake). */
  connect(host: string, port: number, ready: () => void): net.Socket;
  /**
   * Listens on an election or quorum port. `accepted` gets each connection once TLS or plaintext
   * is settled, paused, with the bytes already read from it (`first`); it must take them and resume.
   */
  listen(what: string, host: string, port: number, accepted: (s: net.Socket, first: Buffer) => void): Promise<net.Server>;
  /** Stops reloading the stores (each transport calls it when it closes; more than once is fine). */
  close(): void;
}

const NOTHING = Buffer.alloc(0);

function listenOn(what: string, host: string, port: number, onSocket: (s: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, onSocket);
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (e) => log.error({ err: e }, `${what} listener error`));
      resolve(server);
    });
  });
}

const PLAIN: QuorumSockets = {
  connect(host, port, ready) {
    const s = net.connect({ host, port, noDelay: true });
    s.once('connect', ready);
    return s;
  },
  listen: (what, host, port, accepted) => listenOn(what, host, port, (s) => accepted(s, NOTHING)),
  close: () => undefined,
};

export function quorumSockets(o: QuorumTlsOptions): QuorumSockets {
  if (!o.sslQuorum && !o.portUnification) return PLAIN;
  const ssl = o.ssl;
  // Opened now: a store that does not open stops the peer with the key named (exit 2).
  let t: ServerTls = serverTls(ssl);
  let clientContext = tls.createSecureContext(t.secureOptions);
  const tlsServers = new Set<tls.Server>();
  const unwatch = watchStores(ssl, 'quorum', (n) => {
    t = n;
    clientContext = tls.createSecureContext(n.secureOptions);
    for (const srv of tlsServers) srv.setSecureContext(n.secureOptions);
  });

  /** ZKTrustManager's check of the other end's certificate, on both ends (QuorumX509Util verifies client host names too). */
  const checkHost = (what: string, s: tls.TLSSocket, hostName: string | undefined, then: () => void): void => {
    // getPeerCertificate, not getPeerX509Certificate: on a connecting socket Node 20's X509 object frees the peer's certificate behind the connection's back.
    const cert = s.getPeerCertificate();
    if (!ssl.hostnameVerification || cert.raw === undefined) return then();
    void peerHostMismatch(cert, remoteAddress(s), hostName, ssl.allowReverseDnsLookup, 'ssl.quorum.allowReverseDnsLookup').then((mismatch) => {
      if (mismatch === undefined) return then();
      log.warn({ addr: remoteAddress(s), host: hostName, err: mismatch }, `${what}: refused a TLS peer whose certificate does not name its host`);
      s.destroy();
    });
  };

  const acceptor = (what: string, accepted: (s: net.Socket, first: Buffer) => void): tls.Server => {
    const srv = tlsAcceptor(t, what, 'ssl.quorum.clientAuth', (s) => {
      s.pause();
      checkHost(what, s, undefined, () => accepted(s, NOTHING));
    });
    tlsServers.add(srv);
    return srv;
  };

  return {
    connect(host, port, ready) {
      if (!o.sslQuorum) return PLAIN.connect(host, port, ready);
      const s = tls.connect({
        host,
        port,
        secureContext: clientContext,
        ...(net.isIP(host) === 0 ? { servername: host } : {}),
        // Checked once connected, against the address as well as the name (checkHost).
        checkServerIdentity: () => undefined,
      });
      s.setNoDelay(true);
      s.once('secureConnect', () => checkHost(`connection to ${host}:${port}`, s, host, ready));
      return s;
    },
    listen(what, host, port, accepted) {
      const secure = acceptor(what, accepted);
      return listenOn(what, host, port, (socket) =>
        detectTls(
          socket,
          (isTls, first) => {
            if (isTls) {
              socket.unshift(first);
              secure.emit('connection', socket);
            } else if (o.portUnification) {
              accepted(socket, first);
            } else {
              log.warn({ addr: remoteAddress(socket) }, `${what}: blocked a plaintext connection (sslQuorum without portUnification)`);
              socket.destroy();
            }
          },
          {
            timeout_ms: ssl.handshakeDetectionTimeout_ms,
            timedOut: () => {
              // UnifiedServerSocket takes a connection that sent nothing in time for plaintext.
              if (o.portUnification) {
                log.warn(
                  { addr: remoteAddress(socket) },
                  `${what}: socket mode detection timed out after ${ssl.handshakeDetectionTimeout_ms} ms, assuming plaintext`,
                );
                return accepted(socket, NOTHING);
              }
              log.warn({ addr: remoteAddress(socket) }, `${what}: closing a connection that sent nothing to tell TLS from plaintext`);
              socket.destroy();
            },
          },
        ),
      );
    },
    close() {
      unwatch();
      tlsServers.clear();
    },
  };
}
