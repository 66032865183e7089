import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataDir } from '../../src/storage/dataDir.js';
import { readMyid, writeMyid } from '../../src/storage/epochFiles.js';
import { StorageError } from '../../src/storage/errors.js';
import { TxnLogWriter } from '../../src/storage/txnLogWriter.js';
import { ModelTree } from './modelTree.js';
import { Workload } from './workload.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';

test('acceptedEpoch/currentEpoch: decimal text without newline in version-2, as ZooKeeper writes them; myid', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-epoch-'));
  try {
    const dd = await openDataDir({ dataDir: dir, forceSync: true, emptyTree: ModelTree.fresh().source() });
    assert.equal(await dd.readAcceptedEpoch(), undefined);
    await dd.writeAcceptedEpoch(7n);
    await dd.writeCurrentEpoch(6n);
    assert.equal(fs.readFileSync(path.join(dir, 'version-2', 'acceptedEpoch'), 'utf8'), '7');
    assert.equal(fs.readFileSync(path.join(dir, 'version-2', 'currentEpoch'), 'utf8'), '6');
    assert.equal(await dd.readAcceptedEpoch(), 7n);
    assert.equal(await dd.readCurrentEpoch(), 6n);
    assert.ok(!fs.readdirSync(path.join(dir, 'version-2')).some((f) => f.endsWith('.tmp')));
    fs.writeFileSync(path.join(dir, 'version-2', 'currentEpoch'), 'junk');
    await assert.rejects(dd.readCurrentEpoch(), StorageError);
    await dd.close();
    assert.equal(await readMyid(dir), undefined);
    await writeMyid(dir, 3n);
    assert.equal(await readMyid(dir), 3n);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an append is all or nothing: a bad zxid anywhere in it queues none of it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-epoch-'));
  try {
    const w = new Workload(ModelTree.fresh(), 3);
    const log = new TxnLogWriter({ dir, forceSync: false, lastZxid: 0n, preAllocSize_bytes: 64 * 1024 });
    const [a, b, c] = w.batch(3);
    await assert.rejects(log.append([a!, c!, b!]), /not above/);
    assert.equal(log.lastAppendedZxid, 0n);
    await log.append([a!, b!, c!]);
    assert.equal(log.stats.txns, 3);
    assert.equal(log.stats.fsyncs, 0, 'forceSync=no never fsyncs');
    await log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
