/**
 * Stopping a process a test started: the one way every harness waits for a peer or server to exit.
 */
import type { ChildProcess } from 'node:child_process';

/** How long a process may take to exit after a signal other than SIGKILL before it gets SIGKILL. */
const STOP_GRACE_MS = 20_000;

/**
 * Sends `signal` and resolves once the process has exited. One still running STOP_GRACE_MS after
 * a gentler signal is killed, and stderr says so: Node 20 can hang in its own exit
 * (nodejs/node#54918), which would otherwise hold the test until its file's time limit.
 */
export async function killAndWait(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  const timer =
    signal === 'SIGKILL'
      ? undefined
      : setTimeout(() => {
          console.error(`pid ${proc.pid} (${proc.spawnargs.join(' ').slice(0, 160)}) still running ${STOP_GRACE_MS} ms after ${signal}: SIGKILL`);
          proc.kill('SIGKILL');
        }, STOP_GRACE_MS);
  await done;
  clearTimeout(timer);
}
