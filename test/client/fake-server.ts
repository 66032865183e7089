/**
 * A scripted stand-in for a ZooKeeper server, for client tests that need to see the exact
 * frames the client sends (SetWatches chunks, the resume ConnectRequest) or to misbehave
 * (split frames, out-of-order replies, expired sessions).
 */
import net from 'node:net';
import { JuteReader, JuteWriter } from '../../src/jute/index.js';
import { ConnectRequest } from '../../src/proto/records.js';

export interface Frame {
  conn: number;
  xid: number;
  type: number;
  body: JuteReader;
}

export interface FakeServerOptions {
  /** Negotiated timeout to answer with; 0 means "session expired". Per connection index. */
  timeout_ms?: (conn: number) => number;
  /** Answer a request: the reply body bytes and error, or null for no answer. */
  answer?: (f: Frame) => { err: number; body?: Buffer } | null;
  /** Write replies one byte at a time. */
  dribble?: boolean;
  /** Answer sessions as a read-only server would (ConnectResponse.readOnly). */
  readOnly?: (conn: number) => boolean;
  /** The answer to the `isro` four-letter word. */
  isro?: 'ro' | 'rw';
}

export interface FakeServer {
  port: number;
  connectString: string;
  connects: { conn: number; req: ConnectRequest }[];
  /** How many `isro` probes were answered. */
  probes: number;
  frames: Frame[];
  zxid: bigint;
  sockets: net.Socket[];
  /** Send a frame (already including its 4-byte length) on the newest connection. */
  send(bytes: Buffer): void;
  dropAll(): void;
  close(): Promise<void>;
}

export const SESSION_ID = 0x4200000000000001n;
export const PASSWD = Buffer.from('0123456789abcdef');

export function replyFrame(xid: number, zxid: bigint, err: number, body?: Buffer): Buffer {
  const w = new JuteWriter();
  const at = w.reserveInt();
  w.int(xid);
  w.long(zxid);
  w.int(err);
  if (body) w.raw(body);
  w.patchInt(at, w.offset - at - 4);
  return Buffer.from(w.bytes());
}

export async function startFakeServer(opts: FakeServerOptions = {}): Promise<FakeServer> {
  let connCount = 0;
  const fake: FakeServer = {
    port: 0,
    connectString: '',
    connects: [],
    probes: 0,
    frames: [],
    zxid: 5n,
    sockets: [],
    send(bytes) {
      write(fake.sockets[fake.sockets.length - 1]!, bytes);
    },
    dropAll() {
      for (const s of fake.sockets) s.destroy();
      fake.sockets = [];
    },
    close() {
      fake.dropAll();
      return new Promise((r) => server.close(() => r()));
    },
  };
  const write = (s: net.Socket, b: Buffer): void => {
    if (!opts.dribble) {
      s.write(b);
      return;
    }
    for (let i = 0; i < b.length; i++) s.write(b.subarray(i, i + 1));
  };
  const server = net.createServer((sock) => {
    const conn = connCount++;
    fake.sockets.push(sock);
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let handshake = true;
    sock.on('error', () => {});
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (handshake && buf.length >= 4 && buf.subarray(0, 4).toString('latin1') === 'isro') {
        fake.probes++;
        sock.end(opts.isro ?? 'ro');
        return;
      }
      while (buf.length >= 4) {
        const len = buf.readInt32BE(0);
        if (buf.length < 4 + len) break;
        const frame = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (handshake) {
          handshake = false;
          const req = ConnectRequest.decode(frame);
          fake.connects.push({ conn, req });
          const w = new JuteWriter();
          const at = w.reserveInt();
          w.int(0);
          w.int(opts.timeout_ms ? opts.timeout_ms(conn) : 6000);
          w.long(SESSION_ID);
          w.buffer(PASSWD);
          w.boolean(opts.readOnly ? opts.readOnly(conn) : false);
          w.patchInt(at, w.offset - at - 4);
          write(sock, Buffer.from(w.bytes()));
          continue;
        }
        const r = new JuteReader(frame);
        const f: Frame = { conn, xid: r.int(), type: r.int(), body: r };
        fake.frames.push(f);
        if (f.xid < 0) {
          if (f.xid !== -1) write(sock, replyFrame(f.xid, fake.zxid, 0));
          continue;
        }
        const a = opts.answer ? opts.answer(f) : { err: 0 };
        if (a !== null) write(sock, replyFrame(f.xid, fake.zxid, a.err, a.body));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as net.AddressInfo;
  fake.port = addr.port;
  fake.connectString = `127.0.0.1:${addr.port}`;
  return fake;
}
