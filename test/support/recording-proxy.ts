/**
 * A TCP forwarder on 127.0.0.1 that keeps every byte it forwards, per connection and direction.
 * Put one in front of each peer's election and quorum port (the other peers' server.N lines point
 * at the proxy) to capture what Apache ZooKeeper (or tszk) really sends between peers.
 * `cut()`/`heal()` let a test partition the peer behind the proxy (new connections refused,
 * live ones dropped).
 */
import net from 'node:net';
import { freePort } from './ports.js';

export interface RecordedConnection {
  /** Order of acceptance across all proxies of the process (stable for fixtures). */
  seq: number;
  label: string;
  opened_ms: number;
  closed_ms: number | null;
  /** Bytes from the connecting side to the listening peer. */
  toServer: Buffer[];
  /** Bytes from the listening peer back to the connecting side. */
  toClient: Buffer[];
}

export interface RecordingProxy {
  port: number;
  label: string;
  targetPort: number;
  connections: RecordedConnection[];
  /** Drop live connections and refuse new ones until heal(). */
  cut(): void;
  /** Keep live connections open but discard everything on them from now on (a silent partition); refuse new ones until heal(). */
  stall(): void;
  heal(): void;
  close(): Promise<void>;
}

/** Bound on what one proxy keeps per direction of one connection; later bytes are forwarded, not kept. */
const RECORD_BYTES_MAX = 8 * 1024 * 1024;
let nextSeq = 0;

export const joined = (chunks: Buffer[]): Buffer => Buffer.concat(chunks);

export async function startRecordingProxy(targetPort: number, label: string): Promise<RecordingProxy> {
  const connections: RecordedConnection[] = [];
  const live = new Set<net.Socket>();
  let isCut = false;
  const stalled = new Set<RecordedConnection>();
  const liveRecs = new Set<RecordedConnection>();
  const server = net.createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const rec: RecordedConnection = { seq: nextSeq++, label, opened_ms: Date.now(), closed_ms: null, toServer: [], toClient: [] };
    connections.push(rec);
    liveRecs.add(rec);
    const upstream = net.connect(targetPort, '127.0.0.1');
    live.add(client);
    live.add(upstream);
    const sizes = { toServer: 0, toClient: 0 };
    const keep = (dir: 'toServer' | 'toClient', c: Buffer): void => {
      if (sizes[dir] + c.length > RECORD_BYTES_MAX) return;
      sizes[dir] += c.length;
      rec[dir].push(c);
    };
    client.on('data', (c: Buffer) => {
      if (stalled.has(rec)) return;
      keep('toServer', c);
      upstream.write(c);
    });
    upstream.on('data', (c: Buffer) => {
      if (stalled.has(rec)) return;
      keep('toClient', c);
      client.write(c);
    });
    const kill = (): void => {
      if (rec.closed_ms === null) rec.closed_ms = Date.now();
      liveRecs.delete(rec);
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', kill);
      s.on('close', kill);
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    label,
    targetPort,
    connections,
    cut() {
      isCut = true;
      for (const s of [...live]) s.destroy();
      live.clear();
    },
    stall() {
      isCut = true;
      for (const r of liveRecs) stalled.add(r);
    },
    heal() {
      isCut = false;
    },
    async close() {
      for (const s of [...live]) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
