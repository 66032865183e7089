/**
 * An expired client certificate on a TLS client port (ssl.clientAuth=need): refused by tszk as by
 * Apache ZooKeeper 3.8 configured alike, while a valid certificate from the same CA connects.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../support/ports.js';
import { skipUnless, startTarget, tszkMissing, type TargetKind } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { tlsAttempt } from './tlsAttempt.js';
import { makeCerts, opensslMissing, tlsServerCfg, type TestCerts } from './certs.js';

const missing = opensslMissing() ?? tszkMissing() ?? zookeeperMissing();

async function outcomes(kind: TargetKind, certs: TestCerts, logFile?: string): Promise<Record<string, string>> {
  const securePort = await freePort();
  const target = await startTarget(kind, { cfg: tlsServerCfg(certs, securePort), ...(logFile ? { logFile } : {}) });
  try {
    return { valid: await tlsAttempt(securePort, certs, certs.bob), expired: await tlsAttempt(securePort, certs, certs.expired) };
  } finally {
    await target.stop();
  }
}

describe('expired client certificate', { skip: skipUnless(missing) }, () => {
  let certs: TestCerts;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs?.cleanup());

  test('refused by tszk as by ZooKeeper; a valid certificate connects to both', { timeout: 90_000 }, async () => {
    const log = path.join(certs.dir, 'tszk.log');
    const ts = await outcomes('tszk', certs, log);
    assert.deepEqual(ts, { valid: 'connected', expired: 'refused' });
    // One line for the refused connection, naming why.
    assert.match(fs.readFileSync(log, 'utf8'), /CERT_HAS_EXPIRED.*not trusted|not trusted.*CERT_HAS_EXPIRED/);
    assert.deepEqual(await outcomes('zookeeper', certs), ts);
  });
});
