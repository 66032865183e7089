/** Loopback plumbing of the testing harness: free ports and four-letter words. */
import net from 'node:net';

/**
 * Ports handed out recently: the kernel may give the same port to two binds in a row once the
 * first is closed, and a cluster asks for all its members' ports before any member binds them.
 */
const handedOut = new Set<number>();
/** Beyond this many, the oldest are forgotten (the kernel cycles through ~28k ephemeral ports). */
const HANDED_OUT_MAX = 4096;

/** A TCP port on 127.0.0.1 that was free a moment ago and not handed out recently by this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await bindAndRelease();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (handedOut.size > HANDED_OUT_MAX) handedOut.delete(handedOut.values().next().value!);
    return port;
  }
}

function bindAndRelease(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
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
