/**
 * Helpers for the storage compatibility tests against Apache ZooKeeper 3.8: a promise wrapper
 * over node-zookeeper-client, a tree dump through a client, and ZooKeeper's own log and snapshot
 * toolkits run on a file.
 */
import { spawnSync } from 'node:child_process';
import zookeeper, { type ACL, type Client, type Stat } from 'node-zookeeper-client';
import { ZK_SERVER_CLASSPATH } from '../support/zookeeper.js';

export async function connect(connectString: string, sessionTimeout = 30_000): Promise<Client> {
  const c = zookeeper.createClient(connectString, { sessionTimeout, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no connection to ${connectString}`)), 15_000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve();
    });
    c.connect();
  });
  return c;
}

export function call<T>(f: (cb: (err: Error | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

/** The Stat with ctime/mtime, which the package's type declarations leave out. */
interface FullStat extends Stat {
  ctime: Buffer;
  mtime: Buffer;
}

const long = (b: Buffer) => b.readBigInt64BE(0).toString();

export interface DumpedNode {
  data: string;
  acl: { perms: number; scheme: string; id: string }[];
  stat: Record<string, string | number>;
}

/** Canonical form shared by client dumps and model dumps (null data reads as empty). */
export function canonical(
  data: Buffer | null,
  acl: readonly { perms: number; id: { scheme: string; id: string } }[],
  stat: Record<string, bigint | number>,
): string {
  const s: Record<string, string | number> = {};
  for (const k of ['czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'pzxid']) {
    const v = stat[k]!;
    s[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return JSON.stringify({
    data: (data ?? Buffer.alloc(0)).toString('base64'),
    acl: acl.map((a) => ({ perms: a.perms, scheme: a.id.scheme, id: a.id.id })),
    stat: s,
  });
}

/** Every node outside /zookeeper, read through a client: path -> canonical string. */
export async function dumpThroughClient(c: Client): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (p: string): Promise<void> => {
    const [data, rawStat] = await new Promise<[Buffer, Stat]>((resolve, reject) =>
      c.getData(p, undefined, (err, d, s) => (err ? reject(err) : resolve([d, s]))),
    );
    const acls = await new Promise<ACL[]>((resolve, reject) => c.getACL(p, (err, a) => (err ? reject(err) : resolve(a))));
    const st = rawStat as FullStat;
    const stat = {
      czxid: long(st.czxid),
      mzxid: long(st.mzxid),
      ctime: long(st.ctime),
      mtime: long(st.mtime),
      version: st.version,
      cversion: st.cversion,
      aversion: st.aversion,
      ephemeralOwner: long(st.ephemeralOwner),
      pzxid: long(st.pzxid),
    };
    const big = Object.fromEntries(Object.entries(stat).map(([k, v]) => [k, typeof v === 'string' ? BigInt(v) : v]));
    out.set(
      p,
      canonical(
        data ?? null,
        acls.map((a) => ({ perms: a.permission, id: a.id })),
        big,
      ),
    );
    const children = await new Promise<string[]>((resolve, reject) => c.getChildren(p, undefined, (err, ch) => (err ? reject(err) : resolve(ch))));
    await Promise.all(children.filter((ch) => !(p === '/' && ch === 'zookeeper')).map((ch) => visit(p === '/' ? `/${ch}` : `${p}/${ch}`)));
  };
  await visit('/');
  return out;
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of ZooKeeper's command-line classes on a file. */
export function runZkTool(mainClass: string, args: string[]): ToolRun {
  const r = spawnSync('java', ['-Xmx256m', '-cp', ZK_SERVER_CLASSPATH, mainClass, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const TXN_LOG_TOOLKIT = 'org.apache.zookeeper.server.persistence.TxnLogToolkit';
export const SNAPSHOT_FORMATTER = 'org.apache.zookeeper.server.SnapshotFormatter';

export function javaMissing(): string | undefined {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'java not found';
}
