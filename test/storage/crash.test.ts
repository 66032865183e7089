/**
 * kill -9 at random moments while a child process writes through the txn log (with snapshots and
 * log rolls): after every kill, recovery must contain every acknowledged txn, and the recovered
 * state must be exactly the state the writer had after some append it issued (never a partial
 * txn). TSZK_STORAGE_CRASH_ROUNDS sets the number of kills (default 20).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDataDir } from '../../src/storage/dataDir.js';
import { ModelTree, hashTree } from './modelTree.js';
import { prng } from './workload.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';
const ROUNDS = Number(process.env['TSZK_STORAGE_CRASH_ROUNDS'] ?? 20);
// crashChild.ts from sources, crashChild.js when compiled to dist/.
const CHILD = new URL(`./crashChild${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url).pathname;

interface Round {
  pending: Map<bigint, string>;
  maxAcked: bigint;
}

async function runAndKill(dataDir: string, seed: number, killAfter_ms: number): Promise<Round> {
  // One process (no tsx wrapper), so SIGKILL hits the writer itself.
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(seed)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TSZK_LOG_LEVEL: 'silent' },
  });
  const r: Round = { pending: new Map(), maxAcked: -1n };
  let buf = '';
  let writing: () => void = () => undefined;
  const started = new Promise<void>((res) => (writing = res));
  child.stdout.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) {
      const [kind, z, h] = l.split(' ');
      if (kind === 'pending') r.pending.set(BigInt(z!), h!);
      else if (kind === 'acked') {
        r.maxAcked = BigInt(z!);
        writing();
      }
    }
  });
  const exited = new Promise((res) => child.once('exit', res));
  await Promise.race([started, exited]);
  await new Promise((res) => setTimeout(res, killAfter_ms));
  child.kill('SIGKILL');
  await exited;
  return r;
}

test(`kill -9 while writing, ${ROUNDS} times: every acknowledged txn survives, no partial state`, { timeout: 600_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-crash-'));
  const rnd = prng(4242);
  let exactMatches = 0;
  let lost = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const r = await runAndKill(dataDir, 1000 + round, Math.floor(rnd() * 400));
      assert.ok(r.maxAcked >= 0n, `round ${round}: the writer acknowledged something`);
      const dd = await openDataDir({ dataDir, forceSync: false, repair: false });
      const tree = ModelTree.fromSnapshot(dd.snapshot!);
      for (const e of dd.txns) tree.apply(e);
      await dd.close();
      assert.ok(dd.lastZxid >= r.maxAcked, `round ${round}: recovered 0x${dd.lastZxid.toString(16)} < acknowledged 0x${r.maxAcked.toString(16)}`);
      const want = r.pending.get(dd.lastZxid);
      if (want !== undefined) {
        assert.equal(hashTree(tree), want, `round ${round}: state at 0x${dd.lastZxid.toString(16)} differs from the writer's`);
        exactMatches++;
      } else {
        // Only possible when the kill cut a write in the middle of one append's txns.
        lost++;
      }
    }
    assert.ok(exactMatches >= ROUNDS - 2, `${exactMatches} of ${ROUNDS} recoveries ended on an append boundary`);
    console.log(`crash rounds ${ROUNDS}: ${exactMatches} exact state matches, ${lost} mid-append cuts`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
