import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataTree, OPEN_ACL_UNSAFE } from '../../src/tree/index.js';

/** A small deterministic generator (tests must replay). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Names that exercise both stored forms: one byte a character, and UTF-16 (beyond latin1, a lone surrogate). */
const NAMES = ['a', 'b', 'node-0000000001', 'é', '\u00ff\u00fe', '日本', 'x\ud800', 'long'.repeat(10), 'n1', 'n10', 'n100'];

test('paths kept as parent + name: creates and deletes checked against a map of paths (names of every kind, index growth)', () => {
  const random = rng(7);
  const t = new DataTree();
  // path → child names; `paths` lists the keys for picking one at random (swap-removed).
  const model = new Map<string, Set<string>>([['/', new Set(['zookeeper'])]]);
  const paths = ['/'];
  let zxid = 0x100000000n;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const check = (): void => {
    assert.equal(t.nodeCount, model.size + 3);
    for (const [p, kids] of model) {
      const n = t.getNode(p)!;
      assert.equal(n.data?.toString('utf16le') ?? '', p === '/' ? '' : p, p);
      assert.deepEqual([...n.children].sort(), [...kids].sort(), `children of ${p}`);
      assert.equal(n.numChildren, kids.size);
      assert.equal(t.getNode(`${p}x`), undefined);
    }
    // Pre-order, every path once, each parent before its children.
    const seen = new Set<string>();
    for (const [p] of t.nodes()) {
      assert.ok(!seen.has(p), `${p} twice`);
      if (p !== '/') assert.ok(seen.has(p.slice(0, p.lastIndexOf('/')) || '/'), `${p} before its parent`);
      seen.add(p);
    }
    assert.deepEqual([...seen].filter((p) => !p.startsWith('/zookeeper')).sort(), [...model.keys()].sort());
    // ZooKeeper's approximateDataSize: over its map, where the root is keyed both '' and '/'.
    let size = 1 + '/zookeeper'.length + '/zookeeper/quota'.length + '/zookeeper/config'.length;
    for (const p of model.keys()) size += (p === '/' ? 0 : p.length) + (t.getNode(p)!.data?.length ?? 0);
    assert.equal(t.approximateDataSize(), size);
  };
  for (let step = 1; step <= 20_000; step++) {
    const k = Math.floor(random() * paths.length);
    const parent = paths[k]!;
    if (random() < 0.6) {
      const name = `${pick(NAMES)}${Math.floor(random() * 50)}`;
      const path = parent === '/' ? `/${name}` : `${parent}/${name}`;
      if (model.has(path)) {
        assert.throws(() => t.createNode(path, Buffer.from(path, 'utf16le'), OPEN_ACL_UNSAFE, 0n, -1, zxid++, 1n), /NodeExists|Node exists/i);
      } else {
        t.createNode(path, Buffer.from(path, 'utf16le'), OPEN_ACL_UNSAFE, 0n, -1, zxid++, 1n);
        model.get(parent)!.add(name);
        model.set(path, new Set());
        paths.push(path);
      }
    } else if (parent !== '/' && model.get(parent)!.size === 0) {
      t.deleteNode(parent, zxid++);
      model.delete(parent);
      const slash = parent.lastIndexOf('/');
      model.get(parent.slice(0, slash) || '/')!.delete(parent.slice(slash + 1));
      paths[k] = paths[paths.length - 1]!;
      paths.pop();
    }
    if (step % 5000 === 0) check();
  }
});

test('names of deleted nodes are compacted away; the nodes left keep their names and are found', () => {
  const t = new DataTree();
  let zxid = 0x100000000n;
  t.createNode('/c', null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, 1n);
  const n = 150_000;
  // About 1.7 MB of names, then all but every 1000th deleted: dead names outgrow the 1 MiB allowance.
  for (let i = 0; i < n; i++) t.createNode(`/c/name-${String(i).padStart(8, '0')}`, null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, 1n);
  for (let i = 0; i < n; i++) if (i % 1000 !== 0) t.deleteNode(`/c/name-${String(i).padStart(8, '0')}`, zxid++);
  const left = Array.from({ length: n / 1000 }, (_, j) => `name-${String(j * 1000).padStart(8, '0')}`);
  assert.deepEqual([...t.getNode('/c')!.children], left);
  for (const name of left) assert.ok(t.getNode(`/c/${name}`) !== undefined, name);
  assert.deepEqual(
    [...t.nodes()].map(([p]) => p).filter((p) => p.startsWith('/c/')),
    left.map((x) => `/c/${x}`),
  );
});

test('a snapshot walk (nodes()) taken across changes: deleted nodes skipped, nodes existing throughout all seen', () => {
  const t = new DataTree();
  let zxid = 0x100000000n;
  for (let a = 0; a < 20; a++) {
    t.createNode(`/a${a}`, null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, 1n);
    for (let b = 0; b < 20; b++) t.createNode(`/a${a}/b${b}`, null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, 1n);
  }
  const seen: string[] = [];
  let k = 0;
  for (const [p, n] of t.nodes()) {
    seen.push(p);
    assert.equal(t.getNode(p)?.slot, n.slot);
    // Between two steps of the walk: delete a leaf further on, and create and delete elsewhere.
    if (k < 20) t.deleteNode(`/a19/b${k}`, zxid++);
    if (k === 5) {
      t.deleteNode('/a0/b0', zxid++);
      t.createNode('/a0/b0', null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, 1n);
      t.createNode('/late', null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, 1n);
    }
    k++;
  }
  for (let a = 0; a < 19; a++) for (let b = 1; b < 20; b++) assert.ok(seen.includes(`/a${a}/b${b}`), `/a${a}/b${b}`);
  for (let b = 0; b < 20; b++) assert.ok(!seen.includes(`/a19/b${b}`), `/a19/b${b} was deleted before its turn`);
  assert.equal(new Set(seen).size, seen.length);
});

test('deleting a node that has children is refused loudly (its children would be lost from the index)', () => {
  const t = new DataTree();
  t.createNode('/p', null, OPEN_ACL_UNSAFE, 0n, -1, 2n, 1n);
  t.createNode('/p/c', null, OPEN_ACL_UNSAFE, 0n, -1, 3n, 1n);
  assert.throws(() => t.deleteNode('/p', 4n), /has children/);
  assert.ok(t.getNode('/p/c') !== undefined);
});
