/**
 * Four-letter words (FourLetterCommands in ZooKeeper), answered in ZooKeeper 3.8's text formats
 * (which words exist: src/proto/fourLetterWords.ts). The server calls runFourLetterWord through
 * the answerer it is given (src/server/adminSource.ts).
 */
import path from 'node:path';
import type { AdminSource } from '../server/adminSource.js';
import type { ClientConnection } from '../server/connection.js';
import { environment } from './environment.js';
import { dirSize, hex, VERSION_LINE } from './facts.js';
import { javaDouble, JavaDouble } from './json.js';
import { monitorRows, monitorSnapshot } from './monitor.js';

export function runFourLetterWord(word: string, s: AdminSource): string {
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'srvr':
      return serverSummary(s, false);
    case 'stat':
      return serverSummary(s, true);
    case 'mntr':
      return monitor(s);
    case 'conf':
      return conf(s);
    case 'cons':
      return [...s.connections()].map((c) => connectionLine(c, false) + '\n').join('') + '\n';
    case 'crst':
      s.resetConnectionStats();
      return 'Connection stats reset.\n';
    case 'srst':
      s.stats.reset();
      return 'Server stats reset.\n';
    case 'wchs': {
      const sum = s.db.tree.dataWatches.summary();
      return `${sum.watchers} connections watching ${sum.paths} paths\nTotal watches:${sum.watches}\n`;
    }
    case 'wchc': {
      let out = '';
      for (const [w, paths] of s.db.tree.dataWatches.byConnection()) {
        out += `${hex(w.sessionId)}\n`;
        for (const p of paths) out += `\t${p}\n`;
      }
      return out + '\n';
    }
    case 'wchp': {
      let out = '';
      for (const [p, ws] of s.db.tree.dataWatches.byPath()) {
        out += `${p}\n`;
        for (const w of ws.keys()) out += `\t${hex(w.sessionId)}\n`;
      }
      return out + '\n';
    }
    case 'dump':
      return dump(s);
    case 'envi':
      return envi();
    case 'isro':
      return s.readOnly() ? 'ro' : 'rw';
    case 'dirs': {
      const d = dirSize(path.join(s.options.dataDir, 'version-2'));
      const l = dirSize(path.join(s.options.dataLogDir, 'version-2'));
      return `datadir_size: ${d}\nlogdir_size: ${l}\n`;
    }
    case 'gtmk':
      return '306';
    case 'stmk':
      return '306';
    case 'hash':
      return '';
    default:
      return '';
  }
}

function serverSummary(s: AdminSource, withClients: boolean): string {
  const st = s.stats;
  let out = `Zookeeper version: ${VERSION_LINE}\n`;
  if (withClients) {
    out += 'Clients:\n';
    for (const c of s.connections()) out += connectionLine(c, true) + '\n';
    out += '\n';
  }
  out += `Latency min/avg/max: ${st.minLatency}/${javaDouble(st.avgLatency)}/${st.maxLatency_ms}\n`;
  out += `Received: ${st.packetsReceived}\n`;
  out += `Sent: ${st.packetsSent}\n`;
  out += `Connections: ${count(s.connections())}\n`;
  out += `Outstanding: ${s.outstandingRequests()}\n`;
  out += `Zxid: 0x${s.db.lastProcessedZxid.toString(16)}\n`;
  out += `Mode: ${s.modeName()}\n`;
  out += `Node count: ${zkNodeCount(s)}\n`;
  return out;
}

/** ZooKeeper's node map holds the root under both '' and '/', and its counts include both. */
function zkNodeCount(s: AdminSource): number {
  return s.db.tree.nodeCount + 1;
}

function connectionLine(c: ClientConnection, brief: boolean): string {
  const st = c.stats;
  const interest = c.state === 'open' && !c.readingPaused ? '1' : '0';
  let out = ` /${c.remoteAddress}:${c.remotePort}[${interest}](queued=${c.queue.length},recved=${st.packetsReceived},sent=${st.packetsSent}`;
  if (!brief && c.sessionId !== 0n) {
    out += `,sid=${hex(c.sessionId)},lop=${st.lastOp},est=${st.established_ms},to=${c.sessionTimeout_ms}`;
    if (st.lastCxid >= 0) out += `,lcxid=0x${st.lastCxid.toString(16)}`;
    out += `,lzxid=0x${BigInt.asUintN(64, st.lastZxid).toString(16)},lresp=${st.lastResponse_ms},llat=${st.lastLatency_ms}`;
    const min = st.latencyCount === 0 ? 0 : st.minLatency_ms;
    const avg = st.latencyCount === 0 ? 0 : Math.floor(st.totalLatency_ms / st.latencyCount);
    out += `,minlat=${min},avglat=${avg},maxlat=${st.maxLatency_ms}`;
  }
  return out + ')';
}

/** mntr: the same values as the AdminServer's monitor, one `zk_<key>\t<value>` line each. */
function monitor(s: AdminSource): string {
  return monitorRows(monitorSnapshot(s.member(), s))
    .map(([k, v]) => `zk_${k}\t${v instanceof JavaDouble ? javaDouble(v.value) : String(v)}\n`)
    .join('');
}

function conf(s: AdminSource): string {
  const o = s.options;
  const dataDir = path.join(o.dataDir, 'version-2');
  const logDir = path.join(o.dataLogDir, 'version-2');
  return (
    `clientPort=${o.clientPort}\n` +
    'secureClientPort=-1\n' +
    `dataDir=${dataDir}\n` +
    `dataDirSize=${dirSize(dataDir)}\n` +
    `dataLogDir=${logDir}\n` +
    `dataLogSize=${dirSize(logDir)}\n` +
    `tickTime=${o.tickTime_ms}\n` +
    `maxClientCnxns=${o.maxClientCnxns}\n` +
    `minSessionTimeout=${o.minSessionTimeout_ms}\n` +
    `maxSessionTimeout=${o.maxSessionTimeout_ms}\n` +
    'clientPortListenBacklog=-1\n' +
    'serverId=0\n'
  );
}

function dump(s: AdminSource): string {
  const byExpiry = new Map<number, bigint[]>();
  for (const ss of s.sessions.sessions.values()) {
    const l = byExpiry.get(ss.expireAt_ms) ?? [];
    l.push(ss.id);
    byExpiry.set(ss.expireAt_ms, l);
  }
  let out = 'SessionTracker dump:\n';
  out += `Session Sets (${byExpiry.size})/(${s.sessions.sessions.size}):\n`;
  for (const t of [...byExpiry.keys()].sort((a, b) => a - b)) {
    const ids = byExpiry.get(t)!;
    out += `${ids.length} expire at ${javaDate(t)}:\n`;
    for (const id of ids) out += `\t${hex(id)}\n`;
  }
  const eph = s.db.tree.ephemeralsMap();
  out += 'ephemeral nodes dump:\n';
  out += `Sessions with Ephemerals (${eph.size}):\n`;
  for (const [id, paths] of eph) {
    out += `${hex(id)}:\n`;
    for (const p of paths) out += `\t${p}\n`;
  }
  const conns = [...s.connections()];
  out += 'Connections dump:\n';
  out += `Connections Sets (${conns.length})/(${conns.length}):\n`;
  for (const c of conns) {
    out += `1 expire at ${javaDate((c.stats.lastResponse_ms || c.stats.established_ms) + (c.sessionTimeout_ms || s.options.tickTime_ms))}:\n`;
    out += `\tip: /${c.remoteAddress}:${c.remotePort} sessionId: ${hex(c.sessionId)}\n`;
  }
  return out;
}

function envi(): string {
  return (
    'Environment:\n' +
    environment()
      .map(([k, v]) => `${k}=${v}\n`)
      .join('')
  );
}

function count(it: Iterable<unknown>): number {
  let n = 0;
  for (const _ of it) n++;
  return n;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date.toString in UTC: "Sun Nov 22 01:17:06 UTC 2026". */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}
