/**
 * tszk/server's startServer(): a standalone server from zoo.cfg keys or a zoo.cfg path, a quorum
 * peer (here an ensemble of one) when the config lists servers, and config mistakes refused with
 * the key named.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { ConfigError, startServer } from '../../src/server/embed.js';
import { fourLetterWord, freePort } from '../../src/testing/ports.js';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-embed-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('standalone from config keys: clientPort 0 gets a free port; the data survives close and start', async () => {
  const dataDir = path.join(dir, 'keys');
  const cfg = {
    tickTime: 2000,
    dataDir,
    clientPort: 0,
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': 'srvr,ruok',
    forceSync: 'yes',
    'admin.enableServer': false,
  };
  const first = await startServer(cfg);
  assert.equal(first.mode, 'standalone');
  assert.ok(first.clientPort > 0);
  assert.equal(first.connectString, `127.0.0.1:${first.clientPort}`);
  assert.equal(first.dataDir, dataDir);
  assert.deepEqual(first.warnings, []);
  const zk = await ZooKeeperClient.connect(first.connectString);
  await zk.create('/embedded', 'e');
  await zk.close();
  assert.match(await fourLetterWord(first.clientPort, 'srvr'), /Mode: standalone/);
  await first.close();
  await first.close(); // idempotent

  await using second = await startServer({ ...cfg, clientPort: first.clientPort });
  const zk2 = await ZooKeeperClient.connect(second.connectString);
  assert.equal((await zk2.getData('/embedded')).data?.toString(), 'e');
  await zk2.close();
});

test('standalone from a zoo.cfg path, with overrides; unknown keys come back as warnings', async () => {
  const port = await freePort();
  const file = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(file, `tickTime=2000\ndataDir=from-file\nclientPort=1\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nnoSuchKey=1\n`);
  await using server = await startServer(file, { sysProps: { clientPort: String(port) } });
  assert.equal(server.clientPort, port);
  assert.equal(server.dataDir, path.join(dir, 'from-file'), 'a relative dataDir is relative to the zoo.cfg');
  assert.equal(server.warnings.length, 1);
  assert.match(server.warnings[0]!, /noSuchKey/);
  const zk = await ZooKeeperClient.connect(server.connectString);
  assert.deepEqual(await zk.getChildren('/'), ['zookeeper']);
  await zk.close();
});

test('a config with server lines starts a quorum peer; myid is written when missing', async () => {
  const [client, quorum, election] = [await freePort(), await freePort(), await freePort()];
  const dataDir = path.join(dir, 'peer');
  const cfg = {
    tickTime: 200,
    initLimit: 10,
    syncLimit: 5,
    dataDir,
    clientPort: client,
    clientPortAddress: '127.0.0.1',
    standaloneEnabled: false,
    '4lw.commands.whitelist': 'srvr',
    'admin.enableServer': false,
    'server.7': `127.0.0.1:${quorum}:${election}:participant;127.0.0.1:${client}`,
  };
  await assert.rejects(startServer(cfg), (e: unknown) => e instanceof ConfigError && /no myid file/.test(e.message));
  const peer = await startServer(cfg, { myid: 7 });
  try {
    assert.equal(peer.mode, 'quorum');
    assert.equal(peer.clientPort, client);
    assert.equal(fs.readFileSync(path.join(dataDir, 'myid'), 'utf8').trim(), '7');
    // An ensemble of one elects itself.
    const zk = await ZooKeeperClient.connect(peer.connectString, { sessionTimeout_ms: 4000 });
    await zk.create('/in-quorum', 'q');
    assert.match(await fourLetterWord(client, 'srvr'), /Mode: leader/);
    await zk.close();
  } finally {
    await peer.close();
  }
  await assert.rejects(startServer(cfg, { myid: 8 }), /myid: .* says 7, not 8/);
});

test('config mistakes are refused with the key named; a taken port rejects', async () => {
  await assert.rejects(startServer({ tickTime: 2000 }), (e: unknown) => e instanceof ConfigError && e.key === 'dataDir');
  await assert.rejects(startServer({ tickTime: 'soon', dataDir: dir }), /tickTime: 'soon' is not an integer/);
  await assert.rejects(startServer({ tickTime: 2000, dataDir: `${dir}\nclientPort=1` }), /dataDir: a key or value may not contain a line break/);
  await assert.rejects(startServer(path.join(dir, 'missing.cfg')), /cannot read/);

  // A taken client port rejects; the dataDir it opened is released and starts fine after.
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as net.AddressInfo).port;
  const dataDir = path.join(dir, 'taken');
  await assert.rejects(startServer({ tickTime: 2000, dataDir, clientPort: port, clientPortAddress: '127.0.0.1', 'admin.enableServer': false }), /EADDRINUSE/);
  await new Promise((r) => taken.close(r));
  await using server = await startServer({ tickTime: 2000, dataDir, clientPort: port, clientPortAddress: '127.0.0.1', 'admin.enableServer': false });
  assert.equal(server.clientPort, port);
});
