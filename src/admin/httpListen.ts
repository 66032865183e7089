/**
 * What the AdminServer and the /metrics server share around their handlers: a malformed request
 * closes that one connection with a log line, the port is bound (or the start fails with the
 * caller's error naming it), and closing ends every open connection.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { log } from '../log.js';

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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(bindError(e)));
    server.listen(port, address, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
