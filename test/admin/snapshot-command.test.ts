/**
 * ZooKeeper 3.9's `snapshot` admin command on a real tszk server: the streamed bytes load with
 * src/storage's reader as a valid snapshot holding the tree the clients wrote, named by the
 * `last_zxid` header, `snapshot_size` long, and kept in the dataDir; ZooKeeper's answers without
 * the Authorization header (401), with an unknown scheme (401), with ids lacking ALL on `/` (403),
 * within the rate limit (429), with `streaming=false` (headers and JSON), and when disabled (503).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { Perms } from '../../src/proto/opcodes.js';
import { startServer, type EmbeddedServer } from '../../src/server/embed.js';
import { databaseFromSnapshot } from '../../src/storage/database.js';
import { parseSnapshot } from '../../src/storage/snapshot.js';
import { generateDigest } from '../../src/txn/auth.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';

/** Long enough that the second request in a row is refused, short enough to wait out. */
const INTERVAL_MS = 1500;
const ADMIN = 'admin:secret';

let dir: string;
let server: EmbeddedServer;
let base: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-snapcmd-'));
  server = await startServer({
    tickTime: 2000,
    dataDir: dir,
    clientPort: 0,
    clientPortAddress: '127.0.0.1',
    'admin.serverAddress': '127.0.0.1',
    'admin.serverPort': 0,
    'admin.rateLimiterIntervalInMS': INTERVAL_MS,
  });
  base = `http://127.0.0.1:${server.adminPort}/commands`;
});
after(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function json(r: Response): Promise<Record<string, unknown>> {
  assert.equal(r.headers.get('content-type'), 'application/json');
  return (await r.json()) as Record<string, unknown>;
}

test('snapshot: auth refusals, the stream loads as the tree, the rate limit, streaming=false', async () => {
  const zk = await ZooKeeperClient.connect(server.connectString);
  try {
    for (let i = 0; i < 20; i++) await zk.create(`/snap${i}`, `value ${i}`);
    await zk.create('/snap0/child', Buffer.from([0, 1, 2, 255]));
    // Only `admin` may do everything on /.
    await zk.addAuth('digest', ADMIN);
    await zk.setACL('/', [{ perms: Perms.ALL, id: { scheme: 'digest', id: generateDigest(ADMIN) } }]);

    const none = await fetch(`${base}/snapshot`);
    assert.equal(none.status, 401);
    assert.deepEqual(await json(none), { command: 'snapshot', error: 'Auth info is missing for the command' });
    const badScheme = await fetch(`${base}/snap`, { headers: { Authorization: 'nosuch x' } });
    assert.equal(badScheme.status, 401);
    assert.deepEqual(await json(badScheme), { command: 'snap', error: 'Not authenticated' });
    const tooManyParts = await fetch(`${base}/snapshot`, { headers: { Authorization: 'digest admin:sec ret' } });
    assert.equal(tooManyParts.status, 401);
    const wrong = await fetch(`${base}/snapshot`, { headers: { Authorization: 'digest admin:wrong' } });
    assert.equal(wrong.status, 403);
    assert.deepEqual(await json(wrong), { command: 'snapshot', error: 'Not authorized' });

    const lastZxid = (await zk.exists('/snap0/child'))!.mzxid;
    const ok = await fetch(`${base}/snapshot`, { headers: { Authorization: `digest ${ADMIN}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'application/octet-stream');
    const bytes = Buffer.from(await ok.arrayBuffer());
    const zxidHeader = ok.headers.get('last_zxid')!;
    assert.match(zxidHeader, /^0x[0-9a-f]+$/);
    const zxid = BigInt(zxidHeader);
    assert.ok(zxid >= lastZxid, `snapshot at ${zxidHeader}, last write 0x${lastZxid.toString(16)}`);
    assert.equal(Number(ok.headers.get('snapshot_size')), bytes.length);
    // The same file is in the dataDir, and the bytes are a valid snapshot holding the tree.
    assert.deepEqual(fs.readFileSync(path.join(dir, 'version-2', `snapshot.${zxid.toString(16)}`)), bytes);
    const db = databaseFromSnapshot(parseSnapshot(bytes, '<streamed>', zxid));
    for (let i = 0; i < 20; i++) assert.equal(db.tree.getNode(`/snap${i}`)?.data?.toString('utf8'), `value ${i}`);
    assert.deepEqual(db.tree.getNode('/snap0/child')?.data, Buffer.from([0, 1, 2, 255]));
    assert.deepEqual(
      db.tree.aclOf(db.tree.getNode('/')!).map((a) => a.id.id),
      [generateDigest(ADMIN)],
    );
    assert.equal(db.sessionsWithTimeouts.has(zk.sessionId), true, 'the session is in it');

    // One per interval.
    const limited = await fetch(`${base}/snapshot`, { headers: { Authorization: `digest ${ADMIN}` } });
    assert.equal(limited.status, 429);
    assert.deepEqual(await json(limited), { command: 'snapshot', error: null });
    await new Promise((r) => setTimeout(r, INTERVAL_MS + 200));
    const headersOnly = await fetch(`${base}/snapshot?streaming=false`, { headers: { Authorization: `digest ${ADMIN}` } });
    assert.equal(headersOnly.status, 200);
    assert.deepEqual(await json(headersOnly), { command: 'snapshot', error: null });
    assert.ok(BigInt(headersOnly.headers.get('last_zxid')!) >= zxid);
    assert.ok(Number(headersOnly.headers.get('snapshot_size')) > 0);
  } finally {
    await zk.close();
  }
  const listed = await (await fetch(base)).text();
  assert.match(listed, /<a href="\/commands\/snapshot">snapshot<\/a>/);
});

test('snapshot: admin.snapshot.enabled=false answers 503 (after the auth checks)', async () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-snapcmd-off-'));
  try {
    await using s = await startServer({
      tickTime: 2000,
      dataDir: d,
      clientPort: 0,
      clientPortAddress: '127.0.0.1',
      'admin.serverAddress': '127.0.0.1',
      'admin.serverPort': 0,
      'admin.snapshot.enabled': 'false',
    });
    const url = `http://127.0.0.1:${s.adminPort}/commands/snapshot`;
    assert.equal((await fetch(url)).status, 401);
    // The root's ACL is open: any digest id has ALL.
    const r = await fetch(url, { headers: { Authorization: 'digest anyone:x' } });
    assert.equal(r.status, 503);
    assert.deepEqual(await json(r), { command: 'snapshot', error: null });
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});
