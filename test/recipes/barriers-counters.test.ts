/** Barriers, SharedCount and DistributedAtomicLong against a real tszk server: several clients, session expiry, restart. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DistributedAtomicLong, DistributedBarrier, DistributedDoubleBarrier, RecipeError, SharedCount } from '../../src/recipes/index.js';
import { waitFor } from '../support/wait.js';
import { RecipeServer } from './harness.js';

const srv = new RecipeServer();
before(() => srv.start());
after(() => srv.stop());

test('barrier: waiters on several clients pass together when it is removed, also across a restart', async () => {
  const clients = await Promise.all([0, 1, 2].map(() => srv.client()));
  const setter = new DistributedBarrier(clients[0]!, '/barrier/simple');
  await setter.setBarrier();
  await setter.setBarrier(); // already up is fine
  let passed = 0;
  const waits = clients.slice(1).map((c) => new DistributedBarrier(c, '/barrier/simple').waitOnBarrier().then((v) => (assert.equal(v, true), passed++)));
  assert.equal(await new DistributedBarrier(clients[1]!, '/barrier/simple').waitOnBarrier(100), false);
  await srv.restart();
  assert.equal(passed, 0);
  await setter.removeBarrier();
  await Promise.all(waits);
  assert.equal(passed, 2);
  await setter.removeBarrier(); // already down is fine
});

test('double barrier: nobody is in before all are; nobody leaves before all do; a waiting member whose session expires gets an error', async () => {
  const clients = await Promise.all([0, 1, 2].map(() => srv.client()));
  const entered: number[] = [];
  const barriers = clients.map((c) => new DistributedDoubleBarrier(c, '/barrier/double', 3));
  const enter = (i: number): Promise<number> => barriers[i]!.enter(20_000).then((v) => (assert.equal(v, true), entered.push(i)));
  const firstTwo = [enter(0), enter(1)];
  await waitFor('two member nodes', async () => ((await clients[0]!.getChildren('/barrier/double')).length === 2 ? true : undefined), 5000, 20);
  assert.deepEqual(entered, [], 'entered before the third member');
  await Promise.all([...firstTwo, enter(2)]);
  assert.deepEqual(await Promise.all(barriers.map((b) => b.leave(20_000))), [true, true, true]);
  assert.deepEqual(await clients[0]!.getChildren('/barrier/double'), []);

  const [a, b] = [await srv.client(), await srv.client()];
  const waiting = new DistributedDoubleBarrier(a, '/barrier/double2', 3).enter().then(
    () => 'entered',
    (e: unknown) => e,
  );
  await waitFor('the member node', async () => ((await b.getChildren('/barrier/double2')).length === 1 ? true : undefined), 5000, 20);
  await srv.expire(a);
  assert.match(String(await waiting), /SessionExpired/);
  assert.deepEqual(await b.getChildren('/barrier/double2'), [], 'the expired member left no node');
  assert.throws(() => new DistributedDoubleBarrier(b, '/barrier/x', 0), RecipeError);
});

test('SharedCount: versioned sets from four clients lose no increment; listeners see changes; restart in the middle', async () => {
  const clients = await Promise.all([0, 1, 2, 3].map(() => srv.client()));
  const counts = clients.map((c) => new SharedCount(c, '/shared/count', 5));
  for (const s of counts) await s.start();
  assert.equal(counts[0]!.getCount(), 5);
  const heard: number[] = [];
  counts[0]!.on('countChanged', (n) => heard.push(n));
  const N = 10;
  const restarted = (async () => {
    await new Promise((r) => setTimeout(r, 50));
    await srv.restart();
  })();
  // A set whose reply the restart cut off may or may not have happened; it is tried again, so it may count twice.
  let uncertain = 0;
  await Promise.all(
    counts.map(async (s) => {
      for (let i = 0; i < N; i++) {
        for (;;) {
          const v = s.getVersionedValue();
          try {
            if (await s.trySetCount(v, v.value + 1)) break;
          } catch {
            uncertain++;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
    }),
  );
  await restarted;
  const { data } = await clients[0]!.getData('/shared/count');
  const final = data!.readInt32BE(0);
  assert.ok(final >= 5 + 4 * N && final <= 5 + 4 * N + uncertain, `count ${final}, ${uncertain} uncertain`);
  await waitFor('the last change heard', async () => (counts[0]!.getCount() === final ? true : undefined), 10_000, 20);
  assert.ok(heard.length > 0);
  await counts[1]!.setCount(-7);
  await waitFor('setCount seen', async () => (counts[0]!.getCount() === -7 ? true : undefined), 10_000, 20);
  assert.deepEqual((await clients[0]!.getData('/shared/count')).data, Buffer.from([0xff, 0xff, 0xff, 0xf9]));
  for (const s of counts) s.close();
});

test('DistributedAtomicLong: optimistic increments from four clients all land; compareAndSet and 8-byte layout; an expired client fails clearly', async () => {
  const clients = await Promise.all([0, 1, 2, 3].map(() => srv.client()));
  const longs = clients.map((c) => new DistributedAtomicLong(c, '/atomic/long', { retries: 3, sleep_ms: 1 }));
  assert.equal((await longs[0]!.get()).postValue, 0n, 'absent reads as 0');
  const N = 10;
  await Promise.all(
    longs.map(async (l) => {
      for (let i = 0; i < N; i++) while (!(await l.increment()).succeeded);
    }),
  );
  assert.equal((await longs[1]!.get()).postValue, BigInt(4 * N));
  assert.deepEqual((await clients[0]!.getData('/atomic/long')).data, Buffer.from([0, 0, 0, 0, 0, 0, 0, 4 * N]));
  assert.equal((await longs[0]!.compareAndSet(1n, 2n)).succeeded, false);
  const cas = await longs[0]!.compareAndSet(BigInt(4 * N), -1n);
  assert.deepEqual(cas, { succeeded: true, preValue: BigInt(4 * N), postValue: -1n });
  assert.equal((await longs[2]!.subtract(2n)).postValue, -3n);
  assert.equal(await longs[3]!.initialize(99n), false);
  await longs[3]!.forceSet(1n << 40n);
  assert.equal((await longs[0]!.get()).postValue, 1n << 40n);
  await srv.expire(clients[3]!);
  await assert.rejects(longs[3]!.increment(), /SessionExpired/);
});
