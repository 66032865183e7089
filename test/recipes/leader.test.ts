/** LeaderLatch and LeaderSelector against a real tszk server: one leader among several clients, through closes, session expiry and restarts. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ZooKeeperClient } from '../../src/client/index.js';
import { LeaderLatch, LeaderSelector, RecipeError } from '../../src/recipes/index.js';
import { waitFor } from '../support/wait.js';
import { once, RecipeServer } from './harness.js';

const srv = new RecipeServer();
before(() => srv.start());
after(() => srv.stop());

async function oneLeader(latches: LeaderLatch[]): Promise<LeaderLatch> {
  return waitFor(
    'exactly one leader',
    async () => {
      const leaders = latches.filter((l) => l.hasLeadership());
      return leaders.length === 1 ? leaders[0] : undefined;
    },
    20_000,
    20,
  );
}

test('latch: three clients, one leader at a time; closing the leader hands over until the last', async () => {
  const clients = await Promise.all([0, 1, 2].map(() => srv.client()));
  const latches = clients.map((c, i) => new LeaderLatch(c, '/leader/latch', `p${i}`));
  for (const l of latches) l.start();
  let live = [...latches];
  while (live.length > 0) {
    const leader = await oneLeader(live);
    assert.equal((await leader.getLeader())?.id, leader.id);
    assert.equal((await leader.getParticipants()).length, live.length);
    const lostLeadership = once(leader, 'notLeader');
    await leader.close();
    await lostLeadership;
    assert.equal(leader.hasLeadership(), false);
    live = live.filter((l) => l !== leader);
  }
  assert.deepEqual(await clients[0]!.getChildren('/leader/latch'), []);
  assert.throws(() => latches[0]!.start(), RecipeError);
});

test('latch: the leader whose session expires hears notLeader and stops claiming; another leads', async () => {
  const clients = await Promise.all([0, 1, 2].map(() => srv.client()));
  const latches = clients.map((c, i) => new LeaderLatch(c, '/leader/expiry', `p${i}`));
  for (const l of latches) l.start();
  const leader = await oneLeader(latches);
  const notLeader = once(leader, 'notLeader');
  await srv.expire(clients[latches.indexOf(leader)]!);
  await notLeader;
  assert.equal(leader.hasLeadership(), false);
  const rest = latches.filter((l) => l !== leader);
  const next = await oneLeader(rest);
  assert.equal(leader.hasLeadership(), false);
  assert.equal((await next.getParticipants()).length, 2);
  for (const l of rest) await l.close();
});

test('latch: a server restart suspends leadership; after reconnecting there is again exactly one leader', async () => {
  const clients = await Promise.all([0, 1].map(() => srv.client()));
  const latches = clients.map((c, i) => new LeaderLatch(c, '/leader/restart', `p${i}`));
  for (const l of latches) l.start();
  const leader = await oneLeader(latches);
  const notLeader = once(leader, 'notLeader');
  await srv.restart();
  await notLeader;
  const again = await oneLeader(latches);
  assert.equal(again, leader, 'the same session keeps the lowest node');
  for (const l of latches) await l.close();
});

test('latch: await() gives false on timeout and when closed; aborts with its signal', async () => {
  const [a, b] = [await srv.client(), await srv.client()];
  const la = new LeaderLatch(a, '/leader/await', 'a');
  la.start();
  assert.equal(await la.await(10_000), true);
  const lb = new LeaderLatch(b, '/leader/await', 'b');
  lb.start();
  assert.equal(await lb.await(150), false);
  const ac = new AbortController();
  const aborted = lb.await(undefined, { signal: ac.signal });
  ac.abort();
  await assert.rejects(aborted);
  const waiting = lb.await();
  await lb.close();
  assert.equal(await waiting, false);
  await la.close();
});

test('selector: three clients with autoRequeue take turns, never two leading; leadership is cancelled on session loss', async () => {
  const clients: ZooKeeperClient[] = await Promise.all([0, 1, 2].map(() => srv.client()));
  let leading = 0;
  let turns = 0;
  const selectors = clients.map(
    (c, i) =>
      new LeaderSelector(c, '/leader/selector', {
        id: `s${i}`,
        autoRequeue: true,
        takeLeadership: async () => {
          leading++;
          assert.equal(leading, 1, 'two leaders at once');
          turns++;
          await new Promise((r) => setTimeout(r, 10));
          leading--;
        },
      }),
  );
  for (const s of selectors) s.start();
  await waitFor('nine turns', async () => (turns >= 9 ? true : undefined), 30_000, 20);
  for (const s of selectors) await s.close();
  assert.deepEqual(await clients[0]!.getChildren('/leader/selector'), []);

  // A leader that would lead forever is told to stop when its session is lost.
  const [a, b] = [await srv.client(), await srv.client()];
  let cancelled: unknown;
  const sa = new LeaderSelector(a, '/leader/cancel', {
    takeLeadership: (signal) =>
      new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          cancelled = signal.reason;
          resolve();
        }),
      ),
  });
  let bLed = false;
  const sb = new LeaderSelector(b, '/leader/cancel', { takeLeadership: async () => void (bLed = true) });
  sa.start();
  await waitFor('a leads', async () => (sa.hasLeadership() ? true : undefined), 10_000, 20);
  sb.start();
  await srv.expire(a);
  await waitFor('b leads', async () => (bLed ? true : undefined), 20_000, 20);
  assert.ok(cancelled instanceof RecipeError);
  assert.equal(sa.hasLeadership(), false);
  await sa.close();
  await sb.close();
});
