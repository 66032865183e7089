/**
 * A TLS client on a read-only server (readonlymode.enabled, canBeReadOnly) looks for a read-write
 * server with `isro` over TLS, so it finds one behind a TLS-only secureClientPort (the Java
 * client's probe is plaintext and never would).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { fourLetter, freePort } from '../support/ports.js';
import { skipUnless, tszkMissing } from '../support/target.js';
import { startTszk, type Tszk } from '../support/tszk.js';
import { waitFor } from '../support/wait.js';
import { startZkEnsemble, type ZkEnsemble } from '../support/zk-ensemble.js';
import { makeCerts, opensslMissing, tlsServerCfg, type TestCerts } from './certs.js';

const missing = opensslMissing() ?? tszkMissing();

describe('read-only sessions over TLS', { skip: skipUnless(missing), timeout: 120_000 }, () => {
  let certs: TestCerts;
  let ens: ZkEnsemble;
  let rw: Tszk;
  let roPort = 0;
  let rwPort = 0;
  before(async () => {
    certs = makeCerts();
    roPort = await freePort();
    rwPort = await freePort();
    // Member 1 of 3 alone: no quorum, so after the grace period it serves read-only.
    ens = await startZkEnsemble({
      peers: [{ kind: 'tszk', cfg: tlsServerCfg(certs, roPort) }, { kind: 'tszk' }, { kind: 'tszk' }],
      cfg: { 'readonlymode.enabled': 'true' },
      deferStart: true,
    });
    await ens.peers[0]!.start();
    const clientPort = ens.peers[0]!.clientPort;
    await waitFor('member 1 serving read-only', async () => ((await fourLetter(clientPort, 'isro').catch(() => '')) === 'ro' ? true : undefined), 60_000, 250);
    rw = await startTszk({ cfg: tlsServerCfg(certs, rwPort) });
  });
  after(async () => {
    await rw?.stop();
    await ens?.stop();
    certs?.cleanup();
  });

  test('connected read-only through secureClientPort, the client moves to the read-write server it finds with isro over TLS', async () => {
    const tls = { ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(certs.bob.cert), key: fs.readFileSync(certs.bob.key) };
    // In order: the read-only member first.
    const zk = new ZooKeeperClient(`127.0.0.1:${roPort},127.0.0.1:${rwPort}`, { sessionTimeout_ms: 10_000, canBeReadOnly: true, tls });
    try {
      await waitFor('a read-only session on member 1', async () => (zk.state === 'connectedReadOnly' ? true : undefined), 30_000, 100);
      assert.equal(zk.currentHost?.port, roPort);
      await waitFor('the client on the read-write server', async () => (zk.state === 'connected' ? true : undefined), 30_000, 100);
      assert.equal(zk.currentHost?.port, rwPort);
      await zk.create('/written-after-moving', 'rw');
    } finally {
      await zk.close();
    }
  });
});
