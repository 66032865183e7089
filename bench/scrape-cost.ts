/**
 * What operations tooling costs a tszk server: the server process's CPU (/proc/<pid>/stat) per
 * /metrics scrape, per console refresh (its two reads) and per AdminServer monitor, each polled
 * 500 times in a row, and what that is as a share of one core at Prometheus's 1 s and the
 * console's 2 s period. `npm run bench:scrape`. (`npm run bench -- --systems tszk --scrape` runs
 * the throughput workloads with that polling going on, for the end-to-end view.)
 */
import { freePort } from '../test/support/ports.js';
import { startTszk } from '../test/support/tszk.js';
import { processCpu_us } from './procstat.js';
import { scrapeTargetsCfg } from './servers.js';

const POLLS = 500;

const [metricsPort, adminPort] = [await freePort(), await freePort()];
const server = await startTszk({ cfg: scrapeTargetsCfg(metricsPort, adminPort) });
const cpu_ms = (): number => processCpu_us(server.proc.pid!) / 1000;
async function untilAnswered(url: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch (e) {
      if (tries > 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
const polls: [string, string[], number][] = [
  ['/metrics', [`http://127.0.0.1:${metricsPort}/metrics`], 1000],
  ['console refresh', [`http://127.0.0.1:${adminPort}/console/api/ensemble`, `http://127.0.0.1:${adminPort}/console/api/node?path=/`], 2000],
  ['/commands/monitor', [`http://127.0.0.1:${adminPort}/commands/monitor`], 1000],
];
try {
  console.log('| poll | server CPU ms per poll | share of one core at its period |');
  console.log('|---|---:|---:|');
  for (const [name, urls, period_ms] of polls) {
    for (const u of urls) await untilAnswered(u); // the HTTP ports open just after the client port
    const before = cpu_ms();
    for (let i = 0; i < POLLS; i++) for (const u of urls) await (await fetch(u)).arrayBuffer();
    const per = (cpu_ms() - before) / POLLS;
    console.log(`| ${name} (every ${period_ms / 1000} s) | ${per.toFixed(2)} | ${((per / period_ms) * 100).toFixed(3)}% |`);
  }
} finally {
  await server.stop();
}
