/**
 * A txn as it travels from prepare to apply, to the log and over ZAB: TxnHeader + one body,
 * a discriminated union on the op type. encodeTxn/decodeTxn give ZooKeeper's log form
 * (header record, then the body record; multi bodies nest each sub-txn's encoded bytes).
 */
import { JuteReader, JuteWriter } from '../jute/index.js';
import { OpCode } from '../proto/opcodes.js';
import {
  CheckVersionTxn,
  CloseSessionTxn,
  CreateContainerTxn,
  CreateSessionTxn,
  CreateTTLTxn,
  CreateTxn,
  DeleteTxn,
  ErrorTxn,
  MultiTxn,
  SetACLTxn,
  SetDataTxn,
  TxnDigest,
  TxnHeader,
} from './records.js';

export type TxnBody =
  | { type: typeof OpCode.create | typeof OpCode.create2; txn: CreateTxn }
  | { type: typeof OpCode.createContainer; txn: CreateContainerTxn }
  | { type: typeof OpCode.createTTL; txn: CreateTTLTxn }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer; txn: DeleteTxn }
  | { type: typeof OpCode.setData; txn: SetDataTxn }
  | { type: typeof OpCode.setACL; txn: SetACLTxn }
  | { type: typeof OpCode.check; txn: CheckVersionTxn }
  | { type: typeof OpCode.multi; txns: TxnBody[] }
  | { type: typeof OpCode.createSession; txn: CreateSessionTxn }
  | { type: typeof OpCode.closeSession; txn: CloseSessionTxn }
  | { type: typeof OpCode.error; txn: ErrorTxn };

export interface Txn {
  header: TxnHeader;
  body: TxnBody;
  digest?: TxnDigest;
}

export function writeTxnBody(w: JuteWriter, b: TxnBody): void {
  switch (b.type) {
    case OpCode.create:
    case OpCode.create2:
      return CreateTxn.write(w, b.txn);
    case OpCode.createContainer:
      return CreateContainerTxn.write(w, b.txn);
    case OpCode.createTTL:
      return CreateTTLTxn.write(w, b.txn);
    case OpCode.delete:
    case OpCode.deleteContainer:
      return DeleteTxn.write(w, b.txn);
    case OpCode.setData:
      return SetDataTxn.write(w, b.txn);
    case OpCode.setACL:
      return SetACLTxn.write(w, b.txn);
    case OpCode.check:
      return CheckVersionTxn.write(w, b.txn);
    case OpCode.multi:
      return MultiTxn.write(w, { txns: b.txns.map((t) => ({ type: t.type, data: encodeTxnBody(t) })) });
    case OpCode.createSession:
      return CreateSessionTxn.write(w, b.txn);
    case OpCode.closeSession:
      return CloseSessionTxn.write(w, b.txn);
    case OpCode.error:
      return ErrorTxn.write(w, b.txn);
  }
}

export function encodeTxnBody(b: TxnBody): Buffer {
  const w = new JuteWriter();
  writeTxnBody(w, b);
  return Buffer.from(w.bytes());
}

export function readTxnBody(r: JuteReader, type: number): TxnBody {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
      return { type, txn: CreateTxn.read(r) };
    case OpCode.createContainer:
      return { type, txn: CreateContainerTxn.read(r) };
    case OpCode.createTTL:
      return { type, txn: CreateTTLTxn.read(r) };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, txn: DeleteTxn.read(r) };
    case OpCode.setData:
      return { type, txn: SetDataTxn.read(r) };
    case OpCode.setACL:
      return { type, txn: SetACLTxn.read(r) };
    case OpCode.check:
      return { type, txn: CheckVersionTxn.read(r) };
    case OpCode.multi: {
      const m = MultiTxn.read(r);
      return { type, txns: m.txns.map((t) => readTxnBody(new JuteReader(t.data ?? Buffer.alloc(0)), t.type)) };
    }
    case OpCode.createSession:
      return { type, txn: CreateSessionTxn.read(r) };
    case OpCode.closeSession:
      // Before closeSessionTxn existed the body was empty.
      return { type, txn: r.remaining > 0 ? CloseSessionTxn.read(r) : { paths2Delete: [] } };
    case OpCode.error:
      return { type, txn: ErrorTxn.read(r) };
    default:
      throw new Error(`unknown txn type ${type}`);
  }
}

/** Header + body (+ digest if present), as one log entry's payload. */
export function writeTxn(w: JuteWriter, t: Txn): void {
  TxnHeader.write(w, t.header);
  writeTxnBody(w, t.body);
  if (t.digest !== undefined) TxnDigest.write(w, t.digest);
}

export function encodeTxn(t: Txn): Buffer {
  const w = new JuteWriter();
  writeTxn(w, t);
  return Buffer.from(w.bytes());
}

export function decodeTxn(buf: Buffer): Txn {
  const r = new JuteReader(buf);
  const header = TxnHeader.read(r);
  const body = readTxnBody(r, header.type);
  if (r.remaining > 0) return { header, body, digest: TxnDigest.read(r) };
  return { header, body };
}
