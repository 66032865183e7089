/**
 * Reconfiguration in the simulator of the real servers (serverSim.ts): the reconfig requests its
 * clients send (opcode 16, incremental or with the whole new membership, some of them bound to be
 * refused) and the checkers of ZooKeeper's reconfig guarantees — every member's config in force at
 * a version is the one the reconfig txn of that zxid committed, /zookeeper/config agrees, a member
 * serves clients on the port its config gives it, an Ok answer carries the config asked for and
 * committed, and refusals have ZooKeeper's error codes.
 */
import { Err } from '../proto/errors.js';
import type { ReconfigRequest } from '../proto/records.js';
import type { ServerLine } from '../server/config.js';
import { configText, parseConfigText, serverSpec, type EnsembleConfig } from '../server/quorum/quorumConfig.js';
import { counterOf, type Zxid } from '../zab/types.js';
import { fail } from './committedSequence.js';
import type { Prng } from './prng.js';

/** Client ports a reconfig may move a member to (the simulated hosts accept on any). */
const CLIENT_PORTS = [2181, 2182, 2183] as const;

/** What a simulated client asks for, and what it may be answered. */
export interface ReconfigAsk {
  kind: string;
  req: ReconfigRequest;
  /** The request leaves fewer than two voters of the config it was drawn against: it must be refused with BadArguments. */
  noQuorum: boolean;
  /** The version of the config it was drawn against. */
  base: bigint;
  /** Incremental: lines that must be in the answer as written, ids that must be gone. Non-incremental: the whole membership. */
  joining: ServerLine[];
  leaving: number[];
  members: ServerLine[] | undefined;
}

/** The request as a trace line shows it. */
export function describeAsk(a: ReconfigAsk): string {
  const r = a.req;
  const parts = [
    r.joiningServers && `joining ${r.joiningServers}`,
    r.leavingServers && `leaving ${r.leavingServers}`,
    r.newMembers && `newMembers ${r.newMembers.replaceAll('\n', ',')}`,
  ];
  return `${a.kind}: ${parts.filter(Boolean).join('; ')} fromConfig ${r.curConfigId === -1n ? -1 : r.curConfigId.toString(16)}`;
}

function serverLine(id: number, role: ServerLine['role'], clientPort: number): ServerLine {
  return { id, host: `10.0.0.${id}`, quorumPort: 2888, electionPort: 3888, role, clientAddress: undefined, clientPort };
}

const lineText = (s: ServerLine): string => `server.${s.id}=${serverSpec(s)}`;

/**
 * A reconfig a client sends, drawn against the newest committed config `cur`: a voter moved to
 * observer or back, a follower or the leader removed, a removed member added back, a client port
 * moved, incremental or as the whole new membership; now and then one that leaves no quorum, and
 * `fromConfig` now and then stale.
 */
export function drawReconfig(prng: Prng, cur: EnsembleConfig, ids: readonly number[], leader: number | undefined): ReconfigAsk {
  const voters = cur.servers.filter((s) => s.role === 'participant');
  const observers = cur.servers.filter((s) => s.role === 'observer');
  const absent = ids.filter((id) => !cur.servers.some((s) => s.id === id));
  const port = (s: ServerLine | undefined): number => s?.clientPort ?? CLIENT_PORTS[0];
  const followers = voters.filter((s) => s.id !== leader);
  const kinds = [
    followers.length > 0 ? 'removeFollower' : null,
    leader !== undefined && voters.some((s) => s.id === leader) ? 'removeLeader' : null,
    voters.length > 0 ? 'toObserver' : null,
    observers.length > 0 ? 'toParticipant' : null,
    absent.length > 0 ? 'addBack' : null,
    absent.length > 0 ? 'addBack' : null,
    'clientPort',
    'noQuorum',
  ].filter((k): k is string => k !== null);
  const kind = prng.pick(kinds);
  let joining: ServerLine[] = [];
  let leaving: number[] = [];
  switch (kind) {
    case 'removeFollower':
      leaving = [prng.pick(followers).id];
      break;
    case 'removeLeader':
      leaving = [leader!];
      break;
    case 'toObserver': {
      const s = prng.pick(voters);
      joining = [{ ...s, role: 'observer' }];
      break;
    }
    case 'toParticipant': {
      const s = prng.pick(observers);
      joining = [{ ...s, role: 'participant' }];
      break;
    }
    case 'addBack':
      joining = [serverLine(prng.pick(absent), prng.chance(0.7) ? 'participant' : 'observer', CLIENT_PORTS[0])];
      break;
    case 'clientPort': {
      const s = prng.pick(cur.servers);
      const others = CLIENT_PORTS.filter((p) => p !== port(s));
      joining = [{ ...s, clientPort: prng.pick(others) }];
      break;
    }
    case 'noQuorum':
      leaving = voters.slice(1).map((s) => s.id);
      break;
  }
  const members = applied(cur, joining, leaving);
  const noQuorum = tooFewVoters(members);
  const r = prng.float();
  const curConfigId = r < 0.6 ? -1n : r < 0.9 ? cur.version : cur.version - 1n;
  // Now and then the whole new membership instead (newMembers, lines split by commas or newlines).
  if (kind !== 'noQuorum' && prng.chance(0.3)) {
    const newMembers = members.map(lineText).join(prng.chance(0.5) ? ',' : '\n');
    const req = { joiningServers: '', leavingServers: '', newMembers, curConfigId };
    return { kind: `${kind} (newMembers)`, req, noQuorum, base: cur.version, joining: [], leaving: [], members };
  }
  const req = { joiningServers: joining.map(lineText).join(','), leavingServers: leaving.join(','), newMembers: '', curConfigId };
  return { kind, req, noQuorum, base: cur.version, joining, leaving, members: undefined };
}

function applied(c: EnsembleConfig, joining: readonly ServerLine[], leaving: readonly number[]): ServerLine[] {
  const next = new Map(c.servers.map((s) => [s.id, s]));
  for (const id of leaving) next.delete(id);
  for (const s of joining) next.set(s.id, s);
  return [...next.values()];
}

/** ZooKeeper refuses (BadArguments) a config with fewer than two voters while standaloneEnabled. */
const tooFewVoters = (servers: readonly ServerLine[]): boolean => servers.filter((s) => s.role === 'participant').length < 2;

/** Errors a reconfig may be answered with that say nothing about it (the connection or session went). */
const UNRELATED: readonly number[] = [Err.ConnectionLoss, Err.SessionExpired, Err.SessionMoved, Err.OperationTimeout, Err.NotReadOnly];

/**
 * The configs reconfig txns committed, in order, and the checks of every member's against them.
 * Version 0 is a member's own static zoo.cfg; a version with counter 0 is the static config a
 * leader numbered with its epoch's first zxid (ZOOKEEPER-1783): never a txn, one text per epoch.
 */
export class ConfigHistory {
  readonly committed: EnsembleConfig[] = [];
  private readonly texts = new Map<bigint, string>();
  private readonly epochConfigs = new Map<bigint, string>();
  refused = 0;
  answeredOk = 0;
  /** Checked after every event: each config object (and /zookeeper/config buffer) is judged once. */
  private readonly held = new WeakMap<EnsembleConfig, string>();
  private readonly parsed = new WeakMap<Buffer, EnsembleConfig>();

  constructor(private readonly staticConfig: EnsembleConfig) {}

  newest(): EnsembleConfig {
    return this.committed[this.committed.length - 1] ?? this.staticConfig;
  }

  /** The reconfig txn `zxid` committed with this /zookeeper/config text. */
  onCommitted(zxid: bigint, text: string): EnsembleConfig {
    const c = parseConfigText(text);
    if (c === undefined || c.version !== zxid)
      fail('config', `reconfig txn 0x${zxid.toString(16)} committed config text that is not version ${zxid.toString(16)}: ${text}`);
    this.committed.push(c);
    this.texts.set(zxid, configText(c));
    return c;
  }

  /** The request leaves too few voters in the config it was drawn against or one committed since (the leader's may be either). */
  private leavesNoQuorum(ask: ReconfigAsk): boolean {
    if (ask.noQuorum) return true;
    if (ask.members !== undefined) return false;
    return this.committed.some((c) => c.version > ask.base && tooFewVoters(applied(c, ask.joining, ask.leaving)));
  }

  /** A config a member holds in force (or wrote to its dynamic config file): the committed one of its version. */
  checkHeld(id: number, c: EnsembleConfig, what: string): void {
    if (c.version === 0n || this.held.has(c)) return;
    const text = configText(c);
    if (counterOf(c.version as Zxid) === 0n) {
      const seen = this.epochConfigs.get(c.version);
      if (seen === undefined) this.epochConfigs.set(c.version, text);
      else if (seen !== text) fail('config', `peer ${id}'s ${what} at version ${c.version.toString(16)} differs from another member's: ${text} vs ${seen}`);
      this.held.set(c, text);
      return;
    }
    const want = this.texts.get(c.version);
    if (want === undefined) fail('config', `peer ${id}'s ${what} is version ${c.version.toString(16)}, which no reconfig committed`);
    if (want !== text) fail('config', `peer ${id}'s ${what} at version ${c.version.toString(16)} is ${text}, the committed one ${want}`);
    this.held.set(c, text);
  }

  /** A member's /zookeeper/config, its tree at `zxid`: the config of a committed reconfig at or after the newest one up to `zxid`. */
  checkTree(id: number, zxid: bigint, data: Buffer | null | undefined): void {
    let c = data === null || data === undefined ? undefined : this.parsed.get(data);
    if (c === undefined && data !== null && data !== undefined) {
      c = parseConfigText(data.toString('utf8'));
      if (c !== undefined) this.parsed.set(data, c);
    }
    if (c === undefined) fail('config', `peer ${id}'s /zookeeper/config holds no config`);
    this.checkHeld(id, c, '/zookeeper/config');
    let floor = 0n;
    for (const x of this.committed) if (x.version <= zxid) floor = x.version;
    if (c.version < floor)
      fail(
        'config',
        `peer ${id}'s tree at 0x${zxid.toString(16)} shows config ${c.version.toString(16)} in /zookeeper/config, older than reconfig ${floor.toString(16)}`,
      );
  }

  /** A member listening for clients serves on the port its config in force gives it. */
  checkPort(id: number, c: EnsembleConfig, listening: number): void {
    const me = c.servers.find((s) => s.id === id);
    if (me?.clientPort !== undefined && me.clientPort !== listening)
      fail('config', `peer ${id} serves clients on port ${listening}, its config in force (version ${c.version.toString(16)}) gives it ${me.clientPort}`);
  }

  /**
   * The answer to `ask`. Ok: its data is the new config, committed by then, made from the config
   * it named (curConfigId) and holding what was asked. A refusal: one of ZooKeeper's codes for it.
   */
  judge(client: number, ask: ReconfigAsk, err: number, zxid: bigint, data: Buffer | null, mzxid: bigint): void {
    const what = `client ${client}'s reconfig (${describeAsk(ask)})`;
    if (err !== Err.Ok) {
      const fits =
        err === Err.ReconfigInProgress ||
        err === Err.NewConfigNoQuorum ||
        (err === Err.BadVersion && ask.req.curConfigId !== -1n) ||
        (err === Err.BadArguments && this.leavesNoQuorum(ask));
      if (fits) this.refused++;
      else if (!UNRELATED.includes(err)) fail('reconfig', `${what} was answered error ${err}`);
      return;
    }
    if (this.leavesNoQuorum(ask) && ask.members !== undefined) fail('reconfig', `${what} leaves no quorum, yet was answered Ok`);
    const c = data === null ? undefined : parseConfigText(data.toString('utf8'));
    if (c === undefined) fail('reconfig', `${what} was answered Ok with no config: ${data?.toString('utf8')}`);
    if (c.version !== zxid || mzxid !== zxid)
      fail('reconfig', `${what} was answered Ok at 0x${zxid.toString(16)} with config version ${c.version.toString(16)}, mzxid 0x${mzxid.toString(16)}`);
    const i = this.committed.findIndex((x) => x.version === zxid);
    if (i < 0) fail('reconfig', `${what} was answered Ok at 0x${zxid.toString(16)} before that reconfig committed`);
    if (configText(this.committed[i]!) !== configText(c)) fail('reconfig', `${what} was answered a config other than the one committed`);
    const before = this.committed[i - 1];
    if (ask.req.curConfigId !== -1n && before !== undefined && before.version !== ask.req.curConfigId)
      fail('reconfig', `${what} named config ${ask.req.curConfigId.toString(16)}, but was made from ${before.version.toString(16)}`);
    const has = (s: ServerLine): boolean => c.servers.some((x) => x.id === s.id && serverSpec(x) === serverSpec(s));
    const asked = ask.members ?? ask.joining;
    for (const s of asked) if (!has(s)) fail('reconfig', `${what} was answered Ok with a config lacking ${lineText(s)}: ${configText(c)}`);
    for (const id of ask.leaving)
      if (c.servers.some((x) => x.id === id)) fail('reconfig', `${what} was answered Ok with server ${id} still in: ${configText(c)}`);
    if (ask.members !== undefined && c.servers.length !== ask.members.length) fail('reconfig', `${what} was answered Ok with other members: ${configText(c)}`);
    this.answeredOk++;
  }
}
