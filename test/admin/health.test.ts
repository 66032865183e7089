/**
 * Readiness and liveness on the admin port of a real 3-member tszk ensemble: every member ready
 * while the quorum serves; kill -9 two members and the survivor turns 503 (a one-line JSON reason)
 * while staying live; restart them and it is ready again. A standalone server is ready once it
 * serves.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEnsemble, type EnsembleMember } from '../support/ensemble.js';
import { TestingServer } from '../../src/testing/index.js';

interface Probe {
  status: number;
  body: { status: string; reason: string; mode: string };
  text: string;
}

async function probe(adminPort: number, which: 'ready' | 'live'): Promise<Probe> {
  const r = await fetch(`http://127.0.0.1:${adminPort}/health/${which}`);
  const text = await r.text();
  return { status: r.status, text, body: JSON.parse(text) as Probe['body'] };
}

/** Polls readiness until it has `status`; returns that answer. */
async function until(m: EnsembleMember, status: number, timeout_ms = 30_000): Promise<Probe> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    let last: Probe | undefined;
    try {
      last = await probe(m.adminPort!, 'ready');
      if (last.status === status) return last;
    } catch {
      /* not listening yet (restarting) */
    }
    if (Date.now() > deadline) throw new Error(`member ${m.id}: /health/ready still ${last?.status ?? 'down'} (${last?.text ?? ''}), log ${m.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('standalone: ready and live once it serves', async () => {
  await using srv = await TestingServer.start();
  const ready = await probe(srv.adminPort!, 'ready');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.body, { status: 'ready', reason: 'serving', mode: 'standalone' });
  assert.equal((await probe(srv.adminPort!, 'live')).status, 200);
});

test('a 3-member ensemble: ready in quorum, 503 with a reason after losing two members, ready again after they return', { timeout: 180_000 }, async () => {
  const ens = await startEnsemble(3, { adminServer: true, tickTime_ms: 200 });
  try {
    for (const m of ens.members) {
      const r = await until(m, 200);
      assert.equal(r.body.status, 'ready');
      assert.match(r.body.mode, /^(leader|follower)$/);
    }
    const leader = await ens.waitForLeader();
    const survivor = ens.members.find((m) => m !== leader)!;
    const others = ens.members.filter((m) => m !== survivor);
    for (const m of others) await m.kill('SIGKILL');

    const down = await until(survivor, 503);
    assert.equal(down.body.status, 'not ready');
    assert.match(down.body.reason, /looking|not serving/);
    assert.equal(down.text.trimEnd().includes('\n'), false, 'one line');
    assert.equal(down.text.endsWith('\n'), true);
    const live = await probe(survivor.adminPort!, 'live');
    assert.equal(live.status, 200, 'still live without a quorum');

    for (const m of others) await m.restart();
    await ens.waitForLeader();
    for (const m of ens.members) assert.equal((await until(m, 200)).body.status, 'ready');
  } finally {
    await ens.stop();
  }
});

test('a member serving read-only clients outside the quorum is not ready', { timeout: 120_000 }, async () => {
  const ens = await startEnsemble(3, { adminServer: true, tickTime_ms: 200, cfg: { 'readonlymode.enabled': 'true' } });
  try {
    const leader = await ens.waitForLeader();
    const survivor = ens.members.find((m) => m !== leader)!;
    for (const m of ens.members) if (m !== survivor) await m.kill('SIGKILL');
    const deadline = Date.now() + 30_000;
    let r = await until(survivor, 503);
    while (r.body.mode !== 'read-only') {
      if (Date.now() > deadline) throw new Error(`member ${survivor.id} never served read-only: ${r.text}`);
      await new Promise((res) => setTimeout(res, 100));
      r = await probe(survivor.adminPort!, 'ready');
    }
    assert.equal(r.status, 503);
    assert.match(r.body.reason, /read-only/);
  } finally {
    await ens.stop();
  }
});
