import net from 'node:net';

/**
 * Ports this process handed out: the kernel may give the same ephemeral port to two binds in a
 * row once the first is closed, and a harness asking for a peer's client, quorum and election
 * ports before any of them is bound would then give two roles one port (seen: EADDRINUSE).
 */
const handedOut = new Set<number>();
/** Beyond this many, the oldest are forgotten (the kernel cycles through ~28k ephemeral ports). */
const HANDED_OUT_MAX = 4096;

/** A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close), never one this process handed out recently. */
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

/** Send a four-letter word and collect the answer until the server closes (or timeout). */
export async function fourLetter(port: number, word: string, timeout_ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`4lw ${word}: no answer within ${timeout_ms} ms`));
    }, timeout_ms);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
