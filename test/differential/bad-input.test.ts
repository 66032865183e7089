/**
 * Bad input, compared: a fixed list of malformed or invalid inputs (oversized and negative
 * frame lengths, requests before ConnectRequest, unknown opcodes, truncated bodies, invalid
 * paths, bad ACLs, bad auth, session timeouts out of range, unknown sessions) is sent on fresh
 * connections to the subject (tszk) and to Apache ZooKeeper 3.8; what comes back (reply xids,
 * error codes, body sizes, and whether the connection was closed) must be the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JuteWriter } from '../../src/jute/index.js';
import { CreateMode, OpCode, Perms, Xid } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';
import { JUTE_MAXBUFFER_DEFAULT_BYTES } from '../../src/server/options.js';
import { body, decodeConnectResponse, decodeIncoming, encodeConnect, encodeRequest, multiBody, RawConnection, rawBytes } from '../support/raw-client.js';
import { skipUnless, startTarget, targetKind, targetMissing, type Target } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';

/** What a server did with one input: what it sent back, and whether it hung up. */
interface Outcome {
  replies: string[];
  closed: boolean;
}

/** A case is over when the server closed the connection or stayed quiet this long. */
const QUIET_MS = 400;
const open = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

function frame(payload: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(payload.length, 0);
  return Buffer.concat([len, payload]);
}

function lengthOnly(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(n, 0);
  return b;
}

interface Case {
  name: string;
  /** Do a normal handshake first. */
  handshake: boolean;
  bytes: () => Buffer;
  /** The first frame back is a ConnectResponse (pre-handshake cases). */
  connectReply?: boolean;
  /** Where ZooKeeper's own outcome depends on timing: every outcome it can give; both servers must give one of them. */
  alsoAccept?: Outcome[];
}

const CASES: Case[] = [
  { name: 'frame length over jute.maxbuffer before handshake', handshake: false, bytes: () => lengthOnly(JUTE_MAXBUFFER_DEFAULT_BYTES + 1) },
  { name: 'negative frame length before handshake', handshake: false, bytes: () => lengthOnly(-5) },
  {
    name: 'getData before ConnectRequest',
    handshake: false,
    bytes: () => frame(encodeRequest(1, OpCode.getData, body(R.GetDataRequest, { path: '/', watch: false }))),
  },
  { name: 'truncated ConnectRequest', handshake: false, bytes: () => frame(encodeConnect().subarray(0, 10)) },
  {
    name: 'ConnectRequest for an unknown session',
    handshake: false,
    connectReply: true,
    bytes: () => frame(encodeConnect({ sessionId: 0x1234567n, passwd: Buffer.alloc(16) })),
  },
  { name: 'ConnectRequest with timeout 1 ms', handshake: false, connectReply: true, bytes: () => frame(encodeConnect({ timeOut: 1 })) },
  { name: 'ConnectRequest with timeout 10^9 ms', handshake: false, connectReply: true, bytes: () => frame(encodeConnect({ timeOut: 1_000_000_000 })) },
  { name: 'ConnectRequest with negative timeout', handshake: false, connectReply: true, bytes: () => frame(encodeConnect({ timeOut: -1 })) },
  { name: 'ConnectRequest with a short password', handshake: false, connectReply: true, bytes: () => frame(encodeConnect({ passwd: Buffer.alloc(3) })) },
  { name: 'ConnectRequest without the readOnly byte', handshake: false, connectReply: true, bytes: () => frame(encodeConnect().subarray(0, -1)) },
  { name: 'ping before ConnectRequest', handshake: false, bytes: () => frame(encodeRequest(Xid.ping, OpCode.ping)) },
  { name: 'ConnectRequest with protocolVersion 7', handshake: false, connectReply: true, bytes: () => frame(encodeConnect({ protocolVersion: 7 })) },
  { name: 'ruok after handshake', handshake: true, bytes: () => Buffer.from('ruok') },
  {
    name: 'SetWatches2 with a vector count of 2^30',
    handshake: true,
    bytes: () => frame(Buffer.concat([encodeRequest(Xid.setWatches, OpCode.setWatches2), Buffer.alloc(8), int32(1 << 30)])),
  },
  {
    name: 'getData with a null path (length -1)',
    handshake: true,
    bytes: () => frame(Buffer.concat([encodeRequest(1, OpCode.getData), int32(-1), Buffer.from([0])])),
  },
  {
    name: 'exists with watch byte 2',
    handshake: true,
    bytes: () => frame(Buffer.concat([encodeRequest(1, OpCode.exists), int32(1), Buffer.from('/'), Buffer.from([2])])),
  },
  { name: 'frame length over jute.maxbuffer after handshake', handshake: true, bytes: () => lengthOnly(JUTE_MAXBUFFER_DEFAULT_BYTES + 1) },
  { name: 'negative frame length after handshake', handshake: true, bytes: () => lengthOnly(-1) },
  { name: 'unknown opcode 50', handshake: true, bytes: () => frame(encodeRequest(1, 50)) },
  { name: 'unknown opcode 999 with a body', handshake: true, bytes: () => frame(encodeRequest(1, 999, body(R.GetDataRequest, { path: '/', watch: false }))) },
  { name: 'opcode createSession from a client', handshake: true, bytes: () => frame(encodeRequest(1, OpCode.createSession)) },
  { name: 'getData with no body', handshake: true, bytes: () => frame(encodeRequest(1, OpCode.getData)) },
  {
    name: 'create with a truncated body',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.create, body(R.CreateRequest, { path: '/t', data: null, acl: open, flags: 0 })).subarray(0, 16)),
  },
  {
    name: 'create with a relative path',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.create, body(R.CreateRequest, { path: 'rel', data: null, acl: open, flags: 0 }))),
  },
  {
    name: 'create /',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.create, body(R.CreateRequest, { path: '/', data: null, acl: open, flags: 0 }))),
  },
  {
    name: 'create with an empty path',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.create, body(R.CreateRequest, { path: '', data: null, acl: open, flags: 0 }))),
  },
  {
    name: 'create under /zookeeper',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.create, body(R.CreateRequest, { path: '/zookeeper/x', data: null, acl: open, flags: 0 }))),
  },
  {
    name: 'delete /zookeeper',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.delete, body(R.DeleteRequest, { path: '/zookeeper', version: -1 }))),
  },
  { name: 'delete /', handshake: true, bytes: () => frame(encodeRequest(1, OpCode.delete, body(R.DeleteRequest, { path: '/', version: -1 }))) },
  {
    name: 'getData with a NUL in the path',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.getData, body(R.GetDataRequest, { path: '/a\u0000b', watch: false }))),
  },
  {
    name: 'getChildren with an empty path',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.getChildren, body(R.GetChildrenRequest, { path: '', watch: true }))),
  },
  { name: 'sync with a relative path', handshake: true, bytes: () => frame(encodeRequest(1, OpCode.sync, body(R.SyncRequest, { path: 'x' }))) },
  {
    name: 'create with an empty ACL',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.create, body(R.CreateRequest, { path: '/bad-acl', data: null, acl: [], flags: 0 }))),
  },
  {
    name: 'create with a digest ACL lacking a colon',
    handshake: true,
    bytes: () =>
      frame(
        encodeRequest(
          1,
          OpCode.create,
          body(R.CreateRequest, { path: '/bad-acl', data: null, acl: [{ perms: Perms.ALL, id: { scheme: 'digest', id: 'nocolon' } }], flags: 0 }),
        ),
      ),
  },
  {
    name: 'create with perms beyond ALL',
    handshake: true,
    bytes: () =>
      frame(
        encodeRequest(
          1,
          OpCode.create,
          body(R.CreateRequest, { path: '/big-perms', data: null, acl: [{ perms: 0x7fffffff, id: { scheme: 'world', id: 'anyone' } }], flags: 0 }),
        ),
      ),
  },
  {
    name: 'create with world:someone',
    handshake: true,
    bytes: () =>
      frame(
        encodeRequest(
          1,
          OpCode.create,
          body(R.CreateRequest, { path: '/bad-acl', data: null, acl: [{ perms: Perms.ALL, id: { scheme: 'world', id: 'someone' } }], flags: 0 }),
        ),
      ),
  },
  {
    name: 'create with unknown flags 99',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.create, body(R.CreateRequest, { path: '/bad-flags', data: null, acl: open, flags: 99 }))),
  },
  {
    name: 'createTTL with ttl 0',
    handshake: true,
    bytes: () =>
      frame(
        encodeRequest(1, OpCode.createTTL, body(R.CreateTTLRequest, { path: '/ttl0', data: null, acl: open, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 0n })),
      ),
  },
  {
    name: 'createTTL with ttl over the maximum',
    handshake: true,
    bytes: () =>
      frame(
        encodeRequest(
          1,
          OpCode.createTTL,
          body(R.CreateTTLRequest, { path: '/ttlmax', data: null, acl: open, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 1n << 41n }),
        ),
      ),
  },
  {
    name: 'setACL with an empty ACL',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.setACL, body(R.SetACLRequest, { path: '/', acl: [], version: -1 }))),
  },
  {
    name: 'auth with an unknown scheme',
    handshake: true,
    bytes: () => frame(encodeRequest(Xid.auth, OpCode.auth, body(R.AuthPacket, { type: 0, scheme: 'nosuch', auth: Buffer.from('x') }))),
  },
  {
    name: 'digest auth without a colon',
    handshake: true,
    bytes: () => frame(encodeRequest(Xid.auth, OpCode.auth, body(R.AuthPacket, { type: 0, scheme: 'digest', auth: Buffer.from('nocolon') }))),
  },
  { name: 'a second ConnectRequest', handshake: true, bytes: () => frame(encodeConnect()) },
  { name: 'multi with an unknown op type', handshake: true, bytes: () => frame(encodeRequest(1, OpCode.multi, body(rawBytes, multiWithType(99)))) },
  {
    name: 'multi mixing a read into writes',
    handshake: true,
    bytes: () =>
      frame(
        encodeRequest(
          1,
          OpCode.multi,
          multiBody([
            { type: OpCode.create, req: { path: '/mix', data: null, acl: open, flags: 0 } },
            { type: OpCode.getData, req: { path: '/', watch: false } },
          ]),
        ),
      ),
  },
  {
    name: 'multiRead containing a write',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.multiRead, multiBody([{ type: OpCode.create, req: { path: '/mr', data: null, acl: open, flags: 0 } }]))),
  },
  {
    name: 'multi without the done header',
    handshake: true,
    bytes: () => frame(encodeRequest(1, OpCode.multi, body(rawBytes, R.MultiHeader.encode({ type: OpCode.check, done: false, err: -1 })))),
  },
  {
    name: 'setData just under jute.maxbuffer',
    handshake: true,
    bytes: () =>
      frame(encodeRequest(1, OpCode.setData, body(R.SetDataRequest, { path: '/', data: Buffer.alloc(JUTE_MAXBUFFER_DEFAULT_BYTES - 64), version: -1 }))),
  },
  {
    name: 'setData with a string length past the frame',
    handshake: true,
    bytes: () => frame(Buffer.concat([encodeRequest(1, OpCode.setData), int32(1000), Buffer.from('/x')])),
  },
  // ZooKeeper races here: the request behind closeSession is answered SessionExpired only if
  // it is read before the close completes. Either of its outcomes is right.
  {
    name: 'request after closeSession',
    handshake: true,
    alsoAccept: [
      { replies: ['xid=1 err=0 body=0B'], closed: true },
      { replies: ['xid=1 err=0 body=0B', 'xid=2 err=-112 body=0B'], closed: true },
    ],
    bytes: () =>
      Buffer.concat([frame(encodeRequest(1, OpCode.closeSession)), frame(encodeRequest(2, OpCode.exists, body(R.ExistsRequest, { path: '/', watch: false })))]),
  },
  {
    name: 'reply order: a bad request between good ones',
    handshake: true,
    bytes: () =>
      Buffer.concat([
        frame(encodeRequest(1, OpCode.exists, body(R.ExistsRequest, { path: '/', watch: false }))),
        frame(encodeRequest(2, OpCode.exists, body(R.ExistsRequest, { path: 'bad', watch: false }))),
        frame(encodeRequest(3, OpCode.exists, body(R.ExistsRequest, { path: '/zookeeper', watch: false }))),
      ]),
  },
];

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

function multiWithType(type: number): Buffer {
  const w = new JuteWriter();
  R.MultiHeader.write(w, { type, done: false, err: -1 });
  R.GetDataRequest.write(w, { path: '/', watch: false });
  R.MultiHeader.write(w, { type: -1, done: true, err: -1 });
  return Buffer.from(w.bytes());
}

async function run(port: number, c: Case): Promise<Outcome> {
  const conn = await RawConnection.open(port);
  try {
    if (c.handshake) await conn.handshake({ timeOut: 10_000 });
    conn.sendRaw(c.bytes());
    const replies: string[] = [];
    for (;;) {
      const f = await conn.nextFrame(QUIET_MS);
      if (f === null) break;
      if (c.connectReply && replies.length === 0) {
        const r = decodeConnectResponse(f);
        replies.push(`connect timeOut=${r.timeOut} session=${r.sessionId === 0n ? 0 : 'new'} passwd=${r.passwd?.length ?? -1} readOnly=${r.readOnly}`);
        continue;
      }
      try {
        const m = decodeIncoming(f);
        replies.push(m.kind === 'event' ? `event ${m.type} ${m.path}` : `xid=${m.xid} err=${m.err} body=${m.body.length}B`);
      } catch {
        replies.push(`undecodable ${f.length}B`);
      }
    }
    return { replies, closed: conn.closed };
  } finally {
    conn.close();
  }
}

const subjectKind = targetKind();

test(
  `bad input: ${subjectKind} answers (or hangs up) as ZooKeeper 3.8 does`,
  { skip: skipUnless(zookeeperMissing() ?? targetMissing(subjectKind)), timeout: 5 * 60_000 },
  async () => {
    const opts = { extendedTypes: true };
    const [subject, reference]: [Target, Target] = await Promise.all([startTarget(subjectKind, opts), startTarget('zookeeper', opts)]);
    try {
      const diffs: string[] = [];
      for (const c of CASES) {
        const [a, b] = await Promise.all([run(subject.port, c), run(reference.port, c)]);
        if (process.env['TSZK_BAD_INPUT_VERBOSE'] === '1') console.log(`# ${c.name}: ${JSON.stringify(b)}`);
        const same =
          JSON.stringify(a) === JSON.stringify(b) ||
          (c.alsoAccept !== undefined && [a, b].every((o) => c.alsoAccept!.some((x) => JSON.stringify(x) === JSON.stringify(o))));
        if (!same) diffs.push(`${c.name}:\n    ${subjectKind}: ${JSON.stringify(a)}\n    zookeeper: ${JSON.stringify(b)}`);
      }
      assert.ok(subject.alive(), `${subjectKind} exited`);
      assert.ok(reference.alive(), 'ZooKeeper exited');
      console.log(`# bad input: ${CASES.length} cases compared, ${diffs.length} differ`);
      assert.deepEqual(diffs, [], `${diffs.length} of ${CASES.length} bad inputs handled differently:\n  ${diffs.join('\n  ')}`);
    } finally {
      await Promise.all([subject.stop(), reference.stop()]);
    }
  },
);
