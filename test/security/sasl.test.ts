/**
 * SASL DIGEST-MD5 for clients, against tszk and Apache ZooKeeper 3.8 configured alike (a JAAS
 * Server section with DigestLoginModule users, authProvider.sasl): kazoo (sasl_options and the
 * legacy auth_data form) and the Java client with a JAAS Client section; sasl ACLs; a wrong
 * password; a server that requires SASL (sessionRequireClientSASLAuth) and a client that does not
 * authenticate. Every outcome is compared between the two servers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { Err, type KeeperError } from '../../src/proto/errors.js';
import { OpCode } from '../../src/proto/opcodes.js';
import { GetSASLRequest } from '../../src/proto/records.js';
import { body, RawSession } from '../support/raw-client.js';
import { tszkCommand } from '../support/tszk.js';
import { skipUnless, startTarget, tszkMissing, type Target, type TargetKind } from '../support/target.js';
import { ZK_SERVER_CLASSPATH, zookeeperMissing } from '../support/zookeeper.js';

const PYTHON = '/usr/bin/python3';
const JAAS_KEY = 'java.security.auth.login.config';
const SASL_PROVIDER = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';

function pureSaslMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import kazoo, puresasl'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'kazoo or pure-sasl not importable by /usr/bin/python3 (apt-get install python3-kazoo python3-pure-sasl)';
}

const missing = tszkMissing() ?? zookeeperMissing() ?? pureSaslMissing();

const SERVER_JAAS = `
/* users for the tests */
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret"; // bob reads his nodes
};
`;

/** tszk reads the JAAS file from zoo.cfg or -D; ZooKeeper from the JVM system property. */
async function startSasl(kind: TargetKind, jaas: string, extra: Record<string, string> = {}): Promise<Target> {
  const cfg = { 'authProvider.1': SASL_PROVIDER, ...extra };
  if (kind === 'tszk') return startTarget(kind, { cfg: { ...cfg, [JAAS_KEY]: jaas } });
  return startTarget(kind, { cfg, sysProps: { [JAAS_KEY]: jaas, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`zookeeper.${k}`, v])) } });
}

const KAZOO = `
import json, sys
from kazoo.client import KazooClient
from kazoo.security import make_acl
port, mode = sys.argv[1], sys.argv[2]
hosts = '127.0.0.1:' + port
out = {}
def client(**kw):
    zk = KazooClient(hosts=hosts, timeout=5, connection_retry={'max_tries': 0}, **kw)
    zk.start(timeout=5)
    return zk
def outcome(f):
    try:
        return f()
    except Exception as e:
        return type(e).__name__
def connects(**kw):
    # kazoo reports CONNECTED before its SASL exchange: the failure shows on the next request.
    def go():
        zk = client(**kw)
        try:
            return zk.get('/sasl-owned')[0].decode()
        finally:
            zk.stop(); zk.close()
    return outcome(go)
bob = {'mechanism': 'DIGEST-MD5', 'username': 'bob', 'password': 'bobsecret'}
if mode == 'open':
    zk = client(sasl_options=bob)
    zk.create('/sasl-owned', b'for bob', acl=[make_acl('sasl', 'bob', all=True)])
    out['bobReads'] = zk.get('/sasl-owned')[0].decode()
    zk.stop(); zk.close()
    zk = client(auth_data=[('sasl', 'bob:bobsecret')])
    out['legacyReads'] = outcome(lambda: zk.get('/sasl-owned')[0].decode())
    zk.stop(); zk.close()
    zk = client()
    out['plainReads'] = outcome(lambda: zk.get('/sasl-owned')[0].decode())
    zk.stop(); zk.close()
    su = client(sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'super', 'password': 'adminsecret'})
    out['superReads'] = outcome(lambda: su.get('/sasl-owned')[0].decode())
    su.stop(); su.close()
    out['wrongPassword'] = connects(sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'bob', 'password': 'nope'})
    out['unknownUser'] = connects(sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'eve', 'password': 'x'})
if mode == 'nologin':
    out['saslWithoutLogin'] = connects(sasl_options=bob)
if mode == 'required':
    zk = client(sasl_options=bob)
    out['saslCreate'] = outcome(lambda: zk.create('/required-ok', b''))
    zk.stop(); zk.close()
print(json.dumps(out, sort_keys=True))
`;

function kazoo(port: number, mode: 'open' | 'required' | 'nologin'): Record<string, unknown> {
  const r = spawnSync(PYTHON, ['-c', KAZOO, String(port), mode], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `kazoo: ${r.stderr.split('\n').slice(-5).join('\n')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** ZooKeeper's CLI (ZooKeeperMain) logging in with the JAAS Client section. */
function javaClientGet(port: number, clientJaas: string, znode: string): string {
  const r = spawnSync(
    'java',
    [`-D${JAAS_KEY}=${clientJaas}`, '-cp', ZK_SERVER_CLASSPATH, 'org.apache.zookeeper.ZooKeeperMain', '-server', `127.0.0.1:${port}`, 'get', znode],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  // The data line; the CLI's watcher may print connection events (SaslAuthenticated) after it.
  return r.stdout.split('\n').find((l) => !/^(Connecting to|WATCHER::|WatchedEvent|\s*$)/.test(l)) ?? r.stdout;
}

describe('SASL DIGEST-MD5, tszk beside ZooKeeper', { skip: skipUnless(missing), timeout: 170_000 }, () => {
  let dir: string;
  let jaas: string;
  const open: Partial<Record<TargetKind, Target>> = {};
  const required: Partial<Record<TargetKind, Target>> = {};
  const noLogin: Partial<Record<TargetKind, Target>> = {};
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-sasl-'));
    jaas = path.join(dir, 'server.jaas');
    fs.writeFileSync(jaas, SERVER_JAAS);
    [open.tszk, open.zookeeper, required.tszk, required.zookeeper, noLogin.tszk, noLogin.zookeeper] = await Promise.all([
      startSasl('tszk', jaas),
      startSasl('zookeeper', jaas),
      startSasl('tszk', jaas, { sessionRequireClientSASLAuth: 'true' }),
      startSasl('zookeeper', jaas, { sessionRequireClientSASLAuth: 'true' }),
      startTarget('tszk'),
      startTarget('zookeeper'),
    ]);
  });
  after(async () => {
    await Promise.all([...Object.values(open), ...Object.values(required), ...Object.values(noLogin)].map((t) => t.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('kazoo: sasl ACLs, legacy auth_data, super user, wrong password: same outcomes', () => {
    const t = kazoo(open.tszk!.port, 'open');
    const z = kazoo(open.zookeeper!.port, 'open');
    assert.deepEqual(t, z);
    assert.equal(t['bobReads'], 'for bob');
    assert.equal(t['plainReads'], 'NoAuthError');
    assert.equal(t['wrongPassword'], 'AuthFailedError');
  });

  test('a server that requires SASL closes sessions that do not authenticate', async () => {
    const outcomes: Record<string, unknown>[] = [];
    for (const kind of ['tszk', 'zookeeper'] as const) {
      const out = kazoo(required[kind]!.port, 'required');
      // kazoo 2.8 has no exception for SESSIONCLOSEDREQUIRESASLAUTH (-124): the node client asks.
      const c = await ZooKeeperClient.connect(required[kind]!.connectString, { sessionTimeout_ms: 10_000 });
      out['noSaslCreate'] = await c.create('/x').then(
        () => 'created',
        (e: KeeperError) => e.code,
      );
      await c.close();
      outcomes.push(out);
    }
    assert.deepEqual(outcomes[0], outcomes[1]);
    assert.equal(outcomes[0]!['saslCreate'], '/required-ok');
    assert.equal(outcomes[0]!['noSaslCreate'], Err.SessionClosedRequireSaslAuth);
  });

  test('kazoo asking for SASL from a server without a JAAS Server section fails, never hangs', () => {
    const t = kazoo(noLogin.tszk!.port, 'nologin');
    assert.deepEqual(t, kazoo(noLogin.zookeeper!.port, 'nologin'));
    assert.equal(t['saslWithoutLogin'], 'AuthFailedError');
  });

  test('the node client logs in with its sasl option; a wrong password ends in AuthFailed', async () => {
    for (const kind of ['tszk', 'zookeeper'] as const) {
      const login = async (password: string): Promise<unknown> => {
        const c = await ZooKeeperClient.connect(open[kind]!.connectString, {
          sessionTimeout_ms: 10_000,
          sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password },
        });
        try {
          return await c.getData('/sasl-owned').then(
            (r) => r.data?.toString(),
            (e: KeeperError) => e.code,
          );
        } finally {
          await c.close();
        }
      };
      assert.equal(await login('bobsecret'), 'for bob', kind);
      assert.equal(await login('wrong'), Err.AuthFailed, kind);
    }
    // The login is made again on every connection: after a reconnect the session is still sasl:bob.
    const c = await ZooKeeperClient.connect(open.tszk!.connectString, {
      sessionTimeout_ms: 10_000,
      sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'bobsecret' },
    });
    c.dropConnection();
    assert.equal((await c.getData('/sasl-owned')).data?.toString(), 'for bob');
    assert.ok((await c.whoAmI()).some((i) => i.authScheme === 'sasl' && i.user === 'bob'));
    assert.equal(c.connectCount, 2);
    await c.close();
  });

  test('bad SASL tokens (a Kerberos-like first token, an oversized one, a garbage response): same answers', async () => {
    const outcomes: Record<TargetKind, unknown[]> = { tszk: [], zookeeper: [] };
    const tokens = [
      [Buffer.from('6082021e06092a864886f71201020201', 'hex')],
      [Buffer.alloc(5000, 0x41)],
      [Buffer.alloc(0), Buffer.from('username="bob",nonce=garbage')],
    ];
    for (const kind of ['tszk', 'zookeeper'] as const) {
      for (const sequence of tokens) {
        const s = await RawSession.open(open[kind]!.port);
        const errs: number[] = [];
        for (const token of sequence) errs.push((await s.call(OpCode.sasl, body(GetSASLRequest, { token }))).err);
        await s.conn.until(-999, 3000).catch(() => undefined); // closed, or still open after 3 s
        outcomes[kind].push({ errs, closed: s.conn.closed });
        s.conn.close();
      }
    }
    assert.deepEqual(outcomes.tszk, outcomes.zookeeper);
    assert.deepEqual(outcomes.tszk[2], { errs: [Err.Ok, Err.AuthFailed], closed: true });
  });

  test('a JAAS file that does not parse stops tszk with exit 2 naming it', () => {
    const bad = path.join(dir, 'bad.jaas');
    fs.writeFileSync(bad, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="x"\n};\n');
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), `tickTime=2000\ndataDir=${dir}/data\nclientPort=0\n`);
    const { cmd, args } = tszkCommand();
    const r = spawnSync(cmd, [...args, 'server', '--config', path.join(dir, 'zoo.cfg'), '-D', `${JAAS_KEY}=${bad}`], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /java\.security\.auth\.login\.config: .*bad\.jaas: line 4: expected/);
  });

  test('the Java client logs in with a JAAS Client section', () => {
    const good = path.join(dir, 'client.jaas');
    fs.writeFileSync(good, 'Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="bob"\n  password="bobsecret";\n};\n');
    for (const kind of ['tszk', 'zookeeper'] as const)
      assert.equal(javaClientGet(open[kind]!.port, good, '/sasl-owned'), 'for bob', `Java client against ${kind}`);
  });
});
