/**
 * tszk/testing's TestingServer: a real standalone server in this process. stop()/restart() keep
 * the port, the data and the sessions; close() and `await using` remove the temp dataDir;
 * dropConnection and expireSession act on its clients as a network and a session expiry would.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { CreateMode, Err, EventType, KeeperError, KeeperState, ZooKeeperClient, type WatchedEvent } from '../../src/client/index.js';
import { dropConnection, expireSession, TestingServer } from '../../src/testing/index.js';

/** Clients a test opened: closed after it even when it fails, so none keeps reconnecting. */
const clients = new Set<ZooKeeperClient>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
});

async function connect(connectString: string, sessionTimeout_ms?: number): Promise<ZooKeeperClient> {
  const zk = new ZooKeeperClient(connectString, { sessionTimeout_ms });
  clients.add(zk);
  await zk.connected();
  return zk;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });
}

test('stop and restart keep the port, the data and the session; close removes the dataDir', async () => {
  const server = await TestingServer.start();
  assert.equal(server.connectString, `127.0.0.1:${server.port}`);
  assert.ok(fs.existsSync(server.dataDir));
  const zk = await connect(server.connectString, 20_000);
  try {
    await zk.create('/kept', 'v1');
    await zk.create('/mine', null, { mode: CreateMode.EPHEMERAL });
    const sessionId = zk.sessionId;
    // Acknowledged means fsynced into the txn log in the dataDir.
    assert.ok(fs.readdirSync(path.join(server.dataDir, 'version-2')).some((f) => f.startsWith('log.')));

    await server.stop();
    assert.equal(server.running, false);
    assert.ok(await refused(server.port), 'nothing listens while stopped');
    await server.restart();
    assert.equal(server.running, true);
    // The client resumes its session on the same address.
    assert.equal((await zk.getData('/kept')).data?.toString(), 'v1');
    assert.equal(zk.sessionId, sessionId);
    assert.ok(await zk.exists('/mine'), 'the session and its ephemeral survive a restart');

    await server.restart(); // restart() of a running server stops it first
    await zk.setData('/kept', 'v2');
    assert.equal((await zk.getData('/kept')).data?.toString(), 'v2');
  } finally {
    await zk.close();
    await server.close();
  }
  assert.equal(fs.existsSync(server.dataDir), false);
  assert.ok(await refused(server.port));
  await server.close(); // idempotent
  await assert.rejects(server.restart(), /closed/);
});

test('await using closes the server and removes its dataDir at the end of the scope', async () => {
  let dataDir: string;
  let port: number;
  {
    await using server = await TestingServer.start({ tickTime_ms: 500 });
    dataDir = server.dataDir;
    port = server.port;
    const zk = await connect(server.connectString);
    assert.equal(zk.sessionTimeout_ms, 10_000, 'the session timeout is capped at 20 ticks of the given tickTime');
    await zk.create('/x', 'y');
    await zk.close();
  }
  assert.equal(fs.existsSync(dataDir), false);
  assert.ok(await refused(port));
});

test('a given dataDir and port are used, and the dataDir is kept on close', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-testing-given-'));
  try {
    const first = await TestingServer.start({ dataDir });
    const port = first.port;
    const zk = await connect(first.connectString);
    await zk.create('/persisted', 'p');
    await zk.close();
    await first.close();
    assert.ok(fs.existsSync(dataDir));
    // A second server on the same dataDir and port recovers what the first acknowledged.
    await using second = await TestingServer.start({ dataDir, port, config: { extendedTypesEnabled: true } });
    assert.equal(second.port, port);
    const zk2 = await connect(second.connectString);
    assert.equal((await zk2.getData('/persisted')).data?.toString(), 'p');
    await zk2.create('/ttl', 't', { mode: CreateMode.PERSISTENT_WITH_TTL, ttl_ms: 60_000 }); // config keys reach the server
    await zk2.close();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a bad config key stops start() with the key named, and leaves no temp dir behind', async () => {
  const before = new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('tszk-testing-')));
  await assert.rejects(TestingServer.start({ config: { snapCount: 'many' } }), /snapCount: 'many' is not an integer/);
  const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('tszk-testing-') && !before.has(f));
  assert.deepEqual(after, []);
});

test('dropConnection: the client reconnects with its session and watches', async () => {
  await using server = await TestingServer.start();
  const zk = await connect(server.connectString);
  const states: number[] = [];
  zk.onState((s) => states.push(s));
  const events: WatchedEvent[] = [];
  await zk.create('/w', 'a');
  await zk.getData('/w', (e) => events.push(e));
  const sessionId = zk.sessionId;
  await dropConnection(zk);
  assert.equal(zk.connectCount, 2);
  assert.equal(zk.sessionId, sessionId);
  assert.deepEqual(states, [KeeperState.Disconnected, KeeperState.SyncConnected]);
  await zk.setData('/w', 'b');
  for (let i = 0; i < 100 && !events.some((e) => e.type === EventType.NodeDataChanged); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(
    events.some((e) => e.type === EventType.NodeDataChanged && e.path === '/w'),
    'the watch set before the drop fires',
  );
  await zk.close();
  await assert.rejects(dropConnection(zk), /closed/);
});

test('expireSession: the client sees Expired and its ephemerals are gone', async () => {
  await using server = await TestingServer.start();
  const zk = await connect(server.connectString);
  const other = await connect(server.connectString);
  try {
    await zk.create('/eph', 'e', { mode: CreateMode.EPHEMERAL });
    const deleted = new Promise<WatchedEvent>((resolve) => void other.exists('/eph', resolve));
    await expireSession(zk);
    assert.equal(zk.state, 'expired');
    await assert.rejects(zk.getData('/eph'), (e: unknown) => e instanceof KeeperError && e.code === Err.SessionExpired);
    assert.equal((await deleted).type, EventType.NodeDeleted);
    assert.equal(await other.exists('/eph'), null);
    await assert.rejects(expireSession(zk), /no live session \(state expired\)/);
  } finally {
    await zk.close();
    await other.close();
  }
});
