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
const BENIGN_IO =
  /Connection reset|Broken pipe|Connection refused|Stream closed|Socket closed|socket closed|ZooKeeperServer not running|Timeout while waiting for epoch|Leader closed|Timed out waiting/;

/**
 * ZooKeeper 3.8.0's own shutdown race: when a write to its leader fails (a cut link), a
 * follower's SendAckRequestProcessor closes learner.sock, which the follower's shutdown may have
 * set to null already (NPE in SyncThread). Seen with a ZooKeeper follower of a ZooKeeper leader.
 */
const ZK_OWN = /because "this\.learner\.sock" is null/;

/** Messages that name a protocol error, flagged even without an exception. */
const PROTOCOL_ERRORS =
  /Digests are not matching|Got unexpected packet|but next pending txn|Unknown packet type|Invalid packet|unexpected packet|Failed to process|Severe unrecoverable error|Failed to truncate|Unexpected leader|Unexpected exception causing shutdown(?! while sock still open)/i;

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
  let ownReplay = false;
  let commitsStopping = false;
  for (const r of parseZkLog(fs.readFileSync(logFile, 'utf8'))) {
    // Mismatches ZooKeeper 3.8.0 reports while it replays its own dataDir at startup (thread main)
    // are its own: from a snapshot without a digest (one it persisted after a SNAP, whose stream
    // carries none) it compares every replayed txn, also those its fuzzy snapshot already holds;
    // and its log can hold txns twice (it appends a DIFF's txns even when they are not past its
    // log, 'Current zxid ... is <= ...'), which replay reports as '(highestZxid) > (next log)'
    // and applies again. Live mismatches (a leader's digest vs the tree) still count.
    if (r.thread === 'main' && /The digest value is empty in snapshot|\(highestZxid\) > \d+\(next log\)/.test(r.message)) ownReplay = true;
    if (r.thread === 'main' && /Snapshot loaded in/.test(r.message)) ownReplay = false;
    if (ownReplay && r.thread === 'main' && /Digests are not matching|First digest mismatch/.test(r.message)) continue;
    // A follower that loses its leader tells its CommitProcessor to stop without waiting for it,
    // then fast-forwards the same tree from its log ('txns loaded'): a commit the CommitProcessor
    // is still applying races that replay on the running digest, and its next check reports a
    // mismatch even on a txn that changes no node. Its thread logs 'exited loop!' once stopped.
    if (r.logger.endsWith('.CommitProcessor') && r.message === 'Shutting down') commitsStopping = true;
    if (r.logger.endsWith('.CommitProcessor') && r.message.startsWith('CommitProcessor exited loop')) commitsStopping = false;
    if (commitsStopping && r.thread.startsWith('CommitProcessor:') && /Digests are not matching|First digest mismatch/.test(r.message)) continue;
    if ((r.level !== 'WARN' && r.level !== 'ERROR') || CLIENT_LOGGERS.test(r.logger)) continue;
    const suspicious = r.exception !== undefined ? !benign(r.exception) && !ZK_OWN.test(r.exception) : PROTOCOL_ERRORS.test(r.message);
    if (suspicious)
      out.push(
        `line ${r.line}: ${r.level} ${r.logger.replace('org.apache.zookeeper.', '')} - ${r.message.slice(0, 200)}${r.exception ? ` [${r.exception.slice(0, 200)}]` : ''}`,
      );
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

/**
 * ZOOKEEPER-4643/4646 in ZooKeeper 3.8.0 (fixed upstream in 2024, PR #2152): a learner writes the new currentEpoch
 * when NEWLEADER arrives, before the txns the DIFF brought are on its disk; if it then goes down or
 * loses the leader, it comes back with the new epoch and the old history, wins the next election
 * on that epoch and TRUNCates acknowledged txns away on the others. Its log shows the signature:
 * it got a DIFF from A that a tszk leader says carried txns up to L > A, and NEWLEADER, yet its
 * next election proposes A. Returns one line per occurrence, naming the ZooKeeper peer and the zxids.
 */
export function zk4646Signatures(peers: readonly { sid: number; kind: string; logFile: string }[]): string[] {
  const sentDiffs = new Map<string, bigint>(); // `${learner}@${from}` -> the tszk leader's last zxid then
  for (const p of peers.filter((x) => x.kind === 'tszk' && fs.existsSync(x.logFile))) {
    for (const line of fs.readFileSync(p.logFile, 'utf8').split('\n')) {
      if (!line.includes('"mode":"DIFF"') || !line.includes('syncing learner')) continue;
      try {
        const r = JSON.parse(line) as { learner?: string; learnerLastZxid?: string; leaderLastZxid?: string };
        if (r.learner === undefined || r.learnerLastZxid === undefined || r.leaderLastZxid === undefined) continue;
        const key = `${r.learner}@${BigInt(r.learnerLastZxid)}`;
        const last = BigInt(r.leaderLastZxid);
        if (last > (sentDiffs.get(key) ?? -1n)) sentDiffs.set(key, last);
      } catch {
        continue;
      }
    }
  }
  const out: string[] = [];
  for (const p of peers.filter((x) => x.kind === 'zookeeper' && fs.existsSync(x.logFile))) {
    let diffFrom: bigint | undefined;
    let newLeader = false;
    for (const line of fs.readFileSync(p.logFile, 'utf8').split('\n')) {
      const d = /Getting a diff from the leader (0x[0-9a-f]+)/.exec(line);
      if (d) {
        diffFrom = BigInt(d[1]!);
        newLeader = false;
      }
      // NEWLEADER is where 3.8.0 writes the new currentEpoch; a sync cut before it changes nothing.
      if (line.includes('Learner received NEWLEADER message')) newLeader = true;
      const e = /New election\. My id = \d+, proposed zxid=(0x[0-9a-f]+)/.exec(line);
      if (!e || diffFrom === undefined) continue;
      const proposed = BigInt(e[1]!);
      const carried = sentDiffs.get(`${p.sid}@${diffFrom}`);
      if (newLeader && proposed === diffFrom && carried !== undefined && carried > diffFrom)
        out.push(
          `ZooKeeper ${p.sid} got a DIFF from 0x${diffFrom.toString(16)} carrying txns to 0x${carried.toString(16)} and NEWLEADER, then proposed 0x${proposed.toString(16)} in its next election`,
        );
      diffFrom = undefined;
    }
  }
  return out;
}
