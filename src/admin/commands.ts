/**
 * The AdminServer's commands (ZooKeeper 3.8's org.apache.zookeeper.server.admin.Commands): each
 * by its primary name and aliases, answering a JSON object with ZooKeeper's keys, nesting and
 * value types, plus "command" (the primary name) and "error" (null, or why it failed).
 */
import os from 'node:os';
import path from 'node:path';
import type { AdminSource, MemberAdminSource, QuorumView } from '../server/adminSource.js';
import type { ClientConnection } from '../server/connection.js';
import { dirSize, lastSnapshot, VERSION_LINE } from './facts.js';
import { environment } from './environment.js';
import { JavaDouble, type Json } from './json.js';
import { monitorRows, monitorSnapshot } from './monitor.js';

export const NOT_SERVING_ERROR = 'This ZooKeeper instance is not currently serving requests';

/** What a command reads: the member, and what the AdminServer was started with. */
export interface CommandContext {
  readonly member: MemberAdminSource;
  /** The zoo.cfg text the server was started from (initial_configuration); undefined for a quorum peer, as in ZooKeeper. */
  readonly initialConfig: string | undefined;
  /** -D / zoo.cfg system properties, shown by system_properties. */
  readonly systemProperties: Readonly<Record<string, string>>;
}

type Answer = Record<string, Json>;

interface Command {
  readonly names: readonly [string, ...string[]];
  /** Answered only while the member serves clients (ZooKeeper's isServerRequired). */
  readonly serverRequired: boolean;
  run(ctx: CommandContext, s: AdminSource | undefined, args: URLSearchParams): Answer;
}

/** ZooTrace's mask: process-wide, as in ZooKeeper (gtmk/stmk). */
let traceMask = 306n;

const serving = (s: AdminSource | undefined): AdminSource => {
  if (s === undefined) throw new Error('command needs a serving member');
  return s;
};

const COMMANDS: readonly Command[] = [
  {
    names: ['connection_stat_reset', 'crst'],
    serverRequired: true,
    run: (_c, s) => {
      serving(s).resetConnectionStats();
      return {};
    },
  },
  {
    names: ['configuration', 'conf', 'config'],
    serverRequired: true,
    run: (c, s) => {
      const o = serving(s).options;
      return {
        client_port: o.clientPort,
        data_dir: path.join(o.dataDir, 'version-2'),
        data_log_dir: path.join(o.dataLogDir, 'version-2'),
        tick_time: o.tickTime_ms,
        max_client_cnxns: o.maxClientCnxns,
        min_session_timeout: o.minSessionTimeout_ms,
        max_session_timeout: o.maxSessionTimeout_ms,
        server_id: c.member.quorum()?.myid ?? 0,
        client_port_listen_backlog: -1,
      };
    },
  },
  {
    names: ['connections', 'cons'],
    serverRequired: true,
    run: (_c, s) => ({ connections: [...serving(s).connections()].map((c) => connectionInfo(c, false)), secure_connections: [] }),
  },
  {
    names: ['dirs'],
    serverRequired: true,
    run: (_c, s) => {
      const o = serving(s).options;
      return { datadir_size: dirSize(path.join(o.dataDir, 'version-2')), logdir_size: dirSize(path.join(o.dataLogDir, 'version-2')) };
    },
  },
  {
    names: ['dump'],
    serverRequired: true,
    run: (_c, s) => {
      const src = serving(s);
      const expiry: Record<string, bigint[]> = {};
      // Only a member that expires sessions (standalone, leader) has an expiry queue to show.
      if (src.modeName() === 'standalone' || src.modeName() === 'leader') {
        for (const ss of src.sessions.sessions.values()) (expiry[String(ss.expireAt_ms)] ??= []).push(ss.id);
      }
      const eph: Record<string, string[]> = {};
      for (const [id, paths] of src.db.tree.ephemeralsMap()) eph[String(id)] = [...paths];
      return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: eph };
    },
  },
  {
    names: ['environment', 'env', 'envi'],
    serverRequired: false,
    run: () => Object.fromEntries(environment()),
  },
  {
    names: ['get_trace_mask', 'gtmk'],
    serverRequired: false,
    run: () => ({ tracemask: traceMask }),
  },
  {
    names: ['hash'],
    serverRequired: true,
    // Jackson writes ZooKeeper's ZxidDigest beans with their fields' names in snake_case, in their order.
    run: (_c, s) => ({
      digests: serving(s)
        .db.digestLog()
        .map((d) => ({ zxid: d.zxid, digest: d.digest, digest_version: d.digestVersion })),
    }),
  },
  {
    names: ['initial_configuration', 'icfg'],
    serverRequired: true,
    run: (c) => ({ initial_configuration: c.initialConfig ?? null }),
  },
  {
    names: ['is_read_only', 'isro'],
    serverRequired: true,
    run: (_c, s) => ({ read_only: serving(s).readOnly() }),
  },
  {
    names: ['last_snapshot', 'lsnp'],
    serverRequired: true,
    run: (_c, s) => {
      const info = lastSnapshot(path.join(serving(s).options.dataDir, 'version-2'));
      return { zxid: BigInt.asUintN(64, info?.zxid ?? -1n).toString(16), timestamp: info?.timestamp_s ?? -1 };
    },
  },
  {
    names: ['leader', 'lead'],
    serverRequired: true,
    run: (c): Answer => {
      const q = c.member.quorum();
      if (q === undefined) return { error: 'server is not initialized' };
      const leader = q.servers.find((l) => l.id === q.leader);
      return { is_leader: q.role === 'LEADING', leader_id: q.leader ?? -1, leader_ip: leader?.host ?? '' };
    },
  },
  {
    names: ['monitor', 'mntr'],
    // ZooKeeper registers it as not needing a server but cannot answer without one; tszk says so.
    serverRequired: true,
    run: (c, s) => Object.fromEntries(monitorRows(monitorSnapshot(c.member, serving(s)))),
  },
  {
    names: ['observer_connection_stat_reset', 'orst'],
    serverRequired: true,
    run: () => ({}),
  },
  {
    names: ['ruok'],
    serverRequired: true,
    run: () => ({}),
  },
  {
    names: ['set_trace_mask', 'stmk'],
    serverRequired: false,
    run: (_c, _s, args): Answer => {
      const v = args.get('traceMask');
      if (v === null || !/^-?\d+$/.test(v) || BigInt(v) !== BigInt.asIntN(64, BigInt(v))) return { error: 'setTraceMask requires long traceMask argument' };
      traceMask = BigInt(v);
      return { tracemask: traceMask };
    },
  },
  {
    names: ['server_stats', 'srvr'],
    serverRequired: true,
    run: (c, s) => serverStats(c, serving(s)),
  },
  {
    names: ['stats', 'stat'],
    serverRequired: true,
    run: (c, s) => ({ ...serverStats(c, serving(s)), connections: [...serving(s).connections()].map((c) => connectionInfo(c, true)), secure_connections: [] }),
  },
  {
    names: ['stat_reset', 'srst'],
    serverRequired: true,
    run: (_c, s) => {
      serving(s).stats.reset();
      return {};
    },
  },
  {
    names: ['observers', 'obsr'],
    serverRequired: true,
    run: (c) => {
      const q = c.member.quorum();
      const observers = q?.role === 'LEADING' ? q.learners.filter((l) => !l.participant) : [];
      return {
        synced_observers: observers.filter((o) => o.synced).length,
        observers: observers.map((o) => ({
          remote_socket_address: o.remoteAddress,
          sid: o.sid,
          established: o.established_ms,
          queued_packets: 0,
          queued_packets_size: 0,
          packets_received: 0,
          packets_sent: 0,
          requests: 0,
          last_zxid: -1,
        })),
      };
    },
  },
  {
    names: ['system_properties', 'sysp'],
    serverRequired: false,
    run: (c) => systemProperties(c),
  },
  {
    names: ['voting_view'],
    serverRequired: true,
    run: (c, s) => {
      const q = c.member.quorum();
      const view: Record<string, Json> = {};
      if (q !== undefined) {
        const own = clientAddress(serving(s));
        for (const l of q.servers) {
          if (l.role !== 'participant') continue;
          const client = l.id === q.myid ? own : l.clientPort === undefined ? '' : `${l.clientAddress ?? l.host}:${l.clientPort}`;
          view[String(l.id)] = {
            server_addresses: [`${l.host}:${l.quorumPort}`],
            election_addresses: [`${l.host}:${l.electionPort}`],
            client_address: client,
            learner_type: l.role,
          };
        }
      }
      return { current_config: view };
    },
  },
  {
    names: ['watches', 'wchc'],
    serverRequired: true,
    run: (_c, s) => {
      const out: Record<string, string[]> = {};
      for (const [w, paths] of serving(s).db.tree.dataWatches.byConnection()) out[String(w.sessionId)] = [...paths];
      return { session_id_to_watched_paths: out };
    },
  },
  {
    names: ['watches_by_path', 'wchp'],
    serverRequired: true,
    run: (_c, s) => {
      const out: Record<string, bigint[]> = {};
      for (const [p, ws] of serving(s).db.tree.dataWatches.byPath()) out[p] = [...ws.keys()].map((w) => w.sessionId);
      return { path_to_session_ids: out };
    },
  },
  {
    names: ['watch_summary', 'wchs'],
    serverRequired: true,
    run: (_c, s) => {
      const sum = serving(s).db.tree.dataWatches.summary();
      return { num_connections: sum.watchers, num_paths: sum.paths, num_total_watches: sum.watches };
    },
  },
  {
    names: ['zabstate'],
    serverRequired: false,
    run: (c, s) => {
      const q = c.member.quorum();
      // ZooKeeper answers a quorum view only through a running quorum server (read-only included).
      if (q === undefined || s === undefined) return { voting: false, zabstate: '' };
      return zabState(c, q);
    },
  },
];

const BY_NAME = new Map<string, Command>(COMMANDS.flatMap((c) => c.names.map((n) => [n, c] as const)));

/** Primary names, as `GET /commands` lists them (ZooKeeper sorts them). */
export const PRIMARY_NAMES: readonly string[] = COMMANDS.map((c) => c.names[0]).sort();

/** Runs a command by any of its names: the answer always has "command" and "error". */
export function runCommand(name: string, ctx: CommandContext, args: URLSearchParams): Answer {
  const cmd = BY_NAME.get(name);
  if (cmd === undefined) return { command: name, error: `Unknown command: ${name}` };
  const s = ctx.member.servingSource();
  if (cmd.serverRequired && s === undefined) return { command: name, error: NOT_SERVING_ERROR };
  const data = cmd.run(ctx, s, args);
  // A command's own error keeps its place in front, as ZooKeeper's response map has it.
  return { ...data, command: cmd.names[0], error: data['error'] ?? null };
}

/** One connection as cons lists it; stat's list is the brief form (ZooKeeper's getConnectionInfo(brief)). */
function connectionInfo(c: ClientConnection, brief: boolean): Answer {
  const st = c.stats;
  const info: Answer = {
    remote_socket_address: `${c.remoteAddress}:${c.remotePort}`,
    interest_ops: c.state === 'open' && !c.readingPaused ? 1 : 0,
    outstanding_requests: c.queue.length,
    packets_received: st.packetsReceived,
    packets_sent: st.packetsSent,
  };
  if (brief) return info;
  return {
    ...info,
    session_id: BigInt.asIntN(64, c.sessionId),
    last_operation: st.lastOp,
    established: st.established_ms,
    session_timeout: c.sessionTimeout_ms,
    last_cxid: st.lastCxid,
    last_zxid: BigInt.asIntN(64, st.lastZxid),
    last_response_time: st.lastResponse_ms,
    last_latency: st.lastLatency_ms,
    min_latency: st.latencyCount === 0 ? 0 : st.minLatency_ms,
    avg_latency: st.latencyCount === 0 ? 0 : Math.floor(st.totalLatency_ms / st.latencyCount),
    max_latency: st.maxLatency_ms,
  };
}

function serverStats(c: CommandContext, s: AdminSource): Answer {
  const st = s.stats;
  const o = s.options;
  let conns = 0;
  for (const _ of s.connections()) conns++;
  const noBuffer = { last_buffer_size: -1, min_buffer_size: -1, max_buffer_size: -1 };
  const out: Answer = {
    version: VERSION_LINE,
    read_only: s.readOnly(),
    server_stats: {
      packets_sent: st.packetsSent,
      packets_received: st.packetsReceived,
      fsync_threshold_exceed_count: 0,
      client_response_stats: noBuffer,
      data_dir_size: dirSize(path.join(o.dataDir, 'version-2')),
      log_dir_size: dirSize(path.join(o.dataLogDir, 'version-2')),
      provider_null: false,
      server_state: s.modeName(),
      last_processed_zxid: s.db.lastProcessedZxid,
      outstanding_requests: s.outstandingRequests(),
      avg_latency: new JavaDouble(st.avgLatency),
      max_latency: st.maxLatency_ms,
      min_latency: st.minLatency,
      num_alive_client_connections: conns,
      uptime: Date.now() - s.started_ms,
      auth_failed_count: 0,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: noBuffer,
  };
  if (c.member.quorum()?.role === 'LEADING') {
    const p = c.member.metrics.proposalSize;
    out['proposal_stats'] = { last_buffer_size: p.last, min_buffer_size: p.min, max_buffer_size: p.max };
  }
  // ZooKeeper's node map holds the root under both '' and '/'.
  out['node_count'] = s.db.tree.nodeCount + 1;
  return out;
}

function clientAddress(s: AdminSource): string {
  const o = s.options;
  const host = o.clientPortAddress === '' ? '0.0.0.0' : o.clientPortAddress;
  return `${host}:${o.clientPort}`;
}

/** ZooKeeper's MultipleAddresses of one host:port, as Jackson serializes its getters. */
function addresses(host: string, port: number): Answer {
  const a = `${host}:${port}`;
  return {
    empty: false,
    all_addresses: [a],
    all_reachable_addresses: [a],
    one: a,
    reachable_address: a,
    wildcard_addresses: [`0.0.0.0:${port}`],
    all_ports: [port],
    all_host_strings: [host],
    all_reachable_addresses_or_all: [a],
    reachable_or_one: a,
  };
}

function zabState(c: CommandContext, q: QuorumView): Answer {
  const self = q.servers.find((l) => l.id === q.myid);
  const zxid = BigInt.asUintN(64, q.lastLoggedZxid);
  const o = c.member.options;
  return {
    myid: q.myid,
    is_leader: q.role === 'LEADING',
    quorum_address: self === undefined ? null : addresses(self.host, self.quorumPort),
    election_address: self === undefined ? null : addresses(self.host, self.electionPort),
    client_address: `${o.clientPortAddress === '' ? '0.0.0.0' : o.clientPortAddress}:${o.clientPort}`,
    voting: q.voting,
    last_zxid: `0x${zxid.toString(16)}`,
    zab_epoch: Number(zxid >> 32n),
    zab_counter: Number(zxid & 0xffffffffn),
    zabstate: q.zabState,
  };
}

/** Java's system properties have no Node counterpart; these are the ones with a meaning here, plus the zookeeper.* ones set. */
function systemProperties(c: CommandContext): Answer {
  const props: Record<string, string> = {
    'file.encoding': 'UTF-8',
    'file.separator': path.sep,
    'java.io.tmpdir': os.tmpdir(),
    'line.separator': os.EOL,
    'os.arch': os.arch() === 'x64' ? 'amd64' : os.arch(),
    'os.name': os.type(),
    'os.version': os.release(),
    'path.separator': path.delimiter,
    'user.dir': process.cwd(),
    'user.home': os.homedir(),
    'user.name': os.userInfo().username,
    'user.timezone': Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
  for (const [k, v] of Object.entries(c.systemProperties)) props[k.startsWith('zookeeper.') ? k : `zookeeper.${k}`] = v;
  return Object.fromEntries(Object.entries(props).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
