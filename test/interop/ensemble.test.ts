/**
 * Interop against a 3-member ${kind} ensemble (issue 5, must-show 5): the same scenarios as the
 * standalone suites (node-zookeeper-client, kazoo, the Java client, the zkCli transcript), with
 * the same expected results, on one shared ensemble (distinct roots per scenario).
 *
 * Client a of each scripted scenario starts on one member through a proxy; the scenario's
 * reconnect step moves it to another member (startHopProxy), so the session and its watches
 * must survive the move. Client b connects directly to a's first member: b's reads of a's writes
 * are then ordered as in the standalone run (a different member may legitimately lag, which
 * would change what the scenario expects, not test the server). Every scenario has a client
 * on a follower, so its writes are forwarded to the leader. zkCli connects with the two
 * followers in its connect string, and its transcript is compared with a standalone
 * Apache ZooKeeper 3.8's. TSZK_TEST_TARGET=zookeeper runs it all against a 3-member ZooKeeper
 * 3.8 ensemble (how the suite itself is validated).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectStringOf, startHopProxy, startInteropEnsemble, type InteropEnsemble } from '../support/ensemble-target.js';
import { repoRoot, skipUnless, startTarget, targetKind, targetMissing } from '../support/target.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { normaliseZkCli, runZkCli, ZKCLI } from './zkcli-run.js';
import { runNodeScenario } from './node-scenario.js';
import { JARS, javaMissing, runExternal } from './run-external.js';
import { checkResults } from './scenario.js';

const PYTHON = '/usr/bin/python3';

function kazooMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import kazoo'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not runnable (${r.error.message})`;
  if (r.status !== 0) return 'kazoo not importable by /usr/bin/python3 (apt-get install python3-kazoo)';
  return undefined;
}

function zkCliMissing(): string | undefined {
  if (!fs.existsSync(ZKCLI)) return `${ZKCLI} missing (apt-get install zookeeper)`;
  return zookeeperMissing();
}

// TSZK_TEST_TARGET=zookeeper runs the same suite against a 3-member ZooKeeper 3.8 ensemble.
const kind = targetKind();
const noTarget = targetMissing(kind);
let e: InteropEnsemble | undefined;

before(async () => {
  if (noTarget === undefined) e = await startInteropEnsemble(kind);
});

after(async () => {
  await e?.stop();
});

function ensemble(): InteropEnsemble {
  assert.ok(e, 'ensemble not started');
  return e;
}

/** Runs `f` with a hop proxy and, when it fails, names the member logs to read. */
async function withHop(from: 'f1' | 'f2' | 'leader', to: 'f1' | 'f2' | 'leader', f: (proxy: TcpProxy, direct: string) => Promise<void>): Promise<void> {
  const ens = ensemble();
  const pick = { f1: ens.followers[0], f2: ens.followers[1], leader: ens.leader };
  const proxy = await startHopProxy(pick[from], pick[to]);
  try {
    await f(proxy, pick[from].connectString);
    // The reconnect went through the proxy, i.e. to the other member.
    assert.ok(proxy.accepted() >= 2, `client a never reconnected through the proxy (accepted ${proxy.accepted()})`);
  } catch (err) {
    const logs = ens.members.map((m) => `member ${m.id}: ${m.logFile}`).join(', ');
    throw new Error(`${(err as Error).message}\n(a: member ${pick[from].id} -> ${pick[to].id}; leader ${ens.leader.id}; logs ${logs})`, { cause: err });
  } finally {
    await proxy.close();
  }
}

test(`node-zookeeper-client scenario against a 3-member ${kind} ensemble (follower -> follower)`, { skip: skipUnless(noTarget), timeout: 60_000 }, async () => {
  await withHop('f1', 'f2', (proxy, direct) => runNodeScenario(proxy, direct, `/interop-ens-node-${process.pid}`));
});

test(`kazoo scenario against a 3-member ${kind} ensemble (follower -> leader)`, { skip: skipUnless(kazooMissing() ?? noTarget), timeout: 60_000 }, async () => {
  await withHop('f2', 'leader', async (proxy, direct) => {
    const root = `/interop-ens-kazoo-${process.pid}`;
    const script = path.join(repoRoot, 'test/interop/scripts/kazoo_scenario.py');
    const { result } = await runExternal(PYTHON, [script, proxy.connectString, direct, root], proxy, 50_000);
    checkResults(result, root, { container: false, ttl: false, persistentWatches: false });
  });
});

test(
  `Java client scenario against a 3-member ${kind} ensemble (follower -> leader)`,
  { skip: skipUnless(javaMissing() ?? noTarget), timeout: 90_000 },
  async () => {
    const classes = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-java-ens-'));
    try {
      const src = path.join(repoRoot, 'test/interop/scripts/JavaScenario.java');
      const cp = JARS.join(':');
      const javac = spawnSync('javac', ['-d', classes, '-cp', cp, src], { encoding: 'utf8' });
      if (javac.status !== 0) throw new Error(`javac failed:\n${javac.stderr}`);
      await withHop('leader', 'f1', async (proxy, direct) => {
        const root = `/interop-ens-java-${process.pid}`;
        const { result } = await runExternal('java', ['-cp', `${classes}:${cp}`, 'JavaScenario', proxy.connectString, direct, root, 'ttl'], proxy, 80_000);
        checkResults(result, root, { container: true, ttl: true, persistentWatches: true });
      });
    } finally {
      fs.rmSync(classes, { recursive: true, force: true });
    }
  },
);

test(
  `zkCli scenario: a 3-member ${kind} ensemble (via the followers) prints what a standalone ZooKeeper 3.8 prints`,
  { skip: skipUnless(zkCliMissing() ?? noTarget), timeout: 90_000 },
  async () => {
    const ens = ensemble();
    const script = fs.readFileSync(path.join(repoRoot, 'test/interop/scripts/zkcli-scenario.txt'), 'utf8');
    const reference = await startTarget('zookeeper', { extendedTypes: true });
    try {
      const [a, b] = await Promise.all([runZkCli(connectStringOf(ens.followers), script), runZkCli(reference.connectString, script)]);
      assert.match(b.stderr, /Created \/cli\/ttl/);
      assert.match(b.stdout, /type:NodeDataChanged path:\/cli/);
      assert.deepEqual(normaliseZkCli(a.stderr), normaliseZkCli(b.stderr), 'zkCli stderr differs');
      assert.deepEqual(normaliseZkCli(a.stdout), normaliseZkCli(b.stdout), 'zkCli stdout differs');
    } finally {
      await reference.stop();
    }
  },
);
