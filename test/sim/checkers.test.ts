import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Checkers, Violation } from '../../src/sim/checkers.js';
import { VirtualDisk } from '../../src/sim/disk.js';
import type { ReadOp, WriteOp } from '../../src/sim/history.js';
import { checkRegister, isWitness } from '../../src/sim/linearizability.js';
import { encodeWrite } from '../../src/sim/machine.js';
import { epoch, makeZxid, type Zxid } from '../../src/zab/types.js';

/** Each checker fails on a history that breaks its rule (and passes the repaired one). */

const z = (e: number, c: number): Zxid => makeZxid(epoch(BigInt(e)), BigInt(c));
const txn = (e: number, c: number, key = 'k', value = `${e}.${c}`) => ({
  zxid: z(e, c),
  data: encodeWrite({ client: 0, req: c, origin: 0, key, expectedVersion: -1, value }),
});
function durableEverywhere(n: number): { disks: VirtualDisk[]; hold: (t: ReturnType<typeof txn>) => void } {
  const disks = Array.from({ length: n }, () => new VirtualDisk());
  return { disks, hold: (t) => disks.forEach((d) => d.durable.push(t)) };
}
function throwsIn(checker: string, f: () => void): void {
  assert.throws(f, (e: unknown) => e instanceof Violation && e.checker === checker);
}
const w = (o: Partial<WriteOp>): WriteOp => ({
  kind: 'write',
  client: 1,
  key: 'k',
  expectedVersion: -1,
  value: 'v',
  invoke: 0,
  response: 1,
  result: { ok: true, version: 1 },
  zxid: null,
  ...o,
});

test('agreement: a peer applying a different txn at the same position fails', () => {
  const { disks, hold } = durableEverywhere(3);
  const c = new Checkers(() => disks);
  hold(txn(1, 1));
  c.onApply(1, -1, txn(1, 1));
  c.onApply(2, -1, txn(1, 1));
  throwsIn('agreement', () => c.onApply(3, -1, txn(1, 1, 'k', 'other')));
});

test('primary order: a hole in an epoch, or an epoch not starting at 1, fails', () => {
  const { disks, hold } = durableEverywhere(3);
  const c = new Checkers(() => disks);
  [txn(1, 1), txn(1, 2), txn(1, 4), txn(2, 2)].forEach(hold);
  const at = c.onApply(1, -1, txn(1, 1));
  c.onApply(1, at, txn(1, 2));
  throwsIn('primary order', () => c.onApply(1, at + 1, txn(1, 4)));
  throwsIn('primary order', () => c.onApply(1, at + 1, txn(2, 2)));
});

test('durability: a commit held by a minority of voters fails', () => {
  const disks = [new VirtualDisk(), new VirtualDisk(), new VirtualDisk()];
  const c = new Checkers(() => disks);
  disks[0]!.durable.push(txn(1, 1));
  throwsIn('durability', () => c.onApply(1, -1, txn(1, 1)));
  const c2 = new Checkers(() => disks);
  disks[1]!.durable.push(txn(1, 1));
  c2.onApply(1, -1, txn(1, 1));
  disks[1]!.truncate(z(0, 0)); // later lost from one disk: no longer on a quorum
  throwsIn('durability', () => c2.checkDurable());
});

test('one leader per epoch and primary integrity', () => {
  const { disks, hold } = durableEverywhere(3);
  const c = new Checkers(() => disks);
  hold(txn(1, 1));
  c.onApply(1, -1, txn(1, 1));
  const state = (log: ReturnType<typeof txn>[]) => ({ snapZxid: z(0, 0), log }) as never;
  c.onEstablished(1, 2n, state([txn(1, 1)]));
  throwsIn('one leader per epoch', () => c.onEstablished(2, 2n, state([txn(1, 1)])));
  throwsIn('primary integrity', () => c.onEstablished(3, 3n, state([])));
});

test('linearizability: a CAS history with no valid order fails; unknown outcomes may go either way', () => {
  assert.ok(
    checkRegister([
      w({ expectedVersion: 0, result: { ok: true, version: 1 } }),
      w({ expectedVersion: 1, invoke: 2, response: 3, result: { ok: true, version: 2 } }),
    ]).ok,
  );
  // Two successful CAS from version 0, one after the other: impossible.
  assert.ok(!checkRegister([w({ expectedVersion: 0 }), w({ expectedVersion: 0, invoke: 2, response: 3 })]).ok);
  // A stale read-modify-write that saw version 1 after version 2 was acknowledged.
  assert.ok(
    !checkRegister([
      w({ expectedVersion: -1, invoke: 0, response: 1, result: { ok: true, version: 1 } }),
      w({ expectedVersion: -1, invoke: 2, response: 3, result: { ok: true, version: 2 } }),
      w({ expectedVersion: 1, invoke: 4, response: 5, result: { ok: true, version: 2 } }),
    ]).ok,
  );
  // An unknown write explains a version bump; without it the history is impossible.
  const bumped = [
    w({ expectedVersion: 0, result: { ok: true, version: 1 } }),
    w({ expectedVersion: 2, invoke: 5, response: 6, result: { ok: true, version: 3 } }),
  ];
  assert.ok(!checkRegister(bumped).ok);
  assert.ok(checkRegister([...bumped, w({ expectedVersion: -1, invoke: 2, response: null, result: 'unknown' })]).ok);
  // Concurrent writes may be ordered either way.
  assert.ok(
    checkRegister([w({ invoke: 0, response: 10, result: { ok: true, version: 2 } }), w({ invoke: 1, response: 9, result: { ok: true, version: 1 } })]).ok,
  );
});

test('reads: stale session reads, wrong values and sync misses fail', () => {
  const { disks, hold } = durableEverywhere(3);
  const c = new Checkers(() => disks);
  [txn(1, 1, 'k', 'a'), txn(1, 2, 'k', 'b')].forEach(hold);
  const at = c.onApply(1, -1, txn(1, 1, 'k', 'a'));
  c.onApply(1, at, txn(1, 2, 'k', 'b'));
  const r = (o: Partial<ReadOp>): ReadOp => ({
    kind: 'read',
    client: 1,
    key: 'k',
    sync: false,
    invoke: 10,
    response: 10,
    failed: false,
    version: 1,
    value: 'a',
    zxid: z(1, 1),
    ...o,
  });
  const first = w({ client: 2, invoke: 0, response: 1, result: { ok: true, version: 1 }, zxid: z(1, 1), value: 'a' });
  const wrote = w({ client: 2, invoke: 2, response: 5, result: { ok: true, version: 2 }, zxid: z(1, 2), value: 'b' });
  c.checkHistory([r({})]);
  throwsIn('reads', () => c.checkHistory([r({ value: 'b' })])); // value not what was committed at 1.1
  throwsIn('reads', () => c.checkHistory([r({ version: 2, value: 'b', zxid: z(1, 2), invoke: 5, response: 5 }), r({ invoke: 10 })])); // went back in time
  throwsIn('reads', () => c.checkHistory([first, wrote, r({ sync: true })])); // sync began after the write completed
  c.checkHistory([first, wrote, r({ sync: false })]); // a plain read may be stale
});

test('linearizability: a witness order is only accepted when it explains the results in real-time order', () => {
  const a = w({ value: 'a', expectedVersion: -1, invoke: 0, response: 1, result: { ok: true, version: 1 } });
  const b = w({ value: 'b', expectedVersion: 1, invoke: 2, response: 3, result: { ok: true, version: 2 } });
  const u = w({ value: 'u', expectedVersion: -1, invoke: 0, response: null, result: 'unknown' });
  assert.ok(isWitness([a, b, u], [a, b]));
  assert.ok(isWitness([a, b, u], [a, b, u]));
  assert.ok(!isWitness([a, b], [b, a]), 'b began after a completed');
  assert.ok(!isWitness([a, b], [a]), 'an acknowledged write cannot be left out');
  assert.ok(!isWitness([a, b, u], [a, u, b]), 'u would have moved the version under b');
  // A bad witness does not decide: the search still finds the real linearization.
  assert.ok(checkRegister([a, b, u], [b, a]).ok);
});

test("linearizability: a multi's check compares without writing", () => {
  const set = w({ expectedVersion: 0, value: 'a', invoke: 0, response: 1, result: { ok: true, version: 1 } });
  const check = (expectedVersion: number, ok: boolean, invoke = 2): WriteOp =>
    w({ expectedVersion, check: true, value: `chk${expectedVersion}`, invoke, response: invoke + 1, result: { ok, version: -1 } });
  // After the set, version 1: a check of 1 passes and leaves it there, so a set at 1 still succeeds.
  assert.ok(checkRegister([set, check(1, true), w({ expectedVersion: 1, value: 'b', invoke: 4, response: 5, result: { ok: true, version: 2 } })]).ok);
  assert.ok(!checkRegister([set, check(0, true)]).ok, 'a check of a version the register has left cannot pass');
  assert.ok(!checkRegister([set, check(1, false)]).ok, 'a check of the version the register holds cannot fail');
  // A passing check does not move the version: a later set expecting version 2 must fail.
  assert.ok(!checkRegister([set, check(1, true), w({ expectedVersion: 2, value: 'c', invoke: 4, response: 5, result: { ok: true, version: 3 } })]).ok);
  const passed = check(1, true);
  assert.ok(isWitness([set, passed], [set, passed]));
});
