/**
 * /metrics in Prometheus's text format, as ZooKeeper's PrometheusMetricsProvider serves it
 * (metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider,
 * on metricsProvider.httpHost:httpPort): ZooKeeper's metric names and kinds, from the same
 * snapshot as mntr (monitor.ts), so its Grafana dashboard and alert rules read tszk unchanged.
 * Counters keep their names (ZooKeeper's client library adds no _total), gauges are the numeric
 * monitor values, every summary has quantile 0.5 and the detailed ones 0.9 and 0.99 too, with
 * _count and _sum. Process metrics come from prom-client, in Node's words (CPU, memory, event
 * loop lag, GC, handles), where ZooKeeper exports the JVM's.
 */
import http from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { log } from '../log.js';
import type { MemberAdminSource } from '../server/adminSource.js';
import type { PrometheusConfig } from '../server/config.js';
import { listenHttp } from './httpListen.js';
import { JavaDouble } from './json.js';
import { monitorSnapshot, type MonitorSnapshot } from './monitor.js';

/** ZooKeeper's summary quantiles: BASIC summaries report the median, DETAILED ones more. */
const BASIC_QUANTILES = [0.5];
const DETAILED_QUANTILES = [0.5, 0.9, 0.99];
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class MetricsServerError extends Error {
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    super(`Prometheus metrics cannot listen on ${host}:${port}: ${cause.code ?? cause.message} (set metricsProvider.httpPort)`);
    this.name = 'MetricsServerError';
  }
}

export interface MetricsServerHandle {
  readonly port: number;
  close(): Promise<void>;
}

function number(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** A label value escaped as the text format asks (backslash, quote, newline). */
function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The ZooKeeper metrics of one snapshot in the text format. */
export function zooKeeperMetricsText(snap: MonitorSnapshot): string {
  const out: string[] = [];
  const head = (name: string, type: string): void => {
    out.push(`# HELP ${name} ${name}`, `# TYPE ${name} ${type}`);
  };
  for (const [name, v] of snap.gauges) {
    const n = v instanceof JavaDouble ? v.value : v;
    if (typeof n !== 'number') continue; // version, server_state, peer_state: strings, not metrics
    head(name, 'gauge');
    out.push(`${name} ${number(n)}`);
  }
  for (const [name, v] of snap.counters) {
    head(name, 'counter');
    out.push(`${name} ${number(v)}`);
  }
  let family = '';
  for (const { name, key, detailed, values } of snap.summaries) {
    if (name !== family) head(name, 'summary');
    family = name;
    // A summary set's member carries its key as ZooKeeper's provider labels it.
    const labels = key === undefined ? '' : `key="${labelValue(key)}",`;
    const only = key === undefined ? '' : `{key="${labelValue(key)}"}`;
    for (const q of detailed ? DETAILED_QUANTILES : BASIC_QUANTILES)
      out.push(`${name}{${labels}quantile="${q}"} ${number(values.count === 0 ? NaN : values.quantile(q))}`);
    out.push(`${name}_count${only} ${number(values.count)}`, `${name}_sum${only} ${number(values.sum)}`);
  }
  return out.join('\n') + '\n';
}

/** The request's path, or undefined for a target that is no URL (an absolute-form one can be malformed). */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://metrics').pathname;
  } catch {
    return undefined;
  }
}

export async function startMetricsServer(cfg: PrometheusConfig, member: MemberAdminSource): Promise<MetricsServerHandle> {
  const processMetrics = new Registry();
  if (cfg.exportProcessInfo) collectDefaultMetrics({ register: processMetrics });
  const server = http.createServer((req, res) => {
    if (pathOf(req.url) !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET, HEAD' }).end('Method Not Allowed\n');
      return;
    }
    const s = member.servingSource();
    // Like ZooKeeper's, the server's own metrics are there while it serves; the process's always.
    const zk = s === undefined ? '' : zooKeeperMetricsText(monitorSnapshot(member, s));
    processMetrics.metrics().then(
      (proc) => {
        const body = zk + proc;
        res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (e: unknown) => {
        log.warn({ err: e instanceof Error ? e.message : String(e) }, 'process metrics failed');
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics failed\n');
      },
    );
  });
  const listener = await listenHttp(server, 'metrics', cfg.httpHost, cfg.httpPort, (e) => new MetricsServerError(cfg.httpHost, cfg.httpPort, e));
  log.info({ host: cfg.httpHost, port: listener.port }, 'Prometheus metrics served on /metrics');
  return {
    port: listener.port,
    close: () => {
      processMetrics.clear();
      return listener.close();
    },
  };
}
