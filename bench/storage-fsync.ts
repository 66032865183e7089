/**
 * Group-commit benchmark for the txn log writer: C closed-loop writers, each appending one txn and
 * waiting until it is durable (fsync) before the next, as C clients with one outstanding write
 * each. Reports txns/s, fsyncs/s and txns per fsync for each C.
 *
 *   npx tsx bench/storage-fsync.ts [--seconds 3] [--concurrency 1,16,128,1024] [--dir /tmp] [--no-fsync]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OpCode } from '../src/proto/opcodes.js';
import type { Txn } from '../src/txn/txn.js';
import { TxnLogWriter } from '../src/storage/txnLogWriter.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const seconds = Number(arg('seconds', '3'));
const levels = arg('concurrency', '1,16,128,1024').split(',').map(Number);
const baseDir = arg('dir', os.tmpdir());
const forceSync = !process.argv.includes('--no-fsync');
const DATA = Buffer.alloc(100, 0x61);
const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

interface Result {
  concurrency: number;
  txns: number;
  seconds: number;
  txnsPerSecond: number;
  fsyncs: number;
  txnsPerFsync: number;
  batchTxnsMax: number;
  fsyncAvg_ms: number;
}

async function run(concurrency: number): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'tszk-bench-log-'));
  const log = new TxnLogWriter({ dir, forceSync, lastZxid: 0n });
  let zxid = 0n;
  let stop = false;
  const next = (): Txn => {
    zxid++;
    return {
      header: { clientId: 0x1234n, cxid: Number(zxid & 0x7fffffffn), zxid, time: BigInt(Date.now()), type: OpCode.create },
      body: { type: OpCode.create, txn: { path: `/bench/n${zxid}`, data: DATA, acl: ACL, ephemeral: false, parentCVersion: Number(zxid) } },
    };
  };
  const writer = async (): Promise<void> => {
    while (!stop) await log.append([next()]);
  };
  const t0 = performance.now();
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  await Promise.all(Array.from({ length: concurrency }, writer));
  clearTimeout(timer);
  const elapsed = (performance.now() - t0) / 1000;
  await log.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const s = log.stats;
  return {
    concurrency,
    txns: s.txns,
    seconds: Number(elapsed.toFixed(2)),
    txnsPerSecond: Math.round(s.txns / elapsed),
    fsyncs: s.fsyncs,
    txnsPerFsync: Number((s.txns / Math.max(1, forceSync ? s.fsyncs : s.batches)).toFixed(1)),
    batchTxnsMax: s.batchTxnsMax,
    fsyncAvg_ms: Number((s.fsyncTotal_ms / Math.max(1, s.batches)).toFixed(3)),
  };
}

const results: Result[] = [];
console.log(`txn log group commit, fsync ${forceSync ? 'on' : 'off'}, ${seconds}s per level, dir ${baseDir}`);
console.log('concurrency  txns/s    fsyncs  txns/fsync  max batch  fsync avg ms');
for (const c of levels) {
  const r = await run(c);
  results.push(r);
  console.log(
    `${String(c).padStart(11)}  ${String(r.txnsPerSecond).padStart(8)}  ${String(r.fsyncs).padStart(6)}  ${String(r.txnsPerFsync).padStart(10)}  ${String(r.batchTxnsMax).padStart(9)}  ${String(r.fsyncAvg_ms).padStart(12)}`,
  );
}
console.log(JSON.stringify({ bench: 'storage-fsync', forceSync, results }));
