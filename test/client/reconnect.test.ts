/**
 * Session survival across connection loss and server restart: the client reconnects through a
 * TCP proxy, resumes the same session (id + password), re-sends auth and re-arms its watches
 * (in SetWatches chunks, from the last zxid it saw); and sees Expired when the session is gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CREATOR_ALL_ACL,
  CreateMode,
  Err,
  EventType,
  KeeperError,
  KeeperState,
  SET_WATCHES_BYTES_MAX,
  ZooKeeperClient,
  type WatchedEvent,
} from '../../src/client/index.js';
import { clientTargetMissing, startClientTarget, type RestartableServer } from '../support/client-target.js';
import { freePort } from '../support/ports.js';
import { skipUnless } from '../support/target.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const skip = skipUnless(clientTargetMissing());

async function waitFor(cond: () => boolean, what: string, timeout_ms = 10_000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('client reconnect and session resumption', { skip }, () => {
  let srv: RestartableServer;
  let proxy: TcpProxy;
  let direct: ZooKeeperClient;
  let deadPort: number;
  before(async () => {
    // Short ticks so that a short session can expire within the test budget.
    srv = await startClientTarget({ cfg: { tickTime: 500, minSessionTimeout: 1000 } });
    proxy = await startTcpProxy(srv.port);
    direct = await ZooKeeperClient.connect(srv.connectString, { sessionTimeout_ms: 20_000 });
    deadPort = await freePort();
  });
  after(async () => {
    await direct?.close();
    await proxy?.close();
    await srv?.stop();
  });

  /** Cut the client off: new connections go nowhere until `reconnect()`. */
  function cut(): void {
    proxy.retarget(deadPort);
    proxy.dropAll();
  }
  function heal(): void {
    proxy.retarget(srv.port);
  }

  test('connection loss: same session, ephemerals kept, auth re-sent, watches re-armed with missed events', async () => {
    const states: number[] = [];
    const c = await ZooKeeperClient.connect(proxy.connectString, { sessionTimeout_ms: 20_000 });
    c.onState((s) => states.push(s));
    try {
      await c.addAuth('digest', 'bob:pw');
      await c.create('/rc', 'v0');
      await c.create('/rc/eph', null, { mode: CreateMode.EPHEMERAL });
      await c.create('/rc/private', 'p', { acl: CREATOR_ALL_ACL });
      const events: WatchedEvent[] = [];
      const stateEvents: number[] = [];
      // As in the Java client, registered watchers also see session state events.
      const watcher = (e: WatchedEvent): void => void (e.type === EventType.None ? stateEvents.push(e.state) : events.push(e));
      await c.getData('/rc', watcher);
      await c.getChildren('/rc', watcher);
      const id = c.sessionId;
      const inflight = c.exists('/rc');
      cut();
      // A request already on the wire fails with ConnectionLoss (or was answered just before).
      await inflight.catch((e: unknown) => assert.ok(e instanceof KeeperError && e.code === Err.ConnectionLoss));
      await waitFor(() => c.state === 'connecting', 'disconnect noticed');
      // Changes while the client is away: it must hear of them after it comes back.
      await direct.setData('/rc', 'v1');
      await direct.create('/rc/new');
      const queued = c.getData('/rc'); // queued while disconnected, sent after reconnect
      heal();
      assert.equal((await queued).data?.toString(), 'v1');
      assert.equal(c.sessionId, id);
      assert.equal(c.connectCount, 2);
      await waitFor(() => events.length === 2, 'missed events after reconnect');
      assert.deepEqual(
        events.map((e) => [e.type, e.path]).sort(),
        [
          [EventType.NodeChildrenChanged, '/rc'],
          [EventType.NodeDataChanged, '/rc'],
        ].sort(),
      );
      assert.deepEqual(states, [KeeperState.Disconnected, KeeperState.SyncConnected]);
      assert.deepEqual(stateEvents, [KeeperState.Disconnected, KeeperState.SyncConnected]);
      assert.ok((await direct.exists('/rc/eph')) !== null, 'ephemeral survived');
      assert.equal((await c.getData('/rc/private')).data?.toString(), 'p', 'auth re-sent');
    } finally {
      await c.close();
    }
  });

  test('many watches are re-armed in SetWatches chunks under 128 KiB', async () => {
    const c = await ZooKeeperClient.connect(proxy.connectString, { sessionTimeout_ms: 20_000 });
    try {
      await c.create('/many');
      const name = 'x'.repeat(100);
      const n = Math.ceil((2.5 * SET_WATCHES_BYTES_MAX) / (name.length + 12));
      let fired = 0;
      const watcher = (e: WatchedEvent): void => {
        if (e.type === EventType.NodeCreated) fired++;
      };
      await Promise.all(Array.from({ length: n }, (_, i) => c.exists(`/many/${name}${i}`, watcher)));
      assert.equal(c.watches.exist.size, n);
      const before = proxy.accepted();
      proxy.dropAll();
      await waitFor(() => c.state === 'connected' && proxy.accepted() > before, 'reconnect');
      await c.sync('/'); // SetWatches went before this request on the new connection
      await Promise.all(Array.from({ length: n }, (_, i) => direct.create(`/many/${name}${i}`)));
      await waitFor(() => fired === n, `${n} NodeCreated events (got ${fired})`);
      assert.equal(c.watches.exist.size, 0);
    } finally {
      await c.close();
    }
  });

  test('a persistent recursive watch keeps delivering after a reconnect (SetWatches2)', async () => {
    const c = await ZooKeeperClient.connect(proxy.connectString, { sessionTimeout_ms: 20_000 });
    try {
      await c.create('/prw');
      const stream = c.watchEvents('/prw', 'persistentRecursive');
      await stream.ready;
      await direct.create('/prw/before');
      const first = await stream.next();
      assert.deepEqual(first.value, { type: EventType.NodeCreated, state: KeeperState.SyncConnected, path: '/prw/before' });
      const before = proxy.accepted();
      proxy.dropAll();
      await waitFor(() => c.state === 'connected' && proxy.accepted() > before, 'reconnect');
      await c.sync('/');
      await direct.setData('/prw/before', 'x');
      await direct.create('/prw/before/deep');
      const got: [number, string | null][] = [];
      for await (const ev of stream) {
        got.push([ev.type, ev.path]);
        if (got.length === 2) break;
      }
      assert.deepEqual(got, [
        [EventType.NodeDataChanged, '/prw/before'],
        [EventType.NodeCreated, '/prw/before/deep'],
      ]);
    } finally {
      await c.close();
    }
  });

  test('server restart on the same data dir: the session survives', async () => {
    const c = await ZooKeeperClient.connect(proxy.connectString, { sessionTimeout_ms: 20_000 });
    try {
      await c.create('/restart-eph', 'e', { mode: CreateMode.EPHEMERAL });
      const id = c.sessionId;
      await direct.close();
      cut();
      await srv.restart();
      heal();
      direct = await ZooKeeperClient.connect(srv.connectString, { sessionTimeout_ms: 20_000 });
      await waitFor(() => c.state !== 'connecting', 'reconnected after restart', 20_000);
      assert.equal(c.state, 'connected', 'the restarted server did not restore the session from its data dir');
      assert.equal(c.sessionId, id);
      assert.equal((await c.getData('/restart-eph')).data?.toString(), 'e');
      assert.equal((await direct.exists('/restart-eph'))?.ephemeralOwner, id);
      await c.setData('/restart-eph', 'f');
    } finally {
      await c.close();
    }
  });

  test('session expiry while disconnected: Expired state, requests fail with SessionExpired', async () => {
    const states: number[] = [];
    const c = await ZooKeeperClient.connect(proxy.connectString, { sessionTimeout_ms: 1000 });
    c.onState((s) => states.push(s));
    assert.equal(c.sessionTimeout_ms, 1000);
    await c.create('/short-eph', null, { mode: CreateMode.EPHEMERAL });
    cut();
    await waitFor(() => c.state === 'connecting', 'disconnect noticed');
    // Wait until the server has expired the session (its ephemeral is gone).
    const deadline = Date.now() + 10_000;
    while ((await direct.exists('/short-eph')) !== null) {
      assert.ok(Date.now() < deadline, 'session did not expire');
      await new Promise((r) => setTimeout(r, 100));
    }
    heal();
    await waitFor(() => c.state === 'expired', 'Expired state');
    assert.deepEqual(states, [KeeperState.Disconnected, KeeperState.Expired]);
    await assert.rejects(c.getData('/'), (e: unknown) => e instanceof KeeperError && e.code === Err.SessionExpired);
    await c.close();
  });

  test('pings keep an idle session alive past its timeout', async () => {
    const c = await ZooKeeperClient.connect(proxy.connectString, { sessionTimeout_ms: 1000 });
    try {
      const id = c.sessionId;
      await c.create('/idle-eph', null, { mode: CreateMode.EPHEMERAL });
      await new Promise((r) => setTimeout(r, 2500));
      // Without pings the server would have expired the 1 s session and removed the node.
      assert.equal(c.state, 'connected');
      assert.equal(c.sessionId, id);
      assert.equal((await direct.exists('/idle-eph'))?.ephemeralOwner, id);
    } finally {
      await c.close();
    }
  });
});
