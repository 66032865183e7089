import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runFourLetterWord } from '../../src/admin/fourLetterWords.js';
import { startStandaloneServer, type StandaloneServer } from '../../src/server/standalone.js';
import { defaultServerOptions } from '../../src/server/options.js';
import { OpCode, EventType, Perms } from '../../src/proto/opcodes.js';
import { Err } from '../../src/proto/errors.js';
import * as R from '../../src/proto/records.js';
import { RawConnection, RawSession, body, decodeAs, decodeMultiResponse, multiBody, rawBytes } from '../support/raw-client.js';
import { fourLetter, freePort } from '../support/ports.js';

const OPEN = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
let server: StandaloneServer;
let port: number;

before(async () => {
  port = await freePort();
  server = await startStandaloneServer(
    defaultServerOptions({
      clientPort: port,
      clientPortAddress: '127.0.0.1',
      tickTime_ms: 200,
      maxClientCnxns: 0,
      fourLetterWhitelist: '*',
      extendedTypesEnabled: true,
    }),
    { fourLetterWords: runFourLetterWord },
  );
});
after(async () => {
  await server.close();
});

const create = (path: string, flags = 0, data: Buffer | null = Buffer.from('d')) => body(R.CreateRequest, { path, data, acl: OPEN, flags });

test('create, getData, setData, exists, getChildren2, delete over the wire', async () => {
  const s = await RawSession.open(port);
  const c = await s.call(OpCode.create2, create('/t1'));
  assert.equal(c.err, 0);
  const cr = decodeAs(R.Create2Response, c.body);
  assert.equal(cr.path, '/t1');
  assert.equal(cr.stat.czxid, c.zxid);
  const g = await s.call(OpCode.getData, body(R.GetDataRequest, { path: '/t1', watch: true }));
  assert.deepEqual(decodeAs(R.GetDataResponse, g.body).data, Buffer.from('d'));
  const sd = await s.call(OpCode.setData, body(R.SetDataRequest, { path: '/t1', data: null, version: 0 }));
  assert.equal(sd.err, 0);
  assert.deepEqual(
    sd.events.map((e) => e.kind === 'event' && [e.type, e.path]),
    [[EventType.NodeDataChanged, '/t1']],
  );
  assert.equal(decodeAs(R.SetDataResponse, sd.body).stat.version, 1);
  const bad = await s.call(OpCode.setData, body(R.SetDataRequest, { path: '/t1', data: null, version: 0 }));
  assert.equal(bad.err, Err.BadVersion);
  assert.equal(bad.body.length, 0);
  const ex = await s.call(OpCode.exists, body(R.ExistsRequest, { path: '/nope', watch: true }));
  assert.equal(ex.err, Err.NoNode);
  const kids = await s.call(OpCode.getChildren2, body(R.GetChildren2Request, { path: '/', watch: false }));
  assert.deepEqual(decodeAs(R.GetChildren2Response, kids.body).children.sort(), ['t1', 'zookeeper']);
  const cn = await s.call(OpCode.create, create('/nope'));
  assert.deepEqual(
    cn.events.map((e) => e.kind === 'event' && [e.type, e.path]),
    [[EventType.NodeCreated, '/nope']],
  );
  assert.equal(decodeAs(R.CreateResponse, cn.body).path, '/nope');
  assert.equal((await s.call(OpCode.delete, body(R.DeleteRequest, { path: '/nope', version: -1 }))).err, 0);
  await s.close();
});

test('multi: per-op results and errors as ZooKeeper answers them', async () => {
  const s = await RawSession.open(port);
  const ok = await s.call(
    OpCode.multi,
    multiBody([
      { type: OpCode.create, req: { path: '/m', data: null, acl: OPEN, flags: 0 } },
      { type: OpCode.check, req: { path: '/m', version: 0 } },
      { type: OpCode.setData, req: { path: '/m', data: Buffer.from('x'), version: 0 } },
    ]),
  );
  assert.equal(ok.err, 0);
  assert.deepEqual(
    decodeMultiResponse(ok.body).map((r) => r.type),
    ['create', 'check', 'setData'],
  );
  const bad = await s.call(
    OpCode.multi,
    multiBody([
      { type: OpCode.create, req: { path: '/m2', data: null, acl: OPEN, flags: 0 } },
      { type: OpCode.delete, req: { path: '/absent', version: -1 } },
      { type: OpCode.create, req: { path: '/m3', data: null, acl: OPEN, flags: 0 } },
    ]),
  );
  assert.equal(bad.err, 0);
  assert.deepEqual(decodeMultiResponse(bad.body), [
    { type: 'error', err: 0 },
    { type: 'error', err: Err.NoNode },
    { type: 'error', err: Err.RuntimeInconsistency },
  ]);
  const mr = await s.call(
    OpCode.multiRead,
    multiBody([
      { type: OpCode.getData, req: { path: '/m', watch: false } },
      { type: OpCode.getChildren, req: { path: '/absent', watch: false } },
    ]),
  );
  const res = decodeMultiResponse(mr.body);
  assert.equal(res[0]!.type, 'getData');
  assert.deepEqual(res[1], { type: 'error', err: Err.NoNode });
  await s.close();
});

test('ephemerals go with the session; reconnect with wrong password is refused', async () => {
  const a = await RawSession.open(port);
  assert.equal((await a.call(OpCode.create, create('/eph', 1))).err, 0);
  const ge = await a.call(OpCode.getEphemerals, body(R.GetEphemeralsRequest, { prefixPath: '/' }));
  assert.deepEqual(decodeAs(R.GetEphemeralsResponse, ge.body).ephemerals, ['/eph']);
  const watcher = await RawSession.open(port);
  await watcher.call(OpCode.exists, body(R.ExistsRequest, { path: '/eph', watch: true }));
  // Wrong password: the answer is a ConnectResponse with session 0 and timeout 0, then a close.
  const bad = await RawConnection.open(port);
  const resp = await bad.handshake({ sessionId: a.sessionId, passwd: Buffer.alloc(16, 7) });
  assert.equal(resp.sessionId, 0n);
  assert.equal(resp.timeOut, 0);
  // Right password: the same session on a new connection.
  const again = await RawConnection.open(port);
  const ok = await again.handshake({ sessionId: a.sessionId, passwd: a.passwd });
  assert.equal(ok.sessionId, a.sessionId);
  again.send(1, OpCode.closeSession);
  await again.until(1);
  const events = await watcher.ping();
  assert.deepEqual(
    events.map((e) => e.kind === 'event' && [e.type, e.path]),
    [[EventType.NodeDeleted, '/eph']],
  );
  await watcher.close();
});

test('session expiry deletes ephemerals and fires watches', async () => {
  const a = await RawSession.open(port, { timeOut: 400 });
  assert.equal(a.timeout_ms, 400);
  await a.call(OpCode.create, create('/exp', 1));
  const w = await RawSession.open(port);
  await w.call(OpCode.getData, body(R.GetDataRequest, { path: '/exp', watch: true }));
  a.conn.close();
  const deadline = Date.now() + 5000;
  let seen: unknown[] = [];
  while (Date.now() < deadline && seen.length === 0) {
    await new Promise((r) => setTimeout(r, 100));
    seen = (await w.ping()).map((e) => e.kind === 'event' && [e.type, e.path]);
  }
  assert.deepEqual(seen, [[EventType.NodeDeleted, '/exp']]);
  await w.close();
});

test('frames split at every byte, and a bad length closes only that connection', async () => {
  const s = await RawSession.open(port);
  const raw = net.connect(port, '127.0.0.1');
  await new Promise((r) => raw.once('connect', r));
  const closed = new Promise((r) => raw.once('close', r));
  raw.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
  await closed;
  const conn = await RawConnection.open(port);
  const w = new (await import('../../src/jute/index.js')).JuteWriter();
  R.ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
  const frame = Buffer.concat([Buffer.alloc(4), Buffer.from(w.bytes())]);
  frame.writeInt32BE(frame.length - 4, 0);
  for (const b of frame) {
    conn.sock.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  const m = await conn.nextFrame();
  assert.ok(m !== null && m.length >= 36);
  assert.equal((await s.call(OpCode.exists, body(R.ExistsRequest, { path: '/', watch: false }))).err, 0);
  conn.close();
  await s.close();
});

test('unknown opcode: Unimplemented then close', async () => {
  const s = await RawSession.open(port);
  s.conn.send(77, 999, body(rawBytes, Buffer.alloc(0)));
  const { reply } = await s.conn.until(77);
  assert.equal(reply.err, Err.Unimplemented);
  assert.equal(reply.zxid, -1n);
});

test('four-letter words', async () => {
  assert.equal(await fourLetter(port, 'ruok'), 'imok');
  const srvr = await fourLetter(port, 'srvr');
  assert.match(
    srvr,
    /^Zookeeper version: 3\.8\.0.*\nLatency min\/avg\/max: \d+\/[\d.]+\/\d+\nReceived: \d+\nSent: \d+\nConnections: \d+\nOutstanding: 0\nZxid: 0x[0-9a-f]+\nMode: standalone\nNode count: \d+\n$/,
  );
  assert.equal(await fourLetter(port, 'isro'), 'rw');
  assert.match(await fourLetter(port, 'mntr'), /zk_server_state\tstandalone\n/);
  assert.match(await fourLetter(port, 'wchs'), /^\d+ connections watching \d+ paths\nTotal watches:\d+\n$/);
});
