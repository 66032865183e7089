/**
 * Interop: ZooKeeper's own Java client (/usr/share/java/zookeeper.jar) runs the shared scenario
 * (scenario.ts) from test/interop/scripts/JavaScenario.java, compiled with javac at test time,
 * against the target server with extendedTypesEnabled (so TTL nodes are covered as well as
 * containers).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot, skipUnless, startTarget, targetKind, targetMissing } from '../support/target.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { JARS, javaMissing, runExternal } from './run-external.js';
import { checkResults } from './scenario.js';

const kind = targetKind();

test(`Java client scenario against ${kind}`, { skip: skipUnless(javaMissing() ?? targetMissing(kind)), timeout: 180_000 }, async () => {
  const classes = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-java-'));
  const server = await startTarget(kind, { extendedTypes: true });
  const proxy = await startTcpProxy(server.port);
  try {
    const src = path.join(repoRoot, 'test/interop/scripts/JavaScenario.java');
    const cp = JARS.join(':');
    const javac = spawnSync('javac', ['-d', classes, '-cp', cp, src], { encoding: 'utf8' });
    if (javac.status !== 0) throw new Error(`javac failed:\n${javac.stderr}`);
    const root = `/interop-java-${process.pid}`;
    const { result } = await runExternal(
      'java',
      ['-cp', `${classes}:${cp}`, 'JavaScenario', proxy.connectString, server.connectString, root, 'ttl'],
      proxy,
      120_000,
    );
    checkResults(result, root, { container: true, ttl: true, persistentWatches: true });
  } finally {
    await proxy.close();
    await server.stop();
    fs.rmSync(classes, { recursive: true, force: true });
  }
});
