/**
 * The client port while a quorum peer is not serving (electing, syncing): four-letter words get
 * ZooKeeper's "not currently serving" answer (ruok still says imok: the process is alive), and
 * client connections are closed at once so clients move on to another member.
 */
import { fourLetterCode } from '../../proto/fourLetterWords.js';
import type { ClientListener, ClientSocket, ClientSocketHandlers, ListenClients } from '../io.js';

export const NOT_SERVING_TEXT = 'This ZooKeeper instance is not currently serving requests\n';

export class NotServingListener {
  private listener: ClientListener | undefined;
  private readonly sockets = new Set<ClientSocket>();

  constructor(
    private readonly listenClients: ListenClients,
    private readonly describe: () => string,
  ) {}

  async listen(port: number, host: string): Promise<void> {
    this.listener = await this.listenClients(port, host, (s) => this.accept(s));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await this.listener?.close();
    this.listener = undefined;
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
