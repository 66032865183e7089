/**
 * The client port while a quorum peer is not serving (electing, syncing): four-letter words get
 * ZooKeeper's "not currently serving" answer (ruok still says imok: the process is alive), and
 * client connections are closed at once so clients move on to another member.
 */
import net from 'node:net';
import { fourLetterCode } from '../../proto/fourLetterWords.js';

export const NOT_SERVING_TEXT = 'This ZooKeeper instance is not currently serving requests\n';

export class NotServingListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly describe: () => string) {
    this.server = net.createServer((s) => this.accept(s));
    // After listen() succeeded, a listener error (e.g. EMFILE on accept) must not crash the peer.
    this.server.on('error', () => undefined);
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }

  private accept(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    s.once('data', (chunk: Buffer) => {
      const word = chunk.length >= 4 ? fourLetterCode(chunk.readInt32BE(0)) : undefined;
      if (word === 'ruok') s.end('imok');
      else if (word === 'srvr' || word === 'stat') s.end(NOT_SERVING_TEXT + this.describe());
      // ZooKeeper's isro with no server running prints "null" (neither ro nor rw).
      else if (word === 'isro') s.end('null');
      else if (word !== undefined) s.end(NOT_SERVING_TEXT);
      else s.destroy();
    });
  }
}
