/**
 * zoo.cfg parsing, as ZooKeeper 3.8 reads it: a Java properties file whose known keys configure
 * the server and whose other keys become `zookeeper.<key>` system properties. We honour the
 * system-property keys we implement (extendedTypesEnabled, DigestAuthenticationProvider.superDigest,
 * 4lw.commands.whitelist, ...) from zoo.cfg and from `-D key=value` on the command line, warn on
 * keys nobody reads, and reject bad values naming the key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SNAPSHOT_COMPRESSIONS } from '../storage/snapshotCompression.js';
import { defaultServerOptions, type ServerOptions, type SslOptions } from './options.js';
import { parseAuthProviders, parseQuorumSasl, parseQuorumTls, parseSaslOptions, parseSslOptions, readJaasConfig } from './securityConfig.js';

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${key}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type PeerRole = 'participant' | 'observer';

/** One `server.N=host:quorumPort:electionPort[:role][;[clientAddr:]clientPort]` line. */
export interface ServerLine {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  role: PeerRole;
  clientAddress: string | undefined;
  clientPort: number | undefined;
}

/** The AdminServer's zoo.cfg keys (system properties zookeeper.admin.* in ZooKeeper). */
export interface AdminServerConfig {
  /** admin.enableServer (default true, as in ZooKeeper 3.8). */
  enableServer: boolean;
  /** admin.serverAddress (default 0.0.0.0). */
  serverAddress: string;
  /** admin.serverPort (default 8080; 0 picks a free port). */
  serverPort: number;
  /** admin.commandURL (default /commands). */
  commandURL: string;
  /** admin.idleTimeout: an idle HTTP connection is closed after this (default 30000). */
  idleTimeout_ms: number;
  /** admin.snapshot.enabled: the 3.9 `snapshot` command answers (default true). */
  snapshotEnabled: boolean;
  /** admin.rateLimiterIntervalInMS: one `snapshot` per this interval (default 5 minutes). */
  rateLimiterInterval_ms: number;
  /**
   * admin.forceHttps (HTTPS only) or admin.portUnification (HTTPS and HTTP on the one port): with
   * the ssl.quorum.* key store, as ZooKeeper's JettyAdminServer. Absent: plain HTTP.
   */
  https?: { unified: boolean; ssl: SslOptions };
}

export const PROMETHEUS_PROVIDER = 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider';

/** metricsProvider.* with the Prometheus provider: where /metrics is served. */
export interface PrometheusConfig {
  /** metricsProvider.httpHost (default 0.0.0.0). */
  httpHost: string;
  /** metricsProvider.httpPort (default 7000; 0 picks a free port). */
  httpPort: number;
  /** metricsProvider.exportJvmInfo: the process metrics (Node's, in tszk; default true). */
  exportProcessInfo: boolean;
}

export interface ParsedConfig {
  options: ServerOptions;
  admin: AdminServerConfig;
  /** Undefined unless metricsProvider.className names the Prometheus provider. */
  prometheus: PrometheusConfig | undefined;
  /** The zoo.cfg text as given (initial_configuration), without -D overrides. */
  text: string;
  /** Ensemble members (empty for standalone). */
  servers: ServerLine[];
  initLimit: number;
  syncLimit: number;
  peerType: PeerRole;
  standaloneEnabled: boolean;
  /**
   * localSessionsEnabled: tszk makes no local sessions itself, but as a leader it then accepts
   * writes from sessions local to another member (ZooKeeper members of a mixed ensemble).
   */
  localSessionsEnabled: boolean;
  /** Keys that nothing reads: warned, not fatal (as ZooKeeper tolerates them). */
  warnings: string[];
  /** `dynamicConfigFile=`: the file the membership came from, its version (from its name) and text. */
  dynamicConfig?: { path: string; version: bigint; text: string };
}

/** Reads Java-properties text: `key=value`, `key: value` or `key value`; `#` and `!` comments. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.trim());
    else out.set(line, '');
  }
  return out;
}

// Keys ZooKeeper reads that a tszk server accepts but does not act on (yet): no warning.
const ACCEPTED_IGNORED = new Set([
  'electionAlg',
  'quorumListenOnAllIPs',
  'syncEnabled',
  'connectToLearnerMasterLimit',
  'localSessionsUpgradingEnabled',
  'clientPortListenBacklog',
  'maxCnxns',
  'preAllocSize',
  'snapshot.compression.method',
  'cnxTimeout',
  'electionPortBindRetry',
  'leaderServes',
  'snapSizeLimitInKb',
  'txnLogSizeLimitInKb',
  'fsync.warningthresholdms',
  'DigestAuthenticationProvider.enabled',
  'DigestAuthenticationProvider.digestAlg',
  'audit.enable',
  'serverCnxnFactory',
]);
const ACCEPTED_IGNORED_PREFIXES = ['admin.', 'metricsProvider.', 'quorum.', 'ssl.', 'authProvider.', 'jvm.pause', 'multiAddress.'];

/** Parses a zoo.cfg file. `sysProps` are `-D key=value` overrides (keys with or without `zookeeper.`). */
export function readZooCfg(file: string, sysProps: Record<string, string> = {}): ParsedConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('config', `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseZooCfg(text, { file, sysProps });
}

export function parseZooCfg(text: string, ctx: { file?: string; sysProps?: Record<string, string> } = {}): ParsedConfig {
  const props = parseProperties(text);
  for (const [k, v] of Object.entries(ctx.sysProps ?? {})) props.set(k, v);
  const file = ctx.file;
  const fail = (key: string, problem: string): never => {
    throw new ConfigError(key, problem, file);
  };
  const dynamicConfig = readDynamicConfig(props, fail);
  // ZooKeeper hands unknown keys over as `zookeeper.<key>` system properties; accept either spelling.
  const take = (key: string): string | undefined => {
    for (const k of [key, `zookeeper.${key}`]) {
      const v = props.get(k);
      if (v !== undefined) {
        props.delete(k);
        return v;
      }
    }
    return undefined;
  };
  const int = (key: string, min: number, max = 0x7fffffff): number | undefined => {
    const v = take(key);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) fail(key, `'${v}' is not an integer`);
    const n = Number(v);
    if (n < min || n > max) fail(key, `${n} is out of range [${min}, ${max}]`);
    return n;
  };
  const bool = (key: string, yes = ['true', 'yes'], no = ['false', 'no']): boolean | undefined => {
    const v = take(key);
    if (v === undefined) return undefined;
    const l = v.toLowerCase();
    if (yes.includes(l)) return true;
    if (no.includes(l)) return false;
    return fail(key, `'${v}' is not one of ${[...yes, ...no].join('/')}`);
  };

  const dataDirRaw = take('dataDir');
  if (dataDirRaw === undefined || dataDirRaw === '') fail('dataDir', 'is required');
  const base = file ? path.dirname(file) : process.cwd();
  const dataDir = path.resolve(base, dataDirRaw!);
  const dataLogDirRaw = take('dataLogDir');
  const tickTime_ms = int('tickTime', 1) ?? fail('tickTime', 'is required');

  const o = defaultServerOptions({ tickTime_ms, dataDir, dataLogDir: dataLogDirRaw ? path.resolve(base, dataLogDirRaw) : dataDir, configPath: file });
  const set = <K extends keyof ServerOptions>(k: K, v: ServerOptions[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  const clientPort = int('clientPort', 0, 65535);
  set('clientPort', clientPort);
  set('clientPortAddress', take('clientPortAddress'));
  o.secureClientPort = int('secureClientPort', 0, 65535);
  o.secureClientPortAddress = take('secureClientPortAddress') ?? o.clientPortAddress;
  // A config with only secureClientPort serves TLS only, as ZooKeeper does.
  o.clientPortListen = clientPort !== undefined || o.secureClientPort === undefined;
  o.clientPortUnification = (take('client.portUnification') ?? '').toLowerCase() === 'true';
  o.ssl = parseSslOptions('ssl', 'client.certReload', take, fail, base);
  o.quorumTls = parseQuorumTls(take, fail, base);
  o.sslAuthProvider = take('ssl.authProvider') ?? 'x509';
  o.x509SuperUser = take('X509AuthenticationProvider.superUser');
  set('maxClientCnxns', int('maxClientCnxns', 0));
  set('minSessionTimeout_ms', int('minSessionTimeout', -1));
  set('maxSessionTimeout_ms', int('maxSessionTimeout', -1));
  // ZooKeeper treats -1 as "use the default".
  if (o.minSessionTimeout_ms === -1) o.minSessionTimeout_ms = 2 * tickTime_ms;
  if (o.maxSessionTimeout_ms === -1) o.maxSessionTimeout_ms = 20 * tickTime_ms;
  if (o.minSessionTimeout_ms > o.maxSessionTimeout_ms) {
    fail('minSessionTimeout', `${o.minSessionTimeout_ms} must not be larger than maxSessionTimeout ${o.maxSessionTimeout_ms}`);
  }
  set('juteMaxBuffer_bytes', int('jute.maxbuffer', 1));
  set('extendedTypesEnabled', bool('extendedTypesEnabled'));
  set('pagedReads', bool('tszk.pagedReads', ['true'], ['false']));
  const superDigest = take('DigestAuthenticationProvider.superDigest');
  if (superDigest !== undefined) {
    if (!/^[^:]+:[A-Za-z0-9+/=]+$/.test(superDigest)) fail('DigestAuthenticationProvider.superDigest', `'${superDigest}' is not user:base64digest`);
    o.superDigest = superDigest;
  }
  set('skipACL', bool('skipACL'));
  set('reconfigEnabled', bool('reconfigEnabled', ['true'], ['false']));
  set('digestEnabled', bool('digest.enabled'));
  set('commitLogCount', int('commitLogCount', 0));
  const wl = take('4lw.commands.whitelist');
  if (wl !== undefined) {
    const words = wl
      .split(',')
      .map((w) => w.trim())
      .filter((w) => w !== '');
    o.fourLetterWhitelist = words.includes('*') ? '*' : new Set(words);
    for (const w of words) if (w !== '*' && !/^[a-z]{4}$/.test(w)) fail('4lw.commands.whitelist', `'${w}' is not a four-letter word`);
  }
  set('containerCheckInterval_ms', int('znode.container.checkIntervalMs', 1));
  set('containerMaxPerMinute', int('znode.container.maxPerMinute', 1));
  set('containerMaxNeverUsedInterval_ms', int('znode.container.maxNeverUsedIntervalMs', 0));
  set('globalOutstandingLimit', int('globalOutstandingLimit', 1));
  set('snapCount', int('snapCount', 2));
  const compression = take('snapshot.compression.method');
  if (compression !== undefined && compression !== '') {
    const c = SNAPSHOT_COMPRESSIONS.find((x) => x === compression.toLowerCase() && x !== 'none');
    o.snapshotCompression = c ?? fail('snapshot.compression.method', `'${compression}' is not one of gz, snappy (or empty for none)`);
  }
  set('forceSync', bool('forceSync', ['yes', 'true'], ['no', 'false']));
  set('autopurgeSnapRetainCount', int('autopurge.snapRetainCount', 3));
  set('autopurgePurgeInterval_hours', int('autopurge.purgeInterval', 0));
  // A system property in ZooKeeper (Boolean.getBoolean): only "true", in any case, turns it on.
  const ro = take('readonlymode.enabled');
  if (ro !== undefined) o.readOnlyModeEnabled = ro.toLowerCase() === 'true';
  set('zxidRolloverWithoutElection', bool('tszk.zxidRolloverWithoutElection', ['true'], ['false']));

  const initLimit = int('initLimit', 1) ?? 10;
  const syncLimit = int('syncLimit', 1) ?? 5;
  const peerTypeRaw = take('peerType') ?? 'participant';
  const peerType: PeerRole = peerTypeRaw === 'observer' ? 'observer' : 'participant';
  if (peerTypeRaw !== peerType) fail('peerType', `'${peerTypeRaw}' is not participant or observer`);
  const standaloneEnabled = bool('standaloneEnabled') ?? true;
  const localSessionsEnabled = bool('localSessionsEnabled', ['true'], ['false']) ?? false;

  const admin: AdminServerConfig = {
    enableServer: bool('admin.enableServer') ?? true,
    serverAddress: take('admin.serverAddress') ?? '0.0.0.0',
    serverPort: int('admin.serverPort', 0, 65535) ?? 8080,
    commandURL: take('admin.commandURL') ?? '/commands',
    idleTimeout_ms: int('admin.idleTimeout', 1) ?? 30_000,
    snapshotEnabled: bool('admin.snapshot.enabled') ?? true,
    rateLimiterInterval_ms: int('admin.rateLimiterIntervalInMS', 0) ?? 300_000,
  };
  // System properties in ZooKeeper (Boolean.getBoolean): only "true" turns them on.
  const forceHttps = take('admin.forceHttps')?.trim().toLowerCase() === 'true';
  const adminUnified = take('admin.portUnification')?.trim().toLowerCase() === 'true';
  if (forceHttps || adminUnified) {
    if (o.quorumTls.ssl.keyStore === undefined) fail('ssl.quorum.keyStore.location', 'is required with admin.forceHttps or admin.portUnification');
    admin.https = { unified: !forceHttps, ssl: o.quorumTls.ssl };
  }
  if (!admin.commandURL.startsWith('/')) fail('admin.commandURL', `'${admin.commandURL}' must start with /`);
  const providerClass = take('metricsProvider.className');
  if (providerClass !== undefined && providerClass !== PROMETHEUS_PROVIDER && providerClass !== 'org.apache.zookeeper.metrics.impl.NullMetricsProvider') {
    fail('metricsProvider.className', `'${providerClass}' is not ${PROMETHEUS_PROVIDER} (the only provider tszk has)`);
  }
  const prometheusConfig: PrometheusConfig = {
    httpHost: take('metricsProvider.httpHost') ?? '0.0.0.0',
    httpPort: int('metricsProvider.httpPort', 0, 65535) ?? 7000,
    exportProcessInfo: bool('metricsProvider.exportJvmInfo') ?? true,
  };
  const prometheus = providerClass === PROMETHEUS_PROVIDER ? prometheusConfig : undefined;

  const servers: ServerLine[] = [];
  for (const [k, v] of [...props]) {
    const m = /^server\.(\d+)$/.exec(k);
    if (!m) continue;
    props.delete(k);
    servers.push(parseServerLine(k, Number(m[1]), v, fail));
  }
  const ids = new Set<number>();
  for (const s of servers) {
    if (ids.has(s.id)) fail(`server.${s.id}`, 'is defined twice');
    ids.add(s.id);
  }
  servers.sort((a, b) => a.id - b.id);

  const warnings: string[] = [];
  o.authProviders = parseAuthProviders(props, warnings);
  const jaas = readJaasConfig(take, fail, base);
  Object.assign(o, parseSaslOptions(props, take, fail, jaas, warnings));
  o.quorumSasl = parseQuorumSasl(take, fail, jaas);
  for (const scheme of o.enforceAuthSchemes) {
    if (scheme !== 'ip' && scheme !== 'digest' && !o.authProviders.has(scheme))
      fail('enforce.auth.schemes', `authentication scheme ${scheme} is not available`);
  }
  if ((o.secureClientPort !== undefined || o.clientPortUnification) && o.ssl.keyStore === undefined) {
    fail('ssl.keyStore.location', 'is required with secureClientPort or client.portUnification');
  }
  for (const k of props.keys()) {
    const bare = k.startsWith('zookeeper.') ? k.slice('zookeeper.'.length) : k;
    if (/^(group|weight)\./.test(bare)) continue; // hierarchical quorums: read by the ensemble layer
    if (ACCEPTED_IGNORED.has(bare) || ACCEPTED_IGNORED_PREFIXES.some((p) => bare.startsWith(p))) continue;
    warnings.push(`unknown key '${k}' ignored`);
  }
  return { options: o, admin, prometheus, text, servers, initLimit, syncLimit, peerType, standaloneEnabled, localSessionsEnabled, warnings, dynamicConfig };
}

/**
 * `dynamicConfigFile=`: the membership (server/group/weight lines) lives in that file, whose name
 * ends in `.dynamic.<version hex>` (ZooKeeper writes it when a reconfig commits); its lines join
 * zoo.cfg's keys. Anything else in it is an error.
 */
function readDynamicConfig(props: Map<string, string>, fail: (key: string, problem: string) => never): ParsedConfig['dynamicConfig'] {
  const file = props.get('dynamicConfigFile');
  if (file === undefined) return undefined;
  props.delete('dynamicConfigFile');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    fail('dynamicConfigFile', `cannot read ${file}: ${(e as Error).message}`);
  }
  for (const [k, v] of parseProperties(text)) {
    if (/^(server|group|weight)\.\d+$/.test(k)) props.set(k, v);
    else if (k !== 'version') fail('dynamicConfigFile', `${file}: '${k}' is not a server.N, group.N or weight.N line`);
  }
  const m = /\.dynamic\.([0-9a-f]+)$/i.exec(file);
  return { path: file, version: m === null ? 0n : BigInt(`0x${m[1]!}`), text };
}

/** One server line's value (`host:quorumPort:electionPort[:role][;[clientAddress:]clientPort]`); `fail` is called on a bad one. */
export function parseServerLine(key: string, id: number, value: string, fail: (key: string, problem: string) => never): ServerLine {
  const [quorumPart, clientPart] = value.split(';', 2).map((s) => s.trim());
  const parts = quorumPart!.split(':');
  if (parts.length < 3 || parts.length > 4) fail(key, `'${value}' is not host:quorumPort:electionPort[:participant|:observer][;[clientAddress:]clientPort]`);
  const port = (s: string | undefined, what: string): number => {
    if (s === undefined || !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 65535) fail(key, `${what} '${s ?? ''}' is not a port number`);
    return Number(s);
  };
  const role = parts[3] ?? 'participant';
  if (role !== 'participant' && role !== 'observer') fail(key, `role '${role}' is not participant or observer`);
  let clientAddress: string | undefined;
  let clientPort: number | undefined;
  if (clientPart !== undefined && clientPart !== '') {
    const i = clientPart.lastIndexOf(':');
    clientAddress = i >= 0 ? clientPart.slice(0, i) : undefined;
    clientPort = port(i >= 0 ? clientPart.slice(i + 1) : clientPart, 'client port');
  }
  return {
    id,
    host: parts[0]!,
    quorumPort: port(parts[1], 'quorum port'),
    electionPort: port(parts[2], 'election port'),
    role: role,
    clientAddress,
    clientPort,
  };
}
