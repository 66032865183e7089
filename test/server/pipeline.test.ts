import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandaloneServer } from '../../src/server/standalone.js';
import { defaultServerOptions } from '../../src/server/options.js';
import type { TxnSink } from '../../src/server/txnSink.js';
import type { Txn } from '../../src/txn/txn.js';
import { OpCode, Perms } from '../../src/proto/opcodes.js';
import { Err } from '../../src/proto/errors.js';
import * as R from '../../src/proto/records.js';
import { RawSession, body } from '../support/raw-client.js';
import { freePort } from '../support/ports.js';

/** A durable log that holds every batch until the test releases it. */
class HeldSink implements TxnSink {
  held: { txns: readonly Txn[]; done: () => void }[] = [];
  logged: Txn[] = [];
  append(txns: readonly Txn[], onDurable: () => void): void {
    this.held.push({ txns, done: onDurable });
  }
  release(): void {
    const h = this.held.splice(0);
    for (const b of h) {
      this.logged.push(...b.txns);
      b.done();
    }
  }
  async close(): Promise<void> {}
}

test('writes reply only once durable; a session’s reads wait behind its own writes, other sessions do not', async () => {
  const sink = new HeldSink();
  const port = await freePort();
  const server = await startStandaloneServer(defaultServerOptions({ clientPort: port, clientPortAddress: '127.0.0.1', maxClientCnxns: 0 }), { sink });
  const releaser = setInterval(() => {
    // Sessions need their createSession txn durable to connect; release those at once.
    if (sink.held.every((b) => b.txns.every((t) => t.body.type === OpCode.createSession))) sink.release();
  }, 5);
  try {
    const a = await RawSession.open(port);
    const b = await RawSession.open(port);
    clearInterval(releaser);
    const OPEN = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
    const xw = a.nextXid();
    a.conn.send(xw, OpCode.create, body(R.CreateRequest, { path: '/held', data: null, acl: OPEN, flags: 0 }));
    const xr = a.nextXid();
    a.conn.send(xr, OpCode.exists, body(R.ExistsRequest, { path: '/held', watch: false }));
    // Another session reads at once, and does not see the write yet.
    const other = await b.call(OpCode.exists, body(R.ExistsRequest, { path: '/held', watch: false }));
    assert.equal(other.err, Err.NoNode);
    assert.equal(sink.held.length, 1);
    assert.equal(
      await Promise.race([a.conn.next(200).then((m) => (m === null ? 'none' : 'reply')), new Promise((r) => setTimeout(() => r('none'), 250))]),
      'none',
    );
    sink.release();
    const r1 = await a.conn.next();
    const r2 = await a.conn.next();
    assert.ok(r1?.kind === 'reply' && r1.xid === xw && r1.err === 0);
    assert.ok(r2?.kind === 'reply' && r2.xid === xr && r2.err === 0);
    assert.deepEqual(
      sink.logged.map((t) => t.body.type),
      [OpCode.createSession, OpCode.createSession, OpCode.create],
    );
    const drain = setInterval(() => sink.release(), 5);
    await a.close();
    await b.close();
    clearInterval(drain);
  } finally {
    clearInterval(releaser);
    await server.close();
  }
});
