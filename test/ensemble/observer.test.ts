/** An observer: serves clients, forwards writes, gets INFORMs, and never counts toward the quorum. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { startEnsemble } from '../support/ensemble.js';

test('2 participants + 1 observer: writes through the observer commit; the observer alone is no quorum', async () => {
  const ens = await startEnsemble(3, { observers: 1 });
  try {
    const roles = await ens.roles();
    assert.equal(roles.get(3), 'observer');
    assert.deepEqual([roles.get(1), roles.get(2)].sort(), ['follower', 'leader']);
    const obs = ens.members[2]!;
    const zk = await ZooKeeperClient.connect(obs.connectString, { sessionTimeout_ms: 4000 });
    await zk.create('/via-observer', 'x');
    await zk.sync('/');
    assert.equal((await zk.getData('/via-observer')).data?.toString(), 'x');
    const leader = await ens.waitForLeader();
    const follower = ens.members.find((m) => m !== leader && m !== obs)!;
    const r = await ZooKeeperClient.connect(follower.connectString, { sessionTimeout_ms: 4000 });
    await r.sync('/');
    assert.ok(await r.exists('/via-observer'));
    await r.close();
    zk.abandon();
    // Kill the follower: leader + observer are not a quorum of participants, so nothing serves.
    await follower.kill();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const modes = await ens.roles();
      if (modes.get(leader.id) === 'looking' && modes.get(obs.id) === 'looking') break;
      assert.ok(Date.now() < deadline, `leader and observer still serve without a quorum: ${JSON.stringify([...modes])}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    await follower.restart();
    await ens.waitForLeader();
  } finally {
    await ens.stop();
  }
});
