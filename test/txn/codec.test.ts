/** The one txn codec (src/txn/txn.ts): the cases ZooKeeper 3.8 reads from logs written by older servers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JuteError, JuteWriter } from '../../src/jute/index.js';
import { OpCode } from '../../src/proto/opcodes.js';
import { OPEN_ACL_UNSAFE } from '../../src/tree/index.js';
import { CreateTxnV0, TxnDigest, TxnHeader, ZkDatabase, decodeTxn, encodeTxn, type Txn } from '../../src/txn/index.js';

const acl = [...OPEN_ACL_UNSAFE];
const header = (type: number, zxid = 5n, clientId = 7n) => ({ clientId, cxid: 1, zxid, time: 1000n, type });

function bytes(write: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  write(w);
  return Buffer.from(w.bytes());
}

test('a create logged before parentCVersion existed reads as a create with parentCVersion -1', () => {
  const buf = bytes((w) => {
    TxnHeader.write(w, header(OpCode.create));
    CreateTxnV0.write(w, { path: '/old', data: Buffer.from('v'), acl, ephemeral: false });
  });
  const t = decodeTxn(buf);
  assert.deepEqual(t.body, { type: OpCode.create, txn: { path: '/old', data: Buffer.from('v'), acl, ephemeral: false, parentCVersion: -1 } });
  assert.equal(t.digest, undefined);
  // Applied, the -1 leaves the parent's cversion to the tree (one more child created).
  const db = new ZkDatabase();
  const before = db.tree.getNode('')!.stat.cversion;
  assert.equal(db.apply(t).err, 0);
  assert.equal(db.tree.getNode('')!.stat.cversion, before + 1);
});

test('a closeSession without a body, with or without a digest after it, round-trips byte for byte', () => {
  const digest = { version: 2, treeDigest: 0x1234n };
  for (const withDigest of [false, true]) {
    const buf = bytes((w) => {
      TxnHeader.write(w, header(OpCode.closeSession));
      if (withDigest) TxnDigest.write(w, digest);
    });
    const t = decodeTxn(buf);
    assert.deepEqual(t.body, { type: OpCode.closeSession, txn: null });
    assert.deepEqual(t.digest, withDigest ? digest : undefined);
    assert.deepEqual(encodeTxn(t), buf);
  }
});

test('a body-less closeSession removes the session and its ephemerals', () => {
  const db = new ZkDatabase();
  db.apply({ header: header(OpCode.createSession, 1n), body: { type: OpCode.createSession, txn: { timeOut: 30000 } } });
  db.apply({ header: header(OpCode.create, 2n), body: { type: OpCode.create, txn: { path: '/e', data: null, acl, ephemeral: true, parentCVersion: 1 } } });
  assert.ok(db.tree.getNode('/e'));
  db.apply(decodeTxn(encodeTxn({ header: header(OpCode.closeSession, 3n), body: { type: OpCode.closeSession, txn: null } })));
  assert.equal(db.tree.getNode('/e'), undefined);
  assert.equal(db.sessionsWithTimeouts.has(7n), false);
});

test('reconfig is a SetDataTxn of /zookeeper/config', () => {
  const txn = { path: '/zookeeper/config', data: Buffer.from('server.1=a:1:2'), version: -1 };
  const t: Txn = { header: header(OpCode.reconfig), body: { type: OpCode.reconfig, txn } };
  const buf = encodeTxn(t);
  assert.deepEqual(decodeTxn(buf), t);
  const asSetData = encodeTxn({ header: header(OpCode.setData), body: { type: OpCode.setData, txn } });
  // Same bytes apart from the type, the TxnHeader's last field (bytes 28..31).
  assert.deepEqual(buf.subarray(0, 28), asSetData.subarray(0, 28));
  assert.equal(buf.readInt32BE(28), OpCode.reconfig);
  assert.deepEqual(buf.subarray(32), asSetData.subarray(32));
});

test('a tail shorter than a TxnDigest is not taken for one; unknown types are refused', () => {
  const t: Txn = { header: header(OpCode.delete), body: { type: OpCode.delete, txn: { path: '/d' } } };
  const buf = Buffer.concat([encodeTxn(t), Buffer.alloc(8)]);
  assert.deepEqual(decodeTxn(buf), t);
  assert.throws(() => decodeTxn(bytes((w) => TxnHeader.write(w, header(12345)))), JuteError);
  assert.throws(() => encodeTxn({ header: header(OpCode.setData), body: t.body }), /type/);
});
