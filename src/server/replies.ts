/**
 * Encoding server → client frames straight into a connection's output writer: a 4-byte length,
 * the ReplyHeader, then the body. No intermediate buffers per reply.
 */
import { JuteWriter } from '../jute/index.js';
import { OpCode, Xid } from '../proto/opcodes.js';
import { ReplyHeader, WatcherEvent, type ACL, type ClientInfo, type Stat } from '../proto/records.js';
import type { DataNode } from '../tree/dataNode.js';
import { ephemeralKind } from '../tree/ephemeralType.js';
import type { ProcessTxnResult } from '../txn/apply.js';
import type { WatchedEvent } from '../tree/watchManager.js';

/** Length prefix, ReplyHeader (xid, zxid, err), WatcherEvent's type, state and path length. */
const NOTIFICATION_FIXED_BYTES = 4 + 16 + 12;

export function beginFrame(w: JuteWriter, xid: number, zxid: bigint, err: number): number {
  const at = w.reserveInt();
  w.int(xid);
  w.long(zxid);
  w.int(err);
  return at;
}

export function endFrame(w: JuteWriter, at: number): void {
  w.patchInt(at, w.offset - at - 4);
}

export function writeHeaderOnly(w: JuteWriter, xid: number, zxid: bigint, err: number): void {
  endFrame(w, beginFrame(w, xid, zxid, err));
}

function writeNotification(w: JuteWriter, e: WatchedEvent): void {
  const at = w.reserveInt();
  ReplyHeader.write(w, { xid: Xid.notification, zxid: -1n, err: 0 });
  WatcherEvent.write(w, { type: e.type, state: e.state, path: e.path });
  endFrame(w, at);
}

/** Frames already encoded, by event: the watch manager hands one event object to every watcher. */
const notificationFrames = new WeakMap<WatchedEvent, Buffer>();

/** An event's notification frame (length, ReplyHeader, WatcherEvent), encoded once however many connections it goes to. */
export function notificationFrame(e: WatchedEvent): Buffer {
  let frame = notificationFrames.get(e);
  if (frame === undefined) {
    const w = new JuteWriter(NOTIFICATION_FIXED_BYTES + Buffer.byteLength(e.path));
    writeNotification(w, e);
    frame = w.bytes();
    notificationFrames.set(e, frame);
  }
  return frame;
}

export function writeStrings(w: JuteWriter, v: readonly string[]): void {
  w.int(v.length);
  for (const s of v) w.ustring(s);
}

export function writeAcls(w: JuteWriter, acl: readonly ACL[]): void {
  w.int(acl.length);
  for (const a of acl) {
    w.int(a.perms);
    w.ustring(a.id.scheme);
    w.ustring(a.id.id);
  }
}

export function writeClientInfos(w: JuteWriter, v: readonly ClientInfo[]): void {
  w.int(v.length);
  for (const c of v) {
    w.ustring(c.authScheme);
    w.ustring(c.user);
  }
}

/** The reply body of an applied write (FinalRequestProcessor), after a header with err 0. */
export function writeWriteResult(w: JuteWriter, op: number, rc: ProcessTxnResult): void {
  switch (op) {
    case OpCode.create:
      w.ustring(rc.path ?? '');
      return;
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      w.ustring(rc.path ?? '');
      writeStat(w, rc.stat!);
      return;
    case OpCode.setData:
    case OpCode.setACL:
      writeStat(w, rc.stat!);
      return;
    case OpCode.reconfig:
      // GetDataResponse: the new config and /zookeeper/config's stat.
      w.buffer(rc.data ?? null);
      writeStat(w, rc.stat!);
      return;
    case OpCode.multi:
      writeMultiResults(w, rc.multiResult ?? []);
      return;
    default:
      return;
  }
}

/** MultiResponse: a MultiHeader and body per result, then {-1, true, -1}. */
function writeMultiResults(w: JuteWriter, results: readonly ProcessTxnResult[]): void {
  for (const r of results) {
    switch (r.type) {
      case OpCode.check:
        multiHeader(w, OpCode.check, 0);
        break;
      case OpCode.create:
        multiHeader(w, OpCode.create, 0);
        w.ustring(r.path ?? '');
        break;
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer:
        multiHeader(w, OpCode.create2, 0);
        w.ustring(r.path ?? '');
        writeStat(w, r.stat!);
        break;
      case OpCode.delete:
      case OpCode.deleteContainer:
        multiHeader(w, OpCode.delete, 0);
        break;
      case OpCode.setData:
        multiHeader(w, OpCode.setData, 0);
        writeStat(w, r.stat!);
        break;
      default:
        multiHeader(w, OpCode.error, r.err);
        w.int(r.err);
        break;
    }
  }
  multiHeader(w, -1, -1, true);
}

export function multiHeader(w: JuteWriter, type: number, err: number, done = false): void {
  w.int(type);
  w.boolean(done);
  w.int(err);
}

/** Stat in wire order, without the generic record walk (hot path). */
export function writeStat(w: JuteWriter, s: Stat): void {
  w.long(s.czxid);
  w.long(s.mzxid);
  w.long(s.ctime);
  w.long(s.mtime);
  w.int(s.version);
  w.int(s.cversion);
  w.int(s.aversion);
  w.long(s.ephemeralOwner);
  w.int(s.dataLength);
  w.int(s.numChildren);
  w.long(s.pzxid);
}

/** A node's client-visible Stat straight from the node (same values as DataNode.toStat). */
export function writeNodeStat(w: JuteWriter, n: DataNode): void {
  const s = n.stat;
  const kids = n.children.size;
  w.long(s.czxid);
  w.long(s.mzxid);
  w.long(s.ctime);
  w.long(s.mtime);
  w.int(s.version);
  w.int((s.cversion * 2 - kids) | 0);
  w.int(s.aversion);
  w.long(ephemeralKind(s.ephemeralOwner) === 'normal' ? s.ephemeralOwner : 0n);
  w.int(n.data === null ? 0 : n.data.length);
  w.int(kids);
  w.long(s.pzxid);
}
