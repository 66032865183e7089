/**
 * Election connections as ZooKeeper's QuorumCnxManager makes them: one TCP connection per pair of
 * peers on the election ports. The connecting side opens with
 *   long protocolVersion (-65536) | long sid | int length | "host:port" of its election address
 * and then both sides exchange length-framed messages (int length | bytes, at most 512 KiB).
 * Only the connection initiated by the higher sid survives: a lower-sid initiator sends its
 * handshake and drops the connection (the higher peer then connects back), and a peer accepting
 * a connection from a lower sid closes it and connects the other way.
 */
import net from 'node:net';
import { log } from '../../log.js';
import type { ElectionTransport } from './peerIo.js';

/** QuorumCnxManager.PROTOCOL_VERSION_V1: one "host:port" address in the handshake. */
export const ELECTION_PROTOCOL_VERSION = -65536n;
/** QuorumCnxManager.PACKETMAXSIZE */
export const ELECTION_MESSAGE_BYTES_MAX = 512 * 1024;
/** Bound on the handshake's address string (QuorumCnxManager's maxBuffer for it). */
const HANDSHAKE_ADDRESS_BYTES_MAX = 4096;
/** Messages queued per peer while no connection exists; older ones are dropped (ZooKeeper keeps 1). */
const SEND_QUEUE_MAX = 16;
/** Reconnect back-off (cnxTimeout-like bounds). */
const RECONNECT_DELAY_MS_MIN = 50;
const RECONNECT_DELAY_MS_MAX = 2000;
const CONNECT_TIMEOUT_MS = 5000;

export interface ElectionPeer {
  sid: bigint;
  host: string;
  electionPort: number;
}

interface PeerLink {
  peer: ElectionPeer;
  socket: net.Socket | undefined;
  queue: Buffer[];
  connecting: boolean;
  nextAttempt_ms: number;
  delay_ms: number;
  retry: NodeJS.Timeout | undefined;
}

export class ElectionConnections implements ElectionTransport {
  private readonly links = new Map<bigint, PeerLink>();
  private server: net.Server | undefined;
  private closed = false;

  constructor(
    private readonly mySid: bigint,
    private readonly me: ElectionPeer,
    peers: readonly ElectionPeer[],
    private readonly listenHost: string,
    private readonly onMessage: (from: bigint, msg: Buffer) => void,
  ) {
    for (const p of peers) this.addPeer(p);
  }

  /** A member of a new config, or a server that connected to us (ZooKeeper's connectNewPeers / a joiner's handshake). */
  addPeer(p: ElectionPeer): void {
    if (p.sid === this.mySid) return;
    const link = this.links.get(p.sid);
    if (link !== undefined) {
      link.peer = p;
      return;
    }
    this.links.set(p.sid, {
      peer: p,
      socket: undefined,
      queue: [],
      connecting: false,
      nextAttempt_ms: 0,
      delay_ms: RECONNECT_DELAY_MS_MIN,
      retry: undefined,
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true }, (s) => this.accept(s));
      server.once('error', reject);
      server.listen(this.me.electionPort, this.listenHost, () => {
        server.off('error', reject);
        server.on('error', (e) => log.error({ err: e }, 'election listener error'));
        this.server = server;
        log.info({ address: `${this.listenHost}:${this.me.electionPort}` }, 'election port listening');
        resolve();
      });
    });
  }

  /** Queues a message for `to`; connects if needed. */
  send(to: bigint, msg: Buffer): void {
    const link = this.links.get(to);
    if (link === undefined || this.closed) return;
    if (msg.length > ELECTION_MESSAGE_BYTES_MAX) throw new Error(`election message of ${msg.length} bytes exceeds ${ELECTION_MESSAGE_BYTES_MAX}`);
    if (link.socket !== undefined) {
      writeFramed(link.socket, msg);
      return;
    }
    link.queue.push(msg);
    if (link.queue.length > SEND_QUEUE_MAX) link.queue.shift();
    this.connect(link);
  }

  close(): void {
    this.closed = true;
    for (const l of this.links.values()) if (l.retry !== undefined) clearTimeout(l.retry);
    this.server?.close();
    for (const l of this.links.values()) l.socket?.destroy();
  }

  private connect(link: PeerLink): void {
    if (link.connecting || link.socket !== undefined || this.closed) return;
    const now = Date.now();
    if (now < link.nextAttempt_ms) {
      if (link.retry === undefined) {
        link.retry = setTimeout(() => {
          link.retry = undefined;
          if (link.queue.length > 0) this.connect(link);
        }, link.nextAttempt_ms - now);
        link.retry.unref();
      }
      return;
    }
    link.connecting = true;
    const s = net.connect({ host: link.peer.host, port: link.peer.electionPort, noDelay: true });
    s.setTimeout(CONNECT_TIMEOUT_MS, () => s.destroy(new Error('connect timeout')));
    const failed = (e?: Error): void => {
      link.connecting = false;
      link.nextAttempt_ms = Date.now() + link.delay_ms;
      link.delay_ms = Math.min(link.delay_ms * 2, RECONNECT_DELAY_MS_MAX);
      log.debug({ sid: String(link.peer.sid), err: e?.message }, 'election connection failed');
    };
    // Errors after the handshake (e.g. a reset of a connection we are dropping) must not go unhandled.
    s.on('error', (e) => log.debug({ sid: String(link.peer.sid), err: e.message }, 'election connection error'));
    s.once('error', failed);
    s.once('connect', () => {
      s.off('error', failed);
      s.setTimeout(0);
      link.connecting = false;
      writeHandshake(s, this.mySid, this.me);
      if (link.peer.sid > this.mySid) {
        // The higher sid keeps the connection it makes; it will connect back to us.
        s.end();
        link.nextAttempt_ms = Date.now() + link.delay_ms;
        link.delay_ms = Math.min(link.delay_ms * 2, RECONNECT_DELAY_MS_MAX);
        return;
      }
      this.adopt(link, s);
    });
  }

  /** A connection to `link`'s peer is established: flush the queue and read messages. */
  private adopt(link: PeerLink, s: net.Socket): void {
    if (link.socket !== undefined && link.socket !== s) link.socket.destroy();
    link.socket = s;
    link.delay_ms = RECONNECT_DELAY_MS_MIN;
    link.nextAttempt_ms = 0;
    log.info({ sid: String(link.peer.sid) }, 'election connection established');
    for (const m of link.queue.splice(0)) writeFramed(s, m);
    readFramed(
      s,
      (m) => this.onMessage(link.peer.sid, m),
      () => {
        if (link.socket === s) link.socket = undefined;
      },
    );
  }

  private accept(s: net.Socket): void {
    s.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 16) return;
      const version = buf.readBigInt64BE(0);
      let sid: bigint;
      let used: number;
      if (version >= 0n) {
        // Pre-3.5 peers send the sid alone.
        sid = version;
        used = 8;
      } else {
        if (buf.length < 20) return;
        sid = buf.readBigInt64BE(8);
        const n = buf.readInt32BE(16);
        if (n < 0 || n > HANDSHAKE_ADDRESS_BYTES_MAX) {
          log.warn({ n }, 'election handshake: bad address length; closing');
          s.destroy();
          return;
        }
        if (buf.length < 20 + n) return;
        used = 20 + n;
      }
      s.off('data', onData);
      // A server not in our config (one joining by reconfig) is reached at the address it names.
      const named = used > 20 ? electionAddress(sid, buf.subarray(20, used).toString('utf8')) : undefined;
      if (named !== undefined && !this.links.has(sid)) this.addPeer(named);
      const link = this.links.get(sid);
      if (link === undefined) {
        log.warn({ sid: String(sid) }, 'election connection from an unknown server id; closing');
        s.destroy();
        return;
      }
      if (sid < this.mySid) {
        // Lower sid: we are the one to connect.
        s.destroy();
        link.nextAttempt_ms = 0;
        this.connect(link);
        return;
      }
      const rest = buf.subarray(used);
      this.adopt(link, s);
      if (rest.length > 0) s.unshift(rest);
    };
    s.on('data', onData);
    s.on('error', () => undefined);
  }
}

/** The handshake's "host:port" (the last colon splits, for IPv6 hosts). */
function electionAddress(sid: bigint, addr: string): ElectionPeer | undefined {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { sid, host: addr.slice(0, i).replace(/^\[(.*)\]$/, '$1'), electionPort: port };
}

function writeHandshake(s: net.Socket, sid: bigint, me: ElectionPeer): void {
  const addr = Buffer.from(`${me.host}:${me.electionPort}`, 'utf8');
  const b = Buffer.alloc(20 + addr.length);
  b.writeBigInt64BE(ELECTION_PROTOCOL_VERSION, 0);
  b.writeBigInt64BE(sid, 8);
  b.writeInt32BE(addr.length, 16);
  addr.copy(b, 20);
  s.write(b);
}

function writeFramed(s: net.Socket, msg: Buffer): void {
  const h = Buffer.alloc(4);
  h.writeInt32BE(msg.length);
  s.write(Buffer.concat([h, msg]));
}

function readFramed(s: net.Socket, onMessage: (m: Buffer) => void, onClose: () => void): void {
  let buf: Buffer = Buffer.alloc(0);
  s.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let off = 0;
    while (buf.length - off >= 4) {
      const n = buf.readInt32BE(off);
      if (n <= 0 || n > ELECTION_MESSAGE_BYTES_MAX) {
        log.warn({ n }, 'election message length out of bounds; closing');
        s.destroy();
        return;
      }
      if (buf.length - off < 4 + n) break;
      onMessage(buf.subarray(off + 4, off + 4 + n));
      off += 4 + n;
    }
    buf = buf.subarray(off);
  });
  s.on('error', () => undefined);
  s.on('close', onClose);
}
