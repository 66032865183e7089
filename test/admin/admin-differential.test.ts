/**
 * Every AdminServer command of tszk against Apache ZooKeeper 3.8's own AdminServer (Debian's
 * zookeeper with Jetty on the classpath), key by key and type by type (int, double, string,
 * bool, null, object, array; longs past 2^53 included), in each role: standalone; leader,
 * follower and observer of a 3+1 ensemble; and a member that lost its quorum. Both systems get
 * the same workload (a session on the follower with a znode, an ephemeral and two watches), and
 * the values the workload fixes (modes, counts, flags, errors) must be equal too.
 *
 * Deliberate differences, checked as such: `monitor` on a member not serving is ZooKeeper's
 * HTTP 500 (a NullPointerException) and tszk's not-serving error; `system_properties` lists
 * JVM properties in ZooKeeper and Node-meaningful ones in tszk (values compared as strings);
 * monitor's per-learner and per-namespace summary sets may have members only one side has.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ZooKeeperClient, CreateMode } from '../../src/client/index.js';
import { freePort } from '../support/ports.js';
import { skipUnless } from '../support/target.js';
import { startTszk } from '../support/tszk.js';
import { startZkEnsemble, type EnsemblePeer, type PeerKind, type ZkEnsemble } from '../support/zk-ensemble.js';
import { startZooKeeper, zookeeperAdminServerMissing } from '../support/zookeeper.js';
import { parseTypedJson, type TypedJson } from './typed-json.js';

const skip = skipUnless(zookeeperAdminServerMissing());

const COMMANDS = [
  'configuration',
  'connection_stat_reset',
  'connections',
  'dirs',
  'dump',
  'environment',
  'get_trace_mask',
  'hash',
  'initial_configuration',
  'is_read_only',
  'last_snapshot',
  'leader',
  'monitor',
  'observer_connection_stat_reset',
  'observers',
  'ruok',
  'server_stats',
  'set_trace_mask',
  'stat_reset',
  'stats',
  'system_properties',
  'voting_view',
  'watch_summary',
  'watches',
  'watches_by_path',
  'zabstate',
];
/** Commands whose answer changes state: run last, after the others were compared. */
const RESETS = new Set(['connection_stat_reset', 'stat_reset', 'observer_connection_stat_reset']);

/** Keys whose values the shared workload fixes: equal in both systems, not just the same type. */
const EQUAL_VALUES = new Set([
  'command',
  'error',
  'server_state',
  'peer_state',
  'read_only',
  'voting',
  'is_leader',
  'zabstate',
  'learner_type',
  'num_connections',
  'num_paths',
  'num_total_watches',
  'znode_count',
  'node_count',
  'ephemerals_count',
  'watch_count',
  'synced_followers',
  'synced_observers',
  'synced_non_voting_followers',
  'learners',
  'quorum_size',
  'global_sessions',
  'num_alive_connections',
  'num_alive_client_connections',
  'tracemask',
  'interest_ops',
  'session_timeout',
  'digests',
  'empty',
]);

/** Maps keyed by session ids or times (which differ between runs): values compared, keys not. */
const ID_KEYED = new Set(['expiry_time_to_session_ids', 'session_id_to_ephemeral_paths', 'session_id_to_watched_paths']);
/**
 * monitor's summary sets keyed by learner sid or top-level path: ZooKeeper also counts the writes
 * of its startup replay and of the config node it sets at start, tszk only what it serves; and a
 * learner's set appears once the leader queued it a packet it samples, which depends on when that
 * learner connected. A member only one side has is no difference; both sides' are compared.
 */
const KEYED_MONITOR_SUMMARY = /^(avg|min|max|cnt|sum|p50|p95|p99|p999)_(\d+_learner_handler_qp_(size|time_ms)|.+_(read|write)_per_namespace)$/;

interface Answer {
  status: number;
  text: string;
  json: TypedJson | undefined;
}
type Answers = Map<string, Answer>;

async function fetchAll(adminPort: number): Promise<Answers> {
  const out: Answers = new Map();
  for (const c of [...COMMANDS.filter((c) => !RESETS.has(c)), ...COMMANDS.filter((c) => RESETS.has(c))]) {
    const r = await fetch(`http://127.0.0.1:${adminPort}/commands/${c}`);
    const text = await r.text();
    out.set(c, { status: r.status, text, json: r.headers.get('content-type') === 'application/json' ? parseTypedJson(text) : undefined });
  }
  return out;
}

async function waitForAdmin(adminPort: number, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${adminPort}/commands/ruok`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${what}: AdminServer on ${adminPort} did not answer within 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function show(v: TypedJson): string {
  switch (v.kind) {
    case 'object':
      return '{…}';
    case 'array':
      return `[${v.items.length}]`;
    case 'null':
      return 'null';
    default:
      return JSON.stringify(String(v.value));
  }
}

/** Differences between ZooKeeper's answer and tszk's, as "path: what" lines. */
function differences(zk: TypedJson, ts: TypedJson, path: string, key: string, out: string[]): void {
  if (zk.kind !== ts.kind) {
    out.push(`${path}: ZooKeeper ${zk.kind} ${show(zk)}, tszk ${ts.kind} ${show(ts)}`);
    return;
  }
  if (zk.kind === 'object' && ts.kind === 'object') {
    if (ID_KEYED.has(key)) {
      const zv = [...zk.entries.values()];
      const tv = [...ts.entries.values()];
      if (key === 'expiry_time_to_session_ids') {
        // Which expiry bucket (tick) holds which session, and buckets left empty, depend on timing:
        // compare the type of a session id in any bucket, not how they are spread.
        const ids = (v: TypedJson[]): TypedJson[] => v.flatMap((b) => (b.kind === 'array' ? b.items : []));
        const [zi, ti] = [ids(zv), ids(tv)];
        if (zi.length > 0 && ti.length > 0) differences(zi[0]!, ti[0]!, `${path}/*[0]`, '', out);
        return;
      }
      if (zv.length !== tv.length) out.push(`${path}: ZooKeeper ${zv.length} entries, tszk ${tv.length}`);
      if (zv.length > 0 && tv.length > 0) differences(zv[zv.length - 1]!, tv[tv.length - 1]!, `${path}/*`, '', out);
      return;
    }
    for (const k of new Set([...zk.entries.keys(), ...ts.entries.keys()])) {
      const z = zk.entries.get(k);
      const t = ts.entries.get(k);
      const keyed = path === '/monitor' && KEYED_MONITOR_SUMMARY.test(k);
      if (z === undefined) {
        if (!keyed) out.push(`${path}/${k}: only tszk has it`);
      } else if (t === undefined) {
        if (!keyed) out.push(`${path}/${k}: only ZooKeeper has it`);
      } else differences(z, t, `${path}/${k}`, k, out);
    }
    return;
  }
  if (zk.kind === 'array' && ts.kind === 'array') {
    if (zk.items.length !== ts.items.length) out.push(`${path}: ZooKeeper ${zk.items.length} items, tszk ${ts.items.length}`);
    else for (let i = 0; i < zk.items.length; i++) differences(zk.items[i]!, ts.items[i]!, `${path}[${i}]`, key, out);
    return;
  }
  if (EQUAL_VALUES.has(key) && show(zk) !== show(ts)) out.push(`${path}: ZooKeeper ${show(zk)}, tszk ${show(ts)}`);
}

function compare(role: string, zk: Answers, ts: Answers): string[] {
  const out: string[] = [];
  for (const c of COMMANDS) {
    const z = zk.get(c)!;
    const t = ts.get(c)!;
    const where = `${role} /commands/${c}`;
    if (c === 'monitor' && z.status === 500) {
      // ZooKeeper's NullPointerException without a server; tszk says it does not serve.
      if (t.status !== 200 || !/"error" : "This ZooKeeper instance is not currently serving requests"/.test(t.text))
        out.push(`${where}: tszk ${t.status} ${t.text}`);
      continue;
    }
    if (z.status !== t.status) out.push(`${where}: HTTP ZooKeeper ${z.status}, tszk ${t.status}`);
    if (z.json === undefined || t.json === undefined) {
      out.push(
        `${where}: not JSON (ZooKeeper ${z.json === undefined ? z.text.slice(0, 80) : 'JSON'}, tszk ${t.json === undefined ? t.text.slice(0, 80) : 'JSON'})`,
      );
      continue;
    }
    if (c === 'system_properties') {
      // Different properties by nature (a JVM's, Node's): every value a string in both.
      for (const [name, j] of [
        ['ZooKeeper', z.json],
        ['tszk', t.json],
      ] as const)
        if (j.kind === 'object') for (const [k, v] of j.entries) if (k !== 'error' && v.kind !== 'string') out.push(`${where}/${k}: ${name} ${v.kind}`);
      continue;
    }
    differences(z.json, t.json, `/${c}`, '', out);
  }
  return out.map((l) => (l.startsWith('/') ? `${role} ${l}` : l));
}

/** Writes that take the zxid counter past 0x80, where `hash` keeps its first digest (DataTree.DIGEST_LOG_INTERVAL). */
const DIGEST_WRITES = 140;

/**
 * The same workload on both systems: a znode written DIGEST_WRITES times, an ephemeral, a data
 * watch and an exists watch, from one session kept open.
 */
async function workload(connectString: string): Promise<ZooKeeperClient> {
  const zk = await ZooKeeperClient.connect(connectString, { sessionTimeout_ms: 10_000 });
  await zk.create('/a', 'x');
  for (let i = 0; i < DIGEST_WRITES; i++) await zk.setData('/a', `x${i}`);
  await zk.create('/e', 'y', { mode: CreateMode.EPHEMERAL });
  await zk.getData('/a', true);
  await zk.exists('/b', true);
  return zk;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('standalone: every command, key by key and type by type', { skip }, async () => {
  const adminCfg = async (): Promise<Record<string, string | number>> => ({
    'admin.enableServer': 'true',
    'admin.serverAddress': '127.0.0.1',
    'admin.serverPort': await freePort(),
  });
  const zkCfg = await adminCfg();
  const zk = await startZooKeeper({ cfg: zkCfg });
  cleanups.push(() => zk.stop());
  const tsCfg = await adminCfg();
  const ts = await startTszk({ cfg: tsCfg });
  cleanups.push(() => ts.stop());
  const answers: Answers[] = [];
  for (const [connectString, port] of [
    [zk.connectString, zkCfg['admin.serverPort'] as number],
    [ts.connectString, tsCfg['admin.serverPort'] as number],
  ] as const) {
    await waitForAdmin(port, connectString);
    const client = await workload(connectString);
    answers.push(await fetchAll(port));
    await client.close();
  }
  assert.deepEqual(compare('standalone', answers[0]!, answers[1]!), []);
  // hash: one digest (zxid 0x80) in both, its keys in Jackson's order.
  const keysOf = (a: Answers): string[] => [...a.get('hash')!.text.matchAll(/"(\w+)" :/g)].map((m) => m[1]!);
  assert.deepEqual(keysOf(answers[1]!), keysOf(answers[0]!));
  assert.deepEqual(keysOf(answers[0]!), ['digests', 'zxid', 'digest', 'digest_version', 'command', 'error']);
  assert.match(answers[1]!.get('hash')!.text, /"zxid" : 128,/);
});

interface RoleAnswers {
  leader: Answers;
  follower: Answers;
  observer: Answers;
  /** The follower after the other two participants were killed. */
  noQuorum: Answers;
  /** The ids of the roles, for messages. */
  ids: string;
}

async function ensembleAnswers(kind: PeerKind): Promise<RoleAnswers> {
  const adminPorts = [await freePort(), await freePort(), await freePort(), await freePort()];
  const ens: ZkEnsemble = await startZkEnsemble({
    peers: adminPorts.map((p, i) => ({
      kind,
      observer: i === 3,
      cfg: { 'admin.enableServer': 'true', 'admin.serverAddress': '127.0.0.1', 'admin.serverPort': p },
    })),
    tickTime_ms: 500,
    initLimit: 10,
    syncLimit: 2,
  });
  cleanups.push(() => ens.stop());
  const leader = await ens.waitForQuorum(90_000);
  const admin = (p: EnsemblePeer): number => adminPorts[p.sid - 1]!;
  for (const p of ens.peers) await waitForAdmin(admin(p), `${kind} peer ${p.sid} (log ${p.logFile})`);
  const follower = ens.peers.find((p) => p !== leader && !p.observer)!;
  const other = ens.peers.find((p) => p !== leader && p !== follower && !p.observer)!;
  const observer = ens.peers[3]!;
  const client = await workload(follower.connectString);
  // The observer has the txns once it answers a sync'd read through its own session.
  const obs = await ZooKeeperClient.connect(observer.connectString);
  await obs.sync('/');
  await obs.close();
  const r = {
    leader: await fetchAll(admin(leader)),
    follower: await fetchAll(admin(follower)),
    observer: await fetchAll(admin(observer)),
  };
  await client.close();
  await leader.kill();
  await other.kill();
  // The follower stops serving once it notices its leader is gone.
  const deadline = Date.now() + 30_000;
  while (!/not currently serving/.test(await (await fetch(`http://127.0.0.1:${admin(follower)}/commands/ruok`)).text())) {
    if (Date.now() > deadline) throw new Error(`${kind}: follower ${follower.sid} still serves without a quorum (log ${follower.logFile})`);
    await new Promise((res) => setTimeout(res, 200));
  }
  const noQuorum = await fetchAll(admin(follower));
  await ens.stop();
  return { ...r, noQuorum, ids: `leader ${leader.sid}, follower ${follower.sid}, observer ${observer.sid}` };
}

test('leader, follower, observer, and a member without a quorum: every command, key by key and type by type', { skip, timeout: 300_000 }, async () => {
  const zk = await ensembleAnswers('zookeeper');
  const ts = await ensembleAnswers('tszk');
  const diffs = [
    ...compare('leader', zk.leader, ts.leader),
    ...compare('follower', zk.follower, ts.follower),
    ...compare('observer', zk.observer, ts.observer),
    ...compare('no quorum', zk.noQuorum, ts.noQuorum),
  ];
  assert.deepEqual(diffs, [], `ZooKeeper: ${zk.ids}; tszk: ${ts.ids}`);
});
