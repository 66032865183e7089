/**
 * A standalone server: one member, no quorum. Its writes are numbered here, on from the last zxid
 * the dataDir holds (as ZooKeeper's standalone server numbers them), made durable by the TxnSink
 * in batches (one batch per event-loop turn: group commit), and committed once durable.
 */
import { ZkDatabase } from '../txn/database.js';
import type { Txn } from '../txn/txn.js';
import { Err } from '../proto/errors.js';
import type { FourLetterWordAnswerer, MemberAdminSource } from './adminSource.js';
import type { Clock, PipelineIo } from './io.js';
import { nodePipelineIo } from './nodeIo.js';
import type { ServerOptions } from './options.js';
import { RequestPipeline, type ServingServer } from './pipeline.js';
import type { ServingMode, SyncJob, WriteJob } from './servingMode.js';
import type { RuntimeMutation } from './mutations.js';
import { InMemoryTxnSink, type SnapshotFile, type TxnSink } from './txnSink.js';
import type { ServerMetrics } from './serverMetrics.js';

/** The server id a standalone ZooKeeper puts in the high byte of its session ids. */
const STANDALONE_SERVER_ID = 1;
/** Txns per sink batch (group commit bound). */
const TXN_BATCH_MAX = 10_000;

export type StandaloneServer = ServingServer & MemberAdminSource;

export interface StandaloneDeps {
  /** The durable-log step; defaults to in-memory (no durability). */
  sink?: TxnSink;
  /** A database recovered from storage; defaults to a fresh tree. */
  db?: ZkDatabase;
  /** Four-letter words (src/admin's runFourLetterWord); none are answered without it. */
  fourLetterWords?: FourLetterWordAnswerer;
  /** Its metrics, when made before it (to be told of the dataDir's recovery); a new set otherwise. */
  metrics?: ServerMetrics;
  /** Clock and client port; defaults to Node's. */
  io?: PipelineIo;
  /** Test-only broken variants (mutations.ts). */
  mutations?: ReadonlySet<RuntimeMutation>;
}

export async function startStandaloneServer(opts: ServerOptions, deps: StandaloneDeps = {}): Promise<StandaloneServer> {
  const db = deps.db ?? new ZkDatabase();
  const io = deps.io ?? nodePipelineIo;
  const mode = new StandaloneMode(db.lastProcessedZxid, deps.sink ?? new InMemoryTxnSink(), io.clock, deps.mutations?.has('applyBeforeDurable') === true);
  const pipeline = new RequestPipeline(opts, db, mode, io, { fourLetterWords: deps.fourLetterWords, metrics: deps.metrics, mutations: deps.mutations });
  mode.attach(pipeline);
  await pipeline.listen();
  return pipeline;
}

class StandaloneMode implements ServingMode {
  readonly name = 'standalone';
  readonly serverId = STANDALONE_SERVER_ID;
  readonly ownsSessions = true;
  readonly readOnly = false;
  private pipeline!: RequestPipeline;
  private batch: Txn[] = [];
  private turnScheduled = false;
  /** Each pending sync's zxid: the last one numbered when it arrived; done once the tree is there. */
  private readonly syncs: bigint[] = [];

  constructor(
    /** The last zxid handed out: the one place standalone zxids are numbered. */
    private lastZxid: bigint,
    private readonly sink: TxnSink,
    private readonly clock: Clock,
    /** Test-only broken variant: a batch is applied (and answered) before its fsync. */
    private readonly applyBeforeDurable: boolean,
  ) {}

  attach(pipeline: RequestPipeline): void {
    this.pipeline = pipeline;
  }

  write(job: WriteJob): void {
    this.batch.push(this.pipeline.prepare(job, ++this.lastZxid));
    if (this.batch.length >= TXN_BATCH_MAX) this.commitBatch();
    else this.scheduleTurn();
  }

  sync(_job: SyncJob): void {
    this.syncs.push(this.lastZxid);
    this.releaseSyncs();
  }

  unknownSession(): typeof Err.UnknownSession {
    return Err.UnknownSession;
  }

  snapshotNow(): Promise<SnapshotFile> | undefined {
    return this.sink.takeSnapshot?.();
  }

  close(): Promise<void> {
    return this.sink.close();
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    this.clock.soon(() => {
      this.turnScheduled = false;
      this.commitBatch();
    });
  }

  /** Durable means committed here: each txn is applied (and answered) once its batch is on disk. */
  private commitBatch(): void {
    if (this.batch.length === 0) return;
    const txns = this.batch;
    this.batch = [];
    const apply = (): void => {
      for (const t of txns) this.pipeline.applyCommitted(t);
      this.releaseSyncs();
    };
    if (this.applyBeforeDurable) {
      this.sink.append(txns, () => undefined);
      return apply();
    }
    this.sink.append(txns, apply);
  }

  private releaseSyncs(): void {
    const applied = this.pipeline.db.lastProcessedZxid;
    while (this.syncs.length > 0 && this.syncs[0]! <= applied) {
      this.syncs.shift();
      this.pipeline.syncDone();
    }
  }
}
