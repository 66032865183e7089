import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode, EventType } from '../../src/proto/opcodes.js';
import { Err } from '../../src/proto/errors.js';
import { DataTree, OPEN_ACL_UNSAFE, type WatchedEvent, type Watcher } from '../../src/tree/index.js';
import { TxnPreparer, ZkDatabase, standaloneReconfig, encodeTxn, decodeTxn, type WriteRequest, type RequestContext } from '../../src/txn/index.js';

const acl = [...OPEN_ACL_UNSAFE];
function setup(opts: { extendedTypesEnabled?: boolean } = {}) {
  const db = new ZkDatabase();
  const prep = new TxnPreparer(
    db.tree,
    { skipACL: false, extendedTypesEnabled: opts.extendedTypesEnabled ?? false, digestEnabled: true },
    { check: () => undefined },
    standaloneReconfig(false),
  );
  const ctx = (sessionId = 1n): RequestContext => ({ sessionId, cxid: 1, authInfo: [{ scheme: 'ip', id: '127.0.0.1' }], time: 1000n });
  // The caller numbers txns (in a server: the ZAB core or the standalone counter).
  let zxid = 0n;
  const next = (): bigint => ++zxid;
  const run = (w: WriteRequest, sessionId = 1n) => {
    const t = prep.prepare(ctx(sessionId), w, next());
    // Every txn must survive the log's encoding unchanged.
    const back = decodeTxn(encodeTxn(t));
    assert.deepEqual(back, t);
    const rc = db.apply(t);
    // The digest prepare predicted is the one the tree reaches.
    assert.equal(db.tree.digest, t.digest?.treeDigest, `digest after 0x${t.header.zxid.toString(16)} (${t.header.type})`);
    prep.applied(t.header.zxid);
    return rc;
  };
  const create = (path: string, flags = 0, data: Buffer | null = Buffer.from('x')): WriteRequest => ({ op: OpCode.create2, req: { path, data, acl, flags } });
  return { db, prep, run, create, next, tree: db.tree };
}

function recorder(sessionId = 9n): Watcher & { events: WatchedEvent[] } {
  const events: WatchedEvent[] = [];
  return { sessionId, events, process: (e) => events.push(e) };
}

test('special nodes as ZooKeeper has them', () => {
  const t = new DataTree();
  assert.deepEqual(t.getChildren('/').children, ['zookeeper']);
  assert.deepEqual(t.getChildren('/zookeeper').children.sort(), ['config', 'quota']);
  const cfg = t.getNode('/zookeeper/config')!;
  assert.equal(cfg.stat.aversion, -1);
  assert.deepEqual(t.aclOf(cfg), [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  assert.equal(t.getAllChildrenNumber('/'), 3);
});

test('sequential suffix from parent cversion, delete does not bump cversion', () => {
  const { run, create, tree } = setup();
  assert.equal(run(create('/a')).err, 0);
  assert.equal(run(create('/a/s-', 2)).path, '/a/s-0000000000');
  assert.equal(run({ op: OpCode.delete, req: { path: '/a/s-0000000000', version: -1 } }).err, 0);
  assert.equal(run(create('/a/s-', 2)).path, '/a/s-0000000001');
  assert.equal(tree.getNode('/a')!.stat.cversion, 2);
  assert.equal(run(create('/a/s-0000000001')).err, Err.NodeExists);
});

test('errors: NoNode, BadArguments, NoChildrenForEphemerals, BadVersion, NotEmpty, Unimplemented TTL', () => {
  const { run, create } = setup();
  assert.equal(run(create('/x/y')).err, Err.NoNode);
  assert.equal(run(create('/bad/')).err, Err.NoNode);
  assert.equal(run(create('a')).err, Err.BadArguments);
  assert.equal(run(create('/e', 1)).err, 0);
  assert.equal(run(create('/e/c')).err, Err.NoChildrenForEphemerals);
  assert.equal(run({ op: OpCode.setData, req: { path: '/e', data: null, version: 5 } }).err, Err.BadVersion);
  assert.equal(run(create('/p')).err, 0);
  assert.equal(run(create('/p/c')).err, 0);
  assert.equal(run({ op: OpCode.delete, req: { path: '/p', version: -1 } }).err, Err.NotEmpty);
  assert.equal(run({ op: OpCode.delete, req: { path: '/zookeeper', version: -1 } }).err, Err.BadArguments);
  assert.equal(run({ op: OpCode.createTTL, req: { path: '/t', data: null, acl, flags: 5, ttl: 100n } }).err, Err.Unimplemented);
  assert.equal(run(create('/f', 9)).err, Err.BadArguments);
});

test('null data stays null, empty stays empty', () => {
  const { run, create, tree } = setup();
  run(create('/n', 0, null));
  run(create('/m', 0, Buffer.alloc(0)));
  assert.equal(tree.getData('/n').data, null);
  assert.deepEqual(tree.getData('/m').data, Buffer.alloc(0));
});

test('multi: all or nothing, per-op errors', () => {
  const { run, create, tree } = setup();
  run(create('/a'));
  const rc = run({
    op: OpCode.multi,
    ops: [create('/a/1'), { op: OpCode.check, req: { path: '/a', version: 7 } }, create('/a/2')],
  });
  assert.equal(rc.err, Err.BadVersion);
  assert.deepEqual(
    rc.multiResult!.map((r) => [r.type, r.err]),
    [
      [OpCode.error, 0],
      [OpCode.error, Err.BadVersion],
      [OpCode.error, Err.RuntimeInconsistency],
    ],
  );
  assert.equal(tree.getNode('/a/1'), undefined);
  const ok = run({ op: OpCode.multi, ops: [create('/a/1'), create('/a/1/x'), { op: OpCode.setData, req: { path: '/a/1', data: null, version: 0 } }] });
  assert.equal(ok.err, 0);
  assert.equal(tree.getNode('/a/1')!.stat.version, 1);
});

test('pipelined prepares see outstanding changes', () => {
  const { prep, db, create, next } = setup();
  const c = { sessionId: 1n, cxid: 1, authInfo: [], time: 5n };
  const t1 = prep.prepare(c, create('/q'), next());
  const t2 = prep.prepare(c, create('/q/r'), next());
  const t3 = prep.prepare(c, { op: OpCode.delete, req: { path: '/q', version: -1 } }, next());
  assert.equal(t2.body.type, OpCode.create2);
  assert.equal(t3.body.type, OpCode.error);
  for (const t of [t1, t2, t3]) db.apply(t);
  assert.ok(db.tree.getNode('/q/r'));
});

test('txns applied one at a time as they commit: records dropped in order, predictions stay right', () => {
  const { prep, db, create, next } = setup();
  const c = { sessionId: 1n, cxid: 1, authInfo: [], time: 5n };
  // More outstanding than the compaction threshold, so the head index is cut from the array at least once.
  const txns = [prep.prepare(c, create('/p'), next())];
  for (let i = 0; i < 3000; i++) txns.push(prep.prepare(c, { op: OpCode.setData, req: { path: '/p', data: Buffer.from(String(i)), version: i } }, next()));
  assert.equal(prep.outstandingCount, 3002); // the create's parent record and 3001 node records
  for (const [i, t] of txns.entries()) {
    assert.equal(db.apply(t).err, 0, `txn ${i}`);
    assert.equal(db.tree.digest, t.digest?.treeDigest, `digest after txn ${i}`);
    prep.applied(t.header.zxid);
    if (i === 1500) {
      // Half applied: a new write still sees the newest outstanding version, not the tree's.
      const late = prep.prepare(c, { op: OpCode.setData, req: { path: '/p', data: null, version: 3000 } }, next());
      assert.equal(late.body.type, OpCode.setData);
      txns.push(late);
    }
  }
  assert.equal(prep.outstandingCount, 0);
  assert.equal(db.tree.getNode('/p')!.stat.version, 3001);
});

test('closeSession deletes ephemerals and fires watches', () => {
  const { run, create, tree } = setup();
  run(create('/e1', 1), 7n);
  const w = recorder();
  tree.getData('/e1', w);
  tree.getChildren('/', w);
  run({ op: OpCode.closeSession }, 7n);
  assert.equal(tree.getNode('/e1'), undefined);
  assert.deepEqual(
    w.events.map((e) => [e.type, e.path]),
    [
      [EventType.NodeDeleted, '/e1'],
      [EventType.NodeChildrenChanged, '/'],
    ],
  );
});

test('watch rules: NodeDeleted fires data+child once, persistent recursive gets no child events', () => {
  const { run, create, tree } = setup();
  run(create('/w'));
  run(create('/w/c'));
  const a = recorder();
  tree.getData('/w/c', a);
  tree.getChildren('/w/c', a);
  const r = recorder();
  tree.addWatch('/w', r, 'persistentRecursive');
  const p = recorder();
  tree.addWatch('/w', p, 'persistent');
  run({ op: OpCode.delete, req: { path: '/w/c', version: -1 } });
  assert.deepEqual(
    a.events.map((e) => e.type),
    [EventType.NodeDeleted],
  );
  assert.deepEqual(
    r.events.map((e) => [e.type, e.path]),
    [[EventType.NodeDeleted, '/w/c']],
  );
  assert.deepEqual(
    p.events.map((e) => [e.type, e.path]),
    [[EventType.NodeChildrenChanged, '/w']],
  );
  run({ op: OpCode.setData, req: { path: '/w', data: null, version: -1 } });
  assert.equal(p.events.length, 2);
  assert.equal(r.events.length, 2);
  const ex = recorder();
  assert.throws(() => tree.statNode('/nope', ex));
  run(create('/nope'));
  assert.deepEqual(
    ex.events.map((e) => e.type),
    [EventType.NodeCreated],
  );
});
