/**
 * Replays one op sequence against one server over raw protocol sessions and returns a
 * normalised transcript: per op the reply (error code, header zxid, decoded body) and the watch
 * events each session received, with zxids renumbered by first appearance, session ids replaced
 * by their index, times reduced to "zero / plausible", and the sequence prefix replaced by "~".
 */
import crypto from 'node:crypto';
import { JuteReader, type RecordType } from '../../src/jute/index.js';
import { OpCode, Perms, Xid } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';
import { body, decodeMultiResponse, multiBody, RawSession, type Body, type Incoming, type MultiOp } from '../support/raw-client.js';
import type { AclChoice, DataChoice, MultiSubOp, Op, RelPath, SessionIx } from './ops.js';

export const DIGEST_AUTH = 'u0:p0';
const DIGEST_ID = `u0:${crypto.createHash('sha1').update(DIGEST_AUTH).digest('base64')}`;
/** Times more than this away from the run's wall clock are reported raw (they would be wrong). */
const TIME_SLACK_MS = 10 * 60_000;

export function aclFor(c: AclChoice): R.ACL[] {
  const anyone = { scheme: 'world', id: 'anyone' };
  switch (c) {
    case 'open':
      return [{ perms: Perms.ALL, id: anyone }];
    case 'read':
      return [{ perms: Perms.READ, id: anyone }];
    case 'creator':
      return [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }];
    case 'digest':
      return [{ perms: Perms.ALL, id: { scheme: 'digest', id: DIGEST_ID } }];
    case 'mixed':
      return [
        { perms: Perms.READ, id: anyone },
        { perms: Perms.ALL & ~Perms.READ, id: { scheme: 'digest', id: DIGEST_ID } },
      ];
    case 'badScheme':
      return [{ perms: Perms.ALL, id: { scheme: 'nosuchscheme', id: 'x' } }];
    case 'empty':
      return [];
    case 'ipLocal':
      return [{ perms: Perms.ALL, id: { scheme: 'ip', id: '127.0.0.1' } }];
    case 'ipOther':
      return [{ perms: Perms.ALL, id: { scheme: 'ip', id: '10.0.0.0/8' } }];
    case 'ipBad':
      return [{ perms: Perms.ALL, id: { scheme: 'ip', id: '999.1.2.3' } }];
    case 'zeroPerms':
      return [{ perms: 0, id: anyone }];
  }
}

function dataOf(d: DataChoice): Buffer | null {
  return d === null ? null : Buffer.from(d);
}

/** Renumbers zxids, session ids and times so two servers' transcripts can be compared exactly. */
export class Normaliser {
  private zxids = new Map<bigint, number>();
  readonly sessions = new Map<bigint, string>();
  constructor(
    readonly prefix: string,
    private readonly t0_ms: number,
  ) {}

  zxid(z: bigint): string | number {
    if (z === 0n || z === -1n) return Number(z);
    let n = this.zxids.get(z);
    if (n === undefined) {
      n = this.zxids.size + 1;
      this.zxids.set(z, n);
    }
    return `z${n}`;
  }

  time(t: bigint): string {
    if (t === 0n) return '0';
    const ms = Number(t);
    return Math.abs(ms - this.t0_ms) < TIME_SLACK_MS ? 'now' : `raw:${t}`;
  }

  owner(o: bigint): string {
    if (o === 0n) return '0';
    return this.sessions.get(o) ?? `owner:${BigInt.asUintN(64, o).toString(16)}`;
  }

  path(p: string): string {
    if (p === this.prefix) return '~';
    if (p.startsWith(this.prefix + '/')) return '~' + p.slice(this.prefix.length);
    return p;
  }

  stat(s: R.Stat): Record<string, unknown> {
    return {
      czxid: this.zxid(s.czxid),
      mzxid: this.zxid(s.mzxid),
      pzxid: this.zxid(s.pzxid),
      ctime: this.time(s.ctime),
      mtime: this.time(s.mtime),
      version: s.version,
      cversion: s.cversion,
      aversion: s.aversion,
      ephemeralOwner: this.owner(s.ephemeralOwner),
      dataLength: s.dataLength,
      numChildren: s.numChildren,
    };
  }

  event(e: Incoming): unknown {
    if (e.kind !== 'event') return { unexpectedReply: e.xid };
    return { type: e.type, state: e.state, path: this.path(e.path), zxid: this.zxid(e.zxid) };
  }
}

function data(b: Buffer | null): string | null {
  return b === null ? null : b.toString('latin1');
}

/** Decodes exactly one record; anything left over or missing is reported with the raw bytes. */
function decodeExact<T>(rec: RecordType<T>, b: Buffer): T | { undecodable: string } {
  try {
    const r = new JuteReader(b);
    const v = rec.read(r);
    if (r.remaining !== 0) return { undecodable: b.toString('hex') };
    return v;
  } catch {
    return { undecodable: b.toString('hex') };
  }
}

function isUndecodable(v: unknown): v is { undecodable: string } {
  return typeof v === 'object' && v !== null && 'undecodable' in v;
}

function request(op: Op, abs: (p: RelPath) => string): { type: number; bodies: Body<unknown>[] } {
  switch (op.t) {
    case 'create': {
      const base = { path: abs(op.path), data: dataOf(op.data), acl: aclFor(op.acl), flags: op.mode };
      if (op.opcode === OpCode.createTTL) return { type: op.opcode, bodies: [body(R.CreateTTLRequest, { ...base, ttl: BigInt(op.ttl) })] };
      return { type: op.opcode, bodies: [body(R.CreateRequest, base)] };
    }
    case 'delete':
      return { type: OpCode.delete, bodies: [body(R.DeleteRequest, { path: abs(op.path), version: op.version })] };
    case 'setData':
      return { type: OpCode.setData, bodies: [body(R.SetDataRequest, { path: abs(op.path), data: dataOf(op.data), version: op.version })] };
    case 'exists':
      return { type: OpCode.exists, bodies: [body(R.ExistsRequest, { path: abs(op.path), watch: op.watch })] };
    case 'getData':
      return { type: OpCode.getData, bodies: [body(R.GetDataRequest, { path: abs(op.path), watch: op.watch })] };
    case 'getChildren':
      return { type: OpCode.getChildren, bodies: [body(R.GetChildrenRequest, { path: abs(op.path), watch: op.watch })] };
    case 'getChildren2':
      return { type: OpCode.getChildren2, bodies: [body(R.GetChildren2Request, { path: abs(op.path), watch: op.watch })] };
    case 'getACL':
      return { type: OpCode.getACL, bodies: [body(R.GetACLRequest, { path: abs(op.path) })] };
    case 'setACL':
      return { type: OpCode.setACL, bodies: [body(R.SetACLRequest, { path: abs(op.path), acl: aclFor(op.acl), version: op.version })] };
    case 'sync':
      return { type: OpCode.sync, bodies: [body(R.SyncRequest, { path: abs(op.path) })] };
    case 'multi':
      return { type: OpCode.multi, bodies: [multiBody(op.ops.map((m) => multiOp(m, abs)))] };
    case 'multiRead':
      return {
        type: OpCode.multiRead,
        bodies: [
          multiBody(
            op.ops.map((m): MultiOp =>
              m.t === 'getData'
                ? { type: OpCode.getData, req: { path: abs(m.path), watch: false } }
                : { type: OpCode.getChildren, req: { path: abs(m.path), watch: false } },
            ),
          ),
        ],
      };
    case 'addWatch':
      return { type: OpCode.addWatch, bodies: [body(R.AddWatchRequest, { path: abs(op.path), mode: op.mode })] };
    case 'checkWatches':
      return { type: OpCode.checkWatches, bodies: [body(R.CheckWatchesRequest, { path: abs(op.path), type: op.type })] };
    case 'removeWatches':
      return { type: OpCode.removeWatches, bodies: [body(R.RemoveWatchesRequest, { path: abs(op.path), type: op.type })] };
    case 'getAllChildrenNumber':
      return { type: OpCode.getAllChildrenNumber, bodies: [body(R.GetAllChildrenNumberRequest, { path: abs(op.path) })] };
    case 'getEphemerals':
      return { type: OpCode.getEphemerals, bodies: [body(R.GetEphemeralsRequest, { prefixPath: abs(op.path) })] };
    case 'whoAmI':
      return { type: OpCode.whoAmI, bodies: [] };
    case 'reconnect':
    case 'renew':
      throw new Error(`${op.t} is not a single request`);
  }
}

function multiOp(m: MultiSubOp, abs: (p: RelPath) => string): MultiOp {
  switch (m.t) {
    case 'create':
      return { type: m.opcode, req: { path: abs(m.path), data: dataOf(m.data), acl: aclFor(m.acl), flags: m.mode } };
    case 'delete':
      return { type: OpCode.delete, req: { path: abs(m.path), version: m.version } };
    case 'setData':
      return { type: OpCode.setData, req: { path: abs(m.path), data: dataOf(m.data), version: m.version } };
    case 'check':
      return { type: OpCode.check, req: { path: abs(m.path), version: m.version } };
  }
}

/** The reply body, decoded by what the op returns, then normalised. */
function result(op: Op, err: number, b: Buffer, n: Normaliser): unknown {
  if (b.length === 0) return null;
  const stat = (rec: RecordType<{ stat: R.Stat }>): unknown => {
    const v = decodeExact(rec, b);
    return isUndecodable(v) ? v : n.stat(v.stat);
  };
  switch (op.t) {
    case 'create': {
      if (op.opcode === OpCode.create) {
        const v = decodeExact(R.CreateResponse, b);
        return isUndecodable(v) ? v : { path: n.path(v.path) };
      }
      const v = decodeExact(R.Create2Response, b);
      return isUndecodable(v) ? v : { path: n.path(v.path), stat: n.stat(v.stat) };
    }
    case 'setData':
      return stat(R.SetDataResponse);
    case 'setACL':
      return stat(R.SetACLResponse);
    case 'exists':
      return stat(R.ExistsResponse);
    case 'getData': {
      const v = decodeExact(R.GetDataResponse, b);
      return isUndecodable(v) ? v : { data: data(v.data), stat: n.stat(v.stat) };
    }
    case 'getChildren': {
      const v = decodeExact(R.GetChildrenResponse, b);
      // ZooKeeper returns children in hash-set order, which clients cannot rely on: compare sorted.
      return isUndecodable(v) ? v : { children: [...v.children].sort() };
    }
    case 'getChildren2': {
      const v = decodeExact(R.GetChildren2Response, b);
      return isUndecodable(v) ? v : { children: [...v.children].sort(), stat: n.stat(v.stat) };
    }
    case 'getACL': {
      const v = decodeExact(R.GetACLResponse, b);
      return isUndecodable(v) ? v : { acl: v.acl, stat: n.stat(v.stat) };
    }
    case 'sync': {
      const v = decodeExact(R.SyncResponse, b);
      return isUndecodable(v) ? v : { path: n.path(v.path) };
    }
    case 'multi':
    case 'multiRead': {
      try {
        return decodeMultiResponse(b).map((r) => {
          switch (r.type) {
            case 'create':
              return { create: n.path(r.path) };
            case 'create2':
              return { create2: n.path(r.path), stat: n.stat(r.stat) };
            case 'setData':
              return { setData: n.stat(r.stat) };
            case 'getData':
              return { getData: data(r.data), stat: n.stat(r.stat) };
            case 'getChildren':
              return { getChildren: [...r.children].sort() };
            case 'error':
              return { error: r.err };
            default:
              return { [r.type]: true };
          }
        });
      } catch {
        return { undecodable: b.toString('hex') };
      }
    }
    case 'getAllChildrenNumber': {
      const v = decodeExact(R.GetAllChildrenNumberResponse, b);
      return isUndecodable(v) ? v : v.totalNumber;
    }
    case 'getEphemerals': {
      const v = decodeExact(R.GetEphemeralsResponse, b);
      // Unordered set in ZooKeeper: compare sorted.
      return isUndecodable(v) ? v : v.ephemerals.map((p) => n.path(p)).sort();
    }
    case 'whoAmI': {
      const v = decodeExact(R.WhoAmIResponse, b);
      return isUndecodable(v) ? v : v.clientInfo;
    }
    default:
      // Ops whose success reply has no body (delete, check, watches): any bytes are a difference.
      return { body: b.toString('hex'), err };
  }
}

export interface Step {
  op: string;
  reply: unknown;
  /** Events per session seen between this op's send and the barrier after it. */
  events: unknown[][];
}

/**
 * Runs ops with two fresh sessions under `prefix` (created here by `admin`). Returns one Step
 * per op plus a final step for closing session 0 (its ephemerals go, watchers of session 1 fire).
 */
export async function replay(port: number, admin: RawSession, prefix: string, ops: Op[]): Promise<Step[]> {
  const n = new Normaliser(prefix, Date.now());
  const mk = await admin.call(OpCode.create, body(R.CreateRequest, { path: prefix, data: null, acl: aclFor('open'), flags: 0 }));
  if (mk.err !== 0) throw new Error(`cannot create sequence prefix ${prefix}: err ${mk.err}`);
  const sessions: RawSession[] = [];
  const steps: Step[] = [];
  try {
    for (const ix of [0, 1] as const) {
      const s = await RawSession.open(port, { timeOut: 30_000 });
      sessions.push(s);
      n.sessions.set(s.sessionId, `S${ix}`);
    }
    const authErr = await sessions[0]!.addAuth('digest', DIGEST_AUTH);
    if (authErr !== 0) throw new Error(`digest auth failed: ${authErr}`);
    const abs = (p: RelPath): string => (p === '' ? prefix : p.startsWith('!') ? prefix + p.slice(1) : `${prefix}/${p}`);
    for (const op of ops) {
      const s = sessions[op.s]!;
      const events: unknown[][] = [[], []];
      let reply: unknown;
      if (s.conn.closed) {
        reply = 'connection closed';
      } else if (op.t === 'reconnect') {
        reply = await reconnect(port, sessions, op, abs, events, n);
      } else if (op.t === 'renew') {
        reply = await renew(port, sessions, op.s, n);
      } else {
        const { type, bodies } = request(op, abs);
        try {
          const r = await s.call(type, ...bodies);
          events[op.s]!.push(...r.events.map((e) => n.event(e)));
          reply = { err: r.err, zxid: n.zxid(r.zxid), result: result(op, r.err, r.body, n) };
        } catch (e) {
          reply = s.conn.closed ? 'connection closed' : `failed: ${(e as Error).message}`;
        }
      }
      await barrier(sessions, events, n);
      steps.push({ op: JSON.stringify(op), reply, events: op.t === 'renew' ? inPathOrder(events) : events });
    }
    // Closing session 0 deletes its ephemerals: session 1's watches see it.
    const events: unknown[][] = [[], []];
    await sessions[0]!.close();
    await barrier(sessions, events, n);
    steps.push({ op: 'closeSession S0', reply: null, events: inPathOrder(events) });
  } finally {
    for (const s of sessions) await s.close();
  }
  return steps;
}

/**
 * ZooKeeper deletes a closed session's ephemerals in Java hash-set order, which no client can
 * rely on: such events are compared in a stable order by path (each path's own events keep
 * their order).
 */
function inPathOrder(events: unknown[][]): unknown[][] {
  const byPath = (e: unknown): string => (typeof e === 'object' && e !== null && 'path' in e ? String(e.path) : '');
  return events.map((evs) => [...evs].sort((x, y) => (byPath(x) < byPath(y) ? -1 : byPath(x) > byPath(y) ? 1 : 0)));
}

/** Closes session ix and opens a fresh one in its place (named S<ix>', S<ix>'', ...). */
async function renew(port: number, sessions: RawSession[], ix: SessionIx, n: Normaliser): Promise<unknown> {
  const old = sessions[ix]!;
  const r = await old.call(OpCode.closeSession);
  old.conn.close();
  const fresh = await RawSession.open(port, { timeOut: 30_000 });
  sessions[ix] = fresh;
  n.sessions.set(fresh.sessionId, `${n.sessions.get(old.sessionId) ?? `S${ix}`}'`);
  if (ix === 0) {
    const authErr = await fresh.addAuth('digest', DIGEST_AUTH);
    if (authErr !== 0) return { closeErr: r.err, authErr };
  }
  return { closeErr: r.err, zxid: n.zxid(r.zxid) };
}

/** Resumes session op.s on a new connection and re-registers watches with SetWatches2. */
async function reconnect(
  port: number,
  sessions: RawSession[],
  op: Extract<Op, { t: 'reconnect' }>,
  abs: (p: RelPath) => string,
  events: unknown[][],
  n: Normaliser,
): Promise<unknown> {
  const old = sessions[op.s]!;
  const relativeZxid = op.relativeToLast ? old.lastZxid : 0n;
  const { session, resp } = await old.resume(port);
  sessions[op.s] = session;
  const connect = { timeOut: resp.timeOut, sameSession: resp.sessionId === old.sessionId, passwd: resp.passwd?.length ?? -1 };
  if (resp.sessionId === 0n) {
    session.conn.close();
    return { connect };
  }
  if (op.s === 0) {
    const authErr = await session.addAuth('digest', DIGEST_AUTH);
    if (authErr !== 0) return { connect, authErr };
  }
  const w = op.watches;
  session.conn.send(
    Xid.setWatches,
    OpCode.setWatches2,
    body(R.SetWatches2, {
      relativeZxid,
      dataWatches: w.data.map(abs),
      existWatches: w.exist.map(abs),
      childWatches: w.child.map(abs),
      persistentWatches: w.persistent.map(abs),
      persistentRecursiveWatches: w.recursive.map(abs),
    }),
  );
  const { events: evs, reply } = await session.conn.until(Xid.setWatches);
  events[op.s]!.push(...evs.map((e) => n.event(e)));
  return { connect, setWatches: { err: reply.err, zxid: n.zxid(reply.zxid), body: reply.body.toString('hex') } };
}

/** A ping on every open session: replies come after every notification already queued for it. */
async function barrier(sessions: RawSession[], events: unknown[][], n: Normaliser): Promise<void> {
  for (let i = 0; i < sessions.length; i++) {
    const s = sessions[i]!;
    if (s.conn.closed) continue;
    try {
      const evs = await s.ping();
      events[i as SessionIx]!.push(...evs.map((e) => n.event(e)));
    } catch (e) {
      events[i as SessionIx]!.push(`ping failed: ${(e as Error).message}`);
    }
  }
}
