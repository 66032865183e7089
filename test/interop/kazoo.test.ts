/**
 * Interop: kazoo (Debian python3-kazoo, run by /usr/bin/python3) runs the shared scenario
 * (scenario.ts) from test/interop/scripts/kazoo_scenario.py against the target server.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, skipUnless, startTarget, targetKind, targetMissing } from '../support/target.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { runExternal } from './run-external.js';
import { checkResults } from './scenario.js';

const PYTHON = '/usr/bin/python3';
const kind = targetKind();

function kazooMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import kazoo'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not runnable (${r.error.message})`;
  if (r.status !== 0) return 'kazoo not importable by /usr/bin/python3 (apt-get install python3-kazoo)';
  return undefined;
}

test(`kazoo scenario against ${kind}`, { skip: skipUnless(kazooMissing() ?? targetMissing(kind)), timeout: 120_000 }, async () => {
  const server = await startTarget(kind);
  const proxy = await startTcpProxy(server.port);
  try {
    const root = `/interop-kazoo-${process.pid}`;
    const script = path.join(repoRoot, 'test/interop/scripts/kazoo_scenario.py');
    const { result } = await runExternal(PYTHON, [script, proxy.connectString, server.connectString, root], proxy, 90_000);
    checkResults(result, root, { container: false, ttl: false, persistentWatches: false });
  } finally {
    await proxy.close();
    await server.stop();
  }
});
