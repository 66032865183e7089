/**
 * The TypeScript client against a real server (Apache ZooKeeper 3.8 by default, tszk with
 * TSZK_TEST_TARGET=tszk): ops, errors, create modes, multi, watches, chroot, auth, pipelining.
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
  MultiError,
  WatcherType,
  ZooKeeperClient,
  op,
  type WatchedEvent,
} from '../../src/client/index.js';
import { clientTargetMissing, startClientTarget, type RestartableServer } from '../support/client-target.js';
import { skipUnless } from '../support/target.js';

const skip = skipUnless(clientTargetMissing());

async function rejectsWith(p: Promise<unknown>, code: number): Promise<KeeperError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KeeperError, `expected KeeperError, got ${String(e)}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code} (${e.message})`);
    return e;
  }
  assert.fail(`expected error ${code}`);
}

function collector(): { events: WatchedEvent[]; watcher: (e: WatchedEvent) => void; next(n?: number): Promise<WatchedEvent[]> } {
  const events: WatchedEvent[] = [];
  let wake: (() => void) | null = null;
  return {
    events,
    watcher: (e) => {
      events.push(e);
      wake?.();
    },
    async next(n = 1) {
      const deadline = Date.now() + 5000;
      while (events.length < n) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${n} events, have ${JSON.stringify(events)}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      return events.splice(0, n);
    },
  };
}

describe('client against a real server', { skip }, () => {
  let srv: RestartableServer;
  let c: ZooKeeperClient;
  before(async () => {
    srv = await startClientTarget({ extendedTypes: true });
    c = await ZooKeeperClient.connect(srv.connectString, { sessionTimeout_ms: 10_000 });
  });
  after(async () => {
    await c?.close();
    await srv?.stop();
  });

  test('session establishment negotiates a timeout and a session id', () => {
    assert.equal(c.state, 'connected');
    assert.notEqual(c.sessionId, 0n);
    assert.equal(c.sessionPasswd.length, 16);
    assert.equal(c.sessionTimeout_ms, 10_000);
  });

  test('create, getData, setData, exists, delete with Stat fields and errors', async () => {
    assert.equal(await c.create('/basic', 'hello'), '/basic');
    const { data, stat } = await c.getData('/basic');
    assert.equal(data?.toString(), 'hello');
    assert.equal(stat.version, 0);
    assert.equal(stat.dataLength, 5);
    assert.equal(stat.czxid, stat.mzxid);
    assert.equal(stat.ephemeralOwner, 0n);
    const s2 = await c.setData('/basic', 'bye', 0);
    assert.equal(s2.version, 1);
    assert.ok(s2.mzxid > stat.mzxid);
    await rejectsWith(c.setData('/basic', 'x', 0), Err.BadVersion);
    await rejectsWith(c.create('/basic'), Err.NodeExists);
    await rejectsWith(c.create('/nope/child'), Err.NoNode);
    await rejectsWith(c.getData('/nope'), Err.NoNode);
    assert.equal(await c.exists('/nope'), null);
    assert.equal((await c.exists('/basic'))?.version, 1);
    await c.create('/basic/kid');
    await rejectsWith(c.delete('/basic'), Err.NotEmpty);
    await rejectsWith(c.delete('/basic/kid', 7), Err.BadVersion);
    await c.delete('/basic/kid', 0);
    await c.delete('/basic');
    assert.equal(await c.exists('/basic'), null);
    const nullData = await c.create('/nulldata', null);
    assert.equal((await c.getData(nullData)).data, null);
    await c.delete(nullData);
  });

  test('children, getChildren2, getAllChildrenNumber, sync, whoAmI, ACLs', async () => {
    await c.create('/kids');
    for (const k of ['a', 'b', 'c']) await c.create(`/kids/${k}`);
    await c.create('/kids/a/x');
    assert.deepEqual((await c.getChildren('/kids')).sort(), ['a', 'b', 'c']);
    const { children, stat } = await c.getChildren2('/kids');
    assert.equal(children.length, 3);
    assert.equal(stat.numChildren, 3);
    assert.equal(stat.cversion, 3);
    assert.equal(await c.getAllChildrenNumber('/kids'), 4);
    assert.equal(await c.sync('/kids'), '/kids');
    const who = await c.whoAmI();
    assert.deepEqual(who, [{ authScheme: 'ip', user: '127.0.0.1' }]);
    const { acl } = await c.getACL('/kids');
    assert.deepEqual(acl, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
    const s = await c.setACL('/kids', [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], 0);
    assert.equal(s.aversion, 1);
    await rejectsWith(c.create('/kids/d'), Err.NoAuth);
    await rejectsWith(c.setACL('/kids', [], -1), Err.InvalidACL);
  });

  test('create modes: ephemeral, sequential, container, TTL, create2', async () => {
    await c.create('/modes');
    const e = await c.create2('/modes/eph', 'e', { mode: CreateMode.EPHEMERAL });
    assert.equal(e.path, '/modes/eph');
    assert.equal(e.stat.ephemeralOwner, c.sessionId);
    await rejectsWith(c.create('/modes/eph/x'), Err.NoChildrenForEphemerals);
    const s1 = await c.create('/modes/seq-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
    const s2 = await c.create('/modes/seq-', null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    assert.match(s1, /^\/modes\/seq-\d{10}$/);
    assert.equal(Number(s2.slice(-10)), Number(s1.slice(-10)) + 1);
    assert.deepEqual((await c.getEphemerals('/modes')).sort(), ['/modes/eph', s2].sort());
    const cont = await c.create2('/modes/cont', null, { mode: CreateMode.CONTAINER });
    // Clients see 0 as the ephemeralOwner of containers and TTL nodes (the server hides its marker).
    assert.equal(cont.stat.ephemeralOwner, 0n);
    const ttl = await c.create2('/modes/ttl', null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl_ms: 60_000 });
    assert.equal(ttl.stat.ephemeralOwner, 0n);
    await rejectsWith(c.create('/modes/ttl0', null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl_ms: 0 }), Err.BadArguments);
    const ttlSeq = await c.create('/modes/ts-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl_ms: 60_000 });
    assert.match(ttlSeq, /^\/modes\/ts-\d{10}$/);
  });

  test('multi: results, and per-op errors on failure; multiRead', async () => {
    const res = await c.transaction().create('/m').create('/m/a', 'x', { withStat: true }).setData('/m/a', 'y', 0).check('/m/a', 1).delete('/m/a', 1).commit();
    assert.equal(res.length, 5);
    assert.deepEqual(res[0], { type: 'create', path: '/m', stat: null });
    // ZooKeeper 3.8 answers a create2 inside a multi with a plain create result (no Stat).
    assert.deepEqual(res[1], { type: 'create', path: '/m/a', stat: null });
    assert.ok(res[2]!.type === 'setData' && res[2]!.stat.version === 1);
    assert.deepEqual(res[3], { type: 'check' });
    assert.deepEqual(res[4], { type: 'delete' });
    const err = (await rejectsWith(c.multi([op.create('/m/b'), op.check('/m', 5), op.create('/m/c')]), Err.BadVersion)) as MultiError;
    assert.ok(err instanceof MultiError);
    assert.deepEqual(err.results, [
      { type: 'error', err: Err.Ok },
      { type: 'error', err: Err.BadVersion },
      { type: 'error', err: Err.RuntimeInconsistency },
    ]);
    assert.equal(await c.exists('/m/b'), null);
    const reads = await c.multiRead([op.getChildren('/m'), op.getData('/m'), op.getData('/m/none')]);
    assert.deepEqual(reads[0], { type: 'getChildren', children: [] });
    assert.ok(reads[1]!.type === 'getData' && reads[1]!.data === null);
    assert.deepEqual(reads[2], { type: 'error', err: Err.NoNode });
    assert.deepEqual(await c.multi([]), []);
  });

  test('one-shot watches: data, exists, children, NodeDeleted reaching data and child watches', async () => {
    const w = collector();
    await c.create('/w', 'a');
    await c.getData('/w', w.watcher);
    await c.setData('/w', 'b');
    assert.deepEqual(await w.next(), [{ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: '/w' }]);
    await c.setData('/w', 'c'); // one-shot: no second event
    assert.equal(await c.exists('/w/new', w.watcher), null);
    await c.create('/w/new');
    assert.deepEqual(
      (await w.next()).map((e) => [e.type, e.path]),
      [[EventType.NodeCreated, '/w/new']],
    );
    await c.getChildren('/w', w.watcher);
    await c.getData('/w/new', w.watcher);
    await c.delete('/w/new');
    const evs = await w.next(2);
    assert.deepEqual(
      evs.map((e) => [e.type, e.path]).sort(),
      [
        [EventType.NodeDeleted, '/w/new'],
        [EventType.NodeChildrenChanged, '/w'],
      ].sort(),
    );
    assert.equal(w.events.length, 0);
  });

  test('a watch event arrives before the reply that follows it', async () => {
    await c.create('/order', 'a');
    const seen: string[] = [];
    await c.getData('/order', () => seen.push('event'));
    const other = await ZooKeeperClient.connect(srv.connectString);
    try {
      await other.setData('/order', 'b');
      await c.getData('/order').then(() => seen.push('reply'));
      assert.deepEqual(seen, ['event', 'reply']);
    } finally {
      await other.close();
    }
  });

  test('persistent recursive watch as an async iterator; removeWatches', async () => {
    await c.create('/pr');
    const stream = c.watchEvents('/pr', 'persistentRecursive');
    await stream.ready;
    await c.create('/pr/a');
    await c.create('/pr/a/b', 'x');
    await c.setData('/pr/a/b', 'y');
    await c.delete('/pr/a/b');
    const got: [number, string | null][] = [];
    for await (const ev of stream) {
      got.push([ev.type, ev.path]);
      if (got.length === 4) break; // break removes the watch on the server
    }
    assert.deepEqual(got, [
      [EventType.NodeCreated, '/pr/a'],
      [EventType.NodeCreated, '/pr/a/b'],
      [EventType.NodeDataChanged, '/pr/a/b'],
      [EventType.NodeDeleted, '/pr/a/b'],
    ]);
    assert.equal(c.watches.persistentRecursive.size, 0);
    await rejectsWith(c.checkWatches('/pr', WatcherType.Any), Err.NoWatcher);
    const w = collector();
    await c.addWatch('/pr', 'persistent', w.watcher);
    await c.create('/pr/c');
    assert.deepEqual(
      (await w.next()).map((e) => e.type),
      [EventType.NodeChildrenChanged],
    );
    await c.removeWatches('/pr', WatcherType.Any, w.watcher);
    assert.deepEqual(
      (await w.next()).map((e) => e.type),
      [EventType.PersistentWatchRemoved],
    );
    await rejectsWith(c.removeWatches('/pr', WatcherType.Data), Err.NoWatcher);
  });

  test('chroot: paths, results, events and multi relative to the chroot', async () => {
    await c.create('/app');
    const cr = await ZooKeeperClient.connect(`${srv.connectString}/app`);
    try {
      assert.equal(await cr.create('/x', 'v'), '/x');
      assert.equal((await c.getData('/app/x')).data?.toString(), 'v');
      assert.deepEqual(await cr.getChildren('/'), ['x']);
      const s = await cr.create('/s-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      assert.match(s, /^\/s-\d{10}$/);
      const w = collector();
      await cr.getData('/x', w.watcher);
      await c.setData('/app/x', 'w');
      assert.deepEqual(
        (await w.next()).map((e) => e.path),
        ['/x'],
      );
      const res = await cr.multi([op.create('/y'), op.setData('/x', 'z')]);
      assert.deepEqual(res[0], { type: 'create', path: '/y', stat: null });
      assert.equal(await cr.sync('/x'), '/x');
      assert.ok((await c.exists('/app/y')) !== null);
    } finally {
      await cr.close();
    }
  });

  test('auth: digest addAuth, creator ACL, NoAuth for others', async () => {
    const a = await ZooKeeperClient.connect(srv.connectString);
    const b = await ZooKeeperClient.connect(srv.connectString);
    try {
      await a.addAuth('digest', 'alice:secret');
      await a.create('/secret', 's', { acl: CREATOR_ALL_ACL });
      assert.equal((await a.getData('/secret')).data?.toString(), 's');
      await rejectsWith(b.getData('/secret'), Err.NoAuth);
      const who = await a.whoAmI();
      assert.ok(who.some((i) => i.authScheme === 'digest' && i.user === 'alice'));
      await rejectsWith(b.create('/noauth', null, { acl: CREATOR_ALL_ACL }), Err.InvalidACL);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('pipelining: thousands of requests in flight, answered in order', async () => {
    await c.create('/pipe');
    const n = 3000;
    const ps: Promise<string>[] = [];
    for (let i = 0; i < n; i++) ps.push(c.create(`/pipe/n-`, String(i), { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
    assert.ok(c.outstanding > 0);
    const paths = await Promise.all(ps);
    for (let i = 0; i < n; i++) assert.equal(paths[i], `/pipe/n-${String(i).padStart(10, '0')}`);
    const datas = await Promise.all(paths.map((p) => c.getData(p)));
    datas.forEach((d, i) => assert.equal(d.data?.toString(), String(i)));
    assert.equal(c.outstanding, 0);
  });

  test('closing ends the session: its ephemerals go, later requests fail', async () => {
    const e = await ZooKeeperClient.connect(srv.connectString);
    await e.create('/gone', null, { mode: CreateMode.EPHEMERAL });
    const states: number[] = [];
    e.onState((s) => states.push(s));
    await e.close();
    assert.equal(e.state, 'closed');
    await rejectsWith(e.getData('/'), Err.ConnectionLoss);
    assert.equal(await c.exists('/gone'), null);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(states, [KeeperState.Closed]);
    // Reusing a closed session's id and password: the server says it expired.
    const x = new ZooKeeperClient(srv.connectString, { sessionId: e.sessionId, sessionPasswd: e.sessionPasswd });
    await rejectsWith(x.connected(), Err.SessionExpired);
    assert.equal(x.state, 'expired');
  });

  test('auth with an unknown scheme: AuthFailed, and the client stops', async () => {
    const states: number[] = [];
    const a = await ZooKeeperClient.connect(srv.connectString, { defaultWatcher: (e) => states.push(e.state) });
    await rejectsWith(a.addAuth('nosuchscheme', 'x'), Err.AuthFailed);
    assert.equal(a.state, 'authFailed');
    await rejectsWith(a.exists('/'), Err.AuthFailed);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(states, [KeeperState.SyncConnected, KeeperState.AuthFailed]);
    await a.close();
  });

  test('connect string with a dead host first moves on to the next', async () => {
    const { freePort } = await import('../support/ports.js');
    const dead = await freePort();
    const m = await ZooKeeperClient.connect(`127.0.0.1:${dead},${srv.connectString}`, { sessionTimeout_ms: 4000 });
    try {
      assert.equal(m.currentHost?.port, srv.port);
      assert.ok((await m.exists('/')) !== null);
    } finally {
      await m.close();
    }
  });
});
