/**
 * A Promise-based ZooKeeper 3.8 client: one session over one TCP connection at a time, many
 * requests in flight (replies matched by xid in send order), requests encoded straight into one
 * output buffer that is written once per event-loop turn. On connection loss it moves to the
 * next host and re-establishes the same session (id + password), then re-sends auth and re-arms
 * watches with SetWatches/SetWatches2 from the last zxid it saw, as the Java client does.
 */
import net from 'node:net';
import tls from 'node:tls';
import { JuteReader, JuteWriter } from '../jute/index.js';
import { Err, KeeperError } from '../proto/errors.js';
import { AddWatchMode, CreateMode, EventType, KeeperState, OpCode, TszkOpCode, WatcherType, Xid } from '../proto/opcodes.js';
import { ACL, ClientInfo, GetSASLRequest, PagedReadRequest, SetSASLResponse, Stat } from '../proto/records.js';
import { peerHostMismatch } from './hostVerification.js';
import { DigestMd5Client } from './saslDigestClient.js';
import { parseConnectString, prependChroot, stripChroot, type HostPort } from './connect-string.js';
import {
  OPEN_ACL_UNSAFE,
  createOpCode,
  readMultiResults,
  toBytes,
  writeAcl,
  writeCreate,
  writeMulti,
  type CreateOptions,
  type Data,
  type Op,
  type OpResult,
} from './ops.js';
import { readChildrenPaged, readDataPaged, type PagedChildren, type PagedData, type PagedReadOptions } from './paged-reads.js';
import { probeReadWrite } from './rw-probe.js';
import { StateStream } from './state-stream.js';
import { Transaction } from './transaction.js';
import { WatchStream } from './watch-stream.js';
import { WatchManager, type WatchKind, type WatchedEvent, type Watcher } from './watch-manager.js';

export type ClientState = 'connecting' | 'connected' | 'connectedReadOnly' | 'closed' | 'expired' | 'authFailed';

export interface ClientOptions {
  /** Requested session timeout; the server clamps it between its min and max. Default 30 s. */
  sessionTimeout_ms?: number;
  /** Accept a read-only server (ConnectRequest.readOnly). */
  canBeReadOnly?: boolean;
  /** Receives `watch: true` events and every session state event, like the Java default watcher. */
  defaultWatcher?: Watcher;
  /** Resume an existing session. */
  sessionId?: bigint;
  sessionPasswd?: Buffer;
  /** Try hosts in a random order (the Java client shuffles). Default false: in the given order. */
  shuffleHosts?: boolean;
  /** How long connect() waits for the first SyncConnected. Default: the session timeout. */
  connectWait_ms?: number;
  /** Largest reply accepted (the client's jute.maxbuffer); a larger one drops the connection. */
  replyBytesMax?: number;
  /**
   * Connect over TLS (a ZooKeeper secureClientPort or unified port): the CA that signed the
   * server's certificate, this client's certificate and key (servers default to ssl.clientAuth=need),
   * or a ready Node SecureContext. The server's name is checked unless `servername` says
   * otherwise or `rejectUnauthorized` is false.
   */
  tls?: ClientTlsOptions | tls.SecureContext;
  /**
   * SASL login, run on every connection before anything else is sent (as the Java client does
   * with a JAAS Client section): the session gets the id sasl:<username>.
   */
  sasl?: ClientSaslOptions;
}

export interface ClientSaslOptions {
  /** The one mechanism ZooKeeper servers offer clients without Kerberos. */
  mechanism: 'DIGEST-MD5';
  username: string;
  password: string;
}

function isSecureContext(t: ClientTlsOptions | tls.SecureContext): t is tls.SecureContext {
  return 'context' in t;
}

export interface ClientTlsOptions {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  /** A PKCS12 key store instead of cert and key. */
  pfx?: Buffer;
  passphrase?: string;
  /**
   * Replace the server name check (ZooKeeper's ssl.hostnameVerification=false: () => undefined).
   * Without it the check is ZooKeeper's: the certificate names the server's address, or the host
   * of the connect string, or (allowReverseDnsLookup) the name its address resolves back to.
   */
  checkServerIdentity?: tls.ConnectionOptions['checkServerIdentity'];
  /** ZooKeeper's zookeeper.ssl.allowReverseDnsLookup (default false). */
  allowReverseDnsLookup?: boolean;
  /** PEM CRLs the server's certificate chain is checked against (zookeeper.ssl.crl). */
  crl?: string | Buffer | (string | Buffer)[];
  /** The name the server's certificate must carry (default: the host of the connect string). */
  servername?: string;
  /** Default true: the server's certificate must chain to `ca`. */
  rejectUnauthorized?: boolean;
}

/** A failed multi: `code` is the first failing op's error, `results` has every op's result. */
export class MultiError extends KeeperError {
  constructor(
    code: Err,
    readonly results: OpResult[],
  ) {
    super(code);
    this.name = 'MultiError';
  }
}

const PROTOCOL_VERSION = 0;
const CONFIG_NODE = '/zookeeper/config';
const SESSION_PASSWD_BYTES = 16;
const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
/** Like the Java client: each SetWatches packet carries at most ~128 KiB of paths. */
export const SET_WATCHES_BYTES_MAX = 128 * 1024;
/** The xid our SASL packets carry (the server echoes it; ZooKeeper's own Xid values stay clear of it). */
const SASL_XID = -10;
/** Like the Java client's MAX_SEND_PING_INTERVAL. */
const PING_INTERVAL_MAX_MS = 10_000;
/** Largest reply frame accepted by default: the Java client's jute.maxbuffer default (0xfffff). */
export const REPLY_BYTES_MAX_DEFAULT = 0xfffff;
/** Unsent request bytes held while disconnected before new requests are refused. */
const QUEUED_BYTES_MAX = 64 * 1024 * 1024;
const CLOSE_WAIT_MS = 2_000;
const RECONNECT_BACKOFF_MAX_MS = 1_000;
/** While on a read-only server, probe the others for a read-write one: first after this... */
const RW_SEARCH_FIRST_MS = 100;
/** ...doubling up to this (the Java client's min/maxPingRwTimeout). */
const RW_SEARCH_MAX_MS = 60_000;

/** How a reply body is decoded (one number per pending request instead of a closure). */
const enum Reply {
  Void,
  Path,
  PathStat,
  Stat,
  Exists,
  Data,
  Acl,
  Children,
  Children2,
  /** Pages of tszk's paged reads: as Children2 and Data. */
  ChildrenPage,
  DataPage,
  Int,
  Strings,
  SyncPath,
  Multi,
  MultiRead,
  WhoAmI,
}

interface Pending {
  xid: number;
  reply: Reply;
  /** Client path, for errors and watch registration. */
  path: string;
  watchKind: WatchKind | null;
  watcher: Watcher | null;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface AuthWaiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

const noopWatcher: Watcher = () => {};

export class ZooKeeperClient {
  readonly hosts: HostPort[];
  readonly chroot: string;
  state: ClientState = 'connecting';
  sessionId: bigint;
  sessionPasswd: Buffer;
  /** Negotiated by the server; the requested value until the first connect. */
  sessionTimeout_ms: number;
  lastZxidSeen = 0n;
  /** Host of the current (or last) connection. */
  currentHost: HostPort | null = null;
  /** Connections established so far (a reconnect adds one). */
  connectCount = 0;

  private readonly requestedTimeout_ms: number;
  /** The largest reply this client accepts (its jute.maxbuffer). */
  readonly replyBytesMax: number;
  private readonly canBeReadOnly: boolean;
  private readonly defaultWatcher: Watcher;
  readonly watches = new WatchManager();
  private readonly authInfo: { scheme: string; auth: Buffer }[] = [];
  private readonly stateListeners = new Set<(s: KeeperState) => void>();

  private socket: net.Socket | null = null;
  private handshakeDone = false;
  private hostIndex = -1;
  /** Next connection goes to this host (a read-write server found while on a read-only one). */
  private preferredHostIndex: number | null = null;
  /** A session from a read-only server is local to it: resume only sessions a r/w server made. */
  private seenRwServer: boolean;
  private rwSearchTimer: NodeJS.Timeout | null = null;
  private rwSearch_ms = RW_SEARCH_FIRST_MS;
  private rwProbeIndex = 0;
  private failedAttempts = 0;
  private xid = 1;
  private out = new JuteWriter(4096);
  private flushScheduled = false;
  /** Requests awaiting replies, in send order; the first `sentCount` are on the wire. */
  private pending: Pending[] = [];
  private pendingHead = 0;
  private sentCount = 0;
  private authWaiters: AuthWaiter[] = [];
  private inbuf: Buffer | null = null;
  private lastSend_ms = 0;
  private lastRecv_ms = 0;
  private readTimeout_ms = 0;
  private timer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private firstConnect: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly firstConnectPromise: Promise<void>;
  private readonly tlsOptions: ClientTlsOptions | tls.SecureContext | undefined;
  private readonly saslOptions: ClientSaslOptions | undefined;
  /** The SASL exchange of this connection while it runs: nothing else is sent meanwhile. */
  private sasl: DigestMd5Client | null = null;

  constructor(connectString: string, opts: ClientOptions = {}) {
    const cs = parseConnectString(connectString);
    this.hosts = cs.hosts;
    if (opts.shuffleHosts) this.hosts.sort(() => Math.random() - 0.5);
    this.chroot = cs.chroot;
    this.requestedTimeout_ms = opts.sessionTimeout_ms ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.sessionTimeout_ms = this.requestedTimeout_ms;
    this.canBeReadOnly = opts.canBeReadOnly ?? false;
    this.replyBytesMax = opts.replyBytesMax ?? REPLY_BYTES_MAX_DEFAULT;
    this.tlsOptions = opts.tls;
    this.saslOptions = opts.sasl;
    this.defaultWatcher = opts.defaultWatcher ?? noopWatcher;
    this.sessionId = opts.sessionId ?? 0n;
    this.seenRwServer = opts.sessionId !== undefined;
    this.sessionPasswd = opts.sessionPasswd ?? Buffer.alloc(SESSION_PASSWD_BYTES);
    this.firstConnectPromise = new Promise((resolve, reject) => (this.firstConnect = { resolve, reject }));
    this.firstConnectPromise.catch(() => {});
    const wait_ms = opts.connectWait_ms ?? this.requestedTimeout_ms;
    const t = setTimeout(() => {
      if (this.firstConnect === null) return;
      this.firstConnect.reject(new KeeperError(Err.ConnectionLoss));
      this.firstConnect = null;
      void this.close();
    }, wait_ms);
    t.unref();
    this.firstConnectPromise.then(
      () => clearTimeout(t),
      () => clearTimeout(t),
    );
    this.connectNext();
  }

  /** Creates a client and waits until its session is established. */
  static async connect(connectString: string, opts: ClientOptions = {}): Promise<ZooKeeperClient> {
    const c = new ZooKeeperClient(connectString, opts);
    await c.connected();
    return c;
  }

  /** Resolves once the first session establishment succeeds. */
  connected(): Promise<void> {
    return this.firstConnectPromise;
  }

  /** Subscribes to session state changes; returns an unsubscribe function. */
  onState(listener: (s: KeeperState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Session state changes as an async iterator; it ends after Expired, AuthFailed or Closed. */
  stateEvents(): StateStream {
    return new StateStream((l) => this.onState(l));
  }

  get isAlive(): boolean {
    return this.state === 'connecting' || this.state === 'connected' || this.state === 'connectedReadOnly';
  }

  /** Number of requests sent or queued and not yet answered. */
  get outstanding(): number {
    return this.pending.length - this.pendingHead;
  }

  // ---------------------------------------------------------------- operations

  create(path: string, data: Data = null, opts: CreateOptions = {}): Promise<string> {
    return this.createImpl(path, data, opts, false) as Promise<string>;
  }

  /** create2: also returns the new node's Stat. */
  create2(path: string, data: Data = null, opts: CreateOptions = {}): Promise<{ path: string; stat: Stat }> {
    return this.createImpl(path, data, opts, true) as Promise<{ path: string; stat: Stat }>;
  }

  private createImpl(path: string, data: Data, opts: CreateOptions, withStat: boolean): Promise<unknown> {
    const mode = opts.mode ?? CreateMode.PERSISTENT;
    const opc = createOpCode(mode, withStat);
    const w = this.begin(opc);
    if (w === null) return this.refuse(path);
    writeCreate(w, this.toServer(path), data, opts.acl ?? OPEN_ACL_UNSAFE, mode, BigInt(opts.ttl_ms ?? -1));
    return this.end(withStat ? Reply.PathStat : Reply.Path, path, null, null);
  }

  delete(path: string, version = -1): Promise<void> {
    const w = this.begin(OpCode.delete);
    if (w === null) return this.refuse(path);
    w.ustring(this.toServer(path));
    w.int(version);
    return this.end(Reply.Void, path, null, null) as Promise<void>;
  }

  /** The node's Stat, or null when it does not exist (a watch is then left for its creation). */
  exists(path: string, watch?: Watcher | boolean): Promise<Stat | null> {
    const w = this.begin(OpCode.exists);
    if (w === null) return this.refuse(path);
    const watcher = this.watcherOf(watch);
    w.ustring(this.toServer(path));
    w.boolean(watcher !== null);
    return this.end(Reply.Exists, path, watcher === null ? null : 'data', watcher) as Promise<Stat | null>;
  }

  getData(path: string, watch?: Watcher | boolean): Promise<{ data: Buffer | null; stat: Stat }> {
    const w = this.begin(OpCode.getData);
    if (w === null) return this.refuse(path);
    const watcher = this.watcherOf(watch);
    w.ustring(this.toServer(path));
    w.boolean(watcher !== null);
    return this.end(Reply.Data, path, watcher === null ? null : 'data', watcher) as Promise<{ data: Buffer | null; stat: Stat }>;
  }

  /** The ensemble config node (/zookeeper/config), read outside any chroot like the Java client does. */
  getConfig(watch?: Watcher | boolean): Promise<{ data: Buffer | null; stat: Stat }> {
    const w = this.begin(OpCode.getData);
    if (w === null) return this.refuse(CONFIG_NODE);
    const watcher = this.watcherOf(watch);
    w.ustring(CONFIG_NODE);
    w.boolean(watcher !== null);
    return this.end(Reply.Data, CONFIG_NODE, watcher === null ? null : 'data', watcher) as Promise<{ data: Buffer | null; stat: Stat }>;
  }

  /**
   * Reconfigures the ensemble (ZooKeeperAdmin.reconfigure): incremental with `joining` server lines
   * (`server.N=host:quorumPort:electionPort[:role];[clientAddr:]clientPort`) and `leaving` ids, or
   * the whole new membership in `newMembers`. `fromConfig` (the config version, e.g. from
   * getConfig's `version=`) makes it fail with BadVersion unless that config is still current.
   * Answers the new config and /zookeeper/config's Stat. Needs reconfigEnabled on the servers and
   * WRITE on /zookeeper/config (the super user, or skipACL).
   */
  reconfig(r: {
    joining?: string | readonly string[];
    leaving?: string | readonly (string | number)[];
    newMembers?: string | readonly string[];
    fromConfig?: bigint;
  }): Promise<{
    data: Buffer | null;
    stat: Stat;
  }> {
    const w = this.begin(OpCode.reconfig);
    // Its errors name no path (the Java client's reconfigure gives "").
    if (w === null) return this.refuse('');
    const list = (v: string | readonly (string | number)[] | undefined): string | null => (v === undefined ? null : typeof v === 'string' ? v : v.join(','));
    w.ustring(list(r.joining));
    w.ustring(list(r.leaving));
    w.ustring(list(r.newMembers));
    w.long(r.fromConfig ?? -1n);
    return this.end(Reply.Data, '', null, null) as Promise<{ data: Buffer | null; stat: Stat }>;
  }

  setData(path: string, data: Data, version = -1): Promise<Stat> {
    const w = this.begin(OpCode.setData);
    if (w === null) return this.refuse(path);
    w.ustring(this.toServer(path));
    w.buffer(toBytes(data));
    w.int(version);
    return this.end(Reply.Stat, path, null, null) as Promise<Stat>;
  }

  getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }> {
    const w = this.begin(OpCode.getACL);
    if (w === null) return this.refuse(path);
    w.ustring(this.toServer(path));
    return this.end(Reply.Acl, path, null, null) as Promise<{ acl: ACL[]; stat: Stat }>;
  }

  setACL(path: string, acl: ACL[], version = -1): Promise<Stat> {
    const w = this.begin(OpCode.setACL);
    if (w === null) return this.refuse(path);
    w.ustring(this.toServer(path));
    writeAcl(w, acl);
    w.int(version);
    return this.end(Reply.Stat, path, null, null) as Promise<Stat>;
  }

  getChildren(path: string, watch?: Watcher | boolean): Promise<string[]> {
    const w = this.begin(OpCode.getChildren);
    if (w === null) return this.refuse(path);
    const watcher = this.watcherOf(watch);
    w.ustring(this.toServer(path));
    w.boolean(watcher !== null);
    return this.end(Reply.Children, path, watcher === null ? null : 'child', watcher) as Promise<string[]>;
  }

  getChildren2(path: string, watch?: Watcher | boolean): Promise<{ children: string[]; stat: Stat }> {
    const w = this.begin(OpCode.getChildren2);
    if (w === null) return this.refuse(path);
    const watcher = this.watcherOf(watch);
    w.ustring(this.toServer(path));
    w.boolean(watcher !== null);
    return this.end(Reply.Children2, path, watcher === null ? null : 'child', watcher) as Promise<{ children: string[]; stat: Stat }>;
  }

  /**
   * getChildren2 in pages that each fit in replyBytesMax, for a node whose children do not fit in
   * one reply (tszk servers with tszk.pagedReads=true; see paged-reads.ts for the consistency rule
   * and what a server without it does).
   */
  getChildrenPaged(path: string, opts?: PagedReadOptions): Promise<PagedChildren> {
    return readChildrenPaged(this, path, opts);
  }

  /** getData in pages that each fit in replyBytesMax (tszk.pagedReads, as getChildrenPaged). */
  getDataPaged(path: string, opts?: PagedReadOptions): Promise<PagedData> {
    return readDataPaged(this, path, opts);
  }

  /** A page of getChildren2: from child `offset`, at most maxBytes of names (paged-reads.ts drives them). */
  readChildrenPage(path: string, offset: number, maxBytes: number, watch: Watcher | boolean | undefined): Promise<{ children: string[]; stat: Stat }> {
    return this.readPage(TszkOpCode.getChildrenPage, Reply.ChildrenPage, 'child', path, offset, maxBytes, watch) as Promise<{ children: string[]; stat: Stat }>;
  }

  /** A page of getData: at most maxBytes of the data from byte `offset`. */
  readDataPage(path: string, offset: number, maxBytes: number, watch: Watcher | boolean | undefined): Promise<{ data: Buffer | null; stat: Stat }> {
    return this.readPage(TszkOpCode.getDataPage, Reply.DataPage, 'data', path, offset, maxBytes, watch) as Promise<{ data: Buffer | null; stat: Stat }>;
  }

  private readPage(
    op: number,
    reply: Reply,
    kind: WatchKind,
    path: string,
    offset: number,
    maxBytes: number,
    watch: Watcher | boolean | undefined,
  ): Promise<unknown> {
    const w = this.begin(op);
    if (w === null) return this.refuse(path);
    const watcher = this.watcherOf(watch);
    PagedReadRequest.write(w, { path: this.toServer(path), watch: watcher !== null, offset, maxBytes });
    return this.end(reply, path, watcher === null ? null : kind, watcher);
  }

  getAllChildrenNumber(path: string): Promise<number> {
    const w = this.begin(OpCode.getAllChildrenNumber);
    if (w === null) return this.refuse(path);
    w.ustring(this.toServer(path));
    return this.end(Reply.Int, path, null, null) as Promise<number>;
  }

  /** This session's ephemerals under a prefix. Like the Java client, the prefix is sent as given (no chroot). */
  getEphemerals(prefixPath = '/'): Promise<string[]> {
    const w = this.begin(OpCode.getEphemerals);
    if (w === null) return this.refuse(prefixPath);
    w.ustring(prefixPath);
    return this.end(Reply.Strings, prefixPath, null, null) as Promise<string[]>;
  }

  sync(path: string): Promise<string> {
    const w = this.begin(OpCode.sync);
    if (w === null) return this.refuse(path);
    w.ustring(this.toServer(path));
    return this.end(Reply.SyncPath, path, null, null) as Promise<string>;
  }

  /** Atomic multi. Rejects with MultiError (code of the first failing op, every op's result) on failure. */
  multi(ops: readonly Op[]): Promise<OpResult[]> {
    const w = this.begin(OpCode.multi);
    if (w === null) return this.refuse('/');
    writeMulti(w, ops, (p) => this.toServer(p));
    return this.end(Reply.Multi, '/', null, null) as Promise<OpResult[]>;
  }

  /** multiRead (getData/getChildren ops): per-op errors come back inline as { type: 'error' }. */
  multiRead(ops: readonly Op[]): Promise<OpResult[]> {
    const w = this.begin(OpCode.multiRead);
    if (w === null) return this.refuse('/');
    writeMulti(w, ops, (p) => this.toServer(p));
    return this.end(Reply.MultiRead, '/', null, null) as Promise<OpResult[]>;
  }

  /** A multi builder: `await client.transaction().create(...).setData(...).commit()`. */
  transaction(): Transaction {
    return new Transaction(this);
  }

  /** addWatch: a persistent (or persistent recursive) watch that stays until removed. */
  addWatch(path: string, mode: 'persistent' | 'persistentRecursive', watcher?: Watcher): Promise<void> {
    const w = this.begin(OpCode.addWatch);
    if (w === null) return this.refuse(path);
    w.ustring(this.toServer(path));
    w.int(mode === 'persistent' ? AddWatchMode.PERSISTENT : AddWatchMode.PERSISTENT_RECURSIVE);
    return this.end(Reply.Void, path, mode, watcher ?? this.defaultWatcher) as Promise<void>;
  }

  /**
   * Removes watches of a type on a path (WatcherType: Children, Data, Any, Persistent,
   * PersistentRecursive). With a watcher, only that one (the server is asked with checkWatches);
   * without, all of that type (removeWatches). local=true skips the server. Removed watchers get
   * a DataWatchRemoved/ChildWatchRemoved/PersistentWatchRemoved event. NoWatcher when none match.
   */
  async removeWatches(path: string, type: number, watcher?: Watcher, local = false): Promise<void> {
    const kinds = kindsOf(type);
    if (!kinds.some((k) => this.watches.has(k, path, watcher))) throw new KeeperError(Err.NoWatcher, path);
    if (!local) {
      const others = (k: WatchKind): number =>
        this.watches.count(k, path) -
        (watcher !== undefined && this.watches.has(k, path, watcher) ? 1 : kinds.includes(k) && watcher === undefined ? this.watches.count(k, path) : 0);
      const persistentOnly = type === WatcherType.Persistent || type === WatcherType.PersistentRecursive;
      // ZooKeeper 3.8 servers know watcher types 1..3 only: persistent watches go with Any, and
      // only when nothing else on the path still needs the server's watch.
      const allKinds: WatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];
      const othersLeft = (persistentOnly ? allKinds : kinds).some((k) => others(k) > 0);
      if (!(persistentOnly && othersLeft)) {
        const w = this.begin(othersLeft ? OpCode.checkWatches : OpCode.removeWatches);
        if (w === null) return this.refuse(path);
        w.ustring(this.toServer(path));
        w.int(persistentOnly ? WatcherType.Any : type);
        await this.end(Reply.Void, path, null, null);
      }
    }
    for (const k of kinds) {
      const evType =
        k === 'child' ? EventType.ChildWatchRemoved : k === 'data' || k === 'exist' ? EventType.DataWatchRemoved : EventType.PersistentWatchRemoved;
      for (const rw of this.watches.remove(k, path, watcher)) this.deliver(rw, { type: evType, state: KeeperState.SyncConnected, path });
    }
  }

  /** Asks the server whether it holds a watch of this type on the path (checkWatches); NoWatcher if not. */
  checkWatches(path: string, type: number): Promise<void> {
    const w = this.begin(OpCode.checkWatches);
    if (w === null) return this.refuse(path);
    w.ustring(this.toServer(path));
    w.int(type);
    return this.end(Reply.Void, path, null, null) as Promise<void>;
  }

  whoAmI(): Promise<ClientInfo[]> {
    const w = this.begin(OpCode.whoAmI);
    if (w === null) return this.refuse('/');
    return this.end(Reply.WhoAmI, '/', null, null) as Promise<ClientInfo[]>;
  }

  /** addAuth: remembered and re-sent on every reconnect; resolves when the server accepts it. */
  addAuth(scheme: string, auth: Buffer | string): Promise<void> {
    if (!this.isAlive) return this.refuse('/');
    const bytes = typeof auth === 'string' ? Buffer.from(auth, 'utf8') : auth;
    this.authInfo.push({ scheme, auth: bytes });
    if (!this.handshakeDone) {
      // Sent with the priming packets when the connection comes up.
      return Promise.resolve();
    }
    this.writeAuth(this.out, scheme, bytes);
    this.scheduleFlush();
    return new Promise((resolve, reject) => this.authWaiters.push({ resolve, reject }));
  }

  /**
   * Persistent (recursive) watch as an async iterator. Breaking out of the loop (or calling
   * close()) removes the watch from the server. Session state events are not included.
   */
  watchEvents(path: string, mode: 'persistent' | 'persistentRecursive' = 'persistentRecursive'): WatchStream {
    return new WatchStream(this, path, mode);
  }

  /** Ends the session (closeSession) and the connection. */
  close(): Promise<void> {
    if (this.closePromise === null) this.closePromise = this.closeImpl();
    return this.closePromise;
  }

  private closePromise: Promise<void> | null = null;

  private async closeImpl(): Promise<void> {
    if (!this.isAlive) {
      this.teardown();
      return;
    }
    this.closing = true;
    if (this.handshakeDone) {
      const w = this.begin(OpCode.closeSession, true);
      if (w !== null) {
        const done = this.end(Reply.Void, '/', null, null).catch(() => {});
        let t: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise<void>((r) => (t = setTimeout(r, CLOSE_WAIT_MS)))]);
        clearTimeout(t);
      }
    }
    this.state = 'closed';
    this.teardown();
    this.failAll(Err.ConnectionLoss);
    this.emitState(KeeperState.Closed);
    if (this.firstConnect !== null) {
      this.firstConnect.reject(new KeeperError(Err.ConnectionLoss));
      this.firstConnect = null;
    }
  }

  /**
   * Closes the connection without ending the session (as a process that exits without close()
   * does): the server expires the session after its timeout unless someone resumes it.
   */
  abandon(): void {
    if (!this.isAlive) return;
    this.state = 'closed';
    this.teardown();
    this.failAll(Err.ConnectionLoss);
    if (this.firstConnect !== null) {
      this.firstConnect.reject(new KeeperError(Err.ConnectionLoss));
      this.firstConnect = null;
    }
  }

  /** Cuts the current TCP connection without ending the session (tests: forces a reconnect). */
  dropConnection(): void {
    this.socket?.destroy();
  }

  // ---------------------------------------------------------------- request plumbing

  toServer(path: string): string {
    return prependChroot(this.chroot, path);
  }

  toClient(path: string): string {
    return stripChroot(this.chroot, path);
  }

  private watcherOf(watch: Watcher | boolean | undefined): Watcher | null {
    if (watch === undefined || watch === false) return null;
    return watch === true ? this.defaultWatcher : watch;
  }

  private refuse(path: string): Promise<never> {
    const code = this.state === 'expired' ? Err.SessionExpired : this.state === 'authFailed' ? Err.AuthFailed : Err.ConnectionLoss;
    return Promise.reject(new KeeperError(code, path));
  }

  /** Starts a request frame in the output buffer; null if the client cannot take requests. */
  private begin(opc: number, closingOk = false): JuteWriter | null {
    if (!this.isAlive || (this.closing && !closingOk)) return null;
    if (!this.handshakeDone && this.out.offset > QUEUED_BYTES_MAX) return null;
    const w = this.out;
    this.frameStart = w.reserveInt();
    w.int(this.xid);
    w.int(opc);
    return w;
  }

  private frameStart = 0;

  private end(reply: Reply, path: string, watchKind: WatchKind | null, watcher: Watcher | null): Promise<unknown> {
    const w = this.out;
    w.patchInt(this.frameStart, w.offset - this.frameStart - 4);
    const xid = this.xid;
    this.xid = (this.xid + 1) & 0x7fffffff || 1;
    return new Promise((resolve, reject) => {
      this.pending.push({ xid, reply, path, watchKind, watcher, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.handshakeDone || this.sasl !== null) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (!this.handshakeDone || this.sasl !== null || this.socket === null || this.out.offset === 0) return;
    const bytes = this.out.bytes();
    // Hand the filled buffer to the socket as is and start a new one (no copy).
    this.out = new JuteWriter(Math.max(4096, Math.min(bytes.length, 1 << 20)));
    this.sentCount = this.pending.length - this.pendingHead;
    this.lastSend_ms = Date.now();
    this.socket.write(bytes);
  };

  private writeAuth(w: JuteWriter, scheme: string, auth: Buffer): void {
    const at = w.reserveInt();
    w.int(Xid.auth);
    w.int(OpCode.auth);
    w.int(0);
    w.ustring(scheme);
    w.buffer(auth);
    w.patchInt(at, w.offset - at - 4);
  }

  // ---------------------------------------------------------------- connection lifecycle

  private connectNext(): void {
    if (!this.isAlive || this.closing) return;
    this.hostIndex = this.preferredHostIndex ?? (this.hostIndex + 1) % this.hosts.length;
    this.preferredHostIndex = null;
    const hp = this.hosts[this.hostIndex]!;
    this.currentHost = hp;
    this.handshakeDone = false;
    this.inbuf = null;
    const sock = this.openSocket(hp, () => {
      const w = new JuteWriter(64);
      const at = w.reserveInt();
      w.int(PROTOCOL_VERSION);
      w.long(this.lastZxidSeen);
      w.int(this.requestedTimeout_ms);
      w.long(this.seenRwServer ? this.sessionId : 0n);
      w.buffer(this.sessionPasswd);
      w.boolean(this.canBeReadOnly);
      w.patchInt(at, w.offset - at - 4);
      sock.write(w.bytes());
    });
    this.socket = sock;
    const connectTimeout_ms = Math.max(100, Math.floor(this.sessionTimeout_ms / this.hosts.length));
    const attemptTimer = setTimeout(() => {
      if (this.socket === sock && !this.handshakeDone) sock.destroy();
    }, connectTimeout_ms);
    attemptTimer.unref();
    sock.on('data', (chunk: Buffer) => {
      if (this.socket !== sock) return;
      try {
        this.onData(chunk);
      } catch (e) {
        sock.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(attemptTimer);
      if (this.socket === sock) this.onConnectionLost();
    });
  }

  /** A connection to `hp`; `ready` runs once it may carry the ConnectRequest (TLS: handshake done, server's host checked). */
  private openSocket(hp: HostPort, ready: () => void): net.Socket {
    const t = this.tlsOptions;
    if (t === undefined) return net.connect({ host: hp.host, port: hp.port, noDelay: true }).once('connect', ready);
    const servername = net.isIP(hp.host) === 0 ? hp.host : undefined;
    if (isSecureContext(t) || t.checkServerIdentity !== undefined || t.rejectUnauthorized === false) {
      const opts: tls.ConnectionOptions = isSecureContext(t) ? { secureContext: t } : { ...t };
      return tls
        .connect({ host: hp.host, port: hp.port, servername, ...opts })
        .setNoDelay(true)
        .once('secureConnect', ready);
    }
    const { allowReverseDnsLookup, ...opts } = t;
    // ZooKeeper's check (ZKTrustManager) wants the address connected to, known only once connected.
    const sock = tls.connect({ host: hp.host, port: hp.port, servername, ...opts, checkServerIdentity: () => undefined }).setNoDelay(true);
    sock.once('secureConnect', () => {
      void peerHostMismatch(sock.getPeerCertificate(), sock.remoteAddress ?? '', hp.host, allowReverseDnsLookup === true, 'allowReverseDnsLookup').then(
        (mismatch) => {
          if (mismatch === undefined) ready();
          else sock.destroy(new Error(`${hp.host}:${hp.port}: ${mismatch}`));
        },
      );
    });
    return sock;
  }

  private onConnectionLost(): void {
    const wasConnected = this.handshakeDone;
    this.socket = null;
    this.sasl = null;
    this.handshakeDone = false;
    this.stopTimer();
    // Requests already on the wire may or may not have happened: they fail with ConnectionLoss.
    // Requests not yet written stay queued and go out on the next connection.
    this.failSent(Err.ConnectionLoss);
    for (const a of this.authWaiters.splice(0)) a.reject(new KeeperError(Err.ConnectionLoss));
    if (!this.isAlive || this.closing) return;
    this.state = 'connecting';
    if (wasConnected) {
      this.failedAttempts = 0;
      this.emitState(KeeperState.Disconnected);
    } else {
      this.failedAttempts++;
    }
    // After a full round of hosts without success, back off a little before the next round.
    const delay_ms =
      this.failedAttempts > 0 && this.failedAttempts % this.hosts.length === 0
        ? Math.min(RECONNECT_BACKOFF_MAX_MS, 10 * 2 ** Math.min(7, this.failedAttempts / this.hosts.length)) * Math.random()
        : 0;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connectNext();
    }, delay_ms);
  }

  private onData(chunk: Buffer): void {
    this.lastRecv_ms = Date.now();
    const buf = this.inbuf === null ? chunk : Buffer.concat([this.inbuf, chunk]);
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readInt32BE(off);
      if (len < 0 || len > this.replyBytesMax) throw new Error(`bad frame length ${len}`);
      if (buf.length - off - 4 < len) break;
      const r = new JuteReader(buf, off + 4, off + 4 + len);
      off += 4 + len;
      if (!this.handshakeDone) this.onConnectResponse(r);
      else this.onReply(r);
      if (this.socket === null) return;
    }
    this.inbuf = off === buf.length ? null : buf.subarray(off);
  }

  private onConnectResponse(r: JuteReader): void {
    r.int(); // protocolVersion
    const timeOut = r.int();
    const sessionId = r.long();
    const passwd = r.buffer();
    // Servers before 3.4 do not send the readOnly byte.
    const readOnly = r.remaining > 0 ? r.boolean() : false;
    if (timeOut <= 0) {
      this.state = 'expired';
      this.teardown();
      this.failAll(Err.SessionExpired);
      this.emitState(KeeperState.Expired);
      this.firstConnect?.reject(new KeeperError(Err.SessionExpired));
      this.firstConnect = null;
      return;
    }
    this.sessionId = sessionId;
    this.sessionPasswd = passwd ?? Buffer.alloc(SESSION_PASSWD_BYTES);
    this.sessionTimeout_ms = timeOut;
    this.readTimeout_ms = Math.floor((timeOut * 2) / 3);
    this.handshakeDone = true;
    this.connectCount++;
    this.failedAttempts = 0;
    this.state = readOnly ? 'connectedReadOnly' : 'connected';
    this.seenRwServer ||= !readOnly;
    this.lastSend_ms = this.lastRecv_ms = Date.now();
    if (this.saslOptions !== undefined) this.startSasl(this.saslOptions);
    else this.prime();
    this.startTimer();
    if (readOnly && this.hosts.length > 1) this.scheduleRwSearch();
    this.emitState(readOnly ? KeeperState.ConnectedReadOnly : KeeperState.SyncConnected);
    if (this.firstConnect !== null) {
      this.firstConnect.resolve();
      this.firstConnect = null;
    }
  }

  /** Auth, then SetWatches, then whatever requests queued up while disconnected. */
  private prime(): void {
    const w = new JuteWriter(256);
    for (const a of this.authInfo) this.writeAuth(w, a.scheme, a.auth);
    if (!this.watches.isEmpty()) this.writeSetWatches(w);
    const sock = this.socket!;
    if (w.offset > 0) sock.write(w.bytes());
    this.flush();
  }

  private writeSetWatches(w: JuteWriter): void {
    const lists: string[][] = [
      [...this.watches.data.keys()],
      [...this.watches.exist.keys()],
      [...this.watches.child.keys()],
      [...this.watches.persistent.keys()],
      [...this.watches.persistentRecursive.keys()],
    ].map((l) => l.map((p) => this.toServer(p)));
    const idx = [0, 0, 0, 0, 0];
    const more = (): boolean => lists.some((l, i) => idx[i]! < l.length);
    while (more()) {
      const batch: string[][] = [[], [], [], [], []];
      let bytes = 0;
      while (bytes < SET_WATCHES_BYTES_MAX) {
        const i = lists.findIndex((l, k) => idx[k]! < l.length);
        if (i === -1) break;
        const p = lists[i]![idx[i]!++]!;
        batch[i]!.push(p);
        bytes += p.length;
      }
      const v2 = batch[3]!.length > 0 || batch[4]!.length > 0;
      const at = w.reserveInt();
      w.int(Xid.setWatches);
      w.int(v2 ? OpCode.setWatches2 : OpCode.setWatches);
      w.long(this.lastZxidSeen);
      for (let k = 0; k < (v2 ? 5 : 3); k++) {
        w.int(batch[k]!.length);
        for (const p of batch[k]!) w.ustring(p);
      }
      w.patchInt(at, w.offset - at - 4);
    }
  }

  private onReply(r: JuteReader): void {
    const xid = r.int();
    const zxid = r.long();
    const err = r.int();
    if (zxid > 0n) this.lastZxidSeen = zxid;
    switch (xid) {
      case Xid.ping:
        return;
      case Xid.notification:
        return this.onNotification(r);
      case Xid.setWatches:
        return;
      case Xid.auth:
        return this.onAuthReply(err);
      case SASL_XID:
        return this.onSaslReply(err, r);
    }
    if (this.pendingHead >= this.pending.length) throw new Error(`reply xid ${xid} with nothing outstanding`);
    const p = this.pending[this.pendingHead]!;
    if (p.xid !== xid) throw new Error(`reply xid ${xid} out of order (expected ${p.xid})`);
    this.shiftPending();
    if (this.sentCount > 0) this.sentCount--;
    if (err === Err.Unimplemented && (p.reply === Reply.ChildrenPage || p.reply === Reply.DataPage)) {
      // A server without paged reads closes the connection after this answer (ZooKeeper's
      // UnimplementedRequestProcessor): drop it now, so requests made from here on wait for the next one.
      p.reject(new KeeperError(err, p.path));
      const sock = this.socket!;
      this.onConnectionLost();
      sock.destroy();
      return;
    }
    if (err !== 0) {
      if (p.reply === Reply.Exists && err === Err.NoNode) {
        if (p.watcher !== null) this.watches.add('exist', p.path, p.watcher);
        return p.resolve(null);
      }
      return p.reject(new KeeperError(err as Err, p.path));
    }
    let value: unknown;
    try {
      value = this.decodeReply(p.reply, r);
    } catch (e) {
      if (e instanceof MultiError) return p.reject(e);
      // A reply we cannot decode: fail the request and drop the connection.
      p.reject(new KeeperError(Err.MarshallingError, p.path));
      throw e;
    }
    if (p.watchKind !== null && p.watcher !== null) this.watches.add(p.watchKind, p.path, p.watcher);
    p.resolve(value);
  }

  private decodeReply(reply: Reply, r: JuteReader): unknown {
    switch (reply) {
      case Reply.Void:
        return undefined;
      case Reply.Path:
        return this.toClient(r.ustring());
      case Reply.PathStat:
        return { path: this.toClient(r.ustring()), stat: Stat.read(r) };
      case Reply.Stat:
      case Reply.Exists:
        return Stat.read(r);
      case Reply.Data:
      case Reply.DataPage:
        return { data: r.buffer(), stat: Stat.read(r) };
      case Reply.Acl: {
        const n = r.length();
        const acl: ACL[] = [];
        for (let i = 0; i < n; i++) acl.push(ACL.read(r));
        return { acl, stat: Stat.read(r) };
      }
      case Reply.Children:
        return readStrings(r);
      case Reply.Children2:
      case Reply.ChildrenPage:
        return { children: readStrings(r), stat: Stat.read(r) };
      case Reply.Int:
        return r.int();
      case Reply.Strings:
        return readStrings(r);
      case Reply.SyncPath:
        return this.toClient(r.ustring());
      case Reply.Multi: {
        const results = readMultiResults(r, (p) => this.toClient(p));
        for (const res of results) if (res.type === 'error' && res.err !== 0) throw new MultiError(res.err as Err, results);
        return results;
      }
      case Reply.MultiRead:
        return readMultiResults(r, (p) => this.toClient(p));
      case Reply.WhoAmI: {
        const n = r.length();
        const out: ClientInfo[] = [];
        for (let i = 0; i < n; i++) out.push(ClientInfo.read(r));
        return out;
      }
    }
  }

  private startSasl(o: ClientSaslOptions): void {
    this.sasl = new DigestMd5Client(o.username, o.password);
    this.writeSasl(this.sasl.start());
  }

  private writeSasl(token: Buffer): void {
    const w = new JuteWriter(64 + token.length);
    const at = w.reserveInt();
    w.int(SASL_XID);
    w.int(OpCode.sasl);
    GetSASLRequest.write(w, { token });
    w.patchInt(at, w.offset - at - 4);
    this.socket?.write(w.bytes());
  }

  private onSaslReply(err: number, r: JuteReader): void {
    const sasl = this.sasl;
    if (sasl === null) return;
    const step = err === 0 ? sasl.evaluate(SetSASLResponse.read(r).token) : { error: `server answered ${err}` };
    if ('next' in step) return this.writeSasl(step.next);
    this.sasl = null;
    if ('done' in step) {
      this.emitState(KeeperState.SaslAuthenticated);
      this.prime();
      return;
    }
    // A failed login ends the client, as AUTH_FAILED does for the Java client.
    this.state = 'authFailed';
    this.teardown();
    this.failAll(Err.AuthFailed);
    this.emitState(KeeperState.AuthFailed);
  }

  private onAuthReply(err: number): void {
    const waiter = this.authWaiters.shift();
    if (err === 0) {
      waiter?.resolve();
      return;
    }
    if (err === Err.AuthFailed) {
      waiter?.reject(new KeeperError(Err.AuthFailed));
      this.state = 'authFailed';
      this.teardown();
      this.failAll(Err.AuthFailed);
      this.emitState(KeeperState.AuthFailed);
      return;
    }
    waiter?.reject(new KeeperError(err as Err));
  }

  private onNotification(r: JuteReader): void {
    const type = r.int() as EventType;
    const state = r.int() as KeeperState;
    const serverPath = r.ustring();
    const path = this.toClient(serverPath);
    const ev: WatchedEvent = { type, state, path };
    for (const w of this.watches.materialize(type, path)) this.deliver(w, ev);
  }

  private deliver(w: Watcher, ev: WatchedEvent): void {
    // Queued behind the promise reactions of replies that came before it: a caller sees a
    // reply's result before the events that followed it on the wire.
    queueMicrotask(() => {
      try {
        w(ev);
      } catch {
        /* a watcher's own failure is not the connection's */
      }
    });
  }

  private emitState(state: KeeperState): void {
    const ev: WatchedEvent = { type: EventType.None, state, path: null };
    const targets = this.watches.all();
    targets.add(this.defaultWatcher);
    for (const w of targets) this.deliver(w, ev);
    for (const l of this.stateListeners) {
      queueMicrotask(() => l(state));
    }
  }

  private shiftPending(): void {
    this.pendingHead++;
    if (this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
    } else if (this.pendingHead >= 1024 && this.pendingHead * 2 >= this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  private failSent(code: Err): void {
    const n = this.sentCount;
    this.sentCount = 0;
    for (let i = 0; i < n; i++) {
      const p = this.pending[this.pendingHead]!;
      this.shiftPending();
      p.reject(new KeeperError(code, p.path));
    }
  }

  private failAll(code: Err): void {
    const all = this.pending.slice(this.pendingHead);
    this.pending = [];
    this.pendingHead = 0;
    this.sentCount = 0;
    this.out = new JuteWriter(4096);
    for (const p of all) p.reject(new KeeperError(code, p.path));
    for (const a of this.authWaiters.splice(0)) a.reject(new KeeperError(code));
  }

  private teardown(): void {
    this.stopTimer();
    if (this.reconnectTimer !== null) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    const s = this.socket;
    this.socket = null;
    this.handshakeDone = false;
    s?.destroy();
  }

  private startTimer(): void {
    this.stopTimer();
    const pingInterval_ms = Math.min(Math.floor(this.readTimeout_ms / 2), PING_INTERVAL_MAX_MS);
    const tick_ms = Math.max(10, Math.min(Math.floor(pingInterval_ms / 3), 1000));
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastRecv_ms > this.readTimeout_ms) {
        this.socket?.destroy();
        return;
      }
      if (now - this.lastSend_ms >= pingInterval_ms && this.socket !== null) {
        const w = this.out;
        const at = w.reserveInt();
        w.int(Xid.ping);
        w.int(OpCode.ping);
        w.patchInt(at, 4 + 4);
        this.flush();
      }
    }, tick_ms);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.rwSearchTimer !== null) clearTimeout(this.rwSearchTimer);
    this.rwSearchTimer = null;
  }

  /** On a read-only server: look for a read-write one, backing off; switch when one answers. */
  private scheduleRwSearch(): void {
    const sock = this.socket;
    this.rwSearchTimer = setTimeout(() => {
      this.rwSearchTimer = null;
      this.rwProbeIndex = (this.rwProbeIndex + 1) % this.hosts.length;
      if (this.rwProbeIndex === this.hostIndex) this.rwProbeIndex = (this.rwProbeIndex + 1) % this.hosts.length;
      const idx = this.rwProbeIndex;
      void probeReadWrite(this.hosts[idx]!, (hp, ready) => this.openSocket(hp, ready)).then((rw) => {
        if (this.socket !== sock || this.state !== 'connectedReadOnly') return;
        if (rw) {
          this.rwSearch_ms = RW_SEARCH_FIRST_MS;
          this.preferredHostIndex = idx;
          sock?.destroy();
          return;
        }
        this.rwSearch_ms = Math.min(2 * this.rwSearch_ms, RW_SEARCH_MAX_MS);
        this.scheduleRwSearch();
      });
    }, this.rwSearch_ms);
    this.rwSearchTimer.unref();
  }
}

function readStrings(r: JuteReader): string[] {
  const n = r.length();
  const out: string[] = new Array(Math.max(0, n));
  for (let i = 0; i < n; i++) out[i] = r.ustring();
  return out;
}

function kindsOf(type: number): WatchKind[] {
  switch (type) {
    case WatcherType.Children:
      return ['child'];
    case WatcherType.Data:
      return ['data', 'exist'];
    case WatcherType.Any:
      return ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];
    case WatcherType.Persistent:
      return ['persistent'];
    case WatcherType.PersistentRecursive:
      return ['persistentRecursive'];
    default:
      throw new KeeperError(Err.BadArguments);
  }
}
