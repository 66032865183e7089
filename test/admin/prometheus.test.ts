/**
 * /metrics with metricsProvider.className=…PrometheusMetricsProvider on a real tszk server
 * process: parsed by a Prometheus text-format parser (parse-prometheus-text-format); ZooKeeper's
 * names and kinds; the values equal mntr's after a known workload; the summaries' counts grow by
 * the work done; Node's process metrics are there.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { ZooKeeperClient } from '../../src/client/index.js';
import { fourLetter, freePort } from '../support/ports.js';
import { startTszk, type Tszk } from '../support/tszk.js';

let server: Tszk;
let metricsPort: number;
let zk: ZooKeeperClient;

before(async () => {
  metricsPort = await freePort();
  server = await startTszk({
    cfg: {
      'metricsProvider.className': 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
      'metricsProvider.httpHost': '127.0.0.1',
      'metricsProvider.httpPort': metricsPort,
    },
  });
  zk = await ZooKeeperClient.connect(server.connectString, { sessionTimeout_ms: 30_000 });
});
after(async () => {
  await zk.close();
  await server.stop();
});

async function scrape(): Promise<{ families: Map<string, PrometheusFamily>; contentType: string | null }> {
  const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(r.status, 200);
  const families = new Map(parsePrometheusTextFormat(await r.text()).map((f) => [f.name, f] as const));
  return { families, contentType: r.headers.get('content-type') };
}

async function mntr(): Promise<Map<string, string>> {
  const text = await fourLetter(server.port, 'mntr');
  return new Map(text.split('\n').flatMap((l) => (l === '' ? [] : [l.split('\t') as [string, string]])));
}

function value(f: Map<string, PrometheusFamily>, name: string, type: PrometheusFamily['type']): number {
  const fam = f.get(name);
  assert.ok(fam, `${name} is exported`);
  assert.equal(fam.type, type, `${name} is a ${type}`);
  return Number(fam.metrics[0]!.value);
}

function summary(f: Map<string, PrometheusFamily>, name: string, quantiles: string[]): { count: number; sum: number } {
  const fam = f.get(name);
  assert.ok(fam, `${name} is exported`);
  assert.equal(fam.type, 'SUMMARY', `${name} is a summary`);
  const m = fam.metrics[0]!;
  assert.deepEqual(Object.keys(m.quantiles ?? {}).sort(), quantiles, `${name} quantiles`);
  return { count: Number(m.count), sum: Number(m.sum) };
}

test("ZooKeeper's names and kinds, and the values mntr shows after a known workload", async () => {
  for (let i = 0; i < 10; i++) await zk.create(`/m${i}`, 'x'.repeat(i));
  for (let i = 0; i < 5; i++) await zk.getData(`/m${i}`, true);
  const { families: f, contentType } = await scrape();
  const m = await mntr();
  assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
  for (const g of ['znode_count', 'ephemerals_count', 'watch_count', 'approximate_data_size', 'global_sessions', 'outstanding_requests']) {
    assert.equal(value(f, g, 'GAUGE'), Number(m.get(`zk_${g}`)), g);
  }
  assert.equal(value(f, 'znode_count', 'GAUGE'), 5 + 10);
  assert.equal(value(f, 'watch_count', 'GAUGE'), 5);
  // mntr's own connection is one more while it is answered.
  assert.equal(value(f, 'num_alive_connections', 'GAUGE'), 1);
  assert.equal(Number(m.get('zk_num_alive_connections')), 2);
  for (const g of [
    'avg_latency',
    'min_latency',
    'max_latency',
    'uptime',
    'open_file_descriptor_count',
    'max_file_descriptor_count',
    'packets_received',
    'packets_sent',
  ]) {
    value(f, g, 'GAUGE');
  }
  assert.equal(value(f, 'commit_count', 'COUNTER'), Number(m.get('zk_commit_count')));
  // Only a leader counts commits (Leader.commit); a standalone server applies its txns without one.
  assert.equal(value(f, 'commit_count', 'COUNTER'), 0);
  assert.ok(summary(f, 'propagation_latency', ['0.5', '0.9', '0.99']).count >= 11, 'session + 10 creates applied');
  assert.equal(summary(f, 'propagation_latency', ['0.5', '0.9', '0.99']).count, Number(m.get('zk_cnt_propagation_latency')));
  for (const c of ['proposal_count', 'looking_count', 'digest_mismatches_count', 'stale_requests', 'connection_drop_count']) value(f, c, 'COUNTER');
  const update = summary(f, 'updatelatency', ['0.5', '0.9', '0.99']);
  assert.equal(update.count, Number(m.get('zk_cnt_updatelatency')));
  assert.equal(update.sum, Number(m.get('zk_sum_updatelatency')));
  assert.equal(summary(f, 'readlatency', ['0.5', '0.9', '0.99']).count, Number(m.get('zk_cnt_readlatency')));
  assert.equal(summary(f, 'fsynctime', ['0.5']).count, Number(m.get('zk_cnt_fsynctime')));
  for (const s of ['election_time', 'snapshottime', 'follower_sync_time']) summary(f, s, ['0.5']);
  for (const s of ['proposal_latency', 'quorum_ack_latency']) summary(f, s, ['0.5', '0.9', '0.99']);
  // Strings are no metrics.
  assert.equal(f.has('version'), false);
  assert.equal(f.has('server_state'), false);
});

test('summary counts grow with the work done', async () => {
  const before = await scrape();
  const reads0 = summary(before.families, 'readlatency', ['0.5', '0.9', '0.99']).count;
  const writes0 = summary(before.families, 'updatelatency', ['0.5', '0.9', '0.99']).count;
  const fsyncs0 = summary(before.families, 'fsynctime', ['0.5']).count;
  for (let i = 0; i < 7; i++) await zk.setData('/m1', `v${i}`);
  for (let i = 0; i < 12; i++) await zk.exists('/m2');
  const afterScrape = await scrape();
  assert.ok(summary(afterScrape.families, 'readlatency', ['0.5', '0.9', '0.99']).count >= reads0 + 12);
  assert.ok(summary(afterScrape.families, 'updatelatency', ['0.5', '0.9', '0.99']).count >= writes0 + 7);
  assert.ok(summary(afterScrape.families, 'fsynctime', ['0.5']).count > fsyncs0);
});

test("Node's process metrics (prom-client), 404 elsewhere", async () => {
  const { families: f } = await scrape();
  for (const n of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes'])
    assert.ok(f.has(n), n);
  assert.ok(f.has('nodejs_gc_duration_seconds'), 'GC durations');
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status, 405);
});
