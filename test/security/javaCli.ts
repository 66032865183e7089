/**
 * ZooKeeper's CLI (ZooKeeperMain, what zkCli.sh runs) as a TLS client: the Netty socket and the
 * client properties given as -D (zookeeper.client.secure, zookeeper.ssl.*). zkCli.sh's own
 * classpath lacks netty-codec, which TLS needs, so it runs with the server's classpath.
 */
import { spawn } from 'node:child_process';
import { ZK_SERVER_CLASSPATH } from '../support/zookeeper.js';

export interface JavaCliRun {
  /** The command's answer: the first line that is not the CLI's connection chatter. */
  answer: string;
  /** Everything it printed (its log lines, with the TLS failures, go to stderr). */
  output: string;
}

export function javaCliOverTls(server: string, props: Record<string, string>, command: string[], timeout_ms = 5000): Promise<JavaCliRun> {
  const flags = Object.entries({
    'zookeeper.clientCnxnSocket': 'org.apache.zookeeper.ClientCnxnSocketNetty',
    'zookeeper.client.secure': 'true',
    ...props,
  }).map(([k, v]) => `-D${k}=${v}`);
  return new Promise((resolve) => {
    const p = spawn(
      'java',
      [...flags, '-cp', ZK_SERVER_CLASSPATH, 'org.apache.zookeeper.ZooKeeperMain', '-timeout', String(timeout_ms), '-server', server, ...command],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    p.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', () => {
      clearTimeout(t);
      // The CLI's watcher may print connection events around the answer.
      const answer = out.split('\n').find((l) => !/^(Connecting to|WATCHER::|WatchedEvent|\s*$)/.test(l)) ?? '';
      resolve({ answer, output: out + err });
    });
  });
}
