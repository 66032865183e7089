import type { DataDirOptions } from '../storage/dataDir.js';

/**
 * What a standalone tszk server needs to run: the contract between config parsing
 * (src/server/config.ts, from zoo.cfg) and the server itself. Names follow zoo.cfg keys;
 * units are in the names.
 */
export interface ServerOptions {
  clientPort: number;
  /** Address to listen on for clients; zoo.cfg clientPortAddress (default all addresses). */
  clientPortAddress: string;
  tickTime_ms: number;
  /** Default 2 × tickTime. */
  minSessionTimeout_ms: number;
  /** Default 20 × tickTime. */
  maxSessionTimeout_ms: number;
  dataDir: string;
  /** Where txn logs go; defaults to dataDir. */
  dataLogDir: string;
  /** Concurrent connections per client IP; 0 = unlimited (zoo.cfg maxClientCnxns, default 60). */
  maxClientCnxns: number;
  /** Largest packet accepted from a client (jute.maxbuffer, default 0xfffff). */
  juteMaxBuffer_bytes: number;
  /** zookeeper.extendedTypesEnabled: TTL nodes. */
  extendedTypesEnabled: boolean;
  /** zookeeper.DigestAuthenticationProvider.superDigest: "super:<base64 sha1>". */
  superDigest: string | undefined;
  /** zookeeper.skipACL */
  skipACL: boolean;
  /** reconfigEnabled: clients with WRITE on /zookeeper/config (super, or skipACL) may reconfigure the ensemble. */
  reconfigEnabled: boolean;
  /** zookeeper.commitLogCount: committed txns an ensemble member keeps in memory past a snapshot to sync learners by DIFF. */
  commitLogCount: number;
  /** zookeeper.digest.enabled: TxnDigest on every txn, checked by followers (default true, as in 3.8). */
  digestEnabled: boolean;
  /** 4lw.commands.whitelist: the words allowed, or '*' for all. Default: srvr only. */
  fourLetterWhitelist: ReadonlySet<string> | '*';
  /** znode.container.checkIntervalMs (container and TTL reaper period). */
  containerCheckInterval_ms: number;
  /** znode.container.maxPerMinute */
  containerMaxPerMinute: number;
  /** znode.container.maxNeverUsedIntervalMs (0 = never reap never-used containers by age). */
  containerMaxNeverUsedInterval_ms: number;
  /** globalOutstandingLimit */
  globalOutstandingLimit: number;
  /** snapCount: txns between snapshots. */
  snapCount: number;
  /** forceSync: fsync the txn log before acknowledging. */
  forceSync: boolean;
  /** autopurge.snapRetainCount / autopurge.purgeInterval (hours, 0 = off). */
  autopurgeSnapRetainCount: number;
  autopurgePurgeInterval_hours: number;
  /** readonlymode.enabled: a quorum peer outside a quorum serves read-only clients (after a grace period). */
  readOnlyModeEnabled: boolean;
  /** The zoo.cfg path this came from, if any (shown by `conf`). */
  configPath: string | undefined;
}

export const JUTE_MAXBUFFER_DEFAULT_BYTES = 0xfffff;

/** What the dataDir needs of a server's options (storage takes its own options; it knows no server). */
export function storageOptionsFrom(o: ServerOptions): DataDirOptions {
  return {
    dataDir: o.dataDir,
    dataLogDir: o.dataLogDir,
    forceSync: o.forceSync,
    snapCount: o.snapCount,
    snapRetainCount: o.autopurgeSnapRetainCount,
    purgeInterval_hours: o.autopurgePurgeInterval_hours,
  };
}

export function defaultServerOptions(overrides: Partial<ServerOptions> = {}): ServerOptions {
  const tickTime_ms = overrides.tickTime_ms ?? 2000;
  const dataDir = overrides.dataDir ?? '/tmp/tszk';
  return {
    clientPort: 2181,
    clientPortAddress: '0.0.0.0',
    tickTime_ms,
    minSessionTimeout_ms: 2 * tickTime_ms,
    maxSessionTimeout_ms: 20 * tickTime_ms,
    dataDir,
    dataLogDir: overrides.dataLogDir ?? dataDir,
    maxClientCnxns: 60,
    juteMaxBuffer_bytes: JUTE_MAXBUFFER_DEFAULT_BYTES,
    extendedTypesEnabled: false,
    superDigest: undefined,
    skipACL: false,
    reconfigEnabled: false,
    digestEnabled: true,
    commitLogCount: 500,
    fourLetterWhitelist: new Set(['srvr']),
    containerCheckInterval_ms: 60_000,
    containerMaxPerMinute: 10_000,
    containerMaxNeverUsedInterval_ms: 0,
    globalOutstandingLimit: 1000,
    snapCount: 100_000,
    forceSync: true,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeInterval_hours: 0,
    readOnlyModeEnabled: false,
    configPath: undefined,
    ...overrides,
  };
}
