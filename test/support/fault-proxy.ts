/**
 * A fault-injecting TCP forwarder for one directed link between two peers (127.0.0.1 only).
 * State 'up' forwards bytes both ways; 'reset' closes every connection and refuses new ones
 * (the peer sees RST/EOF at once); 'blackhole' keeps connections open but holds every byte in
 * both directions (the peer only notices through its own timeouts, as in a real partition before
 * TCP gives up); back to 'up', the held bytes flow on in order, as TCP retransmission would.
 * `rewriteFirst` may rewrite the first message a connecting peer sends (used to rewrite the
 * address in ZooKeeper's election InitialMessage so connect-backs also go through a proxy).
 */
import net from 'node:net';

export type LinkState = 'up' | 'reset' | 'blackhole';

export interface FaultProxy {
  readonly port: number;
  readonly name: string;
  state(): LinkState;
  setState(s: LinkState): void;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/** Returns undefined while more bytes are needed, else the rewritten prefix and how many input bytes it replaces. */
export type FirstMessageRewriter = (buf: Buffer) => { out: Buffer; consumed: number } | undefined;

/** Bytes buffered per direction while the far side is slow before reading pauses. */
const WRITE_BUFFER_BYTES_MAX = 4 * 1024 * 1024;

export async function startFaultProxy(name: string, targetPort: number | (() => number), opts: { rewriteFirst?: FirstMessageRewriter } = {}): Promise<FaultProxy> {
  let state: LinkState = 'up';
  let accepted = 0;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const held = new Set<() => void>();
  const forward = (from: net.Socket, to: net.Socket): ((c: Buffer) => void) => {
    const queue: Buffer[] = [];
    const flush = (): void => {
      while (queue.length > 0 && state === 'up' && !to.destroyed) {
        if (!to.write(queue.shift()!) && to.writableLength > WRITE_BUFFER_BYTES_MAX) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      }
      if (queue.length === 0) held.delete(flush);
    };
    return (c: Buffer) => {
      queue.push(c);
      if (state !== 'up') {
        // Partitioned: hold the bytes and stop reading (the kernel buffers then fill up).
        held.add(flush);
        from.pause();
        held.add(() => from.resume());
        return;
      }
      flush();
    };
  };
  const server = net.createServer((client) => {
    accepted++;
    if (state === 'reset') {
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = net.connect(typeof targetPort === 'number' ? targetPort : targetPort(), '127.0.0.1');
    upstream.setNoDelay(true);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const s of pair) {
      s.on('error', kill);
      s.on('close', kill);
    }
    upstream.on('data', forward(upstream, client));
    const toUpstream = forward(client, upstream);
    if (opts.rewriteFirst === undefined) {
      client.on('data', toUpstream);
      return;
    }
    let head: Buffer | null = Buffer.alloc(0);
    const rewrite = opts.rewriteFirst;
    client.on('data', (c: Buffer) => {
      if (head === null) return toUpstream(c);
      head = Buffer.concat([head, c]);
      const r = rewrite(head);
      if (r === undefined) return;
      const rest = head.subarray(r.consumed);
      head = null;
      toUpstream(Buffer.concat([r.out, rest]));
    });
  });
  // Port 0: bound at once, so it cannot collide with ports reserved (and not yet bound) elsewhere.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('fault proxy: no port');
  const port = addr.port;
  const dropAll = (): void => {
    for (const [c, u] of [...pairs]) {
      c.resetAndDestroy();
      u.resetAndDestroy();
    }
    pairs.clear();
  };
  return {
    port,
    name,
    state: () => state,
    setState(s: LinkState) {
      state = s;
      if (s === 'reset') dropAll();
      if (s === 'up') {
        const fns = [...held];
        held.clear();
        for (const f of fns) f();
      }
    },
    accepted: () => accepted,
    close() {
      dropAll();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * ZooKeeper's election InitialMessage (QuorumCnxManager): long protocol version (-65536 or
 * -65535), long sid, int length, then "host:port" (v2: '|'-separated). The receiving peer
 * connects back to that address, so point it at `advertise` (a proxy) instead of the real port.
 * Anything that is not such a message is passed through unchanged.
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
