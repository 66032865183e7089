/**
 * Compressed snapshots (zookeeper.snapshot.compression.method = gz | snappy): tszk writes them
 * when asked and reads every kind whatever its own setting, as ZooKeeper does; a damaged one is
 * reported with its path and recovery falls back to an older snapshot; and the files cross
 * between tszk and Apache ZooKeeper 3.8 both ways.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import zookeeper, { type Client } from 'node-zookeeper-client';
import { ConfigError, parseZooCfg } from '../../src/server/config.js';
import { defaultServerOptions, storageOptionsFrom } from '../../src/server/options.js';
import { startStandaloneServer } from '../../src/server/standalone.js';
import { openDataDir } from '../../src/storage/dataDir.js';
import { openDatabase } from '../../src/storage/database.js';
import { StorageError } from '../../src/storage/errors.js';
import { listSnapshots } from '../../src/storage/history.js';
import { printSnapshot } from '../../src/storage/printers.js';
import { readSnapshotFile, writeSnapshotFile } from '../../src/storage/snapshot.js';
import type { SnapshotCompression } from '../../src/storage/snapshotCompression.js';
import { startZooKeeper, zookeeperMissing } from '../support/zookeeper.js';
import { hashTree, ModelTree } from './modelTree.js';
import { Workload } from './workload.js';
import { call, connect, dumpThroughClient, javaMissing } from './zkTools.js';

process.env['TSZK_LOG_LEVEL'] ??= 'silent';
const missing = zookeeperMissing() ?? javaMissing();
const skip = missing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? `real ZooKeeper unavailable: ${missing}` : false;
const KINDS = ['gz', 'snappy'] as const satisfies readonly SnapshotCompression[];

/** The tree a dataDir recovers to: newest valid snapshot, then the log. */
async function recovered(dataDir: string): Promise<ModelTree> {
  const dd = await openDataDir({ dataDir, repair: false });
  try {
    const t = ModelTree.fromSnapshot(dd.snapshot!);
    for (const txn of dd.txns) t.apply(txn);
    return t;
  } finally {
    await dd.close();
  }
}

for (const kind of KINDS) {
  test(`${kind}: snapshots written compressed are read back (and a damaged one is named, then skipped)`, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tszk-snap-${kind}-`));
    try {
      const dd = await openDataDir({
        dataDir,
        snapCount: 300,
        preAllocSize_bytes: 64 * 1024,
        emptyTree: ModelTree.fresh().source(),
        random: () => 0.3,
        snapshotCompression: kind,
      });
      const tree = ModelTree.fresh();
      const w = new Workload(tree, 7, 0n, 'real');
      for (let i = 0; i < 1500; i += 25) {
        const b = w.batch(25);
        await dd.txnLog.append(b);
        if (dd.snapshotter.noteLogged(b.length)) await dd.snapshotter.take(tree.lastZxid, tree.source());
      }
      await dd.close();
      const snaps = await listSnapshots(path.join(dataDir, 'version-2'));
      assert.ok(snaps.length >= 3, `${snaps.length} snapshots`);
      // snapshot.0 of the new dataDir is written before any setting applies; every later one is compressed.
      for (const s of snaps.slice(1)) assert.ok(s.path.endsWith(`.${kind}`), `${s.path} is not a .${kind} snapshot`);
      assert.equal(hashTree(await recovered(dataDir)), hashTree(tree));

      // Smaller than the same snapshot written plain.
      const newest = snaps[snaps.length - 1]!;
      const plain = path.join(dataDir, 'plain-copy');
      const plainBytes = await writeSnapshotFile(plain, ModelTree.fromSnapshot(await readSnapshotFile(newest.path, newest.zxid)).source(), { fsync: false });
      const compressedBytes = fs.statSync(newest.path).size;
      console.log(`# ${kind}: newest snapshot ${compressedBytes} B compressed, ${plainBytes} B plain`);
      assert.ok(compressedBytes < plainBytes, `${compressedBytes} B compressed vs ${plainBytes} B plain`);
      fs.rmSync(plain);

      // The snapshot printer (zkSnapShotToolkit's twin) reads it too.
      let printed = '';
      assert.equal(await printSnapshot(newest.path, { write: (t: string) => void (printed += t) }), 0, printed.slice(0, 300));
      assert.match(printed, /ZNode Details \(count=\d+\)/);

      // Damage the newest: reading it names the file; recovery takes the one before and replays the log.
      const bytes = fs.readFileSync(newest.path);
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      fs.writeFileSync(newest.path, bytes);
      await assert.rejects(readSnapshotFile(newest.path, newest.zxid), (e: unknown) => e instanceof StorageError && e.message.startsWith(newest.path));
      assert.equal(hashTree(await recovered(dataDir)), hashTree(tree));
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

test('snapshot.compression.method: gz or snappy from zoo.cfg or -D, anything else names the key', () => {
  const base = 'tickTime=2000\ndataDir=/tmp/x\nclientPort=2181\n';
  assert.equal(parseZooCfg(base).options.snapshotCompression, 'none');
  assert.equal(parseZooCfg(`${base}snapshot.compression.method=snappy\n`).options.snapshotCompression, 'snappy');
  assert.equal(parseZooCfg(base, { sysProps: { 'zookeeper.snapshot.compression.method': 'gz' } }).options.snapshotCompression, 'gz');
  assert.throws(
    () => parseZooCfg(`${base}snapshot.compression.method=lz4\n`),
    (e: unknown) => e instanceof ConfigError && e.message.includes('snapshot.compression.method') && e.message.includes('lz4'),
  );
});

/** Creates 400 znodes with data through `c` (snapCount 100 makes several snapshots). */
async function workload(c: Client): Promise<void> {
  const OPEN = zookeeper.ACL.OPEN_ACL_UNSAFE;
  await call<string>((cb) => c.create('/z', Buffer.from('root'), OPEN, zookeeper.CreateMode.PERSISTENT, cb));
  for (let i = 0; i < 400; i += 50)
    await Promise.all(
      Array.from({ length: 50 }, (_, j) =>
        call<string>((cb) => c.create(`/z/n${i + j}`, Buffer.from(`value ${i + j} `.repeat(8)), OPEN, zookeeper.CreateMode.PERSISTENT, cb)),
      ),
    );
}

for (const kind of KINDS) {
  test(`${kind}: ZooKeeper 3.8's compressed snapshots are served by tszk, and tszk's by ZooKeeper`, { skip, timeout: 180_000 }, async () => {
    const zkDir = fs.mkdtempSync(path.join(os.tmpdir(), `zk-snap-${kind}-`));
    const tszkDir = fs.mkdtempSync(path.join(os.tmpdir(), `tszk-snap-${kind}-`));
    const clients: Client[] = [];
    let zk: Awaited<ReturnType<typeof startZooKeeper>> | undefined;
    try {
      // ZooKeeper writes: every snapshot compressed; tszk must load them (it has no plain one to fall back on).
      zk = await startZooKeeper({ dataDir: zkDir, cfg: { snapCount: 100 }, sysProps: { 'zookeeper.snapshot.compression.method': kind } });
      const c = await connect(zk.connectString);
      clients.push(c);
      await workload(c);
      const expected = await dumpThroughClient(c);
      zk.proc.kill('SIGKILL');
      await new Promise((r) => zk!.proc.once('exit', r));
      await zk.stop();
      zk = undefined;
      const snaps = await listSnapshots(path.join(zkDir, 'version-2'));
      assert.ok(snaps.length >= 2, `${snaps.length} snapshots`);
      for (const s of snaps) assert.ok(s.path.endsWith(`.${kind}`), `ZooKeeper wrote ${s.path}`);
      assert.deepEqual(await serveWithTszk(zkDir, 'none'), expected);

      // tszk writes compressed; ZooKeeper (with its default, plain) serves the same tree from them.
      const written = await serveWithTszk(tszkDir, kind, workload);
      const ours = await listSnapshots(path.join(tszkDir, 'version-2'));
      assert.ok(ours.filter((s) => s.path.endsWith(`.${kind}`)).length >= 2, `tszk wrote ${ours.map((s) => path.basename(s.path)).join(', ')}`);
      zk = await startZooKeeper({ dataDir: tszkDir });
      const z = await connect(zk.connectString);
      clients.push(z);
      assert.deepEqual(await dumpThroughClient(z), written);
    } finally {
      for (const c of clients) c.close();
      await zk?.stop();
      fs.rmSync(zkDir, { recursive: true, force: true });
      fs.rmSync(tszkDir, { recursive: true, force: true });
    }
  });
}

/** Runs tszk's standalone server on `dataDir` (snapshots written `compression`), runs `work`, and returns the tree it serves. */
async function serveWithTszk(dataDir: string, compression: SnapshotCompression, work?: (c: Client) => Promise<void>): Promise<Map<string, string>> {
  const opts = defaultServerOptions({
    dataDir,
    clientPort: 0,
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: 0,
    snapCount: 100,
    snapshotCompression: compression,
  });
  const { db, sink } = await openDatabase({ ...storageOptionsFrom(opts), preAllocSize_bytes: 256 * 1024 });
  const server = await startStandaloneServer(opts, { db, sink });
  const c = await connect(`127.0.0.1:${server.port}`);
  try {
    await work?.(c);
    return await dumpThroughClient(c);
  } finally {
    c.close();
    await server.close();
  }
}
