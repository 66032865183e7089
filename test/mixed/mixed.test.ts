/**
 * Mixed ensembles of Apache ZooKeeper 3.8 and tszk peers (issue 6): 1 tszk + 2 ZooKeeper and
 * 2 tszk + 1 ZooKeeper, leader on either side (the highest sid wins the first election of an empty
 * ensemble). What works today is asserted; what does not yet is a `todo` subtest naming the
 * discrepancy (see the final report of the quorum-wire work for the evidence).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerKind } from '../support/zk-ensemble.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { startMixed, waitForSameTree, writeThroughEveryMember, type MixedRun } from './harness.js';
import { checkTszkWire } from './wire-rules.js';
import fs from 'node:fs';
import { fourLetter } from '../support/ports.js';
import { ZooKeeperClient, CreateMode, op } from '../../src/client/index.js';

const missing = zookeeperMissing();
const requireExternal = process.env['TSZK_REQUIRE_EXTERNAL'] === '1';
const skip = missing !== undefined && !requireExternal ? missing : undefined;

const combos: { name: string; kinds: PeerKind[] }[] = [
  { name: '1 tszk follower + 2 ZooKeeper (ZooKeeper leads)', kinds: ['tszk', 'zookeeper', 'zookeeper'] },
  { name: '1 tszk leader + 2 ZooKeeper followers', kinds: ['zookeeper', 'zookeeper', 'tszk'] },
  { name: '2 tszk followers + 1 ZooKeeper leader', kinds: ['tszk', 'tszk', 'zookeeper'] },
  { name: '2 tszk (one leads) + 1 ZooKeeper follower', kinds: ['zookeeper', 'tszk', 'tszk'] },
];

for (const combo of combos) {
  test(`mixed ensemble: ${combo.name}`, { skip, timeout: 120_000 }, async (t) => {
    if (missing) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${missing}`);
    const run: MixedRun = await startMixed(combo.kinds);
    try {
      const leader = run.ens.peers.find((p) => p.sid === run.leaderSid)!;
      await t.test('elects the highest sid, all members in the same epoch', () => {
        assert.equal(run.leaderSid, combo.kinds.length, run.modes.join(' '));
        assert.equal(leader.kind, combo.kinds.at(-1));
      });

      await t.test('writes through members of the leader kind reach every member (same tree)', async () => {
        const root = '/same-kind';
        const writers = run.ens.peers.filter((p) => p.kind === leader.kind);
        const clients: ZooKeeperClient[] = [];
        try {
          for (const p of writers) {
            const zk = await ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 10_000 });
            clients.push(zk);
            if (p === writers[0]) await zk.create(root, 'r');
            else await zk.sync(root);
            const base = `${root}/via-${p.sid}`;
            await zk.create(base, `from ${p.sid}`);
            await zk.create(`${base}/seq-`, 's', { mode: CreateMode.PERSISTENT_SEQUENTIAL });
            await zk.create(`${base}/eph`, 'e', { mode: CreateMode.EPHEMERAL });
            await zk.setData(base, `updated by ${p.sid}`);
            await zk.multi([op.create(`${base}/m`, 'm'), op.setData(base, 'multi'), op.delete(`${base}/m`)]);
          }
          const { same, views } = await waitForSameTree(run.ens, root);
          assert.ok(same, `members disagree:\n${views.join('\n')}`);
          assert.ok(views[0]!.includes(`"path":"${root}/via-${leader.sid}/eph"`), 'ephemeral missing');
        } finally {
          for (const zk of clients) await zk.close().catch(() => undefined);
        }
        // Closing the sessions removes their ephemerals everywhere.
        const after = await waitForSameTree(run.ens, root);
        assert.ok(after.same && !after.views[0]!.includes('/eph'), after.views.join('\n'));
      });

      await t.test("tszk's election and quorum packets follow ZooKeeper's layout", () => {
        const f = checkTszkWire(run.ens);
        // ZooKeeper dials a lower sid back at the address in its initial message (the real port,
        // not the proxy), so some election traffic bypasses the recording; quorum traffic never does.
        assert.ok(f.checked.packets > 0, JSON.stringify(f.checked));
        assert.deepEqual(f.strict, []);
        if (f.known.length > 0) t.diagnostic(`known wire gaps: ${f.known.join(' | ')}`);
      });

      await t.test('learner connections stay up: no ZooKeeper peer logs an exception from a tszk packet', () => {
        for (const p of run.ens.peers.filter((q) => q.kind === 'zookeeper')) {
          const bad = fs
            .readFileSync(p.logFile, 'utf8')
            .split('\n')
            .filter((l) => /Unexpected exception in LearnerHandler|Exception causing shutdown|Failed to process/.test(l));
          assert.deepEqual(bad.slice(0, 3), [], `peer ${p.sid} log ${p.logFile}`);
        }
      });

      await t.test('writes and sync reads through every member', async () => {
        const { clients, errors } = await writeThroughEveryMember(run.ens, '/every-member');
        for (const zk of clients) await zk.close().catch(() => undefined);
        assert.equal(errors.size, 0, [...errors].map(([k, v]) => `member ${k}: ${v}`).join('; '));
        const { same, views } = await waitForSameTree(run.ens, '/every-member');
        assert.ok(same, views.join('\n'));
      });

      await t.test("/zookeeper/config holds each member's own ensemble config, as ZooKeeper puts it there", async () => {
        const seen: string[] = [];
        for (const p of run.ens.peers) {
          const zk = await ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 10_000 });
          try {
            const { data, stat } = await zk.getData('/zookeeper/config');
            const text = data?.toString('utf8') ?? '';
            const cfg = fs.readFileSync(p.cfgPath, 'utf8');
            // Same server lines as the member's zoo.cfg (role added), then the config version.
            const servers = [...cfg.matchAll(/^server\.(\d+)=(.*)$/gm)].map(([, id, v]) => `server.${id}=${v!.includes(':observer') ? v : `${v}:participant`}`);
            assert.deepEqual(text.split('\n'), [...servers, 'version=0'], `peer ${p.sid} (${p.kind})`);
            seen.push(`${p.kind}: version ${stat.version} mzxid ${stat.mzxid}`);
          } finally {
            await zk.close();
          }
        }
        assert.equal(new Set(seen.map((x) => x.replace(/^\w+: /, ''))).size, 1, seen.join('; '));
      });

      await t.test("every member's tree reached the digest the leader put on each txn (zk_digest_mismatches_count 0)", async () => {
        // A ZooKeeper follower of a tszk leader checks tszk's predicted digest after every txn, and
        // a tszk follower checks a ZooKeeper leader's: the real ZooKeeper verifying tszk's state.
        for (const p of run.ens.peers) {
          const mntr = await fourLetter(p.clientPort, 'mntr', 5000);
          assert.match(mntr, /^zk_digest_mismatches_count\t0$/m, `peer ${p.sid} (${p.kind}, log ${p.logFile})`);
        }
      });
    } finally {
      await run.ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
    }
  });
}
