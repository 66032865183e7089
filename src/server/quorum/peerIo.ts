/**
 * What a quorum peer's runtime (quorumPeer.ts) reaches the world through, beyond the pipeline's
 * clock and client port: the quorum and election transports and its dataDir. The real ones are
 * learnerConnections.ts, electionConnections.ts and peerStorage.ts; src/sim has the twins.
 *
 * An `Effect` is what a synchronous action of the core returns: nothing when it is done already
 * (the simulator's disk), or a promise the runtime waits for before it steps the next event.
 */
import type { LoadedSnapshot, SnapshotSource } from '../../storage/snapshot.js';
import type { StorageObserver } from '../../storage/storageObserver.js';
import type { Txn as ServerTxn } from '../../txn/txn.js';
import type { QuorumMessage } from '../../zab/packets.js';
import type { ServerLine } from '../config.js';
import type { PipelineIo } from '../io.js';
import type { SnapshotFile } from '../txnSink.js';
import type { EnsembleConfig } from './quorumConfig.js';
import type { SnapLoad } from './snapStream.js';

export type Effect = Promise<void> | void;

/** Runs `next` after `first` settles: at once when `first` is already done. */
export function andThen(first: Effect, next: () => Effect): Effect {
  return first === undefined ? next() : first.then(next);
}

/** The quorum port: learner ↔ leader connections carrying QuorumPackets. */
export interface QuorumTransport {
  listen(): Promise<void>;
  /** FOLLOWERINFO/OBSERVERINFO to a leader opens a new connection to it (closing an old one). */
  send(to: bigint, msg: QuorumMessage): void;
  /**
   * SNAP, then the snapshot body of `src` (a view of the live tree, at `zxid` now) as ZooKeeper
   * streams it; packets sent to `to` afterwards follow the stream.
   */
  sendSnapshot(to: bigint, zxid: bigint, src: SnapshotSource): void;
  disconnect(peer: bigint): void;
  close(): void;
}

export interface QuorumTransportEvents {
  message(from: bigint, msg: QuorumMessage): void;
  disconnected(peer: bigint): void;
  /** Leader: a packet to learner `to` went out to the network, with `queued` more still waiting; `waited_ms` for a timed one. */
  sent?(to: bigint, queued: number, waited_ms: number | undefined): void;
  /** Learner: takes a leader's SNAP record by record as it arrives (without it, the SNAP message carries the snapshot file). */
  snapLoader?(): SnapLoad;
}

/** The election port: FLE notifications between every pair of voters. */
export interface ElectionTransport {
  listen(): Promise<void>;
  send(to: bigint, notification: Buffer): void;
  close(): void;
}

/** What a peer finds in its dataDir when it starts. */
export interface RecoveredDataDir {
  /** The newest valid snapshot (a new dataDir gets an empty one at zxid 0). */
  snapshot: LoadedSnapshot;
  /** Logged txns after the snapshot, in zxid order, with the bytes they were logged as. */
  txns: { txn: ServerTxn; bytes: Buffer }[];
  lastZxid: bigint;
  acceptedEpoch: bigint | undefined;
  currentEpoch: bigint | undefined;
}

/** A peer's dataDir: txn log (group commit), epoch files, snapshots. */
export interface PeerStorage {
  /** A snapshot now, as a file, once any running one is done (the AdminServer's `snapshot`); absent where there is no file. */
  takeSnapshotFile?(at: () => { zxid: bigint; src: SnapshotSource }): Promise<SnapshotFile>;
  /** `observer` is told of recovery, log writes, fsyncs and snapshots from now on (the peer's metrics). */
  open(emptyTree: SnapshotSource, observer?: StorageObserver): Promise<RecoveredDataDir>;
  /** Logs the txns; `durable` runs once they are fsynced (batches become durable in order). */
  append(txns: readonly { zxid: bigint; bytes: Buffer }[], durable: () => void): void;
  writeAcceptedEpoch(epoch: bigint): Effect;
  writeCurrentEpoch(epoch: bigint): Effect;
  /** Makes every append so far durable, then drops logged txns after `zxid`. */
  truncate(zxid: bigint): Effect;
  /** A durable snapshot of `src` named `zxid`; in the background (and skipped while one runs) when `background`. */
  snapshot(zxid: bigint, src: SnapshotSource, background: boolean): Effect;
  close(): Promise<void>;
}

export interface PeerIo extends PipelineIo {
  storage: PeerStorage;
  openQuorum(events: QuorumTransportEvents): QuorumTransport;
  openElection(onNotification: (from: bigint, bytes: Buffer) => void): ElectionTransport;
  /** The config in force changed: reach its members (new ones' election and quorum addresses). */
  membersChanged?(servers: readonly ServerLine[]): void;
  /** A reconfig committed: keep its config for restarts (ZooKeeper's zoo.cfg.dynamic.<version>, zoo.cfg pointing at it) — sync. */
  writeConfig?(c: EnsembleConfig): Effect;
  /** The runtime met a bug or a disk error: stop the peer (the real one exits the process). */
  fatal(err: unknown): void;
}
