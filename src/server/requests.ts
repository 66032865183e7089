/**
 * Decoding a client request body by op code into a typed request (reads, writes, control).
 * Anything malformed throws JuteError (the connection answers MarshallingError or closes).
 */
import { type JuteReader } from '../jute/index.js';
import { OpCode, TszkOpCode } from '../proto/opcodes.js';
import { Err } from '../proto/errors.js';
import {
  AddWatchRequest,
  AuthPacket,
  CheckVersionRequest,
  CheckWatchesRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  ExistsRequest,
  GetACLRequest,
  GetAllChildrenNumberRequest,
  GetChildren2Request,
  GetChildrenRequest,
  GetDataRequest,
  GetEphemeralsRequest,
  GetSASLRequest,
  MultiHeader,
  PagedReadRequest,
  ReconfigRequest,
  RemoveWatchesRequest,
  SetACLRequest,
  SetDataRequest,
  SetWatches,
  SetWatches2,
  SyncRequest,
} from '../proto/records.js';
import type { WriteRequest } from '../txn/prep.js';

export type ReadOp =
  | { op: typeof OpCode.exists; req: ExistsRequest }
  | { op: typeof OpCode.getData; req: GetDataRequest }
  | { op: typeof OpCode.getACL; req: GetACLRequest }
  | { op: typeof OpCode.getChildren; req: GetChildrenRequest }
  | { op: typeof OpCode.getChildren2; req: GetChildren2Request }
  | { op: typeof OpCode.getAllChildrenNumber; req: GetAllChildrenNumberRequest }
  | { op: typeof OpCode.getEphemerals; req: GetEphemeralsRequest }
  | { op: typeof OpCode.whoAmI }
  | { op: typeof OpCode.ping }
  | { op: typeof OpCode.checkWatches; req: CheckWatchesRequest }
  | { op: typeof OpCode.removeWatches; req: RemoveWatchesRequest }
  | { op: typeof OpCode.addWatch; req: AddWatchRequest }
  | { op: typeof OpCode.setWatches; req: SetWatches }
  | { op: typeof OpCode.setWatches2; req: SetWatches2 }
  | { op: typeof OpCode.multiRead; ops: MultiReadOp[] | undefined }
  | { op: typeof TszkOpCode.getChildrenPage | typeof TszkOpCode.getDataPage; req: PagedReadRequest }
  /** A read whose body did not decode: answered MarshallingError in its turn. */
  /** A request answered with an error and no body (default MarshallingError: undecodable). */
  | { op: typeof OpCode.error; err?: Err };

export type MultiReadOp = { op: typeof OpCode.getData; req: GetDataRequest } | { op: typeof OpCode.getChildren; req: GetChildrenRequest };

export type ClientRequest =
  | { kind: 'read'; read: ReadOp }
  | { kind: 'write'; write: WriteRequest }
  | { kind: 'sync'; path: string }
  | { kind: 'auth'; packet: AuthPacket }
  | { kind: 'badMulti' }
  /** A write ZooKeeper turns into an error txn without looking further (createSession/deleteContainer from a client). */
  | { kind: 'failedWrite'; err: number }
  | { kind: 'sasl'; token: Buffer }
  | { kind: 'unknown' };

/** Whether the record at the reader starts with a null string (length -1): our codec reads it as ''. */
function nullPathAhead(r: JuteReader): boolean {
  return r.remaining >= 4 && r.buf.readInt32BE(r.offset) === -1;
}

/**
 * How ZooKeeper 3.8 reacts to a null path, op by op: most code paths hit a
 * NullPointerException (MarshallingError); setData/setACL/check validate the path first
 * (BadArguments). undefined: the op treats null like any other string.
 */
function nullPathOutcome(type: number): ClientRequest | undefined {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
      return { kind: 'failedWrite', err: Err.MarshallingError };
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.check:
      return { kind: 'failedWrite', err: Err.BadArguments };
    case OpCode.exists:
    case OpCode.getData:
    case OpCode.getACL:
    case OpCode.getChildren:
    case OpCode.getChildren2:
    case OpCode.getAllChildrenNumber:
      return { kind: 'read', read: { op: OpCode.error } };
    default:
      return undefined;
  }
}

/** `pagedReads`: the server serves tszk's paged reads (tszk.pagedReads); otherwise they are unknown types. */
export function decodeRequest(type: number, r: JuteReader, pagedReads = false): ClientRequest {
  if (nullPathAhead(r)) {
    const outcome = nullPathOutcome(type);
    if (outcome !== undefined) return outcome;
  }
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { kind: 'write', write: { op: type, req: CreateRequest.read(r) } };
    case OpCode.createTTL:
      return { kind: 'write', write: { op: type, req: CreateTTLRequest.read(r) } };
    case OpCode.delete:
      return { kind: 'write', write: { op: type, req: DeleteRequest.read(r) } };
    case OpCode.deleteContainer:
      // ZooKeeper reads the path from the whole packet buffer, header included, so a client's
      // deleteContainer always fails path validation.
      return { kind: 'failedWrite', err: Err.BadArguments };
    case OpCode.createSession:
      return { kind: 'failedWrite', err: Err.MarshallingError };
    case OpCode.sasl:
      return { kind: 'sasl', token: GetSASLRequest.read(r).token ?? Buffer.alloc(0) };
    case OpCode.setData:
      return { kind: 'write', write: { op: type, req: SetDataRequest.read(r) } };
    case OpCode.setACL:
      return { kind: 'write', write: { op: type, req: SetACLRequest.read(r) } };
    case OpCode.closeSession:
      return { kind: 'write', write: { op: type } };
    case OpCode.check:
      return { kind: 'write', write: { op: type, req: CheckVersionRequest.read(r) } };
    case OpCode.multi: {
      const ops = readMultiOps(r);
      const writes: WriteRequest[] = [];
      for (const o of ops) {
        if (o.kind !== 'write' || o.write.op === OpCode.multi) return { kind: 'badMulti' };
        writes.push(o.write);
      }
      return { kind: 'write', write: { op: OpCode.multi, ops: writes } };
    }
    case OpCode.multiRead: {
      const ops = readMultiOps(r);
      const reads: MultiReadOp[] = [];
      for (const o of ops) {
        if (o.kind !== 'read' || (o.read.op !== OpCode.getData && o.read.op !== OpCode.getChildren)) {
          return { kind: 'read', read: { op: OpCode.multiRead, ops: undefined } };
        }
        reads.push(o.read);
      }
      return { kind: 'read', read: { op: OpCode.multiRead, ops: reads } };
    }
    case OpCode.sync:
      return { kind: 'sync', path: SyncRequest.read(r).path };
    case OpCode.exists:
      return { kind: 'read', read: { op: type, req: ExistsRequest.read(r) } };
    case OpCode.getData:
      return { kind: 'read', read: { op: type, req: GetDataRequest.read(r) } };
    case OpCode.getACL:
      return { kind: 'read', read: { op: type, req: GetACLRequest.read(r) } };
    case OpCode.getChildren:
      return { kind: 'read', read: { op: type, req: GetChildrenRequest.read(r) } };
    case OpCode.getChildren2:
      return { kind: 'read', read: { op: type, req: GetChildren2Request.read(r) } };
    case OpCode.getAllChildrenNumber:
      return { kind: 'read', read: { op: type, req: GetAllChildrenNumberRequest.read(r) } };
    case OpCode.getEphemerals:
      return { kind: 'read', read: { op: type, req: GetEphemeralsRequest.read(r) } };
    case OpCode.whoAmI:
      return { kind: 'read', read: { op: type } };
    case OpCode.ping:
      return { kind: 'read', read: { op: type } };
    case OpCode.checkWatches:
      return { kind: 'read', read: { op: type, req: CheckWatchesRequest.read(r) } };
    case OpCode.removeWatches:
      return { kind: 'read', read: { op: type, req: RemoveWatchesRequest.read(r) } };
    case OpCode.addWatch:
      return { kind: 'read', read: { op: type, req: AddWatchRequest.read(r) } };
    case OpCode.setWatches:
      return { kind: 'read', read: { op: type, req: SetWatches.read(r) } };
    case OpCode.setWatches2:
      return { kind: 'read', read: { op: type, req: SetWatches2.read(r) } };
    case OpCode.auth:
      return { kind: 'auth', packet: AuthPacket.read(r) };
    case OpCode.reconfig:
      return { kind: 'write', write: { op: type, req: ReconfigRequest.read(r) } };
    case TszkOpCode.getChildrenPage:
    case TszkOpCode.getDataPage:
      if (!pagedReads) return { kind: 'unknown' };
      return { kind: 'read', read: { op: type, req: PagedReadRequest.read(r) } };
    default:
      return { kind: 'unknown' };
  }
}

/** Ops that ZooKeeper prepares as txns: an undecodable one still becomes an error txn. */
export function isWriteOp(type: number): boolean {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
    case OpCode.deleteContainer:
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.check:
    case OpCode.multi:
    case OpCode.createSession:
    case OpCode.closeSession:
    case OpCode.reconfig:
      return true;
    default:
      return false;
  }
}

/** The ops of a MultiOperationRecord, up to the header with done=true. */
function readMultiOps(r: JuteReader): ClientRequest[] {
  const out: ClientRequest[] = [];
  for (;;) {
    const h = MultiHeader.read(r);
    if (h.done) return out;
    switch (h.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer: {
        // As ZooKeeper rebuilds multi ops (Op.create): the op follows the flags, so create2
        // answers like create and the container flag makes a createContainer.
        const req = CreateRequest.read(r);
        if (req.flags === 5 || req.flags === 6) return [...out, { kind: 'badMulti' }];
        out.push({ kind: 'write', write: { op: req.flags === 4 ? OpCode.createContainer : OpCode.create, req } });
        break;
      }
      case OpCode.createTTL: {
        const t = CreateTTLRequest.read(r);
        if (t.flags === 5 || t.flags === 6) out.push({ kind: 'write', write: { op: OpCode.createTTL, req: t } });
        else {
          const req = { path: t.path, data: t.data, acl: t.acl, flags: t.flags };
          out.push({ kind: 'write', write: { op: t.flags === 4 ? OpCode.createContainer : OpCode.create, req } });
        }
        break;
      }
      case OpCode.delete:
      case OpCode.setData:
      case OpCode.getData:
      case OpCode.getChildren:
        out.push(decodeRequest(h.type, r));
        break;
      case OpCode.check:
        out.push({ kind: 'write', write: { op: OpCode.check, req: CheckVersionRequest.read(r) } });
        break;
      default:
        out.push({ kind: 'unknown' });
        return out;
    }
  }
}
