/**
 * Starts a real tszk server process (`tszk server --config zoo.cfg`) on a free port, for tests
 * that talk to it over sockets and kill it with signals. Runs the command as installed
 * (bin/tszk.cjs: the bundle, or the compiled CLI in dist/src) when the tests run from dist/, or the
 * TypeScript sources through tsx when they run from test/ directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAndWait } from './stop-process.js';
import { fourLetter, freePort } from './ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const repoRoot = fromSource ? path.resolve(here, '../..') : path.resolve(here, '../../..');

export interface Tszk {
  port: number;
  dataDir: string;
  proc: ChildProcess;
  connectString: string;
  /** SIGKILL (default) or SIGTERM, then wait for exit; removes the data dir if the harness made it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface TszkOptions {
  cfg?: Record<string, string | number>;
  dataDir?: string;
  /** Keep the data dir on stop even if the harness created it. */
  keepDataDir?: boolean;
  port?: number;
  logFile?: string;
  env?: Record<string, string>;
  /** Another build's dist/src/cli/main.js to run instead of this one (default: TSZK_CLI, if set). */
  cli?: string;
  /** How long the start may take (default 20 s; a big dataDir takes longer to recover). */
  startTimeout_ms?: number;
}

export function tszkCommand(other = process.env['TSZK_CLI']): { cmd: string; args: string[] } {
  // Another build of tszk (e.g. a checkout of an older commit, to bench before against after).
  if (other !== undefined && other !== '') return { cmd: process.execPath, args: [path.resolve(other)] };
  if (fromSource) return { cmd: process.execPath, args: ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts')] };
  // The command as installed: the bundle when `npm run build` made one, else dist/src (bin/tszk.cjs).
  return { cmd: process.execPath, args: [path.join(repoRoot, 'bin/tszk.cjs')] };
}

export async function startTszk(opts: TszkOptions = {}): Promise<Tszk> {
  const port = opts.port ?? (await freePort());
  const own = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-'));
  fs.mkdirSync(dataDir, { recursive: true });
  const cfg: Record<string, string | number> = {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: 0,
    '4lw.commands.whitelist': '*',
    // No AdminServer unless a test asks for one (on a port it picked): 8080 is nobody's in tests.
    'admin.enableServer': 'false',
    ...opts.cfg,
  };
  const cfgPath = path.join(dataDir, 'zoo.cfg');
  fs.writeFileSync(
    cfgPath,
    Object.entries(cfg)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
  const { cmd, args } = tszkCommand(opts.cli);
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const proc = spawn(cmd, [...args, 'server', '--config', cfgPath], {
    cwd: repoRoot,
    stdio: ['ignore', out, out],
    env: { ...process.env, TSZK_LOG_LEVEL: process.env['TSZK_LOG_LEVEL'] ?? 'warn', ...opts.env },
  });
  let exited = false;
  proc.on('exit', () => (exited = true));
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (!exited) await killAndWait(proc, signal);
    if (own && !opts.keepDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const startTimeout_ms = opts.startTimeout_ms ?? 20_000;
  const deadline = Date.now() + startTimeout_ms;
  for (;;) {
    if (exited) throw new Error(`tszk exited during start (config ${cfgPath}${opts.logFile ? `, log ${opts.logFile}` : ''})`);
    try {
      if ((await fourLetter(port, 'ruok', 500)) === 'imok') break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`tszk did not start within ${startTimeout_ms / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, dataDir, proc, connectString: `127.0.0.1:${port}`, stop };
}
