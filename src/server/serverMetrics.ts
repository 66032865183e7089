/**
 * Process-lifetime metrics in ZooKeeper 3.8's ServerMetrics names (what mntr, the AdminServer's
 * monitor and /metrics report). Unlike ServerStats (srvr's figures, reset by srst and made anew
 * with each serving period), these only grow, as Prometheus expects of counters and summaries.
 * Every name ZooKeeper registers is here; those tszk has no counterpart of stay 0.
 */
import type { LoggedBatch, StorageObserver } from '../storage/storageObserver.js';

/** Recent samples kept for quantiles (Dropwizard's default reservoir size in ZooKeeper's summaries). */
const RESERVOIR_SIZE = 1028;

/** A ZooKeeper summary: count, sum, min, max, and quantiles over the most recent samples. */
export class Summary {
  count = 0;
  sum = 0;
  min = 0;
  max = 0;
  /** Made at the first sample: most summaries of most members never get one. */
  private recent: Float64Array | undefined;

  record(v: number): void {
    if (this.count === 0 || v < this.min) this.min = v;
    if (this.count === 0 || v > this.max) this.max = v;
    this.recent ??= new Float64Array(RESERVOIR_SIZE);
    this.recent[this.count % RESERVOIR_SIZE] = v;
    this.count++;
    this.sum += v;
  }

  get avg(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The q-quantile (0..1) of the recent samples, 0 with none. */
  quantile(q: number): number {
    const n = Math.min(this.count, RESERVOIR_SIZE);
    if (n === 0 || this.recent === undefined) return 0;
    const sorted = this.recent.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.floor(q * n))]!;
  }
}

/** ServerMetrics counters (monotonic), in the order ZooKeeper 3.8's mntr lists them. */
export const COUNTERS = [
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
export type CounterName = (typeof COUNTERS)[number];

/** ServerMetrics summaries of the BASIC kind: avg, min, max, cnt, sum. */
export const BASIC_SUMMARIES = [
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

/** ServerMetrics summaries of the ADVANCED kind: also p50, p95, p99, p999. */
export const DETAILED_SUMMARIES = [
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
export type SummaryName = (typeof BASIC_SUMMARIES)[number] | (typeof DETAILED_SUMMARIES)[number];

/**
 * ServerMetrics summary sets: one summary per key (a namespace, a learner's sid). mntr names each
 * `<key>_<name>`, Prometheus labels it `key="<key>"`. BASIC ones, then ADVANCED ones.
 */
export const BASIC_SUMMARY_SETS = ['write_per_namespace', 'read_per_namespace', 'learner_handler_qp_size'] as const;
export const DETAILED_SUMMARY_SETS = ['learner_handler_qp_time_ms', 'ack_latency'] as const;
export type SummarySetName = (typeof BASIC_SUMMARY_SETS)[number] | (typeof DETAILED_SUMMARY_SETS)[number];

/** DataTree.STAT_OVERHEAD_BYTES: what ZooKeeper adds to each read for its Stat (6 longs, 5 ints). */
const STAT_OVERHEAD_BYTES = 6 * 8 + 5 * 4;

function record<K extends string>(names: readonly K[], make: () => Summary): Record<K, Summary> {
  return Object.fromEntries(names.map((n) => [n, make()])) as Record<K, Summary>;
}

export class ServerMetrics implements StorageObserver {
  readonly counter: Record<CounterName, number> = Object.fromEntries(COUNTERS.map((n) => [n, 0])) as Record<CounterName, number>;
  readonly summary: Record<SummaryName, Summary> = record([...BASIC_SUMMARIES, ...DETAILED_SUMMARIES], () => new Summary());
  readonly summarySet: Record<SummarySetName, Map<string, Summary>> = Object.fromEntries(
    [...BASIC_SUMMARY_SETS, ...DETAILED_SUMMARY_SETS].map((n) => [n, new Map<string, Summary>()]),
  ) as Record<SummarySetName, Map<string, Summary>>;
  /** Leader: sizes of the proposals it sent (ZooKeeper's BufferStats: -1 before the first). */
  readonly proposalSize = { last: -1, min: -1, max: -1 };

  recordProposal(bytes: number): void {
    this.counter.proposal_count++;
    const p = this.proposalSize;
    p.last = bytes;
    if (p.min === -1 || bytes < p.min) p.min = bytes;
    if (bytes > p.max) p.max = bytes;
  }

  recordKeyed(set: SummarySetName, key: string, v: number): void {
    const m = this.summarySet[set];
    let s = m.get(key);
    if (s === undefined) m.set(key, (s = new Summary()));
    s.record(v);
  }

  /** A client read of `path` that found its node (DataTree.updateReadStat): path, data and Stat bytes. */
  recordRead(path: string, bytes: number): void {
    const ns = topNamespace(path);
    if (ns !== undefined) this.recordKeyed('read_per_namespace', ns, path.length + bytes + STAT_OVERHEAD_BYTES);
  }

  /** A txn changed `path` (DataTree.updateWriteStat): path and data bytes. */
  recordWrite(path: string, bytes: number): void {
    const ns = topNamespace(path);
    if (ns !== undefined) this.recordKeyed('write_per_namespace', ns, path.length + bytes);
  }

  // ---- StorageObserver: SyncRequestProcessor's, FileTxnLog's and FileTxnSnapLog's figures ----

  logQueued(txns: number, waiting: number): void {
    this.counter.sync_processor_request_queued += txns;
    this.summary.sync_processor_queue_size.record(waiting);
  }

  logWritten(b: LoggedBatch): void {
    const s = this.summary;
    s.sync_processor_batch_size.record(b.txns);
    s.sync_processor_queue_flush_time_ms.record(Math.floor(b.durable - b.started));
    for (const [queued, n] of b.runs) {
      for (let i = 0; i < n; i++) {
        s.sync_processor_queue_time_ms.record(Math.max(0, Math.floor(b.started - queued)));
        s.sync_processor_queue_and_flush_time_ms.record(Math.max(0, Math.floor(b.durable - queued)));
      }
    }
  }

  fsync(ms: number): void {
    this.summary.fsynctime.record(ms);
  }

  snapshot(ms: number): void {
    this.summary.snapshottime.record(Math.floor(ms));
  }

  recovered(r: { snapshot_ms: number; txns: number; txns_ms: number }): void {
    const s = this.summary;
    s.startup_snap_load_time.record(Math.floor(r.snapshot_ms));
    s.startup_txns_loaded.record(r.txns);
    s.startup_txns_load_time.record(Math.floor(r.txns_ms));
    s.dbinittime.record(Math.floor(r.snapshot_ms + r.txns_ms));
  }
}

/** PathUtils.getTopNamespace: the first component of a path, undefined for the root. */
function topNamespace(path: string): string | undefined {
  const end = path.indexOf('/', 1);
  const ns = end === -1 ? path.slice(1) : path.slice(1, end);
  return ns === '' ? undefined : ns;
}
