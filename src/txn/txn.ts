/**
 * The one txn codec: a txn as it travels from prepare to apply, to the log and over ZAB, and as
 * it is read back from any ZooKeeper 3.8 log. TxnHeader + one body (a discriminated union on the
 * op type) + the TxnDigest that 3.8 appends when digests are enabled (the default). encodeTxn /
 * decodeTxn give the bytes a log entry checksums and a PROPOSAL carries; multi bodies nest each
 * member's encoded bytes. Reading follows SerializeUtils.deserializeTxn, including its fallbacks
 * for logs written by older servers.
 */
import { JuteError, JuteReader, JuteWriter } from '../jute/index.js';
import { OpCode } from '../proto/opcodes.js';
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
} from './records.js';

/** The txn record of each txn type; the compiler checks every case where bodies are handled. */
export type TxnBody =
  | { type: typeof OpCode.create | typeof OpCode.create2; txn: CreateTxn }
  | { type: typeof OpCode.createContainer; txn: CreateContainerTxn }
  | { type: typeof OpCode.createTTL; txn: CreateTTLTxn }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer; txn: DeleteTxn }
  /** A reconfig is logged as a SetDataTxn of /zookeeper/config. */
  | { type: typeof OpCode.setData | typeof OpCode.reconfig; txn: SetDataTxn }
  | { type: typeof OpCode.setACL; txn: SetACLTxn }
  /** Only inside a multi. */
  | { type: typeof OpCode.check; txn: CheckVersionTxn }
  /** The member txns of a MultiTxn, decoded. */
  | { type: typeof OpCode.multi; txns: TxnBody[] }
  | { type: typeof OpCode.createSession; txn: CreateSessionTxn }
  /** null: a closeSession logged before CloseSessionTxn existed (no body). */
  | { type: typeof OpCode.closeSession; txn: CloseSessionTxn | null }
  | { type: typeof OpCode.error; txn: ErrorTxn };

export interface Txn {
  header: TxnHeader;
  body: TxnBody;
  /** The tree digest after this txn; absent when not recorded. */
  digest?: TxnDigest;
}

const TXN_DIGEST_BYTES = 12;

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
    case OpCode.reconfig:
      return SetDataTxn.write(w, b.txn);
    case OpCode.setACL:
      return SetACLTxn.write(w, b.txn);
    case OpCode.check:
      return CheckVersionTxn.write(w, b.txn);
    case OpCode.multi:
      return MultiTxn.write(w, {
        txns: b.txns.map((t) => {
          if (t.type === OpCode.multi) throw new Error('a multi cannot contain a multi');
          return { type: t.type, data: encodeTxnBody(t) };
        }),
      });
    case OpCode.createSession:
      return CreateSessionTxn.write(w, b.txn);
    case OpCode.closeSession:
      if (b.txn !== null) CloseSessionTxn.write(w, b.txn);
      return;
    case OpCode.error:
      return ErrorTxn.write(w, b.txn);
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
    case OpCode.create2:
      return { type, txn: type === OpCode.create ? readCreate(r) : CreateTxn.read(r) };
    case OpCode.createContainer:
      return { type, txn: CreateContainerTxn.read(r) };
    case OpCode.createTTL:
      return { type, txn: CreateTTLTxn.read(r) };
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
    case OpCode.multi: {
      const m = MultiTxn.read(r);
      return { type, txns: m.txns.map((t) => readTxnBody(new JuteReader(t.data ?? Buffer.alloc(0)), t.type)) };
    }
    case OpCode.createSession:
      return { type, txn: CreateSessionTxn.read(r) };
    case OpCode.closeSession:
      return { type, txn: readCloseSession(r) };
    case OpCode.error:
      return { type, txn: ErrorTxn.read(r) };
    default:
      throw new JuteError(`unsupported txn type ${type}`, r.offset);
  }
}

/** A create that does not parse may be one logged before parentCVersion existed; -1 asks the tree to fix it up. */
function readCreate(r: JuteReader): CreateTxn {
  const at = r.offset;
  try {
    return CreateTxn.read(r);
  } catch (e) {
    if (!(e instanceof JuteError)) throw e;
    r.offset = at;
    return { ...CreateTxnV0.read(r), parentCVersion: -1 };
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

/** Header + body (+ digest if present), as one log entry's payload. */
export function writeTxn(w: JuteWriter, t: Txn): void {
  if (t.header.type !== t.body.type) throw new Error(`TxnHeader type ${t.header.type} != body type ${t.body.type}`);
  TxnHeader.write(w, t.header);
  writeTxnBody(w, t.body);
  if (t.digest !== undefined) TxnDigest.write(w, t.digest);
}

/** Where TxnHeader's `time` lies in a txn's bytes: after clientId (8), cxid (4) and zxid (8). */
const TXN_TIME_OFFSET = 20;

/** The TxnHeader `time` of encoded txn bytes (the preparing member's clock, ms), without decoding the rest. */
export function txnTime_ms(bytes: Buffer): number | undefined {
  return bytes.length >= TXN_TIME_OFFSET + 8 ? Number(bytes.readBigInt64BE(TXN_TIME_OFFSET)) : undefined;
}

export function encodeTxn(t: Txn): Buffer {
  const w = new JuteWriter();
  writeTxn(w, t);
  return Buffer.from(w.bytes());
}

/** Decodes one log entry's payload (inside the checksum); throws JuteError when it does not parse. */
export function decodeTxn(buf: Buffer): Txn {
  const r = new JuteReader(buf);
  const header = TxnHeader.read(r);
  const body = readTxnBody(r, header.type);
  // Too few bytes left for a digest: ZooKeeper reads to EOF and treats it as absent.
  if (r.remaining >= TXN_DIGEST_BYTES) return { header, body, digest: TxnDigest.read(r) };
  return { header, body };
}
