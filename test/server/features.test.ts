import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runFourLetterWord } from '../../src/admin/fourLetterWords.js';
import { startStandaloneServer, type StandaloneServer } from '../../src/server/standalone.js';
import { defaultServerOptions } from '../../src/server/options.js';
import { sessionPassword, initialSessionId } from '../../src/server/sessionIds.js';
import { OpCode, Perms } from '../../src/proto/opcodes.js';
import { Err } from '../../src/proto/errors.js';
import * as R from '../../src/proto/records.js';
import { generateDigest } from '../../src/txn/auth.js';
import { RawConnection, RawSession, body, decodeAs } from '../support/raw-client.js';
import { fourLetter, freePort } from '../support/ports.js';

const OPEN = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const create = (path: string, flags = 0, acl = OPEN) => body(R.CreateRequest, { path, data: Buffer.from('d'), acl, flags });
let server: StandaloneServer;
let port: number;

before(async () => {
  port = await freePort();
  server = await startStandaloneServer(
    defaultServerOptions({
      clientPort: port,
      clientPortAddress: '127.0.0.1',
      tickTime_ms: 100,
      maxClientCnxns: 5,
      juteMaxBuffer_bytes: 4096,
      fourLetterWhitelist: new Set(['srvr', 'ruok']),
      extendedTypesEnabled: true,
      containerCheckInterval_ms: 100,
      superDigest: generateDigest('super:secret'),
    }),
    { fourLetterWords: runFourLetterWord },
  );
});
after(async () => server.close());

async function until(cond: () => Promise<boolean>, timeout_ms = 5000): Promise<boolean> {
  const end = Date.now() + timeout_ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test('session ids carry server id 1 in the high byte; passwords are Java Random of id ^ 0xB3415C00', async () => {
  const s = await RawSession.open(port);
  assert.equal(s.sessionId >> 56n, 1n);
  assert.deepEqual(s.passwd, sessionPassword(s.sessionId));
  // java.util.Random(0 ^ 0xB3415C00).nextBytes is fixed; this pins the LCG against regressions.
  assert.equal(sessionPassword(0n).length, 16);
  assert.notDeepEqual(sessionPassword(1n), sessionPassword(2n));
  assert.equal(initialSessionId(1, 0n), 1n << 56n);
  await s.close();
});

test('containers are reaped once emptied; TTL nodes once expired', async () => {
  const s = await RawSession.open(port);
  assert.equal((await s.call(OpCode.createContainer, create('/box', 4))).err, 0);
  assert.equal((await s.call(OpCode.create, create('/box/x'))).err, 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await s.call(OpCode.exists, body(R.ExistsRequest, { path: '/box', watch: false }))).err, 0, 'kept while it has a child');
  await s.call(OpCode.delete, body(R.DeleteRequest, { path: '/box/x', version: -1 }));
  assert.ok(await until(async () => (await s.call(OpCode.exists, body(R.ExistsRequest, { path: '/box', watch: false }))).err === Err.NoNode));
  const ttl = await s.call(OpCode.createTTL, body(R.CreateTTLRequest, { path: '/ttl', data: null, acl: OPEN, flags: 5, ttl: 200n }));
  assert.equal(ttl.err, 0);
  assert.equal(decodeAs(R.Create2Response, ttl.body).stat.ephemeralOwner, 0n);
  assert.ok(await until(async () => (await s.call(OpCode.exists, body(R.ExistsRequest, { path: '/ttl', watch: false }))).err === Err.NoNode));
  await s.close();
});

test('a frame over jute.maxbuffer closes that connection only', async () => {
  const s = await RawSession.open(port);
  const big = await RawSession.open(port);
  big.conn.send(1, OpCode.create, create('/big', 0, OPEN));
  const payload = Buffer.alloc(8000);
  const frame = Buffer.alloc(4);
  frame.writeInt32BE(payload.length, 0);
  big.conn.sock.write(Buffer.concat([frame, payload]));
  assert.ok(await until(async () => big.conn.closed));
  assert.equal((await s.call(OpCode.exists, body(R.ExistsRequest, { path: '/', watch: false }))).err, 0);
  await s.close();
});

test('maxClientCnxns refuses connections beyond the limit from one address', async () => {
  const socks: net.Socket[] = [];
  for (let i = 0; i < 7; i++) {
    const so = net.connect(port, '127.0.0.1');
    await new Promise((r) => so.once('connect', r));
    socks.push(so);
  }
  const refused = await Promise.all(
    socks.map(
      (s) =>
        new Promise<boolean>((r) => {
          if (s.destroyed) return r(true);
          s.once('close', () => r(true));
          setTimeout(() => r(false), 300);
        }),
    ),
  );
  assert.equal(refused.filter(Boolean).length, 2, 'the 6th and 7th are closed');
  assert.deepEqual(refused.slice(0, 5), [false, false, false, false, false]);
  for (const s of socks) s.destroy();
  await new Promise((r) => setTimeout(r, 100));
});

test('digest ACLs, super, whoAmI, AuthFailed closes', async () => {
  const owner = await RawSession.open(port);
  assert.equal(await owner.addAuth('digest', 'alice:pw'), 0);
  assert.equal((await owner.call(OpCode.create, create('/sec', 0, [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }]))).err, 0);
  const other = await RawSession.open(port);
  assert.equal((await other.call(OpCode.getData, body(R.GetDataRequest, { path: '/sec', watch: false }))).err, Err.NoAuth);
  const acl = await owner.call(OpCode.getACL, body(R.GetACLRequest, { path: '/sec' }));
  assert.deepEqual(decodeAs(R.GetACLResponse, acl.body).acl, [{ perms: Perms.ALL, id: { scheme: 'digest', id: generateDigest('alice:pw') } }]);
  const sup = await RawSession.open(port);
  assert.equal(await sup.addAuth('digest', 'super:secret'), 0);
  assert.equal((await sup.call(OpCode.getData, body(R.GetDataRequest, { path: '/sec', watch: false }))).err, 0);
  const who = decodeAs(R.WhoAmIResponse, (await sup.call(OpCode.whoAmI)).body).clientInfo;
  assert.deepEqual(who.map((c) => c.authScheme).sort(), ['digest', 'ip', 'super']);
  assert.equal(await other.addAuth('nosuchscheme', 'x'), Err.AuthFailed);
  assert.ok(await until(async () => other.conn.closed));
  await owner.close();
  await sup.close();
});

test('pipelined requests: replies in order, reads see the session’s own earlier writes, sync', async () => {
  const s = await RawSession.open(port);
  const n = 200;
  const xids: number[] = [];
  for (let i = 0; i < n; i++) {
    const x1 = s.nextXid();
    s.conn.send(x1, OpCode.create, create(`/pipe${i}`));
    const x2 = s.nextXid();
    s.conn.send(x2, OpCode.exists, body(R.ExistsRequest, { path: `/pipe${i}`, watch: false }));
    xids.push(x1, x2);
  }
  const sx = s.nextXid();
  s.conn.send(sx, OpCode.sync, body(R.SyncRequest, { path: '/' }));
  xids.push(sx);
  for (const x of xids) {
    const m = await s.conn.next();
    assert.ok(m !== null && m.kind === 'reply');
    assert.equal(m.xid, x);
    assert.equal(m.err, 0);
  }
  await s.close();
});

test('4lw whitelist', async () => {
  assert.equal(await fourLetter(port, 'ruok'), 'imok');
  assert.equal(await fourLetter(port, 'stat'), 'stat is not executed because it is not in the whitelist.\n');
});

test('old clients (no readOnly byte) get a reply without it', async () => {
  const c = await RawConnection.open(port);
  const w = Buffer.alloc(4 + 4 + 8 + 4 + 8 + 4 + 16);
  w.writeInt32BE(w.length - 4, 0);
  w.writeInt32BE(30000, 16);
  w.writeInt32BE(16, 28);
  c.sock.write(w);
  const f = await c.nextFrame();
  assert.ok(f !== null);
  assert.equal(f.length, 4 + 4 + 8 + 4 + 16);
  c.close();
});

test('watch events about nodes the watcher may not read are dropped', async () => {
  const owner = await RawSession.open(port);
  await owner.addAuth('digest', 'bob:pw');
  const watcher = await RawSession.open(port);
  await watcher.call(OpCode.exists, body(R.ExistsRequest, { path: '/hidden', watch: true }));
  await watcher.call(OpCode.exists, body(R.ExistsRequest, { path: '/shown', watch: true }));
  await owner.call(OpCode.create, create('/hidden', 0, [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }]));
  await owner.call(OpCode.create, create('/shown'));
  const events = await watcher.ping();
  assert.deepEqual(
    events.map((e) => e.kind === 'event' && e.path),
    ['/shown'],
  );
  await owner.close();
  await watcher.close();
});
