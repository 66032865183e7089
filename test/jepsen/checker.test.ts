/** The Jepsen checker accepts real-looking valid histories and rejects each kind of anomaly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJepsenHistory } from './checker.js';
import type { CasWrite, JepsenOp, SyncRead } from './history.js';

const w = (client: number, ev: number, value: string, invoke: number, response: number | null, result: CasWrite['result']): CasWrite => ({
  kind: 'write',
  client,
  key: 'r0',
  expectedVersion: ev,
  value,
  invoke,
  response,
  result,
});
const r = (client: number, invoke: number, response: number, version: number, value: string, mzxid: bigint, zxid: bigint): SyncRead => ({
  kind: 'read',
  client,
  key: 'r0',
  sync: true,
  invoke,
  response,
  failed: false,
  version,
  value,
  mzxid,
  zxid,
  member: 'm',
});

const valid = (): JepsenOp[] => [
  w(1, 0, 'a', 0, 10, { ok: true, version: 1, zxid: 5n }),
  w(2, 0, 'b', 1, 11, { ok: false }), // concurrent with a: fails after it
  r(3, 12, 20, 1, 'a', 5n, 5n),
  w(2, 1, 'c', 21, null, 'unknown'), // landed: seen by the read below
  w(1, 1, 'd', 22, 30, { ok: false }),
  r(1, 31, 40, 2, 'c', 9n, 9n),
  w(3, 2, 'e', 41, null, 'unknown'), // never seen; may or may not have happened
  r(3, 45, 50, 2, 'c', 9n, 12n),
];

test('a valid history with acknowledged, failed and unknown writes and sync reads passes', () => {
  const res = checkJepsenHistory(valid());
  assert.deepEqual(res.violations, []);
  assert.equal(res.writes.unknownLanded, 1);
});

test('a lost acknowledged write (sync+read after its ack sees the old value) fails', () => {
  const h = valid();
  h.push(w(4, 2, 'f', 51, 55, { ok: true, version: 3, zxid: 20n }), r(5, 60, 70, 2, 'c', 9n, 19n));
  const res = checkJepsenHistory(h);
  assert.ok(!res.ok);
  assert.match(res.violations.join('\n'), /misses a write acknowledged/);
});

test('a CAS that failed while the register held its expected version throughout fails', () => {
  const h = valid();
  h.push(w(4, 2, 'g', 100, 110, { ok: false }));
  const res = checkJepsenHistory(h);
  assert.match(res.violations.join('\n'), /held v2 for its whole duration/);
});

test('two writes acknowledged with the same version fail; a value nobody wrote fails; time travel fails', () => {
  const h1 = valid();
  h1.push(w(4, 0, 'x', 3, 9, { ok: true, version: 1, zxid: 4n }));
  assert.match(checkJepsenHistory(h1).violations.join('\n'), /acknowledged to two writes/);
  const h2 = valid();
  h2.push(r(4, 80, 90, 2, 'zzz', 9n, 12n));
  assert.match(checkJepsenHistory(h2).violations.join('\n'), /written as c|nobody wrote/);
  const h3 = valid();
  h3.push(r(1, 80, 90, 1, 'a', 5n, 6n));
  assert.match(checkJepsenHistory(h3).violations.join('\n'), /stale read|back in time/);
});

test('a write acknowledged before another began must take effect first (real time)', () => {
  const h: JepsenOp[] = [w(1, 0, 'a', 0, 10, { ok: true, version: 2, zxid: 7n }), w(2, 0, 'b', 20, 30, { ok: true, version: 1, zxid: 6n })];
  assert.ok(!checkJepsenHistory(h).ok);
  const h2: JepsenOp[] = [w(1, 1, 'a', 0, 10, { ok: true, version: 2, zxid: 7n }), w(2, 0, 'b', 20, 30, { ok: true, version: 1, zxid: 6n })];
  assert.match(checkJepsenHistory(h2).violations.join('\n'), /no linearization|cannot take effect in version order/);
});

test('a plain read (no sync) may be behind other clients but not behind its own client', () => {
  const h = valid();
  h.push(w(4, 2, 'f', 51, 55, { ok: true, version: 3, zxid: 20n }), { ...r(5, 60, 70, 2, 'c', 9n, 19n), sync: false });
  assert.deepEqual(checkJepsenHistory(h).violations, []);
  h.push({ ...r(4, 80, 90, 2, 'c', 9n, 19n), sync: false });
  assert.match(checkJepsenHistory(h).violations.join('\n'), /went back in time/);
});
