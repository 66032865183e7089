/**
 * `tszk/server`: a tszk server inside a Node process, from a zoo.cfg path or the same keys as an
 * object. Wires config → recovery → server as `tszk server --config` does (src/cli/main.ts):
 * a config listing an ensemble starts a quorum peer, anything else a standalone server.
 *
 *   const srv = await startServer({ tickTime: 2000, dataDir: './data', clientPort: 2181 });
 *   ...
 *   await srv.close();
 */
import fs from 'node:fs';
import path from 'node:path';
import { runFourLetterWord } from '../admin/fourLetterWords.js';
import { startOperations, type OperationsHandle } from '../admin/operations.js';
import type { MemberAdminSource } from './adminSource.js';
import { openDatabase } from '../storage/database.js';
import { ConfigError, parseZooCfg, readZooCfg, type ParsedConfig } from './config.js';
import { storageOptionsFrom } from './options.js';
import { ServerMetrics } from './serverMetrics.js';
import { startQuorumPeer } from './quorum/nodePeer.js';
import { startStandaloneServer, type StandaloneServer } from './standalone.js';

export { ConfigError } from './config.js';
export { StorageError } from '../storage/errors.js';

/** zoo.cfg keys and values (`server.N`, `4lw.commands.whitelist`, ... as written in the file). */
export type ZooCfg = Readonly<Record<string, string | number | boolean>>;

export interface StartServerOptions {
  /** Overrides, as `tszk server -D key=value` (keys with or without `zookeeper.`). */
  sysProps?: Readonly<Record<string, string>>;
  /**
   * A quorum peer's id: written to dataDir/myid when that file is missing (ZooKeeper reads a
   * peer's id only from there); a different id already in the file is an error.
   */
  myid?: number;
  /**
   * A quorum peer that fails stops (its ports and files released) and tells this; the default
   * only logs it. `tszk server` exits instead; an embedded peer must not end its host process.
   */
  onFatal?: (err: unknown) => void;
}

export interface EmbeddedServer extends AsyncDisposable {
  readonly mode: 'standalone' | 'quorum';
  /** The port clients connect to (a standalone server given clientPort=0 listens on a free one). */
  readonly clientPort: number;
  /** `host:clientPort` for clients (127.0.0.1 when the server listens on every address). */
  readonly connectString: string;
  readonly dataDir: string;
  /** The AdminServer's port (admin.serverPort; 0 there picks a free one), undefined with admin.enableServer=false. */
  readonly adminPort: number | undefined;
  /** Prometheus's /metrics port (metricsProvider.httpPort, 0 picks one), undefined without the Prometheus provider. */
  readonly metricsPort: number | undefined;
  /** Config keys that nothing reads (tszk server logs them as warnings). */
  readonly warnings: readonly string[];
  /** Stops serving and closes the data directory (everything acknowledged is already durable). */
  close(): Promise<void>;
}

/** Starts a server from a zoo.cfg path or config keys; rejects with ConfigError or StorageError. */
export async function startServer(config: string | ZooCfg, opts: StartServerOptions = {}): Promise<EmbeddedServer> {
  const sysProps = { ...opts.sysProps };
  const cfg = typeof config === 'string' ? readZooCfg(config, sysProps) : parseZooCfg(zooCfgText(config), { sysProps });
  const dataDir = cfg.options.dataDir;
  if (cfg.servers.length > 0 && !(cfg.servers.length === 1 && cfg.standaloneEnabled)) {
    if (opts.myid !== undefined) writeMyid(dataDir, opts.myid);
    const peer = await startQuorumPeer(cfg, { fourLetterWords: runFourLetterWord, onFatal: opts.onFatal ?? (() => undefined) });
    const ops = await withOperations(cfg, peer.admin, sysProps, () => peer.close());
    const self = ownServerLine(cfg);
    const address = self?.clientAddress ?? cfg.options.clientPortAddress;
    return embedded('quorum', address, self?.clientPort ?? cfg.options.clientPort, dataDir, cfg.warnings, ops, () => peer.close());
  }
  // Recovery first: a damaged dataDir rejects here with the StorageError (file and offset).
  const metrics = new ServerMetrics();
  const { db, sink } = await openDatabase({ ...storageOptionsFrom(cfg.options), observer: metrics });
  let server: StandaloneServer;
  try {
    server = await startStandaloneServer(cfg.options, { db, sink, metrics, fourLetterWords: runFourLetterWord });
  } catch (e) {
    await sink.close(); // e.g. the port is taken: release the dataDir
    throw e;
  }
  const ops = await withOperations(cfg, server, sysProps, () => server.close());
  return embedded('standalone', cfg.options.clientPortAddress, server.port, dataDir, cfg.warnings, ops, () => server.close());
}

/** The AdminServer beside a started member; when it cannot start, the member is closed and the error (naming the port) thrown. */
async function withOperations(
  cfg: ParsedConfig,
  member: MemberAdminSource,
  sysProps: Record<string, string>,
  closeMember: () => Promise<void>,
): Promise<OperationsHandle> {
  try {
    return await startOperations(cfg, member, sysProps);
  } catch (e) {
    await closeMember();
    throw e;
  }
}

function embedded(
  mode: EmbeddedServer['mode'],
  address: string,
  clientPort: number,
  dataDir: string,
  warnings: string[],
  ops: OperationsHandle,
  closeMember: () => Promise<void>,
): EmbeddedServer {
  const close = (): Promise<void> => ops.close().then(closeMember);
  // A wildcard listen address is reached through loopback.
  const host = address === '0.0.0.0' || address === '::' || address === '' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
  let closing: Promise<void> | undefined;
  const once = (): Promise<void> => (closing ??= close());
  return {
    mode,
    clientPort,
    connectString: `${host}:${clientPort}`,
    dataDir,
    adminPort: ops.adminPort,
    metricsPort: ops.metricsPort,
    warnings,
    close: once,
    [Symbol.asyncDispose]: once,
  };
}

function zooCfgText(config: ZooCfg): string {
  return Object.entries(config)
    .map(([k, v]) => {
      const line = `${k}=${String(v)}`;
      if (/[\r\n]/.test(line)) throw new ConfigError(k, 'a key or value may not contain a line break');
      return line;
    })
    .join('\n');
}

/** The running peer's own server.N line (its myid file exists once the peer started). */
function ownServerLine(cfg: ParsedConfig): ParsedConfig['servers'][number] | undefined {
  const myid = Number(fs.readFileSync(path.join(cfg.options.dataDir, 'myid'), 'utf8').trim());
  return cfg.servers.find((s) => s.id === myid);
}

function writeMyid(dataDir: string, myid: number): void {
  if (!Number.isInteger(myid) || myid < 0) throw new ConfigError('myid', `${myid} is not a server id`);
  const file = path.join(dataDir, 'myid');
  if (fs.existsSync(file)) {
    const have = fs.readFileSync(file, 'utf8').trim();
    if (have !== String(myid)) throw new ConfigError('myid', `${file} says ${have}, not ${myid}`);
    return;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${myid}\n`);
}
