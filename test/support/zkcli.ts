/**
 * Runs ZooKeeper's own zkCli (Debian package `zookeeper`) with a script on stdin or one command
 * as arguments, for byte-for-byte comparisons with `tszk shell`. Its SLF4J start-up notes are
 * removed from stderr (the logger is a no-op, so nothing else is logged there).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

export function zkCliMissing(): string | undefined {
  return fs.existsSync(ZKCLI) ? undefined : `zkCli not installed (${ZKCLI}; apt-get install zookeeper)`;
}

export interface CliRun {
  stdout: string;
  stderr: string;
  code: number;
}

export async function runZkCli(server: string, opts: { stdin?: string; args?: string[]; timeout_ms?: number }): Promise<CliRun> {
  const proc = spawn(ZKCLI, ['-server', server, ...(opts.args ?? [])], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TZ: 'UTC' },
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on('data', (c: Buffer) => out.push(c));
  proc.stderr.on('data', (c: Buffer) => err.push(c));
  proc.stdin.end(opts.stdin ?? '');
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeout_ms ?? 60_000);
  const code = await new Promise<number>((r) => proc.on('close', (c) => r(c ?? -1)));
  clearTimeout(timer);
  const stderr = Buffer.concat(err)
    .toString('utf8')
    .split('\n')
    .filter((l) => !l.startsWith('SLF4J:'))
    .join('\n');
  return { stdout: Buffer.concat(out).toString('utf8'), stderr, code };
}
