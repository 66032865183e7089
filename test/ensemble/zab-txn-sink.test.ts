/**
 * The leader's ZabTxnSink: a batch is applied once its last txn commits, so between commits inside
 * a batch the tree lacks committed txns. committedUnapplied names them (a SNAP cut at the tree is
 * followed by them; see quorumPeer.sendSnapshot).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpCode } from '../../src/proto/opcodes.js';
import { ZabTxnSink } from '../../src/server/quorum/zabTxnSink.js';
import { decodeTxn, type Txn } from '../../src/txn/txn.js';

const setData = (zxid: bigint): Txn => ({
  header: { clientId: 1n, cxid: Number(zxid), zxid, time: 0n, type: OpCode.setData },
  body: { type: OpCode.setData, txn: { path: `/n${zxid}`, data: Buffer.from('x'), version: 1 } },
});

test('ZabTxnSink: committed txns of a partly committed batch are the ones the tree lacks', () => {
  const proposed: Buffer[] = [];
  const sink = new ZabTxnSink((d) => proposed.push(d));
  const applied: string[] = [];
  sink.append([setData(11n), setData(12n), setData(13n)], () => applied.push('a'));
  sink.append([setData(14n)], () => applied.push('b'));
  assert.equal(proposed.length, 4);

  assert.deepEqual(sink.committedUnapplied(10n), []);
  sink.committed(11n);
  sink.committed(12n);
  assert.deepEqual(applied, [], 'a batch waits for its last txn');
  const pending = sink.committedUnapplied(12n);
  assert.deepEqual(pending.map((t) => t.zxid), [11n, 12n]);
  // The bytes are what was proposed, so a learner gets the same txn either way.
  assert.deepEqual(pending.map((t) => t.data), proposed.slice(0, 2));
  assert.equal(decodeTxn(pending[1]!.data).header.zxid, 12n);

  sink.committed(13n);
  assert.deepEqual(applied, ['a']);
  assert.deepEqual(sink.committedUnapplied(13n), [], 'applied batches are not pending');
  sink.committed(14n);
  assert.deepEqual(applied, ['a', 'b']);
});
