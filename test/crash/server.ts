/**
 * A standalone server that can be SIGKILLed and restarted on the same data dir: tszk (the system
 * under test, `tszk server` through startTszk) or, with TSZK_TEST_TARGET=zookeeper, the real
 * Apache ZooKeeper 3.8 (how the crash harness itself is validated).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { targetKind, waitServing, type TargetKind } from '../support/target.js';
import { startTszk } from '../support/tszk.js';
import { startZooKeeper } from '../support/zookeeper.js';

export interface CrashableServer {
  kind: TargetKind;
  dataDir: string;
  connectString(): string;
  /** SIGKILL the running process and wait until it is gone. */
  kill(): Promise<void>;
  /** Start again on the same data dir (new port) and wait until it serves sessions. */
  restart(): Promise<void>;
  /** Kill and remove the data dir. */
  dispose(): Promise<void>;
}

export async function startCrashable(opts: { snapCount?: number; logFile?: string } = {}): Promise<CrashableServer> {
  const kind = targetKind();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `crash-${kind}-`));
  // Small snapCount: snapshots and log rolls happen during the run, so crashes hit them too.
  const cfg = { snapCount: opts.snapCount ?? 500, preAllocSize: 1024 };
  let port = 0;
  let kill: () => Promise<void> = async () => {};
  const start = async (): Promise<void> => {
    if (kind === 'tszk') {
      const t = await startTszk({ dataDir, keepDataDir: true, cfg, ...(opts.logFile ? { logFile: opts.logFile } : {}) });
      port = t.port;
      kill = () => t.stop('SIGKILL');
    } else {
      const z = await startZooKeeper({ dataDir, cfg, ...(opts.logFile ? { logFile: opts.logFile } : {}) });
      port = z.port;
      kill = () => z.stop();
    }
    await waitServing(port);
  };
  await start();
  return {
    kind,
    dataDir,
    connectString: () => `127.0.0.1:${port}`,
    kill: () => kill(),
    restart: start,
    async dispose() {
      await kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
