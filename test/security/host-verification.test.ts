/**
 * ssl[.quorum].hostnameVerification as ZooKeeper's ZKTrustManager does it: the connecting side
 * takes a certificate that names the server's address, or the host it was asked for; a quorum
 * member also checks the members that connect to it, by address, then (with
 * ssl.quorum.allowReverseDnsLookup, on by default) the name the address resolves back to. ZooKeeper's own
 * client (ZooKeeperMain) and ZooKeeper 3.8 peers are the reference.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient, type ClientTlsOptions } from '../../src/client/index.js';
import { skipUnless, startTarget, tszkMissing, type Target } from '../support/target.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';
import { startZkEnsemble, zkEnsembleMissing, type EnsemblePeer } from '../support/zk-ensemble.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { javaCliOverTls } from './javaCli.js';
import { logLines, restart, setCfg } from './quorumPeers.js';
import { issue, makeCerts, opensslMissing, STORE_PASSWORD, tlsServerCfg, type Identity, type TestCerts } from './certs.js';

const missing = opensslMissing() ?? tszkMissing() ?? zookeeperMissing();

/** The certificates this suite adds: one naming only 127.0.0.1, one naming another host, one naming only localhost. */
interface HostCerts {
  ipOnly: Identity;
  elsewhere: Identity;
  nameOnly: Identity;
}

function hostCerts(c: TestCerts): HostCerts {
  return {
    ipOnly: issue(c.dir, 'ip-only', '/CN=tszk ip only', 'ca', ['subjectAltName=IP:127.0.0.1']),
    elsewhere: issue(c.dir, 'elsewhere', '/CN=elsewhere.example', 'ca', ['subjectAltName=DNS:elsewhere.example,IP:10.9.9.9']),
    nameOnly: issue(c.dir, 'name-only', '/CN=localhost', 'ca', ['subjectAltName=DNS:localhost']),
  };
}

function tlsFor(certs: TestCerts, extra: Partial<ClientTlsOptions> = {}): ClientTlsOptions {
  return { ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(certs.bob.cert), key: fs.readFileSync(certs.bob.key), ...extra };
}

/** 'connected', or why not. */
async function nodeClient(server: string, tls: ClientTlsOptions): Promise<string> {
  try {
    const c = await ZooKeeperClient.connect(server, { sessionTimeout_ms: 10_000, connectWait_ms: 3000, tls });
    await c.close();
    return 'connected';
  } catch (e) {
    return String((e as Error).message);
  }
}

/** ZooKeeper's client: 'connected' when `ls /` answers, else its output. */
async function javaClient(server: string, certs: TestCerts, props: Record<string, string> = {}): Promise<string> {
  const r = await javaCliOverTls(
    server,
    {
      'zookeeper.ssl.keyStore.location': certs.bob.p12,
      'zookeeper.ssl.keyStore.password': STORE_PASSWORD,
      'zookeeper.ssl.trustStore.location': certs.caP12,
      'zookeeper.ssl.trustStore.password': STORE_PASSWORD,
      ...props,
    },
    ['ls', '/'],
    4000,
  );
  return r.answer.startsWith('[') ? 'connected' : r.output;
}

describe('client TLS: the server host check', { skip: skipUnless(missing), timeout: 150_000 }, () => {
  let certs: TestCerts;
  let hosts: HostCerts;
  const servers: Target[] = [];
  /** tszk with a certificate naming another host, tszk with one naming only 127.0.0.1. */
  let elsewherePort = 0;
  let ipOnlyPort = 0;
  before(async () => {
    certs = makeCerts();
    hosts = hostCerts(certs);
    elsewherePort = await freePort();
    ipOnlyPort = await freePort();
    servers.push(await startTarget('tszk', { cfg: tlsServerCfg(certs, elsewherePort, { 'ssl.keyStore.location': hosts.elsewhere.pem }) }));
    servers.push(await startTarget('tszk', { cfg: tlsServerCfg(certs, ipOnlyPort, { 'ssl.keyStore.location': hosts.ipOnly.pem }) }));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    certs?.cleanup();
  });

  test("a certificate naming another host is refused by ZooKeeper's client and tszk's; hostnameVerification=false skips the check", async () => {
    const server = `127.0.0.1:${elsewherePort}`;
    const java = await javaClient(server, certs);
    assert.notEqual(java, 'connected');
    assert.match(java, /Failed to verify host address/);
    const node = await nodeClient(server, tlsFor(certs));
    assert.notEqual(node, 'connected');
    assert.equal(await javaClient(server, certs, { 'zookeeper.ssl.hostnameVerification': 'false' }), 'connected');
    assert.equal(await nodeClient(server, tlsFor(certs, { checkServerIdentity: () => undefined })), 'connected');
  });

  test('a certificate naming only the address passes for a client that asked for the host name (address first, as ZKTrustManager)', async () => {
    const server = `localhost:${ipOnlyPort}`;
    assert.equal(await javaClient(server, certs), 'connected');
    assert.equal(await nodeClient(server, tlsFor(certs)), 'connected');
  });
});

describe('client TLS: servers do not check client host names (ClientX509Util)', { skip: skipUnless(missing), timeout: 90_000 }, () => {
  test('a client certificate naming another host is taken by tszk and ZooKeeper alike', async () => {
    const certs = makeCerts();
    try {
      const elsewhere = issue(certs.dir, 'client-elsewhere', '/CN=client elsewhere', 'ca', ['subjectAltName=DNS:elsewhere.example,IP:10.9.9.9']);
      for (const kind of ['tszk', 'zookeeper'] as const) {
        const securePort = await freePort();
        const t = await startTarget(kind, { cfg: tlsServerCfg(certs, securePort) });
        try {
          const tls = tlsFor(certs, { cert: fs.readFileSync(elsewhere.cert), key: fs.readFileSync(elsewhere.key) });
          assert.equal(await nodeClient(`127.0.0.1:${securePort}`, tls), 'connected', kind);
        } finally {
          await t.stop();
        }
      }
    } finally {
      certs.cleanup();
    }
  });
});

const quorumMissing = opensslMissing() ?? zkEnsembleMissing(['tszk', 'zookeeper']);

describe('quorum TLS: the host check on both ends, tszk beside a ZooKeeper 3.8 member', { skip: skipUnless(quorumMissing), timeout: 240_000 }, () => {
  test('address-only certificates serve; another host is refused with a log line; hostnameVerification=false and allowReverseDnsLookup', async (t) => {
    const certs = makeCerts();
    const hosts = hostCerts(certs);
    const keys = (who: Identity): Record<string, string> => ({ 'ssl.quorum.keyStore.location': who.pem, 'ssl.quorum.trustStore.location': certs.ca });
    // Member 1 (tszk) names only 127.0.0.1, the address every connection comes from and goes to.
    const ens = await startZkEnsemble({
      peers: [{ kind: 'tszk' }, { kind: 'zookeeper' }],
      cfg: { sslQuorum: 'true', ...keys(certs.server) },
      env: { TSZK_LOG_LEVEL: 'info' },
      deferStart: true,
    });
    const [tszk, zk] = ens.peers as [EnsemblePeer, EnsemblePeer];
    try {
      setCfg(tszk, keys(hosts.ipOnly));
      await Promise.all([tszk.start(), zk.start()]);
      await ens.waitForQuorum(60_000);

      await t.test('a member whose certificate names another host is refused by tszk, one line per connection', async () => {
        const from = fs.statSync(tszk.logFile).size;
        await zk.kill();
        setCfg(zk, keys(hosts.elsewhere));
        await zk.start();
        const line = await waitFor(
          'tszk refusing the member',
          async () => logLines(tszk, /refused a TLS peer whose certificate does not name its host/, from)[0],
          40_000,
        );
        assert.match(line, /names neither 127\.0\.0\.1 nor localhost/);
        assert.ok(!['leader', 'follower'].includes((await tszk.mode()) ?? ''), 'tszk serves with a member it refused');
      });

      await t.test('ssl.quorum.hostnameVerification=false on both: the same certificates serve', async () => {
        await Promise.all([tszk.kill(), zk.kill()]);
        for (const p of [tszk, zk]) setCfg(p, { 'ssl.quorum.hostnameVerification': 'false' });
        await Promise.all([tszk.start(), zk.start()]);
        await ens.waitForQuorum(60_000);
      });

      await t.test(
        'a certificate naming only localhost: refused with allowReverseDnsLookup=false, taken by default (127.0.0.1 resolves back to localhost)',
        async () => {
          await Promise.all([tszk.kill(), zk.kill()]);
          setCfg(zk, { 'ssl.quorum.hostnameVerification': 'true', ...keys(hosts.nameOnly) });
          setCfg(tszk, { 'ssl.quorum.hostnameVerification': 'true', 'ssl.quorum.allowReverseDnsLookup': 'false' });
          const from = fs.statSync(tszk.logFile).size;
          await Promise.all([tszk.start(), zk.start()]);
          const line = await waitFor('tszk refusing the member', async () => logLines(tszk, /does not name its host/, from)[0], 40_000);
          assert.match(line, /reverse lookup is disabled \(ssl\.quorum\.allowReverseDnsLookup=false\)/);
          await restart(ens, tszk, { 'ssl.quorum.allowReverseDnsLookup': 'true' });
        },
      );
    } finally {
      await ens.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
      certs.cleanup();
    }
  });
});
