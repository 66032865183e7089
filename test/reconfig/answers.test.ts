/**
 * Every reconfig request is answered, as Apache ZooKeeper 3.8 answers it: kazoo runs the same
 * steps (kazoo's TestReconfig and more refusals, scripts/kazoo_reconfig.py) against a 3-member
 * ZooKeeper ensemble and a 3-member tszk ensemble, both with reconfigEnabled=true and kazoo's super
 * user, and the answers must be equal — codes, config versions (the reconfig txn's zxid) and sizes.
 * Then the refusals before any ensemble check: reconfigEnabled=false (the default) and standalone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { Err } from '../../src/proto/errors.js';
import { runExternal } from '../interop/run-external.js';
import { freePort } from '../support/ports.js';
import { repoRoot, skipUnless, startTarget, type TargetKind } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { startDirectEnsemble, SUPER_DIGEST } from './direct-ensemble.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(repoRoot, 'test/reconfig/scripts/kazoo_reconfig.py');
const SCRIPT_TIMEOUT_MS = 120_000;
/** runExternal only uses the proxy when a script asks for a DROP, which these never do. */
const NO_PROXY = undefined as unknown as TcpProxy;

function missing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import kazoo'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'kazoo not importable by /usr/bin/python3 (apt-get install python3-kazoo)';
  return zookeeperMissing();
}

async function ensembleAnswers(kind: TargetKind): Promise<unknown> {
  const ens = await startDirectEnsemble(kind, 3, { reconfigEnabled: 'true' });
  try {
    await ens.waitForLeader();
    const ports: string[] = [];
    for (let i = 0; i < 9; i++) ports.push(String(await freePort()));
    const { result } = await runExternal(PYTHON, [SCRIPT, ens.peers[0]!.connectString, ...ports], NO_PROXY, SCRIPT_TIMEOUT_MS);
    return result;
  } finally {
    await ens.stop();
  }
}

async function standaloneAnswer(kind: TargetKind, reconfigEnabled: boolean): Promise<number> {
  const t = await startTarget(kind, { superDigest: SUPER_DIGEST, cfg: { reconfigEnabled: String(reconfigEnabled) } });
  try {
    const { result } = await runExternal(PYTHON, [SCRIPT, '--one', t.connectString], NO_PROXY, SCRIPT_TIMEOUT_MS);
    return result['code'] as number;
  } finally {
    await t.stop();
  }
}

test('reconfig answers of a tszk ensemble equal ZooKeeper 3.8 ones (kazoo)', { skip: skipUnless(missing()), timeout: 300_000 }, async () => {
  const zk = await ensembleAnswers('zookeeper');
  const ts = await ensembleAnswers('tszk');
  assert.deepEqual(ts, zk);
  // The steps did reach the checks they are named for.
  const codes = new Map((zk as { step: string; code: number }[]).map((s) => [s.step, s.code]));
  assert.equal(codes.get('noSuperAuth'), Err.NoAuth);
  assert.equal(codes.get('addObserver'), Err.Ok);
  assert.equal(codes.get('unsyncedParticipants'), Err.NewConfigNoQuorum);
  assert.equal(codes.get('staleVersion'), Err.BadVersion);
});

test('reconfig disabled or standalone: ReconfigDisabled, then Unimplemented, as ZooKeeper', { skip: skipUnless(missing()), timeout: 300_000 }, async () => {
  for (const enabled of [false, true]) {
    const want = await standaloneAnswer('zookeeper', enabled);
    assert.equal(want, enabled ? Err.Unimplemented : Err.ReconfigDisabled);
    assert.equal(await standaloneAnswer('tszk', enabled), want, `standalone, reconfigEnabled=${enabled}`);
  }
});

test('reconfigEnabled=false in an ensemble: ReconfigDisabled, as ZooKeeper', { skip: skipUnless(missing()), timeout: 300_000 }, async () => {
  for (const kind of ['zookeeper', 'tszk'] as const) {
    const ens = await startDirectEnsemble(kind, 3, {});
    try {
      await ens.waitForLeader();
      const { result } = await runExternal(PYTHON, [SCRIPT, '--one', ens.peers[1]!.connectString], NO_PROXY, SCRIPT_TIMEOUT_MS);
      assert.equal(result['code'], Err.ReconfigDisabled, kind);
    } finally {
      await ens.stop();
    }
  }
});
