/**
 * Quorum SASL DIGEST-MD5 (quorum.auth.*), real processes: a tszk ensemble that requires it, with a
 * member whose QuorumLearner password is wrong refused while the others serve; a mixed ensemble
 * (tszk + Apache ZooKeeper 3.8) requiring it, led by each kind, and over quorum TLS; bad
 * quorum.auth configs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitForSameTree } from '../mixed/harness.js';
import { waitFor } from '../support/wait.js';
import { startZkEnsemble, zkEnsembleMissing, type EnsemblePeer, type ZkEnsemble } from '../support/zk-ensemble.js';
import { makeCerts, opensslMissing } from './certs.js';
import { assertConfigExits, eachKindLeads, writesReachEveryMember, logLines, restart, setCfg, twoServe, writeVia } from './quorumPeers.js';

const requireExternal = process.env['TSZK_REQUIRE_EXTERNAL'] === '1';
const missing = opensslMissing() ?? zkEnsembleMissing(['zookeeper']);
const skip = missing !== undefined && !requireExternal ? missing : undefined;

/** QuorumAuthPacket's magic as it goes on the wire. */
const AUTH_MAGIC = Buffer.from('5f2435013501edcc', 'hex');

/** The JAAS file of ZooKeeper's admin guide for quorum SASL (QuorumServer and QuorumLearner sections). */
function jaasFile(dir: string, name: string, learnerPassword: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(
    f,
    [
      'QuorumServer {',
      '  org.apache.zookeeper.server.auth.DigestLoginModule required',
      '  user_test="mypassword";',
      '};',
      'QuorumLearner {',
      '  org.apache.zookeeper.server.auth.DigestLoginModule required',
      '  username="test"',
      `  password="${learnerPassword}";`,
      '};',
      '',
    ].join('\n'),
  );
  return f;
}

/** Required both ways; tszk reads the JAAS file from zoo.cfg, ZooKeeper from -D (sysProps). */
function saslCfg(jaas: string): Record<string, string> {
  return {
    'quorum.auth.enableSasl': 'true',
    'quorum.auth.learnerRequireSasl': 'true',
    'quorum.auth.serverRequireSasl': 'true',
    'java.security.auth.login.config': jaas,
  };
}

describe('quorum SASL', { skip }, () => {
  let dir: string;
  let jaas: string;
  let wrongJaas: string;
  before(() => {
    if (missing) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${missing}`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-quorum-sasl-'));
    jaas = jaasFile(dir, 'jaas.conf', 'mypassword');
    wrongJaas = jaasFile(dir, 'wrong-jaas.conf', 'not-my-password');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('3 tszk members requiring quorum SASL serve writes; a learner with a wrong password is refused', { timeout: 120_000 }, async (t) => {
    const ens: ZkEnsemble = await startZkEnsemble({ peers: [{ kind: 'tszk' }, { kind: 'tszk' }, { kind: 'tszk' }], cfg: saslCfg(jaas) });
    try {
      await ens.waitForQuorum(40_000);
      await t.test('writes through every member reach every member', async () => {
        await writesReachEveryMember(ens, '/sasl');
      });
      await t.test('every learner connection opens with a QuorumAuthPacket', () => {
        const quorum = ens.connections().filter((c) => c.port === 'quorum' && c.toServer.length > 0);
        assert.ok(quorum.length >= 2);
        for (const c of quorum) assert.deepEqual(Buffer.concat(c.toServer).subarray(0, 8), AUTH_MAGIC, `to ${c.targetSid}`);
      });

      const [p1, p2, p3] = ens.peers as [EnsemblePeer, EnsemblePeer, EnsemblePeer];
      await t.test('member 3 with a wrong QuorumLearner password is refused; 1 and 2 keep serving', async () => {
        await p3.kill();
        await twoServe(ens);
        const logged = [p1, p2].map((p) => fs.statSync(p.logFile).size);
        setCfg(p3, { 'java.security.auth.login.config': wrongJaas });
        await p3.start();
        await waitFor(
          'a refusal logged by member 1 or 2',
          async () =>
            [p1, p2].some((p, i) => logLines(p, /refused: quorum SASL.*Mismatched response|Mismatched response.*refused: quorum SASL/, logged[i]).length > 0)
              ? true
              : undefined,
          30_000,
        );
        await writeVia(p1, '/sasl/while-wrong');
        assert.ok(!['leader', 'follower'].includes((await p3.mode()) ?? ''), 'member 3 joined with a wrong password');
      });
      await t.test('member 3 with the right password catches up', async () => {
        await restart(ens, p3, { 'java.security.auth.login.config': jaas });
        const { same, views } = await waitForSameTree(ens, '/sasl');
        assert.ok(same, views.join('\n'));
        assert.ok(views[0]!.includes('while-wrong'));
      });
    } finally {
      await ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
    }
  });

  test('mixed tszk + ZooKeeper requiring quorum SASL: each kind leads and serves writes through every member', { timeout: 180_000 }, async (t) => {
    const ens = await startZkEnsemble({
      peers: [{ kind: 'tszk' }, { kind: 'zookeeper' }, { kind: 'tszk' }],
      cfg: saslCfg(jaas),
      sysProps: { 'java.security.auth.login.config': jaas },
    });
    try {
      await ens.waitForQuorum(60_000);
      await eachKindLeads(ens);
      await t.test('ZooKeeper authenticated tszk learners and was authenticated by tszk', () => {
        const zk = ens.peers.find((p) => p.kind === 'zookeeper')!;
        assert.ok(logLines(zk, /SaslQuorumAuthServer - Successfully completed the authentication/).length > 0, zk.logFile);
        assert.ok(logLines(zk, /SaslQuorumAuthLearner - Successfully completed the authentication/).length > 0, zk.logFile);
        assert.deepEqual(logLines(zk, /Failed to authenticate|Authentication failed/), []);
      });
    } finally {
      await ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
    }
  });

  test('quorum SASL over quorum TLS: tszk and ZooKeeper members serve writes through every member', { timeout: 120_000 }, async () => {
    const certs = makeCerts();
    const ens = await startZkEnsemble({
      peers: [{ kind: 'tszk' }, { kind: 'zookeeper' }, { kind: 'tszk' }],
      cfg: { ...saslCfg(jaas), sslQuorum: 'true', 'ssl.quorum.keyStore.location': certs.server.pem, 'ssl.quorum.trustStore.location': certs.ca },
      sysProps: { 'java.security.auth.login.config': jaas },
    });
    try {
      await ens.waitForQuorum(60_000);
      await writesReachEveryMember(ens, '/sasl-tls');
      // Nothing in clear: the SASL exchange rides inside TLS.
      for (const c of ens.connections().filter((x) => x.toServer.length > 0)) assert.equal(c.toServer[0]![0], 0x16, `${c.port} connection to ${c.targetSid}`);
    } finally {
      await ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
      certs.cleanup();
    }
  });

  test('bad quorum.auth configs stop a tszk peer with exit 2 naming the key', async () => {
    await assertConfigExits(dir, [
      [{ 'quorum.auth.serverRequireSasl': 'true' }, /quorum\.auth\.serverRequireSasl/],
      [{ 'quorum.auth.enableSasl': 'true', 'quorum.auth.serverRequireSasl': 'true' }, /quorum\.auth\.serverRequireSasl.*learnerRequireSasl/],
      [{ 'quorum.auth.enableSasl': 'true' }, /java\.security\.auth\.login\.config/],
      [{ 'quorum.auth.enableSasl': 'true', 'java.security.auth.login.config': jaas, 'quorum.auth.learner.saslLoginContext': 'Nope' }, /no section 'Nope'/],
      [{ 'quorum.auth.enableSasl': 'maybe' }, /quorum\.auth\.enableSasl/],
    ]);
  });
});
