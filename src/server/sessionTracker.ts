/**
 * Session liveness (SessionTrackerImpl + ExpiryQueue): each session expires at its last touch
 * plus its timeout, rounded up to the next tick; expired sessions are reported once per tick.
 */
export interface SessionInfo {
  id: bigint;
  timeout_ms: number;
  /** Expiry time bucket (ms, multiple of tickTime). */
  expireAt_ms: number;
  closing: boolean;
}

export class SessionTracker {
  readonly sessions = new Map<bigint, SessionInfo>();
  private readonly buckets = new Map<number, Set<SessionInfo>>();
  private nextId: bigint;

  constructor(
    private readonly tick_ms: number,
    firstId: bigint,
  ) {
    this.nextId = firstId;
  }

  private roundUp(t_ms: number): number {
    return (Math.floor(t_ms / this.tick_ms) + 1) * this.tick_ms;
  }

  newSessionId(): bigint {
    return this.nextId++;
  }

  /** Registers (or re-registers, on replay) a session. */
  add(id: bigint, timeout_ms: number, now_ms: number): SessionInfo {
    let s = this.sessions.get(id);
    if (s === undefined) {
      s = { id, timeout_ms, expireAt_ms: 0, closing: false };
      this.sessions.set(id, s);
    } else {
      s.timeout_ms = timeout_ms;
    }
    this.touch(id, timeout_ms, now_ms);
    return s;
  }

  /** False when the session is unknown or closing (the caller answers "expired"). */
  touch(id: bigint, timeout_ms: number, now_ms: number): boolean {
    const s = this.sessions.get(id);
    if (s === undefined || s.closing) return false;
    s.timeout_ms = timeout_ms;
    const at = this.roundUp(now_ms + timeout_ms);
    if (at === s.expireAt_ms) return true;
    this.buckets.get(s.expireAt_ms)?.delete(s);
    s.expireAt_ms = at;
    let b = this.buckets.get(at);
    if (b === undefined) {
      b = new Set();
      this.buckets.set(at, b);
    }
    b.add(s);
    return true;
  }

  setClosing(id: bigint): void {
    const s = this.sessions.get(id);
    if (s !== undefined) s.closing = true;
  }

  remove(id: bigint): void {
    const s = this.sessions.get(id);
    if (s === undefined) return;
    this.sessions.delete(id);
    this.buckets.get(s.expireAt_ms)?.delete(s);
  }

  /** Sessions whose bucket time has passed; each is marked closing and leaves its bucket. */
  expired(now_ms: number): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const [at, b] of this.buckets) {
      if (at > now_ms) continue;
      this.buckets.delete(at);
      for (const s of b) {
        s.closing = true;
        out.push(s);
      }
    }
    return out;
  }
}
