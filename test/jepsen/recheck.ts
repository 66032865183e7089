/**
 * Re-run the checker on a history the Jepsen test wrote (jepsen-history-<seed>.json):
 *   npx tsx test/jepsen/recheck.ts /tmp/jepsen-history-123.json
 */
import fs from 'node:fs';
import { checkJepsenHistory } from './checker.js';
import type { JepsenOp } from './history.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: recheck.ts <history.json>');
const ops = JSON.parse(fs.readFileSync(file, 'utf8'), (k, v: unknown) =>
  (k === 'zxid' || k === 'mzxid') && typeof v === 'string' ? BigInt(v) : v,
) as JepsenOp[];
for (const o of ops) if (o.kind === 'read' && o.sync === undefined) o.sync = true; // histories from before plain reads existed
const r = checkJepsenHistory(ops);
console.log(JSON.stringify({ ok: r.ok, writes: r.writes, reads: r.reads }));
for (const v of r.violations) console.log(`violation: ${v}`);
process.exitCode = r.ok ? 0 : 1;
