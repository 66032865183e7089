/**
 * One directed link between two cluster members (127.0.0.1 only): member A dials the proxy, which
 * pipes to member B's real quorum or election port. cut() resets every connection and refuses new
 * ones, as a network partition seen through TCP resets would; restore() forwards again.
 */
import net from 'node:net';

/** Returns undefined while more bytes are needed, else the rewritten prefix and how many input bytes it replaces. */
export type FirstMessageRewriter = (buf: Buffer) => { out: Buffer; consumed: number } | undefined;

export interface LinkProxy {
  readonly port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startLinkProxy(targetPort: () => number, rewriteFirst?: FirstMessageRewriter): Promise<LinkProxy> {
  let cut = false;
  const live = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort(), '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    live.add(client);
    live.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
    upstream.pipe(client);
    if (rewriteFirst === undefined) {
      client.pipe(upstream);
      return;
    }
    let head: Buffer | null = Buffer.alloc(0);
    client.on('data', (c: Buffer) => {
      if (head === null) return void upstream.write(c);
      head = Buffer.concat([head, c]);
      const r = rewriteFirst(head);
      if (r === undefined) return;
      upstream.write(Buffer.concat([r.out, head.subarray(r.consumed)]));
      head = null;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('link proxy: no port');
  const resetAll = (): void => {
    for (const s of live) s.resetAndDestroy();
    live.clear();
  };
  return {
    port: addr.port,
    cut() {
      cut = true;
      resetAll();
    },
    restore() {
      cut = false;
    },
    close() {
      resetAll();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * ZooKeeper's election InitialMessage (QuorumCnxManager): long protocol version (-65536 or
 * -65535), long sid, int length, then "host:port". The receiving peer connects back to that
 * address, so it is pointed at `advertise` (the proxy of the link back) to keep connect-backs
 * cuttable too. Anything else passes through unchanged.
 */
export function electionInitialMessageRewriter(advertise: () => string): FirstMessageRewriter {
  return (buf) => {
    if (buf.length < 8) return undefined;
    const version = buf.readBigInt64BE(0);
    if (version !== -65536n && version !== -65535n) return { out: Buffer.alloc(0), consumed: 0 };
    if (buf.length < 20) return undefined;
    const len = buf.readInt32BE(16);
    if (len <= 0 || len > 4096) return { out: Buffer.alloc(0), consumed: 0 };
    if (buf.length < 20 + len) return undefined;
    const addr = Buffer.from(advertise(), 'utf8');
    const out = Buffer.alloc(20 + addr.length);
    buf.copy(out, 0, 0, 16);
    out.writeInt32BE(addr.length, 16);
    addr.copy(out, 20);
    return { out, consumed: 20 + len };
  };
}
