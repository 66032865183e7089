/**
 * One client TCP connection: framing in, a FIFO of requests awaiting their replies (so replies
 * leave in request order), and an output writer flushed once per event-loop turn.
 */
import { OpCode, Perms, TszkOpCode } from '../proto/opcodes.js';
import { hasPermission, type AclPolicy } from '../txn/auth.js';
import { JuteWriter } from '../jute/index.js';
import type { ACL, Id } from '../proto/records.js';
import type { Watcher, WatchedEvent } from '../tree/watchManager.js';
import type { ProcessTxnResult } from '../txn/apply.js';
import { FrameDecoder } from './framing.js';
import type { ClientSocket } from './io.js';
import type { ReadOp } from './requests.js';
import { notificationFrame } from './replies.js';
import type { DigestMd5Server } from './saslDigest.js';

export type PendingEntry =
  | { kind: 'read'; xid: number; read: ReadOp; authInfo: readonly Id[]; recv_ms: number }
  | { kind: 'write'; xid: number; op: number; recv_ms: number; rc: ProcessTxnResult | undefined; replyZxid: bigint }
  | { kind: 'sync'; xid: number; path: string; recv_ms: number; ready: boolean };

/** The short op names FinalRequestProcessor records as a connection's last operation (cons "lop"). */
const LAST_OP_NAMES = new Map<number, string>([
  [OpCode.ping, 'PING'],
  [OpCode.createSession, 'SESS'],
  [OpCode.multi, 'MULT'],
  [OpCode.multiRead, 'MLTR'],
  [OpCode.create, 'CREA'],
  [OpCode.create2, 'CREA'],
  [OpCode.createTTL, 'CREA'],
  [OpCode.createContainer, 'CREA'],
  [OpCode.delete, 'DELE'],
  [OpCode.deleteContainer, 'DELE'],
  [OpCode.setData, 'SETD'],
  [OpCode.reconfig, 'RECO'],
  [OpCode.setACL, 'SETA'],
  [OpCode.closeSession, 'CLOS'],
  [OpCode.sync, 'SYNC'],
  [OpCode.check, 'CHEC'],
  [OpCode.exists, 'EXIS'],
  [OpCode.getData, 'GETD'],
  [OpCode.setWatches, 'SETW'],
  [OpCode.setWatches2, 'STW2'],
  [OpCode.addWatch, 'ADDW'],
  [OpCode.getACL, 'GETA'],
  [OpCode.getChildren, 'GETC'],
  [OpCode.getChildren2, 'GETC'],
  [OpCode.getAllChildrenNumber, 'GETACN'],
  [OpCode.checkWatches, 'CHKW'],
  [OpCode.removeWatches, 'REMW'],
  [OpCode.whoAmI, 'HOMI'],
  [OpCode.getEphemerals, 'GETE'],
  // tszk's own (ZooKeeper has none of these).
  [TszkOpCode.getChildrenPage, 'GETCP'],
  [TszkOpCode.getDataPage, 'GETDP'],
]);

export function lastOpName(op: number): string {
  return LAST_OP_NAMES.get(op) ?? 'NA';
}

export type ConnectionState = 'handshake' | 'connecting' | 'open' | 'closing' | 'closed';

/** Initial output buffer per flush; it grows as needed. */
const OUTPUT_INITIAL_BYTES = 2048;

export interface ConnectionStats {
  packetsReceived: number;
  packetsSent: number;
  established_ms: number;
  lastOp: string;
  lastCxid: number;
  lastZxid: bigint;
  lastResponse_ms: number;
  lastLatency_ms: number;
  minLatency_ms: number;
  maxLatency_ms: number;
  totalLatency_ms: number;
  latencyCount: number;
}

export function emptyConnectionStats(now_ms: number): ConnectionStats {
  return {
    packetsReceived: 0,
    packetsSent: 0,
    established_ms: now_ms,
    lastOp: 'NA',
    lastCxid: -1,
    lastZxid: -1n,
    lastResponse_ms: 0,
    lastLatency_ms: 0,
    minLatency_ms: Number.MAX_SAFE_INTEGER,
    maxLatency_ms: 0,
    totalLatency_ms: 0,
    latencyCount: 0,
  };
}

export class ClientConnection implements Watcher {
  state: ConnectionState = 'handshake';
  sessionId = 0n;
  sessionTimeout_ms = 0;
  /** Replaced (never mutated) on auth, so queued requests keep the ids they were sent with. */
  authInfo: readonly Id[];
  oldClient = true;
  readonly queue: PendingEntry[] = [];
  /** Frames that arrived while the session was being created. */
  readonly held: Buffer[] = [];
  out = new JuteWriter(OUTPUT_INITIAL_BYTES);
  /**
   * Notification frames shared with other connections (notificationFrame), queued while `out` was
   * empty: they go out ahead of everything in `out`, which was all written after them.
   */
  private shared: Buffer[] = [];
  dirty = false;
  readingPaused = false;
  /** The SASL exchange under way on this connection, once the client started one. */
  sasl: DigestMd5Server | undefined;
  /** SASL tokens answered while this server has no SASL login (see RequestPipeline.onSasl). */
  saslWithoutLogin = 0;
  /** closeSession was received: later requests are answered SessionExpired, in order, until it applies. */
  sessionClosing = false;
  stats: ConnectionStats;
  readonly decoder: FrameDecoder;

  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    readonly socket: ClientSocket,
    maxFrame_bytes: number,
    now_ms: number,
    private readonly aclPolicy: AclPolicy,
    private readonly onDirty: (c: ClientConnection) => void,
  ) {
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.authInfo = [{ scheme: 'ip', id: this.remoteAddress }];
    this.decoder = new FrameDecoder(maxFrame_bytes);
    this.stats = emptyConnectionStats(now_ms);
  }

  get stale(): boolean {
    return this.state === 'closed' || this.state === 'closing';
  }

  /** A watch fired: the notification goes out ahead of any reply still queued. */
  process(event: WatchedEvent, znodeAcl?: readonly ACL[]): void {
    if (this.state === 'closed') return;
    // Events about nodes this client may not read are dropped (ZooKeeper 3.8, CVE-2024-23944).
    if (znodeAcl !== undefined && !hasPermission(this.aclPolicy, znodeAcl, Perms.READ, this.authInfo)) return;
    const frame = notificationFrame(event);
    // Nothing written yet this turn: the frame every watcher shares goes out as it is, uncopied.
    if (this.out.offset === 0) this.shared.push(frame);
    else this.out.raw(frame);
    this.stats.packetsSent++;
    this.markDirty();
  }

  markDirty(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.onDirty(this);
  }

  /** Hands the written bytes to the socket (one write per turn): the shared notification frames first, then `out`. */
  flush(): void {
    this.dirty = false;
    const shared = this.shared;
    if ((this.out.offset === 0 && shared.length === 0) || this.state === 'closed') return;
    let bytes: Buffer;
    if (shared.length === 0) {
      bytes = this.out.bytes();
      this.out = new JuteWriter(OUTPUT_INITIAL_BYTES);
    } else {
      this.shared = [];
      if (this.out.offset === 0 && shared.length === 1) bytes = shared[0]!;
      else {
        // Copied out, so the writer can be reused.
        bytes = Buffer.concat(this.out.offset === 0 ? shared : [...shared, this.out.bytes()]);
        this.out.reset();
      }
    }
    this.socket.write(bytes);
  }

  recordLatency(op: string, cxid: number, zxid: bigint, recv_ms: number, now_ms: number): void {
    const s = this.stats;
    const lat = Math.max(0, now_ms - recv_ms);
    s.lastOp = op;
    if (cxid >= 0) s.lastCxid = cxid;
    s.lastZxid = zxid;
    s.lastResponse_ms = now_ms;
    s.lastLatency_ms = lat;
    if (lat < s.minLatency_ms) s.minLatency_ms = lat;
    if (lat > s.maxLatency_ms) s.maxLatency_ms = lat;
    s.totalLatency_ms += lat;
    s.latencyCount++;
  }
}
