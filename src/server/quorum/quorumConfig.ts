/**
 * Which quorum the ensemble uses, from zoo.cfg: a majority of the participants, or — when
 * `group.G=sid:sid:...` lines are present — ZooKeeper's hierarchical quorums (QuorumHierarchical:
 * a majority of the groups, each by a weighted majority of its members; `weight.sid=W`, default 1,
 * weight 0 members never count). Observers never count.
 */
import fs from 'node:fs';
import { OpCode } from '../../proto/opcodes.js';
import { decodeTxn } from '../../txn/txn.js';
import { majorityQuorum, hierarchicalQuorum, serverId, type QuorumVerifier, type ServerId } from '../../zab/index.js';
import { ConfigError, parseProperties, parseServerLine, type ParsedConfig, type ServerLine } from '../config.js';

export function quorumVerifierFrom(cfg: ParsedConfig): QuorumVerifier {
  const voters = cfg.servers.filter((s) => s.role === 'participant').map((s) => serverId(s.id));
  const observers = cfg.servers.filter((s) => s.role === 'observer').map((s) => serverId(s.id));
  return quorumVerifierFromProps(membershipProps(cfg), voters, observers, cfg.dynamicConfig?.path ?? cfg.options.configPath ?? 'zoo.cfg');
}

/** zoo.cfg's keys with the dynamic config file's (group.N / weight.N lines may be in either). */
function membershipProps(cfg: ParsedConfig): Map<string, string> {
  const file = cfg.options.configPath;
  const props = file !== undefined && fs.existsSync(file) ? parseProperties(fs.readFileSync(file, 'utf8')) : new Map<string, string>();
  if (cfg.dynamicConfig !== undefined) for (const [k, v] of parseProperties(cfg.dynamicConfig.text)) props.set(k, v);
  return props;
}

export function quorumVerifierFromProps(props: ReadonlyMap<string, string>, voters: ServerId[], observers: ServerId[], file: string): QuorumVerifier {
  const groups: ServerId[][] = [];
  const weights = new Map<ServerId, number>();
  const inGroup = new Set<bigint>();
  for (const [k0, v] of props) {
    const k = k0.startsWith('zookeeper.') ? k0.slice('zookeeper.'.length) : k0;
    let m = /^group\.(\d+)$/.exec(k);
    if (m) {
      const members = v.split(':').map((x) => x.trim());
      const g: ServerId[] = [];
      for (const x of members) {
        if (!/^\d+$/.test(x)) throw new ConfigError(k, `'${v}' is not sid:sid:...`, file);
        const sid = serverId(BigInt(x));
        if (inGroup.has(sid)) throw new ConfigError(k, `server ${x} is in more than one group`, file);
        inGroup.add(sid);
        g.push(sid);
      }
      groups.push(g);
      continue;
    }
    m = /^weight\.(\d+)$/.exec(k);
    if (m) {
      const w = Number(v);
      if (!Number.isInteger(w) || w < 0) throw new ConfigError(k, `'${v}' is not a weight (integer >= 0)`, file);
      weights.set(serverId(BigInt(m[1]!)), w);
    }
  }
  if (groups.length === 0) {
    if (weights.size > 0) throw new ConfigError('weight', 'weights need group.N lines (hierarchical quorums)', file);
    return majorityQuorum(voters, observers);
  }
  for (const v of voters) if (!inGroup.has(v)) throw new ConfigError(`server.${v}`, 'is a participant in no group (every participant needs a group.N)', file);
  for (const s of inGroup) if (!voters.includes(s as ServerId)) throw new ConfigError('group', `server ${s} is in a group but is not a participant`, file);
  return hierarchicalQuorum(groups, weights, observers);
}

/**
 * The ensemble's membership as ZooKeeper's QuorumVerifier holds it: the server lines, zoo.cfg's
 * group.N/weight.N lines (hierarchical quorums), and the config version — 0 for a static zoo.cfg,
 * the zxid of the reconfig txn that made it otherwise (the dynamic config file's name says it).
 */
export interface EnsembleConfig {
  servers: readonly ServerLine[];
  /** `group.N=...` / `weight.N=...` lines, as written in zoo.cfg. */
  hierarchy: readonly string[];
  version: bigint;
}

export function ensembleConfigOf(cfg: ParsedConfig): EnsembleConfig {
  const hierarchy: string[] = [];
  for (const [k, v] of membershipProps(cfg)) if (/^(zookeeper\.)?(group|weight)\.\d+$/.test(k)) hierarchy.push(`${k.replace(/^zookeeper\./, '')}=${v}`);
  return { servers: cfg.servers, hierarchy, version: cfg.dynamicConfig?.version ?? 0n };
}

/** One server line's value as QuorumServer.toString() writes it (a client port without address binds 0.0.0.0). */
export function serverSpec(s: ServerLine): string {
  const client = s.clientPort === undefined ? '' : `;${s.clientAddress ?? '0.0.0.0'}:${s.clientPort}`;
  return `${s.host}:${s.quorumPort}:${s.electionPort}:${s.role}${client}`;
}

/**
 * The configuration as ZooKeeper's QuorumVerifier.toString() writes it, which every FLE
 * notification carries and /zookeeper/config holds: `server.N=host:quorumPort:electionPort:role
 * [;clientHost:clientPort]` lines in ascending id (the order ZooKeeper's HashMap of members gives
 * small ids), zoo.cfg's group.N/weight.N lines, then `version=<hex>`. A ZooKeeper receiver acts on
 * a notification's config only when its version is above its own. It must parse, though:
 * ZooKeeper's WorkerReceiver parses every config it gets, and an empty one (no participants)
 * under standaloneEnabled=false throws an IllegalArgumentException that kills that thread, after
 * which the peer never hears a vote.
 */
export function configText(c: EnsembleConfig): string {
  const lines = [...c.servers].sort((a, b) => a.id - b.id).map((s) => `server.${s.id}=${serverSpec(s)}`);
  return `${[...lines, ...c.hierarchy].join('\n')}\nversion=${c.version.toString(16)}`;
}

/** The static zoo.cfg's configuration text (version 0). */
export function quorumVerifierText(cfg: ParsedConfig): string {
  return configText(ensembleConfigOf(cfg));
}

/** Reads configText's output back (a reconfig txn's data, /zookeeper/config); undefined when it is not one. */
export function parseConfigText(text: string): EnsembleConfig | undefined {
  const servers: ServerLine[] = [];
  const hierarchy: string[] = [];
  let version: bigint | undefined;
  const fail = (key: string, problem: string): never => {
    throw new ConfigError(key, problem);
  };
  try {
    for (const [k, v] of parseProperties(text)) {
      const m = /^server\.(\d+)$/.exec(k);
      if (m) servers.push(parseServerLine(k, Number(m[1]), v, fail));
      else if (/^(group|weight)\.\d+$/.test(k)) hierarchy.push(`${k}=${v}`);
      else if (k === 'version' && /^[0-9a-f]+$/i.test(v)) version = BigInt(`0x${v}`);
    }
  } catch (e) {
    if (e instanceof ConfigError) return undefined;
    throw e;
  }
  return version === undefined || servers.length === 0 ? undefined : { servers, hierarchy, version };
}

/** The quorum a configuration makes (its voters, observers and group/weight lines). */
export function quorumVerifierOf(c: EnsembleConfig): QuorumVerifier {
  const voters = c.servers.filter((s) => s.role === 'participant').map((s) => serverId(s.id));
  const observers = c.servers.filter((s) => s.role === 'observer').map((s) => serverId(s.id));
  return quorumVerifierFromProps(parseProperties(c.hierarchy.join('\n')), voters, observers, '/zookeeper/config');
}

/** Where a TxnHeader holds its type: after long clientId, int cxid, long zxid, long time. */
const TXN_HEADER_TYPE_OFFSET = 28;
const CONFIG_TEXT_START = Buffer.from('server.', 'utf8');

/**
 * The configuration that config bytes carry, as the ZAB core hands them over: a reconfig txn's
 * payload (logged, proposed), or the config text itself (NEWLEADER, notifications, the dynamic
 * config file). Undefined for anything else — every other txn is told apart by its header's type
 * without decoding it.
 */
export function ensembleConfigOfData(data: Buffer): EnsembleConfig | undefined {
  if (data.length > TXN_HEADER_TYPE_OFFSET + 4 && data.readInt32BE(TXN_HEADER_TYPE_OFFSET) === OpCode.reconfig) {
    const b = decodeTxn(data).body;
    return b.type === OpCode.reconfig && b.txn.data !== null ? parseConfigText(b.txn.data.toString('utf8')) : undefined;
  }
  if (data.subarray(0, CONFIG_TEXT_START.length).equals(CONFIG_TEXT_START)) return parseConfigText(data.toString('utf8'));
  return undefined;
}

/** The core's `reconfigOf` (ZooKeeper's configFromString on a committed reconfig). */
export function reconfigOf(data: Buffer): QuorumVerifier | null {
  const c = ensembleConfigOfData(data);
  return c === undefined ? null : quorumVerifierOf(c);
}
