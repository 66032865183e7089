/**
 * The monitor values (mntr, the AdminServer's `monitor`, and /metrics): ZooKeeper 3.8's own names
 * and kinds, from the member's counters. ZooKeeper reports every metric its ServerMetrics
 * registers, tracked or not; tszk does the same (0 for what it has no counterpart of), so tools
 * that read a fixed key set find every key.
 */
import type { AdminSource, MemberAdminSource } from '../server/adminSource.js';
import { BASIC_SUMMARIES, BASIC_SUMMARY_SETS, COUNTERS, DETAILED_SUMMARIES, DETAILED_SUMMARY_SETS, type CounterName } from '../server/serverMetrics.js';
import { maxFds, openFds, VERSION_LINE } from './facts.js';
import { JavaDouble, type Json } from './json.js';

/** The quantiles a DETAILED summary reports, as mntr names them and as Prometheus labels them. */
export const QUANTILES = [
  ['p50', 0.5],
  ['p95', 0.95],
  ['p99', 0.99],
  ['p999', 0.999],
] as const;

export interface SummaryValues {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly avg: number;
  quantile(q: number): number;
}

export interface SummaryEntry {
  readonly name: string;
  /** A summary set's key (a namespace, a learner's sid): Prometheus's `key` label. */
  readonly key?: string;
  readonly detailed: boolean;
  readonly values: SummaryValues;
}

/** One member's monitor values, structured by kind (mntr flattens them, /metrics types them). */
export interface MonitorSnapshot {
  /** Strings and numbers, in mntr's order; numbers are gauges. */
  readonly gauges: ReadonlyArray<readonly [string, string | number | JavaDouble]>;
  readonly counters: ReadonlyArray<readonly [string, number]>;
  /** Summaries, then summary sets' members (each family's members together). */
  readonly summaries: readonly SummaryEntry[];
}

export function monitorSnapshot(member: MemberAdminSource, s: AdminSource): MonitorSnapshot {
  const st = s.stats;
  const tree = s.db.tree;
  const q = member.quorum();
  const m = member.metrics;
  let conns = 0;
  for (const _ of s.connections()) conns++;
  const gauges: [string, string | number | JavaDouble][] = [
    ['version', VERSION_LINE],
    ['server_state', s.modeName()],
  ];
  if (q !== undefined) gauges.push(['peer_state', `${q.role.toLowerCase()} - ${q.zabState}`]);
  gauges.push(
    ['ephemerals_count', tree.ephemeralCount],
    ['num_alive_connections', conns],
    ['avg_latency', new JavaDouble(st.avgLatency)],
    ['outstanding_requests', s.outstandingRequests()],
    // ZooKeeper's node map holds the root under both '' and '/', and its count includes both.
    ['znode_count', tree.nodeCount + 1],
    ['global_sessions', s.sessions.sessions.size],
    ['non_mtls_remote_conn_count', 0],
    ['last_client_response_size', -1],
    ['packets_sent', st.packetsSent],
    ['packets_received', st.packetsReceived],
    ['max_client_response_size', -1],
    ['connection_drop_probability', new JavaDouble(0)],
    ['watch_count', tree.dataWatches.summary().watches],
    ['auth_failed_count', 0],
    ['min_latency', st.minLatency],
    ['max_file_descriptor_count', maxFds()],
    ['approximate_data_size', tree.approximateDataSize()],
    ['open_file_descriptor_count', openFds()],
    ['local_sessions', 0],
    ['uptime', Date.now() - s.started_ms],
    ['max_latency', st.maxLatency_ms],
    ['outstanding_tls_handshake', 0],
    ['min_client_response_size', -1],
    ['non_mtls_local_conn_count', 0],
  );
  if (q !== undefined && q.role === 'LEADING') {
    const synced = q.learners.filter((l) => l.synced);
    const p = m.proposalSize;
    gauges.push(
      ['learners', q.learners.length],
      ['synced_followers', synced.filter((l) => l.participant).length],
      ['synced_non_voting_followers', 0],
      ['synced_observers', synced.filter((l) => !l.participant).length],
      ['pending_syncs', q.pendingSyncs],
      ['leader_uptime', q.leadingSince_ms === undefined ? 0 : Date.now() - q.leadingSince_ms],
      ['last_proposal_size', p.last],
      ['min_proposal_size', p.min],
      ['max_proposal_size', p.max],
    );
  }
  if (q !== undefined && q.role === 'OBSERVING') gauges.push(['observer_master_id', q.leader ?? -1]);
  if (q !== undefined) gauges.push(['quorum_size', q.quorumSize]);

  const overrides: Partial<Record<CounterName, number>> = {
    digest_mismatches_count: s.db.digestMismatches,
    // Sessions the tracker expired (ZooKeeper counts them as it expires them).
    stale_sessions_expired: st.expiredSessions,
  };
  const counters = COUNTERS.map((n) => [n, overrides[n] ?? m.counter[n]] as const);
  const summaries: SummaryEntry[] = [
    ...BASIC_SUMMARIES.map((name) => ({ name, detailed: false, values: m.summary[name] })),
    ...DETAILED_SUMMARIES.map((name) => ({ name, detailed: true, values: m.summary[name] })),
  ];
  for (const [sets, detailed] of [
    [BASIC_SUMMARY_SETS, false],
    [DETAILED_SUMMARY_SETS, true],
  ] as const) {
    for (const name of sets) for (const [key, values] of m.summarySet[name]) summaries.push({ name, key, detailed, values });
  }
  return { gauges, counters, summaries };
}

/** The snapshot as ZooKeeper's monitor lists it: gauges, counters, then each summary's avg/min/max/cnt/sum(/quantiles). */
export function monitorRows(snap: MonitorSnapshot): [string, Json][] {
  const rows: [string, Json][] = [...snap.gauges, ...snap.counters].map(([k, v]) => [k, v]);
  for (const { name: family, key, detailed, values: v } of snap.summaries) {
    // A summary set's member is named `<key>_<name>` (AvgMinMaxCounterSet).
    const name = key === undefined ? family : `${key}_${family}`;
    rows.push([`avg_${name}`, new JavaDouble(v.avg)], [`min_${name}`, v.min], [`max_${name}`, v.max], [`cnt_${name}`, v.count], [`sum_${name}`, v.sum]);
    if (detailed) for (const [label, q] of QUANTILES) rows.push([`${label}_${name}`, v.quantile(q)]);
  }
  return rows;
}
