/**
 * Issue 5, Must show 4 (CI length): a short Jepsen-style run against a 3-member ensemble under
 * kills, restarts and partitions; the whole history must check out and the members must agree.
 * TSZK_JEPSEN_MS sets the length (default 30 s); `npm run chaos` is the long run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipUnless } from '../support/target.js';
import { kind, missing } from '../faults/helpers.js';
import { formatReport, runJepsen } from './run.js';

const opts = {
  kind,
  members: 3,
  duration_ms: Number(process.env['TSZK_JEPSEN_MS'] ?? 30_000),
  clients: 6,
  registers: 3,
  seed: Number(process.env['TSZK_JEPSEN_SEED'] ?? Date.now() % 1_000_000),
};

test(
  `jepsen (${kind}): CAS + sync reads on 3 registers under kills and partitions, ${opts.duration_ms / 1000} s`,
  { skip: skipUnless(missing), timeout: 300_000 },
  async () => {
    const rep = await runJepsen({ ...opts, keepLogs: process.env['TSZK_KEEP_LOGS'] === '1' });
    const lines = formatReport(kind, opts, rep);
    for (const l of lines) console.log(l);
    if (!rep.result.ok) {
      const file = path.join(os.tmpdir(), `jepsen-history-${opts.seed}.json`);
      fs.writeFileSync(
        file,
        JSON.stringify(rep.history, (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)),
      );
      console.log(`history written to ${file}`);
    }
    assert.ok(rep.faults.length >= 3, `only ${rep.faults.length} faults injected`);
    assert.ok(rep.result.writes.ok > 50 && rep.result.reads.ok > 50, 'too few successful ops to mean anything');
    assert.deepEqual(rep.result.violations, [], `history violations (seed ${opts.seed}, logs ${rep.dir})`);
    assert.deepEqual(rep.stuck, [], `members not serving after healing (seed ${opts.seed}, logs ${rep.dir})`);
    assert.deepEqual(rep.crashes, [], `members crashed on their own (seed ${opts.seed})`);
    assert.equal(new Set(rep.digests.values()).size, 1, `members' trees differ after healing (seed ${opts.seed})`);
  },
);
