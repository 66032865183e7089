/** Server-wide counters for srvr/stat/mntr (ServerStats in ZooKeeper). */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  minLatency_ms = Number.MAX_SAFE_INTEGER;
  maxLatency_ms = 0;
  totalLatency_ms = 0;
  count = 0;
  expiredSessions = 0;

  recordLatency(ms: number): void {
    const v = Math.max(0, ms);
    if (v < this.minLatency_ms) this.minLatency_ms = v;
    if (v > this.maxLatency_ms) this.maxLatency_ms = v;
    this.totalLatency_ms += v;
    this.count++;
  }

  get minLatency(): number {
    return this.count === 0 ? 0 : this.minLatency_ms;
  }

  get avgLatency(): number {
    return this.count === 0 ? 0 : this.totalLatency_ms / this.count;
  }

  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatency_ms = Number.MAX_SAFE_INTEGER;
    this.maxLatency_ms = 0;
    this.totalLatency_ms = 0;
    this.count = 0;
  }
}
