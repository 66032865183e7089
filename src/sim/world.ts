/**
 * The simulated world real servers run in (serverSim.ts): one virtual clock and agenda, and a
 * network of FIFO links with delays, partitions and connection drops. Every peer incarnation gets
 * its own view of it (a `Host`): when the simulator kills the process, everything it scheduled or
 * had open dies with it, as with kill -9.
 */
import type { Clock, ClientListener, ClientSocket, ClientSocketHandlers, ListenClients, Timer } from '../server/io.js';
import type { ElectionTransport, QuorumTransport, QuorumTransportEvents } from '../server/quorum/peerIo.js';
import { encodeQuorumMessage, encodeSnapWithStream, QuorumPacketDecoder } from '../server/quorum/packetStream.js';
import { snapshotBody, type SnapshotSource } from '../storage/snapshot.js';
import type { QuorumMessage } from '../zab/packets.js';
import type { Prng } from './prng.js';
import { EventQueue } from './queue.js';

/** Virtual wall-clock time starts here (a plausible Date.now(), so ctime/mtime look real). */
export const EPOCH_MS = 1_800_000_000_000;

export class World {
  readonly queue = new EventQueue();
  /** Virtual ms since the run began. */
  now = 0;
  /** Directed links cut by a partition: "a>b". */
  readonly blocked = new Set<string>();
  /** Clients whose network is cut: their connections die silently, as TCP does when the link goes. */
  readonly cutClients = new Set<number>();
  private readonly lastAt = new Map<string, number>();
  private readonly hosts = new Map<number, Host>();
  /** Chance that one election datagram is lost. */
  electionDrop = 0;
  /** Faults may happen; off once the run heals. */
  chaos = true;
  /** Sees every quorum packet as it is delivered (the simulator's wire rules). */
  onQuorumPacket: ((conn: QuorumConn, from: number, to: number, msg: QuorumMessage) => void) | undefined;

  constructor(readonly prng: Prng) {}

  at(delay_ms: number, run: () => void): void {
    this.queue.push(this.now + Math.round(delay_ms), run);
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** Network delay: mostly a few ms, now and then a long stall. */
  private delay(): number {
    return this.prng.chance(0.03) ? this.prng.range(50, 600) : this.prng.range(1, 15);
  }

  /** When a message put on `link` now arrives: never before an earlier one on the same link (TCP). */
  fifoAt(link: string): number {
    const at = Math.max(this.now + this.delay(), this.lastAt.get(link) ?? 0);
    this.lastAt.set(link, at);
    return at;
  }

  host(id: number): Host | undefined {
    return this.hosts.get(id);
  }

  /** A new incarnation of server `id` (after a start or a restart). */
  boot(id: number): Host {
    const h = new Host(this, id);
    this.hosts.set(id, h);
    return h;
  }

  /** kill -9: the host's timers, ports and connections are gone. */
  kill(id: number, reset: boolean): void {
    this.hosts.get(id)?.die(reset);
    this.hosts.delete(id);
  }
}

/** One incarnation of a server process: its clock, ports and connections. */
export class Host implements Clock {
  alive = true;
  /**
   * A stalled process (a long GC or VM pause) runs nothing until then: its timers, and whatever
   * arrives for it, wait, in order. Its peers' clocks go on.
   */
  pausedUntil = 0;
  /** Quorum connections this host has open, by the other end's id. */
  readonly quorumConns = new Map<number, QuorumConn>();
  quorumEvents: QuorumTransportEvents | undefined;
  onNotification: ((from: bigint, bytes: Buffer) => void) | undefined;
  clientAccept: ((s: ClientSocket) => ClientSocketHandlers) | undefined;
  /** The client port it listens on (a reconfig may move it). */
  clientPort: number | undefined;
  readonly clientSockets = new Set<SimClientSocket>();

  constructor(
    readonly world: World,
    readonly id: number,
  ) {}

  now_ms(): number {
    return EPOCH_MS + this.world.now;
  }

  after(delay_ms: number, fn: () => void): Timer {
    let live = true;
    this.world.at(Math.max(0, delay_ms), () => this.run(() => live && fn()));
    return { cancel: () => void (live = false) };
  }

  soon(fn: () => void): void {
    this.world.at(0, () => this.run(fn));
  }

  /** What arrived or fell due during a pause, in order. */
  private deferred: (() => void)[] = [];
  private resumeScheduled = false;

  /** Runs `fn` in this process now, or (in arrival order) when a pause ends; never once it died. */
  run(fn: () => void): void {
    if (!this.alive) return;
    if (this.pausedUntil <= this.world.now && this.deferred.length === 0) return fn();
    this.deferred.push(fn);
    this.scheduleResume();
  }

  private scheduleResume(): void {
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    this.world.queue.push(Math.max(this.pausedUntil, this.world.now), () => {
      this.resumeScheduled = false;
      if (!this.alive) return;
      // The pause may have been extended meanwhile.
      if (this.pausedUntil > this.world.now) return this.scheduleResume();
      const due = this.deferred;
      this.deferred = [];
      for (const f of due) if (this.alive) f();
    });
  }

  die(reset: boolean): void {
    this.alive = false;
    // A process crash resets its TCP connections (the other ends hear of it); a power cut does not.
    for (const c of [...this.quorumConns.values()]) c.close(this.id, reset);
    for (const s of [...this.clientSockets]) s.serverGone();
  }

  // ---- transports, as the peer runtime asks for them ----

  election(onNotification: (from: bigint, bytes: Buffer) => void): ElectionTransport {
    const w = this.world;
    return {
      listen: async () => void (this.onNotification = onNotification),
      send: (to, bytes) => {
        const dest = Number(to);
        if (!this.alive || w.isBlocked(this.id, dest) || (w.chaos && w.prng.chance(w.electionDrop))) return;
        w.queue.push(w.fifoAt(`e${this.id}>${dest}`), () => {
          const h = w.host(dest);
          if (h !== undefined && !w.isBlocked(this.id, dest)) h.run(() => h.onNotification?.(BigInt(this.id), bytes));
        });
      },
      close: () => void (this.onNotification = undefined),
    };
  }

  quorum(events: QuorumTransportEvents): QuorumTransport {
    const self = this;
    return {
      listen: async () => void (self.quorumEvents = events),
      send(to: bigint, msg: QuorumMessage): void {
        const dest = Number(to);
        if (!self.alive) return;
        let c = self.quorumConns.get(dest);
        if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
          c?.close(self.id, false);
          c = new QuorumConn(self.world, self.id, dest);
          self.quorumConns.set(dest, c);
        }
        c?.write(self.id, encodeQuorumMessage(msg));
      },
      sendSnapshot(to: bigint, zxid: bigint, src: SnapshotSource): void {
        // Serialized at once: the simulated leader's SNAP is exactly the tree at `zxid`.
        self.quorumConns.get(Number(to))?.write(self.id, encodeSnapWithStream(zxid, snapshotBody(src)));
      },
      disconnect(peer: bigint): void {
        self.quorumConns.get(Number(peer))?.close(self.id, true);
      },
      close(): void {
        for (const c of [...self.quorumConns.values()]) c.close(self.id, true);
        self.quorumEvents = undefined;
      },
    };
  }

  listenClients: ListenClients = async (port, _address, accept): Promise<ClientListener> => {
    this.clientAccept = accept;
    this.clientPort = port;
    return {
      port,
      close: async () => {
        if (this.clientAccept !== accept) return;
        this.clientAccept = undefined;
        this.clientPort = undefined;
      },
    };
  };
}

/**
 * A quorum connection: bytes each way in order, decoded by the real QuorumPacketDecoder at the
 * receiving end. A partition kills the direction it hits (TCP stalls, then the peers time out).
 */
export class QuorumConn {
  open = true;
  private readonly dead = new Set<number>();
  private readonly decoders = new Map<number, QuorumPacketDecoder>();
  /** Whether `b` (the leader side) has seen the connection yet: it learns it from the first packet. */
  private accepted = false;

  constructor(
    private readonly world: World,
    readonly a: number,
    readonly b: number,
  ) {}

  other(id: number): number {
    return id === this.a ? this.b : this.a;
  }

  write(from: number, bytes: Buffer): void {
    if (!this.open || this.dead.has(from)) return;
    const to = this.other(from);
    const w = this.world;
    if (w.isBlocked(from, to)) {
      this.dead.add(from);
      return;
    }
    w.queue.push(w.fifoAt(`q${from}>${to}`), () => {
      if (!this.open || this.dead.has(from)) return;
      if (w.isBlocked(from, to)) return void this.dead.add(from);
      w.host(to)?.run(() => this.deliver(from, to, bytes));
    });
  }

  private deliver(from: number, to: number, bytes: Buffer): void {
    const w = this.world;
    const h = w.host(to);
    if (!this.open || h === undefined || h.quorumEvents === undefined) return;
    if (from === this.a && !this.accepted) {
      // The leader names a connection by its first packet; an older one from that learner goes.
      this.accepted = true;
      const old = h.quorumConns.get(from);
      if (old !== undefined && old !== this) old.close(to, false);
      h.quorumConns.set(from, this);
    } else if (h.quorumConns.get(from) !== this) return;
    let d = this.decoders.get(to);
    if (d === undefined) this.decoders.set(to, (d = new QuorumPacketDecoder()));
    const events = h.quorumEvents;
    d.push(bytes, (m) => {
      w.onQuorumPacket?.(this, from, to, m);
      events.message(BigInt(from), m);
    });
  }

  /** Closed by `closer`; the other end hears of it (after what was sent before) if `notify`. */
  close(closer: number, notify: boolean): void {
    if (!this.open) return;
    this.open = false;
    const other = this.other(closer);
    const w = this.world;
    const mine = w.host(closer);
    if (mine?.quorumConns.get(other) === this) mine.quorumConns.delete(other);
    if (!notify) return;
    w.queue.push(w.fifoAt(`q${closer}>${other}`), () => {
      if (w.isBlocked(closer, other)) return;
      const h = w.host(other);
      h?.run(() => {
        if (h.quorumConns.get(closer) !== this) return;
        h.quorumConns.delete(closer);
        h.quorumEvents?.disconnected(BigInt(closer));
      });
    });
  }
}

/** The server's end of a simulated client connection. */
export class SimClientSocket implements ClientSocket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly secure = false;
  readonly peerCertificate = undefined;
  readonly writableLength = 0;
  private handlers: ClientSocketHandlers | undefined;
  closed = false;

  constructor(
    private readonly host: Host,
    clientId: number,
    /** Bytes from the server, delivered to the client in order. */
    private readonly toClient: (bytes: Buffer | null) => void,
  ) {
    this.remoteAddress = `127.0.1.${clientId % 250}`;
    this.remotePort = 40_000 + clientId;
  }

  /** The client connects: false when nothing listens on the member's client port. */
  connect(): boolean {
    const accept = this.host.clientAccept;
    if (!this.host.alive || accept === undefined) return false;
    this.host.clientSockets.add(this);
    this.handlers = accept(this);
    return true;
  }

  /** Bytes from the client arrive at the server. */
  receive(bytes: Buffer): void {
    this.host.run(() => {
      if (!this.closed) this.handlers?.data(bytes);
    });
  }

  /** The client closed its end. */
  clientClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.clientSockets.delete(this);
    if (this.host.alive) this.handlers?.close();
  }

  /** The server process died: the client sees its connection close. */
  serverGone(): void {
    if (this.closed) return;
    this.closed = true;
    this.toClient(null);
  }

  write(bytes: Buffer): void {
    if (!this.closed) this.toClient(Buffer.from(bytes));
  }

  end(last?: string): void {
    if (this.closed) return;
    if (last !== undefined) this.toClient(Buffer.from(last, 'latin1'));
    this.closeFromServer();
  }

  destroy(): void {
    this.closeFromServer();
  }

  private closeFromServer(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.clientSockets.delete(this);
    this.toClient(null);
    const h = this.handlers;
    if (h !== undefined) this.host.soon(() => h.close());
  }

  pause(): void {}
  resume(): void {}
}
