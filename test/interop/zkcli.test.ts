/**
 * Interop: ZooKeeper's own shell, zkCli.sh, runs test/interop/scripts/zkcli-scenario.txt (node
 * types incl. container and TTL, errors, watches, digest auth and ACLs, getEphemerals, whoami,
 * deleteall) against the target and against Apache ZooKeeper 3.8; the two transcripts must be
 * the same once ports, times, zxids and session ids are normalised.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, skipUnless, startTarget, targetKind, targetMissing } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { normaliseZkCli as normalise, runZkCli, ZKCLI } from './zkcli-run.js';

const kind = targetKind();

function zkCliMissing(): string | undefined {
  if (!fs.existsSync(ZKCLI)) return `${ZKCLI} missing (apt-get install zookeeper)`;
  return zookeeperMissing();
}

test(`zkCli scenario: ${kind} prints what ZooKeeper 3.8 prints`, { skip: skipUnless(zkCliMissing() ?? targetMissing(kind)), timeout: 180_000 }, async () => {
  const script = fs.readFileSync(path.join(repoRoot, 'test/interop/scripts/zkcli-scenario.txt'), 'utf8');
  const opts = { extendedTypes: true };
  const [subject, reference] = await Promise.all([startTarget(kind, opts), startTarget('zookeeper', opts)]);
  try {
    const [a, b] = await Promise.all([runZkCli(subject.connectString, script), runZkCli(reference.connectString, script)]);
    // The reference run really executed the scenario (guards against a silently broken zkCli).
    assert.match(b.stderr, /Created \/cli\/ttl/);
    assert.match(b.stdout, /type:NodeDataChanged path:\/cli/);
    assert.deepEqual(normalise(a.stderr), normalise(b.stderr), 'zkCli stderr differs');
    assert.deepEqual(normalise(a.stdout), normalise(b.stdout), 'zkCli stdout differs');
  } finally {
    await Promise.all([subject.stop(), reference.stop()]);
  }
});
