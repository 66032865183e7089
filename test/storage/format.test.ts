import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Adler32, adler32 } from '../../src/storage/adler32.js';
import { OpCode } from '../../src/proto/opcodes.js';
import { decodeTxn, encodeTxn, type Txn } from '../../src/txn/txn.js';
import { scanLogBuffer } from '../../src/storage/logFile.js';
import { TxnLogWriter, paddedSize } from '../../src/storage/txnLogWriter.js';
import { atTurnEnd } from '../../src/turnEnd.js';
import { readLogHistory } from '../../src/storage/history.js';
import { parseSnapshot, readSnapshotFile, writeSnapshotFile } from '../../src/storage/snapshot.js';
import { logFileName, snapshotFileName, zxidFromName } from '../../src/storage/names.js';
import { ModelTree } from './modelTree.js';
import { Workload } from './workload.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-storage-'));
}

test('adler32 matches known values', () => {
  assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398n);
  assert.equal(adler32(Buffer.alloc(0)), 1n);
  // Long input crosses the modulo-reduction chunk boundary.
  const big = Buffer.alloc(100_000, 0xff);
  let a = 1,
    b = 0;
  for (const x of big) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  assert.equal(adler32(big), BigInt(((b << 16) | a) >>> 0));
});

test('adler32 of long runs (summed by zlib and combined) equals the byte-by-byte sum, however the runs are cut', () => {
  const big = Buffer.alloc(3 * 1024 * 1024 + 12_345);
  for (let i = 0, x = 7; i < big.length; i++, x = (x * 1103515245 + 12345) >>> 0) big[i] = x >>> 24;
  let a = 1,
    b = 0;
  for (const x of big) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  const expected = BigInt(((b << 16) | a) >>> 0);
  assert.equal(adler32(big), expected);
  // Small runs (the loop) and long ones (zlib) mixed, at odd offsets.
  const cuts = [0, 17, 300_000, 300_001, 1_900_000, 2_000_000, big.length];
  const sum = new Adler32();
  for (let i = 1; i < cuts.length; i++) sum.update(big, cuts[i - 1], cuts[i]);
  assert.equal(sum.value(), expected);
});

test('file names use Java hex zxids', () => {
  assert.equal(logFileName(0x1e0000001n), 'log.1e0000001');
  assert.equal(snapshotFileName(0n), 'snapshot.0');
  assert.equal(zxidFromName('log.1e0000001', 'log'), 0x1e0000001n);
  assert.equal(zxidFromName('snapshot.zz', 'snapshot'), undefined);
  assert.equal(zxidFromName('log.5', 'snapshot'), undefined);
});

test('every txn kind round-trips through an entry, digest or not', () => {
  const tree = ModelTree.fresh();
  const w = new Workload(tree, 7);
  const seen = new Set<number>();
  for (const e of w.batch(400)) {
    seen.add(e.header.type);
    assert.deepEqual(decodeTxn(encodeTxn(e)), e);
  }
  for (const t of [OpCode.createSession, OpCode.create, OpCode.setData, OpCode.setACL, OpCode.delete, OpCode.multi])
    assert.ok(seen.has(t), `type ${t} generated`);
  const extra: Txn[] = [
    {
      header: { clientId: 5n, cxid: 1, zxid: 9n, time: 1n, type: OpCode.closeSession },
      body: { type: OpCode.closeSession, txn: { paths2Delete: ['/a', '/b'] } },
      digest: { version: 2, treeDigest: 3n },
    },
    {
      header: { clientId: 5n, cxid: 1, zxid: 9n, time: 1n, type: OpCode.closeSession },
      body: { type: OpCode.closeSession, txn: null },
      digest: { version: 2, treeDigest: 3n },
    },
    {
      header: { clientId: 5n, cxid: 1, zxid: 9n, time: 1n, type: OpCode.createTTL },
      body: { type: OpCode.createTTL, txn: { path: '/t', data: Buffer.from('x'), acl: [], parentCVersion: 3, ttl: 1000n } },
    },
    {
      header: { clientId: 5n, cxid: 1, zxid: 9n, time: 1n, type: OpCode.createContainer },
      body: { type: OpCode.createContainer, txn: { path: '/c', data: null, acl: [], parentCVersion: 3 } },
    },
    { header: { clientId: 5n, cxid: 1, zxid: 9n, time: 1n, type: OpCode.error }, body: { type: OpCode.error, txn: { err: -101 } } },
    {
      header: { clientId: 5n, cxid: 1, zxid: 9n, time: 1n, type: OpCode.reconfig },
      body: { type: OpCode.reconfig, txn: { path: '/zookeeper/config', data: Buffer.from('server.1=x'), version: -1 } },
    },
  ];
  for (const e of extra) assert.deepEqual(decodeTxn(encodeTxn(e)), e);
});

test('ZooKeeper padding rule: grow by whole blocks within 4 KiB of the end', () => {
  assert.equal(paddedSize(16, 16, 65536), 16 + 65536);
  assert.equal(paddedSize(1000, 65552, 65536), 65552);
  assert.equal(paddedSize(62000, 65552, 65536), 65552 + 65536);
  assert.equal(paddedSize(200_000, 65552, 65536), 262144);
  assert.equal(paddedSize(200_000, 65552, 0), 65552);
});

test('writer: entries read back in order, files preallocated, roll starts a new file named by its first zxid', async () => {
  const dir = tmpDir();
  try {
    const tree = ModelTree.fresh();
    const w = new Workload(tree, 1);
    const log = new TxnLogWriter({ dir, forceSync: true, lastZxid: 0n, preAllocSize_bytes: 64 * 1024 });
    const all: Txn[] = [];
    for (let i = 0; i < 5; i++) {
      const b = w.batch(60);
      all.push(...b);
      await log.append(b);
      if (i === 2) log.roll();
    }
    await log.close();
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, [logFileName(1n), logFileName(181n)].sort());
    for (const f of files) assert.ok([0, 16].includes(fs.statSync(path.join(dir, f)).size % (64 * 1024)), `${f} padded in whole blocks`);
    const h = await readLogHistory(dir, 0n);
    assert.deepEqual(h.txns, all);
    assert.equal(h.lastZxid, 300n);
    assert.deepEqual(h.tornTails, []);
    await assert.rejects(new TxnLogWriter({ dir, forceSync: false, lastZxid: 300n }).append([all[0]!]), /not above/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('group commit: appends made while an fsync is in flight share the next one', async () => {
  const dir = tmpDir();
  try {
    const tree = ModelTree.fresh();
    const w = new Workload(tree, 2);
    const log = new TxnLogWriter({ dir, forceSync: true, lastZxid: 0n, preAllocSize_bytes: 1024 * 1024 });
    const n = 2000;
    let durable = 0;
    const ps: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      ps.push(log.append([w.next()]).then(() => void durable++));
      // Spread appends over several event-loop turns, as client requests arrive.
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(ps);
    assert.equal(durable, n);
    assert.equal(log.stats.txns, n);
    assert.ok(log.stats.batches < n / 10, `${log.stats.batches} batches for ${n} txns`);
    assert.ok(log.stats.fsyncs >= 1);
    await log.close();
    const h = await readLogHistory(dir, 0n);
    assert.equal(h.txns.length, n);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a promise resolves only after the write that covers it', async () => {
  const dir = tmpDir();
  try {
    const tree = ModelTree.fresh();
    const w = new Workload(tree, 3);
    const log = new TxnLogWriter({ dir, forceSync: true, lastZxid: 0n, preAllocSize_bytes: 64 * 1024 });
    const e = w.next();
    await log.append([e]);
    // Read the file independently: the entry is on disk when the promise resolved.
    const scan = scanLogBuffer(fs.readFileSync(path.join(dir, logFileName(1n))));
    assert.equal(scan.records.length, 1);
    assert.deepEqual(scan.records[0]!.entry, e);
    await log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot round-trips sessions, ACL cache, nodes and digest; seals are checked', async () => {
  const dir = tmpDir();
  try {
    const tree = ModelTree.fresh();
    new Workload(tree, 4).batch(300);
    const file = path.join(dir, snapshotFileName(tree.lastZxid));
    await writeSnapshotFile(file, tree.source(), { fsync: true });
    const s = await readSnapshotFile(file, tree.lastZxid);
    assert.deepEqual(ModelTree.fromSnapshot(s).dump(), tree.dump());
    assert.deepEqual(s.digest, { zxid: tree.lastZxid, digestVersion: 2, digest: tree.digest() });
    assert.equal(s.sessions.size, 1);
    const buf = fs.readFileSync(file);
    const flipped = Buffer.from(buf);
    flipped[200] = flipped[200]! ^ 0x01;
    assert.throws(
      () => parseSnapshot(flipped, file, 1n),
      (e: Error) => e.message.includes(file) && /byte offset \d+/.test(e.message),
    );
    assert.throws(() => parseSnapshot(buf.subarray(0, buf.length - 30), file, 1n), /not sealed/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('small batches on a fast disk are written from the event loop, after the output held for the turn', async () => {
  const dir = tmpDir();
  try {
    const w = new Workload(ModelTree.fresh(), 3);
    const inline = new TxnLogWriter({ dir, forceSync: true, lastZxid: 0n, inlineWriteMax_ms: Number.POSITIVE_INFINITY });
    const written: Txn[] = [w.next()];
    await inline.append(written); // opens the file: not a lone write
    const order: string[] = [];
    for (let i = 0; i < 20; i++) {
      const t = w.next();
      written.push(t);
      atTurnEnd(() => order.push(`held ${i}`));
      setImmediate(() => order.push(`turn ${i}`));
      await inline.append([t]).then(() => order.push(`durable ${i}`));
    }
    // The held output went out before the write blocked, which was before the turn ended.
    for (let i = 0; i < 20; i++) assert.deepEqual(order.filter((o) => o.endsWith(` ${i}`)).slice(0, 2), [`held ${i}`, `durable ${i}`]);
    assert.equal(inline.stats.inlineWrites, 21);
    assert.equal(inline.stats.batches, 21);
    await inline.close();
    assert.deepEqual((await readLogHistory(dir, 0n)).txns, written);

    const pooled = new TxnLogWriter({ dir, forceSync: true, lastZxid: 21n, inlineWriteMax_ms: 0 });
    for (let i = 0; i < 5; i++) await pooled.append([w.next()]);
    assert.equal(pooled.stats.inlineWrites, 0);
    await pooled.close();
    assert.equal((await readLogHistory(dir, 0n)).txns.length, 26);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
