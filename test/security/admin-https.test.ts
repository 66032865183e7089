/**
 * The AdminServer over HTTPS (admin.forceHttps, admin.portUnification with the ssl.quorum.* key
 * store), tszk beside Apache ZooKeeper 3.8's JettyAdminServer configured alike: an HTTPS GET of
 * /commands/ruok trusting the test CA, plain HTTP refused with forceHttps and served with
 * portUnification.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../support/ports.js';
import { skipUnless, startTarget, tszkMissing, type TargetKind } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { makeCerts, opensslMissing, type TestCerts } from './certs.js';

const missing = opensslMissing() ?? tszkMissing() ?? zookeeperMissing();

interface Answer {
  status: number;
  hsts: string | undefined;
  body: string;
}

/** GET `url` (https with `ca` trusted); the error's code or message when no HTTP answer came. */
function get(url: string, ca?: Buffer): Promise<Answer | string> {
  return new Promise((resolve) => {
    const done = (res: http.IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'], body }));
    };
    const req = url.startsWith('https:') ? https.get(url, { ca, timeout: 10_000 }, done) : http.get(url, { timeout: 10_000 }, done);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

async function withAdmin<T>(kind: TargetKind, certs: TestCerts, mode: Record<string, string>, f: (port: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const target = await startTarget(kind, {
    cfg: {
      'admin.enableServer': 'true',
      'admin.serverAddress': '127.0.0.1',
      'admin.serverPort': port,
      'ssl.quorum.keyStore.location': certs.server.pem,
      'ssl.quorum.trustStore.location': certs.ca,
      ...mode,
    },
  });
  try {
    return await f(port);
  } finally {
    await target.stop();
  }
}

/** What each server answers, compared between tszk and ZooKeeper. */
async function outcomes(kind: TargetKind, certs: TestCerts): Promise<Record<string, unknown>> {
  const ca = fs.readFileSync(certs.ca);
  const out: Record<string, unknown> = {};
  await withAdmin(kind, certs, { 'admin.forceHttps': 'true' }, async (port) => {
    const a = await get(`https://127.0.0.1:${port}/commands/ruok`, ca);
    assert.ok(typeof a !== 'string', `${kind}: HTTPS ruok failed: ${String(a)}`);
    out['forced https'] = { status: a.status, hsts: a.hsts, error: (JSON.parse(a.body) as { error: unknown }).error };
    const plain = await get(`http://127.0.0.1:${port}/commands/ruok`);
    out['forced http'] = typeof plain === 'string' ? 'no HTTP answer' : plain.status;
    out['forced https, CA not trusted'] = typeof (await get(`https://127.0.0.1:${port}/commands/ruok`)) === 'string' ? 'refused' : 'answered';
  });
  await withAdmin(kind, certs, { 'admin.portUnification': 'true' }, async (port) => {
    const a = await get(`https://127.0.0.1:${port}/commands/ruok`, ca);
    const b = await get(`http://127.0.0.1:${port}/commands/ruok`);
    out['unified https'] = typeof a === 'string' ? a : a.status;
    out['unified http'] = typeof b === 'string' ? b : b.status;
  });
  return out;
}

describe('AdminServer HTTPS', { skip: skipUnless(missing) }, () => {
  let certs: TestCerts;
  before(() => {
    certs = makeCerts();
  });
  after(() => certs?.cleanup());

  test('admin.forceHttps and admin.portUnification: tszk answers as ZooKeeper does', { timeout: 120_000 }, async () => {
    const ts = await outcomes('tszk', certs);
    assert.deepEqual(ts, {
      'forced https': { status: 200, hsts: 'max-age=86400; includeSubDomains', error: null },
      'forced http': 'no HTTP answer',
      'forced https, CA not trusted': 'refused',
      'unified https': 200,
      'unified http': 200,
    });
    const zk = await outcomes('zookeeper', certs);
    assert.deepEqual(ts, zk);
  });
});
