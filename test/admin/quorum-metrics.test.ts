/**
 * ZooKeeper's quorum metrics on a real 3-member tszk ensemble (separate processes, Prometheus
 * /metrics on each): after a known workload through a follower, the leader's commit_count,
 * quorum_ack_latency and per-learner learner_handler_qp_size, the follower's proposal and commit
 * counts and latencies, the log's fsync and sync-processor figures, and the per-namespace
 * read/write summaries grow by the work done; every counter and summary count /metrics shows lies
 * between two mntr answers taken around the scrape (the same counters). The shipped Grafana
 * dashboard names only metrics these members export. A follower's 3.9 `snapshot` command streams
 * a snapshot holding the workload's znodes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { ZooKeeperClient } from '../../src/client/index.js';
import { databaseFromSnapshot } from '../../src/storage/database.js';
import { parseSnapshot } from '../../src/storage/snapshot.js';
import { startEnsemble, type Ensemble, type EnsembleMember } from '../support/ensemble.js';
import { fourLetter } from '../support/ports.js';

let ens: Ensemble;
let leader: EnsembleMember;
let follower: EnsembleMember;

before(async () => {
  ens = await startEnsemble(3, { metrics: true, adminServer: true, tickTime_ms: 200 });
  leader = await ens.waitForLeader();
  follower = ens.members.find((m) => m.id !== leader.id)!;
});
after(async () => {
  await ens.stop();
});

/**
 * The parsed families, and each keyed summary member's count by `name{key}`: the parser folds a
 * summary's labelled members into one (it keeps only the quantile label), so those are read from
 * their `_count{key="…"}` lines.
 */
interface Families extends Map<string, PrometheusFamily> {
  keyedCounts: Map<string, number>;
}

async function scrape(m: EnsembleMember): Promise<Families> {
  const r = await fetch(`http://127.0.0.1:${m.metricsPort!}/metrics`);
  assert.equal(r.status, 200);
  const text = await r.text();
  const f = new Map(parsePrometheusTextFormat(text).map((fam) => [fam.name, fam] as const)) as Families;
  f.keyedCounts = new Map();
  for (const [, name, key, v] of text.matchAll(/^(\w+)_count\{key="([^"]*)"\} (\S+)$/gm)) f.keyedCounts.set(`${name!}{${key!}}`, Number(v));
  return f;
}

async function mntr(m: EnsembleMember): Promise<Map<string, number>> {
  const text = await fourLetter(m.clientPort, 'mntr');
  return new Map(text.split('\n').flatMap((l) => (l === '' ? [] : [[l.split('\t')[0]!, Number(l.split('\t')[1])] as [string, number]])));
}

function counter(f: Families, name: string): number {
  const fam = f.get(name);
  assert.ok(fam, `${name} is exported`);
  assert.equal(fam.type, 'COUNTER', `${name} is a counter`);
  return Number(fam.metrics[0]!.value);
}

function gauge(f: Families, name: string): number {
  const fam = f.get(name);
  assert.ok(fam, `${name} is exported`);
  assert.equal(fam.type, 'GAUGE', `${name} is a gauge`);
  return Number(fam.metrics[0]!.value);
}

/** A summary's count (0 for a keyed member never recorded). */
function count(f: Families, name: string, key?: string): number {
  if (key !== undefined) {
    if (f.has(name)) assert.equal(f.get(name)!.type, 'SUMMARY', `${name} is a summary`);
    return f.keyedCounts.get(`${name}{${key}}`) ?? 0;
  }
  const fam = f.get(name);
  assert.ok(fam, `${name} is exported`);
  assert.equal(fam.type, 'SUMMARY', `${name} is a summary`);
  return Number(fam.metrics[0]!.count);
}

/** Every counter and summary count of /metrics is between mntr's before and after the scrape. */
async function assertAgreesWithMntr(m: EnsembleMember): Promise<void> {
  const before = await mntr(m);
  const f = await scrape(m);
  const afterM = await mntr(m);
  let checked = 0;
  const between = (what: string, v: number, mntrKey: string): void => {
    const lo = before.get(mntrKey);
    const hi = afterM.get(mntrKey);
    assert.ok(lo !== undefined && hi !== undefined, `mntr has ${mntrKey}`);
    assert.ok(lo <= v && v <= hi, `member ${m.id} ${what}: /metrics ${v}, mntr ${lo}..${hi}`);
    checked++;
  };
  for (const fam of f.values()) {
    if (fam.type === 'COUNTER' && before.has(`zk_${fam.name}`)) between(fam.name, Number(fam.metrics[0]!.value), `zk_${fam.name}`);
    if (fam.type === 'SUMMARY' && fam.metrics[0]?.count !== undefined) between(`${fam.name}_count`, Number(fam.metrics[0].count), `zk_cnt_${fam.name}`);
  }
  for (const [nameKey, v] of f.keyedCounts) {
    const [, name, key] = /^(\w+)\{(.*)\}$/.exec(nameKey)!;
    between(`${nameKey}_count`, v, `zk_cnt_${key!}_${name!}`);
  }
  assert.ok(checked > 100, `compared ${checked} values`);
}

test('the quorum summaries and counters grow with the work done, and mntr agrees with /metrics', async () => {
  const l0 = await scrape(leader);
  const f0 = await scrape(follower);
  // Elections and syncs that brought the ensemble up.
  assert.ok(count(l0, 'election_time') >= 1, 'leader election timed');
  assert.ok(count(f0, 'election_time') >= 1, 'follower election timed');
  assert.ok(count(f0, 'follower_sync_time') >= 1, 'follower sync timed');
  assert.ok(count(l0, 'unavailable_time') >= 1 && count(l0, 'leader_unavailable_time') >= 1, 'unavailability until broadcast');
  assert.ok(count(l0, 'dbinittime') >= 1 && count(l0, 'startup_snap_load_time') >= 1, 'startup load timed');
  assert.ok(counter(l0, 'diff_count') + counter(l0, 'snap_count') >= 2, 'the leader synced both learners');
  assert.equal(gauge(l0, 'learners'), 2);
  assert.equal(gauge(l0, 'synced_followers'), 2);
  assert.ok(gauge(l0, 'leader_uptime') > 0);
  assert.equal(gauge(l0, 'pending_syncs'), 0);

  const WRITES = 30;
  const READS = 15;
  const zk = await ZooKeeperClient.connect(follower.connectString, { sessionTimeout_ms: 30_000 });
  try {
    await zk.create('/app', '');
    for (let i = 0; i < 19; i++) await zk.create(`/app/n${i}`, 'x'.repeat(i));
    for (let i = 0; i < 10; i++) await zk.setData(`/app/n${i}`, 'updated');
    for (let i = 0; i < READS; i++) await zk.getData(`/app/n${i % 19}`);
    await zk.sync('/app');
  } finally {
    await zk.close();
  }
  const l1 = await scrape(leader);
  const f1 = await scrape(follower);
  const grew = (f: [Families, Families], name: string, by: number, key?: string): void => {
    const d = count(f[1], name, key) - count(f[0], name, key);
    assert.ok(d >= by, `${name}${key === undefined ? '' : `{key="${key}"}`} grew by ${d}, at least ${by} expected`);
  };
  const grewCounter = (f: [Families, Families], name: string, by: number): void => {
    const d = counter(f[1], name) - counter(f[0], name);
    assert.ok(d >= by, `${name} grew by ${d}, at least ${by} expected`);
  };
  const L: [Families, Families] = [l0, l1];
  const F: [Families, Families] = [f0, f1];
  // Leader: every write proposed, acked by a quorum and committed; packets queued to the follower.
  grewCounter(L, 'proposal_count', WRITES);
  grewCounter(L, 'commit_count', WRITES);
  grew(L, 'quorum_ack_latency', WRITES);
  grew(L, 'proposal_ack_creation_latency', WRITES);
  grew(L, 'learner_handler_qp_size', 2 * WRITES, String(follower.id));
  // The first packet to a learner and every 1000th are timed (LearnerHandler's marker packets).
  assert.ok(count(l1, 'learner_handler_qp_time_ms', String(follower.id)) >= 1);
  // Follower: proposals and commits received, how old they were, its own acks.
  grewCounter(F, 'learner_proposal_received_count', WRITES);
  grewCounter(F, 'learner_commit_received_count', WRITES);
  grew(F, 'proposal_latency', WRITES);
  grew(F, 'commit_propagation_latency', WRITES);
  grew(F, 'proposal_ack_creation_latency', WRITES);
  assert.equal(counter(f1, 'commit_count'), 0, 'only a leader commits (Leader.commit)');
  // Both: the txn log and the tree.
  for (const M of [L, F]) {
    grew(M, 'fsynctime', 1);
    grew(M, 'sync_processor_batch_size', 1);
    grew(M, 'sync_processor_queue_and_flush_time_ms', WRITES);
    grewCounter(M, 'sync_processor_request_queued', WRITES);
    grew(M, 'propagation_latency', WRITES);
    grew(M, 'write_per_namespace', WRITES, 'app');
  }
  // The client's reads were on the follower only.
  grew(F, 'read_per_namespace', READS, 'app');
  assert.equal(count(l1, 'read_per_namespace', 'app'), 0);
  grew(F, 'readlatency', READS);
  // Bytes and connections the follower saw from the client.
  grewCounter(F, 'connection_request_count', 1);
  grewCounter(F, 'bytes_received_count', 100);

  for (const m of ens.members) await assertAgreesWithMntr(m);
  // mntr names a summary set's member <key>_<name>.
  const lm = await mntr(leader);
  assert.ok((lm.get(`zk_cnt_${follower.id}_learner_handler_qp_size`) ?? 0) > 0);
  assert.ok(lm.has(`zk_p99_${follower.id}_learner_handler_qp_time_ms`), 'an ADVANCED set has quantiles');
});

/** PromQL words that are no metric names. */
const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** The metric names a PromQL expression reads: identifiers outside strings, matchers, ranges and groupings that call nothing. */
function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
    .filter((m) => !/^\s*\(/.test(bare.slice(m.index + m[0].length)) && !PROMQL_KEYWORDS.has(m[0].toLowerCase()))
    .map((m) => m[0]);
}

test('the Grafana dashboard (docs/grafana/tszk-dashboard.json) names only metrics tszk exports', async () => {
  const dashboard = JSON.parse(fs.readFileSync(new URL('../../../docs/grafana/tszk-dashboard.json', import.meta.url), 'utf8')) as {
    panels: { id: number; type: string; title: string; targets?: { expr: string }[] }[];
    templating: { list: { query?: string | { query: string } }[] };
  };
  const exprs: string[] = [];
  for (const p of dashboard.panels) for (const t of p.targets ?? []) exprs.push(t.expr);
  for (const v of dashboard.templating.list) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = q === undefined ? null : /^label_values\((\w+),/.exec(q);
    if (m !== null) exprs.push(m[1]!);
  }
  assert.ok(exprs.length > 40, `${exprs.length} expressions`);
  assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids are unique');
  // Every sample name a leader and a follower export (a summary's _count and _sum, a histogram's _bucket too).
  const exported = new Set<string>();
  for (const m of [leader, follower]) {
    const text = await (await fetch(`http://127.0.0.1:${m.metricsPort!}/metrics`)).text();
    for (const line of text.split('\n')) if (line !== '' && !line.startsWith('#')) exported.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]);
  }
  const names = new Set(exprs.flatMap(promqlMetricNames));
  assert.ok(names.size > 40, `${names.size} metric names`);
  const missing = [...names].filter((n) => !exported.has(n));
  assert.deepEqual(missing, [], 'metrics the dashboard reads that tszk does not export');
  // The extraction itself: names inside functions, matchers and arithmetic, nothing else.
  assert.deepEqual(promqlMetricNames('sum by (key) (rate(a_sum{x="b(c)"}[5m])) / rate(b_count[$__rate_interval]) > bool 0'), ['a_sum', 'b_count']);
});

test("a follower's snapshot command streams its tree (the root's ACL is open: any digest id has ALL)", async () => {
  const r = await fetch(`http://127.0.0.1:${follower.adminPort!}/commands/snapshot`, { headers: { Authorization: 'digest backup:pw' } });
  assert.equal(r.status, 200);
  const bytes = Buffer.from(await r.arrayBuffer());
  assert.equal(Number(r.headers.get('snapshot_size')), bytes.length);
  const db = databaseFromSnapshot(parseSnapshot(bytes, '<streamed>', BigInt(r.headers.get('last_zxid')!)));
  assert.equal(db.tree.getNode('/app/n3')?.data?.toString('utf8'), 'updated');
  assert.equal(db.tree.getNode('/app/n18')?.data?.toString('utf8'), 'x'.repeat(18));
});
