/**
 * The server the client and shell suites run against: tszk by default, the real Apache
 * ZooKeeper 3.8 with TSZK_TEST_TARGET=zookeeper (to check the suites themselves). restart() stops the server and starts it again on the same data dir (new port).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { targetKind, targetMissing, type TargetKind } from './target.js';
import { startTszk } from './tszk.js';
import { startZooKeeper } from './zookeeper.js';

export const clientTargetKind: () => TargetKind = targetKind;

export function clientTargetMissing(): string | undefined {
  return targetMissing(clientTargetKind());
}

export interface RestartableServer {
  kind: TargetKind;
  port: number;
  connectString: string;
  dataDir: string;
  /** Kill the server and start it again on the same data dir; `port` changes. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startClientTarget(opts: { extendedTypes?: boolean; cfg?: Record<string, string | number> } = {}): Promise<RestartableServer> {
  const kind = clientTargetKind();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `client-${kind}-`));
  const start = async (): Promise<{ port: number; stop: () => Promise<void> }> => {
    if (kind === 'zookeeper') {
      const zk = await startZooKeeper({
        dataDir,
        cfg: opts.cfg ?? {},
        sysProps: opts.extendedTypes ? { 'zookeeper.extendedTypesEnabled': 'true' } : {},
      });
      return { port: zk.port, stop: () => zk.stop() };
    }
    const t = await startTszk({
      dataDir,
      keepDataDir: true,
      cfg: { ...(opts.extendedTypes ? { extendedTypesEnabled: 'true' } : {}), ...opts.cfg },
    });
    return { port: t.port, stop: () => t.stop() };
  };
  let cur = await start();
  const srv: RestartableServer = {
    kind,
    port: cur.port,
    connectString: `127.0.0.1:${cur.port}`,
    dataDir,
    async restart() {
      await cur.stop();
      cur = await start();
      srv.port = cur.port;
      srv.connectString = `127.0.0.1:${cur.port}`;
    },
    async stop() {
      await cur.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return srv;
}
