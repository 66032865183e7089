/** Loopback plumbing of the testing harness: free ports and four-letter words. */
import fs from 'node:fs';
import net from 'node:net';

/**
 * Ports handed out recently: a cluster asks for all its members' ports before any member binds
 * them, so the same port must not be handed out twice meanwhile.
 */
const handedOut = new Set<number>();
/** Beyond this many, the oldest are forgotten. */
const HANDED_OUT_MAX = 4096;
/** The lowest port handed out: above the registered services most machines run. */
const LOWEST_PORT = 20_000;
const MAX_RANGE_TRIES = 100;

/**
 * Where free ports are looked for: below the kernel's ephemeral range, so that an outgoing
 * connection made between handing a port out and binding it (members connecting to each other
 * while another member starts) cannot take it as its local port, which a port the kernel picked
 * from that range could not rule out. Without /proc (not Linux) or room below the range, the
 * kernel picks.
 */
const searchRange: { lo: number; hi: number } | undefined = (() => {
  try {
    const [low] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && low - LOWEST_PORT >= 1000 ? { lo: LOWEST_PORT, hi: low - 1 } : undefined;
  } catch {
    return undefined;
  }
})();

/** A TCP port on 127.0.0.1 that was free a moment ago and not handed out recently by this process. */
export async function freePort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    // Should binds in the range keep failing (a sandbox that forbids them), the kernel picks.
    const wanted =
      searchRange === undefined || tries >= MAX_RANGE_TRIES ? 0 : searchRange.lo + Math.floor(Math.random() * (searchRange.hi - searchRange.lo + 1));
    if (handedOut.has(wanted)) continue;
    const port = await bindAndRelease(wanted).catch(() => undefined);
    if (port === undefined || handedOut.has(port)) continue;
    handedOut.add(port);
    if (handedOut.size > HANDED_OUT_MAX) handedOut.delete(handedOut.values().next().value!);
    return port;
  }
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Sends a four-letter word to 127.0.0.1:port and collects the answer until the server closes. */
export function fourLetterWord(port: number, word: string, timeout_ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(new Error(`${word} on port ${port}: no answer within ${timeout_ms} ms`)), timeout_ms);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
