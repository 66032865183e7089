/**
 * Starts the real Apache ZooKeeper 3.8 (Debian package `zookeeper`) for interop, differential
 * and benchmark runs. `zookeeperMissing()` tells why it cannot run here, so suites can skip
 * with a printed reason on machines without the package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fourLetter, freePort } from './ports.js';

export const ZK_JAR_DIR = '/usr/share/java';
/**
 * What ZooKeeper's AdminServer (JettyAdminServer) needs on the classpath: Jetty, the servlet API
 * and Jackson (Debian: libjetty9-java, libservlet-api-java, libjackson2-databind-java). Harmless
 * where admin.enableServer=false.
 */
const ADMIN_SERVER_JARS = [
  'jetty9-server.jar',
  'jetty9-servlet.jar',
  'jetty9-util.jar',
  'jetty9-http.jar',
  'jetty9-io.jar',
  'jetty9-security.jar',
  'servlet-api.jar',
  'jackson-databind.jar',
  'jackson-core.jar',
  'jackson-annotations.jar',
];
/** The real ZooKeeper server's classpath (with what its TLS and its AdminServer need). */
export const ZK_SERVER_CLASSPATH = [
  'zookeeper.jar',
  'zookeeper-jute.jar',
  'slf4j-api.jar',
  'slf4j-simple.jar',
  'netty-all.jar',
  'netty-codec.jar',
  'netty-resolver.jar',
  'commons-cli.jar',
  'commons-io.jar',
  // zookeeper.snapshot.compression.method=snappy (libzookeeper-java depends on libsnappy-java).
  'snappy-java.jar',
  ...ADMIN_SERVER_JARS,
]
  .map((j) => path.join(ZK_JAR_DIR, j))
  .join(':');

export function zookeeperMissing(): string | undefined {
  if (!fs.existsSync(path.join(ZK_JAR_DIR, 'zookeeper.jar'))) return 'Apache ZooKeeper not installed (apt-get install zookeeper)';
  return undefined;
}

/** Why ZooKeeper's AdminServer cannot run here (its jars missing), or undefined. */
export function zookeeperAdminServerMissing(): string | undefined {
  const zk = zookeeperMissing();
  if (zk !== undefined) return zk;
  const missing = ADMIN_SERVER_JARS.filter((j) => !fs.existsSync(path.join(ZK_JAR_DIR, j)));
  if (missing.length > 0)
    return `ZooKeeper's AdminServer needs ${missing.join(', ')} (apt-get install libjetty9-java libservlet-api-java libjackson2-databind-java)`;
  return undefined;
}

export interface RealZooKeeper {
  port: number;
  dataDir: string;
  proc: ChildProcess;
  connectString: string;
  stop(): Promise<void>;
}

export interface RealZooKeeperOptions {
  /** Extra zoo.cfg lines (key=value). */
  cfg?: Record<string, string | number>;
  /** Existing data dir to use (kept on stop); otherwise a temp dir that is removed. */
  dataDir?: string;
  /** Extra JVM -D properties. */
  sysProps?: Record<string, string>;
  jvmArgs?: string[];
  logFile?: string;
  /** How long the start may take (default 30 s; a big dataDir takes longer to recover). */
  startTimeout_ms?: number;
}

export async function startZooKeeper(opts: RealZooKeeperOptions = {}): Promise<RealZooKeeper> {
  const missing = zookeeperMissing();
  if (missing) throw new Error(missing);
  const port = await freePort();
  const own = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'realzk-'));
  const cfgLines: Record<string, string | number> = {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: 0,
    'admin.enableServer': 'false',
    '4lw.commands.whitelist': '*',
    ...opts.cfg,
  };
  const cfgPath = path.join(dataDir, 'zoo.cfg');
  fs.writeFileSync(
    cfgPath,
    Object.entries(cfgLines)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
  const props = Object.entries(opts.sysProps ?? {}).map(([k, v]) => `-D${k}=${v}`);
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const proc = spawn(
    'java',
    ['-Xmx512m', ...(opts.jvmArgs ?? []), ...props, '-cp', ZK_SERVER_CLASSPATH, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgPath],
    {
      stdio: ['ignore', out, out],
    },
  );
  let exited = false;
  proc.on('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await done;
    }
    if (own) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  // ZooKeeper may hold a 4lw connection open without answering while it starts, and answers
  // ruok before it serves sessions: poll srvr, with a short timeout, until it reports its Mode.
  const startTimeout_ms = opts.startTimeout_ms ?? 30_000;
  const deadline = Date.now() + startTimeout_ms;
  for (;;) {
    if (exited) throw new Error(`ZooKeeper exited during start (config ${cfgPath})`);
    try {
      if (/^Mode: /m.test(await fourLetter(port, 'srvr', 500))) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ZooKeeper did not start within ${startTimeout_ms / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, dataDir, proc, connectString: `127.0.0.1:${port}`, stop };
}
