/**
 * Read-only mode (readonlymode.enabled): a member left without a quorum serves read-only clients
 * from its last committed state, and drops them when it rejoins a quorum so they reconnect
 * read-write. Without the option such a member refuses every client.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { Err, KeeperError } from '../../src/proto/errors.js';
import { startEnsemble, type EnsembleMember } from '../support/ensemble.js';
import { fourLetter } from '../support/ports.js';
import { waitFor } from '../support/wait.js';
import { startZkEnsemble, zkEnsembleMissing } from '../support/zk-ensemble.js';

async function isro(m: EnsembleMember): Promise<string> {
  try {
    return await fourLetter(m.clientPort, 'isro', 1000);
  } catch {
    return 'down';
  }
}

/** Resolves to the error code a write gets, or 'ok'. */
async function writeOutcome(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof KeeperError) return e.code;
    throw e;
  }
}

test('readonlymode: the lone survivor serves read-only clients, then read-write after rejoining', async () => {
  const ens = await startEnsemble(3, { cfg: { 'readonlymode.enabled': 'true' } });
  const clients: ZooKeeperClient[] = [];
  try {
    const leader = await ens.waitForLeader();
    const w = await ZooKeeperClient.connect(leader.connectString, { sessionTimeout_ms: 4000 });
    clients.push(w);
    await w.create('/ro', 'before');
    await w.setData('/ro', 'committed');
    const survivor = ens.members.find((m) => m !== leader)!;
    // The survivor has applied everything before the others go down.
    const s0 = await ZooKeeperClient.connect(survivor.connectString, { sessionTimeout_ms: 4000 });
    await s0.sync('/');
    assert.equal((await s0.getData('/ro')).data?.toString(), 'committed');
    await s0.close();
    assert.equal(await isro(survivor), 'rw');
    await w.close();
    clients.length = 0;

    const others = ens.members.filter((m) => m !== survivor);
    for (const m of others) await m.kill();
    // After the grace period (≥ 2 s) the LOOKING survivor starts serving read-only.
    await waitFor('the survivor to answer isro=ro', async () => ((await isro(survivor)) === 'ro' ? true : undefined), 20_000, 100);

    const ro = await ZooKeeperClient.connect(survivor.connectString, { sessionTimeout_ms: 4000, canBeReadOnly: true, connectWait_ms: 10_000 });
    clients.push(ro);
    assert.equal(ro.state, 'connectedReadOnly');
    assert.equal((await ro.getData('/ro')).data?.toString(), 'committed');
    assert.deepEqual(
      (await ro.getChildren('/')).filter((c) => c === 'ro'),
      ['ro'],
    );
    assert.equal(await writeOutcome(ro.setData('/ro', 'nope')), Err.NotReadOnly);
    assert.equal(await writeOutcome(ro.create('/ro2', 'x')), Err.NotReadOnly);
    assert.equal(await writeOutcome(ro.sync('/')), Err.NotReadOnly);
    // Reads still work after the refused writes, and the data did not change.
    assert.equal((await ro.getData('/ro')).data?.toString(), 'committed');
    assert.equal(ro.state, 'connectedReadOnly');

    // A client that does not accept read-only servers is refused.
    const rw = new ZooKeeperClient(survivor.connectString, { sessionTimeout_ms: 4000, connectWait_ms: 1500 });
    await assert.rejects(rw.connected());
    assert.notEqual(rw.state, 'connected');
    await rw.close().catch(() => undefined);

    // The others come back: the survivor rejoins a quorum, drops its read-only connections, and the
    // client reconnects read-write (same host) and can write.
    for (const m of others) await m.restart();
    await ens.waitForLeader({ timeout_ms: 30_000 });
    await waitFor('the read-only client to reconnect read-write', async () => (ro.state === 'connected' ? true : undefined), 30_000, 100);
    assert.equal(await isro(survivor), 'rw');
    await ro.setData('/ro', 'after');
    assert.equal((await ro.getData('/ro')).data?.toString(), 'after');
  } finally {
    for (const c of clients) c.abandon();
    await ens.stop();
  }
});

test('without readonlymode a member outside a quorum refuses read-only clients too', async () => {
  const ens = await startEnsemble(3);
  try {
    const leader = await ens.waitForLeader();
    const survivor = ens.members.find((m) => m !== leader)!;
    for (const m of ens.members.filter((x) => x !== survivor)) await m.kill();
    await waitFor('the survivor to stop serving', async () => ((await survivor.status()).mode === 'looking' ? true : undefined), 15_000, 100);
    // Longer than the read-only grace period: still nothing is served.
    await new Promise((r) => setTimeout(r, 2500));
    assert.notEqual(await isro(survivor), 'ro');
    const c = new ZooKeeperClient(survivor.connectString, { sessionTimeout_ms: 4000, canBeReadOnly: true, connectWait_ms: 1500 });
    await assert.rejects(c.connected());
    await c.close().catch(() => undefined);
  } finally {
    await ens.stop();
  }
});

test('the same scenario against Apache ZooKeeper 3.8 (-Dreadonlymode.enabled=true, localSessionsEnabled=true)', { skip: zkSkip() }, async () => {
  // ZooKeeper reads the system property only (zoo.cfg's key would become zookeeper.readonlymode.enabled);
  // its read-only server makes sessions only when they can be local (localSessionsEnabled).
  const ens = await startZkEnsemble({
    peers: [{ kind: 'zookeeper' }, { kind: 'zookeeper' }, { kind: 'zookeeper' }],
    tickTime_ms: 200,
    sysProps: { 'readonlymode.enabled': 'true' },
    cfg: { localSessionsEnabled: 'true' },
  });
  const clients: ZooKeeperClient[] = [];
  try {
    const leader = await ens.waitForQuorum(30_000);
    const w = await ZooKeeperClient.connect(leader.connectString, { sessionTimeout_ms: 4000 });
    clients.push(w);
    await w.create('/ro', 'committed');
    const survivor = ens.peers.find((p) => p !== leader)!;
    const s0 = await ZooKeeperClient.connect(survivor.connectString, { sessionTimeout_ms: 4000 });
    await s0.sync('/');
    await s0.close();
    const isroOf = async (): Promise<string> => fourLetter(survivor.clientPort, 'isro', 1000).catch(() => 'down');
    assert.equal(await isroOf(), 'rw');
    for (const p of ens.peers) if (p !== survivor) await p.kill();
    await waitFor('ZooKeeper to answer isro=ro', async () => ((await isroOf()) === 'ro' ? true : undefined), 20_000, 100);
    const ro = await ZooKeeperClient.connect(survivor.connectString, { sessionTimeout_ms: 4000, canBeReadOnly: true, connectWait_ms: 10_000 });
    clients.push(ro);
    assert.equal(ro.state, 'connectedReadOnly');
    assert.equal((await ro.getData('/ro')).data?.toString(), 'committed');
    assert.equal(await writeOutcome(ro.setData('/ro', 'nope')), Err.NotReadOnly);
    assert.equal(await writeOutcome(ro.create('/ro2', 'x')), Err.NotReadOnly);
    assert.equal(await writeOutcome(ro.sync('/')), Err.NotReadOnly);
    const rw = new ZooKeeperClient(survivor.connectString, { sessionTimeout_ms: 4000, connectWait_ms: 1500 });
    await assert.rejects(rw.connected());
    await rw.close().catch(() => undefined);
    for (const p of ens.peers) if (p !== survivor) await p.start();
    await ens.waitForQuorum(30_000);
    await waitFor('the read-only client to reconnect read-write', async () => (ro.state === 'connected' ? true : undefined), 30_000, 100);
    await ro.setData('/ro', 'after');
    assert.equal((await ro.getData('/ro')).data?.toString(), 'after');
  } finally {
    for (const c of clients) c.abandon();
    await ens.stop();
  }
});

function zkSkip(): string | false {
  const missing = zkEnsembleMissing(['zookeeper']);
  if (missing === undefined) return false;
  if (process.env['TSZK_REQUIRE_EXTERNAL'] === '1') throw new Error(`real ZooKeeper required: ${missing}`);
  return missing;
}

test('readonlymode.enabled from zoo.cfg or -D: only "true" (any case) turns it on, as Boolean.getBoolean', async () => {
  const { parseZooCfg } = await import('../../src/server/config.js');
  const base = 'tickTime=2000\ndataDir=/tmp/x\nclientPort=2181\n';
  assert.equal(parseZooCfg(base).options.readOnlyModeEnabled, false);
  assert.equal(parseZooCfg(base + 'readonlymode.enabled=TRUE\n').options.readOnlyModeEnabled, true);
  assert.equal(parseZooCfg(base + 'readonlymode.enabled=yes\n').options.readOnlyModeEnabled, false);
  assert.equal(parseZooCfg(base, { sysProps: { 'readonlymode.enabled': 'true' } }).options.readOnlyModeEnabled, true);
});
