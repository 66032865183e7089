/**
 * Reads an Apache ZooKeeper 3.8 peer's log (slf4j-simple: "[thread] LEVEL logger - message", then
 * the exception's lines) for what a tszk peer's packets can cause: a WARN/ERROR from the server
 * side with an exception that is not a plain network failure (the nemesis kills processes and cuts
 * links, so EOF, resets, timeouts and interrupts are expected), or a message that names a protocol
 * error whatever its exception. Client-connection loggers (NIOServerCnxn, ...) are left out: what
 * they log is about clients, not peers.
 */
import fs from 'node:fs';

interface LogRecord {
  line: number;
  thread: string;
  level: string;
  logger: string;
  message: string;
  /** First exception line ("java.io.IOException: msg"), if the record has one. */
  exception: string | undefined;
}

const HEADER = /^\[(.*?)\] (WARN|ERROR|INFO|DEBUG|TRACE) ([\w.$]+) - (.*)$/;
const EXCEPTION = /^((?:[a-z]\w*\.)+[A-Z][\w$]*(?:Exception|Error))(?::\s*(.*))?$/;
const CLIENT_LOGGERS = /\.(NIOServerCnxn|NettyServerCnxn|ServerCnxn|NIOServerCnxnFactory|NettyServerCnxnFactory|ServerCnxnFactory)$/;

const BENIGN_CLASSES = new Set([
  'java.io.EOFException',
  'java.net.SocketException',
  'java.net.SocketTimeoutException',
  'java.net.ConnectException',
  'java.net.NoRouteToHostException',
  'java.lang.InterruptedException',
  'java.nio.channels.ClosedChannelException',
  'java.nio.channels.ClosedByInterruptException',
  'java.nio.channels.AsynchronousCloseException',
  // A restarted follower re-registers its JMX beans under the same names.
  'javax.management.InstanceAlreadyExistsException',
]);
/** IOException messages of network failures and shutdowns. */
const BENIGN_IO = /Connection reset|Broken pipe|Connection refused|Stream closed|Socket closed|socket closed|ZooKeeperServer not running|Timeout while waiting for epoch|Leader closed|Timed out waiting/;

/**
 * ZooKeeper 3.8.0's own shutdown race: when a write to its leader fails (a cut link), a
 * follower's SendAckRequestProcessor closes learner.sock, which the follower's shutdown may have
 * set to null already (NPE in SyncThread). Seen with a ZooKeeper follower of a ZooKeeper leader.
 */
const ZK_OWN = /because "this\.learner\.sock" is null/;

/** Messages that name a protocol error, flagged even without an exception. */
const PROTOCOL_ERRORS = /Digests are not matching|Got unexpected packet|but next pending txn|Unknown packet type|Invalid packet|unexpected packet|Failed to process|Severe unrecoverable error|Failed to truncate|Unexpected leader|Unexpected exception causing shutdown(?! while sock still open)/i;

export function parseZkLog(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  let cur: LogRecord | undefined;
  text.split('\n').forEach((l, i) => {
    const h = HEADER.exec(l);
    if (h) {
      cur = { line: i + 1, thread: h[1]!, level: h[2]!, logger: h[3]!, message: h[4]!, exception: undefined };
      out.push(cur);
      return;
    }
    if (cur !== undefined && cur.exception === undefined && EXCEPTION.test(l.trim())) cur.exception = l.trim();
  });
  return out;
}

function benign(exception: string): boolean {
  const m = EXCEPTION.exec(exception);
  if (!m) return false;
  if (BENIGN_CLASSES.has(m[1]!)) return true;
  return m[1] === 'java.io.IOException' && BENIGN_IO.test(m[2] ?? '');
}

/** "line N: LEVEL logger - message [exception]" for every suspicious record in `logFile`. */
export function zkLogFindings(logFile: string): string[] {
  if (!fs.existsSync(logFile)) return [];
  const out: string[] = [];
  let replayWithoutDigest = false;
  for (const r of parseZkLog(fs.readFileSync(logFile, 'utf8'))) {
    // ZooKeeper 3.8.0 restarting from a snapshot without a digest (one it persisted after a SNAP,
    // whose stream carries none) compares every txn it replays, also those its fuzzy snapshot
    // already holds, and reports mismatches there. That is its own startup, not a peer's packet.
    if (r.thread === 'main' && /The digest value is empty in snapshot/.test(r.message)) replayWithoutDigest = true;
    if (r.thread === 'main' && /Snapshot loaded in/.test(r.message)) replayWithoutDigest = false;
    if (replayWithoutDigest && r.thread === 'main' && /Digests are not matching|First digest mismatch/.test(r.message)) continue;
    if ((r.level !== 'WARN' && r.level !== 'ERROR') || CLIENT_LOGGERS.test(r.logger)) continue;
    const suspicious = r.exception !== undefined ? !benign(r.exception) && !ZK_OWN.test(r.exception) : PROTOCOL_ERRORS.test(r.message);
    if (suspicious) out.push(`line ${r.line}: ${r.level} ${r.logger.replace('org.apache.zookeeper.', '')} - ${r.message.slice(0, 200)}${r.exception ? ` [${r.exception.slice(0, 200)}]` : ''}`);
  }
  return out;
}

/** The port of the leader a ZooKeeper learner last connected to before `line` (1-based), from its log. */
export function leaderPortBefore(logFile: string, line: number): number | undefined {
  const lines = fs.readFileSync(logFile, 'utf8').split('\n');
  for (let i = Math.min(line, lines.length) - 1; i >= 0; i--) {
    const m = /Successfully connected to leader, using address: [^:]*:(\d+)/.exec(lines[i]!);
    if (m) return Number(m[1]);
  }
  return undefined;
}
