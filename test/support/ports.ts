import net from 'node:net';

// One record of the ports this process handed out, shared with tszk/testing's clusters.
export { freePort } from '../../src/testing/ports.js';

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
