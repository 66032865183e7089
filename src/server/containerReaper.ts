/**
 * ContainerManager: every checkIntervalMs, finds empty containers (that once had children, or
 * are older than maxNeverUsedIntervalMs) and expired TTL nodes without children, and submits a
 * deleteContainer for each, at most maxPerMinute per minute.
 */
import type { DataTree } from '../tree/dataTree.js';
import { ttlOfEphemeralOwner } from '../tree/ephemeralType.js';
import type { Clock, Timer } from './io.js';
import type { ServerOptions } from './options.js';

export class ContainerReaper {
  private timer: Timer | undefined;

  constructor(
    private readonly opts: ServerOptions,
    private readonly tree: DataTree,
    private readonly clock: Clock,
    private readonly submitDelete: (path: string) => void,
  ) {}

  start(): void {
    const every_ms = this.opts.containerCheckInterval_ms;
    if (every_ms <= 0) return;
    const next = (): void => {
      this.timer = this.clock.after(every_ms, () => {
        this.checkContainers();
        if (this.timer !== undefined) next();
      });
    };
    next();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One pass; returns the paths submitted. */
  checkContainers(now_ms = this.clock.now_ms()): string[] {
    const perMinute = this.opts.containerMaxPerMinute;
    const minInterval_ms = perMinute > 0 ? 60_000 / perMinute : 0;
    const candidates = this.candidates(now_ms);
    const out: string[] = [];
    for (const p of candidates) {
      if (minInterval_ms > 0 && out.length * minInterval_ms >= this.opts.containerCheckInterval_ms && out.length > 0) break;
      this.submitDelete(p);
      out.push(p);
    }
    return out;
  }

  candidates(now_ms: number): string[] {
    const out: string[] = [];
    const neverUsed_ms = this.opts.containerMaxNeverUsedInterval_ms;
    for (const p of this.tree.containers) {
      const n = this.tree.getNode(p);
      if (n === undefined || n.numChildren !== 0) continue;
      // A container that never had a child is kept, unless it is older than maxNeverUsedIntervalMs.
      if (n.stat.cversion > 0) out.push(p);
      else if (neverUsed_ms > 0 && now_ms - Number(n.stat.mtime) > neverUsed_ms) out.push(p);
    }
    for (const p of this.tree.ttls) {
      const n = this.tree.getNode(p);
      if (n === undefined || n.numChildren !== 0) continue;
      const ttl_ms = Number(ttlOfEphemeralOwner(n.stat.ephemeralOwner));
      if (ttl_ms !== 0 && now_ms - Number(n.stat.mtime) > ttl_ms) out.push(p);
    }
    return out;
  }
}
