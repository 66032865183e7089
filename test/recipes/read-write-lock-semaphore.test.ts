/** InterProcessReadWriteLock and InterProcessSemaphoreV2 against a real tszk server: contention, layouts, session expiry, restart. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InterProcessReadWriteLock, InterProcessSemaphoreV2, RecipeError } from '../../src/recipes/index.js';
import { waitFor } from '../support/wait.js';
import { once, RecipeServer } from './harness.js';

const srv = new RecipeServer();
before(() => srv.start());
after(() => srv.stop());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('read/write lock: readers share, a writer is alone, node names as Curator', async () => {
  const clients = await Promise.all([0, 1, 2, 3].map(() => srv.client()));
  let readers = 0;
  let writers = 0;
  let maxReaders = 0;
  const names = new Set<string>();
  await Promise.all(
    clients.map(async (c, i) => {
      const rw = new InterProcessReadWriteLock(c, '/rw/contended');
      for (let k = 0; k < 6; k++) {
        const write = (k + i) % 3 === 0;
        const lock = write ? rw.writeLock() : rw.readLock();
        assert.equal(await lock.acquire(), true);
        names.add(lock.lockNodePath!.split('/').pop()!);
        if (write) {
          writers++;
          assert.equal(writers + readers, 1, 'a writer was not alone');
        } else {
          readers++;
          assert.equal(writers, 0, 'a reader beside a writer');
          maxReaders = Math.max(maxReaders, readers);
        }
        await sleep(5);
        if (write) writers--;
        else readers--;
        await lock.release();
      }
    }),
  );
  assert.ok(maxReaders >= 1);
  for (const n of names) assert.match(n, /^_c_[0-9a-f-]{36}-__(READ|WRIT)__\d{10}$/);
  assert.deepEqual(await clients[0]!.getChildren('/rw/contended'), []);
});

test('read/write lock: two readers hold at once while a writer waits; the write holder may also read', async () => {
  const [a, b, w] = [await srv.client(), await srv.client(), await srv.client()];
  const ra = new InterProcessReadWriteLock(a, '/rw/share').readLock();
  const rb = new InterProcessReadWriteLock(b, '/rw/share').readLock();
  const wl = new InterProcessReadWriteLock(w, '/rw/share');
  assert.equal(await ra.acquire(2000), true);
  assert.equal(await rb.acquire(2000), true);
  assert.equal(await wl.writeLock().acquire(150), false);
  await ra.release();
  await rb.release();
  assert.equal(await wl.writeLock().acquire(2000), true);
  assert.equal(await ra.acquire(150), false);
  assert.equal(await wl.readLock().acquire(2000), true, 'downgrade: the writer takes the read lock');
  await wl.writeLock().release();
  assert.equal(await rb.acquire(2000), true, 'readers share with the downgraded reader');
  await wl.readLock().release();
  await rb.release();
});

test('read/write lock: a writer whose session expires is told; the waiting reader gets in', async () => {
  const [w, r] = [await srv.client(), await srv.client()];
  const wl = new InterProcessReadWriteLock(w, '/rw/expiry').writeLock();
  const rl = new InterProcessReadWriteLock(r, '/rw/expiry').readLock();
  assert.equal(await wl.acquire(), true);
  const waiting = rl.acquire();
  await waitFor('the reader node', async () => ((await r.getChildren('/rw/expiry')).length === 2 ? true : undefined), 5000, 20);
  const lost = once(wl, 'lost');
  await srv.expire(w);
  await lost;
  assert.equal(wl.isAcquiredInThisProcess(), false);
  assert.equal(await waiting, true);
  await rl.release();
});

test('semaphore: four clients, two leases, never more than two holders; layout leases/ and locks/', async () => {
  const clients = await Promise.all([0, 1, 2, 3].map(() => srv.client()));
  let holders = 0;
  let peak = 0;
  await Promise.all(
    clients.map(async (c) => {
      const s = new InterProcessSemaphoreV2(c, '/sem/contended', 2);
      for (let k = 0; k < 5; k++) {
        const lease = await s.acquire();
        assert.ok(lease);
        assert.match(lease.path, /^\/sem\/contended\/leases\/_c_[0-9a-f-]{36}-lease-\d{10}$/);
        holders++;
        peak = Math.max(peak, holders);
        assert.ok(holders <= 2, 'more holders than leases');
        await sleep(5);
        holders--;
        await lease.close();
      }
    }),
  );
  assert.ok(peak >= 1);
  assert.deepEqual((await clients[0]!.getChildren('/sem/contended')).sort(), ['leases', 'locks']);
  assert.deepEqual(await clients[0]!.getChildren('/sem/contended/leases'), []);
});

test('semaphore: a timed acquire gives up and leaves nothing; an expired holder frees its lease; restart keeps leases', async () => {
  const [a, b] = [await srv.client(), await srv.client()];
  const sa = new InterProcessSemaphoreV2(a, '/sem/one', 1);
  const sb = new InterProcessSemaphoreV2(b, '/sem/one', 1);
  const held = await sa.acquire();
  assert.ok(held);
  assert.equal(await sb.acquire(150), null);
  assert.equal((await b.getChildren('/sem/one/leases')).length, 1);
  assert.equal(await sb.acquireMany(2, 150), null);

  await srv.restart();
  await waitFor('reconnect', async () => (a.state === 'connected' ? true : undefined), 20_000, 20);
  assert.deepEqual(await a.getChildren('/sem/one/leases'), [held.nodeName]);

  const waiting = sb.acquire();
  await waitFor('the waiter lease', async () => ((await b.getChildren('/sem/one/leases')).length === 2 ? true : undefined), 10_000, 20);
  const lost = once(sa, 'lost');
  await srv.expire(a);
  await lost;
  const got = await waiting;
  assert.ok(got);
  await got.close();
  assert.throws(() => new InterProcessSemaphoreV2(b, '/sem/bad', 0), RecipeError);
});
