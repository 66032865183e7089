/**
 * What the AdminServer and the /metrics server share around their handlers: a malformed request
 * closes that one connection with a log line, the port is bound (or the start fails with the
 * caller's error naming it), and closing ends every open connection. With `https` the port takes
 * TLS only, or TLS and plaintext told apart by the first byte (`unified`).
 */
import type http from 'node:http';
import net, { type Socket } from 'node:net';
import { log } from '../log.js';
import type { SslOptions } from '../server/options.js';
import { serverTls } from '../server/tlsContext.js';
import { detectTls, tlsAcceptor } from '../server/tlsListen.js';

export interface HttpListener {
  /** The bound port (the one asked for, or the one picked for 0). */
  port: number;
  close(): Promise<void>;
}

export async function listenHttp(
  server: http.Server,
  what: string,
  address: string,
  port: number,
  bindError: (e: NodeJS.ErrnoException) => Error,
  https?: { unified: boolean; ssl: SslOptions },
): Promise<HttpListener> {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    log.warn({ err: err.message, code: err.code, remote: socket.remoteAddress }, `${what}: malformed HTTP request; connection closed`);
    if (!socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const front = https === undefined ? server : tlsFront(server, what, https, sockets);
  await new Promise<void>((resolve, reject) => {
    front.once('error', (e: NodeJS.ErrnoException) => reject(bindError(e)));
    front.listen(port, address, () => resolve());
  });
  const addr = front.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        front.close(() => resolve());
      }),
  };
}

/**
 * The listening side of an HTTPS (or unified) port: connections are handed to the HTTP server
 * once their handshake is done. No client certificate is asked for (Jetty's SslContextFactory
 * default, which ZooKeeper keeps); the stores open now, a bad one is a ConfigError naming its key.
 */
function tlsFront(server: http.Server, what: string, https: { unified: boolean; ssl: SslOptions }, sockets: Set<Socket>): net.Server {
  const secure = tlsAcceptor({ ...serverTls(https.ssl), requestCert: false, rejectUnauthorized: false }, what, 'ssl.quorum.clientAuth', (s) =>
    server.emit('connection', s),
  );
  return net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (!https.unified) return void secure.emit('connection', socket);
    detectTls(
      socket,
      (isTls, first) => {
        socket.unshift(first);
        if (isTls) return void secure.emit('connection', socket);
        server.emit('connection', socket);
        socket.resume();
      },
      { timeout_ms: https.ssl.handshakeDetectionTimeout_ms, timedOut: () => socket.destroy() },
    );
  });
}
