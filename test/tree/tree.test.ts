import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType } from '../../src/proto/opcodes.js';
import {
  DataTree,
  WatchManager,
  pathProblem,
  OPEN_ACL_UNSAFE,
  CONTAINER_EPHEMERAL_OWNER,
  ttlToEphemeralOwner,
  type WatchedEvent,
  type Watcher,
} from '../../src/tree/index.js';

function rec(sessionId = 1n): Watcher & { events: WatchedEvent[] } {
  const events: WatchedEvent[] = [];
  return { sessionId, events, process: (e) => events.push(e) };
}

test('pathProblem follows PathUtils.validatePath', () => {
  for (const ok of ['/', '/a', '/a/b', '/a.b', '/..a', '/a/...', '/\u00e9']) assert.equal(pathProblem(ok), undefined, ok);
  for (const bad of ['', 'a', '/a/', '//a', '/a//b', '/a/.', '/a/..', '/./a', '/a\u0000b', '/a\u0001', '/\ud83d\ude00', '/\u0085']) {
    assert.notEqual(pathProblem(bad), undefined, JSON.stringify(bad));
  }
});

test('one-shot watches are consumed, persistent stay, recursive skip child events', () => {
  const m = new WatchManager();
  const a = rec();
  const p = rec();
  const r = rec();
  m.add('/x', a);
  m.add('/x', p, 'persistent');
  m.add('/', r, 'persistentRecursive');
  m.trigger('/x', EventType.NodeDataChanged);
  m.trigger('/x', EventType.NodeDataChanged);
  assert.equal(a.events.length, 1);
  assert.equal(p.events.length, 2);
  assert.equal(r.events.length, 2);
  m.trigger('/x', EventType.NodeChildrenChanged);
  assert.equal(r.events.length, 2);
  assert.equal(p.events.length, 3);
  // Standard watches on an ancestor do not fire for a descendant.
  m.add('/', a);
  m.trigger('/x/y', EventType.NodeCreated);
  assert.equal(a.events.length, 1);
  assert.deepEqual(r.events.at(-1), { type: EventType.NodeCreated, state: 3, path: '/x/y' });
});

test('suppress: a watcher told by the data table is not told again by the child table', () => {
  const t = new DataTree();
  const w = rec();
  t.createNode('/n', null, OPEN_ACL_UNSAFE, 0n, -1, 1n, 1n);
  t.getData('/n', w);
  t.getChildren('/n', w);
  t.deleteNode('/n', 2n);
  assert.deepEqual(
    w.events.map((e) => e.type),
    [EventType.NodeDeleted],
  );
});

test('addWatch after a standard watch: last mode wins per (watcher, path), as in 3.8', () => {
  const m = new WatchManager();
  const w = rec();
  m.add('/x', w, 'persistent');
  m.add('/x', w, 'standard');
  m.trigger('/x', EventType.NodeDataChanged);
  m.trigger('/x', EventType.NodeDataChanged);
  assert.equal(w.events.length, 1);
});

test('client Stat: cversion counts creates and deletes; containers and TTL owners show 0', () => {
  const t = new DataTree();
  assert.equal(t.getNode('/')!.toStat().cversion, -1);
  assert.equal(t.getNode('/zookeeper')!.toStat().cversion, -2);
  t.createNode('/p', null, OPEN_ACL_UNSAFE, 0n, -1, 1n, 1n);
  t.createNode('/p/a', null, OPEN_ACL_UNSAFE, 0n, -1, 2n, 1n);
  t.createNode('/p/b', null, OPEN_ACL_UNSAFE, 0n, -1, 3n, 1n);
  t.deleteNode('/p/a', 4n);
  const s = t.getNode('/p')!.toStat();
  assert.equal(s.cversion, 3);
  assert.equal(s.pzxid, 4n);
  t.createNode('/c', null, OPEN_ACL_UNSAFE, CONTAINER_EPHEMERAL_OWNER, -1, 5n, 1n);
  t.createNode('/t', null, OPEN_ACL_UNSAFE, ttlToEphemeralOwner(1000n)!, -1, 6n, 1n);
  assert.equal(t.getNode('/c')!.toStat().ephemeralOwner, 0n);
  assert.equal(t.getNode('/t')!.toStat().ephemeralOwner, 0n);
  assert.deepEqual([...t.containers], ['/c']);
  assert.deepEqual([...t.ttls], ['/t']);
  t.createNode('/e', null, OPEN_ACL_UNSAFE, 77n, -1, 7n, 1n);
  assert.deepEqual([...t.getEphemerals(77n)], ['/e']);
  assert.equal(t.getNode('/e')!.toStat().ephemeralOwner, 77n);
});

test('snapshot round trip through nodes(), the ACL cache and insertNode', () => {
  const t = new DataTree();
  t.createNode('/a', Buffer.from('x'), [{ perms: 1, id: { scheme: 'digest', id: 'u:h' } }], 0n, -1, 1n, 9n);
  t.createNode('/a/e', null, OPEN_ACL_UNSAFE, 5n, -1, 2n, 9n);
  const copy = new DataTree({ empty: true });
  for (const [i, acl] of t.aclCache.entries()) copy.aclCache.restore(i, acl);
  // Parents before children: sort by depth.
  const nodes = [...t.nodes()].sort((x, y) => x[0].split('/').length - y[0].split('/').length || x[0].localeCompare(y[0]));
  for (const [p, n] of nodes) copy.insertNode(p, n.data, n.acl, n.stat);
  copy.aclCache.purgeUnused();
  for (const [p, n] of t.nodes()) {
    const m = copy.getNode(p)!;
    assert.deepEqual(m.toStat(), n.toStat(), p);
    assert.deepEqual(copy.aclOf(m), t.aclOf(n), p);
    assert.deepEqual(m.data, n.data, p);
  }
  assert.deepEqual([...copy.getEphemerals(5n)], ['/a/e']);
  assert.equal(copy.nodeCount, t.nodeCount);
});

test('quota stats follow creates, setData and deletes under a quota’d path (values as ZooKeeper 3.8 gives them)', () => {
  const t = new DataTree();
  let z = 1n;
  const mk = (p: string, d: string | null) => t.createNode(p, d === null ? null : Buffer.from(d), OPEN_ACL_UNSAFE, 0n, -1, z++, 1n);
  const stats = () => t.getNode('/zookeeper/quota/q/zookeeper_stats')!.data!.toString();
  mk('/q', 'abc');
  mk('/q/x', 'hello');
  mk('/zookeeper/quota/q', null);
  mk('/zookeeper/quota/q/zookeeper_limits', 'count=5,bytes=-1');
  mk('/zookeeper/quota/q/zookeeper_stats', 'count=0,bytes=0');
  assert.equal(stats(), 'count=2,bytes=8');
  mk('/q/y', '12345678');
  assert.equal(stats(), 'count=3,bytes=16');
  t.setData('/q/x', Buffer.from('h'), 1, z++, 1n);
  assert.equal(stats(), 'count=3,bytes=12');
  t.deleteNode('/q/y', z++);
  assert.equal(stats(), 'count=2,bytes=4');
  mk('/qq', 'zz');
  assert.equal(stats(), 'count=2,bytes=4');
  t.deleteNode('/zookeeper/quota/q/zookeeper_limits', z++);
  mk('/q/w', 'x');
  assert.equal(stats(), 'count=2,bytes=4');
});

test('children and ephemerals list in ZooKeeper’s HashSet order (orders taken from a real 3.8 server)', () => {
  const t = new DataTree();
  let z = 1n;
  t.createNode('/o', null, OPEN_ACL_UNSAFE, 0n, -1, z++, 1n);
  for (const n of ['zeta', 'a', 'b', 'node-1', 'x']) t.createNode(`/o/${n}`, null, OPEN_ACL_UNSAFE, 0n, -1, z++, 1n);
  assert.deepEqual(t.getChildren('/o').children, ['zeta', 'x', 'a', 'b', 'node-1']);
  for (const p of ['/e1', '/e2', '/o/eph', '/zz']) t.createNode(p, null, OPEN_ACL_UNSAFE, 42n, -1, z++, 1n);
  assert.deepEqual([...t.getEphemerals(42n)], ['/o/eph', '/e1', '/e2', '/zz']);
});
