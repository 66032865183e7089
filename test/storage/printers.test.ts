import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { printSnapshot, printTxnLog } from '../../src/storage/printers.js';
import { TxnLogWriter } from '../../src/storage/txnLogWriter.js';
import { writeSnapshotFile } from '../../src/storage/snapshot.js';
import { logFileName, snapshotFileName } from '../../src/storage/names.js';
import { scanLogBuffer } from '../../src/storage/logFile.js';
import { ModelTree } from './modelTree.js';
import { Workload } from './workload.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';

function collect(): { out: { write(s: string): void }; text(): string } {
  let s = '';
  return { out: { write: (x: string) => void (s += x) }, text: () => s };
}

test('tszk logs: one line per txn with session, cxid, zxid, op and body; damage reported with offset', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-print-'));
  try {
    const tree = ModelTree.fresh();
    const w = new Workload(tree, 8);
    const log = new TxnLogWriter({ dir, forceSync: false, lastZxid: 0n, preAllocSize_bytes: 64 * 1024 });
    const entries = w.batch(40);
    await log.append(entries);
    await log.close();
    const file = path.join(dir, logFileName(1n));
    const c = collect();
    assert.equal(await printTxnLog(file, c.out), 0);
    const lines = c.text().trim().split('\n');
    assert.equal(lines[0], 'ZooKeeper Transactional Log File with dbid 0 txnlog format version 2');
    assert.equal(lines.length, 42);
    assert.equal(lines[41], 'EOF reached after 40 txns.');
    assert.match(lines[1]!, /session 0x100000abc cxid 0x1 zxid 0x1 createSession 30000/);
    const create = entries.find((e) => e.body.type === 1)!;
    assert.ok(lines.some((l) => l.includes(`zxid 0x${create.header.zxid.toString(16)} create ${create.body.type === 1 ? create.body.txn.path : ''},`)));
    // Flip a byte in the 10th entry: the printer stops there with the offset.
    const buf = fs.readFileSync(file);
    const victim = scanLogBuffer(buf).records[9]!;
    buf[victim.offset + 20] = buf[victim.offset + 20]! ^ 1;
    fs.writeFileSync(file, buf);
    const d = collect();
    assert.equal(await printTxnLog(file, d.out), 1);
    assert.match(d.text(), new RegExp(`9 txns read, then .*byte offset ${victim.offset}: checksum mismatch`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tszk snapshot: a block per znode with its stat, sessions with ephemeral counts, last zxid', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-print-'));
  try {
    const tree = ModelTree.fresh();
    new Workload(tree, 9).batch(120);
    const file = path.join(dir, snapshotFileName(tree.lastZxid));
    await writeSnapshotFile(file, tree.source(), { fsync: false });
    const c = collect();
    assert.equal(await printSnapshot(file, c.out), 0);
    const text = c.text();
    assert.match(text, new RegExp(`ZNode Details \\(count=${tree.nodes.size}\\):`));
    for (const p of tree.nodes.keys()) assert.ok(text.includes(`----\n${p === '' ? '/' : p}\n  cZxid = 0x`), `node ${p} printed`);
    const eph = [...tree.nodes.values()].filter((n) => n.stat.ephemeralOwner === 0x100000abcn).length;
    assert.match(text, new RegExp(`0x00000100000abc, 30000, ${eph}\n`));
    assert.match(text, /Last zxid: 0x[0-9a-f]+\n$/);
    fs.truncateSync(file, fs.statSync(file).size - 3);
    const d = collect();
    assert.equal(await printSnapshot(file, d.out), 1);
    assert.match(d.text(), /not sealed/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
