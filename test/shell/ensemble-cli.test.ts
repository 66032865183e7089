/**
 * `tszk ensemble --nodes 3 --reconfig`, the command itself: it starts three member processes,
 * prints their roles as they settle, takes a reconfig from the super user it announces, prints
 * the new membership each member has in force, and Ctrl-C (SIGINT) stops every member.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ZooKeeperClient } from '../../src/client/index.js';
import { freePort } from '../support/ports.js';
import { tszkCommand } from '../support/tszk.js';

const NODES = 3;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port whose client (P+i), quorum (P+707+i) and election (P+1707+i) ports are all free. */
async function basePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const p = await freePort();
    if (p + 1707 + NODES > 65535) continue;
    const ports = [0, 707, 1707].flatMap((o) => Array.from({ length: NODES }, (_, i) => p + o + i));
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) return p;
  }
  throw new Error('no free port layout for the ensemble');
}

test('tszk ensemble --reconfig: roles, a reconfig by the super user, the new membership printed, Ctrl-C stops all', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-ensemble-cli-'));
  const base = await basePort();
  const admin = await freePort();
  const { cmd, args } = tszkCommand();
  const proc = spawn(
    cmd,
    [
      ...args,
      'ensemble',
      '--nodes',
      String(NODES),
      '--reconfig',
      '--base-port',
      String(base),
      '--admin-base-port',
      String(admin),
      '--dir',
      dir,
      '--tick-time',
      '200',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  proc.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const waitFor = async (what: string, re: RegExp): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (!re.test(out)) {
      if (Date.now() > deadline || proc.exitCode !== null) assert.fail(`no ${what} in the output:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    await waitFor('leader', /member \d \(127\.0\.0\.1:\d+\): leader epoch/);
    for (let id = 1; id <= NODES; id++) await waitFor(`member ${id} serving`, new RegExp(`member ${id} \\(127\\.0\\.0\\.1:\\d+\\): (leader|follower) epoch`));
    await waitFor('the announced super user', /addauth digest super:tszk/);
    await waitFor('the first membership', /member 1 config: (static|version [0-9a-f]+): participants 1,2,3; observers -/);

    const zk = await ZooKeeperClient.connect(`127.0.0.1:${base}`, { sessionTimeout_ms: 10_000 });
    try {
      await zk.addAuth('digest', 'super:tszk');
      await zk.reconfig({ leaving: ['3'] });
    } finally {
      await zk.close();
    }
    await waitFor('the new membership on member 1', /member 1 config: version [0-9a-f]+: participants 1,2; observers -/);
    await waitFor('the new membership on member 2', /member 2 config: version [0-9a-f]+: participants 1,2; observers -/);

    proc.kill('SIGINT');
    assert.equal(await exited, 0, out);
    assert.match(out, /all members stopped/);
    // Every member process is gone: their client ports no longer answer.
    for (let id = 0; id < NODES; id++) assert.ok(await bindable(base + id), `member ${id + 1}'s client port still bound`);
  } finally {
    if (proc.exitCode === null) {
      proc.kill('SIGINT');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
