/** Messages between the harness and its load-generating worker processes (child_process IPC). */
import type { OpName } from './workloads.js';

export interface WorkerInit {
  type: 'init';
  index: number;
  /** host:port of every server member; sessions are spread over them. */
  members: string[];
  sessions: number;
  /** Total workers, so that sessions spread evenly over members. */
  workers: number;
  sessionTimeout_ms: number;
  /** Connect over TLS with these PEM files (the servers' secureClientPort). */
  tls?: ClientTlsFiles;
}

export interface ClientTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export interface WorkerRun {
  type: 'run';
  op: OpName;
  readPct: number;
  /** Parent of this phase's per-session directories (`<root>/w<worker>s<session>`). */
  root: string;
  keyspace: string;
  depth: number;
  /** How many of this worker's sessions take part (the first ones). */
  sessions: number;
  duration_ms: number;
  fanPath: string;
  fanChildren: number;
  dataBytes: number;
}

export type ToWorker = WorkerInit | WorkerRun | { type: 'close' };

export interface WorkerResult {
  type: 'result';
  ops: number;
  errors: number;
  errorCodes: Record<string, number>;
  /** hdr histogram of latencies in µs, compressed base64. */
  histogram: string;
  cpuUser_us: number;
  cpuSystem_us: number;
  elapsed_ms: number;
}

export type FromWorker = { type: 'ready'; sessionIds: string[] } | WorkerResult | { type: 'error'; message: string } | { type: 'closed' };

/** The directory a worker's session works in. */
export function sessionDir(root: string, worker: number, session: number): string {
  return `${root}/w${worker}s${session}`;
}
