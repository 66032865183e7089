/** Facts about ZooKeeper our server copies, checked against the real 3.8 server when it is installed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startZooKeeper, zookeeperMissing } from '../support/zookeeper.js';
import { skipUnless, waitServing } from '../support/target.js';
import { RawSession, body, decodeAs } from '../support/raw-client.js';
import { sessionPassword } from '../../src/server/sessionIds.js';
import { DataTree } from '../../src/tree/index.js';
import { OpCode } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';

test('session passwords and the special nodes’ Stat match a real ZooKeeper 3.8', { skip: skipUnless(zookeeperMissing()), timeout: 60_000 }, async () => {
  const zk = await startZooKeeper();
  try {
    await waitServing(zk.port);
    const s = await RawSession.open(zk.port);
    assert.deepEqual(s.passwd, sessionPassword(s.sessionId));
    const fresh = new DataTree();
    for (const path of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      const r = await s.call(OpCode.exists, body(R.ExistsRequest, { path, watch: false }));
      const real = decodeAs(R.ExistsResponse, r.body).stat;
      const ours = fresh.getNode(path)!.toStat();
      // Only the root's pzxid/cversion move with client nodes; a fresh server has none but the harness's probe session.
      assert.deepEqual({ ...ours, pzxid: 0n, czxid: 0n, mzxid: 0n }, { ...real, pzxid: 0n, czxid: 0n, mzxid: 0n }, path);
      const acl = decodeAs(R.GetACLResponse, (await s.call(OpCode.getACL, body(R.GetACLRequest, { path }))).body).acl;
      assert.deepEqual(acl, [...fresh.aclOf(fresh.getNode(path)!)], path);
    }
    await s.close();
  } finally {
    await zk.stop();
  }
});
