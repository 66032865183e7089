/**
 * A tiny TCP forwarder on 127.0.0.1 for reconnect tests: clients connect to the proxy, which
 * pipes to the server; dropAll() cuts every live connection (both sides) so that the client
 * has to re-establish its session on a new connection. retarget() points new connections at
 * another server port (after a restart).
 */
import net from 'node:net';
import { freePort } from './ports.js';

export interface TcpProxy {
  port: number;
  connectString: string;
  /** Connections accepted so far (a reconnect shows up as one more). */
  accepted(): number;
  live(): number;
  dropAll(): void;
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let accepted = 0;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(target, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', kill);
    upstream.on('close', kill);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    accepted: () => accepted,
    live: () => pairs.size,
    dropAll() {
      for (const [c, u] of [...pairs]) {
        c.destroy();
        u.destroy();
      }
      pairs.clear();
    },
    retarget(p: number) {
      target = p;
    },
    close() {
      for (const [c, u] of [...pairs]) {
        c.destroy();
        u.destroy();
      }
      pairs.clear();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
