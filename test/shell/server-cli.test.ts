import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fourLetter, freePort } from '../support/ports.js';
import { tszkCommand } from '../support/tszk.js';
import { waitFor } from '../support/wait.js';

/**
 * `tszk server`'s flags: the plain spellings are read without commander (start-up), everything
 * else still goes through it; either way the server gets the same settings. Its log lines keep
 * pino's shape, which tools and tests read.
 */

const START_MS = 30_000;

interface Run {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const { cmd, args: pre } = tszkCommand();
  const proc = spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSZK_LOG_LEVEL: 'info', ...env } });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, stdout: () => out, stderr: () => err, exit };
}

async function stop(r: Run): Promise<void> {
  if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
  await r.exit;
}

async function serves(r: Run, port: number): Promise<void> {
  await waitFor(
    `ruok on ${port} (stderr: ${r.stderr().slice(-500)})`,
    async () => {
      if (r.proc.exitCode !== null) throw new Error(`tszk exited ${r.proc.exitCode}: ${r.stderr()}`);
      return (await fourLetter(port, 'ruok', 1000).catch(() => '')) === 'imok' ? true : undefined;
    },
    START_MS,
    100,
  );
}

const tmpDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-server-cli-'));

test('tszk server -p -d -D k=v k=v (plain flags, a variadic -D) serves on that port from that dataDir', async () => {
  const [port, dir] = [await freePort(), tmpDir()];
  const r = run(['server', '-p', String(port), '-d', dir, '-D', 'admin.enableServer=false', 'clientPortAddress=127.0.0.1']);
  try {
    await serves(r, port);
    assert.ok(fs.existsSync(path.join(dir, 'version-2')), 'the dataDir named by -d holds the data');
    // The log keeps pino's shape: level as a number, time, pid, name, the fields, msg.
    const started = await waitFor(
      'the started line',
      async () =>
        r
          .stderr()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((o) => o['msg'] === 'tszk standalone server started'),
      START_MS,
    );
    assert.equal(started['level'], 30);
    assert.equal(started['name'], 'tszk');
    assert.equal(started['pid'], r.proc.pid);
    assert.equal(started['clientPort'], port);
    assert.equal(typeof started['time'], 'number');
    assert.equal(typeof started['startup_ms'], 'number');
    assert.equal(typeof started['startup_cpu_ms'], 'number');
  } finally {
    await stop(r);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tszk server --port=N --data-dir=D --define=k=v (the = spellings) serves the same way', async () => {
  const [port, dir] = [await freePort(), tmpDir()];
  const r = run(['server', `--port=${port}`, `--data-dir=${dir}`, '--define=admin.enableServer=false', '--define', 'clientPortAddress=127.0.0.1']);
  try {
    await serves(r, port);
  } finally {
    await stop(r);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tszk server with a flag commander does not know: its error, exit 1, nothing started', async () => {
  const r = run(['server', '--bogus']);
  assert.equal(await r.exit, 1);
  assert.match(r.stderr(), /unknown option '--bogus'/);
});

test('tszk server --help: the usage from commander', async () => {
  const r = run(['server', '--help']);
  assert.equal(await r.exit, 0);
  assert.match(r.stdout(), /--config <zoo\.cfg>/);
  assert.match(r.stdout(), /--define <key=value\.\.\.>/);
});

test('tszk server -D without key=value: the configuration error, exit 2', async () => {
  const r = run(['server', '-D', 'nokey']);
  assert.equal(await r.exit, 2);
  assert.match(r.stderr(), /invalid configuration: .*-D expects key=value/);
});

test('log lines: bigints as exact digits, an Error under err as type/message/stack, printf arguments, the level threshold', async () => {
  const fromSource = import.meta.url.endsWith('.ts');
  const logModule = new URL(fromSource ? '../../src/log.ts' : '../../src/log.js', import.meta.url).href;
  const code = `import { log } from ${JSON.stringify(logModule)};
log.debug('hidden');
log.warn({ zxid: 2n ** 60n + 1n, err: new Error('boom') }, 'max is %d', 60);`;
  const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), '--input-type=module', '-e', code], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TSZK_LOG_LEVEL: 'info' },
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  assert.equal(await new Promise((r) => child.once('exit', r)), 0, err);
  const lines = err.trim().split('\n');
  assert.equal(lines.length, 1, `debug is below info: ${err}`);
  assert.match(lines[0]!, /"zxid":1152921504606846977,/);
  const o = JSON.parse(lines[0]!) as { level: number; msg: string; err: { type: string; message: string; stack: string } };
  assert.equal(o.level, 40);
  assert.equal(o.msg, 'max is 60');
  assert.equal(o.err.type, 'Error');
  assert.equal(o.err.message, 'boom');
  assert.match(o.err.stack, /^Error: boom\n/);
});
