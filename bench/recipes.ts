/**
 * Lock throughput of tszk/recipes beside Apache Curator 5 on the same tszk server: one client
 * acquiring and releasing an uncontended InterProcessMutex in a loop (each turn is a protected
 * create, a getChildren and a delete), against Curator's InterProcessMutex in a JVM
 * (test/recipes/CuratorPeer.java) on the same lock path. Each side warms up first.
 *
 *   npm run bench:recipes [-- --seconds 3 --rounds 3]
 */
import { parseArgs } from 'node:util';
import { ZooKeeperClient } from '../src/client/index.js';
import { InterProcessMutex } from '../src/recipes/index.js';
import { CuratorPeer, curatorMissing } from '../test/recipes/curator-peer.js';
import { startTszk } from '../test/support/tszk.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, rounds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const show = (xs: number[]): string => `median ${median(xs).toFixed(0)}/s (rounds: ${xs.map((x) => x.toFixed(0)).join(', ')})`;

// The machine may be shared: the two clients take turns, round by round, and the median is reported.
const server = await startTszk();
try {
  const client = await ZooKeeperClient.connect(server.connectString);
  const missing = curatorMissing();
  const peer = missing === undefined ? await CuratorPeer.start(server.connectString) : undefined;
  await tszkTurns(client, '/bench/warm', 1000);
  await peer?.send('bench-mutex', '/bench/warm', 3000);
  const tszk: number[] = [];
  const curator: number[] = [];
  for (let r = 0; r < rounds; r++) {
    tszk.push((await tszkTurns(client, '/bench/lock', seconds * 1000)) / seconds);
    if (peer) curator.push(Number(await peer.send('bench-mutex', '/bench/lock', seconds * 1000)) / seconds);
  }
  await client.close();
  await peer?.close();
  console.log(`InterProcessMutex acquire+release, 1 client, uncontended, ${rounds} x ${seconds} s each, tszk server with fsync:`);
  console.log(`  tszk/recipes: ${show(tszk)}`);
  if (peer) {
    console.log(`  Curator 5:    ${show(curator)}`);
    console.log(`  tszk/recipes / Curator: ${(median(tszk) / median(curator)).toFixed(2)}x`);
  } else {
    console.log(`  Curator 5: SKIPPED (${missing})`);
  }
} finally {
  await server.stop();
}
