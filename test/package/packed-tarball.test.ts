/**
 * `npm install tszk` as a Node developer gets it: `npm pack` (prepack builds what it ships), the
 * tarball installed into an empty project with TypeScript, a strict NodeNext program compiled
 * against the package's own .d.ts and run (tszk, tszk/testing, tszk/server), and the installed
 * `tszk` command (--help, a server, one shell command). Needs the npm registry for typescript and
 * @types/node: without it the test skips with the reason, or fails under TSZK_REQUIRE_EXTERNAL=1.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fourLetterWord, freePort } from '../../src/testing/ports.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), import.meta.url.endsWith('.ts') ? '../..' : '../../..');

/**
 * The environment without what an enclosing `npm test` / `npm exec` says about this repository
 * (its package, lifecycle and local prefix would steer the inner npm); npm_config_* settings such
 * as the registry, proxy and cache carry over.
 */
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_(package_|lifecycle_|command$|config_local_prefix$|config_call$)/i.test(k)),
);

function run(cmd: string, args: string[], cwd: string, timeout_ms = 180_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv, encoding: 'utf8', timeout: timeout_ms });
  if (r.error !== undefined) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r.stdout;
}

const registryMissing = ((): string | undefined => {
  const r = spawnSync('npm', ['view', 'typescript@5.9', 'version'], { env: cleanEnv, encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0 && r.stdout.trim() !== '') return undefined;
  const why = (r.error?.message ?? r.stderr).split('\n').find((l) => l.trim() !== '' && !l.includes('complete log'));
  return `the npm registry does not answer (npm view typescript@5.9: ${why?.trim() ?? `exit ${r.status}`})`;
})();
if (registryMissing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1') console.log(`skipping the packed-tarball test: ${registryMissing}`);
const skip = registryMissing !== undefined && process.env['TSZK_REQUIRE_EXTERNAL'] !== '1' ? registryMissing : undefined;
const requireRegistry = (): void => {
  if (registryMissing !== undefined) assert.fail(`TSZK_REQUIRE_EXTERNAL=1 and ${registryMissing}`);
};

let work: string;
let tarball: string;
let app: string;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-pack-'));
  app = path.join(work, 'app');
});
after(() => {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

test('npm pack: the tarball holds the built package and the bundled command, and no tests, bench, fixtures, source maps or compile cache', { skip }, () => {
  requireRegistry();
  ok(run('npm', ['pack', '--pack-destination', work], repoRoot), 'npm pack');
  const tgz = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
  assert.equal(tgz.length, 1, `one tarball in ${work}: ${tgz.join(', ')}`);
  tarball = path.join(work, tgz[0]!);
  const files = ok(run('tar', ['-tzf', tarball], work), 'tar -t')
    .trim()
    .split('\n');
  console.log(`${path.basename(tarball)}: ${files.length} files, ${fs.statSync(tarball).size} bytes`);
  const unwanted = files.filter(
    (f) =>
      /^package\/(dist\/)?(test|bench)\//.test(f) ||
      /fixtures/.test(f) ||
      f.endsWith('.map') ||
      f.endsWith('.cache') ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')),
  );
  assert.deepEqual(unwanted, []);
  for (const f of [
    'package/package.json',
    'package/README.md',
    'package/bin/tszk.cjs',
    'package/dist/bundle/tszk.cjs',
    'package/dist/bundle/launch.cjs',
    'package/dist/src/cli/main.js',
    'package/dist/src/client/index.d.ts',
    'package/dist/src/testing/index.d.ts',
    'package/dist/src/server/embed.d.ts',
  ]) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
});

/** The strict TypeScript program a user would write against the installed package. */
const program = `
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZooKeeperClient, CreateMode, KeeperError, Err, type Stat } from 'tszk';
import { TestingServer, TestingCluster, expireSession, dropConnection } from 'tszk/testing';
import { startServer, ConfigError, type EmbeddedServer } from 'tszk/server';

// tszk/testing: a real server for this process, removed at the end of the scope.
{
  await using server = await TestingServer.start();
  const zk = await ZooKeeperClient.connect(server.connectString);
  await zk.create('/hello', 'world', { mode: CreateMode.PERSISTENT });
  const { data, stat }: { data: Buffer | null; stat: Stat } = await zk.getData('/hello');
  console.log(\`testing: read \${data?.toString()} version \${stat.version}\`);
  await dropConnection(zk);
  await expireSession(zk);
  try {
    await zk.getData('/hello');
  } catch (e) {
    if (e instanceof KeeperError && e.code === Err.SessionExpired) console.log('testing: session expired');
  }
  await zk.close();
}
console.log(\`testing: cluster class \${typeof TestingCluster.start}\`);

// tszk/server: a standalone server embedded from zoo.cfg keys.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-embedded-'));
const embedded: EmbeddedServer = await startServer({ tickTime: 2000, dataDir, clientPort: 0, clientPortAddress: '127.0.0.1', 'admin.enableServer': false });
const zk = await ZooKeeperClient.connect(embedded.connectString);
await zk.create('/embedded', 'yes');
console.log(\`server: \${embedded.mode} read \${(await zk.getData('/embedded')).data?.toString()}\`);
await zk.close();
await embedded.close();
fs.rmSync(dataDir, { recursive: true, force: true });
try {
  await startServer({ tickTime: 2000 });
} catch (e) {
  if (e instanceof ConfigError) console.log(\`server: \${e.message}\`);
}
`;

/** tszk/recipes against a TestingServer, typed by the package's own declarations. */
const recipesProgram = `
import { ZooKeeperClient } from 'tszk';
import { TestingServer } from 'tszk/testing';
import { InterProcessMutex, LeaderLatch } from 'tszk/recipes';

const srv = await TestingServer.start();
const zk = await ZooKeeperClient.connect(srv.connectString);
const lock = new InterProcessMutex(zk, '/locks/a');
const got: boolean = await lock.acquire(5000);
const held: boolean = lock.isAcquiredInThisProcess();
await lock.release();
const latch = new LeaderLatch(zk, '/election', 'me');
latch.start();
const leads: boolean = await latch.await(5000);
console.log(\`recipes: lock \${got} \${held} leader \${leads && latch.hasLeadership()}\`);
await latch.close();
await zk.close();
await srv.close();
`;

test('installed into an empty project: strict TypeScript programs use tszk, tszk/testing, tszk/server and tszk/recipes with their types', { skip }, () => {
  requireRegistry();
  assert.ok(tarball !== undefined, 'the tarball was packed by the previous test');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'tszk-user', private: true, type: 'module' }, null, 2));
  ok(run('npm', ['install', '--no-audit', '--no-fund', tarball, 'typescript@5.9', '@types/node@20'], app), 'npm install');
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        types: ['node'],
        outDir: 'out',
      },
      include: ['*.ts'],
    }),
  );
  fs.writeFileSync(path.join(app, 'main.ts'), program);
  fs.writeFileSync(path.join(app, 'recipes.ts'), recipesProgram);
  ok(run(process.execPath, [path.join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'], app), 'tsc');
  const out = ok(run(process.execPath, ['out/main.js'], app, 60_000), 'node out/main.js');
  assert.match(out, /^testing: read world version 0$/m);
  assert.match(out, /^testing: session expired$/m);
  assert.match(out, /^testing: cluster class function$/m);
  assert.match(out, /^server: standalone read yes$/m);
  assert.match(out, /^server: dataDir: is required$/m);
  assert.match(ok(run(process.execPath, ['out/recipes.js'], app, 60_000), 'node out/recipes.js'), /^recipes: lock true true leader true$/m);
});

test('the installed tszk command: --help, a server, one shell command against it', { skip }, async () => {
  requireRegistry();
  assert.ok(fs.existsSync(path.join(app, 'node_modules/.bin/tszk')), 'npm linked the tszk bin');
  const help = ok(run('npx', ['--no', '--', 'tszk', '--help'], app), 'npx tszk --help');
  for (const cmd of ['server', 'ensemble', 'shell', 'logs', 'snapshot']) assert.match(help, new RegExp(`^\\s+${cmd}\\b`, 'm'));

  const port = await freePort();
  const server = spawn(
    'npx',
    ['--no', '--', 'tszk', 'server', '--port', String(port), '--data-dir', path.join(work, 'bin-data'), '-D', 'admin.enableServer=false'],
    {
      cwd: app,
      env: { ...cleanEnv, TSZK_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
      detached: true, // npx runs tszk as its child: stop the whole group
    },
  );
  try {
    const deadline = Date.now() + 20_000;
    while ((await fourLetterWord(port, 'ruok', 500).catch(() => '')) !== 'imok') {
      assert.ok(Date.now() < deadline && server.exitCode === null, 'the installed tszk server answers ruok');
      await new Promise((r) => setTimeout(r, 100));
    }
    ok(run('npx', ['--no', '--', 'tszk', 'shell', '-server', `127.0.0.1:${port}`, 'create', '/from-shell', 'hi'], app), 'tszk shell create');
    const get = ok(run('npx', ['--no', '--', 'tszk', 'shell', '-server', `127.0.0.1:${port}`, 'get', '/from-shell'], app), 'tszk shell get');
    assert.equal(get.trim().split('\n').at(-1), 'hi', get);
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      process.kill(-server.pid!, 'SIGTERM');
      await exited;
    }
  }
});
