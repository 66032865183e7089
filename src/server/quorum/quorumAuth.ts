/**
 * Quorum SASL (quorum.auth.*), as ZooKeeper's SaslQuorumAuthLearner and SaslQuorumAuthServer run
 * it on an election connection (after the connecting peer's handshake) and on a learner's
 * connection to the leader (before FOLLOWERINFO): QuorumAuthPackets carrying DIGEST-MD5 tokens
 * (protocol "zookeeper-quorum", server name "zk-quorum-sasl-md5"). The learner sends an empty
 * token, the server its challenge (in progress), the learner its response, the server rspauth
 * (success), or error with an empty token.
 *
 * The server side tells a learner that authenticates from one that does not by the first 8 bytes
 * (the magic), as ZooKeeper's nextPacketIsAuth does.
 */
import type net from 'node:net';
import { JuteReader } from '../../jute/index.js';
import { log } from '../../log.js';
import { DigestMd5Client } from '../../client/saslDigestClient.js';
import { QUORUM_DIGEST } from '../../proto/digestMd5.js';
import { QuorumAuthPacket } from '../../proto/records.js';
import type { QuorumSaslOptions } from '../options.js';
import { DigestMd5Server } from '../saslDigest.js';

/**
 * QuorumAuth.QUORUM_AUTH_MAGIC_NUMBER, written in Java as -0xa0dbcafecafe1234L: that hex literal
 * is already a negative long, so the magic on the wire is positive (5f 24 35 01 35 01 ed cc).
 */
const QUORUM_AUTH_MAGIC = 0x5f2435013501edccn;
const STATUS_IN_PROGRESS = 0;
const STATUS_SUCCESS = 1;
const STATUS_ERROR = -1;
/** SaslQuorumAuthServer.MAX_RETRIES: challenges beyond this end the exchange. */
const SERVER_ROUNDS_MAX = 5;
/** A DIGEST-MD5 token is a few hundred bytes; more is not an exchange we take part in. */
const TOKEN_BYTES_MAX = 64 * 1024;
/** The exchange must end within this (ZooKeeper's socket timeouts bound it there). */
const EXCHANGE_TIMEOUT_MS = 10_000;

export interface QuorumAuth {
  /**
   * The connecting side: resolves once authenticated (at once when it need not) to the bytes the
   * other side sent after the exchange (the socket paused); rejects → close.
   */
  learner(s: net.Socket): Promise<Buffer>;
  /**
   * The accepting side, `first` being what was read after the point the exchange starts: resolves
   * to the bytes that follow it (the socket paused); rejects → close.
   */
  server(s: net.Socket, first: Buffer): Promise<Buffer>;
}

/** No quorum.auth.enableSasl: nothing is exchanged (ZooKeeper's NullQuorumAuthLearner/Server). */
/** How a transport logs a failed exchange: a refusal is a warning, a dropped connection is not. */
export function logAuthFailure(e: Error, fields: Record<string, unknown>, msg: string): void {
  if (e instanceof QuorumAuthClosed) log.debug({ ...fields, err: e.message }, msg);
  else log.warn({ ...fields, err: e.message }, msg);
}

export const NO_QUORUM_AUTH: QuorumAuth = {
  learner: () => Promise.resolve(Buffer.alloc(0)),
  server: (_s, first) => Promise.resolve(first),
};

/** Reads exact byte counts off a socket while the exchange runs; `release` hands back the rest. */
class SocketReader {
  private buf: Buffer;
  private waiting: { n: number; resolve: (b: Buffer | undefined) => void } | undefined;
  private ended = false;
  private readonly onData = (chunk: Buffer): void => {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.wake();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake();
  };

  constructor(
    private readonly s: net.Socket,
    first: Buffer,
  ) {
    this.buf = first;
    s.on('data', this.onData);
    s.on('close', this.onEnd);
    s.on('end', this.onEnd);
    s.resume();
  }

  /** The next `n` bytes, consumed (or only looked at with peek); undefined when the connection ends first. */
  read(n: number, peek = false): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      this.waiting = {
        n,
        resolve: (b) => {
          if (b !== undefined && !peek) this.buf = this.buf.subarray(n);
          resolve(b);
        },
      };
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiting;
    if (w === undefined) return;
    if (this.buf.length >= w.n) {
      this.waiting = undefined;
      w.resolve(this.buf.subarray(0, w.n));
    } else if (this.ended) {
      this.waiting = undefined;
      w.resolve(undefined);
    }
  }

  release(): Buffer {
    this.s.pause();
    this.s.off('data', this.onData);
    this.s.off('close', this.onEnd);
    this.s.off('end', this.onEnd);
    return this.buf;
  }
}

/** The other side closed mid-exchange: a dropped connection, not a refusal (logged quietly). */
class QuorumAuthClosed extends Error {
  constructor() {
    super('connection closed during quorum SASL');
  }
}

function send(s: net.Socket, status: number, token: Buffer | null): void {
  s.write(QuorumAuthPacket.encode({ magic: QUORUM_AUTH_MAGIC, status, token }));
}

/** One QuorumAuthPacket: magic, status, then the token's length and bytes. */
async function receive(r: SocketReader): Promise<QuorumAuthPacket> {
  const head = await r.read(16);
  if (head === undefined) throw new QuorumAuthClosed();
  const n = head.readInt32BE(12);
  if (n > TOKEN_BYTES_MAX) throw new Error(`quorum SASL token of ${n} bytes`);
  const token = n > 0 ? await r.read(n) : Buffer.alloc(0);
  if (token === undefined) throw new QuorumAuthClosed();
  const p = QuorumAuthPacket.read(new JuteReader(Buffer.concat([head, token])));
  if (p.magic !== QUORUM_AUTH_MAGIC) throw new Error('not a quorum SASL packet');
  return p;
}

function timeBound<T>(what: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`quorum SASL did not finish within ${EXCHANGE_TIMEOUT_MS} ms`)), EXCHANGE_TIMEOUT_MS);
    t.unref();
    what.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export function saslQuorumAuth(o: QuorumSaslOptions): QuorumAuth {
  const learner = async (s: net.Socket): Promise<Buffer> => {
    const creds = o.learner;
    if (creds === undefined) throw new Error('no QuorumLearner credentials');
    const r = new SocketReader(s, Buffer.alloc(0));
    try {
      const client = new DigestMd5Client(creds.username, creds.password, QUORUM_DIGEST);
      send(s, STATUS_IN_PROGRESS, client.start());
      for (;;) {
        const p = await receive(r);
        if (p.status === STATUS_ERROR) throw new Error('the server refused our quorum SASL credentials');
        const step = client.evaluate(p.token);
        if ('error' in step) throw new Error(step.error);
        if ('done' in step) {
          if (p.status !== STATUS_SUCCESS) throw new Error(`quorum SASL ended with status ${p.status}`);
          return r.release();
        }
        if (p.status !== STATUS_IN_PROGRESS) throw new Error(`quorum SASL: status ${p.status} before the exchange was over`);
        send(s, STATUS_IN_PROGRESS, step.next);
      }
    } finally {
      r.release();
    }
  };

  const server = async (s: net.Socket, first: Buffer): Promise<Buffer> => {
    const r = new SocketReader(s, first);
    let failure: string | undefined;
    try {
      const head = await r.read(8, true);
      if (head === undefined) throw new QuorumAuthClosed();
      if (head.readBigInt64BE(0) !== QUORUM_AUTH_MAGIC) {
        if (o.serverRequireSasl) throw new Error('Learner not trying to authenticate and authentication is required');
        return r.release();
      }
      const ds = new DigestMd5Server(o.serverUsers, QUORUM_DIGEST);
      let token = (await receive(r)).token ?? Buffer.alloc(0);
      for (let round = 1; ; round++) {
        const step = ds.evaluate(token);
        if (!step.ok) {
          failure = step.reason;
          break;
        }
        if (step.user !== undefined) {
          // SaslQuorumServerCallbackHandler authorizes only a learner that asks for no other identity than its own.
          if (step.authzid !== undefined && step.authzid !== step.user) {
            failure = `${step.user} may not act as ${step.authzid}`;
            break;
          }
          send(s, STATUS_SUCCESS, step.token);
          log.info({ addr: s.remoteAddress, user: step.user }, 'quorum SASL: learner authenticated');
          return r.release();
        }
        if (round > SERVER_ROUNDS_MAX) {
          failure = 'too many rounds';
          break;
        }
        send(s, STATUS_IN_PROGRESS, step.token);
        token = (await receive(r)).token ?? Buffer.alloc(0);
      }
    } catch (e) {
      r.release();
      throw e;
    }
    send(s, STATUS_ERROR, Buffer.alloc(0));
    if (o.serverRequireSasl) {
      r.release();
      throw new Error(`Failed to authenticate using SASL: ${failure}`);
    }
    // As ZooKeeper: without serverRequireSasl a learner that failed keeps its connection.
    log.warn({ addr: s.remoteAddress, err: failure }, 'quorum SASL failed; keeping the connection (quorum.auth.serverRequireSasl=false)');
    return r.release();
  };

  return {
    learner: (s) => (o.learnerRequireSasl ? timeBound(learner(s)) : NO_QUORUM_AUTH.learner(s)),
    server: (s, first) => timeBound(server(s, first)),
  };
}
