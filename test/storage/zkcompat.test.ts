/**
 * Format compatibility with Apache ZooKeeper 3.8, both ways:
 *  - a dataDir written by ZooKeeper (thousands of nodes, ephemerals, ACLs, several logs and
 *    snapshots) loads in tszk's storage with the same nodes, data, ACLs and Stats;
 *  - a dataDir written by tszk's storage is read by ZooKeeper's own TxnLogToolkit and
 *    SnapshotFormatter without error, and ZooKeeper serves the same tree from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zookeeper, { type Client } from 'node-zookeeper-client';
import { openDataDir } from '../../src/storage/dataDir.js';
import { databaseFromSnapshot, openDatabase } from '../../src/storage/database.js';
import { storageOptionsFrom } from '../../src/server/options.js';
import { defaultServerOptions } from '../../src/server/options.js';
import { startStandaloneServer } from '../../src/server/standalone.js';
import { listLogs, listSnapshots, readLogHistory } from '../../src/storage/history.js';
import { readSnapshotFile } from '../../src/storage/snapshot.js';
import { startZooKeeper, zookeeperMissing } from '../support/zookeeper.js';
import { fourLetter } from '../support/ports.js';
import { ModelTree } from './modelTree.js';
import { Workload } from './workload.js';
import { SNAPSHOT_FORMATTER, TXN_LOG_TOOLKIT, call, canonical, connect, dumpThroughClient, javaMissing, runZkTool } from './zkTools.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';
const missing = zookeeperMissing() ?? javaMissing();
const skip = missing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? `real ZooKeeper unavailable: ${missing}` : false;

function modelDump(t: ModelTree): Map<string, string> {
  const out = new Map<string, string>();
  for (const [p, n] of t.nodes) {
    if (p === '/zookeeper' || p.startsWith('/zookeeper/')) continue;
    // What a client sees: DataNode.copyStat reports cversion as 2 × (creates) − (children left).
    const owner = n.stat.ephemeralOwner < 0n ? 0n : n.stat.ephemeralOwner; // container/TTL markers read as 0
    const clientStat = { ...n.stat, cversion: n.stat.cversion * 2 - n.children.size, ephemeralOwner: owner };
    out.set(p === '' ? '/' : p, canonical(n.data, n.acl, clientStat));
  }
  return out;
}

function assertSameTree(actual: Map<string, string>, expected: Map<string, string>): void {
  const missingPaths = [...expected.keys()].filter((p) => !actual.has(p));
  const extra = [...actual.keys()].filter((p) => !expected.has(p));
  assert.deepEqual({ missingPaths, extra }, { missingPaths: [], extra: [] });
  for (const [p, v] of expected) assert.equal(actual.get(p), v, `node ${p}`);
}

/**
 * Loads a dataDir into the model from its OLDEST snapshot, replaying every later logged txn, so
 * that every tree digest ZooKeeper logged is checked (the newest snapshot may leave only a few
 * txns after it, depending on ZooKeeper's randomised snapCount). Returns the digests checked.
 */
async function loadModelChecked(dataDir: string): Promise<{ model: ModelTree; digestsChecked: number }> {
  const dir = path.join(dataDir, 'version-2');
  const oldest = (await listSnapshots(dir))[0];
  assert.ok(oldest, `no snapshot in ${dir}`);
  const snap = await readSnapshotFile(oldest.path, oldest.zxid);
  const t = ModelTree.fromSnapshot(snap);
  // tszk's own tree keeps the digest incrementally; it must agree with ZooKeeper's after every txn.
  const db = databaseFromSnapshot(snap);
  let digestsChecked = 0;
  for (const e of (await readLogHistory(dir, oldest.zxid)).txns) {
    t.apply(e);
    db.apply(e);
    if (e.digest !== undefined) {
      assert.equal(t.digest(), e.digest.treeDigest, `tree digest after 0x${e.header.zxid.toString(16)}`);
      assert.equal(db.tree.digest, e.digest.treeDigest, `tszk tree digest after 0x${e.header.zxid.toString(16)}`);
      digestsChecked++;
    }
  }
  return { model: t, digestsChecked };
}

async function loadModel(dataDir: string): Promise<ModelTree> {
  return (await loadModelChecked(dataDir)).model;
}

/** Runs the standalone tszk server on tszk storage over `dataDir` (a copy, so the original stays as written), with one client. */
async function serveWithTszk<T>(dataDir: string, f: (c: Client, port: number) => Promise<T>, copy = true): Promise<T> {
  const dir = copy ? fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-served-')) : dataDir;
  if (copy) fs.cpSync(dataDir, dir, { recursive: true });
  const opts = defaultServerOptions({ dataDir: dir, clientPort: 0, clientPortAddress: '127.0.0.1', maxClientCnxns: 0, snapCount: 300 });
  const { db, sink } = await openDatabase({ ...storageOptionsFrom(opts), preAllocSize_bytes: 256 * 1024 });
  const server = await startStandaloneServer(opts, { db, sink });
  let c: Client | undefined;
  try {
    c = await connect(`127.0.0.1:${server.port}`);
    return await f(c, server.port);
  } finally {
    c?.close();
    await server.close();
    if (copy) fs.rmSync(dir, { recursive: true, force: true });
  }
}

const NODES = Number(process.env['TSZK_STORAGE_COMPAT_NODES'] ?? 2000);
const step = (s: string) => (process.env['TSZK_DEBUG_STEPS'] ? console.error(s) : undefined);

/**
 * Thousands of nodes, digest/ip/read-only ACLs, setData, deletes, setACL, sequential nodes,
 * ephemerals (c2's survive), multis (one failing), and c1's closeSession. Returns the tree as c2 sees it.
 */
async function clientWorkload(c1: Client, c2: Client): Promise<Map<string, string>> {
  const OPEN = zookeeper.ACL.OPEN_ACL_UNSAFE;
  const digestAcl = [
    new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('digest', 'alice:fO8uR3aDAJ6Cq+2Y1jQ2v5A8jJc=')),
    new zookeeper.ACL(zookeeper.Permission.READ | zookeeper.Permission.WRITE | zookeeper.Permission.ADMIN, new zookeeper.Id('world', 'anyone')),
  ];
  const ipAcl = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('ip', '127.0.0.1'))];
  const P = zookeeper.CreateMode.PERSISTENT;
  await call<string>((cb) => c1.create('/app', Buffer.from('root of the app'), OPEN, P, cb));
  await call<string>((cb) => c1.create('/app/secure', Buffer.from('s'), digestAcl, P, cb));
  await call<string>((cb) => c1.create('/app/ro', null, zookeeper.ACL.READ_ACL_UNSAFE, P, cb));
  await call<string>((cb) => c1.create('/app/ip', Buffer.alloc(0), ipAcl, P, cb));
  await Promise.all(Array.from({ length: 20 }, (_, b) => call<string>((cb) => c1.create(`/app/b${b}`, Buffer.from(`bucket ${b}`), OPEN, P, cb))));
  await Promise.all(
    Array.from({ length: NODES }, (_, i) =>
      call<string>((cb) => c1.create(`/app/b${i % 20}/n${i}`, Buffer.alloc(i % 300, i % 251), i % 7 === 0 ? digestAcl : OPEN, P, cb)),
    ),
  );
  step('created');
  const node = (i: number) => `/app/b${i % 20}/n${i}`;
  const idx = [...Array(NODES).keys()];
  const removed = idx.filter((i) => i % 10 === 1);
  await Promise.all(idx.filter((i) => i % 7 === 3).map((i) => call((cb) => c1.setData(node(i), Buffer.from(`updated ${i}`), -1, cb))));
  await Promise.all(removed.map((i) => new Promise<void>((res, rej) => c1.remove(node(i), -1, (e) => (e ? rej(e) : res())))));
  await Promise.all(idx.filter((i) => i % 11 === 2 && i % 10 !== 1).map((i) => call((cb) => c1.setACL(node(i), ipAcl, -1, cb))));
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      call<string>((cb) => c1.create(`/app/seq-`, Buffer.from(`${i}`), OPEN, zookeeper.CreateMode.PERSISTENT_SEQUENTIAL, cb)),
    ),
  );
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      call<string>((cb) => c2.create(`/app/b${i % 20}/eph${i}`, Buffer.from('e'), OPEN, zookeeper.CreateMode.EPHEMERAL, cb)),
    ),
  );
  await Promise.all(Array.from({ length: 10 }, () => call<string>((cb) => c2.create(`/app/eseq-`, null, OPEN, zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, cb))));
  await call<string>((cb) => c1.create('/app/c1-eph', null, OPEN, zookeeper.CreateMode.EPHEMERAL, cb));
  for (let i = 0; i < 20; i++) {
    await call((cb) =>
      c1
        .transaction()
        .create(`/app/multi${i}`, Buffer.from('m'))
        .setData('/app', Buffer.from(`v${i}`))
        .check('/app/b0')
        .commit(cb),
    );
  }
  // A failing multi is logged as an error txn.
  await call((cb) =>
    c1
      .transaction()
      .create('/app/never')
      .check('/app', 999)
      .commit((err, r) => cb(null, [err, r])),
  );
  step('multis done');
  c1.close(); // closeSession deletes /app/c1-eph
  await new Promise((r) => setTimeout(r, 500));
  const expected = await dumpThroughClient(c2);
  step('dumped');
  assert.ok(expected.size > NODES - removed.length + 20, `${expected.size} nodes`);
  assert.ok(!expected.has('/app/c1-eph'));
  return expected;
}

test('a dataDir written by ZooKeeper 3.8 loads with identical nodes, data, ACLs and Stats', { skip, timeout: 180_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-zkwritten-'));
  const zk = await startZooKeeper({ dataDir, cfg: { snapCount: Math.max(60, Math.floor(NODES / 4)) }, sysProps: { 'zookeeper.preAllocSize': '256' } });
  const clients: Client[] = [];
  try {
    step('started');
    const c1 = await connect(zk.connectString);
    clients.push(c1);
    const c2 = await connect(zk.connectString);
    clients.push(c2);
    const expected = await clientWorkload(c1, c2);
    // Stop abruptly, as a crash: every acknowledged write is already fsynced.
    zk.proc.kill('SIGKILL');
    await new Promise((r) => zk.proc.once('exit', r));
    c2.close();
    const v2 = path.join(dataDir, 'version-2');
    assert.ok((await listSnapshots(v2)).length >= 3, 'several snapshots');
    assert.ok((await listLogs(v2)).length >= 3, 'several logs');
    step('loaded');
    // Replaying ZooKeeper's log also reproduces the tree digest ZooKeeper logged after every txn.
    const { model, digestsChecked } = await loadModelChecked(dataDir);
    assert.ok(digestsChecked > 20, `${digestsChecked} digests checked`);
    assertSameTree(modelDump(model), expected);
    // c2's session (with its ephemerals) is in the recovered sessions.
    const owners = new Set([...model.nodes.values()].map((n) => n.stat.ephemeralOwner).filter((o) => o !== 0n));
    assert.equal(owners.size, 1);
    assert.ok(model.sessions.has([...owners][0]!));
    // The tszk server itself, recovering from ZooKeeper's files, serves the same tree.
    const served = await serveWithTszk(dataDir, async (c) => dumpThroughClient(c));
    assertSameTree(served, expected);
  } finally {
    // An open client keeps the test process alive.
    for (const c of clients) c.close();
    await zk.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a dataDir written by tszk is read by ZooKeeper toolkits and served by ZooKeeper 3.8 unchanged', { skip, timeout: 180_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-written-'));
  let zk: Awaited<ReturnType<typeof startZooKeeper>> | undefined;
  const clients: Client[] = [];
  try {
    const dd = await openDataDir({
      dataDir,
      forceSync: true,
      snapCount: 300,
      preAllocSize_bytes: 64 * 1024,
      emptyTree: ModelTree.fresh().source(),
      random: () => 0.3,
    });
    const tree = ModelTree.fresh();
    const w = new Workload(tree, 5, 0n, 'real');
    for (let i = 0; i < 1500; i += 25) {
      const b = w.batch(25);
      await dd.txnLog.append(b);
      if (dd.snapshotter.noteLogged(b.length)) await dd.snapshotter.take(tree.lastZxid, tree.source());
    }
    await dd.close();
    const v2 = path.join(dataDir, 'version-2');
    const logs = await listLogs(v2);
    const snaps = await listSnapshots(v2);
    assert.ok(logs.length >= 3 && snaps.length >= 3, `${logs.length} logs, ${snaps.length} snapshots`);

    for (const l of logs) {
      const r = runZkTool(TXN_LOG_TOOLKIT, [l.path]);
      assert.equal(r.status, 0, `TxnLogToolkit ${l.path}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, /Exception|CRC|corrupt/i);
      assert.match(r.stdout, /ZooKeeper Transactional Log File with dbid 0 txnlog format version 2/);
      assert.ok(r.stdout.split('\n').filter((line) => / zxid 0x/.test(line)).length > 0, 'txns listed');
    }
    for (const s of snaps) {
      const r = runZkTool(SNAPSHOT_FORMATTER, [s.path]);
      assert.equal(r.status, 0, `SnapshotFormatter ${s.path}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, /Exception|CRC/i);
      assert.match(r.stdout, /ZNode Details/);
    }

    zk = await startZooKeeper({ dataDir });
    const c = await connect(zk.connectString);
    clients.push(c);
    const served = await dumpThroughClient(c);
    assertSameTree(served, modelDump(tree));
    // ZooKeeper compared the snapshot digest and every logged txn digest while loading: no mismatch.
    const mntr = await fourLetter(zk.port, 'mntr');
    assert.match(mntr, /zk_digest_mismatches_count\s+0\n/);
    // ZooKeeper keeps writing on top of tszk's files; tszk then loads ZooKeeper's additions.
    await call<string>((cb) => c.create('/written-by-zookeeper', Buffer.from('z'), zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.PERSISTENT, cb));
    const after = await dumpThroughClient(c);
    c.close();
    zk.proc.kill('SIGKILL');
    await new Promise((r) => zk!.proc.once('exit', r));
    const model = await loadModel(dataDir);
    assertSameTree(modelDump(model), after);
  } finally {
    for (const c of clients) c.close();
    await zk?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a dataDir written by the tszk server is served by ZooKeeper 3.8 with identical nodes, data, ACLs and Stats', { skip, timeout: 180_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-server-written-'));
  let zk: Awaited<ReturnType<typeof startZooKeeper>> | undefined;
  const clients: Client[] = [];
  try {
    const expected = await serveWithTszk(
      dataDir,
      async (c0, port) => {
        const c1 = await connect(`127.0.0.1:${port}`);
        const c2 = await connect(`127.0.0.1:${port}`);
        const seen = await clientWorkload(c1, c2);
        assert.ok(seen.size > NODES / 2);
        // c2's closeSession removes its ephemerals; what stays is what ZooKeeper must serve.
        c2.close();
        await new Promise((r) => setTimeout(r, 500));
        return dumpThroughClient(c0);
      },
      false,
    );
    const v2 = path.join(dataDir, 'version-2');
    assert.ok((await listLogs(v2)).length >= 2, 'several logs');
    assert.ok((await listSnapshots(v2)).length >= 2, 'several snapshots');
    zk = await startZooKeeper({ dataDir });
    const c = await connect(zk.connectString);
    clients.push(c);
    assertSameTree(await dumpThroughClient(c), expected);
    const mntr = await fourLetter(zk.port, 'mntr');
    assert.match(mntr, /zk_digest_mismatches_count\s+0\n/);
  } finally {
    for (const c of clients) c.close();
    await zk?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
