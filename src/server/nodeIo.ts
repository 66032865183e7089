/** The real effects behind io.ts: Node's clock and timers, TCP client ports, TLS on them (tlsContext.ts). */
import net from 'node:net';
import tls from 'node:tls';
import { log } from '../log.js';
import type { ClientListener, ClientPortTls, ClientSocket, ClientSocketHandlers, Clock, ListenClients, PipelineIo } from './io.js';
import { serverTls, type ServerTls } from './tlsContext.js';
import { detectTls, TLS_HANDSHAKE_TIMEOUT_MS, watchStores } from './tlsListen.js';

export const nodeClock: Clock = {
  now_ms: () => Date.now(),
  after(delay_ms, fn) {
    const t = setTimeout(fn, delay_ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  soon: (fn) => void setImmediate(fn),
};

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.substring(7) : a;
}

class TcpClientSocket implements ClientSocket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  constructor(
    private readonly s: net.Socket,
    readonly secure: boolean,
    readonly peerCertificate: Buffer | undefined,
  ) {
    this.remoteAddress = normalizeAddress(s.remoteAddress ?? '');
    this.remotePort = s.remotePort ?? 0;
  }
  get writableLength(): number {
    return this.s.writableLength;
  }
  write(bytes: Buffer): void {
    this.s.write(bytes);
  }
  end(last?: string): void {
    if (last === undefined) this.s.end();
    else this.s.end(last);
    this.s.destroySoon();
  }
  destroy(): void {
    this.s.destroy();
  }
  pause(): void {
    this.s.pause();
  }
  resume(): void {
    this.s.resume();
  }
}

function attach(socket: net.Socket, wrapped: ClientSocket, accept: (s: ClientSocket) => ClientSocketHandlers, first?: Buffer): void {
  const h = accept(wrapped);
  socket.on('data', h.data);
  socket.on('error', (e) => log.debug({ err: e.message, addr: wrapped.remoteAddress }, 'client socket error'));
  socket.on('close', h.close);
  socket.on('drain', h.drain);
  if (first !== undefined) h.data(first);
}

/**
 * The TLS side of a client port: a tls.Server that never listens itself; accepted TCP connections
 * are handed to it (emit 'connection'), and the pipeline sees each once its handshake is done.
 */
function tlsAcceptor(t: ServerTls, accept: (s: ClientSocket) => ClientSocketHandlers): tls.Server {
  // requestCert stays as created; a reload replaces the stores only. Certificates are checked here
  // rather than by rejectUnauthorized, which closes the connection without saying why.
  const server = tls.createServer(
    { ...t.secureOptions, requestCert: t.requestCert, rejectUnauthorized: false, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS },
    (s) => {
      const cert = s.getPeerX509Certificate();
      if (cert === undefined && t.rejectUnauthorized) {
        log.warn({ addr: normalizeAddress(s.remoteAddress ?? '') }, 'Unsuccessful TLS handshake: client sent no certificate (ssl.clientAuth=need)');
        s.destroy();
        return;
      }
      // want: a client may send no certificate, but one it sends must be trusted (as Java's SSLEngine insists).
      if (cert !== undefined && !s.authorized) {
        log.warn(
          { addr: normalizeAddress(s.remoteAddress ?? ''), err: String(s.authorizationError) },
          'Unsuccessful TLS handshake: client certificate not trusted',
        );
        s.destroy();
        return;
      }
      attach(s, new TcpClientSocket(s, true, cert?.raw), accept);
    },
  );
  server.on('tlsClientError', (e, s) => {
    log.warn({ addr: normalizeAddress(s.remoteAddress ?? ''), err: e.message }, 'Unsuccessful TLS handshake');
    s.destroy();
  });
  return server;
}

export const listenTcpClients: ListenClients = (port, address, accept, portTls?: ClientPortTls) =>
  new Promise<ClientListener>((resolve, reject) => {
    // The stores are opened at bind time: a bad one stops the server (ConfigError naming the key).
    const timeout_ms = portTls?.ssl.handshakeDetectionTimeout_ms ?? 0;
    const t = portTls === undefined ? undefined : tlsAcceptor(serverTls(portTls.ssl), accept);
    const unwatch = t !== undefined && portTls!.ssl.certReload ? watchStores(portTls!.ssl, 'client', (n) => t.setSecureContext(n.secureOptions)) : undefined;
    const server = net.createServer({ noDelay: true }, (socket) => {
      if (t === undefined) return attach(socket, new TcpClientSocket(socket, false, undefined), accept);
      if (!portTls!.unified) return void t.emit('connection', socket);
      // Unified port: the first byte tells a TLS ClientHello from a plaintext ConnectRequest or four-letter word.
      detectTls(
        socket,
        timeout_ms,
        (isTls, first) => {
          if (isTls) {
            socket.unshift(first);
            t.emit('connection', socket);
          } else {
            attach(socket, new TcpClientSocket(socket, false, undefined), accept, first);
            socket.resume();
          }
        },
        () => {
          log.warn({ addr: normalizeAddress(socket.remoteAddress ?? '') }, 'closing connection: nothing received to tell TLS from plaintext in time');
          socket.destroy();
        },
      );
    });
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      // After listen() succeeded, a listener error (e.g. EMFILE on accept) must not take the server down.
      server.on('error', (e) => log.error({ err: e, port }, 'client port listener error'));
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a !== null ? a.port : port,
        close: () => {
          unwatch?.();
          return new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });

export const nodePipelineIo: PipelineIo = { clock: nodeClock, listenClients: listenTcpClients };
