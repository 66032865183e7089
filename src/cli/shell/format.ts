/** zkCli's output shapes: StatPrinter, Java's Date.toString, ACL and event strings. */
import { EventType, KeeperState, Perms } from '../../proto/opcodes.js';
import type { Id, Stat } from '../../proto/records.js';
import type { WatchedEvent } from '../../client/index.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Short zone name as Java prints it ("UTC" when the process runs in UTC). */
function zoneName(d: Date): string {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (tz === 'UTC' || tz === 'Etc/UTC' || tz === 'Etc/Universal') return 'UTC';
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

/** java.util.Date#toString: "EEE MMM dd HH:mm:ss zzz yyyy" in the local zone. */
export function javaDate(ms: bigint): string {
  const d = new Date(Number(ms));
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(
    d.getSeconds(),
  )} ${zoneName(d)} ${d.getFullYear()}`;
}

/** Long.toHexString: two's complement for negatives. */
export function javaHex(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16);
}

export function statLines(s: Stat): string {
  return (
    `cZxid = 0x${javaHex(s.czxid)}\n` +
    `ctime = ${javaDate(s.ctime)}\n` +
    `mZxid = 0x${javaHex(s.mzxid)}\n` +
    `mtime = ${javaDate(s.mtime)}\n` +
    `pZxid = 0x${javaHex(s.pzxid)}\n` +
    `cversion = ${s.cversion}\n` +
    `dataVersion = ${s.version}\n` +
    `aclVersion = ${s.aversion}\n` +
    `ephemeralOwner = 0x${javaHex(s.ephemeralOwner)}\n` +
    `dataLength = ${s.dataLength}\n` +
    `numChildren = ${s.numChildren}\n`
  );
}

/** ZKUtil.getPermString. */
export function permString(perms: number): string {
  let p = '';
  if (perms & Perms.CREATE) p += 'c';
  if (perms & Perms.DELETE) p += 'd';
  if (perms & Perms.READ) p += 'r';
  if (perms & Perms.WRITE) p += 'w';
  if (perms & Perms.ADMIN) p += 'a';
  return p;
}

/** A jute ustring in CSV form, as the generated toString() of a record writes it. */
function csvString(s: string): string {
  let out = "'";
  for (const ch of s) {
    switch (ch) {
      case '\0':
        out += '%00';
        break;
      case '\n':
        out += '%0A';
        break;
      case '\r':
        out += '%0D';
        break;
      case ',':
        out += '%2C';
        break;
      case '}':
        out += '%7D';
        break;
      case '%':
        out += '%25';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/** Id#toString (jute CSV record form, ending with a newline). */
export function idString(id: Id): string {
  return `${csvString(id.scheme)},${csvString(id.id)}\n`;
}

/** java.util.List#toString. */
export function javaList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

const stateNames = new Map<number, string>(Object.entries(KeeperState).map(([k, v]) => [v, k]));
const typeNames = new Map<number, string>(Object.entries(EventType).map(([k, v]) => [v, k]));

/** WatchedEvent#toString in ZooKeeper 3.8.0. */
export function eventString(e: WatchedEvent): string {
  return `WatchedEvent state:${stateNames.get(e.state) ?? e.state} type:${typeNames.get(e.type) ?? e.type} path:${e.path ?? 'null'}`;
}
