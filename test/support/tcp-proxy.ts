/**
 * The one TCP forwarder of the tests (127.0.0.1 only). Clients connect to the proxy, which pipes
 * to a target port (fixed, a function read at each accept, or moved with retarget()).
 * - Client/interop tests: dropAll() closes every live connection so the client must re-establish
 *   its session; retarget() sends new connections to another server.
 * - Fault tests (one proxy per directed link between peers): setState('up') forwards bytes both
 *   ways; 'reset' sends RST on every connection and refuses new ones; 'blackhole' keeps
 *   connections open but holds every byte in both directions (peers notice only through their own
 *   timeouts); back to 'up', the held bytes flow on in order, as TCP retransmission would.
 *   `rewriteFirst` may rewrite the first message a connecting peer sends (ZooKeeper's election
 *   InitialMessage, so connect-backs also go through a proxy).
 * - Quorum-wire capture: with `record`, every byte forwarded is kept per connection and direction
 *   (`connections`); stall() silently discards everything on the live connections from then on
 *   and refuses new ones until heal().
 */
import net from 'node:net';

export type LinkState = 'up' | 'reset' | 'blackhole';

export interface RecordedConnection {
  /** Order of acceptance across all recording proxies of the process (stable for fixtures). */
  seq: number;
  label: string;
  opened_ms: number;
  closed_ms: number | null;
  /** Bytes from the connecting side to the listening peer. */
  toServer: Buffer[];
  /** Bytes from the listening peer back to the connecting side. */
  toClient: Buffer[];
}

export interface TcpProxy {
  readonly port: number;
  readonly name: string;
  readonly connectString: string;
  /** Connections accepted so far (a reconnect shows up as one more). */
  accepted(): number;
  live(): number;
  /** Close every live connection (FIN); new ones are still forwarded. */
  dropAll(): void;
  retarget(port: number): void;
  state(): LinkState;
  setState(s: LinkState): void;
  /** Recorded connections, in order of acceptance (empty unless started with `record`). */
  readonly connections: RecordedConnection[];
  /** Keep live connections open but discard everything on them from now on; refuse new ones until heal(). */
  stall(): void;
  /** Accept and forward again (state 'up'); connections stalled earlier stay silent. */
  heal(): void;
  close(): Promise<void>;
}

/** Returns undefined while more bytes are needed, else the rewritten prefix and how many input bytes it replaces. */
export type { FirstMessageRewriter } from '../../src/testing/link-proxy.js';
import type { FirstMessageRewriter } from '../../src/testing/link-proxy.js';

export interface TcpProxyOptions {
  name?: string;
  /** Keep the bytes forwarded on each connection (see RecordedConnection). */
  record?: boolean;
  rewriteFirst?: FirstMessageRewriter;
  /** Disable Nagle on both sides (the fault links, where delays are measured). */
  noDelay?: boolean;
}

/** Bytes buffered per direction while the far side is slow before reading pauses. */
const WRITE_BUFFER_BYTES_MAX = 4 * 1024 * 1024;
/** Bound on what one proxy keeps per direction of one connection; later bytes are forwarded, not kept. */
const RECORD_BYTES_MAX = 8 * 1024 * 1024;
let nextSeq = 0;

export const joined = (chunks: Buffer[]): Buffer => Buffer.concat(chunks);

interface Conn {
  client: net.Socket;
  upstream: net.Socket;
  rec: RecordedConnection | null;
  /** Stalled: bytes are dropped, never forwarded (for good). */
  discard: boolean;
}

export async function startTcpProxy(targetPort: number | (() => number), opts: TcpProxyOptions = {}): Promise<TcpProxy> {
  let target = targetPort;
  let state: LinkState = 'up';
  let stalled = false;
  let accepted = 0;
  const name = opts.name ?? `proxy->${typeof targetPort === 'number' ? targetPort : '?'}`;
  const conns = new Set<Conn>();
  const connections: RecordedConnection[] = [];
  const held = new Set<() => void>();

  const forward = (conn: Conn, from: net.Socket, to: net.Socket, dir: 'toServer' | 'toClient'): ((c: Buffer) => void) => {
    const queue: Buffer[] = [];
    let kept_bytes = 0;
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
      if (conn.discard) return;
      if (conn.rec !== null && kept_bytes + c.length <= RECORD_BYTES_MAX) {
        kept_bytes += c.length;
        conn.rec[dir].push(c);
      }
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
    if (stalled) {
      client.destroy();
      return;
    }
    const upstream = net.connect(typeof target === 'number' ? target : target(), '127.0.0.1');
    if (opts.noDelay === true) {
      client.setNoDelay(true);
      upstream.setNoDelay(true);
    }
    const rec: RecordedConnection | null =
      opts.record === true ? { seq: nextSeq++, label: name, opened_ms: Date.now(), closed_ms: null, toServer: [], toClient: [] } : null;
    if (rec !== null) connections.push(rec);
    const conn: Conn = { client, upstream, rec, discard: false };
    conns.add(conn);
    const kill = (): void => {
      if (rec !== null && rec.closed_ms === null) rec.closed_ms = Date.now();
      client.destroy();
      upstream.destroy();
      conns.delete(conn);
    };
    for (const s of [client, upstream]) {
      s.on('error', kill);
      s.on('close', kill);
    }
    upstream.on('data', forward(conn, upstream, client, 'toClient'));
    const toUpstream = forward(conn, client, upstream, 'toServer');
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
  if (addr === null || typeof addr === 'string') throw new Error('tcp proxy: no port');
  const port = addr.port;

  const closeAll = (how: 'close' | 'reset'): void => {
    for (const c of [...conns]) {
      if (how === 'reset') {
        c.client.resetAndDestroy();
        c.upstream.resetAndDestroy();
      } else {
        c.client.destroy();
        c.upstream.destroy();
      }
    }
    conns.clear();
  };
  const setState = (s: LinkState): void => {
    state = s;
    if (s === 'reset') closeAll('reset');
    if (s === 'up') {
      const fns = [...held];
      held.clear();
      for (const f of fns) f();
    }
  };
  return {
    port,
    name,
    connectString: `127.0.0.1:${port}`,
    accepted: () => accepted,
    live: () => conns.size,
    dropAll: () => closeAll('close'),
    retarget(p: number) {
      target = p;
    },
    state: () => state,
    setState,
    connections,
    stall() {
      stalled = true;
      for (const c of conns) c.discard = true;
    },
    heal() {
      stalled = false;
      setState('up');
    },
    close() {
      closeAll(state === 'up' ? 'close' : 'reset');
      return new Promise((r) => server.close(() => r()));
    },
  };
}

// ZooKeeper's election InitialMessage rewritten to point connect-backs at a proxy: one copy, in tszk/testing.
export { electionInitialMessageRewriter } from '../../src/testing/link-proxy.js';
