/**
 * The configuration a reconfig request asks for, computed from the last configuration seen as
 * ZooKeeper's PrepRequestProcessor does: incremental (`joiningServers` / `leavingServers`, comma
 * separated, only over a majority quorum) or non-incremental (`newMembers`, the whole new
 * membership, commas or newlines between lines). A request it cannot make sense of is refused with
 * BadArguments, one whose new config would have too few voters too.
 */
import { Err, KeeperError } from '../../proto/errors.js';
import type { ReconfigRequest } from '../../proto/records.js';
import { parseProperties, parseServerLine, type ServerLine } from '../config.js';
import type { EnsembleConfig } from './quorumConfig.js';

class BadServerLine extends Error {}

function fail(_key: string, problem: string): never {
  throw new BadServerLine(problem);
}

/** Java's Long.parseLong: an optional sign and decimal digits, within 64 bits. */
function parseLong(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v >= -(1n << 63n) && v < 1n << 63n ? v : undefined;
}

/** ZooKeeper's StringUtils.split: trimmed pieces, empty ones dropped. */
function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** A wildcard or loopback host, which ZooKeeper's duplicate check leaves out (it cannot tell those apart across machines). */
function special(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}

/** The addresses a server listens on (quorum, election, client) that the duplicate check compares. */
function addresses(s: ServerLine): string[] {
  const out = [`${s.host}:${s.quorumPort}`, `${s.host}:${s.electionPort}`].filter(() => !special(s.host));
  const clientHost = s.clientAddress ?? '0.0.0.0';
  if (s.clientPort !== undefined && !special(clientHost)) out.push(`${clientHost}:${s.clientPort}`);
  return out;
}

function incremental(last: EnsembleConfig, joining: string, leaving: string): ServerLine[] {
  if (last.hierarchy.length > 0) throw new KeeperError(Err.BadArguments);
  const next = new Map<number, ServerLine>(last.servers.map((s) => [s.id, s]));
  for (const l of splitList(leaving)) {
    const sid = parseLong(l);
    // ZooKeeper's Long.parseLong throws a NumberFormatException, which its prep answers MarshallingError.
    if (sid === undefined) throw new KeeperError(Err.MarshallingError);
    next.delete(Number(sid));
  }
  for (const j of splitList(joining)) {
    const parts = j.split('=');
    if (parts.length !== 2) throw new KeeperError(Err.BadArguments);
    const key = parts[0]!.trim();
    const sid = parseLong(key.slice(key.lastIndexOf('.') + 1));
    if (sid === undefined || sid < 0n || sid > BigInt(Number.MAX_SAFE_INTEGER)) throw new KeeperError(Err.MarshallingError);
    let s: ServerLine;
    try {
      s = parseServerLine(key, Number(sid), parts[1]!.trim(), fail);
    } catch (e) {
      if (e instanceof BadServerLine) throw new KeeperError(Err.BadArguments);
      throw e;
    }
    // Each joiner names its client port too ("each server should have 3 ports specified").
    if (s.clientPort === undefined) throw new KeeperError(Err.BadArguments);
    const mine = new Set(addresses(s));
    for (const o of next.values()) if (o.id !== s.id && addresses(o).some((a) => mine.has(a))) throw new KeeperError(Err.BadArguments);
    next.set(s.id, s);
  }
  return [...next.values()];
}

function nonIncremental(newMembers: string): { servers: ServerLine[]; hierarchy: string[] } {
  const props = parseProperties(newMembers.replaceAll(',', '\n'));
  const servers: ServerLine[] = [];
  const hierarchy: string[] = [];
  try {
    for (const [k, v] of props) {
      const m = /^server\.(\d+)$/.exec(k);
      if (m) servers.push(parseServerLine(k, Number(m[1]), v, fail));
      else if (/^(group|weight)\.\d+$/.test(k)) hierarchy.push(`${k}=${v}`);
    }
  } catch (e) {
    if (e instanceof BadServerLine) throw new KeeperError(Err.BadArguments);
    throw e;
  }
  if (servers.length === 0) throw new KeeperError(Err.BadArguments);
  return { servers, hierarchy };
}

/**
 * The new configuration (numbered `version`, the reconfig txn's zxid), or KeeperError. With
 * standaloneEnabled a config needs 2 voters at least (else the ensemble would turn standalone), 1
 * otherwise.
 */
export function requestedConfig(last: EnsembleConfig, req: ReconfigRequest, version: bigint, standaloneEnabled: boolean): EnsembleConfig {
  const next = req.newMembers !== '' ? nonIncremental(req.newMembers) : { servers: incremental(last, req.joiningServers, req.leavingServers), hierarchy: [] };
  const voters = next.servers.filter((s) => s.role === 'participant').length;
  if (voters < (standaloneEnabled ? 2 : 1)) throw new KeeperError(Err.BadArguments);
  return { ...next, version };
}
