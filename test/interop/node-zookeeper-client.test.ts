/**
 * Interop: node-zookeeper-client (npm) runs the shared scenario (scenario.ts, node-scenario.ts)
 * against the target server (tszk by default; TSZK_TEST_TARGET=zookeeper for the real ZooKeeper
 * 3.8), connected through a TCP proxy so the harness can cut the connection and watch the
 * session come back.
 */
import { test } from 'node:test';
import { startTarget, targetKind, targetMissing, skipUnless } from '../support/target.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { runNodeScenario } from './node-scenario.js';

const kind = targetKind();

test(`node-zookeeper-client scenario against ${kind}`, { skip: skipUnless(targetMissing(kind)), timeout: 120_000 }, async () => {
  const server = await startTarget(kind);
  const proxy = await startTcpProxy(server.port);
  try {
    await runNodeScenario(proxy, server.connectString, `/interop-node-${process.pid}`);
  } finally {
    await proxy.close();
    await server.stop();
  }
});
