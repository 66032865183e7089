/**
 * A lean pipelined ZooKeeper session for load generation: requests are encoded straight into
 * one reusable writer and flushed as one socket write per batch; replies are matched to
 * requests by xid, in order (the server answers a session's requests in order). No per-request
 * promises or closures, so one client core can keep a server busy.
 */
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { ClientTlsFiles } from './messages.js';
import { performance } from 'node:perf_hooks';
import { JuteWriter } from '../src/jute/index.js';
import { ConnectRequest, ConnectResponse } from '../src/proto/records.js';
import { OpCode, Perms, Xid } from '../src/proto/opcodes.js';

/** Largest number of requests one session may have outstanding; the ring of send times has this size. */
export const OUTSTANDING_MAX = 4096;
/** Largest reply frame accepted (jute.maxbuffer default plus headers). */
const FRAME_BYTES_MAX = 0xfffff + 1024;
const WRITER_INITIAL_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
const CONNECT_ATTEMPTS_MAX = 20;
const CONNECT_RETRY_MS = 250;
const PASSWORD_BYTES = 16;
/** ReplyHeader: xid int, zxid long, err int. */
export const REPLY_HEADER_BYTES = 16;

/**
 * Called once per reply to a request sent with `begin`/`end`, in send order, with the
 * request's op type and the reply frame's length (header + body, without the length prefix).
 */
export type ReplyHandler = (err: number, latency_us: number, type: number, length_bytes: number) => void;

export class BenchSession {
  readonly sessionId: bigint;
  readonly timeout_ms: number;
  private readonly sock: net.Socket;
  private readonly out = new JuteWriter(WRITER_INITIAL_BYTES);
  private frameStart = 0;
  private nextXid = 1;
  // Ring of outstanding requests: xid and send time, in send order.
  private readonly ringXid = new Int32Array(OUTSTANDING_MAX);
  private readonly ringSent_ms = new Float64Array(OUTSTANDING_MAX);
  private readonly ringType = new Int32Array(OUTSTANDING_MAX);
  private ringHead = 0;
  private ringCount = 0;
  private pending: Buffer | null = null;
  private lastSend_ms = performance.now();
  private readonly pinger: NodeJS.Timeout;
  private closed = false;
  /** Why the session died, if it did (a dead session cannot run another workload). */
  failure: Error | undefined;
  /** Set by the driver; called for each reply, then `onBatch` once per socket read. */
  onReply: ReplyHandler = () => {};
  onBatch: () => void = () => {};
  /** Called for each watch notification (xid -1), before `onBatch`. */
  onNotification: () => void = () => {};
  onFailure: (e: Error) => void = (e) => {
    throw e;
  };

  private constructor(sock: net.Socket, sessionId: bigint, timeout_ms: number, leftover: Buffer | null) {
    this.sock = sock;
    this.sessionId = sessionId;
    this.timeout_ms = timeout_ms;
    this.pending = leftover;
    sock.on('data', (chunk: Buffer) => this.receive(chunk));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => {
      if (!this.closed) this.fail(new Error(`session 0x${sessionId.toString(16)}: server closed the connection`));
    });
    // Idle sessions (e.g. while one session runs the latency workloads) must ping to stay alive.
    const ping_ms = Math.max(500, Math.floor(timeout_ms / 3));
    this.pinger = setInterval(() => this.pingIfIdle(ping_ms), Math.floor(ping_ms / 2));
    this.pinger.unref();
  }

  get outstanding(): number {
    return this.ringCount;
  }

  /** Opens a TCP connection and a new session; the session timeout is negotiated by the server. */
  static async connect(
    host: string,
    port: number,
    sessionTimeout_ms: number,
    tlsFiles?: ClientTlsFiles,
    connectTimeout_ms = CONNECT_TIMEOUT_MS,
  ): Promise<BenchSession> {
    const sock = tlsFiles === undefined ? net.connect({ host, port, noDelay: true }) : tlsConnect(host, port, tlsFiles);
    return new Promise<BenchSession>((resolve, reject) => {
      let got: Buffer = Buffer.alloc(0);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect ${host}:${port}: no session within ${connectTimeout_ms} ms`));
      }, connectTimeout_ms);
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(e);
      };
      const onData = (chunk: Buffer): void => {
        got = Buffer.concat([got, chunk]);
        if (got.length < 4) return;
        const len = got.readInt32BE(0);
        if (got.length < 4 + len) return;
        clearTimeout(timer);
        sock.off('data', onData);
        sock.off('error', onError);
        sock.off('close', onClose);
        const resp = ConnectResponse.decode(got.subarray(4, 4 + len));
        if (resp.timeOut <= 0) {
          sock.destroy();
          reject(new Error(`connect ${host}:${port}: session refused`));
          return;
        }
        const rest = got.length > 4 + len ? Buffer.from(got.subarray(4 + len)) : null;
        resolve(new BenchSession(sock, resp.sessionId, resp.timeOut, rest));
      };
      const onClose = (): void => onError(new Error(`connect ${host}:${port}: closed during handshake`));
      sock.on('data', onData);
      sock.on('error', onError);
      sock.on('close', onClose);
      sock.on(tlsFiles === undefined ? 'connect' : 'secureConnect', () => {
        const body = ConnectRequest.encode({
          protocolVersion: 0,
          lastZxidSeen: 0n,
          timeOut: sessionTimeout_ms,
          sessionId: 0n,
          passwd: Buffer.alloc(PASSWORD_BYTES),
          readOnly: false,
        });
        const frame = Buffer.allocUnsafe(4 + body.length);
        frame.writeInt32BE(body.length, 0);
        body.copy(frame, 4);
        sock.write(frame);
      });
    });
  }

  /**
   * `connect`, retried: a server that has just started may answer ruok before it accepts
   * sessions, and closes those connections.
   */
  static async connectRetrying(host: string, port: number, sessionTimeout_ms: number, tlsFiles?: ClientTlsFiles): Promise<BenchSession> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await BenchSession.connect(host, port, sessionTimeout_ms, tlsFiles);
      } catch (e) {
        if (attempt >= CONNECT_ATTEMPTS_MAX) throw e;
        await new Promise((r) => setTimeout(r, CONNECT_RETRY_MS));
      }
    }
  }

  /** Starts a request frame; write the body into the returned writer, then call `end`. */
  begin(type: number): JuteWriter {
    if (this.ringCount >= OUTSTANDING_MAX) throw new Error(`more than ${OUTSTANDING_MAX} requests outstanding`);
    const w = this.out;
    this.frameStart = w.reserveInt();
    const xid = this.nextXid++;
    w.int(xid);
    w.int(type);
    const slot = (this.ringHead + this.ringCount) % OUTSTANDING_MAX;
    this.ringXid[slot] = xid;
    this.ringType[slot] = type;
    this.ringCount++;
    return w;
  }

  end(): void {
    const w = this.out;
    w.patchInt(this.frameStart, w.offset - this.frameStart - 4);
    // Stamp the send time when the frame is complete: what is measured is server round trip plus queueing.
    this.ringSent_ms[(this.ringHead + this.ringCount - 1) % OUTSTANDING_MAX] = performance.now();
  }

  /** Sends every frame encoded since the last flush in one write. */
  flush(): void {
    const w = this.out;
    if (w.offset === 0) return;
    // The socket may keep the buffer queued, so the reusable writer's bytes are copied once per batch.
    this.sock.write(Buffer.from(w.bytes()));
    w.reset();
    this.lastSend_ms = performance.now();
  }

  /** Closes the session politely (closeSession), then the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.pinger);
    this.closed = true;
    const w = this.out;
    const at = w.reserveInt();
    w.int(this.nextXid++);
    w.int(OpCode.closeSession);
    w.patchInt(at, w.offset - at - 4);
    const done = new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.sock.destroy();
        resolve();
      }, 2000);
      this.sock.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.sock.write(Buffer.from(w.bytes()));
    w.reset();
    this.sock.end();
    await done;
  }

  destroy(): void {
    clearInterval(this.pinger);
    this.closed = true;
    this.sock.destroy();
  }

  private pingIfIdle(ping_ms: number): void {
    if (this.closed || performance.now() - this.lastSend_ms < ping_ms) return;
    const w = this.out;
    const at = w.reserveInt();
    w.int(Xid.ping);
    w.int(OpCode.ping);
    w.patchInt(at, w.offset - at - 4);
    this.flush();
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.failure = e;
    this.destroy();
    this.onFailure(e);
  }

  private receive(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let off = 0;
    const now = performance.now();
    while (buf.length - off >= 4) {
      const len = buf.readInt32BE(off);
      if (len < REPLY_HEADER_BYTES || len > FRAME_BYTES_MAX) return this.fail(new Error(`bad reply frame length ${len}`));
      if (buf.length - off - 4 < len) break;
      const xid = buf.readInt32BE(off + 4);
      const err = buf.readInt32BE(off + 16);
      off += 4 + len;
      if (xid === Xid.notification) {
        this.onNotification();
        continue;
      }
      if (xid === Xid.ping) continue;
      if (this.ringCount === 0 || this.ringXid[this.ringHead] !== xid) {
        return this.fail(new Error(`reply xid ${xid} out of order (expected ${this.ringCount === 0 ? 'none' : this.ringXid[this.ringHead]})`));
      }
      const sent_ms = this.ringSent_ms[this.ringHead]!;
      const type = this.ringType[this.ringHead]!;
      this.ringHead = (this.ringHead + 1) % OUTSTANDING_MAX;
      this.ringCount--;
      this.onReply(err, (now - sent_ms) * 1000, type, len);
    }
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
    this.onBatch();
  }
}

/** The ACL every benchmark node gets: world:anyone with all permissions (ZooDefs.Ids.OPEN_ACL_UNSAFE). */
export function writeOpenAcl(w: JuteWriter): void {
  w.int(1);
  w.int(Perms.ALL);
  w.ustring('world');
  w.ustring('anyone');
}

/** Request bodies, written field by field in wire order (checked against src/proto records in test/bench). */
export function writeCreate(w: JuteWriter, path: string, data: Buffer, flags: number): void {
  w.ustring(path);
  w.buffer(data);
  writeOpenAcl(w);
  w.int(flags);
}

export function writePathWatch(w: JuteWriter, path: string, watch = false): void {
  w.ustring(path);
  w.boolean(watch);
}

export function writeSetData(w: JuteWriter, path: string, data: Buffer): void {
  w.ustring(path);
  w.buffer(data);
  w.int(-1);
}

export function writeDelete(w: JuteWriter, path: string): void {
  w.ustring(path);
  w.int(-1);
}

export function parseConnectString(cs: string): { host: string; port: number }[] {
  return cs.split(',').map((hp) => {
    const i = hp.lastIndexOf(':');
    const port = Number(hp.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port)) throw new Error(`bad host:port ${hp}`);
    return { host: hp.slice(0, i), port };
  });
}

function tlsConnect(host: string, port: number, f: ClientTlsFiles): tls.TLSSocket {
  const sock = tls.connect({ host, port, ca: fs.readFileSync(f.ca), cert: fs.readFileSync(f.cert), key: fs.readFileSync(f.key) });
  sock.setNoDelay(true);
  return sock;
}
