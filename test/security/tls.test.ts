/**
 * Client TLS and x509 auth, against tszk and Apache ZooKeeper 3.8 configured alike
 * (secureClientPort, ssl.clientAuth=need, authProvider.x509): the node client, kazoo and zkCli
 * over TLS with client certificates; x509 ACLs; the bad inputs (plaintext on the TLS port, a
 * certificate from another CA, a garbage handshake) end the same way on both.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient, type ClientTlsOptions } from '../../src/client/index.js';
import { Perms } from '../../src/proto/opcodes.js';
import { freePort } from '../support/ports.js';
import { skipUnless, startTarget, tszkMissing, type Target, type TargetKind } from '../support/target.js';
import { startTszk, tszkCommand } from '../support/tszk.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { javaCliOverTls } from './javaCli.js';
import { makeCerts, opensslMissing, STORE_PASSWORD, tlsServerCfg, type Identity, type TestCerts } from './certs.js';

const missing = opensslMissing() ?? tszkMissing() ?? zookeeperMissing();
const PYTHON = '/usr/bin/python3';

interface Secured {
  target: Target;
  securePort: number;
}

async function startSecured(kind: TargetKind, certs: TestCerts, extra: Record<string, string | number> = {}): Promise<Secured> {
  const securePort = await freePort();
  const target = await startTarget(kind, { cfg: tlsServerCfg(certs, securePort, extra) });
  return { target, securePort };
}

function tlsFor(certs: TestCerts, who: Identity | undefined): ClientTlsOptions {
  const t: ClientTlsOptions = { ca: fs.readFileSync(certs.ca) };
  if (who !== undefined) {
    t.cert = fs.readFileSync(who.cert);
    t.key = fs.readFileSync(who.key);
  }
  return t;
}

async function connect(port: number, tls: ClientTlsOptions | undefined, connectWait_ms = 5000): Promise<ZooKeeperClient> {
  return ZooKeeperClient.connect(`127.0.0.1:${port}`, { sessionTimeout_ms: 10_000, connectWait_ms, ...(tls ? { tls } : {}) });
}

/** The outcome of a connection attempt: 'connected' or the error code. */
async function tryConnect(port: number, tls: ClientTlsOptions | undefined): Promise<string> {
  try {
    const c = await connect(port, tls, 1500);
    await c.close();
    return 'connected';
  } catch (e) {
    return (e as { code?: unknown }).code !== undefined ? String((e as { code: unknown }).code) : (e as Error).message;
  }
}

/** Whether the server closes a raw connection that sends `bytes` (within 8 s). */
function closedAfter(port: number, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(bytes));
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 8000);
    s.on('error', () => undefined);
    s.resume();
    s.on('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** What each server makes of the same clients: compared between tszk and ZooKeeper. */
async function scenario(s: Secured, certs: TestCerts): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const alice = await connect(s.securePort, tlsFor(certs, certs.alice));
  const ids = await alice.whoAmI();
  out['aliceIds'] = ids.map((i) => `${i.authScheme}:${i.user}`).sort();
  const x509 = ids.find((i) => i.authScheme === 'x509');
  assert.ok(x509, 'alice has an x509 id');
  await alice.create('/owned', 'secret', { acl: [{ perms: Perms.ALL, id: { scheme: 'x509', id: x509.user } }] });
  out['aliceReads'] = (await alice.getData('/owned')).data?.toString();
  await alice.close();
  const bob = await connect(s.securePort, tlsFor(certs, certs.bob));
  out['bobReads'] = await bob.getData('/owned').then(
    () => 'read',
    (e: { code: number }) => e.code,
  );
  await bob.close();
  const plain = await connect(s.target.port, undefined);
  out['plainReads'] = await plain.getData('/owned').then(
    () => 'read',
    (e: { code: number }) => e.code,
  );
  await plain.close();
  out['mallory'] = await tryConnect(s.securePort, tlsFor(certs, certs.mallory));
  out['noCert'] = await tryConnect(s.securePort, tlsFor(certs, undefined));
  out['plainOnTlsPort'] = await tryConnect(s.securePort, undefined);
  // A handshake record whose body is not a ClientHello.
  out['garbageHandshakeClosed'] = await closedAfter(s.securePort, Buffer.from('160301000801000004deadbeef', 'hex'));
  // The server keeps serving everyone else.
  const again = await connect(s.securePort, tlsFor(certs, certs.alice));
  out['afterBadInputs'] = (await again.getData('/owned')).data?.toString();
  await again.close();
  return out;
}

const KAZOO = `
import sys
from kazoo.client import KazooClient
port, ca, cert, key = sys.argv[1:5]
zk = KazooClient(hosts='127.0.0.1:' + port, use_ssl=True, ca=ca, certfile=cert, keyfile=key, verify_certs=True, timeout=10)
zk.start(timeout=10)
zk.create('/kazoo-tls', b'over tls')
data, stat = zk.get('/kazoo-tls')
print(data.decode())
zk.stop()
`;

function kazooOverTls(port: number, certs: TestCerts): string {
  const r = spawnSync(PYTHON, ['-c', KAZOO, String(port), certs.ca, certs.bob.cert, certs.bob.key], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim() : `exit ${r.status}: ${r.stderr.split('\n').slice(-3).join(' ')}`;
}

/** ZooKeeper's CLI over TLS with bob's PKCS12 stores: the answer to `get /kazoo-tls`. */
async function zkCliOverTls(port: number, certs: TestCerts): Promise<string> {
  const props = {
    'zookeeper.ssl.keyStore.location': certs.bob.p12,
    'zookeeper.ssl.keyStore.password': STORE_PASSWORD,
    'zookeeper.ssl.trustStore.location': certs.caP12,
    'zookeeper.ssl.trustStore.password': STORE_PASSWORD,
  };
  return (await javaCliOverTls(`127.0.0.1:${port}`, props, ['get', '/kazoo-tls'], 30_000)).answer;
}

describe('client TLS and x509 auth, tszk beside ZooKeeper', { skip: skipUnless(missing), timeout: 170_000 }, () => {
  let certs: TestCerts;
  const servers: Partial<Record<TargetKind, Secured>> = {};
  before(async () => {
    certs = makeCerts();
    [servers.tszk, servers.zookeeper] = await Promise.all([startSecured('tszk', certs), startSecured('zookeeper', certs)]);
  });
  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.target.stop()));
    certs?.cleanup();
  });

  test('same ids, ACL outcomes and bad-input answers on both', async () => {
    const [t, z] = [await scenario(servers.tszk!, certs), await scenario(servers.zookeeper!, certs)];
    assert.deepEqual(t, z);
    assert.equal(t['aliceReads'], 'secret');
    assert.notEqual(t['mallory'], 'connected');
    assert.equal(t['garbageHandshakeClosed'], true);
  });

  test("kazoo, ZooKeeper's CLI and tszk shell -client-configuration over TLS with client certificates", async () => {
    const clientCfg = `${certs.dir}/client.properties`;
    fs.writeFileSync(
      clientCfg,
      [
        'zookeeper.client.secure=true',
        'zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
        `zookeeper.ssl.keyStore.location=${certs.bob.p12}`,
        `zookeeper.ssl.keyStore.password=${STORE_PASSWORD}`,
        `zookeeper.ssl.trustStore.location=${certs.ca}`,
      ].join('\n') + '\n',
    );
    for (const kind of ['tszk', 'zookeeper'] as const) {
      const s = servers[kind]!;
      assert.equal(kazooOverTls(s.securePort, certs), 'over tls', `kazoo against ${kind}`);
      assert.equal(await zkCliOverTls(s.securePort, certs), 'over tls', `zkCli against ${kind}`);
      const { cmd, args } = tszkCommand();
      const shell = spawnSync(cmd, [...args, 'shell', '-server', `127.0.0.1:${s.securePort}`, '-client-configuration', clientCfg, 'get', '/kazoo-tls'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.ok(shell.stdout.split('\n').includes('over tls'), `tszk shell against ${kind}: ${shell.stdout} ${shell.stderr}`);
    }
  });
});

describe('client.portUnification and key stores', { skip: skipUnless(opensslMissing() ?? tszkMissing()), timeout: 60_000 }, () => {
  let certs: TestCerts;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs?.cleanup());

  test('one port serves TLS and plaintext; PKCS12 stores, type from the file name', async () => {
    const port = await freePort();
    const t = await startTszk({
      port,
      cfg: {
        'client.portUnification': 'true',
        'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
        'ssl.keyStore.location': certs.server.p12,
        'ssl.keyStore.password': STORE_PASSWORD,
        'ssl.trustStore.location': certs.caP12,
        'zookeeper.ssl.trustStore.password': STORE_PASSWORD,
      },
    });
    try {
      const tlsClient = await connect(port, tlsFor(certs, certs.bob));
      assert.deepEqual((await tlsClient.whoAmI()).map((i) => i.authScheme).sort(), ['ip', 'x509']);
      await tlsClient.close();
      const plain = await connect(port, undefined);
      assert.deepEqual(
        (await plain.whoAmI()).map((i) => i.authScheme),
        ['ip'],
      );
      await plain.close();
    } finally {
      await t.stop();
    }
  });

  test('client.certReload: a replaced key store serves new handshakes; open sessions stay', async () => {
    const keyStore = `${certs.dir}/reloaded-keystore.pem`;
    fs.copyFileSync(certs.server.pem, keyStore);
    const securePort = await freePort();
    const t = await startTszk({
      cfg: { ...tlsServerCfg(certs, securePort, { 'client.certReload': 'true' }), 'ssl.keyStore.location': keyStore },
    });
    try {
      const before = await connect(securePort, tlsFor(certs, certs.bob));
      await before.create('/reload', 'kept');
      // A server certificate from the other CA: only a client trusting that CA accepts it.
      fs.writeFileSync(keyStore, fs.readFileSync(certs.mallory.pem));
      const trustsCa2 = { ...tlsFor(certs, certs.bob), ca: fs.readFileSync(`${certs.dir}/ca2.pem`) };
      let after: ZooKeeperClient | undefined;
      for (let i = 0; i < 40 && after === undefined; i++) after = await connect(securePort, trustsCa2, 500).catch(() => undefined);
      assert.ok(after, 'a client trusting the new certificate connects');
      assert.equal((await after.getData('/reload')).data?.toString(), 'kept');
      assert.equal((await before.getData('/reload')).data?.toString(), 'kept');
      await after.close();
      await before.close();
    } finally {
      await t.stop();
    }
  });

  test('a bad key store stops the server with exit 2 naming the key', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'ssl.keyStore.location': certs.server.p12, 'ssl.keyStore.password': 'wrong' }, /ssl\.keyStore\.password/],
      [{ 'ssl.keyStore.location': `${certs.dir}/missing.pem` }, /ssl\.keyStore\.location/],
      [{ 'ssl.keyStore.location': `${certs.dir}/server.jks` }, /ssl\.keyStore\.(location|type)/],
      [{ 'ssl.keyStore.location': `${certs.dir}/server.key.unknown` }, /ssl\.keyStore\.type/],
    ];
    for (const [cfg, named] of cases) {
      const dir = fs.mkdtempSync(`${certs.dir}/bad-`);
      const cfgPath = `${dir}/zoo.cfg`;
      const lines = { tickTime: 2000, dataDir: dir, clientPort: await freePort(), secureClientPort: await freePort(), ...cfg };
      fs.writeFileSync(
        cfgPath,
        Object.entries(lines)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n') + '\n',
      );
      const { cmd, args } = tszkCommand();
      const r = spawnSync(cmd, [...args, 'server', '--config', cfgPath], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, `exit code for ${JSON.stringify(cfg)}: ${r.stderr}`);
      assert.match(r.stderr + r.stdout, named);
    }
  });
});
