/**
 * Quorum TLS (sslQuorum, portUnification, ssl.quorum.*), real processes: a tszk ensemble over TLS
 * with the bad peers refused (a certificate from another CA, plaintext without portUnification);
 * a mixed ensemble (tszk + Apache ZooKeeper 3.8) moved from plaintext to TLS in ZooKeeper's three
 * rolling steps under an acknowledged writer, then led by each kind over TLS; bad key stores.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { waitForSameTree } from '../mixed/harness.js';
import { assertConfigExits, eachKindLeads, writesReachEveryMember, logLines, restart, setCfg, twoServe, writeVia } from './quorumPeers.js';
import { waitFor } from '../support/wait.js';
import { startZkEnsemble, zkEnsembleMissing, type EnsemblePeer, type PeerKind, type ZkEnsemble } from '../support/zk-ensemble.js';
import { makeCerts, opensslMissing, type Identity, type TestCerts } from './certs.js';

const requireExternal = process.env['TSZK_REQUIRE_EXTERNAL'] === '1';
const missing = opensslMissing() ?? zkEnsembleMissing(['zookeeper']);
const skip = missing !== undefined && !requireExternal ? missing : undefined;

/** The ssl.quorum.* lines of ZooKeeper's admin guide, for one identity. */
function quorumTlsKeys(c: TestCerts, who: Identity = c.server): Record<string, string> {
  return { 'ssl.quorum.keyStore.location': who.pem, 'ssl.quorum.trustStore.location': c.ca };
}

/**
 * A client writing one node after another through the whole ensemble; `acked` holds the writes
 * the ensemble acknowledged (the ones that must survive every restart).
 */
function ackedWriter(ens: ZkEnsemble, root: string): { acked: string[]; failed: () => number; stop: () => Promise<void> } {
  const acked: string[] = [];
  let failed = 0;
  let running = true;
  const loop = (async () => {
    let zk: ZooKeeperClient | undefined;
    for (let i = 0; running; i++) {
      try {
        zk ??= await ZooKeeperClient.connect(ens.connectString, { sessionTimeout_ms: 30_000, connectWait_ms: 20_000 });
        const p = `${root}/w-${String(i).padStart(6, '0')}`;
        await zk.create(p, String(i));
        acked.push(p);
      } catch (e) {
        failed++;
        // A write that failed may or may not be there; an expired session needs a new client.
        if (/expired|closed/i.test(String(e))) {
          await zk?.close().catch(() => undefined);
          zk = undefined;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await zk?.close().catch(() => undefined);
  })();
  return {
    acked,
    failed: () => failed,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('quorum TLS', { skip }, () => {
  let certs: TestCerts;
  before(() => {
    if (missing) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${missing}`);
    certs = makeCerts();
  });
  after(() => certs?.cleanup());

  test('3 tszk members over sslQuorum serve writes; a peer with another CA, or in plaintext, is refused', { timeout: 150_000 }, async (t) => {
    const ens = await startZkEnsemble({
      peers: [{ kind: 'tszk' }, { kind: 'tszk' }, { kind: 'tszk' }],
      cfg: { sslQuorum: 'true', ...quorumTlsKeys(certs) },
      env: { TSZK_LOG_LEVEL: 'info' },
    });
    try {
      await ens.waitForQuorum(40_000);
      await t.test('writes through every member reach every member', async () => {
        await writesReachEveryMember(ens, '/tls');
      });
      await t.test('the peers talk TLS: no recorded quorum or election connection carries plaintext', () => {
        const conns = ens.connections().filter((c) => c.toServer.length > 0);
        assert.ok(conns.length > 0);
        for (const c of conns)
          assert.equal(c.toServer[0]![0], 0x16, `${c.port} connection to ${c.targetSid} starts with ${c.toServer[0]!.subarray(0, 8).toString('hex')}`);
      });

      const [p1, p2, p3] = ens.peers as [EnsemblePeer, EnsemblePeer, EnsemblePeer];
      const others = [p1, p2];

      await t.test('member 3 with a certificate from another CA is refused; 1 and 2 keep serving', async () => {
        await p3.kill();
        await twoServe(ens);
        setCfg(p3, quorumTlsKeys(certs, certs.mallory));
        const logged = others.map((p) => fs.statSync(p.logFile).size);
        await p3.start();
        // Each refused connection: closed, and one line naming the certificate problem.
        await waitFor(
          'a refusal of the untrusted certificate logged by member 1 or 2',
          async () =>
            others.some((p, i) => logLines(p, /unsuccessful TLS handshake.*|not trusted/, logged[i]).some((l) => /certificate/i.test(l))) ? true : undefined,
          30_000,
        );
        await writeVia(p1, '/tls/while-mallory');
        assert.notEqual(await p3.mode(), 'follower');
        assert.notEqual(await p3.mode(), 'leader');
      });

      await t.test('member 3 in plaintext is refused (sslQuorum without portUnification); 1 and 2 keep serving', async () => {
        await p3.kill();
        setCfg(p3, { sslQuorum: 'false', ...quorumTlsKeys(certs) });
        await p3.start();
        await waitFor(
          'a blocked plaintext connection logged by 1 or 2',
          async () => (others.some((p) => logLines(p, /blocked a plaintext connection/).length > 0) ? true : undefined),
          30_000,
        );
        await writeVia(p2, '/tls/while-plaintext');
        assert.notEqual(await p3.mode(), 'follower');
      });

      await t.test('sslQuorumReloadCertFiles: member 3 refused, then its key store file replaced, joins without a restart', async () => {
        await p3.kill();
        const keyStore = path.join(certs.dir, 'reloaded-keystore.pem');
        fs.copyFileSync(certs.mallory.pem, keyStore);
        setCfg(p3, { sslQuorum: 'true', sslQuorumReloadCertFiles: 'true', 'ssl.quorum.keyStore.location': keyStore });
        const logged = others.map((p) => fs.statSync(p.logFile).size);
        await p3.start();
        await waitFor('member 3 refused', async () => (others.some((p, i) => logLines(p, /not trusted/, logged[i]).length > 0) ? true : undefined), 30_000);
        assert.ok(!['leader', 'follower'].includes((await p3.mode()) ?? ''), 'member 3 joined with a certificate from another CA');
        fs.copyFileSync(certs.server.pem, keyStore);
        await waitFor(
          'member 3 reloading its stores',
          async () => (logLines(p3, /quorum TLS key and trust stores reloaded/).length > 0 ? true : undefined),
          30_000,
        );
        await ens.waitForQuorum(60_000);
        const { same, views } = await waitForSameTree(ens, '/tls');
        assert.ok(same, views.join('\n'));
        assert.ok(views[0]!.includes('while-plaintext'));
      });
    } finally {
      await ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
    }
  });

  test(
    'mixed tszk + ZooKeeper: plaintext → TLS in three rolling steps under an acknowledged writer, then each kind leads over TLS',
    { timeout: 300_000 },
    async (t) => {
      // tszk leads first (sid 3); when it restarts, ZooKeeper (sid 2) takes over.
      const kinds: PeerKind[] = ['tszk', 'zookeeper', 'tszk'];
      const ens = await startZkEnsemble({
        peers: kinds.map((kind) => ({ kind })),
        // The stores are in place from the start; the steps switch portUnification and sslQuorum.
        cfg: quorumTlsKeys(certs),
        env: { TSZK_LOG_LEVEL: 'info' },
        deferStart: true,
      });
      try {
        // sid 3 (tszk) leads: it and sid 1 elect first, then 2 joins.
        await ens.peers[2]!.start();
        await ens.peers[0]!.start();
        await ens.waitForQuorum(60_000);
        await ens.peers[1]!.start();
        await ens.waitForQuorum(60_000);
        const root = '/roll';
        const zk = await ZooKeeperClient.connect(ens.connectString, { sessionTimeout_ms: 20_000, connectWait_ms: 20_000 });
        await zk.create(root, '');
        await zk.close();
        const writer = ackedWriter(ens, root);
        const steps: [string, Record<string, string>][] = [
          ['portUnification on', { portUnification: 'true' }],
          ['sslQuorum on', { sslQuorum: 'true' }],
          ['portUnification off', { portUnification: 'false' }],
        ];
        try {
          for (const [name, kv] of steps) {
            const before = writer.acked.length;
            for (const p of ens.peers) await restart(ens, p, kv);
            await waitFor(`acknowledged writes after step '${name}'`, async () => (writer.acked.length > before + 5 ? true : undefined), 30_000);
          }
        } finally {
          await writer.stop();
        }
        t.diagnostic(`acknowledged writes ${writer.acked.length}, failed attempts ${writer.failed()}`);

        await t.test('every acknowledged write is on every member', async () => {
          const { same, views } = await waitForSameTree(ens, root, 30_000);
          assert.ok(same, 'members disagree');
          const missingWrites = writer.acked.filter((p) => !views[0]!.includes(`"path":"${p}"`));
          assert.deepEqual(missingWrites, []);
        });

        await t.test('after the move every quorum and election connection is TLS', async () => {
          const since = ens.connections().length;
          // New connections: restart the leader (a new election and new learner connections).
          const leader = await ens.waitForQuorum(10_000);
          await restart(ens, leader, {});
          const fresh = ens
            .connections()
            .slice(since)
            .filter((c) => c.toServer.length > 0);
          assert.ok(fresh.length > 0);
          for (const c of fresh) assert.equal(c.toServer[0]![0], 0x16, `${c.port} connection to ${c.targetSid}`);
          // The ZooKeeper peer's own word: it took TLS connections (UnifiedServerSocket) and made some.
          const zkPeer = ens.peers.find((p) => p.kind === 'zookeeper')!;
          assert.ok(logLines(zkPeer, /Accepted TLS connection/).length > 0, zkPeer.logFile);
          assert.ok(logLines(zkPeer, /SSL handshake complete/).length > 0, zkPeer.logFile);
        });

        await t.test('each kind leads the TLS ensemble and serves writes through every member', () => eachKindLeads(ens));
      } finally {
        await ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
      }
    },
  );

  test('a bad ssl.quorum key store stops a tszk peer with exit 2 naming the key', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ sslQuorum: 'true' }, /ssl\.quorum\.keyStore\.location/],
      [{ sslQuorum: 'true', 'ssl.quorum.keyStore.location': certs.server.p12, 'ssl.quorum.keyStore.password': 'wrong' }, /ssl\.quorum\.keyStore\.password/],
      [{ portUnification: 'true', 'ssl.quorum.keyStore.location': path.join(certs.dir, 'missing.pem') }, /ssl\.quorum\.keyStore\.location/],
      [{ sslQuorum: 'yes', ...quorumTlsKeys(certs) }, /sslQuorum/],
    ];
    await assertConfigExits(certs.dir, cases);
  });
});
