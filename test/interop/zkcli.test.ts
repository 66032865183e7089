/**
 * Interop: ZooKeeper's own shell, zkCli.sh, runs test/interop/scripts/zkcli-scenario.txt (node
 * types incl. container and TTL, errors, watches, digest auth and ACLs, getEphemerals, whoami,
 * deleteall) against the target and against Apache ZooKeeper 3.8; the two transcripts must be
 * the same once ports, times, zxids and session ids are normalised.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, skipUnless, startTarget, targetKind, targetMissing } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';

const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const RUN_TIMEOUT_MS = 60_000;
const kind = targetKind();

function zkCliMissing(): string | undefined {
  if (!fs.existsSync(ZKCLI)) return `${ZKCLI} missing (apt-get install zookeeper)`;
  return zookeeperMissing();
}

function runZkCli(connectString: string, script: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(ZKCLI, ['-server', connectString], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`zkCli timed out; stdout so far:\n${stdout}`));
    }, RUN_TIMEOUT_MS);
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
    p.stdin.end(script);
  });
}

/** Replaces what legitimately differs between two servers: ports, times, zxids, session ids. */
function normalise(out: string): string[] {
  const zxids = new Map<string, string>();
  const sessions = new Map<string, string>();
  return out
    .split('\n')
    .filter((l) => !l.startsWith('SLF4J'))
    .map((l) => {
      if (/^Connecting to /.test(l)) return 'Connecting to <server>';
      const t = /^(ctime|mtime) = /.exec(l);
      if (t) return `${t[1]} = <time>`;
      const z = /^(cZxid|mZxid|pZxid) = (0x[0-9a-f]+)$/.exec(l);
      if (z) {
        if (!zxids.has(z[2]!)) zxids.set(z[2]!, `z${zxids.size + 1}`);
        return `${z[1]} = ${zxids.get(z[2]!)}`;
      }
      const e = /^ephemeralOwner = (0x[0-9a-f]+)$/.exec(l);
      if (e && e[1] !== '0x0') {
        if (!sessions.has(e[1]!)) sessions.set(e[1]!, `S${sessions.size + 1}`);
        return `ephemeralOwner = ${sessions.get(e[1]!)}`;
      }
      // getEphemerals prints the server's set in its own (hash) order: compare the set.
      const list = /^\[(.*)\]$/.exec(l);
      if (list) return `[${list[1]!.split(', ').sort().join(', ')}]`;
      return l;
    });
}

test(`zkCli scenario: ${kind} prints what ZooKeeper 3.8 prints`, { skip: skipUnless(zkCliMissing() ?? targetMissing(kind)), timeout: 180_000 }, async () => {
  const script = fs.readFileSync(path.join(repoRoot, 'test/interop/scripts/zkcli-scenario.txt'), 'utf8');
  const opts = { extendedTypes: true };
  const [subject, reference] = await Promise.all([startTarget(kind, opts), startTarget('zookeeper', opts)]);
  try {
    const [a, b] = await Promise.all([runZkCli(subject.connectString, script), runZkCli(reference.connectString, script)]);
    // The reference run really executed the scenario (guards against a silently broken zkCli).
    assert.match(b.stderr, /Created \/cli\/ttl/);
    assert.match(b.stdout, /type:NodeDataChanged path:\/cli/);
    assert.deepEqual(normalise(a.stderr), normalise(b.stderr), 'zkCli stderr differs');
    assert.deepEqual(normalise(a.stdout), normalise(b.stdout), 'zkCli stdout differs');
  } finally {
    await Promise.all([subject.stop(), reference.stop()]);
  }
});
