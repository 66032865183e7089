/**
 * Runs a scenario script in another process (kazoo, Java) against a target through a TCP proxy:
 * when the script prints "DROP" the harness cuts the proxied connections and answers with a line
 * on stdin; the script's "RESULT <json>" line is what it observed.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { TcpProxy } from '../support/tcp-proxy.js';

/** ZooKeeper's Java client and its dependencies, as installed by the Debian zookeeper package. */
export const JARS = ['zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-nop.jar'].map((j) => path.join('/usr/share/java', j));

/** Why the Java client scenario cannot run here (no JDK or jars), or undefined. */
export function javaMissing(): string | undefined {
  for (const tool of ['java', 'javac']) {
    const r = spawnSync(tool, ['-version'], { encoding: 'utf8' });
    if (r.error) return `${tool} not installed (apt-get install default-jdk-headless)`;
  }
  const missing = JARS.find((j) => !fs.existsSync(j));
  if (missing) return `${missing} missing (apt-get install zookeeper)`;
  return undefined;
}

export interface ExternalRun {
  result: Record<string, unknown>;
  stderr: string;
}

export function runExternal(cmd: string, args: string[], proxy: TcpProxy, timeout_ms: number): Promise<ExternalRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let result: Record<string, unknown> | undefined;
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} scenario timed out after ${timeout_ms} ms; stderr:\n${stderr.slice(-4000)}`));
    }, timeout_ms);
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    readline.createInterface({ input: p.stdout }).on('line', (line) => {
      if (line === 'DROP') {
        proxy.dropAll();
        p.stdin.write('dropped\n');
      } else if (line.startsWith('RESULT ')) {
        result = JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
      }
    });
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      if (result === undefined) reject(new Error(`${cmd} exited ${code} without a RESULT line; stderr:\n${stderr.slice(-4000)}`));
      else resolve({ result, stderr });
    });
  });
}
