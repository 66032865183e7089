/** InterProcessMutex against a real tszk server: exclusion under contention, reentrancy, timeouts, session loss, restarts, bad input. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateMode, Err, KeeperError } from '../../src/client/index.js';
import { InterProcessMutex, RecipeError } from '../../src/recipes/index.js';
import { retrying } from '../../src/recipes/retry.js';
import { waitFor } from '../support/wait.js';
import { once, PROTECTED_LOCK_NODE, RecipeServer } from './harness.js';

const srv = new RecipeServer();
before(() => srv.start());
after(() => srv.stop());

test('four clients contending: never two inside, every turn taken, nodes named as Curator names them', async () => {
  const clients = await Promise.all([0, 1, 2, 3].map(() => srv.client()));
  let inside = 0;
  let turns = 0;
  const names = new Set<string>();
  await Promise.all(
    clients.map(async (c) => {
      const m = new InterProcessMutex(c, '/locks/contended');
      for (let i = 0; i < 8; i++) {
        assert.equal(await m.acquire(), true);
        inside++;
        assert.equal(inside, 1, 'two holders at once');
        names.add(m.lockNodePath!.split('/').pop()!);
        await new Promise((r) => setTimeout(r, 2));
        inside--;
        turns++;
        await m.release();
      }
    }),
  );
  assert.equal(turns, 32);
  for (const n of names) assert.match(n, PROTECTED_LOCK_NODE);
  assert.deepEqual(await clients[0]!.getChildren('/locks/contended'), []);
});

test('reentrant per instance: released with the last hold; release when not held is an error', async () => {
  const c = await srv.client();
  const m = new InterProcessMutex(c, '/locks/reentrant');
  assert.equal(await m.acquire(), true);
  assert.equal(await m.acquire(), true);
  await m.release();
  assert.equal(m.isAcquiredInThisProcess(), true);
  assert.equal((await c.getChildren('/locks/reentrant')).length, 1);
  await m.release();
  assert.equal(m.isAcquiredInThisProcess(), false);
  assert.deepEqual(await c.getChildren('/locks/reentrant'), []);
  await assert.rejects(m.release(), RecipeError);
});

test('a timed acquire that cannot get the lock returns false and leaves no node', async () => {
  const [a, b] = [await srv.client(), await srv.client()];
  const ma = new InterProcessMutex(a, '/locks/timeout');
  const mb = new InterProcessMutex(b, '/locks/timeout');
  assert.equal(await ma.acquire(), true);
  assert.equal(await mb.acquire(150), false);
  assert.deepEqual(await a.getChildren('/locks/timeout'), [ma.lockNodePath!.split('/').pop()]);
  const ac = new AbortController();
  const waiting = mb.acquire(undefined, { signal: ac.signal });
  await waitFor('the waiter node', async () => ((await a.getChildren('/locks/timeout')).length === 2 ? true : undefined), 5000, 20);
  ac.abort();
  await assert.rejects(waiting);
  assert.equal((await a.getChildren('/locks/timeout')).length, 1);
  await ma.release();
});

test('holder session expires: it is told (lost), stops claiming the lock, and the waiter gets it', async () => {
  const [a, b] = [await srv.client(), await srv.client()];
  const ma = new InterProcessMutex(a, '/locks/expiry');
  const mb = new InterProcessMutex(b, '/locks/expiry');
  assert.equal(await ma.acquire(), true);
  const waiting = mb.acquire();
  await waitFor('the waiter node', async () => ((await b.getChildren('/locks/expiry')).length === 2 ? true : undefined), 5000, 20);
  const lost = once(ma, 'lost');
  await srv.expire(a);
  await lost;
  assert.equal(ma.isAcquiredInThisProcess(), false);
  assert.equal(await waiting, true);
  assert.equal(mb.isAcquiredInThisProcess(), true);
  await mb.release();
});

test('holder cut off from the server: it gives the lock up after a session timeout (LOST), the waiter gets it, and the holder later hears it expired', async () => {
  const a = await srv.client(4000);
  const b = await srv.client();
  const ma = new InterProcessMutex(a, '/locks/partition');
  const mb = new InterProcessMutex(b, '/locks/partition');
  assert.equal(await ma.acquire(), true);
  const waiting = mb.acquire();
  await waitFor('the waiter node', async () => ((await b.getChildren('/locks/partition')).length === 2 ? true : undefined), 5000, 20);
  const lost = once(ma, 'lost');
  srv.partition(a);
  await lost;
  assert.equal(ma.isAcquiredInThisProcess(), false);
  assert.equal(await waiting, true);
  srv.heal(a);
  await waitFor('a hears its session expired', async () => (a.state === 'expired' ? true : undefined), 20_000, 20);
  assert.deepEqual(await b.getChildren('/locks/partition'), [mb.lockNodePath!.split('/').pop()]);
  await mb.release();
});

test('server restart: the holder keeps its session and the lock; the waiter gets it after release', async () => {
  const [a, b] = [await srv.client(), await srv.client()];
  const ma = new InterProcessMutex(a, '/locks/restart');
  const mb = new InterProcessMutex(b, '/locks/restart');
  assert.equal(await ma.acquire(), true);
  let bGot = false;
  const waiting = mb.acquire().then((v) => (bGot = v));
  await waitFor('the waiter node', async () => ((await b.getChildren('/locks/restart')).length === 2 ? true : undefined), 5000, 20);
  await srv.restart();
  await waitFor('reconnect', async () => (a.state === 'connected' && b.state === 'connected' ? true : undefined), 20_000, 20);
  assert.equal(ma.isAcquiredInThisProcess(), true);
  assert.equal(bGot, false);
  assert.equal((await a.getChildren('/locks/restart')).length, 2);
  await ma.release();
  assert.equal(await waiting, true);
  await mb.release();
});

test('the waiting client closes: acquire fails with a clear error and leaves no node', async () => {
  const [a, b] = [await srv.client(), await srv.client()];
  const ma = new InterProcessMutex(a, '/locks/close');
  const mb = new InterProcessMutex(b, '/locks/close');
  assert.equal(await ma.acquire(), true);
  const waiting = mb.acquire().then(
    () => 'acquired',
    (e: unknown) => e,
  );
  await waitFor('the waiter node', async () => ((await a.getChildren('/locks/close')).length === 2 ? true : undefined), 5000, 20);
  await b.close();
  const outcome = await waiting;
  assert.ok(outcome instanceof RecipeError && /closed/.test(outcome.message), String(outcome));
  assert.equal((await a.getChildren('/locks/close')).length, 1);
  await ma.release();
  await assert.rejects(new InterProcessMutex(b, '/locks/close').acquire(), /closed/);
});

test('a request cut off by close() fails saying the client was closed, not with a connection loss', async () => {
  // The race the test above can hit: the waiter's read is on the wire when close() ends the connection.
  const c = await srv.client();
  const cutOff = retrying(c, async () => {
    await c.close();
    throw new KeeperError(Err.ConnectionLoss);
  });
  await assert.rejects(cutOff, (e: unknown) => e instanceof RecipeError && /closed/.test(e.message));
});

test('a chrooted client locks inside its chroot, excluding a plain client on the full path', async () => {
  const plain = await srv.client();
  await plain.create('/app', null);
  const rooted = await srv.client(6000, '/app');
  const mr = new InterProcessMutex(rooted, '/locks/chroot');
  const mp = new InterProcessMutex(plain, '/app/locks/chroot');
  assert.equal(await mr.acquire(), true);
  assert.equal(mr.lockNodePath!.startsWith('/locks/chroot/'), true);
  assert.equal(await mp.acquire(150), false);
  assert.deepEqual(await mp.getParticipantNodes(), [`/app${mr.lockNodePath}`]);
  await mr.release();
  assert.equal(await mp.acquire(2000), true);
  assert.equal(await mr.acquire(150), false);
  await mp.release();
});

test('foreign children of the lock node are ignored; bad paths are refused at construction', async () => {
  const c = await srv.client();
  await c.create('/locks/foreign', null);
  await c.create('/locks/foreign/zzz-not-a-lock', null);
  await c.create('/locks/foreign/0000000000', null, { mode: CreateMode.PERSISTENT });
  const m = new InterProcessMutex(c, '/locks/foreign');
  assert.equal(await m.acquire(2000), true);
  assert.deepEqual(await m.getParticipantNodes(), [m.lockNodePath]);
  await m.release();
  for (const bad of ['relative', '/trailing/', '/a//b', '/a/../b', '/zookeeper/lock', '']) assert.throws(() => new InterProcessMutex(c, bad), RecipeError, bad);
});
