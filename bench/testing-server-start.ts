/**
 * How long tszk/testing's TestingServer.start() takes (a real standalone server in this process,
 * fresh temp dataDir, fsync on), and restart() on the data it wrote: median and max over N runs.
 *
 *   npm run build && node dist/bench/testing-server-start.js [runs=20]
 */
import { ZooKeeperClient } from '../src/client/index.js';
import { TestingServer } from '../src/testing/index.js';

const runs = Number(process.argv[2] ?? 20);
const starts_ms: number[] = [];
const restarts_ms: number[] = [];
for (let i = 0; i < runs; i++) {
  let t0 = performance.now();
  const server = await TestingServer.start();
  starts_ms.push(performance.now() - t0);
  const zk = await ZooKeeperClient.connect(server.connectString);
  for (let j = 0; j < 100; j++) await zk.create(`/n${j}`, 'x');
  await zk.close();
  t0 = performance.now();
  await server.restart();
  restarts_ms.push(performance.now() - t0);
  await server.close();
}
const summary = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(1)} ms, min ${s[0]!.toFixed(1)} ms, max ${s.at(-1)!.toFixed(1)} ms`;
};
console.log(`TestingServer.start() over ${runs} runs: ${summary(starts_ms)} (the first includes loading the server's modules)`);
console.log(`TestingServer.restart() after 100 writes, over ${runs} runs: ${summary(restarts_ms)}`);
