/**
 * Process-lifetime metrics in ZooKeeper's ServerMetrics names (what mntr, the AdminServer's
 * monitor and /metrics report). Unlike ServerStats (srvr's figures, reset by srst and made anew
 * with each serving period), these only grow, as Prometheus expects of counters and summaries.
 */

/** Recent samples kept for quantiles (Dropwizard's default reservoir size in ZooKeeper's summaries). */
const RESERVOIR_SIZE = 1028;

/** A ZooKeeper summary: count, sum, min, max, and quantiles over the most recent samples. */
export class Summary {
  count = 0;
  sum = 0;
  min = 0;
  max = 0;
  private readonly recent = new Float64Array(RESERVOIR_SIZE);

  record(v: number): void {
    if (this.count === 0 || v < this.min) this.min = v;
    if (this.count === 0 || v > this.max) this.max = v;
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
    if (n === 0) return 0;
    const sorted = this.recent.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.floor(q * n))]!;
  }
}

export class ServerMetrics {
  /** Client reads, receipt to reply (ms). */
  readonly readlatency = new Summary();
  /** Client writes, receipt to reply (ms). */
  readonly updatelatency = new Summary();
  /** LOOKING to a decided role (ms). */
  readonly election_time = new Summary();
  /** Times this member started leader election. */
  looking_count = 0;
  /** Txns committed (applied) here. */
  commit_count = 0;
  /** Leader: txns it proposed. */
  proposal_count = 0;
  /** Leader: sizes of the proposals it sent (ZooKeeper's BufferStats: -1 before the first). */
  readonly proposalSize = { last: -1, min: -1, max: -1 };

  recordProposal(bytes: number): void {
    this.proposal_count++;
    const p = this.proposalSize;
    p.last = bytes;
    if (p.min === -1 || bytes < p.min) p.min = bytes;
    if (bytes > p.max) p.max = bytes;
  }
}
