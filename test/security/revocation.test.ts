/**
 * ssl.crl: a revoked client certificate is refused. ZooKeeper 3.8 (ssl.crl=true) fetches the CRL
 * from the certificate's distribution point; tszk reads the same CRL from ssl.crl.location, and
 * picks up a new one without a restart. ssl.ocsp and ssl.context.supplier.class, which tszk cannot
 * honour, stop it at start naming the key.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../support/ports.js';
import { skipUnless, startTarget, tszkMissing, type TargetKind } from '../support/target.js';
import { tszkCommand } from '../support/tszk.js';
import { waitFor } from '../support/wait.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { tlsAttempt } from './tlsAttempt.js';
import { caCrl, issue, makeCerts, opensslMissing, tlsServerCfg, type Identity, type TestCerts } from './certs.js';
import { assertConfigExits } from './quorumPeers.js';

const missing = opensslMissing() ?? tszkMissing() ?? zookeeperMissing();

describe('ssl.crl: revoked client certificates, tszk beside ZooKeeper', { skip: skipUnless(missing), timeout: 120_000 }, () => {
  let certs: TestCerts;
  let carol: Identity;
  let dave: Identity;
  let crl: string;
  before(() => {
    certs = makeCerts();
    // Where Java's PKIX (com.sun.security.enableCRLDP, which ssl.crl=true turns on) looks for the CRL.
    const dp = [`crlDistributionPoints=URI:file://${path.join(certs.dir, 'ca.crl')}`, 'subjectAltName=DNS:localhost,IP:127.0.0.1'];
    carol = issue(certs.dir, 'carol', '/O=tszk/CN=carol', 'ca', dp);
    dave = issue(certs.dir, 'dave', '/O=tszk/CN=dave', 'ca', dp);
    crl = caCrl(certs, [dave]);
  });
  after(() => certs?.cleanup());

  test('the revoked certificate is refused, the other connects, on both; tszk takes a new CRL without a restart', async () => {
    const log = path.join(certs.dir, 'tszk.log');
    const seen: Partial<Record<TargetKind, Record<string, string>>> = {};
    // ZooKeeper first: tszk's turn ends with carol revoked too.
    for (const kind of ['zookeeper', 'tszk'] as const) {
      const securePort = await freePort();
      const cfg = tlsServerCfg(certs, securePort, { 'ssl.crl': 'true', ...(kind === 'tszk' ? { 'ssl.crl.location': crl } : {}) });
      const target = await startTarget(kind, { cfg, ...(kind === 'tszk' ? { logFile: log } : {}) });
      try {
        seen[kind] = { carol: await tlsAttempt(securePort, certs, carol), dave: await tlsAttempt(securePort, certs, dave) };
        if (kind !== 'tszk') continue;
        assert.match(fs.readFileSync(log, 'utf8'), /not trusted \(CERT_REVOKED\)/);
        caCrl(certs, [dave, carol]);
        await waitFor(
          'carol refused once her certificate is revoked',
          async () => ((await tlsAttempt(securePort, certs, carol)) === 'refused' ? true : undefined),
          30_000,
        );
      } finally {
        await target.stop();
      }
    }
    assert.deepEqual(seen.tszk, { carol: 'connected', dave: 'refused' });
    assert.deepEqual(seen.zookeeper, seen.tszk);
  });

  test('ssl.crl=true without ssl.crl.location, ssl.ocsp, ssl.context.supplier.class: exit 2 naming the key', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'ssl.crl': 'true' }, /ssl\.crl\.location: is required with ssl\.crl=true/],
      [{ 'ssl.crl': 'true', 'ssl.crl.location': path.join(certs.dir, 'missing.crl') }, /ssl\.crl\.location: cannot read/],
      [{ 'ssl.crl': 'true', 'ssl.crl.location': certs.ca }, /ssl\.crl\.location: .* holds no CRL/],
      [{ 'ssl.ocsp': 'true' }, /ssl\.ocsp: OCSP is not supported/],
      [
        { 'zookeeper.ssl.context.supplier.class': 'com.example.Supplier' },
        /ssl\.context\.supplier\.class: 'com\.example\.Supplier' is a Java SSLContext supplier/,
      ],
    ];
    for (const [cfg, named] of cases) {
      const dir = fs.mkdtempSync(`${certs.dir}/bad-`);
      const lines = { tickTime: 2000, dataDir: dir, clientPort: await freePort(), ...tlsServerCfg(certs, await freePort()), ...cfg };
      fs.writeFileSync(
        `${dir}/zoo.cfg`,
        Object.entries(lines)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n') + '\n',
      );
      const { cmd, args } = tszkCommand();
      const r = spawnSync(cmd, [...args, 'server', '--config', `${dir}/zoo.cfg`], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, `exit code for ${JSON.stringify(cfg)}: ${r.stderr}`);
      assert.match(r.stderr + r.stdout, named);
    }
    // The quorum's keys alike.
    await assertConfigExits(certs.dir, [
      [{ 'ssl.quorum.ocsp': 'true' }, /ssl\.quorum\.ocsp: OCSP is not supported/],
      [{ 'ssl.quorum.crl': 'true' }, /ssl\.quorum\.crl\.location: is required/],
      [{ 'ssl.quorum.context.supplier.class': 'com.example.Supplier' }, /ssl\.quorum\.context\.supplier\.class/],
    ]);
  });
});
