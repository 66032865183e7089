/**
 * The systems under test, started as real processes on this machine: Apache ZooKeeper 3.8 and
 * tszk. Each start returns what the harness needs to measure it: client addresses, the server
 * process ids (for /proc sampling) and 4lw ports (for mntr).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROMETHEUS_PROVIDER } from '../src/server/config.js';
import { freePort } from '../test/support/ports.js';
import { startTszk } from '../test/support/tszk.js';
import { tlsServerCfg, type TestCerts } from '../test/security/certs.js';
import type { ClientTlsFiles } from './messages.js';
import { startEnsemble } from './ensemble.js';
import { startZooKeeper, zookeeperMissing } from '../test/support/zookeeper.js';

/** tszk-base: another build of tszk (TSZK_BASE_CLI), to bench a change before and after in one run. */
export type SystemName = 'tszk' | 'tszk-base' | 'zookeeper';

/** The environment variable naming the other build's dist/src/cli/main.js for `tszk-base`. */
export const BASE_CLI_ENV = 'TSZK_BASE_CLI';

export interface ServerUnderTest {
  system: SystemName;
  /** host:port of each member clients may use (its secureClientPort with TLS). */
  members: string[];
  /** With TLS: each member's plaintext clientPort, for mntr. */
  plainMembers?: string[];
  /** With TLS: what clients connect with. */
  clientTls?: ClientTlsFiles;
  /** Server processes whose CPU and memory are measured (summed over members). */
  pids: number[];
  /** Each member's dataDir (and dataLogDir, if separate): what it wrote shows whether writes reach the disk. */
  dataDirs: string[];
  stop(): Promise<void>;
}

export interface ServerSettings {
  /** forceSync: fsync the txn log before acknowledging a write (both systems default to yes). */
  forceSync: boolean;
  /** ZooKeeper's JVM heap: zkServer.sh's default (ZK_SERVER_HEAP=1000). */
  zkHeap_mb: number;
  /** Where server logs go (optional). */
  logFile?: string;
  /** Members: 1 = standalone; more = a local ensemble on this machine. */
  ensembleSize?: number;
  /**
   * tszk standalone only: serve /metrics (Prometheus provider) and the AdminServer, and scrape
   * /metrics every second and the console's two reads every 2 s while it runs (their cost).
   */
  scrape?: boolean;
  /** Serve clients on a secureClientPort with these certificates (standalone only). */
  tls?: TestCerts;
  /** Ensembles: members talk to each other over TLS (sslQuorum) with these certificates. */
  quorumTls?: TestCerts;
}

/** zoo.cfg keys that open /metrics and the AdminServer (with its console) on these loopback ports. */
export function scrapeTargetsCfg(metricsPort: number, adminPort: number): Record<string, string | number> {
  return {
    'metricsProvider.className': PROMETHEUS_PROVIDER,
    'metricsProvider.httpHost': '127.0.0.1',
    'metricsProvider.httpPort': metricsPort,
    'admin.enableServer': 'true',
    'admin.serverAddress': '127.0.0.1',
    'admin.serverPort': adminPort,
  };
}

const SCRAPE_METRICS_MS = 1000;
const SCRAPE_CONSOLE_MS = 2000;

/** Polls /metrics and the console's reads as Prometheus and an open console page would; returns the stopper. */
function startScraper(metricsPort: number, adminPort: number): () => void {
  const get = (url: string): void => {
    fetch(url).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
  };
  const m = setInterval(() => get(`http://127.0.0.1:${metricsPort}/metrics`), SCRAPE_METRICS_MS);
  const c = setInterval(() => {
    get(`http://127.0.0.1:${adminPort}/console/api/ensemble`);
    get(`http://127.0.0.1:${adminPort}/console/api/node?path=/`);
  }, SCRAPE_CONSOLE_MS);
  return () => {
    clearInterval(m);
    clearInterval(c);
  };
}

export const ZK_HEAP_DEFAULT_MB = 1000;

/** Lines of server output quoted when a server fails to start. */
const LOG_TAIL_LINES = 20;

export async function startServer(system: SystemName, s: ServerSettings): Promise<ServerUnderTest> {
  if ((s.ensembleSize ?? 1) > 1) return startEnsemble(system, s.ensembleSize!, s);
  const securePort = s.tls === undefined ? undefined : await freePort();
  const cfg = { forceSync: s.forceSync ? 'yes' : 'no', ...(s.tls === undefined ? {} : tlsServerCfg(s.tls, securePort!)) };
  // With TLS the clients use the secure port; mntr keeps the plaintext one.
  const withTls = (port: number): Pick<ServerUnderTest, 'members' | 'plainMembers' | 'clientTls'> =>
    s.tls === undefined
      ? { members: [`127.0.0.1:${port}`] }
      : { members: [`127.0.0.1:${securePort!}`], plainMembers: [`127.0.0.1:${port}`], clientTls: { ca: s.tls.ca, cert: s.tls.bob.cert, key: s.tls.bob.key } };
  // Server output goes to a file so that a failed start can say why.
  const logDir = s.logFile ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-bench-log-'));
  const logFile = s.logFile ?? path.join(logDir!, `${system}.log`);
  const dropLog = (): void => {
    if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
  };
  try {
    if (system === 'zookeeper') {
      const zk = await startZooKeeper({ cfg, jvmArgs: [`-Xmx${s.zkHeap_mb}m`], logFile });
      return { system, ...withTls(zk.port), pids: [pidOf(zk.proc.pid)], dataDirs: [zk.dataDir], stop: () => zk.stop().finally(dropLog) };
    }
    const cli = system === 'tszk-base' ? { cli: process.env[BASE_CLI_ENV] } : {};
    if (s.scrape === true) {
      const [metricsPort, adminPort] = [await freePort(), await freePort()];
      const t = await startTszk({ cfg: { ...cfg, ...scrapeTargetsCfg(metricsPort, adminPort) }, logFile, ...cli });
      const stopScraper = startScraper(metricsPort, adminPort);
      const stop = (): Promise<void> => {
        stopScraper();
        return t.stop().finally(dropLog);
      };
      return { system, ...withTls(t.port), pids: [pidOf(t.proc.pid)], dataDirs: [t.dataDir], stop };
    }
    const t = await startTszk({ cfg, logFile, ...cli });
    return { system, ...withTls(t.port), pids: [pidOf(t.proc.pid)], dataDirs: [t.dataDir], stop: () => t.stop().finally(dropLog) };
  } catch (e) {
    // The log is kept: the message names it.
    const tail = logTail(logFile);
    throw new Error(`${e instanceof Error ? e.message : String(e)}${tail ? `\n  server output (last lines):\n${tail}` : ''}`);
  }
}

function logTail(file: string): string {
  try {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines
      .slice(-LOG_TAIL_LINES)
      .map((l) => `    ${l}`)
      .join('\n');
  } catch {
    return '';
  }
}

/** Why a system cannot be benchmarked on this machine, or undefined. */
export function systemMissing(system: SystemName): string | undefined {
  if (system === 'zookeeper') return zookeeperMissing();
  if (system === 'tszk-base' && !fs.existsSync(process.env[BASE_CLI_ENV] ?? ''))
    return `${BASE_CLI_ENV} does not name a built tszk (its bin/tszk.cjs or dist/src/cli/main.js)`;
  return undefined;
}

function pidOf(pid: number | undefined): number {
  if (pid === undefined) throw new Error('server process has no pid');
  return pid;
}

/** Bytes of the files under the given directories (recursively), not counting zoo.cfg and myid. */
export function dataDirBytes(dirs: string[]): number {
  let total = 0;
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name !== 'zoo.cfg' && e.name !== 'myid') total += fs.statSync(p).size;
    }
  };
  for (const d of dirs) if (fs.existsSync(d)) walk(d);
  return total;
}
