import type { DataDirOptions } from '../storage/dataDir.js';
import type { SnapshotCompression } from '../storage/snapshotCompression.js';

/** Key and trust store file types ZooKeeper's X509Util reads (KeyStoreFileType). */
export type KeyStoreType = 'PEM' | 'PKCS12' | 'JKS' | 'BCFKS';

/** ssl[.quorum].keyStore.* or ssl[.quorum].trustStore.*: where the store is and how to open it. */
export interface KeyStoreRef {
  /** The config key prefix it came from (ssl.keyStore, ssl.quorum.trustStore, …), named in errors. */
  key: string;
  location: string;
  /** From .password, or the contents of .passwordPath; '' when neither is given. */
  password: string;
  type: KeyStoreType;
}

/** The ssl.* keys of the client ports (ZooKeeper's ClientX509Util), or ssl.quorum.* of the quorum (QuorumX509Util). */
export interface SslOptions {
  /** 'ssl' or 'ssl.quorum': the keys' prefix, named in errors. */
  prefix: SslPrefix;
  keyStore: KeyStoreRef | undefined;
  trustStore: KeyStoreRef | undefined;
  clientAuth: 'none' | 'want' | 'need';
  /** ssl.protocol (default TLSv1.2); ssl.enabledProtocols defaults to [protocol]. */
  protocol: string;
  enabledProtocols: readonly string[];
  /** Java (IANA) names, as ZooKeeper takes them; undefined: ZooKeeper's default list. */
  ciphersuites: readonly string[] | undefined;
  hostnameVerification: boolean;
  /**
   * ssl.allowReverseDnsLookup: a certificate that does not name the peer's address may still name
   * the host that address resolves back to (ZooKeeper 3.8.6: default false for clients, true for the quorum).
   */
  allowReverseDnsLookup: boolean;
  /** ssl.crl=true: the CRL file (tszk's ssl.crl.location) every peer certificate is checked against; undefined: no revocation check. */
  crl: string | undefined;
  /**
   * How long a unified quorum or AdminServer port waits for the first bytes that tell TLS from
   * plaintext (a unified client port waits as long as it takes, as ZooKeeper's Netty port).
   */
  handshakeDetectionTimeout_ms: number;
  /** client.certReload (sslQuorumReloadCertFiles): the stores are read again when their files change; connections stay. */
  certReload: boolean;
}

export type SslPrefix = 'ssl' | 'ssl.quorum';

/** sslQuorum, portUnification and ssl.quorum.*: TLS between quorum peers (election and quorum ports). */
export interface QuorumTlsOptions {
  /** sslQuorum: this peer connects to the others over TLS. */
  sslQuorum: boolean;
  /** portUnification: the quorum and election ports accept TLS and plaintext (ZooKeeper's UnifiedServerSocket). */
  portUnification: boolean;
  ssl: SslOptions;
}

/** quorum.auth.*: SASL DIGEST-MD5 between quorum peers (ZooKeeper's SaslQuorumAuthServer/Learner). */
export interface QuorumSaslOptions {
  /** quorum.auth.enableSasl */
  enabled: boolean;
  /** quorum.auth.learnerRequireSasl: this peer authenticates when it connects. */
  learnerRequireSasl: boolean;
  /** quorum.auth.serverRequireSasl: a peer connecting without (or failing) SASL is refused. */
  serverRequireSasl: boolean;
  /** The QuorumLearner section's DigestLoginModule username and password. */
  learner: { username: string; password: string } | undefined;
  /** The QuorumServer section's DigestLoginModule users (user_<name>="pw"). */
  serverUsers: ReadonlyMap<string, string>;
}

/**
 * What a standalone tszk server needs to run: the contract between config parsing
 * (src/server/config.ts, from zoo.cfg) and the server itself. Names follow zoo.cfg keys;
 * units are in the names.
 */
export interface ServerOptions {
  clientPort: number;
  /** Address to listen on for clients; zoo.cfg clientPortAddress (default all addresses). */
  clientPortAddress: string;
  /** zoo.cfg gave a clientPort, or no secureClientPort: the plaintext (or unified) port is opened. */
  clientPortListen: boolean;
  /** secureClientPort: TLS only, the same tree behind it. */
  secureClientPort: number | undefined;
  secureClientPortAddress: string;
  /** client.portUnification: TLS and plaintext on clientPort, told apart by the first byte. */
  clientPortUnification: boolean;
  ssl: SslOptions;
  /** Schemes of authProvider.N classes ZooKeeper would load (x509, sasl) beside ip and digest. */
  authProviders: ReadonlySet<string>;
  /** ssl.authProvider: the scheme that authenticates TLS client certificates (default x509). */
  sslAuthProvider: string;
  /** zookeeper.X509AuthenticationProvider.superUser: a certificate subject that is super. */
  x509SuperUser: string | undefined;
  /** The JAAS Server section's DigestLoginModule users (user_<name>="pw"); undefined: no SASL login, as ZooKeeper without one. */
  saslUsers: ReadonlyMap<string, string> | undefined;
  /** zookeeper.superUser (and zookeeper.superUser.*): SASL users that are super. */
  saslSuperUsers: readonly string[];
  /** enforce.auth.schemes when enforce.auth.enabled (or [sasl] for sessionRequireClientSASLAuth); empty: off. */
  enforceAuthSchemes: readonly string[];
  /** zookeeper.allowSaslFailedClients: a failed SASL exchange leaves the connection open. */
  allowSaslFailedClients: boolean;
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
  /**
   * tszk.pagedReads (tszk only, default false): serve TszkOpCode.getChildrenPage/getDataPage.
   * Off, those ops are unknown types, answered as ZooKeeper answers them.
   */
  pagedReads: boolean;
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
  /** zookeeper.snapshot.compression.method: how snapshots are written (every kind is read). */
  snapshotCompression: SnapshotCompression;
  /** forceSync: fsync the txn log before acknowledging. */
  forceSync: boolean;
  /** autopurge.snapRetainCount / autopurge.purgeInterval (hours, 0 = off). */
  autopurgeSnapRetainCount: number;
  autopurgePurgeInterval_hours: number;
  /** readonlymode.enabled: a quorum peer outside a quorum serves read-only clients (after a grace period). */
  readOnlyModeEnabled: boolean;
  /**
   * tszk.zxidRolloverWithoutElection (tszk only, default false): when the zxid counter is spent
   * the leader moves the ensemble to the next epoch in place instead of forcing an election, as
   * ZooKeeper does. Every member must have it (src/zab/README.md: zxid rollover).
   */
  zxidRolloverWithoutElection: boolean;
  quorumTls: QuorumTlsOptions;
  quorumSasl: QuorumSaslOptions;
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
    snapshotCompression: o.snapshotCompression,
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
    clientPortListen: true,
    secureClientPort: undefined,
    secureClientPortAddress: overrides.clientPortAddress ?? '0.0.0.0',
    clientPortUnification: false,
    ssl: defaultSslOptions('ssl'),
    authProviders: new Set(),
    sslAuthProvider: 'x509',
    x509SuperUser: undefined,
    saslUsers: undefined,
    saslSuperUsers: [],
    enforceAuthSchemes: [],
    allowSaslFailedClients: false,
    tickTime_ms,
    minSessionTimeout_ms: 2 * tickTime_ms,
    maxSessionTimeout_ms: 20 * tickTime_ms,
    dataDir,
    dataLogDir: overrides.dataLogDir ?? dataDir,
    maxClientCnxns: 60,
    juteMaxBuffer_bytes: JUTE_MAXBUFFER_DEFAULT_BYTES,
    extendedTypesEnabled: false,
    pagedReads: false,
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
    snapshotCompression: 'none',
    forceSync: true,
    autopurgeSnapRetainCount: 3,
    autopurgePurgeInterval_hours: 0,
    readOnlyModeEnabled: false,
    zxidRolloverWithoutElection: false,
    quorumTls: { sslQuorum: false, portUnification: false, ssl: defaultSslOptions('ssl.quorum') },
    quorumSasl: { enabled: false, learnerRequireSasl: false, serverRequireSasl: false, learner: undefined, serverUsers: new Map() },
    configPath: undefined,
    ...overrides,
  };
}

export function defaultSslOptions(prefix: SslPrefix = 'ssl'): SslOptions {
  return {
    prefix,
    keyStore: undefined,
    trustStore: undefined,
    clientAuth: 'need',
    protocol: 'TLSv1.2',
    enabledProtocols: ['TLSv1.2'],
    ciphersuites: undefined,
    hostnameVerification: true,
    allowReverseDnsLookup: prefix === 'ssl.quorum',
    crl: undefined,
    handshakeDetectionTimeout_ms: 5000,
    certReload: false,
  };
}
