/**
 * The AdminServer over real HTTP on a standalone tszk (TestingServer, admin on a free loopback
 * port): every command by name and alias answers JSON with "command" and "error"; the list, the
 * errors ZooKeeper answers, and what the HTTP layer refuses (404, 405, 414, 431, malformed 400);
 * a taken admin port fails the start with the port named. The comparison with ZooKeeper's own
 * AdminServer is admin-differential.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CreateMode, ZooKeeperClient } from '../../src/client/index.js';
import { ConfigError, parseZooCfg } from '../../src/server/config.js';
import { startServer } from '../../src/server/embed.js';
import { TestingServer } from '../../src/testing/index.js';
import { fourLetterWord } from '../../src/testing/ports.js';

/** Primary names and aliases of ZooKeeper 3.8's AdminServer commands. */
const COMMANDS: Record<string, string[]> = {
  connection_stat_reset: ['crst'],
  configuration: ['conf', 'config'],
  connections: ['cons'],
  dirs: [],
  dump: [],
  environment: ['env', 'envi'],
  hash: [],
  get_trace_mask: ['gtmk'],
  initial_configuration: ['icfg'],
  is_read_only: ['isro'],
  last_snapshot: ['lsnp'],
  leader: ['lead'],
  monitor: ['mntr'],
  observer_connection_stat_reset: ['orst'],
  ruok: [],
  set_trace_mask: ['stmk'],
  server_stats: ['srvr'],
  stats: ['stat'],
  stat_reset: ['srst'],
  observers: ['obsr'],
  system_properties: ['sysp'],
  voting_view: [],
  watches: ['wchc'],
  watches_by_path: ['wchp'],
  watch_summary: ['wchs'],
  zabstate: [],
};

let srv: TestingServer;
let base: string;
before(async () => {
  srv = await TestingServer.start();
  assert.ok(srv.adminPort !== undefined && srv.adminPort > 0, 'TestingServer runs the AdminServer on a free port');
  base = `http://127.0.0.1:${srv.adminPort}`;
});
after(() => srv.close());

async function get(p: string, init?: RequestInit): Promise<{ status: number; text: string; type: string | null }> {
  const r = await fetch(base + p, init);
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
}

test('GET /commands lists every primary name, linked', async () => {
  const r = await get('/commands');
  assert.equal(r.status, 200);
  const listed = [...r.text.matchAll(/<a href="\/commands\/([a-z_]+)">\1<\/a>/g)].map((m) => m[1]);
  // ZooKeeper 3.8's commands and 3.9's snapshot (test/admin/snapshot-command.test.ts).
  assert.deepEqual(listed, [...Object.keys(COMMANDS), 'snapshot'].sort());
});

test('every command answers by its name and each alias, with "command" (the primary name) and "error"', async () => {
  for (const [name, aliases] of Object.entries(COMMANDS)) {
    for (const n of [name, ...aliases]) {
      const r = await get(`/commands/${n}`);
      assert.equal(r.status, 200, n);
      assert.equal(r.type, 'application/json', n);
      const body = JSON.parse(r.text) as Record<string, unknown>;
      assert.equal(body['command'], name, n);
      assert.ok('error' in body, n);
      const expectError = name === 'leader' || name === 'set_trace_mask';
      assert.equal(body['error'] !== null, expectError, `${n}: ${String(body['error'])}`);
    }
  }
});

test('the errors ZooKeeper answers: unknown command, standalone leader, stmk without its argument; stmk with one sets the mask', async () => {
  assert.deepEqual(JSON.parse((await get('/commands/no_such')).text), { command: 'no_such', error: 'Unknown command: no_such' });
  assert.deepEqual(JSON.parse((await get('/commands/leader')).text), { error: 'server is not initialized', command: 'leader' });
  assert.equal(JSON.parse((await get('/commands/stmk')).text).error, 'setTraceMask requires long traceMask argument');
  assert.equal(JSON.parse((await get('/commands/stmk?traceMask=x')).text).error, 'setTraceMask requires long traceMask argument');
  assert.deepEqual(JSON.parse((await get('/commands/set_trace_mask?traceMask=0')).text), { tracemask: 0, command: 'set_trace_mask', error: null });
  assert.equal(JSON.parse((await get('/commands/gtmk')).text).tracemask, 0);
  await get('/commands/stmk?traceMask=306');
});

test('answers follow the server: a session, an ephemeral and watches show in cons, dump, wchc, wchp, wchs, mntr', async () => {
  const zk = await ZooKeeperClient.connect(srv.connectString);
  try {
    await zk.create('/admin-a', 'x');
    await zk.create('/admin-e', 'y', { mode: CreateMode.EPHEMERAL });
    await zk.getData('/admin-a', true);
    const sid = zk.sessionId;
    const cons = JSON.parse((await get('/commands/cons')).text) as { connections: { session_id: number }[] };
    assert.equal(cons.connections.length, 1);
    // Session ids are longs: written as plain digits (JSON.parse rounds them), so compare the text.
    assert.match((await get('/commands/cons')).text, new RegExp(`"session_id" : ${BigInt.asIntN(64, sid)}\\b`));
    assert.match((await get('/commands/dump')).text, new RegExp(`"${BigInt.asIntN(64, sid)}" : \\[ "/admin-e" \\]`));
    assert.match((await get('/commands/wchc')).text, new RegExp(`"${BigInt.asIntN(64, sid)}" : \\[ "/admin-a" \\]`));
    assert.match((await get('/commands/wchp')).text, new RegExp(`"/admin-a" : \\[ ${BigInt.asIntN(64, sid)} \\]`));
    assert.deepEqual(JSON.parse((await get('/commands/wchs')).text), {
      num_connections: 1,
      num_paths: 1,
      num_total_watches: 1,
      command: 'watch_summary',
      error: null,
    });
    const mntr = JSON.parse((await get('/commands/monitor')).text) as Record<string, unknown>;
    assert.equal(mntr['ephemerals_count'], 1);
    assert.equal(mntr['num_alive_connections'], 1);
    assert.equal(mntr['server_state'], 'standalone');
    // The four-letter word reads the same values.
    assert.match(await fourLetterWord(srv.port, 'mntr'), /^zk_ephemerals_count\t1$/m);
    assert.match(await fourLetterWord(srv.port, 'mntr'), /^zk_avg_readlatency\t\d+(\.\d+)?$/m);
  } finally {
    await zk.close();
  }
});

test('hash: the tree digest after every zxid that is a multiple of 0x80, oldest first', async () => {
  const zk = await ZooKeeperClient.connect(srv.connectString);
  try {
    await zk.create('/hash', '');
    const digests = async (): Promise<string[]> =>
      [...(await get('/commands/hash')).text.matchAll(/"zxid" : (\d+),\s*"digest" : (-?\d+),\s*"digest_version" : 2/g)].map((m) => m[1]!);
    const zxid = (): Promise<bigint> => zk.exists('/hash').then((s) => s!.mzxid);
    const before = await digests();
    // Past the next two multiples of 0x80.
    while ((await zxid()) % 128n !== 0n || (await zxid()) < BigInt(before.length + 2) * 128n) await zk.setData('/hash', 'x');
    const after = await digests();
    assert.deepEqual(after.slice(0, before.length), before, 'older digests are kept');
    assert.ok(after.length >= before.length + 2, `${after.length} digests after writing, ${before.length} before`);
    for (const z of after) assert.equal(BigInt(z) % 128n, 0n, `zxid ${z} is a multiple of 0x80`);
  } finally {
    await zk.close();
  }
});

test('HTTP refusals: unknown paths 404, other methods 405, an over-long URL 414, huge headers 431, garbage 400', async () => {
  assert.equal((await get('/nope')).status, 404);
  assert.equal((await get('/commands/ruok/extra')).status, 404);
  assert.equal((await get('/console/nope')).status, 404);
  assert.equal((await get('/console/api/node?path=no-slash')).status, 400);
  assert.equal((await get('/console/api/node?path=/missing')).status, 404);
  assert.equal((await get('/commands/ruok', { method: 'POST', body: 'x' })).status, 405);
  assert.equal((await get('/commands/' + 'a'.repeat(9000))).status, 414);
  assert.equal((await get('/commands/ruok', { headers: { 'x-big': 'b'.repeat(20_000) } })).status, 431);
  const reply = await raw('NOT-HTTP\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 400 /);
  // The server is still fine.
  assert.equal(JSON.parse((await get('/commands/ruok')).text).error, null);
});

test('admin.commandURL moves the commands; a taken admin port fails the start naming it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-admin-'));
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const cfg = { tickTime: 2000, dataDir: dir, clientPort: 0, clientPortAddress: '127.0.0.1', 'admin.serverAddress': '127.0.0.1' };
    await assert.rejects(
      startServer({ ...cfg, 'admin.serverPort': port }),
      (e: unknown) => e instanceof Error && e.message.includes(`127.0.0.1:${port}`) && /EADDRINUSE/.test(e.message),
    );
    // Nothing stayed open: the same dataDir starts again.
    await using s = await startServer({ ...cfg, 'admin.serverPort': 0, 'admin.commandURL': '/zk/cmd' });
    const r = await fetch(`http://127.0.0.1:${s.adminPort}/zk/cmd/ruok`);
    assert.equal(((await r.json()) as { command: string }).command, 'ruok');
    assert.equal((await fetch(`http://127.0.0.1:${s.adminPort}/commands/ruok`)).status, 404);
  } finally {
    await new Promise((r) => taken.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(srv.adminPort!, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

test('admin.* and metricsProvider.* keys: defaults as ZooKeeper, bad values named', () => {
  const base = 'tickTime=2000\ndataDir=/tmp/x\n';
  const d = parseZooCfg(base);
  assert.deepEqual(d.admin, {
    enableServer: true,
    serverAddress: '0.0.0.0',
    serverPort: 8080,
    commandURL: '/commands',
    idleTimeout_ms: 30_000,
    snapshotEnabled: true,
    rateLimiterInterval_ms: 300_000,
  });
  assert.equal(d.prometheus, undefined);
  const p = parseZooCfg(
    base + 'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nzookeeper.admin.enableServer=false\n',
  );
  assert.deepEqual(p.prometheus, { httpHost: '0.0.0.0', httpPort: 7000, exportProcessInfo: true });
  assert.equal(p.admin.enableServer, false);
  assert.deepEqual(p.warnings, []);
  for (const [text, re] of [
    ['admin.serverPort=eighty', /admin\.serverPort: 'eighty' is not an integer/],
    ['admin.enableServer=maybe', /admin\.enableServer: 'maybe'/],
    ['admin.commandURL=cmds', /admin\.commandURL: 'cmds' must start with \//],
    ['metricsProvider.className=com.example.Other', /metricsProvider\.className: 'com\.example\.Other'/],
    ['metricsProvider.httpPort=70000', /metricsProvider\.httpPort: 70000 is out of range/],
    ['admin.snapshot.enabled=sometimes', /admin\.snapshot\.enabled: 'sometimes'/],
    ['admin.rateLimiterIntervalInMS=-1', /admin\.rateLimiterIntervalInMS: -1 is out of range/],
  ] as const) {
    assert.throws(
      () => parseZooCfg(base + text + '\n'),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      text,
    );
  }
});
