/**
 * Differential: fast-check generates random op sequences (ops.ts) and each is replayed
 * (replay.ts) against the subject (tszk; TSZK_TEST_TARGET=zookeeper makes it a second real
 * ZooKeeper, which validates the harness) and against Apache ZooKeeper 3.8. Replies, error
 * codes, normalised Stat fields and watch events must match exactly. Each sequence runs under
 * a fresh prefix with two fresh sessions. Sizes: TSZK_DIFF_SEQUENCES (default 100),
 * TSZK_DIFF_OPS (default 30), TSZK_DIFF_SEED.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fourLetter } from '../support/ports.js';
import { RawSession } from '../support/raw-client.js';
import { skipUnless, startTarget, targetKind, targetMissing, type Target } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { sequenceArb, type Op } from './ops.js';
import { replay, type Step } from './replay.js';

const SEQUENCES = Number(process.env['TSZK_DIFF_SEQUENCES'] ?? 100);
const OPS = Number(process.env['TSZK_DIFF_OPS'] ?? 30);
const SEED = Number(process.env['TSZK_DIFF_SEED'] ?? Date.now() % 1_000_000);
/** Replays spent on shrinking one failing sequence. */
const SHRINK_REPLAYS_MAX = 40;
/** Failing sequences reported in full (one per kind of difference). */
const REPORTED_MAX = 6;
/** Keeps container and TTL reaping from racing the sequences (its timing differs per server). */
const REAPER_OFF_MS = 3_600_000;
const subjectKind = targetKind();

interface Pair {
  subject: Target;
  reference: Target;
  adminS: RawSession;
  adminR: RawSession;
  next: number;
}

/** Index of the first differing step, or -1 when both transcripts are equal. */
function firstDiff(a: Step[], b: Step[]): number {
  const len = Math.max(a.length, b.length);
  for (let i = 0; i < len; i++) {
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return i;
  }
  return -1;
}

async function compare(p: Pair, ops: Op[]): Promise<{ diff: number; subject: Step[]; reference: Step[] }> {
  const prefix = `/d${p.next++}`;
  const [subject, reference] = await Promise.all([replay(p.subject.port, p.adminS, prefix, ops), replay(p.reference.port, p.adminR, prefix, ops)]);
  return { diff: firstDiff(subject, reference), subject, reference };
}

/** Cuts a failing sequence down: drop everything after the first difference, then single ops. */
async function shrink(p: Pair, ops: Op[], diffAt: number): Promise<Op[]> {
  let cur = ops.slice(0, Math.min(diffAt + 1, ops.length));
  let budget = SHRINK_REPLAYS_MAX;
  for (let i = cur.length - 1; i >= 0 && budget > 0; i--) {
    const cand = [...cur.slice(0, i), ...cur.slice(i + 1)];
    budget--;
    const r = await compare(p, cand);
    if (r.diff >= 0) cur = cand.slice(0, Math.min(r.diff + 1, cand.length));
  }
  return cur;
}

/** What kind of difference: the op where it happened and which part (reply or events) differs. */
function signature(ops: Op[], r: { diff: number; subject: Step[]; reference: Step[] }): string {
  const op = ops[r.diff];
  const what = op === undefined ? 'closeSession' : `${op.t}${op.t === 'create' ? `(opcode ${op.opcode}, mode ${op.mode})` : ''}`;
  const a = r.subject[r.diff];
  const b = r.reference[r.diff];
  const part = JSON.stringify(a?.reply) !== JSON.stringify(b?.reply) ? 'reply' : 'events';
  return `${what} ${part}`;
}

function report(ops: Op[], r: { diff: number; subject: Step[]; reference: Step[] }): string {
  const lines = ops.map((o, i) => `  ${i === r.diff ? '>>' : '  '} ${i}: ${JSON.stringify(o)}`);
  return [
    `sequence (${ops.length} ops), first difference at step ${r.diff}:`,
    ...lines,
    `  ${subjectKind}: ${JSON.stringify(r.subject[r.diff])}`,
    `  zookeeper: ${JSON.stringify(r.reference[r.diff])}`,
  ].join('\n');
}

const missing = zookeeperMissing() ?? targetMissing(subjectKind);

test(`differential: ${subjectKind} vs Apache ZooKeeper 3.8 on random op sequences`, { skip: skipUnless(missing), timeout: 30 * 60_000 }, async () => {
  const opts = { extendedTypes: true, containerCheckInterval_ms: REAPER_OFF_MS };
  // TSZK_DIFF_LOG_DIR keeps both servers' logs for a failing run.
  const logDir = process.env['TSZK_DIFF_LOG_DIR'];
  const logOf = (name: string): { logFile?: string } => (logDir ? { logFile: `${logDir}/${name}.log` } : {});
  const [subject, reference] = await Promise.all([
    startTarget(subjectKind, { ...opts, ...logOf('subject') }),
    startTarget('zookeeper', { ...opts, ...logOf('zookeeper') }),
  ]);
  const adminS = await RawSession.open(subject.port);
  const adminR = await RawSession.open(reference.port);
  const p: Pair = { subject, reference, adminS, adminR, next: 0 };
  try {
    const sequences = fc.sample(sequenceArb(Math.max(1, OPS - 10), OPS + 10), { seed: SEED, numRuns: SEQUENCES });
    let ops = 0;
    let steps = 0;
    const failures: string[] = [];
    const signatures = new Map<string, number>();
    let failing = 0;
    const t0 = Date.now();
    for (const seq of sequences) {
      const r = await compare(p, seq);
      ops += seq.length;
      steps += r.reference.length;
      if (r.diff < 0) continue;
      failing++;
      const sig = signature(seq, r);
      signatures.set(sig, (signatures.get(sig) ?? 0) + 1);
      if (failures.length < REPORTED_MAX && signatures.get(sig) === 1) {
        const small = await shrink(p, seq, r.diff);
        const again = await compare(p, small);
        failures.push(again.diff >= 0 ? report(small, again) : report(seq, r));
      }
    }
    console.log(
      `# differential (seed ${SEED}): compared ${sequences.length} sequences, ${ops} ops (${steps} steps incl. session closes) ` +
        `between ${subjectKind} and ZooKeeper 3.8 in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${failing} sequences differ`,
    );
    const kinds = [...signatures].map(([k, n]) => `${k} ×${n}`).join('; ');
    // Every txn carried the tree digest tszk predicted; the tree must have reached it each time.
    // (ZooKeeper 3.8 itself mispredicts a createContainer whose flags are not CONTAINER.)
    if (subjectKind === 'tszk') assert.match(await fourLetter(subject.port, 'mntr'), /^zk_digest_mismatches_count\t0$/m, 'tszk mntr');
    assert.equal(
      failing,
      0,
      `${failing} of ${sequences.length} sequences differ (seed ${SEED}; TSZK_DIFF_SEED=${SEED} replays); kinds: ${kinds}\n${failures.join('\n\n')}`,
    );
  } finally {
    await adminS.close();
    await adminR.close();
    await Promise.all([subject.stop(), reference.stop()]);
  }
});
