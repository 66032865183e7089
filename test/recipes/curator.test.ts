/**
 * tszk/recipes beside Apache Curator 5 (Debian's libcurator-*-java, driven through
 * CuratorPeer.java) on one tszk server and the same paths: each side must see and respect what
 * the other wrote.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DistributedAtomicLong,
  DistributedBarrier,
  DistributedDoubleBarrier,
  InterProcessMutex,
  InterProcessReadWriteLock,
  InterProcessSemaphoreV2,
  LeaderLatch,
  LeaderSelector,
  newServiceInstance,
  parseUriSpec,
  ServiceDiscovery,
  SharedCount,
} from '../../src/recipes/index.js';
import { skipUnless } from '../support/target.js';
import { waitFor } from '../support/wait.js';
import { CuratorPeer, curatorMissing } from './curator-peer.js';
import { PROTECTED_LOCK_NODE, RecipeServer } from './harness.js';

const skip = skipUnless(curatorMissing());
const srv = new RecipeServer();
let java: CuratorPeer;

before(async () => {
  if (skip) return;
  await srv.start();
  java = await CuratorPeer.start(srv.connectString);
});
after(async () => {
  if (skip) return;
  await java?.close();
  await srv.stop();
});

const children = async (p: string): Promise<string[]> => (await srv.client()).getChildren(p);

test('InterProcessMutex: Curator holds and tszk waits, then tszk holds and Curator waits', { skip, timeout: 60_000 }, async () => {
  const c = await srv.client();
  const m = new InterProcessMutex(c, '/interop/mutex');
  assert.equal(await java.send('mutex-acquire', '/interop/mutex', 10_000), 'true');
  assert.equal(await m.acquire(200), false);
  let nodeGot = false;
  const nodeWaits = m.acquire().then((v) => (nodeGot = v));
  await waitFor('both lock nodes', async () => ((await c.getChildren('/interop/mutex')).length === 2 ? true : undefined), 10_000, 20);
  for (const n of await c.getChildren('/interop/mutex')) assert.match(n, PROTECTED_LOCK_NODE);
  assert.equal(nodeGot, false, 'tszk got the lock while Curator held it');
  await java.send('mutex-release', '/interop/mutex');
  assert.equal(await nodeWaits, true);

  assert.equal(await java.send('mutex-acquire', '/interop/mutex', 200), 'false');
  const javaWaits = java.send('mutex-acquire', '/interop/mutex', 30_000);
  await waitFor('both lock nodes', async () => ((await c.getChildren('/interop/mutex')).length === 2 ? true : undefined), 10_000, 20);
  assert.equal(m.isAcquiredInThisProcess(), true);
  await m.release();
  assert.equal(await javaWaits, 'true');
  assert.equal(await m.acquire(200), false);
  await java.send('mutex-release', '/interop/mutex');
  assert.deepEqual(await children('/interop/mutex'), []);
});

test(
  'InterProcessReadWriteLock and InterProcessSemaphoreV2: Curator and tszk share readers, exclude writers, and count leases together',
  { skip, timeout: 60_000 },
  async () => {
    const c = await srv.client();
    const rw = new InterProcessReadWriteLock(c, '/interop/rw');
    assert.equal(await java.send('rw-acquire', '/interop/rw', 'write', 10_000), 'true');
    assert.equal(await rw.readLock().acquire(200), false);
    await java.send('rw-release', '/interop/rw', 'write');
    assert.equal(await java.send('rw-acquire', '/interop/rw', 'read', 10_000), 'true');
    assert.equal(await rw.readLock().acquire(10_000), true, 'readers on both sides share');
    await rw.readLock().release();
    assert.equal(await rw.writeLock().acquire(200), false, 'a Curator reader keeps the tszk writer out');
    const writerWaits = rw.writeLock().acquire(30_000);
    await waitFor('the writer node', async () => ((await c.getChildren('/interop/rw')).length === 2 ? true : undefined), 10_000, 20);
    await java.send('rw-release', '/interop/rw', 'read');
    assert.equal(await writerWaits, true);
    assert.equal(await java.send('rw-acquire', '/interop/rw', 'read', 200), 'false', 'the tszk writer keeps a Curator reader out');
    await rw.writeLock().release();
    assert.deepEqual(await c.getChildren('/interop/rw'), [], 'no lock node left behind');

    const sem = new InterProcessSemaphoreV2(c, '/interop/sem', 2);
    const javaLease = await java.send('sem-acquire', '/interop/sem', 2, 10_000);
    assert.match(javaLease, /^_c_[0-9a-f-]{36}-lease-\d{10}$/);
    const mine = await sem.acquire(10_000);
    assert.ok(mine);
    assert.equal(await java.send('sem-acquire', '/interop/sem', 2, 200), 'null', 'a third lease beyond two');
    assert.equal(await sem.acquire(200), null);
    const javaWaits = java.send('sem-acquire', '/interop/sem', 2, 30_000);
    await waitFor('the waiting lease', async () => ((await c.getChildren('/interop/sem/leases')).length === 3 ? true : undefined), 10_000, 20);
    await mine.close();
    const second = await javaWaits;
    assert.notEqual(second, 'null');
    assert.deepEqual((await c.getChildren('/interop/sem/leases')).sort(), [javaLease, second].sort());
    await java.send('sem-return', javaLease);
    await java.send('sem-return', second);
    assert.deepEqual((await c.getChildren('/interop/sem')).sort(), ['leases', 'locks']);
  },
);

test('LeaderLatch: one leader among Curator and tszk; closing or killing the leader hands over', { skip, timeout: 90_000 }, async () => {
  const c = await srv.client();
  await java.send('latch-start', '/interop/latch', 'java');
  assert.equal(await java.send('latch-await', '/interop/latch', 10_000), 'true');
  const node = new LeaderLatch(c, '/interop/latch', 'node');
  node.start();
  await waitFor('two latch nodes', async () => ((await c.getChildren('/interop/latch')).length === 2 ? true : undefined), 10_000, 20);
  assert.equal(node.hasLeadership(), false);
  assert.equal((await node.getLeader())?.id, 'java');
  for (const n of await c.getChildren('/interop/latch')) assert.match(n, /^_c_[0-9a-f-]{36}-latch-\d{10}$/);

  await java.send('latch-close', '/interop/latch');
  assert.equal(await node.await(15_000), true);
  await java.send('latch-start', '/interop/latch', 'java2');
  await waitFor('the Curator latch node', async () => ((await c.getChildren('/interop/latch')).length === 2 ? true : undefined), 10_000, 20);
  assert.equal(await java.send('latch-has', '/interop/latch'), 'false');
  assert.equal(await java.send('latch-leader', '/interop/latch'), 'node');
  await node.close();
  assert.equal(await java.send('latch-await', '/interop/latch', 15_000), 'true');
  await java.waitEvent('isLeader java2');

  // Kill the Curator leader outright: its session expires and tszk's latch takes over.
  const node2 = new LeaderLatch(c, '/interop/latch', 'node2');
  node2.start();
  await waitFor('two latch nodes', async () => ((await c.getChildren('/interop/latch')).length === 2 ? true : undefined), 10_000, 20);
  await java.kill();
  assert.equal(await node2.await(30_000), true);
  assert.equal((await node2.getLeader())?.id, 'node2');
  await node2.close();
  java = await CuratorPeer.start(srv.connectString);
});

test('LeaderSelector: Curator and tszk selectors on one path lead one at a time and hand over', { skip, timeout: 60_000 }, async () => {
  const c = await srv.client();
  await java.send('selector-start', '/interop/selector', 'java');
  await java.waitEvent('leading java');
  let release = (): void => {};
  let nodeLeading = false;
  const sel = new LeaderSelector(c, '/interop/selector', {
    id: 'node',
    takeLeadership: () =>
      new Promise<void>((r) => {
        nodeLeading = true;
        release = r;
      }),
  });
  sel.start();
  await waitFor('two contenders', async () => ((await c.getChildren('/interop/selector')).length === 2 ? true : undefined), 10_000, 20);
  assert.deepEqual(
    (await sel.getParticipants()).map((p) => [p.id, p.isLeader]),
    [
      ['java', true],
      ['node', false],
    ],
  );
  assert.equal(nodeLeading, false, 'tszk led while Curator did');
  await java.send('selector-end', '/interop/selector');
  await waitFor('tszk leads', async () => (nodeLeading ? true : undefined), 10_000, 20);
  assert.equal(sel.hasLeadership(), true);
  assert.ok(java.events.includes('ended java'));
  release();
  await sel.close();
  await waitFor('tszk node gone', async () => ((await c.getChildren('/interop/selector')).length === 0 ? true : undefined), 10_000, 20);
});

test(
  'barriers: each side raises, the other waits, and passes when it is lowered; double barrier with members on both sides',
  { skip, timeout: 60_000 },
  async () => {
    const c = await srv.client();
    const b = new DistributedBarrier(c, '/interop/barrier');
    await java.send('barrier-set', '/interop/barrier');
    assert.equal(await b.waitOnBarrier(200), false);
    const nodeWaits = b.waitOnBarrier();
    await java.send('barrier-remove', '/interop/barrier');
    assert.equal(await nodeWaits, true);
    await b.setBarrier();
    assert.equal(await java.send('barrier-wait', '/interop/barrier', 200), 'false');
    const javaWaits = java.send('barrier-wait', '/interop/barrier', 30_000);
    await b.removeBarrier();
    assert.equal(await javaWaits, 'true');

    const javaEnters = java.send('dbarrier-enter', '/interop/double', 2, 30_000);
    await waitFor('the Curator member', async () => ((await c.getChildren('/interop/double').catch(() => [])).length === 1 ? true : undefined), 10_000, 20);
    const db = new DistributedDoubleBarrier(c, '/interop/double', 2);
    assert.equal(await db.enter(30_000), true);
    assert.equal(await javaEnters, 'true');
    const [javaLeft, nodeLeft] = await Promise.all([java.send('dbarrier-leave', '/interop/double', 30_000), db.leave(30_000)]);
    assert.equal(javaLeft, 'true');
    assert.equal(nodeLeft, true);
    assert.deepEqual(await c.getChildren('/interop/double'), []);
  },
);

test('SharedCount and DistributedAtomicLong: concurrent increments from both sides all count, in the same byte layout', { skip, timeout: 60_000 }, async () => {
  const c = await srv.client();
  const count = new SharedCount(c, '/interop/count', 0);
  await count.start();
  const al = new DistributedAtomicLong(c, '/interop/long');
  const N = 15;
  const javaSide = (async () => {
    for (let i = 0; i < N; i++) {
      await java.send('count-inc', '/interop/count');
      await java.send('long-inc', '/interop/long');
    }
  })();
  const nodeSide = (async () => {
    for (let i = 0; i < N; i++) {
      for (;;) {
        const v = count.getVersionedValue();
        if (await count.trySetCount(v, v.value + 1)) break;
      }
      while (!(await al.increment()).succeeded);
    }
  })();
  await Promise.all([javaSide, nodeSide]);
  assert.equal(Number(await java.send('count-get', '/interop/count', 0)), 2 * N);
  assert.equal(Number(await java.send('long-get', '/interop/long')), 2 * N);
  assert.equal((await al.get()).postValue, BigInt(2 * N));
  await waitFor('the count watch', async () => (count.getCount() === 2 * N ? true : undefined), 10_000, 20);
  assert.deepEqual(Buffer.from(await java.send('raw-get', '/interop/count'), 'base64'), Buffer.from([0, 0, 0, 2 * N]));
  assert.deepEqual(Buffer.from(await java.send('raw-get', '/interop/long'), 'base64'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 2 * N]));
  count.close();
});

test('ServiceDiscovery: instances registered by Curator are read by tszk and the other way round', { skip, timeout: 60_000 }, async () => {
  const c = await srv.client();
  await java.send('disc-register', '/interop/services', 'api', 'java-1', '127.0.0.1', 8080);
  const d = new ServiceDiscovery(c, '/interop/services');
  await d.start();
  const [fromJava] = await d.queryForInstances('api');
  assert.ok(fromJava);
  const raw = JSON.parse((await c.getData('/interop/services/api/java-1')).data!.toString()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(raw), ['name', 'id', 'address', 'port', 'sslPort', 'payload', 'registrationTimeUTC', 'serviceType', 'uriSpec', 'enabled']);
  assert.equal(fromJava.name, 'api');
  assert.equal(fromJava.id, 'java-1');
  assert.equal(fromJava.address, '127.0.0.1');
  assert.equal(fromJava.port, 8080);
  assert.equal(fromJava.serviceType, 'DYNAMIC');
  assert.equal(fromJava.enabled, true);
  assert.deepEqual(fromJava.uriSpec, parseUriSpec('{scheme}://{address}:{port}'));
  assert.equal((fromJava.payload as Record<string, unknown>)['from'], 'curator');

  const mine = newServiceInstance({
    name: 'api',
    id: 'node-1',
    address: '127.0.0.1',
    port: 9090,
    payload: { from: 'tszk' },
    uriSpec: parseUriSpec('{scheme}://{address}:{port}'),
  });
  await d.registerService(mine);
  const seen = JSON.parse(await java.send('disc-query', '/interop/services', 'api')) as Record<string, unknown>[];
  const byId = new Map(seen.map((s) => [s['id'], s]));
  assert.deepEqual(
    { ...byId.get('node-1') },
    {
      name: 'api',
      id: 'node-1',
      address: '127.0.0.1',
      port: 9090,
      sslPort: null,
      payload: { from: 'tszk' },
      serviceType: 'DYNAMIC',
      enabled: true,
      registrationTimeUTC: mine.registrationTimeUTC,
      uri: 'http://127.0.0.1:9090',
    },
  );
  assert.ok(byId.has('java-1'));
  await d.close();
  assert.deepEqual(await c.getChildren('/interop/services/api'), ['java-1']);
});
