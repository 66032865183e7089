/**
 * Multi and multiRead operations: what a caller builds, how each is written inside a multi
 * request, and how the per-op results come back (MultiResponse).
 */
import { type JuteReader, type JuteWriter } from '../jute/index.js';
import { CreateMode, OpCode } from '../proto/opcodes.js';
import { ACL, Stat } from '../proto/records.js';

export type Data = Buffer | Uint8Array | string | null;

export interface CreateOptions {
  mode?: CreateMode;
  acl?: ACL[];
  /** Only for the TTL modes. */
  ttl_ms?: number | bigint;
}

export type Op =
  | { type: 'create'; path: string; data: Data; acl: ACL[]; mode: CreateMode; ttl_ms: bigint; withStat: boolean }
  | { type: 'delete'; path: string; version: number }
  | { type: 'setData'; path: string; data: Data; version: number }
  | { type: 'check'; path: string; version: number }
  | { type: 'getChildren'; path: string }
  | { type: 'getData'; path: string };

export type OpResult =
  | { type: 'create'; path: string; stat: Stat | null }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'check' }
  | { type: 'getChildren'; children: string[] }
  | { type: 'getData'; data: Buffer | null; stat: Stat }
  | { type: 'error'; err: number };

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
export const CREATOR_ALL_ACL: ACL[] = [{ perms: 31, id: { scheme: 'auth', id: '' } }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

/** Builders for multi ops (ZooKeeper's Op.create/delete/setData/check/getChildren/getData). */
export const op = {
  create(path: string, data: Data = null, opts: CreateOptions & { withStat?: boolean } = {}): Op {
    return {
      type: 'create',
      path,
      data,
      acl: opts.acl ?? OPEN_ACL_UNSAFE,
      mode: opts.mode ?? CreateMode.PERSISTENT,
      ttl_ms: BigInt(opts.ttl_ms ?? -1),
      withStat: opts.withStat ?? false,
    };
  },
  delete(path: string, version = -1): Op {
    return { type: 'delete', path, version };
  },
  setData(path: string, data: Data, version = -1): Op {
    return { type: 'setData', path, data, version };
  },
  check(path: string, version: number): Op {
    return { type: 'check', path, version };
  },
  getChildren(path: string): Op {
    return { type: 'getChildren', path };
  },
  getData(path: string): Op {
    return { type: 'getData', path };
  },
};

function isTtlMode(mode: CreateMode): boolean {
  return mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

/** The opcode a create uses, as the Java client picks it. */
export function createOpCode(mode: CreateMode, withStat: boolean): number {
  if (isTtlMode(mode)) return OpCode.createTTL;
  if (mode === CreateMode.CONTAINER) return OpCode.createContainer;
  return withStat ? OpCode.create2 : OpCode.create;
}

export function toBytes(d: Data): Uint8Array | null {
  if (d === null) return null;
  return typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
}

export function writeAcl(w: JuteWriter, acl: ACL[]): void {
  w.int(acl.length);
  for (const a of acl) ACL.write(w, a);
}

/** Writes one create body: CreateRequest, or CreateTTLRequest for the TTL modes. */
export function writeCreate(w: JuteWriter, serverPath: string, data: Data, acl: ACL[], mode: CreateMode, ttl_ms: bigint): void {
  w.ustring(serverPath);
  w.buffer(toBytes(data));
  writeAcl(w, acl);
  w.int(mode);
  if (isTtlMode(mode)) w.long(ttl_ms);
}

function opCodeOf(o: Op): number {
  switch (o.type) {
    case 'create':
      return createOpCode(o.mode, o.withStat);
    case 'delete':
      return OpCode.delete;
    case 'setData':
      return OpCode.setData;
    case 'check':
      return OpCode.check;
    case 'getChildren':
      return OpCode.getChildren;
    case 'getData':
      return OpCode.getData;
  }
}

/** MultiRequest body: (MultiHeader, op record)* then the done header. */
export function writeMulti(w: JuteWriter, ops: readonly Op[], toServer: (p: string) => string): void {
  for (const o of ops) {
    w.int(opCodeOf(o));
    w.boolean(false);
    w.int(-1);
    const p = toServer(o.path);
    switch (o.type) {
      case 'create':
        writeCreate(w, p, o.data, o.acl, o.mode, o.ttl_ms);
        break;
      case 'delete':
      case 'check':
        w.ustring(p);
        w.int(o.version);
        break;
      case 'setData':
        w.ustring(p);
        w.buffer(toBytes(o.data));
        w.int(o.version);
        break;
      case 'getChildren':
      case 'getData':
        w.ustring(p);
        w.boolean(false);
        break;
    }
  }
  w.int(-1);
  w.boolean(true);
  w.int(-1);
}

export function readMultiResults(r: JuteReader, toClient: (p: string) => string): OpResult[] {
  const out: OpResult[] = [];
  for (;;) {
    const type = r.int();
    const done = r.boolean();
    r.int(); // err: repeated in the ErrorResponse body
    if (done) break;
    switch (type) {
      case OpCode.create:
        out.push({ type: 'create', path: toClient(r.ustring()), stat: null });
        break;
      case OpCode.create2:
      case OpCode.createTTL:
      case OpCode.createContainer:
        out.push({ type: 'create', path: toClient(r.ustring()), stat: Stat.read(r) });
        break;
      case OpCode.delete:
        out.push({ type: 'delete' });
        break;
      case OpCode.setData:
        out.push({ type: 'setData', stat: Stat.read(r) });
        break;
      case OpCode.check:
        out.push({ type: 'check' });
        break;
      case OpCode.getChildren: {
        const n = r.length();
        const children: string[] = [];
        for (let i = 0; i < n; i++) children.push(r.ustring());
        out.push({ type: 'getChildren', children });
        break;
      }
      case OpCode.getData:
        out.push({ type: 'getData', data: r.buffer(), stat: Stat.read(r) });
        break;
      case OpCode.error:
        out.push({ type: 'error', err: r.int() });
        break;
      default:
        throw new Error(`invalid type ${type} in multi response`);
    }
  }
  return out;
}
