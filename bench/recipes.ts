/**
 * Lock throughput of tszk/recipes beside Apache Curator 5 on the same tszk server: one client
 * acquiring and releasing an uncontended InterProcessMutex in a loop (each turn is a protected
 * create, a getChildren and a delete), then the same with Curator's InterProcessMutex from a
 * JVM (test/recipes/CuratorPeer.java). A warm-up pass of each runs first and is discarded.
 *
 *   npm run bench:recipes [-- --seconds 5]
 */
import { parseArgs } from 'node:util';
import { ZooKeeperClient } from '../src/client/index.js';
import { InterProcessMutex } from '../src/recipes/index.js';
import { CuratorPeer, curatorMissing } from '../test/recipes/curator-peer.js';
import { startTszk } from '../test/support/tszk.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds);

async function tszkTurns(client: ZooKeeperClient, path: string, ms: number): Promise<number> {
  const m = new InterProcessMutex(client, path);
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    await m.acquire();
    await m.release();
    n++;
  }
  return n;
}

const server = await startTszk();
try {
  const client = await ZooKeeperClient.connect(server.connectString);
  await tszkTurns(client, '/bench/warm-tszk', 1000);
  const tszk = (await tszkTurns(client, '/bench/tszk', seconds * 1000)) / seconds;
  await client.close();
  console.log(`tszk/recipes InterProcessMutex: ${tszk.toFixed(0)} acquire+release/s (1 client, uncontended, ${seconds} s)`);
  const missing = curatorMissing();
  if (missing !== undefined) {
    console.log(`Curator: SKIPPED (${missing})`);
  } else {
    const peer = await CuratorPeer.start(server.connectString);
    await peer.send('bench-mutex', '/bench/warm-curator', 3000);
    const curator = Number(await peer.send('bench-mutex', '/bench/curator', seconds * 1000)) / seconds;
    await peer.close();
    console.log(`Curator 5 InterProcessMutex:    ${curator.toFixed(0)} acquire+release/s (1 client, uncontended, ${seconds} s)`);
    console.log(`tszk/recipes / Curator: ${(tszk / curator).toFixed(2)}x`);
  }
} finally {
  await server.stop();
}
