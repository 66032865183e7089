/**
 * One logged txn: TxnHeader, the txn record chosen by the header's type, and the TxnDigest that
 * ZooKeeper 3.8 appends when digests are enabled (the default). These bytes are what the log
 * checksums and what ZAB carries in a PROPOSAL.
 */
import { JuteError, JuteReader, JuteWriter } from '../jute/index.js';
import { OpCode, opName } from '../proto/opcodes.js';
import {
  CheckVersionTxn,
  CloseSessionTxn,
  CreateContainerTxn,
  CreateSessionTxn,
  CreateTTLTxn,
  CreateTxn,
  CreateTxnV0,
  DeleteTxn,
  ErrorTxn,
  MultiTxn,
  SetACLTxn,
  SetDataTxn,
  TxnDigest,
  TxnHeader,
} from '../txn/records.js';

/** The txn record of each txn type; the compiler checks every case where bodies are handled. */
export type TxnBody =
  | { type: typeof OpCode.create | typeof OpCode.create2; txn: CreateTxn }
  | { type: typeof OpCode.createTTL; txn: CreateTTLTxn }
  | { type: typeof OpCode.createContainer; txn: CreateContainerTxn }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer; txn: DeleteTxn }
  | { type: typeof OpCode.setData | typeof OpCode.reconfig; txn: SetDataTxn }
  | { type: typeof OpCode.setACL; txn: SetACLTxn }
  /** Only inside a multi. */
  | { type: typeof OpCode.check; txn: CheckVersionTxn }
  | { type: typeof OpCode.createSession; txn: CreateSessionTxn }
  /** null: a closeSession logged before CloseSessionTxn existed (no body). */
  | { type: typeof OpCode.closeSession; txn: CloseSessionTxn | null }
  | { type: typeof OpCode.error; txn: ErrorTxn }
  /** The member txns of a MultiTxn, decoded. */
  | { type: typeof OpCode.multi; ops: TxnBody[] };

export type TxnType = TxnBody['type'];

export interface TxnEntry {
  hdr: TxnHeader;
  body: TxnBody;
  /** The tree digest after this txn; null when not recorded. */
  digest: TxnDigest | null;
}

const TXN_DIGEST_BYTES = 12;

export function writeTxnBody(w: JuteWriter, b: TxnBody): void {
  switch (b.type) {
    case OpCode.create:
    case OpCode.create2:
      return CreateTxn.write(w, b.txn);
    case OpCode.createTTL:
      return CreateTTLTxn.write(w, b.txn);
    case OpCode.createContainer:
      return CreateContainerTxn.write(w, b.txn);
    case OpCode.delete:
    case OpCode.deleteContainer:
      return DeleteTxn.write(w, b.txn);
    case OpCode.setData:
    case OpCode.reconfig:
      return SetDataTxn.write(w, b.txn);
    case OpCode.setACL:
      return SetACLTxn.write(w, b.txn);
    case OpCode.check:
      return CheckVersionTxn.write(w, b.txn);
    case OpCode.createSession:
      return CreateSessionTxn.write(w, b.txn);
    case OpCode.closeSession:
      if (b.txn !== null) CloseSessionTxn.write(w, b.txn);
      return;
    case OpCode.error:
      return ErrorTxn.write(w, b.txn);
    case OpCode.multi:
      return MultiTxn.write(w, {
        txns: b.ops.map((op) => {
          if (op.type === OpCode.multi) throw new Error('a multi cannot contain a multi');
          return { type: op.type, data: encodeTxnBody(op) };
        }),
      });
  }
}

export function encodeTxnBody(b: TxnBody): Buffer {
  const w = new JuteWriter();
  writeTxnBody(w, b);
  return Buffer.from(w.bytes());
}

/** Reads the body of a txn of `type`; throws JuteError on bytes that do not fit. */
export function readTxnBody(r: JuteReader, type: number): TxnBody {
  switch (type) {
    case OpCode.create:
    case OpCode.create2: {
      const at = r.offset;
      try {
        return { type, txn: CreateTxn.read(r) };
      } catch (e) {
        // A create logged by ZooKeeper before parentCVersion existed; -1 asks the tree to fix it up.
        if (!(e instanceof JuteError) || type !== OpCode.create) throw e;
        r.offset = at;
        const v0 = CreateTxnV0.read(r);
        return { type, txn: { ...v0, parentCVersion: -1 } };
      }
    }
    case OpCode.createTTL:
      return { type, txn: CreateTTLTxn.read(r) };
    case OpCode.createContainer:
      return { type, txn: CreateContainerTxn.read(r) };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, txn: DeleteTxn.read(r) };
    case OpCode.setData:
    case OpCode.reconfig:
      return { type, txn: SetDataTxn.read(r) };
    case OpCode.setACL:
      return { type, txn: SetACLTxn.read(r) };
    case OpCode.check:
      return { type, txn: CheckVersionTxn.read(r) };
    case OpCode.createSession:
      return { type, txn: CreateSessionTxn.read(r) };
    case OpCode.closeSession:
      return { type, txn: readCloseSession(r) };
    case OpCode.error:
      return { type, txn: ErrorTxn.read(r) };
    case OpCode.multi: {
      const m = MultiTxn.read(r);
      return {
        type,
        ops: m.txns.map((t) => {
          const sub = new JuteReader(t.data ?? Buffer.alloc(0));
          return readTxnBody(sub, t.type);
        }),
      };
    }
    default:
      throw new JuteError(`unsupported txn type ${type}`, r.offset);
  }
}

/** An old closeSession has no body (and may be followed by a digest that must not be taken for one). */
function readCloseSession(r: JuteReader): CloseSessionTxn | null {
  if (r.remaining === 0) return null;
  const at = r.offset;
  try {
    const txn = CloseSessionTxn.read(r);
    if (r.remaining === 0 || r.remaining === TXN_DIGEST_BYTES) return txn;
  } catch (e) {
    if (!(e instanceof JuteError)) throw e;
  }
  r.offset = at;
  return null;
}

export function encodeTxnEntry(e: TxnEntry): Buffer {
  if (e.hdr.type !== e.body.type) throw new Error(`TxnHeader type ${e.hdr.type} != body type ${e.body.type}`);
  const w = new JuteWriter(128);
  TxnHeader.write(w, e.hdr);
  writeTxnBody(w, e.body);
  if (e.digest !== null) TxnDigest.write(w, e.digest);
  return Buffer.from(w.bytes());
}

/** Decodes the bytes of one log entry (inside the checksum); throws JuteError when they do not parse. */
export function decodeTxnEntry(buf: Buffer): TxnEntry {
  const r = new JuteReader(buf);
  const hdr = TxnHeader.read(r);
  const body = readTxnBody(r, hdr.type);
  const digest = r.remaining >= TXN_DIGEST_BYTES ? TxnDigest.read(r) : null;
  return { hdr, body, digest };
}

export function txnTypeName(type: number): string {
  return opName(type);
}
