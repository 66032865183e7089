/**
 * The monitor values (mntr, the AdminServer's `monitor`, and /metrics): ZooKeeper 3.8's own names
 * and kinds, from the member's counters. ZooKeeper reports every metric its ServerMetrics
 * registers, tracked or not; tszk does the same (0 for what it has no counterpart of), so tools
 * that read a fixed key set find every key.
 */
import type { AdminSource, MemberAdminSource } from '../server/adminSource.js';
import { maxFds, openFds, VERSION_LINE } from './facts.js';
import { JavaDouble, type Json } from './json.js';

/** ServerMetrics counters (monotonic). */
const COUNTERS = [
  'proposal_count',
  'watch_bytes',
  'outstanding_changes_removed',
  'throttled_ops',
  'stale_requests_dropped',
  'large_requests_rejected',
  'insecure_admin_count',
  'connection_rejected',
  'cnxn_closed_without_zk_server_running',
  'sessionless_connections_expired',
  'looking_count',
  'dead_watchers_queued',
  'stale_requests',
  'connection_drop_count',
  'learner_proposal_received_count',
  'digest_mismatches_count',
  'dead_watchers_cleared',
  'response_packet_cache_hits',
  'bytes_received_count',
  'add_dead_watcher_stall_time',
  'request_throttle_wait_count',
  'requests_not_forwarded_to_commit_processor',
  'response_packet_cache_misses',
  'ensemble_auth_success',
  'prep_processor_request_queued',
  'learner_commit_received_count',
  'stale_replies',
  'connection_request_count',
  'response_bytes',
  'ensemble_auth_fail',
  'diff_count',
  'response_packet_get_children_cache_misses',
  'connection_revalidate_count',
  'quit_leading_due_to_disloyal_voter',
  'snap_count',
  'unrecoverable_error_count',
  'unsuccessful_handshake',
  'commit_count',
  'stale_sessions_expired',
  'response_packet_get_children_cache_hits',
  'sync_processor_request_queued',
  'outstanding_changes_queued',
  'request_commit_queued',
  'ensemble_auth_skip',
  'skip_learner_request_to_next_processor_count',
  'tls_handshake_exceeded',
  'revalidate_count',
] as const;

/** ServerMetrics summaries of the BASIC kind: avg, min, max, cnt, sum. */
const BASIC_SUMMARIES = [
  'socket_closing_time',
  'proposal_process_time',
  'leader_unavailable_time',
  'node_created_watch_count',
  'session_queues_drained',
  'write_commit_proc_req_queued',
  'connection_token_deficit',
  'read_commit_proc_req_queued',
  'node_deleted_watch_count',
  'startup_txns_load_time',
  'sync_processor_queue_size',
  'follower_sync_time',
  'prep_processor_queue_size',
  'fsynctime',
  'inflight_snap_count',
  'reads_issued_from_session_queue',
  'learner_request_processor_queue_size',
  'snapshottime',
  'unavailable_time',
  'startup_txns_loaded',
  'reads_after_write_in_session_queue',
  'requests_in_session_queue',
  'write_commit_proc_issued',
  'prep_process_time',
  'pending_session_queue_size',
  'time_waiting_empty_pool_in_commit_processor_read_ms',
  'commit_process_time',
  'dbinittime',
  'inflight_diff_count',
  'netty_queued_buffer_capacity',
  'election_time',
  'commit_commit_proc_req_queued',
  'sync_processor_batch_size',
  'node_children_watch_count',
  'write_batch_time_in_commit_processor',
  'read_commit_proc_issued',
  'concurrent_request_processing_in_commit_processor',
  'observer_sync_time',
  'node_changed_watch_count',
  'sync_process_time',
  'startup_snap_load_time',
] as const;

/** ServerMetrics summaries of the DETAILED kind: also p50, p95, p99, p999. */
const DETAILED_SUMMARIES = [
  'prep_processor_queue_time_ms',
  'jvm_pause_time_ms',
  'close_session_prep_time',
  'read_commitproc_time_ms',
  'updatelatency',
  'local_write_committed_time_ms',
  'request_throttle_queue_time_ms',
  'readlatency',
  'quorum_ack_latency',
  'om_commit_process_time_ms',
  'read_final_proc_time_ms',
  'commit_propagation_latency',
  'dead_watchers_cleaner_latency',
  'write_final_proc_time_ms',
  'proposal_ack_creation_latency',
  'proposal_latency',
  'om_proposal_process_time_ms',
  'sync_processor_queue_and_flush_time_ms',
  'propagation_latency',
  'server_write_committed_time_ms',
  'sync_processor_queue_time_ms',
  'sync_processor_queue_flush_time_ms',
  'write_commitproc_time_ms',
] as const;

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

const EMPTY_SUMMARY: SummaryValues = { count: 0, sum: 0, min: 0, max: 0, avg: 0, quantile: () => 0 };

/** One member's monitor values, structured by kind (mntr flattens them, /metrics types them). */
export interface MonitorSnapshot {
  /** Strings and numbers, in mntr's order; numbers are gauges. */
  readonly gauges: ReadonlyArray<readonly [string, string | number | JavaDouble]>;
  readonly counters: ReadonlyArray<readonly [string, number]>;
  readonly summaries: ReadonlyArray<{ readonly name: string; readonly detailed: boolean; readonly values: SummaryValues }>;
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
      ['pending_syncs', 0],
      ['leader_uptime', q.leadingSince_ms === undefined ? 0 : Date.now() - q.leadingSince_ms],
      ['last_proposal_size', p.last],
      ['min_proposal_size', p.min],
      ['max_proposal_size', p.max],
    );
  }
  if (q !== undefined && q.role === 'OBSERVING') gauges.push(['observer_master_id', q.leader ?? -1]);
  if (q !== undefined) gauges.push(['quorum_size', q.quorumSize]);

  const counterValues: Partial<Record<(typeof COUNTERS)[number], number>> = {
    proposal_count: m.proposal_count,
    looking_count: m.looking_count,
    commit_count: m.commit_count,
    digest_mismatches_count: s.db.digestMismatches,
    // Sessions the tracker expired (ZooKeeper counts them as it expires them).
    stale_sessions_expired: st.expiredSessions,
  };
  const counters = COUNTERS.map((n) => [n, counterValues[n] ?? 0] as const);

  const fsync = sinkSummary(s.sinkMetrics(), 'fsynctime');
  const summaryValues: Partial<Record<string, SummaryValues>> = {
    readlatency: m.readlatency,
    updatelatency: m.updatelatency,
    election_time: m.election_time,
    fsynctime: fsync,
  };
  const summaries = [
    ...BASIC_SUMMARIES.map((name) => ({ name, detailed: false, values: summaryValues[name] ?? EMPTY_SUMMARY })),
    ...DETAILED_SUMMARIES.map((name) => ({ name, detailed: true, values: summaryValues[name] ?? EMPTY_SUMMARY })),
  ];
  return { gauges, counters, summaries };
}

/** The snapshot as ZooKeeper's monitor lists it: gauges, counters, then each summary's avg/min/max/cnt/sum(/quantiles). */
export function monitorRows(snap: MonitorSnapshot): [string, Json][] {
  const rows: [string, Json][] = [...snap.gauges, ...snap.counters].map(([k, v]) => [k, v]);
  for (const { name, detailed, values: v } of snap.summaries) {
    rows.push([`avg_${name}`, new JavaDouble(v.avg)], [`min_${name}`, v.min], [`max_${name}`, v.max], [`cnt_${name}`, v.count], [`sum_${name}`, v.sum]);
    if (detailed) for (const [label, q] of QUANTILES) rows.push([`${label}_${name}`, v.quantile(q)]);
  }
  return rows;
}

/** A summary the durable log reports as zk_{avg,min,max,cnt,sum}_<name> lines (no quantiles kept there). */
function sinkSummary(lines: ReadonlyArray<readonly [string, number]>, name: string): SummaryValues {
  const get = (k: string): number => lines.find(([n]) => n === `zk_${k}_${name}`)?.[1] ?? 0;
  return { count: get('cnt'), sum: get('sum'), min: get('min'), max: get('max'), avg: get('avg'), quantile: () => 0 };
}
