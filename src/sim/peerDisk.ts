/**
 * A peer's dataDir in the simulator, behind the same PeerStorage interface as the real one: the
 * snapshot is kept as the bytes the real writer produces and read back by the real parser; the
 * txn log sits in a page cache until an fsync covers it. A crash keeps a random prefix of the
 * un-fsynced appends (what reached the platter), and may tear the last of those, which recovery
 * then drops as the real log reader drops a record that fails its checksum. fsyncs take a few ms,
 * sometimes far longer (a slow disk).
 */
import { decodeTxn } from '../txn/txn.js';
import { parseSnapshot, snapshotBody, type SnapshotSource } from '../storage/snapshot.js';
import { snapshotFileFromStream } from '../server/quorum/snapStream.js';
import type { Effect, PeerStorage, RecoveredDataDir } from '../server/quorum/peerIo.js';
import type { Host } from './world.js';
import type { Prng } from './prng.js';
import { dataHash } from './machine.js';

interface Logged {
  zxid: bigint;
  bytes: Buffer;
}

export class PeerDisk implements PeerStorage {
  acceptedEpoch: bigint | undefined;
  currentEpoch: bigint | undefined;
  snapshotZxid = 0n;
  snapshotFile: Buffer | undefined;
  durable: Logged[] = [];
  /** Payload hash of each durable entry, by zxid (the durability checker asks after every event). */
  private readonly durableHash = new Map<bigint, number>();
  pending: { entry: Logged; seq: number }[] = [];
  private writeSeq = 0;
  private fsyncRunning = false;
  private waiting: { upto: number; done: () => void }[] = [];
  /** The running process's view; replaced at every boot. */
  private host: Host | undefined;
  /** Chance that an fsync is slow (a busy or failing disk). */
  slowFsync = 0.02;

  constructor(
    readonly id: number,
    private readonly prng: Prng,
  ) {}

  attach(host: Host): void {
    this.host = host;
  }

  async open(emptyTree: SnapshotSource): Promise<RecoveredDataDir> {
    if (this.snapshotFile === undefined) {
      this.snapshotFile = snapshotFileFromStream(snapshotBody(emptyTree));
      this.snapshotZxid = 0n;
    }
    const snapshot = parseSnapshot(this.snapshotFile, `sim:${this.id}/snapshot.${this.snapshotZxid.toString(16)}`, this.snapshotZxid);
    const txns = this.durable.filter((t) => t.zxid > this.snapshotZxid).map((t) => ({ txn: decodeTxn(t.bytes), bytes: t.bytes }));
    const lastZxid = txns.length > 0 ? txns[txns.length - 1]!.txn.header.zxid : this.snapshotZxid;
    return { snapshot, txns, lastZxid, acceptedEpoch: this.acceptedEpoch, currentEpoch: this.currentEpoch };
  }

  /** Test-only broken variant: appends are reported durable before any fsync covers them. */
  durableBeforeFsync = false;

  append(txns: readonly Logged[], durable: () => void): void {
    for (const t of txns) this.pending.push({ entry: { zxid: t.zxid, bytes: t.bytes }, seq: ++this.writeSeq });
    if (this.durableBeforeFsync) {
      this.host?.soon(durable);
      if (!this.fsyncRunning) this.fsync();
      return;
    }
    this.waiting.push({ upto: this.writeSeq, done: durable });
    if (!this.fsyncRunning) this.fsync();
  }

  /** One fsync covers everything written before it started (group commit). */
  private fsync(): void {
    const host = this.host;
    if (host === undefined || !host.alive) return;
    this.fsyncRunning = true;
    const upto = this.writeSeq;
    const took_ms = this.prng.chance(this.slowFsync) ? this.prng.range(100, 1500) : this.prng.range(1, 25);
    host.after(took_ms, () => {
      this.fsyncRunning = false;
      while (this.pending.length > 0 && this.pending[0]!.seq <= upto) this.keep(this.pending.shift()!.entry);
      const done = this.waiting.filter((w) => w.upto <= upto);
      this.waiting = this.waiting.filter((w) => w.upto > upto);
      for (const w of done) w.done();
      if (this.pending.length > 0) this.fsync();
    });
  }

  writeAcceptedEpoch(epoch: bigint): Effect {
    this.acceptedEpoch = epoch;
  }

  writeCurrentEpoch(epoch: bigint): Effect {
    this.currentEpoch = epoch;
  }

  /**
   * As the real one: the log is flushed (every append so far durable; their waiters are told when
   * the flush ends, at some point while the truncation runs), then cut. It takes a few ms, during
   * which the peer waits and packets keep arriving for it.
   */
  truncate(zxid: bigint): Effect {
    const host = this.host;
    for (const p of this.pending) this.keep(p.entry);
    this.pending = [];
    const told = this.waiting;
    this.waiting = [];
    this.setDurable(this.durable.filter((t) => t.zxid <= zxid));
    if (host === undefined) return;
    const took_ms = this.prng.range(1, 30);
    host.after(this.prng.range(0, took_ms), () => {
      for (const w of told) w.done();
    });
    return new Promise<void>((resolve) => host.after(took_ms, resolve));
  }

  private keep(entry: Logged): void {
    this.durable.push(entry);
    this.durableHash.set(entry.zxid, dataHash(entry.bytes));
  }

  private setDurable(entries: Logged[]): void {
    this.durable = [];
    this.durableHash.clear();
    for (const e of entries) this.keep(e);
  }

  /** Written at once (so exactly at `zxid`) and durable: background or not makes no difference here. */
  snapshot(zxid: bigint, src: SnapshotSource): Effect {
    this.snapshotFile = snapshotFileFromStream(snapshotBody(src));
    this.snapshotZxid = zxid;
    this.setDurable(this.durable.filter((t) => t.zxid > zxid));
    this.pending = this.pending.filter((p) => p.entry.zxid > zxid);
  }

  async close(): Promise<void> {}

  /** The process died: keep what reached the platter (a random prefix), maybe tearing its last record. */
  crash(): void {
    const keep = this.prng.int(this.pending.length + 1);
    let kept = this.pending.slice(0, keep).map((p) => p.entry);
    // A torn last record fails its checksum and recovery drops it.
    if (kept.length > 0 && this.prng.chance(0.3)) kept = kept.slice(0, -1);
    for (const e of kept) this.keep(e);
    this.pending = [];
    this.waiting = [];
    this.fsyncRunning = false;
    this.host = undefined;
  }

  /** Is the txn with this zxid and payload hash safe on disk (logged durably, or under the snapshot)? */
  durablyHolds(zxid: bigint, hash: number): boolean {
    return this.snapshotZxid >= zxid || this.durableHash.get(zxid) === hash;
  }
}
