/**
 * Asks a server with the `isro` four-letter word whether it serves writes ("rw") or is a
 * read-only server ("ro"), as the Java client does while it sits on a read-only server.
 */
import net from 'node:net';
import type { HostPort } from './connect-string.js';

/** Like the Java client's probe socket timeout. */
export const RW_PROBE_TIMEOUT_MS = 1000;

export function probeReadWrite(hp: HostPort, timeout_ms = RW_PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: hp.host, port: hp.port, noDelay: true });
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
    sock.on('connect', () => sock.end('isro'));
    sock.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      if (answer.length >= 2 || answer.includes('\n')) done(answer.split('\n')[0] === 'rw');
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(answer.split('\n')[0] === 'rw'));
  });
}
