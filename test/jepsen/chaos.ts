/**
 * `npm run chaos`: the long Jepsen-style run (default 5 minutes, 5 members) against tszk — built
 * first and run from dist/, so edits to the sources during a long run do not mix versions — or
 * against Apache ZooKeeper 3.8 with TSZK_TEST_TARGET=zookeeper. Prints ops, faults and the
 * verdict; exits 1 on any violation, crash or diverging member.
 *
 *   npm run chaos -- [--seconds 300] [--members 5] [--clients 10] [--registers 5] [--seed N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { targetKind } from '../support/target.js';
import { formatReport, runJepsen } from './run.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const kind = targetKind();
  const o = {
    kind,
    members: arg('members', 5),
    duration_ms: arg('seconds', Number(process.env['TSZK_CHAOS_SECONDS'] ?? 300)) * 1000,
    clients: arg('clients', 10),
    registers: arg('registers', 5),
    seed: arg('seed', Date.now() % 1_000_000),
  };
  console.log(`chaos: ${kind}, ${o.members} members, ${o.duration_ms / 1000} s, seed ${o.seed}`);
  const rep = await runJepsen({ ...o, keepLogs: true, print: (l) => console.log(l) });
  for (const l of formatReport(kind, o, rep)) console.log(l);
  const file = path.join(os.tmpdir(), `chaos-history-${o.seed}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(rep.history, (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)),
  );
  console.log(`history: ${file} (recheck: npx tsx test/jepsen/recheck.ts ${file}); member logs: ${rep.dir}`);
  const ok = rep.result.ok && rep.crashes.length === 0 && rep.stuck.length === 0 && new Set(rep.digests.values()).size === 1;
  if (ok) fs.rmSync(rep.dir, { recursive: true, force: true });
  process.exitCode = ok ? 0 : 1;
}

void main();
