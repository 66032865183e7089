/**
 * A ZooKeeper client in the simulator: it speaks the real client protocol (ConnectRequest,
 * request/reply frames, pings, watch notifications) over a simulated connection to one member,
 * so the real request pipeline is what answers it. One request at a time, as the workload needs.
 */
import { JuteReader, JuteWriter } from '../jute/index.js';
import { Err } from '../proto/errors.js';
import { OpCode, Xid } from '../proto/opcodes.js';
import * as R from '../proto/records.js';
import { FrameDecoder } from '../server/framing.js';
import { Violation } from './committedSequence.js';
import { SimClientSocket, type World } from './world.js';

const FRAME_BYTES_MAX = 0xfffff;

export type Reply = { err: number; zxid: bigint; body: JuteReader | undefined };
export interface Session {
  sessionId: bigint;
  passwd: Buffer;
  timeout_ms: number;
  /** Served by a member in read-only mode. */
  readOnly: boolean;
}
const LOST: Reply = { err: Err.ConnectionLoss, zxid: -1n, body: undefined };

/** A connection from client `id` to member `server`; `onGone` when it closes or the server dies. */
export class SimConnection {
  private readonly socket: SimClientSocket;
  private readonly decoder = new FrameDecoder(FRAME_BYTES_MAX);
  /** Ping replies come back with xid -2, in order. */
  private readonly pings: ((r: Reply) => void)[] = [];
  private readonly pending = new Map<number, (r: Reply) => void>();
  private handshake: ((r: Session | null) => void) | undefined;

  /** Waiting for the answer to its ConnectRequest. */
  get connecting(): boolean {
    return this.handshake !== undefined;
  }
  closed = false;
  /** Its link was cut: nothing more crosses it either way (neither end hears a close). */
  private dead = false;
  /** Told of each watch notification, in order with the replies around it. */
  onEvent: ((path: string, type: number) => void) | undefined;

  constructor(
    private readonly world: World,
    readonly clientId: number,
    readonly server: number,
    /** Xids go on increasing across a session's connections, as real clients number them. */
    private readonly nextXid: () => number,
    private readonly onGone: () => void,
  ) {
    const host = world.host(server);
    if (host === undefined) throw new Error(`no server ${server}`);
    this.socket = new SimClientSocket(host, clientId, (bytes) => this.fromServer(bytes));
  }

  /**
   * Opens the session (or resumes `sessionId`); `done` gets what the server said (timeout 0:
   * expired), or null when the connection was refused or lost. Callbacks, not promises: the
   * simulator runs everything inside its own event loop, where microtasks would not run.
   */
  open(sessionId: bigint, passwd: Buffer, timeout_ms: number, lastZxidSeen: bigint, canBeReadOnly: boolean, done: (s: Session | null) => void): void {
    if (!this.socket.connect()) {
      this.closed = true;
      this.world.at(0, () => done(null));
      return;
    }
    const w = new JuteWriter();
    const at = w.reserveInt();
    R.ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen, timeOut: timeout_ms, sessionId, passwd, readOnly: canBeReadOnly });
    w.patchInt(at, w.offset - at - 4);
    this.toServer(Buffer.from(w.bytes()));
    this.handshake = done;
  }

  /** Sends a request; `done` gets its reply, or ConnectionLoss when the connection is lost first. */
  call(type: number, writeBody: (w: JuteWriter) => void, done: (r: Reply) => void): void {
    if (this.closed) {
      this.world.at(0, () => done(LOST));
      return;
    }
    const xid = type === OpCode.ping ? Xid.ping : this.nextXid();
    if (type !== OpCode.ping) this.lastXid = xid;
    const w = new JuteWriter();
    const at = w.reserveInt();
    R.RequestHeader.write(w, { xid, type });
    writeBody(w);
    w.patchInt(at, w.offset - at - 4);
    this.toServer(Buffer.from(w.bytes()));
    if (type !== OpCode.ping) this.pending.set(xid, done);
    else this.pings.push(done);
  }

  /** The xid of the last request sent. */
  lastXid = 0;

  close(): void {
    if (this.closed) return;
    this.gone();
    const s = this.socket;
    this.world.queue.push(this.world.fifoAt(`c${this.clientId}>${this.server}`), () => this.crosses() && s.clientClosed());
  }

  /** Whether what is on the link gets across now; a cut kills the connection for good. */
  private crosses(): boolean {
    if (this.world.cutClients.has(this.clientId)) this.dead = true;
    return !this.dead;
  }

  private toServer(bytes: Buffer): void {
    const s = this.socket;
    this.world.queue.push(this.world.fifoAt(`c${this.clientId}>${this.server}`), () => this.crosses() && s.receive(bytes));
  }

  private fromServer(bytes: Buffer | null): void {
    this.world.queue.push(this.world.fifoAt(`s${this.server}>c${this.clientId}`), () => {
      if (this.closed || !this.crosses()) return;
      if (bytes === null) return this.gone();
      try {
        this.decoder.push(bytes, (buf, start, end) => this.onFrame(new JuteReader(buf, start, end)));
      } catch (e) {
        if (e instanceof Violation) throw e; // a checker judging a reply
        throw new Violation('client protocol', `client ${this.clientId}: undecodable reply from server ${this.server}: ${(e as Error).message}`);
      }
    });
  }

  private onFrame(r: JuteReader): void {
    if (this.handshake !== undefined) {
      const c = R.ConnectResponse.read(r);
      const h = this.handshake;
      this.handshake = undefined;
      h({ sessionId: c.sessionId, passwd: c.passwd ?? Buffer.alloc(16), timeout_ms: c.timeOut, readOnly: c.readOnly ?? false });
      return;
    }
    const h = R.ReplyHeader.read(r);
    if (h.xid === Xid.notification) {
      const e = R.WatcherEvent.read(r);
      this.onEvent?.(e.path, e.type);
      return;
    }
    if (h.xid === Xid.ping) {
      this.pings.shift()?.({ err: h.err, zxid: h.zxid, body: undefined });
      return;
    }
    const resolve = this.pending.get(h.xid);
    if (resolve === undefined) throw new Error(`client ${this.clientId}: reply to xid ${h.xid} that it never sent (or twice)`);
    this.pending.delete(h.xid);
    resolve({ err: h.err, zxid: h.zxid, body: r });
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    const h = this.handshake;
    this.handshake = undefined;
    h?.(null);
    const ps = [...this.pending.values(), ...this.pings];
    this.pending.clear();
    this.pings.length = 0;
    for (const p of ps) p(LOST);
    this.onGone();
  }
}
