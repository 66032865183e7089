import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ZooKeeperClient } from '../../src/client/index.js';
import { snapshotSourceOf } from '../../src/storage/database.js';
import { VERSION_DIR, snapshotFileName } from '../../src/storage/names.js';
import { writeSnapshotFile } from '../../src/storage/snapshot.js';
import { OPEN_ACL_UNSAFE } from '../../src/tree/aclCache.js';
import { DataTree } from '../../src/tree/dataTree.js';
import { ZkDatabase } from '../../src/txn/database.js';
import { fourLetter, freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

/**
 * The `tszk` command runs its bundle with V8's code cache (src/cli/compileCache.ts): each start
 * here is its own Node process, as a real start is (V8 would otherwise find the script in the
 * process's own compilation cache). bin/tszk.cjs runs the bundle only when it is at least as new
 * as dist/src, which `tsc` alone rewrites.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const repoRoot = path.resolve(here, fromSource ? '../..' : '../../..');
const launcher = path.join(here, fromSource ? '../../src/cli/compileCache.ts' : '../../src/cli/compileCache.js');

let work: string;
before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-compile-cache-'));
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** Runs `bundle` with runBundle in a new process and saves the cache; returns the state and what the bundle printed. */
function start(bundle: string, env: Record<string, string> = {}): { state: string; out: string } {
  const code = `import { runBundle, saveCompileCache } from ${JSON.stringify(launcher)};
const state = runBundle(${JSON.stringify(bundle)});
saveCompileCache();
console.log('state=' + state);`;
  const r = spawnSync(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), '--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  const state = /^state=(\w+)$/m.exec(r.stdout)?.[1];
  assert.ok(state !== undefined, r.stdout);
  return { state, out: r.stdout };
}

/** A CommonJS bundle that uses what a module gets (require, module, __filename) and prints `word`. */
const bundleSource = (word: string): string =>
  `const p = require('node:path');\nmodule.exports = { word: '${word}' };\nfunction greet(w) { return 'bundle ' + p.basename(__filename) + ' says ' + w; }\nconsole.log(greet(module.exports.word));\n`;

test('runBundle: no cache, then the cache written and used; a bundle of the same length but other bytes rejects it and runs its own code', () => {
  const bundle = path.join(work, 'b.cjs');
  fs.writeFileSync(bundle, bundleSource('alpha'));
  const first = start(bundle);
  assert.equal(first.state, 'miss');
  assert.match(first.out, /^bundle b\.cjs says alpha$/m);
  const cache = fs.readFileSync(`${bundle}.cache`);
  assert.ok(cache.length > 50, `a cache of ${cache.length} bytes`);

  const second = start(bundle);
  assert.equal(second.state, 'hit');
  assert.match(second.out, /^bundle b\.cjs says alpha$/m);
  assert.deepEqual(fs.readFileSync(`${bundle}.cache`), cache, 'a start that used the cache does not rewrite it');

  // Same length: V8 alone (which checks only the source's length) would take the old cache.
  fs.writeFileSync(bundle, bundleSource('omega'));
  const changed = start(bundle);
  assert.equal(changed.state, 'rejected');
  assert.match(changed.out, /^bundle b\.cjs says omega$/m);
  assert.equal(start(bundle).state, 'hit', 'the rejected cache was written again for the new bundle');
});

test('runBundle: a damaged cache is rejected and replaced; TSZK_COMPILE_CACHE=off neither reads nor writes one', () => {
  const bundle = path.join(work, 'c.cjs');
  fs.writeFileSync(bundle, bundleSource('beta'));
  fs.writeFileSync(`${bundle}.cache`, 'not a cache');
  const damaged = start(bundle);
  assert.equal(damaged.state, 'rejected');
  assert.match(damaged.out, /^bundle c\.cjs says beta$/m);
  assert.equal(start(bundle).state, 'hit');

  const other = path.join(work, 'd.cjs');
  fs.writeFileSync(other, bundleSource('gamma'));
  const off = start(other, { TSZK_COMPILE_CACHE: 'off' });
  assert.equal(off.state, 'off');
  assert.match(off.out, /^bundle d\.cjs says gamma$/m);
  assert.equal(fs.existsSync(`${other}.cache`), false);
});

const bundleMissing = ((): string | undefined => {
  const bundle = path.join(repoRoot, 'dist/bundle/tszk.cjs');
  if (!fs.existsSync(bundle)) return 'dist/bundle/tszk.cjs is not built (npm run build makes it)';
  if (fs.statSync(bundle).mtimeMs < fs.statSync(path.join(repoRoot, 'dist/src/cli/main.js')).mtimeMs)
    return 'dist/bundle is older than dist/src (npm run build remakes it)';
  return undefined;
})();
if (bundleMissing !== undefined) console.log(`bin/tszk.cjs's bundle tests: ${bundleMissing}`);
const skip = bundleMissing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? bundleMissing : undefined;

/**
 * A copy of the command's files (bin, bundle, launcher) with dist/src and node_modules linked, so
 * the bundle's age and its cache are this test's own.
 */
function installCopy(): string {
  const root = fs.mkdtempSync(path.join(work, 'install-'));
  fs.mkdirSync(path.join(root, 'bin'));
  fs.mkdirSync(path.join(root, 'dist/bundle'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'bin/tszk.cjs'), path.join(root, 'bin/tszk.cjs'));
  for (const f of ['tszk.cjs', 'launch.cjs']) fs.copyFileSync(path.join(repoRoot, 'dist/bundle', f), path.join(root, 'dist/bundle', f));
  fs.symlinkSync(path.join(repoRoot, 'dist/src'), path.join(root, 'dist/src'));
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
  fs.symlinkSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  return root;
}

interface Serving {
  port: number;
  /** Its stderr so far. */
  stderr: () => string;
}

/**
 * Starts `tszk server` from `root` (on `dataDir`, else a new one), waits until it serves, runs
 * `whileServing`, and returns the compileCache field of its start-up line (undefined: dist/src
 * ran) and its log lines.
 */
async function serveOnce(
  root: string,
  opts: { whileServing?: (s: Serving) => Promise<void>; defines?: string[]; dataDir?: string } = {},
): Promise<{ state: string | undefined; log: string[] }> {
  const [port, dataDir] = [await freePort(), opts.dataDir ?? fs.mkdtempSync(path.join(work, 'data-'))];
  const proc = spawn(
    process.execPath,
    [
      path.join(root, 'bin/tszk.cjs'),
      'server',
      '-p',
      String(port),
      '-d',
      dataDir,
      '-D',
      'admin.enableServer=false',
      'clientPortAddress=127.0.0.1',
      ...(opts.defines ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TSZK_LOG_LEVEL: 'debug' } },
  );
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    await waitFor(
      `ruok on ${port} (stderr: ${err.slice(-500)})`,
      async () => {
        if (proc.exitCode !== null) throw new Error(`tszk exited ${proc.exitCode}: ${err}`);
        return (await fourLetter(port, 'ruok', 1000).catch(() => '')) === 'imok' ? true : undefined;
      },
      60_000,
      50,
    );
    const line = err.split('\n').find((l) => l.includes('"msg":"loading the server"'));
    assert.ok(line !== undefined, err);
    const state = (JSON.parse(line) as { compileCache?: string }).compileCache;
    await opts.whileServing?.({ port, stderr: () => err });
    // A start without a usable cache writes it a second after it serves.
    const cache = path.join(root, 'dist/bundle/tszk.cjs.cache');
    if (state === 'miss' || state === 'rejected')
      await waitFor('the compile cache written', () => Promise.resolve(fs.existsSync(cache) ? true : undefined), 30_000, 50);
    return { state, log: err.split('\n').filter((l) => l.startsWith('{')) };
  } finally {
    proc.kill('SIGKILL');
    await exited;
  }
}

test('bin/tszk.cjs serves from the bundle, without a cache and then with the one it wrote', { skip }, async () => {
  assert.equal(bundleMissing, undefined, `TSZK_REQUIRE_EXTERNAL=1 and ${bundleMissing}`);
  const root = installCopy();
  assert.equal((await serveOnce(root)).state, 'miss');
  assert.equal((await serveOnce(root)).state, 'hit');
});

/** Above the size from which a server snapshots its tree in a worker thread (storage/database.ts). */
const WORKER_TREE_ZNODES = 100_000;

/** A dataDir whose snapshot holds a tree of `znodes` znodes under /bulk, as a server leaves it. */
async function bigDataDir(znodes: number): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(work, 'big-'));
  const tree = new DataTree();
  let zxid = 0n;
  const time = 1_800_000_000_000n;
  tree.createNode('/bulk', null, OPEN_ACL_UNSAFE, 0n, 1, ++zxid, time);
  for (let i = 0; i < znodes; i++) tree.createNode(`/bulk/n${i}`, Buffer.from('v'), OPEN_ACL_UNSAFE, 0n, i + 1, ++zxid, time);
  tree.lastProcessedZxid = zxid;
  fs.mkdirSync(path.join(dataDir, VERSION_DIR));
  await writeSnapshotFile(path.join(dataDir, VERSION_DIR, snapshotFileName(zxid)), snapshotSourceOf(new ZkDatabase(tree), zxid, Infinity), { fsync: false });
  return dataDir;
}

test("the bundled server snapshots a big tree in a worker thread that runs the snapshot module's own file, not the command", { skip }, async () => {
  assert.equal(bundleMissing, undefined, `TSZK_REQUIRE_EXTERNAL=1 and ${bundleMissing}`);
  const root = installCopy();
  const dataDir = await bigDataDir(WORKER_TREE_ZNODES);
  const { state, log } = await serveOnce(root, {
    dataDir,
    defines: ['snapCount=4'],
    whileServing: async ({ port, stderr }) => {
      const zk = await ZooKeeperClient.connect(`127.0.0.1:${port}`);
      try {
        for (let i = 0; i < 10; i++) await zk.create(`/n${i}`, 'x');
        await waitFor(
          'the snapshot after the creates written or failed',
          () => Promise.resolve(/"msg":"(snapshot written|snapshot failed)"/.test(stderr()) ? true : undefined),
          60_000,
          100,
        );
        assert.equal((await zk.getData(`/bulk/n${WORKER_TREE_ZNODES - 1}`)).data?.toString(), 'v', 'the server still serves');
      } finally {
        await zk.close();
      }
    },
  });
  assert.ok(state !== undefined, 'the bundle ran');
  // A worker that ran the whole command would have no snapshot to write (and would print the command's help).
  assert.ok(
    log.some((l) => l.includes('"msg":"snapshot written"')),
    log.join('\n'),
  );
  assert.deepEqual(
    log.filter((l) => (JSON.parse(l) as { level: number }).level >= 50),
    [],
  );
});

test('bin/tszk.cjs runs dist/src when the bundle is older than it (tsc alone rebuilt dist/src) and says so when nothing is built', { skip }, async () => {
  assert.equal(bundleMissing, undefined, `TSZK_REQUIRE_EXTERNAL=1 and ${bundleMissing}`);
  const root = installCopy();
  const old = new Date(fs.statSync(path.join(repoRoot, 'dist/src/cli/main.js')).mtimeMs - 60_000);
  fs.utimesSync(path.join(root, 'dist/bundle/tszk.cjs'), old, old);
  assert.equal((await serveOnce(root)).state, undefined, 'no compileCache field: dist/src ran');

  const bare = fs.mkdtempSync(path.join(work, 'unbuilt-'));
  fs.mkdirSync(path.join(bare, 'bin'));
  fs.copyFileSync(path.join(repoRoot, 'bin/tszk.cjs'), path.join(bare, 'bin/tszk.cjs'));
  const r = spawnSync(process.execPath, [path.join(bare, 'bin/tszk.cjs'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /tszk is not built yet: run `npm run build`/);
});
