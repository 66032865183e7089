/**
 * A load-generating worker process: holds a few pipelined sessions and runs the workloads the
 * harness sends it over IPC, answering with op counts, a latency histogram and its own CPU use.
 */
import hdr from 'hdr-histogram-js';
import { drive, newLatencyHistogram, type DriveLane, type KeyState } from './drive.js';
import { sessionDir, type FromWorker, type ToWorker, type WorkerInit, type WorkerRun } from './messages.js';
import { BenchSession, parseConnectString } from './session.js';

const sessions: BenchSession[] = [];
let me: WorkerInit | undefined;
/** Key state per (root, keyspace, session), so warm-up and measured phases keep separate nodes. */
const keyStates = new Map<string, KeyState>();

function send(m: FromWorker): void {
  process.send!(m);
}

function keysOf(root: string, keyspace: string, session: number): KeyState {
  const id = `${root}|${keyspace}|${session}`;
  let k = keyStates.get(id);
  if (!k) {
    k = { created: 0, deleted: 0, cursor: 0 };
    keyStates.set(id, k);
  }
  return k;
}

async function init(m: WorkerInit): Promise<void> {
  me = m;
  const members = m.members.map((cs) => parseConnectString(cs)[0]!);
  for (let i = 0; i < m.sessions; i++) {
    // Global session number g = i * workers + index spreads every worker's sessions over all members.
    const member = members[(i * m.workers + m.index) % members.length]!;
    sessions.push(await BenchSession.connectRetrying(member.host, member.port, m.sessionTimeout_ms, m.tls));
  }
  send({ type: 'ready', sessionIds: sessions.map((s) => `0x${s.sessionId.toString(16)}`) });
}

async function run(m: WorkerRun): Promise<void> {
  if (!me) throw new Error('run before init');
  const worker = me.index;
  const lanes: DriveLane[] = sessions.slice(0, m.sessions).map((session, i) => ({
    session,
    dir: sessionDir(m.root, worker, i),
    keys: keysOf(m.root, m.keyspace, i),
  }));
  const hist = newLatencyHistogram();
  const data = Buffer.alloc(m.dataBytes, 0x61);
  const cpu0 = process.cpuUsage();
  const o = await drive(
    lanes,
    { op: m.op, readPct: m.readPct, keyspace: m.keyspace, depth: m.depth, duration_ms: m.duration_ms, fanPath: m.fanPath, fanChildren: m.fanChildren, data },
    hist,
  );
  const cpu = process.cpuUsage(cpu0);
  send({
    type: 'result',
    ops: o.ops,
    errors: o.errors,
    errorCodes: o.errorCodes,
    histogram: hdr.encodeIntoCompressedBase64(hist),
    cpuUser_us: cpu.user,
    cpuSystem_us: cpu.system,
    elapsed_ms: o.elapsed_ms,
  });
}

async function close(): Promise<void> {
  await Promise.all(sessions.map((s) => s.close()));
  send({ type: 'closed' });
  process.disconnect();
}

process.on('message', (msg: ToWorker) => {
  const job = msg.type === 'init' ? init(msg) : msg.type === 'run' ? run(msg) : close();
  job.catch((e: unknown) => {
    send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  });
});
// The harness going away ends the worker.
process.on('disconnect', () => {
  for (const s of sessions) s.destroy();
});
