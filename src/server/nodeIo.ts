/**
 * The real effects behind io.ts: Node's clock and timers, TCP client ports, TLS on them
 * (tlsContext.ts, tlsListen.ts: loaded only for a TLS port, as node:tls and node:crypto cost a
 * plaintext server's start-up several milliseconds).
 */
import net from 'node:net';
import { log } from '../log.js';
import { remoteAddress } from '../proto/addresses.js';
import type { ClientListener, ClientPortTls, ClientSocket, ClientSocketHandlers, Clock, ListenClients, PipelineIo } from './io.js';

export const nodeClock: Clock = {
  now_ms: () => Date.now(),
  after(delay_ms, fn) {
    const t = setTimeout(fn, delay_ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  soon: (fn) => void setImmediate(fn),
};

class TcpClientSocket implements ClientSocket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  constructor(
    private readonly s: net.Socket,
    readonly secure: boolean,
    readonly peerCertificate: Buffer | undefined,
  ) {
    this.remoteAddress = remoteAddress(s);
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

/** A TLS client port's acceptor, its first-byte check (unified port) and its store watch. */
async function tlsPort(portTls: ClientPortTls, accept: (s: ClientSocket) => ClientSocketHandlers) {
  const [{ serverTls }, { detectTls, tlsAcceptor, watchStores }] = await Promise.all([import('./tlsContext.js'), import('./tlsListen.js')]);
  const acceptor = tlsAcceptor(serverTls(portTls.ssl), 'client port', 'ssl.clientAuth', (s) =>
    attach(s, new TcpClientSocket(s, true, s.getPeerX509Certificate()?.raw), accept),
  );
  const unwatch = watchStores(portTls.ssl, 'client', (n) => acceptor.setSecureContext(n.secureOptions));
  return { acceptor, detectTls, unwatch, unified: portTls.unified };
}

export const listenTcpClients: ListenClients = async (port, address, accept, portTls?: ClientPortTls) => {
  // The stores are opened at bind time: a bad one stops the server (ConfigError naming the key).
  const secure = portTls === undefined ? undefined : await tlsPort(portTls, accept);
  return new Promise<ClientListener>((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, (socket) => {
      if (secure === undefined) return attach(socket, new TcpClientSocket(socket, false, undefined), accept);
      if (!secure.unified) return void secure.acceptor.emit('connection', socket);
      // Unified port: the first byte tells a TLS ClientHello from a plaintext ConnectRequest or
      // four-letter word. As ZooKeeper's Netty port (DualModeSslHandler), it waits for that byte
      // however long it takes: ssl.handshakeDetectionTimeoutMillis is the quorum's.
      secure.detectTls(socket, (isTls, first) => {
        if (isTls) {
          socket.unshift(first);
          secure.acceptor.emit('connection', socket);
        } else {
          attach(socket, new TcpClientSocket(socket, false, undefined), accept, first);
          socket.resume();
        }
      });
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
          secure?.unwatch();
          return new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
};

export const nodePipelineIo: PipelineIo = { clock: nodeClock, listenClients: listenTcpClients };
