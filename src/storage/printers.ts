/**
 * `tszk logs <file>` and `tszk snapshot <file>`: readable dumps of a txn log or a snapshot, in the
 * spirit of ZooKeeper's TxnLogToolkit and SnapshotFormatter (one line per txn; one block per znode).
 * Each returns an exit status: 0 when the file reads cleanly (a torn tail counts as clean), 1 when
 * it is damaged.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { JuteReader } from '../jute/index.js';
import { OpCode, opName } from '../proto/opcodes.js';
import type { ACL, StatPersisted } from '../proto/records.js';
import { errorMessage, StorageError } from './errors.js';
import { FileHeader } from './fileHeader.js';
import { scanLogBuffer } from './logFile.js';
import { SNAPSHOT_PREFIX, zxidFromName } from './names.js';
import { parseSnapshot } from './snapshot.js';
import { compressionOfName, decompressSnapshot } from './snapshotCompression.js';
import type { Txn, TxnBody } from '../txn/txn.js';

export interface TextOut {
  write(s: string): unknown;
}

const hex = (v: bigint | number) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
/** ZooKeeper prints longs as %#016x: 0x + zero padding to 16 characters in total. */
const hex16 = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16).padStart(14, '0')}`;

function dataText(d: Buffer | null): string {
  if (d === null) return '';
  // Printable UTF-8 as text, anything else as base64.
  const s = d.toString('utf8');
  return /^[\x20-\x7e]*$/.test(s) ? s : `base64:${d.toString('base64')}`;
}

function aclText(acl: readonly ACL[]): string {
  return `[${acl.map((a) => `${a.id.scheme}:${a.id.id}:${a.perms}`).join(',')}]`;
}

function describeTxnBody(b: TxnBody): string {
  switch (b.type) {
    case OpCode.create:
    case OpCode.create2:
      return `${b.txn.path},${dataText(b.txn.data)},${aclText(b.txn.acl)},${b.txn.ephemeral},${b.txn.parentCVersion}`;
    case OpCode.createTTL:
      return `${b.txn.path},${dataText(b.txn.data)},${aclText(b.txn.acl)},${b.txn.parentCVersion},${b.txn.ttl}`;
    case OpCode.createContainer:
      return `${b.txn.path},${dataText(b.txn.data)},${aclText(b.txn.acl)},${b.txn.parentCVersion}`;
    case OpCode.delete:
    case OpCode.deleteContainer:
      return b.txn.path;
    case OpCode.setData:
    case OpCode.reconfig:
      return `${b.txn.path},${dataText(b.txn.data)},${b.txn.version}`;
    case OpCode.setACL:
      return `${b.txn.path},${aclText(b.txn.acl)},${b.txn.version}`;
    case OpCode.check:
      return `${b.txn.path},${b.txn.version}`;
    case OpCode.createSession:
      return `${b.txn.timeOut}`;
    case OpCode.closeSession:
      return b.txn === null ? '' : `[${b.txn.paths2Delete.join(',')}]`;
    case OpCode.error:
      return `${b.txn.err}`;
    case OpCode.multi:
      return b.txns.map((t) => `${opName(t.type)}:${describeTxnBody(t)}`).join(' | ');
  }
}

function describeTxn(e: Txn): string {
  const h = e.header;
  const when = new Date(Number(h.time)).toISOString();
  const digest = e.digest ? ` digest ${e.digest.version}:${hex(e.digest.treeDigest)}` : '';
  return `${when} session ${hex(h.clientId)} cxid ${hex(h.cxid >>> 0)} zxid ${hex(h.zxid)} ${opName(h.type)} ${describeTxnBody(e.body)}${digest}`;
}

export async function printTxnLog(file: string, out: TextOut): Promise<number> {
  const buf = await fs.readFile(file);
  const scan = scanLogBuffer(buf);
  if (scan.header) out.write(`ZooKeeper Transactional Log File with dbid ${scan.header.dbid} txnlog format version ${scan.header.version}\n`);
  for (const r of scan.records) out.write(`${describeTxn(r.entry)}\n`);
  const n = scan.records.length;
  switch (scan.end.kind) {
    case 'clean':
      out.write(`EOF reached after ${n} txns.\n`);
      return 0;
    case 'torn':
      out.write(`EOF reached after ${n} txns (torn tail at byte offset ${scan.end.offset}: ${scan.end.reason}).\n`);
      return 0;
    case 'corrupt':
    case 'badHeader':
      out.write(`${n} txns read, then ${new StorageError(scan.end.reason, file, scan.end.offset).message}\n`);
      return 1;
  }
}

function statLines(s: StatPersisted): string {
  return [
    `  cZxid = ${hex16(s.czxid)}`,
    `  ctime = ${new Date(Number(s.ctime)).toISOString()}`,
    `  mZxid = ${hex16(s.mzxid)}`,
    `  mtime = ${new Date(Number(s.mtime)).toISOString()}`,
    `  pZxid = ${hex16(s.pzxid)}`,
    `  cversion = ${s.cversion}`,
    `  dataVersion = ${s.version}`,
    `  aclVersion = ${s.aversion}`,
    `  ephemeralOwner = ${hex16(s.ephemeralOwner)}`,
  ].join('\n');
}

export async function printSnapshot(file: string, out: TextOut, opts: { dumpData?: boolean } = {}): Promise<number> {
  const zxid = zxidFromName(path.basename(file), SNAPSHOT_PREFIX) ?? -1n;
  let buf: Buffer;
  let snap;
  try {
    buf = await decompressSnapshot(await fs.readFile(file), compressionOfName(path.basename(file)) ?? 'none', file);
    snap = parseSnapshot(buf, file, zxid);
  } catch (e) {
    out.write(`${errorMessage(e)}\n`);
    return 1;
  }
  const header = FileHeader.read(new JuteReader(buf));
  out.write(`ZooKeeper snapshot with dbid ${header.dbid} format version ${header.version}\n`);
  out.write(`ZNode Details (count=${snap.nodes.length}):\n`);
  let last = zxid;
  const ephemerals = new Map<bigint, number>();
  for (const n of snap.nodes) {
    out.write(`----\n${n.path === '' ? '/' : n.path}\n${statLines(n.stat)}\n`);
    const d = n.data;
    out.write(opts.dumpData ? `  data = ${d === null ? '' : d.toString('base64')}\n` : `  dataLength = ${d === null ? 0 : d.length}\n`);
    const acl = n.acl === -1n ? 'world:anyone:31 (OPEN_ACL_UNSAFE)' : aclText(snap.acls.get(n.acl) ?? []);
    out.write(`  acl = ${n.acl} ${acl}\n`);
    if (n.stat.mzxid > last) last = n.stat.mzxid;
    if (n.stat.pzxid > last) last = n.stat.pzxid;
    const o = n.stat.ephemeralOwner;
    if (o > 0n) ephemerals.set(o, (ephemerals.get(o) ?? 0) + 1);
  }
  out.write('----\nSession Details (sid, timeout, ephemeralCount):\n');
  for (const [sid, timeout] of snap.sessions) out.write(`${hex16(sid)}, ${timeout}, ${ephemerals.get(sid) ?? 0}\n`);
  if (snap.digest && snap.digest.zxid > 0n) out.write(`Target zxid digest is: ${snap.digest.zxid.toString(16)}, ${snap.digest.digest}\n`);
  out.write(`----\nLast zxid: ${hex(last)}\n`);
  return 0;
}
