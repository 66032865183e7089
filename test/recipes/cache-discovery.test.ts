/** CuratorCache and ServiceDiscovery against a real tszk server: changes by other clients, restart, session expiry. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateMode } from '../../src/client/index.js';
import { CuratorCache, newServiceInstance, RecipeError, ServiceDiscovery, type CacheChange } from '../../src/recipes/index.js';
import { waitFor } from '../support/wait.js';
import { RecipeServer } from './harness.js';

const srv = new RecipeServer();
before(() => srv.start());
after(() => srv.stop());

test('cache: loads the subtree, follows creates, changes and deletes by other clients, and catches up after a restart', async () => {
  const [w1, w2, r] = [await srv.client(), await srv.client(), await srv.client()];
  await w1.create('/cache', 'root');
  await w1.create('/cache/a', '1');
  const cache = new CuratorCache(r, '/cache');
  const seen: CacheChange[] = [];
  const ac = new AbortController();
  const iterating = (async () => {
    for await (const ch of cache.changes(ac.signal)) seen.push(ch);
  })();
  await cache.start();
  assert.deepEqual(
    seen.map((c) => c.type),
    ['created', 'created', 'initialized'],
  );
  assert.equal(cache.get('/cache/a')?.data?.toString(), '1');

  await w2.create('/cache/a/deep', 'x');
  await w1.setData('/cache/a', '2');
  await w2.create('/cache/b', 'b', { mode: CreateMode.EPHEMERAL });
  await waitFor(
    'the changes',
    async () => (cache.get('/cache/b') && cache.get('/cache/a')?.data?.toString() === '2' && cache.get('/cache/a/deep') ? true : undefined),
    10_000,
    20,
  );
  await w2.delete('/cache/a/deep');
  await waitFor('the delete', async () => (cache.get('/cache/a/deep') === undefined ? true : undefined), 10_000, 20);

  await srv.restart();
  // While the cache's client reconnects, another client changes the tree; the cache must catch up.
  await waitFor('w1 reconnected', async () => (w1.state === 'connected' ? true : undefined), 20_000, 20);
  await w1.setData('/cache', 'root2');
  await w1.create('/cache/c', 'c');
  await waitFor('caught up', async () => (cache.get('/cache')?.data?.toString() === 'root2' && cache.get('/cache/c') ? true : undefined), 20_000, 20);

  // A session expiry takes w2's ephemeral node with it.
  await srv.expire(w2);
  await waitFor('ephemeral gone', async () => (cache.get('/cache/b') === undefined ? true : undefined), 20_000, 20);
  assert.deepEqual(
    cache
      .entries()
      .map((n) => n.path)
      .sort(),
    ['/cache', '/cache/a', '/cache/c'],
  );
  assert.ok(seen.some((c) => c.type === 'deleted' && c.old.path === '/cache/b'));
  assert.ok(seen.some((c) => c.type === 'changed' && c.node.path === '/cache/a' && c.old.data?.toString() === '1'));
  ac.abort();
  await iterating;
  await cache.close();
});

test('discovery: instances from several clients, JSON as curator-x-discovery; an expired registrant disappears; re-registration after restart', async () => {
  const [a, b, q] = [await srv.client(), await srv.client(), await srv.client()];
  const da = new ServiceDiscovery(a, '/services');
  const db = new ServiceDiscovery(b, '/services');
  const dq = new ServiceDiscovery(q, '/services');
  for (const d of [da, db, dq]) await d.start();
  const ia = newServiceInstance({ name: 'web', id: 'a', address: '127.0.0.1', port: 8001 });
  const ib = newServiceInstance({ name: 'web', id: 'b', address: '127.0.0.1', port: 8002, sslPort: 8443, payload: { zone: 'z1' } });
  const ip = newServiceInstance({ name: 'db', id: 'p', address: '127.0.0.1', port: 5432, serviceType: 'PERMANENT' });
  await da.registerService(ia);
  await db.registerService(ib);
  await db.registerService(ip);
  assert.deepEqual((await dq.queryForNames()).sort(), ['db', 'web']);
  assert.deepEqual((await dq.queryForInstances('web')).map((i) => i.id).sort(), ['a', 'b']);
  assert.deepEqual(await dq.queryForInstance('web', 'b'), ib);
  const raw = JSON.parse((await q.getData('/services/web/b')).data!.toString()) as Record<string, unknown>;
  assert.deepEqual(raw, { ...ib });
  assert.equal((await q.exists('/services/web/a'))!.ephemeralOwner, a.sessionId);
  assert.equal((await q.exists('/services/db/p'))!.ephemeralOwner, 0n);

  await db.updateService({ ...ib, port: 9002 });
  assert.equal((await dq.queryForInstance('web', 'b'))?.port, 9002);

  await srv.expire(a);
  assert.deepEqual(
    (await dq.queryForInstances('web')).map((i) => i.id),
    ['b'],
  );

  // b's registration survives a restart (same session); a deleted registration is made again on RECONNECTED.
  await q.delete('/services/web/b');
  await srv.restart();
  await waitFor('b registered again', async () => ((await dq.queryForInstance('web', 'b'))?.port === 9002 ? true : undefined), 20_000, 50);
  await db.close();
  assert.deepEqual(await dq.queryForInstances('web'), []);
  await assert.rejects(db.registerService(newServiceInstance({ name: '..', address: 'x' })), RecipeError);
  await assert.rejects(dq.updateService(ia), RecipeError);
});
