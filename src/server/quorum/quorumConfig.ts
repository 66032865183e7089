/**
 * Which quorum the ensemble uses, from zoo.cfg: a majority of the participants, or — when
 * `group.G=sid:sid:...` lines are present — ZooKeeper's hierarchical quorums (QuorumHierarchical:
 * a majority of the groups, each by a weighted majority of its members; `weight.sid=W`, default 1,
 * weight 0 members never count). Observers never count.
 */
import fs from 'node:fs';
import { majorityQuorum, hierarchicalQuorum, serverId, type QuorumVerifier, type ServerId } from '../../zab/index.js';
import { ConfigError, parseProperties, type ParsedConfig } from '../config.js';

export function quorumVerifierFrom(cfg: ParsedConfig): QuorumVerifier {
  const voters = cfg.servers.filter((s) => s.role === 'participant').map((s) => serverId(s.id));
  const observers = cfg.servers.filter((s) => s.role === 'observer').map((s) => serverId(s.id));
  const file = cfg.options.configPath;
  const props = file !== undefined && fs.existsSync(file) ? parseProperties(fs.readFileSync(file, 'utf8')) : new Map<string, string>();
  return quorumVerifierFromProps(props, voters, observers, file ?? 'zoo.cfg');
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
 * The ensemble's configuration as ZooKeeper's QuorumVerifier.toString() writes it, which every
 * FLE notification carries: `server.N=host:quorumPort:electionPort:role[;clientHost:clientPort]`
 * lines, zoo.cfg's group.N/weight.N lines, then `version=<hex>`. tszk has no dynamic
 * reconfiguration, so the version is 0: a ZooKeeper receiver acts on a notification's config only
 * when its version is above its own. It must parse, though: ZooKeeper's WorkerReceiver parses
 * every config it gets, and an empty one (no participants) under standaloneEnabled=false throws
 * an IllegalArgumentException that kills that thread, after which the peer never hears a vote.
 */
export function quorumVerifierText(cfg: ParsedConfig): string {
  const lines = cfg.servers.map((s) => {
    const client = s.clientPort === undefined ? '' : `;${s.clientAddress ?? '0.0.0.0'}:${s.clientPort}`;
    return `server.${s.id}=${s.host}:${s.quorumPort}:${s.electionPort}:${s.role}${client}`;
  });
  const file = cfg.options.configPath;
  const props = file !== undefined && fs.existsSync(file) ? parseProperties(fs.readFileSync(file, 'utf8')) : new Map<string, string>();
  for (const [k, v] of props) if (/^(zookeeper\.)?(group|weight)\.\d+$/.test(k)) lines.push(`${k.replace(/^zookeeper\./, '')}=${v}`);
  return `${lines.join('\n')}\nversion=0`;
}
