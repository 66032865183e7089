/**
 * The quorum port: learners connect to the leader's quorum port and exchange QuorumPackets
 * (ZooKeeper's framing: bare jute records, see packetStream.ts). The leader side learns a
 * connection's server id from its first packet (FOLLOWERINFO/OBSERVERINFO). A learner opens a
 * fresh connection whenever the core sends FOLLOWERINFO/OBSERVERINFO. With quorum SASL the
 * learner authenticates first and the leader checks it before reading a packet (quorumAuth.ts);
 * TLS is below all of it (quorumSockets.ts).
 */
import type net from 'node:net';
import { log } from '../../log.js';
import type { QuorumMessage } from '../../zab/index.js';
import type { SnapshotSource } from '../../storage/snapshot.js';
import { encodeQuorumMessage, QuorumPacketDecoder } from './packetStream.js';
import type { QuorumTransport, QuorumTransportEvents } from './peerIo.js';
import { logAuthFailure, type QuorumAuth } from './quorumAuth.js';
import type { QuorumSockets } from './quorumSockets.js';
import { streamSnap } from './snapStream.js';
import { atTurnEnd } from '../../turnEnd.js';

const CONNECT_TIMEOUT_MS = 5000;

/** LearnerHandler.markerPacketInterval: the first packet to a learner and every 1000th after it are timed through the queue. */
const MARKER_PACKET_INTERVAL = 1000;
/** Bytes of a SNAP stream that may wait in a learner's socket before the leader waits for it to drain. */
const SNAP_WINDOW_BYTES = 4 * 1024 * 1024;
/** How long a dropped connection may take to flush what was written to it. */
const DROP_LINGER_MS = 1000;

export interface QuorumAddress {
  sid: bigint;
  host: string;
  quorumPort: number;
}

interface Conn {
  sid: bigint;
  socket: net.Socket;
  /** Set once we closed it on purpose (no disconnected event then). */
  dropped: boolean;
  corked: boolean;
  /** Packets written and not yet handed to the network (a learner's LearnerHandler queue). */
  queued: number;
  /** Packets written so far: every MARKER_PACKET_INTERVAL-th one is timed. */
  packets: number;
  /** Packets written before the connection can take them wait here: learner side until quorum SASL is over, leader side while a SNAP streams. */
  held: Buffer[] | undefined;
}

export class LearnerConnections implements QuorumTransport {
  private server: net.Server | undefined;
  /** Leader side: learners by sid. */
  private readonly incoming = new Map<bigint, Conn>();
  /** Learner side: our connection to the leader. */
  private outgoing: Conn | undefined;
  private closed = false;

  constructor(
    private readonly me: QuorumAddress,
    private readonly peers: ReadonlyMap<bigint, QuorumAddress>,
    private readonly listenHost: string,
    private readonly events: QuorumTransportEvents,
    private readonly sockets: QuorumSockets,
    private readonly auth: QuorumAuth,
  ) {}

  async listen(): Promise<void> {
    this.server = await this.sockets.listen('quorum port', this.listenHost, this.me.quorumPort, (s, first) => this.accept(s, first));
    log.info({ address: `${this.listenHost}:${this.me.quorumPort}` }, 'quorum port listening');
  }

  send(to: bigint, msg: QuorumMessage): void {
    if (this.closed) return;
    if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') return this.connectToLeader(to, encodeQuorumMessage(msg));
    const c = this.outgoing?.sid === to ? this.outgoing : this.incoming.get(to);
    if (c === undefined || c.dropped) return; // the connection is gone; the core hears 'disconnected'
    this.write(c, encodeQuorumMessage(msg));
  }

  /** Packets written in one event-loop turn go out in one syscall (cork until the turn ends). */
  private write(c: Conn, bytes: Buffer): void {
    if (c.held !== undefined) return void c.held.push(bytes);
    if (!c.corked) {
      c.corked = true;
      c.socket.cork();
      atTurnEnd(() => {
        if (!c.corked) return; // dropped meanwhile: drop() uncorked it
        c.corked = false;
        c.socket.uncork();
      });
    }
    const sent = this.events.sent;
    if (sent === undefined || this.incoming.get(c.sid) !== c) {
      c.socket.write(bytes);
      return;
    }
    const t0 = performance.now();
    const timed = c.packets++ % MARKER_PACKET_INTERVAL === 0;
    c.queued++;
    c.socket.write(bytes, (err) => {
      c.queued--;
      if (err === undefined || err === null) sent(c.sid, c.queued, timed ? performance.now() - t0 : undefined);
    });
  }

  /** Streams SNAP from `src` as the learner takes it (snapStream.ts); the packets sent meanwhile follow it. */
  sendSnapshot(to: bigint, zxid: bigint, src: SnapshotSource): void {
    const c = this.incoming.get(to);
    if (c === undefined || c.dropped) return;
    if (c.held !== undefined) throw new Error(`a second SNAP to learner ${to} while one streams`);
    c.held = [];
    const t0 = performance.now();
    streamSnap(zxid, src, (chunk) => this.writeStreamed(c, chunk)).then(
      (bytes) => {
        log.info({ learner: String(to), bytes, ms: Math.round(performance.now() - t0) }, 'SNAP streamed');
        const held = c.held ?? [];
        c.held = undefined;
        for (const b of held) this.write(c, b);
      },
      (e: unknown) => {
        if (c.dropped) return; // the learner went away mid-stream: the core hears 'disconnected'
        log.error({ learner: String(to), err: e }, 'SNAP stream failed; closing the connection');
        c.socket.destroy();
      },
    );
  }

  /** One chunk of a SNAP stream: resolves once the socket can take more (and the event loop had a turn). */
  private writeStreamed(c: Conn, chunk: Buffer): Promise<void> {
    if (c.dropped) return Promise.reject(new Error('connection dropped'));
    c.socket.write(chunk);
    // A few chunks may wait in the socket: the leader serializes on while the learner reads.
    const ready = c.socket.writableLength < SNAP_WINDOW_BYTES;
    return new Promise<void>((resolve, reject) => {
      const go = (): void => {
        c.socket.off('drain', go);
        c.socket.off('close', go);
        if (c.dropped || c.socket.destroyed) reject(new Error('connection dropped'));
        else resolve();
      };
      if (ready) setImmediate(go);
      else {
        c.socket.on('drain', go);
        c.socket.on('close', go);
      }
    });
  }

  disconnect(peer: bigint): void {
    const c = this.incoming.get(peer);
    if (c !== undefined) {
      this.incoming.delete(peer);
      this.drop(c);
    }
    if (this.outgoing?.sid === peer) {
      this.drop(this.outgoing);
      this.outgoing = undefined;
    }
  }

  close(): void {
    this.closed = true;
    this.server?.close();
    this.sockets.close();
    for (const c of this.incoming.values()) this.drop(c);
    if (this.outgoing) this.drop(this.outgoing);
  }

  private drop(c: Conn): void {
    c.dropped = true;
    // What was written first still goes out (a leader that a reconfig removed sends its
    // COMMITANDACTIVATE, then steps down); the socket is destroyed if the peer does not close.
    if (c.corked) {
      c.corked = false;
      c.socket.uncork();
    }
    c.socket.end();
    setTimeout(() => c.socket.destroy(), DROP_LINGER_MS).unref();
  }

  private connectToLeader(leader: bigint, first: Buffer): void {
    if (this.outgoing !== undefined) this.drop(this.outgoing);
    const addr = this.peers.get(leader);
    if (addr === undefined) {
      queueMicrotask(() => this.events.disconnected(leader));
      return;
    }
    const socket = this.sockets.connect(addr.host, addr.quorumPort, () => {
      socket.setTimeout(0);
      this.auth.learner(socket).then(
        (rest) => {
          if (c.dropped) return;
          const held = c.held ?? [];
          c.held = undefined;
          this.wire(c, rest);
          for (const b of held) this.write(c, b);
        },
        (e: Error) => {
          logAuthFailure(e, { sid: String(leader) }, 'quorum connection to the leader: quorum SASL failed; closing');
          socket.destroy();
        },
      );
    });
    // Until SASL (if any) is over, FOLLOWERINFO and whatever follows it wait.
    const c: Conn = { sid: leader, socket, dropped: false, corked: false, queued: 0, packets: 0, held: [first] };
    this.outgoing = c;
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connect timeout')));
    this.watchClose(c);
  }

  /** The connection's end is the core's 'disconnected', unless we dropped it. */
  private watchClose(c: Conn): void {
    c.socket.on('error', (e) => log.debug({ sid: String(c.sid), err: e.message }, 'quorum connection error'));
    c.socket.on('close', () => {
      if (c.dropped) return;
      c.dropped = true;
      if (this.outgoing === c) this.outgoing = undefined;
      if (this.incoming.get(c.sid) === c) this.incoming.delete(c.sid);
      this.events.disconnected(c.sid);
    });
  }

  private wire(c: Conn, first: Buffer): void {
    const decoder = new QuorumPacketDecoder(this.events.snapLoader?.bind(this.events));
    const onData = (chunk: Buffer): void => {
      if (c.dropped) return;
      try {
        decoder.push(chunk, (m) => {
          if (!c.dropped) this.events.message(c.sid, m);
        });
      } catch (e) {
        log.warn({ sid: String(c.sid), err: e instanceof Error ? e.message : String(e) }, 'bad quorum packet; closing the connection');
        c.socket.destroy();
      }
    };
    c.socket.on('data', onData);
    if (first.length > 0) onData(first);
    c.socket.resume();
  }

  /** Leader side: the first packet names the learner. */
  private accept(socket: net.Socket, first: Buffer): void {
    socket.on('error', (e) => log.debug({ err: e.message }, 'learner connection error'));
    this.auth.server(socket, first).then(
      (rest) => {
        if (this.closed) return void socket.destroy();
        this.serveLearner(socket, rest);
      },
      (e: Error) => {
        logAuthFailure(e, { addr: socket.remoteAddress }, 'learner connection refused: quorum SASL');
        socket.destroy();
      },
    );
  }

  private serveLearner(socket: net.Socket, first: Buffer): void {
    const decoder = new QuorumPacketDecoder();
    let c: Conn | undefined;
    const onData = (chunk: Buffer): void => {
      try {
        decoder.push(chunk, (m) => {
          if (c === undefined) {
            if (m.type !== 'FOLLOWERINFO' && m.type !== 'OBSERVERINFO') {
              log.warn({ type: m.type }, 'quorum connection must start with FOLLOWERINFO/OBSERVERINFO; closing');
              socket.destroy();
              return;
            }
            const old = this.incoming.get(m.sid);
            if (old !== undefined) {
              // A learner reconnecting: its old connection is over.
              this.drop(old);
              this.incoming.delete(m.sid);
              this.events.disconnected(m.sid);
            }
            c = { sid: m.sid, socket, dropped: false, corked: false, queued: 0, packets: 0, held: undefined };
            this.incoming.set(m.sid, c);
            socket.on('close', () => {
              if (c === undefined || c.dropped) return;
              c.dropped = true;
              if (this.incoming.get(c.sid) === c) this.incoming.delete(c.sid);
              this.events.disconnected(c.sid);
            });
          }
          if (!c.dropped) this.events.message(c.sid, m);
        });
      } catch (e) {
        log.warn({ err: e instanceof Error ? e.message : String(e) }, 'bad quorum packet; closing the connection');
        socket.destroy();
      }
    };
    socket.on('data', onData);
    if (first.length > 0) onData(first);
    socket.resume();
  }
}
