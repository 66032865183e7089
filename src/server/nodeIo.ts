/** The real effects behind io.ts: Node's clock and timers, TCP client ports. */
import net from 'node:net';
import { log } from '../log.js';
import type { ClientListener, ClientSocket, ClientSocketHandlers, Clock, ListenClients, PipelineIo } from './io.js';

export const nodeClock: Clock = {
  now_ms: () => Date.now(),
  after(delay_ms, fn) {
    const t = setTimeout(fn, delay_ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  soon: (fn) => void setImmediate(fn),
};

function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.substring(7) : a;
}

class TcpClientSocket implements ClientSocket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  constructor(private readonly s: net.Socket) {
    this.remoteAddress = normalizeAddress(s.remoteAddress ?? '');
    this.remotePort = s.remotePort ?? 0;
  }
  get writableLength(): number {
    return this.s.writableLength;
  }
  write(bytes: Buffer): void {
    this.s.write(bytes);
  }
  end(last?: string): void {
    if (last === undefined) this.s.end();
    else this.s.end(last);
    this.s.destroySoon();
  }
  destroy(): void {
    this.s.destroy();
  }
  pause(): void {
    this.s.pause();
  }
  resume(): void {
    this.s.resume();
  }
}

export const listenTcpClients: ListenClients = (port, address, accept) =>
  new Promise<ClientListener>((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, (socket) => {
      const wrapped = new TcpClientSocket(socket);
      const h: ClientSocketHandlers = accept(wrapped);
      socket.on('data', h.data);
      socket.on('error', (e) => log.debug({ err: e.message, addr: wrapped.remoteAddress }, 'client socket error'));
      socket.on('close', h.close);
      socket.on('drain', h.drain);
    });
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      // After listen() succeeded, a listener error (e.g. EMFILE on accept) must not take the server down.
      server.on('error', (e) => log.error({ err: e, port }, 'client port listener error'));
      const a = server.address();
      resolve({
        port: typeof a === 'object' && a !== null ? a.port : port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });

export const nodePipelineIo: PipelineIo = { clock: nodeClock, listenClients: listenTcpClients };
