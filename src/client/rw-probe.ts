/**
 * Asks a server with the `isro` four-letter word whether it serves writes ("rw") or is a
 * read-only server ("ro"), as the Java client does while it sits on a read-only server. The Java
 * client always asks in plaintext, which a TLS-only port (secureClientPort) never answers; a
 * client with TLS options asks over TLS instead (`open`), as ZooKeeper's and tszk's TLS ports
 * answer four-letter words.
 */
import net from 'node:net';
import type { HostPort } from './connect-string.js';

/** Like the Java client's probe socket timeout. */
export const RW_PROBE_TIMEOUT_MS = 1000;

/** Opens a connection to `hp`, calling `ready` once bytes may go out. */
export type OpenSocket = (hp: HostPort, ready: () => void) => net.Socket;

const plainSocket: OpenSocket = (hp, ready) => net.connect({ host: hp.host, port: hp.port, noDelay: true }).once('connect', ready);

export function probeReadWrite(hp: HostPort, open: OpenSocket = plainSocket, timeout_ms = RW_PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = open(hp, () => sock.end('isro'));
    let answer = '';
    let settled = false;
    const done = (rw: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(rw);
    };
    const timer = setTimeout(() => done(false), timeout_ms);
    timer.unref();
    sock.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      if (answer.length >= 2 || answer.includes('\n')) done(answer.split('\n')[0] === 'rw');
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(answer.split('\n')[0] === 'rw'));
  });
}
