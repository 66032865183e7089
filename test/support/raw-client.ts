/**
 * A minimal raw ZooKeeper protocol driver for wire-level tests (differential, fuzz): one TCP
 * connection, frames in and out exactly as sent, no retries, no reconnects, no hidden pings.
 * Every reply and notification is kept in arrival order so tests can compare orderings exactly.
 */
import net from 'node:net';
import { JuteError, JuteReader, JuteWriter, type RecordType } from '../../src/jute/index.js';
import { OpCode, Xid } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';

/** Frames larger than this from the server are treated as a protocol violation by the driver. */
const FRAME_BYTES_MAX = 16 * 1024 * 1024;
const REPLY_TIMEOUT_MS_DEFAULT = 10_000;

export type Incoming =
  { kind: 'reply'; xid: number; zxid: bigint; err: number; body: Buffer } | { kind: 'event'; zxid: bigint; type: number; state: number; path: string };

/** Any record value paired with its schema, so requests stay type-checked. */
export interface Body<T = unknown> {
  rec: RecordType<T>;
  value: T;
}
export function body<T>(rec: RecordType<T>, value: T): Body<T> {
  return { rec, value };
}

export class RawConnection {
  readonly sock: net.Socket;
  private pending: Buffer = Buffer.alloc(0);
  private inbox: Incoming[] = [];
  private rawFrames: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private handshakeDone = false;
  /** Set once the server closed (or reset) the connection. */
  closed = false;
  closeError: Error | undefined;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (c: Buffer) => this.onData(c));
    sock.on('error', (e) => (this.closeError = e));
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number, host = '127.0.0.1', timeout_ms = 5000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, host);
      const t = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeout_ms);
      sock.once('connect', () => {
        clearTimeout(t);
        resolve(new RawConnection(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const n = this.pending.readInt32BE(0);
      if (n < 0 || n > FRAME_BYTES_MAX) {
        this.closeError = new Error(`server sent bad frame length ${n}`);
        this.sock.destroy();
        return;
      }
      if (this.pending.length < 4 + n) break;
      const frame = Buffer.from(this.pending.subarray(4, 4 + n));
      this.pending = this.pending.subarray(4 + n);
      this.rawFrames.push(frame);
    }
    this.wake();
  }

  private async waitFor(timeout_ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeout_ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Next complete frame payload (without the length prefix), or null if closed / timed out. */
  async nextFrame(timeout_ms = REPLY_TIMEOUT_MS_DEFAULT): Promise<Buffer | null> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const f = this.rawFrames.shift();
      if (f !== undefined) return f;
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await this.waitFor(left);
    }
  }

  /** Resolves true once the server has closed the connection, false if still open after the timeout. */
  async waitClosed(timeout_ms: number): Promise<boolean> {
    const deadline = Date.now() + timeout_ms;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      // Frames that arrive meanwhile are kept but not needed.
      await this.waitFor(left);
    }
    return true;
  }

  sendRaw(bytes: Uint8Array): void {
    if (!this.sock.destroyed) this.sock.write(bytes);
  }

  /** One frame: 4-byte big-endian length then payload. */
  sendFrame(payload: Uint8Array): void {
    const len = Buffer.alloc(4);
    len.writeInt32BE(payload.length, 0);
    this.sendRaw(Buffer.concat([len, payload]));
  }

  /** ConnectRequest (+ the trailing readOnly flag), then the ConnectResponse. */
  async handshake(req: Partial<R.ConnectRequest> = {}, timeout_ms = REPLY_TIMEOUT_MS_DEFAULT): Promise<R.ConnectResponse> {
    this.sendFrame(encodeConnect(req));
    const f = await this.nextFrame(timeout_ms);
    if (f === null) throw new Error(`no ConnectResponse (${this.closed ? 'connection closed' : 'timeout'})`);
    this.handshakeDone = true;
    return decodeConnectResponse(f);
  }

  /** Sends RequestHeader{xid,type} followed by the bodies (already in wire order). */
  send(xid: number, type: number, ...bodies: Body<unknown>[]): void {
    this.sendFrame(encodeRequest(xid, type, ...bodies));
  }

  /** Next reply or notification after the handshake, or null if the connection closed / timed out. */
  async next(timeout_ms = REPLY_TIMEOUT_MS_DEFAULT): Promise<Incoming | null> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return queued;
    if (!this.handshakeDone) throw new Error('next() before handshake');
    const f = await this.nextFrame(timeout_ms);
    if (f === null) return null;
    return decodeIncoming(f);
  }

  /**
   * Reads until the reply with this xid; returns the notifications that came first (in order)
   * and the reply. Replies for other xids met on the way are a protocol-order failure.
   */
  async until(xid: number, timeout_ms = REPLY_TIMEOUT_MS_DEFAULT): Promise<{ events: Incoming[]; reply: Extract<Incoming, { kind: 'reply' }> }> {
    const events: Incoming[] = [];
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if (m === null) throw new Error(`no reply for xid ${xid} (${this.closed ? 'connection closed' : 'timeout'})`);
      if (m.kind === 'event') {
        events.push(m);
        continue;
      }
      if (m.xid === xid) return { events, reply: m };
      if (m.xid === Xid.ping) continue;
      throw new Error(`reply for xid ${m.xid} arrived while waiting for xid ${xid}`);
    }
  }

  /** Notifications already received (without waiting), in order. */
  drainEvents(): Incoming[] {
    const out: Incoming[] = [];
    for (;;) {
      const f = this.rawFrames.shift();
      if (f === undefined) break;
      this.inbox.push(decodeIncoming(f));
    }
    this.inbox = this.inbox.filter((m) => (m.kind === 'event' ? (out.push(m), false) : true));
    return out;
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
    this.wake();
  }
}

export function encodeConnect(req: Partial<R.ConnectRequest> = {}): Buffer {
  return R.ConnectRequest.encode({
    protocolVersion: 0,
    lastZxidSeen: 0n,
    timeOut: 30_000,
    sessionId: 0n,
    passwd: Buffer.alloc(16),
    readOnly: false,
    ...req,
  });
}

export function decodeConnectResponse(f: Buffer): R.ConnectResponse {
  const r = new JuteReader(f);
  const v = {
    protocolVersion: r.int(),
    timeOut: r.int(),
    sessionId: r.long(),
    passwd: r.buffer(),
    // Old servers omit the read-only flag; 3.8 always sends it.
    readOnly: r.remaining > 0 ? r.boolean() : false,
  };
  return v;
}

export function encodeRequest(xid: number, type: number, ...bodies: Body<unknown>[]): Buffer {
  const w = new JuteWriter();
  R.RequestHeader.write(w, { xid, type });
  for (const b of bodies) b.rec.write(w, b.value);
  return Buffer.from(w.bytes());
}

export function decodeIncoming(f: Buffer): Incoming {
  const r = new JuteReader(f);
  const h = R.ReplyHeader.read(r);
  const rest = Buffer.from(f.subarray(r.offset));
  if (h.xid === Xid.notification) {
    const e = R.WatcherEvent.decode(rest);
    return { kind: 'event', zxid: h.zxid, type: e.type, state: e.state, path: e.path };
  }
  return { kind: 'reply', xid: h.xid, zxid: h.zxid, err: h.err, body: rest };
}

// ---- multi ----

export type MultiOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; req: R.CreateRequest }
  | { type: typeof OpCode.createTTL; req: R.CreateTTLRequest }
  | { type: typeof OpCode.delete; req: R.DeleteRequest }
  | { type: typeof OpCode.setData; req: R.SetDataRequest }
  | { type: typeof OpCode.check; req: R.CheckVersionRequest }
  | { type: typeof OpCode.getData; req: R.GetDataRequest }
  | { type: typeof OpCode.getChildren; req: R.GetChildrenRequest };

function opRecord(op: MultiOp): Body<unknown> {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return body(R.CreateRequest, op.req);
    case OpCode.createTTL:
      return body(R.CreateTTLRequest, op.req);
    case OpCode.delete:
      return body(R.DeleteRequest, op.req);
    case OpCode.setData:
      return body(R.SetDataRequest, op.req);
    case OpCode.check:
      return body(R.CheckVersionRequest, op.req);
    case OpCode.getData:
      return body(R.GetDataRequest, op.req);
    case OpCode.getChildren:
      return body(R.GetChildrenRequest, op.req);
  }
}

/** The body of a multi / multiRead request: (MultiHeader, op)* then the done header. */
export function multiBody(ops: MultiOp[]): Body<Buffer> {
  const w = new JuteWriter();
  for (const op of ops) {
    R.MultiHeader.write(w, { type: op.type, done: false, err: -1 });
    const b = opRecord(op);
    b.rec.write(w, b.value);
  }
  R.MultiHeader.write(w, { type: -1, done: true, err: -1 });
  return body(rawBytes, Buffer.from(w.bytes()));
}

/** A pseudo-record that writes bytes as they are (for pre-encoded bodies and garbage). */
export const rawBytes: RecordType<Buffer> = {
  jute: 'raw',
  name: 'raw',
  fieldNames: [],
  read: (r) => {
    const b = Buffer.from(r.buf.subarray(r.offset, r.end));
    r.offset = r.end;
    return b;
  },
  write: (w, v) => w.raw(v),
  encode: (v) => Buffer.from(v),
  decode: (b) => Buffer.from(b),
};

export type MultiResult =
  | { type: 'create'; path: string }
  | { type: 'create2'; path: string; stat: R.Stat }
  | { type: 'delete' }
  | { type: 'check' }
  | { type: 'setData'; stat: R.Stat }
  | { type: 'getData'; data: Buffer | null; stat: R.Stat }
  | { type: 'getChildren'; children: string[] }
  | { type: 'error'; err: number };

export function decodeMultiResponse(b: Buffer): MultiResult[] {
  const r = new JuteReader(b);
  const out: MultiResult[] = [];
  for (;;) {
    const h = R.MultiHeader.read(r);
    if (h.done) break;
    switch (h.type) {
      case OpCode.create:
        out.push({ type: 'create', path: R.CreateResponse.read(r).path });
        break;
      case OpCode.create2: {
        const c = R.Create2Response.read(r);
        out.push({ type: 'create2', path: c.path, stat: c.stat });
        break;
      }
      case OpCode.delete:
        out.push({ type: 'delete' });
        break;
      case OpCode.check:
        out.push({ type: 'check' });
        break;
      case OpCode.setData:
        out.push({ type: 'setData', stat: R.SetDataResponse.read(r).stat });
        break;
      case OpCode.getData: {
        const g = R.GetDataResponse.read(r);
        out.push({ type: 'getData', data: g.data, stat: g.stat });
        break;
      }
      case OpCode.getChildren:
        out.push({ type: 'getChildren', children: R.GetChildrenResponse.read(r).children });
        break;
      case OpCode.error:
        out.push({ type: 'error', err: R.ErrorResponse.read(r).err });
        break;
      default:
        throw new JuteError(`invalid multi result type ${h.type}`, r.offset);
    }
  }
  if (r.remaining !== 0) throw new JuteError(`${r.remaining} trailing bytes after multi response`, r.offset);
  return out;
}

/**
 * A raw session: a RawConnection after a successful handshake, with an xid counter and a
 * call() that returns the reply plus the notifications that preceded it.
 */
export class RawSession {
  private xid = 1;
  /** Highest zxid seen in a request's reply (what a client reports as lastZxidSeen). */
  lastZxid = 0n;
  private constructor(
    readonly conn: RawConnection,
    readonly sessionId: bigint,
    readonly passwd: Buffer,
    readonly timeout_ms: number,
  ) {}

  static async open(port: number, req: Partial<R.ConnectRequest> = {}): Promise<RawSession> {
    const conn = await RawConnection.open(port);
    const resp = await conn.handshake(req);
    if (resp.sessionId === 0n) {
      conn.close();
      throw new Error('session refused (sessionId 0 in ConnectResponse)');
    }
    return new RawSession(conn, resp.sessionId, resp.passwd ?? Buffer.alloc(0), resp.timeOut);
  }

  /**
   * Re-establishes this session on a new connection (the old socket is dropped without
   * closeSession), as a client does after a disconnect. Returns the ConnectResponse too: a
   * refused resume (session id 0, e.g. expired) is a result, not an error.
   */
  async resume(port: number, timeOut_ms = this.timeout_ms): Promise<{ session: RawSession; resp: R.ConnectResponse }> {
    this.conn.close();
    const conn = await RawConnection.open(port);
    const resp = await conn.handshake({ sessionId: this.sessionId, passwd: this.passwd, lastZxidSeen: this.lastZxid, timeOut: timeOut_ms });
    const session = new RawSession(conn, this.sessionId, this.passwd, resp.timeOut);
    session.xid = this.xid;
    session.lastZxid = this.lastZxid;
    return { session, resp };
  }

  nextXid(): number {
    return this.xid++;
  }

  async call(type: number, ...bodies: Body<unknown>[]): Promise<{ events: Incoming[]; err: number; zxid: bigint; body: Buffer }> {
    const xid = this.nextXid();
    this.conn.send(xid, type, ...bodies);
    const { events, reply } = await this.conn.until(xid);
    if (reply.zxid > this.lastZxid) this.lastZxid = reply.zxid;
    return { events, err: reply.err, zxid: reply.zxid, body: reply.body };
  }

  /** Digest (or other scheme) auth; returns the reply's err (0, or AuthFailed before the close). */
  async addAuth(scheme: string, auth: string): Promise<number> {
    this.conn.send(Xid.auth, OpCode.auth, body(R.AuthPacket, { type: 0, scheme, auth: Buffer.from(auth) }));
    const { reply } = await this.conn.until(Xid.auth);
    return reply.err;
  }

  async ping(): Promise<Incoming[]> {
    this.conn.send(Xid.ping, OpCode.ping);
    const events: Incoming[] = [];
    for (;;) {
      const m = await this.conn.next();
      if (m === null) throw new Error('no ping reply');
      if (m.kind === 'event') events.push(m);
      else if (m.xid === Xid.ping) return events;
      else throw new Error(`unexpected reply xid ${m.xid} while waiting for ping`);
    }
  }

  /** closeSession and wait for its reply (the server then closes the socket). */
  async close(): Promise<void> {
    if (this.conn.closed) return;
    try {
      await this.call(OpCode.closeSession);
    } catch {
      /* server may close first */
    }
    this.conn.close();
  }
}

// Convenience decoders (reply bodies by op).
export function decodeAs<T>(rec: RecordType<T>, b: Buffer): T {
  const r = new JuteReader(b);
  const v = rec.read(r);
  if (r.remaining !== 0) throw new JuteError(`${r.remaining} trailing bytes after ${rec.name}`, r.offset);
  return v;
}
