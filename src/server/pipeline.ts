/**
 * The request pipeline every serving member runs: client port, connections, sessions, and
 *   frames → decode → (write) the mode numbers, prepares and commits it → applyCommitted → reply
 *                   → (read)  answer in the session's order, behind its own pending writes.
 * The mode (servingMode.ts: standalone, leader, learner, read-only) decides how a write gets its
 * zxid and commits and how a sync is confirmed; every committed txn comes back through
 * applyCommitted, the one apply path. Watch notifications are written as txns apply, so they
 * precede the reply that caused them.
 */
import { JuteError, JuteReader } from '../jute/index.js';
import { log } from '../log.js';
import { Err } from '../proto/errors.js';
import { OpCode, opName } from '../proto/opcodes.js';
import { type ZkDatabase } from '../txn/database.js';
import { standaloneReconfig, TxnPreparer, type ReconfigPolicy, type WriteRequest } from '../txn/prep.js';
import type { Txn, TxnBody } from '../txn/txn.js';
import type { ServingMode, WriteJob } from './servingMode.js';
import type { SnapshotFile } from './txnSink.js';
import type { RuntimeMutation } from './mutations.js';
import type { ForwardedWrite } from './quorum/forwardedRequest.js';
import { addAuthInfo, authenticate } from '../txn/auth.js';
import { x509Ids } from './x509Auth.js';
import { DigestMd5Server } from './saslDigest.js';
import type { ServerOptions } from './options.js';
import { ClientConnection, emptyConnectionStats, lastOpName, type PendingEntry } from './connection.js';
import { FrameError } from './framing.js';
import { decodeRequest, isWriteOp, type ClientRequest, type ReadOp } from './requests.js';
import { SetSASLResponse, type Id } from '../proto/records.js';
import { beginFrame, endFrame, writeHeaderOnly, writeWriteResult } from './replies.js';
import { executeRead } from './reads.js';
import { SessionTracker } from './sessionTracker.js';
import { initialSessionId, sessionPassword, SESSION_PASSWORD_BYTES } from './sessionIds.js';
import { ContainerReaper } from './containerReaper.js';
import { fourLetterCode } from '../proto/fourLetterWords.js';
import type { AdminSource, FourLetterWordAnswerer, MemberAdminSource, QuorumView } from './adminSource.js';
import { ServerMetrics } from './serverMetrics.js';
import { clientPorts, type ClientListener, type ClientSocket, type ClientSocketHandlers, type Clock, type PipelineIo, type Timer } from './io.js';
import { ServerStats } from './serverStats.js';
import { reportDigestMismatches } from './digestMismatch.js';

/** Output bytes queued on a socket beyond which we stop reading from it until it drains. */
const SOCKET_OUTPUT_BYTES_MAX = 4 * 1024 * 1024;
/** A connection that has not finished its handshake by then is closed (zookeeper.nio.sessionlessCnxnTimeout). */
const SESSIONLESS_CONNECTION_TIMEOUT_MS = 10_000;
/** Requests a client may send before its session is created (they wait for the ConnectResponse). */
const HELD_FRAMES_MAX = 1000;
export interface PipelineExtras {
  /** The admin surface's answers; without one, every word is refused as not whitelisted. */
  fourLetterWords?: FourLetterWordAnswerer;
  /** Test-only broken variants (mutations.ts). */
  mutations?: ReadonlySet<RuntimeMutation>;
  /** The quorum peer this pipeline serves for (its metrics outlive the pipeline); a standalone pipeline is its own member. */
  member?: MemberAdminSource;
  /** A standalone server's metrics, made before it; a quorum peer's are its member's. */
  metrics?: ServerMetrics;
  /** A leader's reconfig checks; without them the server is standalone (reconfig is Unimplemented). */
  reconfig?: ReconfigPolicy;
}

/** What the admin surface and the roles see of a serving member. */
export interface ServingServer {
  readonly port: number;
  readonly options: ServerOptions;
  readonly db: ZkDatabase;
  close(): Promise<void>;
}

export class RequestPipeline implements ServingServer, AdminSource, MemberAdminSource {
  readonly preparer: TxnPreparer;
  readonly sessions: SessionTracker;
  readonly conns = new Set<ClientConnection>();
  private readonly connsBySession = new Map<bigint, ClientConnection>();
  private readonly connsByIp = new Map<string, number>();
  private readonly listeners: ClientListener[] = [];
  private readonly clock: Clock;
  private turnScheduled = false;
  /** The last txn applied since the digest was last checked. */
  private lastApplied: Txn | undefined;
  private readonly dirty: ClientConnection[] = [];
  private tickTimer: Timer | undefined;
  private readonly reaper: ContainerReaper;
  readonly stats = new ServerStats();
  readonly metrics: ServerMetrics;
  readonly started_ms: number;
  private closed = false;
  /** The clientPort bound (or the secureClientPort, when only that one is opened). */
  port = 0;
  /** Connections with a sync the mode has not confirmed yet, oldest first. */
  private readonly pendingSyncs: ClientConnection[] = [];
  /** Learner: sessions touched since the last PING reply (reported to the leader). */
  readonly touchedSessions = new Map<bigint, number>();
  /** The member each session last connected through (SessionTracker's owner; a leader's SessionMoved). */
  private readonly owners = new Map<bigint, number>();

  constructor(
    readonly options: ServerOptions,
    readonly db: ZkDatabase,
    readonly mode: ServingMode,
    private readonly io: PipelineIo,
    private readonly extras: PipelineExtras = {},
  ) {
    this.clock = io.clock;
    this.metrics = extras.member?.metrics ?? extras.metrics ?? new ServerMetrics();
    const now = this.clock.now_ms();
    this.started_ms = now;
    this.sessions = new SessionTracker(options.tickTime_ms, initialSessionId(mode.serverId, BigInt(Math.floor(now))));
    // Read-only: only the local sessions it makes are tracked (and expired) here; global ones stay in the tree.
    if (!mode.readOnly) for (const [id, to] of db.sessionsWithTimeouts) this.sessions.add(id, to, now);
    if (db.onDigestMismatch === undefined) reportDigestMismatches(db);
    this.preparer = new TxnPreparer(
      db.tree,
      {
        skipACL: options.skipACL,
        authProviders: options.authProviders,
        x509SuperUser: options.x509SuperUser,
        extendedTypesEnabled: options.extendedTypesEnabled,
        digestEnabled: options.digestEnabled,
        failedMultiKeepsChanges: extras.mutations?.has('failedMultiKeepsChanges') === true,
      },
      {
        check: (id) => {
          const s = this.sessions.sessions.get(id);
          if (s === undefined) return mode.unknownSession(id);
          return s.closing ? Err.SessionExpired : undefined;
        },
      },
      extras.reconfig ?? standaloneReconfig(options.reconfigEnabled),
    );
    this.reaper = new ContainerReaper(options, db.tree, this.clock, (path) => this.submitInternal({ op: OpCode.deleteContainer, path }, 0n));
  }

  async listen(): Promise<void> {
    const o = this.options;
    const accept = (s: ClientSocket): ClientSocketHandlers => this.accept(s);
    for (const p of clientPorts(o)) {
      const l = await this.io.listenClients(p.port, p.address, accept, p.tls);
      if (this.listeners.length === 0) this.port = l.port;
      this.listeners.push(l);
    }
    this.scheduleTick();
    if (this.mode.ownsSessions) this.reaper.start();
  }

  /**
   * The client port moved by reconfig (ZooKeeper's cnxnFactory.reconfigure, ZOOKEEPER-2847): the
   * new address listens, then the old listener closes; connections made on it stay.
   */
  async rebind(port: number, address: string): Promise<void> {
    const o = this.options;
    if (!o.clientPortListen || this.closed) return;
    const unified = o.clientPortUnification ? { ssl: o.ssl, unified: true } : undefined;
    const l = await this.io.listenClients(port, address, (s) => this.accept(s), unified);
    const old = this.listeners[0];
    this.listeners[0] = l;
    this.port = l.port;
    await old?.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tickTimer?.cancel();
    this.reaper.stop();
    for (const c of [...this.conns]) this.closeConnection(c, 'server shutdown');
    await Promise.all(this.listeners.map((l) => l.close()));
    await this.mode.close();
  }

  // ---- connections ----

  private accept(socket: ClientSocket): ClientSocketHandlers {
    const addr = socket.remoteAddress;
    const max = this.options.maxClientCnxns;
    const count = this.connsByIp.get(addr) ?? 0;
    if (max > 0 && count >= max) {
      this.metrics.counter.connection_rejected++;
      log.warn({ addr, max }, 'Too many connections from this address - max is %d', max);
      socket.destroy();
      return IGNORE_SOCKET;
    }
    const certIds = socket.peerCertificate === undefined ? [] : x509Ids(this.options, socket.peerCertificate, addr);
    if (certIds === undefined) {
      socket.destroy();
      return IGNORE_SOCKET;
    }
    this.connsByIp.set(addr, count + 1);
    const conn = new ClientConnection(socket, this.options.juteMaxBuffer_bytes, this.clock.now_ms(), this.options, (c) => this.markDirty(c));
    if (certIds.length > 0) conn.authInfo = [...conn.authInfo, ...certIds];
    this.conns.add(conn);
    return {
      data: (chunk) => this.onData(conn, chunk),
      close: () => this.onSocketClosed(conn),
      drain: () => this.maybeResume(conn),
    };
  }

  private onSocketClosed(conn: ClientConnection): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.conns.delete(conn);
    const n = (this.connsByIp.get(conn.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.connsByIp.delete(conn.remoteAddress);
    else this.connsByIp.set(conn.remoteAddress, n);
    if (conn.sessionId !== 0n && this.connsBySession.get(conn.sessionId) === conn) this.connsBySession.delete(conn.sessionId);
    this.db.tree.removeWatcher(conn);
  }

  /** Closes after flushing what is already written. */
  closeConnection(conn: ClientConnection, reason: string): void {
    if (conn.state === 'closed') return;
    log.debug({ addr: conn.remoteAddress, session: hex(conn.sessionId), reason }, 'closing client connection');
    conn.flush();
    conn.state = 'closing';
    conn.socket.end();
    this.onSocketClosed(conn);
  }

  private onData(conn: ClientConnection, chunk: Buffer): void {
    if (conn.state === 'closed' || conn.state === 'closing') return;
    if (conn.state === 'handshake' && conn.stats.packetsReceived === 0) {
      // A four-letter word comes where the first frame's length would be.
      const first = conn.decoder.peekInt(chunk);
      const word = first === undefined ? undefined : fourLetterCode(first);
      if (word !== undefined) {
        this.stats.packetsReceived++;
        this.answerFourLetterWord(conn, word);
        return;
      }
    }
    try {
      conn.decoder.push(chunk, (buf, start, end) => this.onFrame(conn, buf, start, end));
    } catch (e) {
      if (e instanceof FrameError) {
        log.warn({ addr: conn.remoteAddress, session: hex(conn.sessionId), err: e.message }, 'closing connection: bad frame length');
      } else {
        // A bug met while reading one client's request must not take the server down.
        log.error({ err: e, addr: conn.remoteAddress, session: hex(conn.sessionId) }, 'closing connection: error while handling a request');
      }
      this.closeConnection(conn, e instanceof Error ? e.message : String(e));
      this.scheduleTurn();
      return;
    }
    this.scheduleTurn();
  }

  private answerFourLetterWord(conn: ClientConnection, word: string): void {
    let text: string;
    const wl = this.options.fourLetterWhitelist;
    const answer = this.extras.fourLetterWords;
    if (answer === undefined || (wl !== '*' && !wl.has(word))) text = `${word} is not executed because it is not in the whitelist.\n`;
    else {
      conn.stats.packetsReceived++;
      text = answer(word, this);
    }
    conn.state = 'closing';
    conn.socket.end(text);
    this.onSocketClosed(conn);
  }

  /** One frame; returns true to stop decoding this chunk. */
  private onFrame(conn: ClientConnection, buf: Buffer, start: number, end: number): boolean {
    if (conn.state === 'closing' || conn.state === 'closed') return true;
    conn.stats.packetsReceived++;
    this.stats.packetsReceived++;
    // ServerCnxn.packetReceived: the frame with its length prefix.
    this.metrics.counter.bytes_received_count += end - start + 4;
    if (conn.state === 'handshake') {
      this.metrics.counter.connection_request_count++;
      return this.onConnectRequest(conn, buf, start, end);
    }
    if (conn.state === 'connecting') {
      if (conn.held.length >= HELD_FRAMES_MAX) {
        log.warn({ addr: conn.remoteAddress }, 'closing connection: too many requests before its session exists');
        this.closeConnection(conn, 'too many early requests');
        return true;
      }
      conn.held.push(Buffer.from(buf.subarray(start, end)));
      return false;
    }
    return this.onRequest(conn, buf, start, end);
  }

  private onConnectRequest(conn: ClientConnection, buf: Buffer, start: number, end: number): boolean {
    const r = new JuteReader(buf, start, end);
    let lastZxidSeen: bigint, timeOut: number, sessionId: bigint, passwd: Buffer | null;
    let readOnlyClient = false;
    try {
      r.int(); // protocolVersion
      lastZxidSeen = r.long();
      timeOut = r.int();
      sessionId = r.long();
      passwd = r.buffer();
      if (r.remaining >= 1) {
        readOnlyClient = r.boolean();
        conn.oldClient = false;
      }
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      log.warn({ addr: conn.remoteAddress, err: e.message }, 'closing connection: bad connect request');
      this.closeConnection(conn, 'bad connect request');
      return true;
    }
    const readOnly = this.mode.readOnly;
    if (readOnly && !readOnlyClient) {
      log.info({ addr: conn.remoteAddress }, 'Refusing session request for not-read-only client');
      this.closeConnection(conn, 'not a read-only client');
      return true;
    }
    if (lastZxidSeen > this.db.lastProcessedZxid) {
      log.info(
        { addr: conn.remoteAddress },
        `Refusing session request for client as it has seen zxid 0x${lastZxidSeen.toString(16)} our last zxid is 0x${this.db.lastProcessedZxid.toString(16)} client must try another server`,
      );
      this.closeConnection(conn, 'client zxid ahead');
      return true;
    }
    const timeout_ms = Math.min(Math.max(timeOut, this.options.minSessionTimeout_ms), this.options.maxSessionTimeout_ms);
    conn.sessionTimeout_ms = timeout_ms;
    if (sessionId === 0n && readOnly) {
      // A local session: no createSession txn (there is no quorum to commit one).
      const id = this.sessions.newSessionId();
      conn.sessionId = id;
      this.sessions.add(id, timeout_ms, this.clock.now_ms());
      this.finishSessionInit(conn, true);
      return false;
    }
    if (readOnly && this.db.sessionsWithTimeouts.has(sessionId)) {
      log.info({ addr: conn.remoteAddress, session: hex(sessionId) }, 'Refusing global session reconnection in RO mode');
      this.closeConnection(conn, 'global session in read-only mode');
      return true;
    }
    if (sessionId === 0n) {
      const id = this.sessions.newSessionId();
      conn.sessionId = id;
      conn.state = 'connecting';
      this.sessions.add(id, timeout_ms, this.clock.now_ms());
      this.connsBySession.set(id, conn);
      this.owners.set(id, this.mode.serverId);
      this.mode.write({
        ctx: { sessionId: id, cxid: 0, authInfo: [], time: BigInt(this.clock.now_ms()) },
        write: { op: OpCode.createSession, timeout_ms },
        via: this.mode.serverId,
      });
      return false;
    }
    // Reconnect: any other connection of this session is closed first.
    const other = this.connsBySession.get(sessionId);
    if (other !== undefined && other !== conn) this.closeConnection(other, 'client reconnected elsewhere');
    conn.sessionId = sessionId;
    const pwOk = passwd !== null && passwd.equals(sessionPassword(sessionId));
    if (!pwOk) log.warn({ addr: conn.remoteAddress }, `Incorrect password from client for session 0x${sessionId.toString(16)}`);
    if (pwOk && this.mode.revalidate !== undefined && !readOnly) {
      // Learner: the leader decides (the session may be newer than what this member applied) and
      // records this member as the session's owner, as ZooKeeper's Learner.validateSession does.
      conn.state = 'connecting';
      this.connsBySession.set(sessionId, conn);
      this.mode.revalidate(sessionId, timeout_ms);
      return false;
    }
    const valid = pwOk && this.sessions.touch(sessionId, timeout_ms, this.clock.now_ms());
    if (valid) this.owners.set(sessionId, this.mode.serverId);
    this.finishSessionInit(conn, valid);
    return !valid;
  }

  private finishSessionInit(conn: ClientConnection, valid: boolean): void {
    const w = conn.out;
    const at = w.reserveInt();
    w.int(0);
    w.int(valid ? conn.sessionTimeout_ms : 0);
    w.long(valid ? conn.sessionId : 0n);
    w.buffer(valid ? sessionPassword(conn.sessionId) : Buffer.alloc(SESSION_PASSWORD_BYTES));
    if (!conn.oldClient) w.boolean(this.mode.readOnly);
    endFrame(w, at);
    conn.stats.packetsSent++;
    this.stats.packetsSent++;
    if (!valid) {
      log.info({ addr: conn.remoteAddress, session: hex(conn.sessionId) }, 'Invalid session for client, probably expired');
      const sid = conn.sessionId;
      conn.sessionId = 0n;
      if (this.connsBySession.get(sid) === conn) this.connsBySession.delete(sid);
      this.closeConnection(conn, 'invalid session');
      return;
    }
    conn.state = 'open';
    this.connsBySession.set(conn.sessionId, conn);
    this.markDirty(conn);
    const held = conn.held.splice(0);
    for (const f of held) if (this.onRequest(conn, f, 0, f.length)) break;
  }

  // ---- requests ----

  private onRequest(conn: ClientConnection, buf: Buffer, start: number, end: number): boolean {
    const now = this.clock.now_ms();
    const r = new JuteReader(buf, start, end);
    let xid: number, type: number;
    let req: ClientRequest;
    try {
      xid = r.int();
      type = r.int();
    } catch {
      this.closeConnection(conn, 'truncated request header');
      return true;
    }
    if (conn.sessionClosing) {
      // As ZooKeeper: a request behind closeSession meets a closing session and gets SessionExpired.
      const read = { op: OpCode.error, err: Err.SessionExpired } as const;
      if (conn.queue.length === 0) this.answerRead(conn, xid, read, conn.authInfo, now);
      else conn.queue.push({ kind: 'read', xid, read, authInfo: conn.authInfo, recv_ms: now });
      return false;
    }
    this.sessions.touch(conn.sessionId, conn.sessionTimeout_ms, now);
    if (!this.mode.ownsSessions) this.touchedSessions.set(conn.sessionId, conn.sessionTimeout_ms);
    const bodyStart = r.offset;
    try {
      req = decodeRequest(type, r, this.options.pagedReads);
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      log.warn({ addr: conn.remoteAddress, op: opName(type), err: e.message }, 'undecodable request');
      req = isWriteOp(type) ? { kind: 'failedWrite', err: Err.MarshallingError } : { kind: 'read', read: { op: OpCode.error } };
    }
    if (this.options.enforceAuthSchemes.length > 0 && type !== OpCode.auth && type !== OpCode.sasl && !this.authenticatedAsEnforced(conn)) {
      // AuthenticationHelper.enforceAuthentication: answered, then the connection closes.
      log.error(
        { addr: conn.remoteAddress, schemes: conn.authInfo.map((i) => i.scheme), expected: this.options.enforceAuthSchemes },
        'Client authentication scheme(s) does not match with any of the expected authentication scheme, closing session.',
      );
      this.replyNow(conn, xid, 0n, Err.SessionClosedRequireSaslAuth);
      this.closeConnection(conn, 'authentication required');
      return true;
    }
    if (this.mode.readOnly && this.refuseInReadOnly(conn, xid, type, now)) return type === OpCode.closeSession;
    switch (req.kind) {
      case 'read':
        if (conn.queue.length === 0) this.answerRead(conn, xid, req.read, conn.authInfo, now);
        else conn.queue.push({ kind: 'read', xid, read: req.read, authInfo: conn.authInfo, recv_ms: now });
        break;
      case 'write':
      case 'badMulti':
      case 'failedWrite': {
        conn.queue.push({ kind: 'write', xid, op: type, recv_ms: now, rc: undefined, replyZxid: 0n });
        if (type === OpCode.closeSession) this.markClosing(conn);
        const write = req.kind === 'write' ? req.write : ({ op: OpCode.error, err: req.kind === 'badMulti' ? Err.MarshallingError : req.err } as const);
        const ctx = { sessionId: conn.sessionId, cxid: xid, authInfo: conn.authInfo, time: BigInt(now) };
        // `request` views the frame's bytes: a mode that keeps them copies them.
        this.mode.write({ ctx, write, via: this.mode.serverId, request: { type, body: buf.subarray(bodyStart, end) } });
        break;
      }
      case 'sync':
        conn.queue.push({ kind: 'sync', xid, path: req.path, recv_ms: now, ready: false });
        this.pendingSyncs.push(conn);
        this.mode.sync({ sessionId: conn.sessionId, cxid: xid, path: req.path, authInfo: conn.authInfo });
        break;
      case 'auth': {
        const ids = authenticate(req.packet.scheme, req.packet.auth, conn.remoteAddress, this.options.superDigest);
        if (ids === undefined) {
          log.warn({ addr: conn.remoteAddress, scheme: req.packet.scheme }, 'Authentication failed for scheme');
          this.replyNow(conn, xid, 0n, Err.AuthFailed);
          this.closeConnection(conn, 'auth failed');
          return true;
        }
        const next = [...conn.authInfo];
        addAuthInfo(next, ids);
        conn.authInfo = next;
        this.replyNow(conn, xid, 0n, Err.Ok);
        break;
      }
      case 'sasl':
        return this.onSasl(conn, xid, req.token);
      case 'unknown':
        log.warn({ addr: conn.remoteAddress, type, op: opName(type) }, 'Received packet at server of unknown type');
        this.replyNow(conn, xid, -1n, Err.Unimplemented);
        this.closeConnection(conn, 'unknown op');
        return true;
    }
    if (conn.queue.length >= this.options.globalOutstandingLimit && !conn.readingPaused) {
      conn.readingPaused = true;
      conn.socket.pause();
    }
    return false;
  }

  private authenticatedAsEnforced(conn: ClientConnection): boolean {
    return conn.authInfo.some((id) => this.options.enforceAuthSchemes.includes(id.scheme));
  }

  /**
   * One SASL token (ZooKeeperServer.processSasl): the answer token, and the sasl id once the
   * exchange completes. A failed exchange is answered AUTHFAILED (SESSIONCLOSEDREQUIRESASLAUTH
   * when SASL is enforced) and the connection closes, unless allowSaslFailedClients says otherwise.
   */
  private onSasl(conn: ClientConnection, xid: number, token: Buffer): boolean {
    const o = this.options;
    let answer: Buffer | null = null;
    if (o.saslUsers === undefined) {
      // Without a JAAS Server section ZooKeeper has no SASL server and answers Ok with no token.
      // A client that keeps asking (kazoo does) meets ZooKeeper's outstanding-request throttle
      // there, which never lets go, and its read times out; here it is closed at that point.
      if (++conn.saslWithoutLogin >= o.globalOutstandingLimit) {
        log.warn({ addr: conn.remoteAddress }, 'closing connection: SASL requested over and over, and this server has no SASL login (no JAAS Server section)');
        this.closeConnection(conn, 'SASL without a login');
        return true;
      }
    } else {
      conn.sasl ??= new DigestMd5Server(o.saslUsers);
      const step = conn.sasl.evaluate(token);
      if (step.ok) {
        answer = step.token;
        if (step.user !== undefined) {
          const ids: Id[] = [{ scheme: 'sasl', id: step.user }];
          if (o.saslSuperUsers.includes(step.user)) ids.push({ scheme: 'super', id: '' });
          const next = [...conn.authInfo];
          addAuthInfo(next, ids);
          conn.authInfo = next;
          log.info({ addr: conn.remoteAddress, session: hex(conn.sessionId) }, `adding SASL authorization for authorizationID: ${step.user}`);
        }
      } else {
        log.warn({ addr: conn.remoteAddress, err: step.reason }, 'Client failed to SASL authenticate');
        const required = o.enforceAuthSchemes.includes('sasl');
        if (!o.allowSaslFailedClients || required) {
          this.writeSaslResponse(conn, xid, required ? Err.SessionClosedRequireSaslAuth : Err.AuthFailed, null);
          this.closeConnection(conn, 'SASL authentication failed');
          return true;
        }
      }
    }
    this.writeSaslResponse(conn, xid, Err.Ok, answer);
    return false;
  }

  private writeSaslResponse(conn: ClientConnection, xid: number, err: number, token: Buffer | null): void {
    const w = conn.out;
    const at = beginFrame(w, xid, 0n, err);
    SetSASLResponse.write(w, { token });
    endFrame(w, at);
    conn.stats.packetsSent++;
    this.stats.packetsSent++;
    conn.markDirty();
  }

  /**
   * Read-only mode (ZooKeeper's ReadOnlyRequestProcessor): writes, check and sync get NotReadOnly;
   * closeSession ends the local session here, without a txn. True when the request is answered.
   */
  private refuseInReadOnly(conn: ClientConnection, xid: number, type: number, recv_ms: number): boolean {
    if (type === OpCode.closeSession) {
      this.sessions.remove(conn.sessionId);
      const read = { op: OpCode.error, err: Err.Ok } as const;
      if (conn.queue.length === 0) this.answerRead(conn, xid, read, conn.authInfo, recv_ms);
      else conn.queue.push({ kind: 'read', xid, read, authInfo: conn.authInfo, recv_ms });
      this.drain(conn);
      this.closeConnection(conn, 'session closed');
      return true;
    }
    if (!isWriteOp(type) && type !== OpCode.sync && type !== OpCode.check) return false;
    const read = { op: OpCode.error, err: Err.NotReadOnly } as const;
    if (conn.queue.length === 0) this.answerRead(conn, xid, read, conn.authInfo, recv_ms);
    else conn.queue.push({ kind: 'read', xid, read, authInfo: conn.authInfo, recv_ms });
    return true;
  }

  /** A reply that bypasses the queue only when nothing is queued; otherwise it waits its turn. */
  private replyNow(conn: ClientConnection, xid: number, zxid: bigint, err: number): void {
    writeHeaderOnly(conn.out, xid, zxid, err);
    conn.stats.packetsSent++;
    this.stats.packetsSent++;
    conn.markDirty();
  }

  private answerRead(conn: ClientConnection, xid: number, read: ReadOp, authInfo: readonly Id[], recv_ms: number): void {
    const zxid = this.db.lastProcessedZxid;
    executeRead(this, conn, xid, zxid, read, authInfo);
    const now = this.clock.now_ms();
    conn.recordLatency(lastOpName(read.op), read.op === OpCode.ping ? -1 : xid, zxid, recv_ms, now);
    if (read.op !== OpCode.ping) {
      this.stats.recordLatency(now - recv_ms);
      this.metrics.summary.readlatency.record(now - recv_ms);
    }
    conn.stats.packetsSent++;
    this.stats.packetsSent++;
    conn.markDirty();
  }

  /** The client asked to close its session: later requests on it meet SessionExpired. */
  private markClosing(conn: ClientConnection): void {
    this.sessions.setClosing(conn.sessionId);
    conn.sessionClosing = true;
  }

  /** The server's own writes: expiry closeSession, container reaping. */
  private submitInternal(w: WriteRequest, sessionId: bigint): void {
    this.mode.write({ ctx: { sessionId, cxid: 0, authInfo: [], time: BigInt(this.clock.now_ms()) }, write: w, via: undefined });
  }

  /**
   * The txn for a write, numbered `zxid` by the mode: prepared against the tree plus every
   * outstanding change, as SessionMoved when the session now belongs to another member.
   */
  prepare(job: WriteJob, zxid: bigint): Txn {
    const { ctx, write } = job;
    if (write.op === OpCode.error) return this.preparer.prepareError(ctx, write.err, zxid);
    if (this.movedAway(ctx.sessionId, job.via)) return this.preparer.prepareError(ctx, Err.SessionMoved, zxid);
    const txn = this.preparer.prepare(ctx, write, zxid);
    if (txn.body.type === OpCode.reconfig && this.extras.mutations?.has('reconfigAnsweredAtProposal') === true) this.answerAtProposal(job, txn);
    return txn;
  }

  /** The mutant's early answer: the proposed config and a stat as if it had committed. */
  private answerAtProposal(job: WriteJob, txn: Txn): void {
    const conn = job.via === this.mode.serverId ? this.connsBySession.get(job.ctx.sessionId) : undefined;
    const e = conn?.queue.find((x) => x.kind === 'write' && x.rc === undefined);
    if (conn === undefined || e === undefined || e.kind !== 'write' || e.xid !== job.ctx.cxid || txn.body.type !== OpCode.reconfig) return;
    const h = txn.header;
    const stat = { ...this.db.tree.statNode(txn.body.txn.path), mzxid: h.zxid, version: -1 };
    e.rc = {
      clientId: h.clientId,
      cxid: h.cxid,
      zxid: h.zxid,
      type: OpCode.reconfig,
      err: 0,
      path: txn.body.txn.path,
      stat,
      multiResult: undefined,
      data: txn.body.txn.data,
    };
    e.replyZxid = h.zxid;
    this.drain(conn);
    this.scheduleTurn();
  }

  /** The mode could not give a client's write a zxid (leader bounds): its client reconnects elsewhere. */
  writeRefused(job: WriteJob, reason: string): void {
    const conn = job.via === this.mode.serverId ? this.connsBySession.get(job.ctx.sessionId) : undefined;
    log.warn({ session: hex(job.ctx.sessionId), reason }, 'write refused; closing its connection');
    if (conn !== undefined) this.closeConnection(conn, `write refused: ${reason}`);
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    this.clock.soon(() => {
      this.turnScheduled = false;
      this.checkDigest();
      this.flushDirty();
    });
  }

  /**
   * The tree against the digest recorded on the last txn applied, once per turn: the digest is
   * cumulative, so a wrong txn still shows, and reading it after every txn would recompute the
   * digest of a node changed by many txns of a batch once per txn instead of once.
   */
  private checkDigest(): void {
    const txn = this.lastApplied;
    if (txn === undefined) return;
    this.lastApplied = undefined;
    this.db.checkDigest(txn);
  }

  /**
   * Applies one committed txn (they come in zxid order, in every mode) and answers the client of
   * this member that sent it: the one place txns reach the tree while serving.
   */
  applyCommitted(txn: Txn): void {
    const rc = this.db.apply(txn);
    this.lastApplied = txn;
    const h = txn.header;
    // FinalRequestProcessor: how long ago the txn was prepared; DataTree: bytes written per namespace.
    const age = this.clock.now_ms() - Number(h.time);
    if (age >= 0) this.metrics.summary.propagation_latency.record(age);
    if (rc.type !== OpCode.error) recordWrites(this.metrics, txn.body);
    this.preparer.applied(h.zxid);
    const body = txn.body;
    const conn = this.connsBySession.get(h.clientId);
    if (body.type === OpCode.createSession) {
      this.sessions.add(h.clientId, body.txn.timeOut, this.clock.now_ms());
      if (conn !== undefined && conn.state === 'connecting') this.finishSessionInit(conn, true);
      this.scheduleTurn();
      return;
    }
    if (body.type === OpCode.closeSession) this.sessions.remove(h.clientId);
    if (conn !== undefined && conn.state !== 'closed') {
      // A session's writes commit in the order it sent them: its oldest unanswered write is this one, if it came through here.
      const e = conn.queue.find((x) => x.kind === 'write' && x.rc === undefined);
      if (e !== undefined && e.kind === 'write' && e.xid === h.cxid) {
        if (rc.type === OpCode.error && rc.err === Err.SessionMoved) {
          // ZooKeeper answers a moved session by closing the connection (FinalRequestProcessor).
          this.closeConnection(conn, 'session moved');
          this.scheduleTurn();
          return;
        }
        e.rc = rc;
        e.replyZxid = h.zxid;
        this.drain(conn);
      }
      if (body.type === OpCode.closeSession) this.closeConnection(conn, 'session closed');
    }
    this.scheduleTurn();
  }

  /** The mode confirmed the oldest pending sync: its reply and the reads behind it go out. */
  syncDone(): void {
    const conn = this.pendingSyncs.shift();
    if (conn === undefined) return;
    const e = conn.queue.find((x) => x.kind === 'sync' && !x.ready);
    if (e !== undefined && e.kind === 'sync') e.ready = true;
    this.drain(conn);
    this.scheduleTurn();
  }

  /** Sends every reply at the head of the connection's queue that is ready, in order. */
  private drain(conn: ClientConnection): void {
    if (conn.state === 'closed') {
      conn.queue.length = 0;
      return;
    }
    const q = conn.queue;
    while (q.length > 0) {
      const e = q[0]!;
      if (e.kind === 'write') {
        if (e.rc === undefined) break;
        q.shift();
        this.writeWriteReply(conn, e);
      } else if (e.kind === 'sync') {
        if (!e.ready) break;
        q.shift();
        const w = conn.out;
        const at = beginFrame(w, e.xid, this.db.lastProcessedZxid, 0);
        w.ustring(e.path);
        endFrame(w, at);
        conn.stats.packetsSent++;
        this.stats.packetsSent++;
        conn.recordLatency('SYNC', e.xid, this.db.lastProcessedZxid, e.recv_ms, this.clock.now_ms());
        conn.markDirty();
      } else {
        q.shift();
        this.answerRead(conn, e.xid, e.read, e.authInfo, e.recv_ms);
      }
    }
    if (conn.readingPaused && q.length < this.options.globalOutstandingLimit / 2) this.maybeResume(conn);
  }

  private writeWriteReply(conn: ClientConnection, e: PendingEntry & { kind: 'write' }): void {
    const rc = e.rc!;
    const w = conn.out;
    // A failed single write answers with its error and no body; multi answers 0 with per-op results.
    const err = rc.type === OpCode.error ? rc.err : 0;
    // A successful top-level check gets no reply at all from ZooKeeper 3.8 (its reply fails to encode).
    if (e.op === OpCode.check && err === 0) return;
    const at = beginFrame(w, e.xid, e.replyZxid, err);
    if (err === 0) writeWriteResult(w, e.op, rc);
    endFrame(w, at);
    conn.stats.packetsSent++;
    this.stats.packetsSent++;
    const now = this.clock.now_ms();
    conn.recordLatency(lastOpName(e.op), e.xid, e.replyZxid, e.recv_ms, now);
    this.stats.recordLatency(now - e.recv_ms);
    this.metrics.summary.updatelatency.record(now - e.recv_ms);
    conn.markDirty();
  }

  private markDirty(c: ClientConnection): void {
    this.dirty.push(c);
    this.scheduleTurn();
  }

  private flushDirty(): void {
    const cs = this.dirty.splice(0);
    for (const c of cs) {
      c.flush();
      if (!c.readingPaused && c.socket.writableLength > SOCKET_OUTPUT_BYTES_MAX) {
        c.readingPaused = true;
        c.socket.pause();
      }
    }
  }

  private maybeResume(conn: ClientConnection): void {
    if (!conn.readingPaused || conn.state === 'closed') return;
    if (conn.queue.length >= this.options.globalOutstandingLimit / 2) return;
    if (conn.socket.writableLength > SOCKET_OUTPUT_BYTES_MAX / 2) return;
    conn.readingPaused = false;
    conn.socket.resume();
  }

  // ---- time ----

  /** Ticks fall on multiples of tickTime, where session expiry buckets end. */
  private scheduleTick(): void {
    const t = this.options.tickTime_ms;
    this.tickTimer = this.clock.after(t - (this.clock.now_ms() % t) + 1, () => {
      this.tick();
      if (!this.closed) this.scheduleTick();
    });
  }

  private tick(): void {
    const now = this.clock.now_ms();
    for (const c of this.conns) {
      if (c.state === 'handshake' && now - c.stats.established_ms > SESSIONLESS_CONNECTION_TIMEOUT_MS) {
        this.metrics.counter.sessionless_connections_expired++;
        this.closeConnection(c, 'no connect request in time');
      }
    }
    if (this.mode.readOnly) {
      // Local sessions expire here, without a txn.
      for (const s of this.sessions.expired(now)) {
        log.info({ session: hex(s.id), timeout_ms: s.timeout_ms }, 'Expiring read-only session');
        this.stats.expiredSessions++;
        this.sessions.remove(s.id);
        const c = this.connsBySession.get(s.id);
        if (c !== undefined) this.closeConnection(c, 'session expired');
      }
      return;
    }
    if (!this.mode.ownsSessions) return;
    for (const s of this.sessions.expired(now)) {
      log.info({ session: hex(s.id), timeout_ms: s.timeout_ms }, 'Expiring session');
      this.stats.expiredSessions++;
      if (this.extras.mutations?.has('expiryKeepsEphemerals') === true) this.sessions.remove(s.id);
      else this.submitInternal({ op: OpCode.closeSession }, s.id);
    }
  }

  // ---- what the quorum modes call ----

  /** Leader: the session now belongs to another member (ZooKeeper: SessionMovedException). */
  private movedAway(sessionId: bigint, via: number | undefined): boolean {
    if (via === undefined || !this.mode.ownsSessions) return false;
    const owner = this.owners.get(sessionId);
    return owner !== undefined && owner !== via;
  }

  /** Leader: a learner revalidated a session: it is that member's now. */
  setOwner(sessionId: bigint, serverId: number): void {
    this.owners.set(sessionId, serverId);
  }

  /**
   * Leader: the write job for a learner's REQUEST (`from` is the learner); undefined when it is
   * not a write. A new session is tracked here from now on, owned by that learner.
   */
  forwardedJob(w: ForwardedWrite, from: number): WriteJob | undefined {
    const now = this.clock.now_ms();
    const ctx = { sessionId: w.sessionId, cxid: w.cxid, authInfo: w.authInfo, time: BigInt(now) };
    if (w.type === OpCode.createSession) {
      const timeout_ms = w.body.readInt32BE(0);
      this.sessions.add(w.sessionId, timeout_ms, now);
      this.owners.set(w.sessionId, from);
      return { ctx, write: { op: OpCode.createSession, timeout_ms }, via: from };
    }
    let req: ClientRequest;
    try {
      req = decodeRequest(w.type, new JuteReader(w.body));
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      req = { kind: 'failedWrite', err: Err.MarshallingError };
    }
    if (req.kind === 'write') {
      if (req.write.op === OpCode.closeSession && !this.movedAway(w.sessionId, from)) this.sessions.setClosing(w.sessionId);
      return { ctx, write: req.write, via: from };
    }
    if (req.kind === 'failedWrite' || req.kind === 'badMulti')
      return { ctx, write: { op: OpCode.error, err: req.kind === 'badMulti' ? Err.MarshallingError : req.err }, via: from };
    return undefined;
  }

  /** Learner: the leader's answer about a reconnecting session. */
  revalidated(sessionId: bigint, valid: boolean): void {
    const conn = this.connsBySession.get(sessionId);
    if (conn === undefined || conn.state !== 'connecting') return;
    if (valid) this.sessions.add(sessionId, conn.sessionTimeout_ms, this.clock.now_ms());
    this.finishSessionInit(conn, valid);
    this.scheduleTurn();
  }

  /** Leader: a learner reported activity on a session (PING reply). */
  touchSession(id: bigint, timeout_ms: number): void {
    this.sessions.touch(id, timeout_ms, this.clock.now_ms());
  }

  modeName(): string {
    return this.mode.name;
  }

  readOnly(): boolean {
    return this.mode.readOnly;
  }

  // ---- AdminSource ----

  connections(): Iterable<ClientConnection> {
    return this.conns;
  }

  outstandingRequests(): number {
    let n = 0;
    for (const c of this.conns) n += c.queue.length;
    return n;
  }

  resetConnectionStats(): void {
    for (const c of this.conns) c.stats = emptyConnectionStats(c.stats.established_ms);
  }

  // ---- MemberAdminSource (a standalone server is its own member; a quorum peer answers for itself) ----

  servingSource(): AdminSource | undefined {
    return this.closed ? undefined : this;
  }

  member(): MemberAdminSource {
    return this.extras.member ?? this;
  }

  quorum(): QuorumView | undefined {
    return undefined;
  }

  snapshotNow(): Promise<SnapshotFile> | undefined {
    return this.mode.snapshotNow?.();
  }
}

/** DataTree.updateWriteStat for each node a committed txn created, deleted or set (a multi's members too). */
function recordWrites(m: ServerMetrics, b: TxnBody): void {
  switch (b.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.setData:
    case OpCode.reconfig:
      return m.recordWrite(b.txn.path, b.txn.data?.length ?? 0);
    case OpCode.delete:
    case OpCode.deleteContainer:
      return m.recordWrite(b.txn.path, 0);
    case OpCode.multi:
      for (const t of b.txns) recordWrites(m, t);
      return;
    default:
      return;
  }
}

/** Handlers for a connection refused at accept: it is destroyed, nothing it sends matters. */
const IGNORE_SOCKET: ClientSocketHandlers = { data: () => undefined, close: () => undefined, drain: () => undefined };

export function hex(id: bigint): string {
  return '0x' + BigInt.asUintN(64, id).toString(16);
}
