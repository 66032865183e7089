/**
 * The client ports while a quorum peer is not serving (electing, syncing): four-letter words get
 * ZooKeeper's "not currently serving" answer (ruok still says imok: the process is alive), and
 * client connections are closed at once so clients move on to another member. The same ports as
 * when serving answer, TLS ones included (secureClientPort, a unified clientPort), as ZooKeeper
 * keeps its Netty factories bound through elections.
 */
import { fourLetterCode } from '../../proto/fourLetterWords.js';
import { clientPorts, type ClientListener, type ClientSocket, type ClientSocketHandlers, type ListenClients } from '../io.js';
import type { ServerOptions } from '../options.js';

export const NOT_SERVING_TEXT = 'This ZooKeeper instance is not currently serving requests\n';

export class NotServingListener {
  private listeners: ClientListener[] = [];
  private readonly sockets = new Set<ClientSocket>();

  constructor(
    private readonly listenClients: ListenClients,
    private readonly describe: () => string,
  ) {}

  async listen(o: ServerOptions): Promise<void> {
    for (const p of clientPorts(o)) this.listeners.push(await this.listenClients(p.port, p.address, (s) => this.accept(s), p.tls));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const listeners = this.listeners;
    this.listeners = [];
    await Promise.all(listeners.map((l) => l.close()));
  }

  private accept(s: ClientSocket): ClientSocketHandlers {
    this.sockets.add(s);
    let answered = false;
    return {
      data: (chunk) => {
        if (answered) return;
        answered = true;
        const word = chunk.length >= 4 ? fourLetterCode(chunk.readInt32BE(0)) : undefined;
        if (word === 'ruok') s.end('imok');
        else if (word === 'srvr' || word === 'stat') s.end(NOT_SERVING_TEXT + this.describe());
        // ZooKeeper's isro with no server running prints "null" (neither ro nor rw).
        else if (word === 'isro') s.end('null');
        else if (word !== undefined) s.end(NOT_SERVING_TEXT);
        else s.destroy();
      },
      close: () => this.sockets.delete(s),
      drain: () => undefined,
    };
  }
}
