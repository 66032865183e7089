/**
 * Inputs for the fuzz suite: a corpus of valid request frames (after a handshake) and the
 * mutations applied to them, driven by a small seeded PRNG so a failing seed replays.
 */
import { AddWatchMode, CreateMode, OpCode, Perms, WatcherType, Xid } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';
import { JUTE_MAXBUFFER_DEFAULT_BYTES } from '../../src/server/options.js';
import { body, encodeConnect, encodeRequest, multiBody, type Body } from '../support/raw-client.js';

/** mulberry32: tiny, fast, deterministic. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export function frame(payload: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(payload.length, 0);
  return Buffer.concat([len, payload]);
}

const open = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

/** Valid request payloads (no length prefix) touching the protected /fuzz tree and /scratch. */
export function validRequests(): Buffer[] {
  const reqs: Array<[number, number, Body<unknown>[]]> = [
    [1, OpCode.getData, [body(R.GetDataRequest, { path: '/fuzz/a', watch: true })]],
    [2, OpCode.exists, [body(R.ExistsRequest, { path: '/fuzz/b', watch: true })]],
    [3, OpCode.getChildren2, [body(R.GetChildren2Request, { path: '/fuzz', watch: true })]],
    [4, OpCode.create, [body(R.CreateRequest, { path: '/fuzz/new', data: Buffer.from('n'), acl: open, flags: CreateMode.PERSISTENT })]],
    [5, OpCode.create2, [body(R.CreateRequest, { path: '/scratch/x', data: Buffer.from('x'), acl: open, flags: CreateMode.EPHEMERAL_SEQUENTIAL })]],
    [6, OpCode.setData, [body(R.SetDataRequest, { path: '/fuzz/a', data: Buffer.from('changed'), version: -1 })]],
    [7, OpCode.delete, [body(R.DeleteRequest, { path: '/fuzz/b', version: -1 })]],
    [8, OpCode.setACL, [body(R.SetACLRequest, { path: '/fuzz/a', acl: open, version: -1 })]],
    [9, OpCode.getACL, [body(R.GetACLRequest, { path: '/fuzz' })]],
    [10, OpCode.sync, [body(R.SyncRequest, { path: '/fuzz' })]],
    [11, OpCode.addWatch, [body(R.AddWatchRequest, { path: '/fuzz', mode: AddWatchMode.PERSISTENT_RECURSIVE })]],
    [12, OpCode.checkWatches, [body(R.CheckWatchesRequest, { path: '/fuzz/a', type: WatcherType.Data })]],
    [13, OpCode.removeWatches, [body(R.RemoveWatchesRequest, { path: '/fuzz', type: WatcherType.Any })]],
    [14, OpCode.getEphemerals, [body(R.GetEphemeralsRequest, { prefixPath: '/' })]],
    [15, OpCode.getAllChildrenNumber, [body(R.GetAllChildrenNumberRequest, { path: '/fuzz' })]],
    [16, OpCode.whoAmI, []],
    [17, OpCode.createTTL, [body(R.CreateTTLRequest, { path: '/scratch/ttl', data: null, acl: open, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000n })]],
    [18, OpCode.createContainer, [body(R.CreateRequest, { path: '/scratch/c', data: null, acl: open, flags: CreateMode.CONTAINER })]],
    [
      19,
      OpCode.multi,
      [
        multiBody([
          { type: OpCode.create, req: { path: '/fuzz/m', data: null, acl: open, flags: 0 } },
          { type: OpCode.setData, req: { path: '/fuzz/a', data: Buffer.from('m'), version: -1 } },
          { type: OpCode.check, req: { path: '/fuzz', version: 0 } },
        ]),
      ],
    ],
    [
      20,
      OpCode.multiRead,
      [
        multiBody([
          { type: OpCode.getData, req: { path: '/fuzz/a', watch: false } },
          { type: OpCode.getChildren, req: { path: '/fuzz', watch: false } },
        ]),
      ],
    ],
    [
      Xid.setWatches,
      OpCode.setWatches2,
      [
        body(R.SetWatches2, {
          relativeZxid: 0n,
          dataWatches: ['/fuzz/a'],
          existWatches: ['/fuzz/none'],
          childWatches: ['/fuzz'],
          persistentWatches: ['/fuzz'],
          persistentRecursiveWatches: ['/'],
        }),
      ],
    ],
    [Xid.setWatches, OpCode.setWatches, [body(R.SetWatches, { relativeZxid: 0n, dataWatches: ['/fuzz/a'], existWatches: [], childWatches: ['/fuzz'] })]],
    [Xid.auth, OpCode.auth, [body(R.AuthPacket, { type: 0, scheme: 'digest', auth: Buffer.from('mallory:guess') })]],
    [Xid.ping, OpCode.ping, []],
    // Well-formed but invalid: bad paths and ACLs, so mutations also explore around the checks.
    [22, OpCode.create, [body(R.CreateRequest, { path: 'relative', data: null, acl: open, flags: 0 })]],
    [23, OpCode.create, [body(R.CreateRequest, { path: '/scratch/bad//path', data: null, acl: open, flags: 0 })]],
    [24, OpCode.create, [body(R.CreateRequest, { path: '/scratch/noacl', data: null, acl: [], flags: 0 })]],
    [
      25,
      OpCode.create,
      [body(R.CreateRequest, { path: '/scratch/badacl', data: null, acl: [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'nocolon' } }], flags: 0 })],
    ],
    [26, OpCode.setACL, [body(R.SetACLRequest, { path: '/scratch', acl: [{ perms: 99, id: { scheme: 'ip', id: '300.1.1.1/77' } }], version: -1 })]],
    [27, OpCode.getData, [body(R.GetDataRequest, { path: '/scratch/\u0000', watch: true })]],
    [21, OpCode.closeSession, []],
  ];
  return reqs.map(([xid, type, bodies]) => encodeRequest(xid, type, ...bodies));
}

export type FuzzCase =
  /** Bytes sent as they are on a fresh connection (no handshake first). */
  | { kind: 'preHandshake'; what: string; bytes: Buffer; expectClose: boolean }
  /** A valid handshake, then these bytes. */
  | { kind: 'afterHandshake'; what: string; bytes: Buffer; expectClose: boolean };

/** Mutations of a valid frame (4-byte length + payload). */
function mutate(rng: Rng, payload: Buffer): { what: string; bytes: Buffer } {
  const f = frame(payload);
  switch (rng.int(9)) {
    case 0: {
      const b = Buffer.from(f);
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) {
        const at = 4 + rng.int(Math.max(1, b.length - 4));
        if (at < b.length) b[at]! ^= 1 << rng.int(8);
      }
      return { what: `bit flips in payload`, bytes: b };
    }
    case 1: {
      // Length prefix fixed up: a well-formed frame with garbage inside.
      const p = Buffer.from(payload);
      const n = 1 + rng.int(6);
      for (let i = 0; i < n; i++) if (p.length > 0) p[rng.int(p.length)] = rng.int(256);
      return { what: 'random bytes inside a well-formed frame', bytes: frame(p) };
    }
    case 2:
      return { what: 'truncated payload, fixed-up length', bytes: frame(payload.subarray(0, rng.int(payload.length))) };
    case 3:
      return { what: 'truncated frame (length promises more)', bytes: f.subarray(0, 4 + rng.int(payload.length)) };
    case 4: {
      const extra = rng.bytes(1 + rng.int(16));
      return { what: 'trailing junk inside the frame', bytes: frame(Buffer.concat([payload, extra])) };
    }
    case 5: {
      const b = Buffer.from(f);
      b.writeInt32BE(rng.int(payload.length + 64), 0);
      return { what: 'wrong length prefix', bytes: b };
    }
    case 6: {
      const p = Buffer.from(payload);
      if (p.length >= 8) p.writeInt32BE(rng.pick([0, 10, 23, 50, 99, 108, 999, -2, -12, -100, 0x7fffffff, -0x80000000]), 4);
      return { what: 'unknown or misplaced opcode', bytes: frame(p) };
    }
    case 7: {
      // A string/vector length inside the record replaced by something absurd.
      const p = Buffer.from(payload);
      if (p.length >= 12) p.writeInt32BE(rng.pick([-2, -1000, 0x7fffffff, JUTE_MAXBUFFER_DEFAULT_BYTES + 1, 1 << 30]), 8);
      return { what: 'absurd length inside the record', bytes: frame(p) };
    }
    default:
      return { what: 'two frames back to back, second bit-flipped', bytes: Buffer.concat([f, mutate(rng, payload).bytes]) };
  }
}

/** One random case. */
export function randomCase(rng: Rng, valid: readonly Buffer[]): FuzzCase {
  const r = rng.int(100);
  if (r < 10) return { kind: 'preHandshake', what: 'random bytes', bytes: rng.bytes(rng.int(200)), expectClose: false };
  if (r < 15) {
    const { what, bytes } = mutate(rng, encodeConnect({ timeOut: 4000 }));
    return { kind: 'preHandshake', what: `mutated ConnectRequest: ${what}`, bytes, expectClose: false };
  }
  if (r < 20) return { kind: 'preHandshake', what: 'a request before ConnectRequest', bytes: frame(rng.pick(valid)), expectClose: false };
  if (r < 24) {
    const len = rng.pick([JUTE_MAXBUFFER_DEFAULT_BYTES + 1, JUTE_MAXBUFFER_DEFAULT_BYTES * 4, 0x7fffffff, -1, -100]);
    const b = Buffer.alloc(8);
    b.writeInt32BE(len, 0);
    return { kind: 'preHandshake', what: `frame length ${len} before handshake`, bytes: b, expectClose: true };
  }
  if (r < 30) {
    const len = rng.pick([JUTE_MAXBUFFER_DEFAULT_BYTES + 1, JUTE_MAXBUFFER_DEFAULT_BYTES * 4, 0x7fffffff, -1, -100]);
    const b = Buffer.alloc(12);
    b.writeInt32BE(len, 0);
    return { kind: 'afterHandshake', what: `frame length ${len} after handshake`, bytes: b, expectClose: true };
  }
  if (r < 35) return { kind: 'afterHandshake', what: 'random bytes', bytes: rng.bytes(rng.int(300)), expectClose: false };
  if (r < 38) return { kind: 'afterHandshake', what: 'a second ConnectRequest', bytes: frame(encodeConnect({ timeOut: 4000 })), expectClose: false };
  const { what, bytes } = mutate(rng, rng.pick(valid));
  return { kind: 'afterHandshake', what: `mutated request: ${what}`, bytes, expectClose: false };
}
