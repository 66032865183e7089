import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataTree, OPEN_ACL_UNSAFE } from '../../src/tree/index.js';
import { NodeStore, PAGE_SLOTS } from '../../src/tree/nodeStore.js';

const DATA_BYTES = 100;

function bytesOf(i: number): Buffer {
  return Buffer.from(`${i}`.padEnd(DATA_BYTES, '.'));
}

test('a view of a node’s data keeps its bytes when the node is changed, deleted or its slab compacted', () => {
  const s = new NodeStore();
  const slots: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const slot = s.alloc();
    s.setData(slot, bytesOf(i));
    slots.push(slot);
  }
  const view = s.data(slots[5]!)!;
  s.setData(slots[5]!, Buffer.from('new'));
  assert.equal(view.toString(), bytesOf(5).toString());
  assert.equal(s.data(slots[5]!)!.toString(), 'new');
  // The caller's buffer is copied: changing it afterwards does not change the node.
  const mine = Buffer.from('mine');
  s.setData(slots[6]!, mine);
  mine.fill(0);
  assert.equal(s.data(slots[6]!)!.toString(), 'mine');
  assert.equal(s.data(slots[7]!)!.toString(), bytesOf(7).toString());
  // Sizes around the slab sizes: bigger than a young arena's slab, and big enough for a slab of their own.
  for (const size of [16 * 1024 + 1, 50_000, 64 * 1024 + 1, 1024 * 1024]) {
    const slot = s.alloc();
    s.setData(slot, Buffer.alloc(size, size & 0xff));
    assert.deepEqual(s.data(slot), Buffer.alloc(size, size & 0xff), `${size} bytes`);
  }
  // null and empty stay apart.
  s.setData(slots[8]!, null);
  s.setData(slots[9]!, Buffer.alloc(0));
  assert.equal(s.data(slots[8]!), null);
  assert.deepEqual(s.data(slots[9]!), Buffer.alloc(0));
});

test('slabs are not pinned by a few survivors: after deleting 99% and rewriting, slab bytes stay near the live bytes', () => {
  const s = new NodeStore();
  const n = 200_000;
  const slots: number[] = [];
  for (let i = 0; i < n; i++) {
    const slot = s.alloc();
    s.setData(slot, bytesOf(i));
    slots.push(slot);
  }
  const full = s.arena.slabBytes;
  assert.ok(full >= n * DATA_BYTES);
  // Keep every 100th node; then keep overwriting the survivors so dead bytes pile up.
  for (let i = 0; i < n; i++) if (i % 100 !== 0) s.release(slots[i]!);
  assert.ok(s.arena.slabBytes < full / 2, `after deletes: slab bytes ${s.arena.slabBytes} vs ${full} when full`);
  for (let round = 0; round < 3; round++) for (let i = 0; i < n; i += 100) s.setData(slots[i]!, bytesOf(i + round));
  const live = s.arena.liveBytes;
  assert.equal(live, (n / 100) * DATA_BYTES);
  // Compaction runs once dead bytes exceed max(live, 4 MiB): never much above that, and far below the full size.
  assert.ok(s.arena.slabBytes <= 2 * live + 4 * 1024 * 1024 + 2 * 1024 * 1024, `slab bytes ${s.arena.slabBytes} for ${live} live`);
  assert.ok(s.arena.slabBytes < full / 2, `slab bytes ${s.arena.slabBytes} vs ${full} when full`);
  for (let i = 0; i < n; i += 100) assert.equal(s.data(slots[i]!)!.toString(), bytesOf(i + 2).toString());
});

test('a zxid beyond 2^53 (epoch ≥ 2^21) stops the tree loudly instead of being rounded', () => {
  const t = new DataTree();
  t.createNode('/ok', null, OPEN_ACL_UNSAFE, 0n, -1, (2n ** 21n - 1n) << 32n, 1n);
  assert.equal(t.getNode('/ok')!.stat.czxid, (2n ** 21n - 1n) << 32n);
  assert.throws(() => t.createNode('/big', null, OPEN_ACL_UNSAFE, 0n, -1, (2n ** 21n) << 32n, 1n), /beyond 2\^53/);
  assert.throws(() => t.setData('/ok', null, 1, 2n ** 53n, 1n), /beyond 2\^53/);
});

test('a DataNode used after its znode was deleted throws rather than read another znode', () => {
  const t = new DataTree();
  t.createNode('/a', Buffer.from('a'), OPEN_ACL_UNSAFE, 0n, -1, 1n, 1n);
  const a = t.getNode('/a')!;
  t.deleteNode('/a', 2n);
  t.createNode('/b', Buffer.from('b'), OPEN_ACL_UNSAFE, 0n, -1, 3n, 1n);
  assert.throws(() => a.data, /after its znode was deleted/);
  assert.equal(t.getNode('/b')!.data!.toString(), 'b');
  // Session ids use the top byte: ephemeralOwner keeps all 64 bits.
  const owner = 0x7f00_0000_0000_0001n;
  t.createNode('/e', null, OPEN_ACL_UNSAFE, owner, -1, 4n, 1n);
  assert.equal(t.getNode('/e')!.stat.ephemeralOwner, owner);
  assert.equal(t.getNode('/e')!.toStat().ephemeralOwner, owner);
});

test('a write into a shared zero column, bypassing the setters, stops the store at its next page', () => {
  const s = new NodeStore();
  const first = s.alloc();
  while (s.alloc() !== first + PAGE_SLOTS - 1);
  // What a bug writing through a page's lazy column before it has its own would do.
  const shared = (s.page(first) as unknown as { versions: Int32Array }).versions;
  shared[7] = 1;
  try {
    assert.throws(() => s.alloc(), /a shared zero column of the node store was written to/);
  } finally {
    shared[7] = 0;
  }
  assert.equal(s.alloc(), first + PAGE_SLOTS, 'the next page, once the zeros are whole again');
});
