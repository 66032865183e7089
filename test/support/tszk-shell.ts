/** Runs `tszk shell` in this process (runShell) with a script or commands, output collected like runZkCli's. */
import { PassThrough, Readable } from 'node:stream';
import { runShell } from '../../src/cli/shell.js';
import type { CliRun } from './zkcli.js';

export async function runOurs(server: string, opts: { stdin?: string; commands?: string[]; args?: string[] }): Promise<CliRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const code = await runShell({
    server,
    ...(opts.args ? { args: opts.args } : opts.commands ? { commands: opts.commands } : { input: Readable.from([opts.stdin ?? '']) }),
    output: out,
    errorOutput: err,
  });
  return { stdout: Buffer.concat(o).toString('utf8'), stderr: Buffer.concat(e).toString('utf8'), code };
}
