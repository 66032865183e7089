/**
 * Watch notifications on the wire, now that an event's frame is encoded once and the same Buffer
 * is written to every watcher: each watcher gets it whole, once; on the writer's own connection it
 * comes ahead of the write's reply (as ZooKeeper's FinalRequestProcessor fires watches before it
 * replies); two events for one connection in one turn arrive in the order they fired.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { startStandaloneServer } from '../../src/server/standalone.js';
import { defaultServerOptions } from '../../src/server/options.js';
import { EventType, OpCode, Perms } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';
import { RawSession, body, encodeRequest, type Incoming } from '../support/raw-client.js';
import { freePort } from '../support/ports.js';

const OPEN = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

async function watchData(s: RawSession, path: string): Promise<void> {
  const r = await s.call(OpCode.getData, body(R.GetDataRequest, { path, watch: true }));
  assert.equal(r.err, 0);
}

function isEvent(m: Incoming | null, path: string): boolean {
  return m !== null && m.kind === 'event' && m.type === EventType.NodeDataChanged && m.path === path;
}

test('one event to many watchers: each gets it once, ahead of the writer’s own reply; two in one turn keep their order', async () => {
  const port = await freePort();
  const server = await startStandaloneServer(defaultServerOptions({ clientPort: port, clientPortAddress: '127.0.0.1', maxClientCnxns: 0 }));
  const sessions: RawSession[] = [];
  try {
    const writer = await RawSession.open(port);
    sessions.push(writer);
    for (const p of ['/n', '/m']) assert.equal((await writer.call(OpCode.create, body(R.CreateRequest, { path: p, data: null, acl: OPEN, flags: 0 }))).err, 0);
    const watchers: RawSession[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await RawSession.open(port);
      sessions.push(s);
      watchers.push(s);
      await watchData(s, '/n');
    }
    await watchData(writer, '/n');
    await watchData(watchers[0]!, '/m');

    // The writer's setData fires its own watch: the event, then the setData reply, then the read behind it.
    const xs = writer.nextXid();
    writer.conn.send(xs, OpCode.setData, body(R.SetDataRequest, { path: '/n', data: Buffer.from('v1'), version: -1 }));
    const xg = writer.nextXid();
    writer.conn.send(xg, OpCode.getData, body(R.GetDataRequest, { path: '/n', watch: false }));
    assert.ok(isEvent(await writer.conn.next(), '/n'), 'the event first');
    const r1 = await writer.conn.next();
    assert.ok(r1?.kind === 'reply' && r1.xid === xs && r1.err === 0, `then the setData reply: ${inspect(r1)}`);
    const r2 = await writer.conn.next();
    assert.ok(r2?.kind === 'reply' && r2.xid === xg && r2.err === 0, `then the getData reply: ${inspect(r2)}`);
    for (const w of watchers) assert.ok(isEvent(await w.conn.next(), '/n'), 'every watcher gets the event');

    // Two writes in one packet: watcher 0 holds watches on both nodes and gets both events, in order.
    await watchData(watchers[0]!, '/n');
    const x1 = writer.nextXid();
    const x2 = writer.nextXid();
    writer.conn.sendRaw(Buffer.concat([frame(x1, OpCode.setData, '/n'), frame(x2, OpCode.setData, '/m')]));
    assert.ok(isEvent(await watchers[0]!.conn.next(), '/n'));
    assert.ok(isEvent(await watchers[0]!.conn.next(), '/m'));
    await writer.conn.until(x1);
    await writer.conn.until(x2);

    // Standard watches are one-shot: nobody hears of a third write.
    assert.equal((await writer.call(OpCode.setData, body(R.SetDataRequest, { path: '/n', data: Buffer.from('v3'), version: -1 }))).err, 0);
    for (const w of watchers) assert.deepEqual(await w.ping(), [], 'no further events');
  } finally {
    for (const s of sessions) s.conn.close();
    await server.close();
  }
});

/** A length-prefixed setData request frame, to send several in one TCP write. */
function frame(xid: number, type: number, path: string): Buffer {
  const payload = encodeRequest(xid, type, body(R.SetDataRequest, { path, data: Buffer.from('v2'), version: -1 }));
  const len = Buffer.alloc(4);
  len.writeInt32BE(payload.length, 0);
  return Buffer.concat([len, payload]);
}
