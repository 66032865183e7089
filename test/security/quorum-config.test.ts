/**
 * The quorum security keys as parsed from zoo.cfg and -D (no processes): ssl.quorum.* under
 * either spelling, their defaults (QuorumX509Util: clientAuth need, TLSv1.2, host names checked,
 * reverse lookups allowed),
 * quorum.auth.* with the JAAS sections, admin.forceHttps / admin.portUnification.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, parseZooCfg } from '../../src/server/config.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-quorum-config-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const base = `tickTime=2000\ndataDir=${dir}\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n`;

function configError(text: string, sysProps: Record<string, string> = {}): ConfigError {
  try {
    parseZooCfg(text, { sysProps });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  return assert.fail('no ConfigError');
}

test('sslQuorum with ssl.quorum.* from zoo.cfg, or from -D with the zookeeper. prefix; QuorumX509Util defaults', () => {
  const fromCfg = parseZooCfg(base + 'sslQuorum=true\nssl.quorum.keyStore.location=/k/server.pem\nssl.quorum.trustStore.location=/k/ca.pem\n');
  const fromD = parseZooCfg(base, {
    sysProps: {
      'zookeeper.sslQuorum': 'true',
      'zookeeper.ssl.quorum.keyStore.location': '/k/server.pem',
      'zookeeper.ssl.quorum.trustStore.location': '/k/ca.pem',
    },
  });
  for (const c of [fromCfg, fromD]) {
    const q = c.options.quorumTls;
    assert.equal(q.sslQuorum, true);
    assert.equal(q.portUnification, false);
    assert.deepEqual(q.ssl.keyStore, { key: 'ssl.quorum.keyStore', location: '/k/server.pem', password: '', type: 'PEM' });
    assert.equal(q.ssl.trustStore?.key, 'ssl.quorum.trustStore');
    assert.equal(q.ssl.clientAuth, 'need');
    assert.deepEqual(q.ssl.enabledProtocols, ['TLSv1.2']);
    assert.equal(q.ssl.hostnameVerification, true);
    assert.equal(q.ssl.certReload, false);
    // ZooKeeper 3.8.6's defaults: reverse lookups for the quorum, not for clients; no revocation check.
    assert.equal(q.ssl.allowReverseDnsLookup, true);
    assert.equal(q.ssl.crl, undefined);
    assert.deepEqual(c.warnings, []);
    // The client port's ssl.* keys are another matter.
    assert.equal(c.options.ssl.keyStore, undefined);
    assert.equal(c.options.ssl.allowReverseDnsLookup, false);
  }
  const tuned = parseZooCfg(
    base +
      'portUnification=true\nsslQuorumReloadCertFiles=true\nssl.quorum.keyStore.location=/k/s.p12\nssl.quorum.clientAuth=want\n' +
      'ssl.quorum.enabledProtocols=TLSv1.2,TLSv1.3\nssl.quorum.hostnameVerification=false\nssl.quorum.handshakeDetectionTimeoutMillis=700\n' +
      'ssl.quorum.allowReverseDnsLookup=false\nssl.quorum.crl=true\nssl.quorum.crl.location=/k/ca.crl\n',
  ).options.quorumTls;
  assert.equal(tuned.ssl.allowReverseDnsLookup, false);
  assert.equal(tuned.ssl.crl, '/k/ca.crl');
  assert.equal(tuned.portUnification, true);
  assert.equal(tuned.ssl.certReload, true);
  assert.equal(tuned.ssl.keyStore?.type, 'PKCS12');
  assert.equal(tuned.ssl.clientAuth, 'want');
  assert.deepEqual(tuned.ssl.enabledProtocols, ['TLSv1.2', 'TLSv1.3']);
  assert.equal(tuned.ssl.hostnameVerification, false);
  assert.equal(tuned.ssl.handshakeDetectionTimeout_ms, 700);
});

test('bad ssl.quorum keys name themselves', () => {
  assert.equal(configError(base + 'sslQuorum=true\n').key, 'ssl.quorum.keyStore.location');
  assert.equal(configError(base + 'portUnification=true\n').key, 'ssl.quorum.keyStore.location');
  assert.equal(configError(base + 'sslQuorum=on\n').key, 'sslQuorum');
  assert.equal(configError(base + 'ssl.quorum.clientAuth=maybe\n').key, 'ssl.quorum.clientAuth');
  assert.equal(configError(base + 'ssl.quorum.enabledProtocols=SSLv3\n').key, 'ssl.quorum.enabledProtocols');
  assert.equal(configError(base + 'ssl.quorum.keyStore.location=/k/store.xyz\n').key, 'ssl.quorum.keyStore.type');
});

test('quorum.auth.*: the JAAS sections, renamed contexts, and the checks QuorumPeerConfig makes', () => {
  const jaas = path.join(dir, 'jaas.conf');
  fs.writeFileSync(
    jaas,
    'QS { org.apache.zookeeper.server.auth.DigestLoginModule required user_a="pa" user_b="pb"; };\n' +
      'QL { org.apache.zookeeper.server.auth.DigestLoginModule required username="a" password="pa"; };\n',
  );
  const c = parseZooCfg(
    base +
      'quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\nquorum.auth.serverRequireSasl=true\n' +
      'quorum.auth.server.saslLoginContext=QS\nquorum.auth.learner.saslLoginContext=QL\nquorum.auth.kerberos.servicePrincipal=zkquorum/localhost\n',
    { sysProps: { 'java.security.auth.login.config': jaas } },
  );
  const q = c.options.quorumSasl;
  assert.deepEqual(q.learner, { username: 'a', password: 'pa' });
  assert.deepEqual(
    [...q.serverUsers],
    [
      ['a', 'pa'],
      ['b', 'pb'],
    ],
  );
  assert.equal(q.learnerRequireSasl && q.serverRequireSasl && q.enabled, true);
  assert.deepEqual(
    c.warnings.filter((w) => !/no section 'Server'/.test(w)),
    [],
  );
  assert.equal(configError(base + 'quorum.auth.learnerRequireSasl=true\n').key, 'quorum.auth.learnerRequireSasl');
  assert.equal(configError(base + 'quorum.auth.enableSasl=true\n').key, 'java.security.auth.login.config');
  assert.match(configError(base + 'quorum.auth.enableSasl=true\n', { 'java.security.auth.login.config': jaas }).message, /no section 'QuorumServer'/);
});

test('admin.forceHttps and admin.portUnification take the ssl.quorum key store', () => {
  const keys = 'ssl.quorum.keyStore.location=/k/server.pem\n';
  assert.equal(parseZooCfg(base).admin.https, undefined);
  assert.equal(parseZooCfg(base + keys + 'admin.forceHttps=true\n').admin.https?.unified, false);
  assert.equal(parseZooCfg(base + keys + 'admin.portUnification=true\n').admin.https?.unified, true);
  // Jetty: forceHttps wins over portUnification.
  assert.equal(parseZooCfg(base + keys + 'admin.portUnification=true\nadmin.forceHttps=true\n').admin.https?.unified, false);
  assert.equal(configError(base + 'admin.forceHttps=true\n').key, 'ssl.quorum.keyStore.location');
});
