/**
 * The AdminServer: ZooKeeper 3.8's HTTP command interface (JettyAdminServer) on node:http, in the
 * tszk process. `GET <commandURL>` lists the commands, `GET <commandURL>/<name>[?key=value]` runs
 * one (commands.ts); `GET /health/ready` and `/health/live` are tszk's probes (health.ts); `GET /`
 * is the web console (console.ts), read-only.
 * Anything else is 404; other methods 405; an over-long URL 414; a malformed request 400 (and that
 * connection is closed, with a log line).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { log } from '../log.js';
import type { AdminServerConfig } from '../server/config.js';
import { PRIMARY_NAMES, runCommand, type CommandContext } from './commands.js';
import { SNAPSHOT_PRIMARY_NAME, SnapshotCommand } from './snapshotCommand.js';
import { CONSOLE_PAGE, consoleEnsemble, consoleNode, consoleWrite } from './console.js';
import { ConsoleLogins } from './consoleLogins.js';
import { listenHttp } from './httpListen.js';
import { liveness, readiness } from './health.js';
import { writeJson } from './json.js';

/** Longest request target accepted (ZooKeeper's Jetty: 8 KiB of request line). */
const URL_BYTES_MAX = 8192;
/** A console write's JSON body (a znode's data is at most jute.maxbuffer, about 1 MiB). */
const BODY_BYTES_MAX = 2 * 1024 * 1024;
const LOGIN_COOKIE = 'tszk_console';
/** Console POSTs must carry this header: a cross-site form cannot set it (CSRF). */
const CONSOLE_HEADER = 'x-tszk-console';
/** Request line and header bytes accepted (Node answers 431 beyond). */
const HEADER_BYTES_MAX = 16_384;

export class AdminServerError extends Error {
  constructor(
    readonly address: string,
    readonly port: number,
    cause: NodeJS.ErrnoException,
  ) {
    super(`AdminServer cannot listen on ${address}:${port}: ${cause.code ?? cause.message} (set admin.serverPort, or admin.enableServer=false)`);
    this.name = 'AdminServerError';
  }
}

/** GET /commands: 3.8's commands and 3.9's snapshot. */
const COMMAND_LIST = [...PRIMARY_NAMES, SNAPSHOT_PRIMARY_NAME].sort();

export interface AdminServerHandle {
  /** The port it listens on (admin.serverPort, or the one picked for 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startAdminServer(cfg: AdminServerConfig, ctx: CommandContext): Promise<AdminServerHandle> {
  const base = cfg.commandURL.replace(/\/+$/, '');
  const logins = new ConsoleLogins(ctx.member);
  const snapshot = new SnapshotCommand(cfg, ctx);
  const server = http.createServer({ maxHeaderSize: HEADER_BYTES_MAX, requestTimeout: cfg.idleTimeout_ms }, (req, res) => {
    if (req.method === 'POST' && (req.url ?? '').startsWith('/console/api/')) {
      consolePost(req, res, logins).catch((e: unknown) => {
        log.warn({ err: e instanceof Error ? e.message : String(e) }, 'console request failed');
        if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
      });
      return;
    }
    handle(req, res, base, ctx, logins, snapshot);
  });
  // admin.idleTimeout: an idle connection (kept alive or not) is closed after it.
  server.keepAliveTimeout = cfg.idleTimeout_ms;
  server.setTimeout(cfg.idleTimeout_ms, (s: Socket) => s.destroy());
  const listener = await listenHttp(
    server,
    'AdminServer',
    cfg.serverAddress,
    cfg.serverPort,
    (e) => new AdminServerError(cfg.serverAddress, cfg.serverPort, e),
  );
  log.info({ address: cfg.serverAddress, port: listener.port, commandURL: base || '/' }, 'AdminServer started');
  return { port: listener.port, close: () => logins.close().then(() => listener.close()) };
}

function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  base: string,
  ctx: CommandContext,
  logins: ConsoleLogins,
  snapshot: SnapshotCommand,
): void {
  const raw = req.url ?? '/';
  if (Buffer.byteLength(raw) > URL_BYTES_MAX) return send(res, 414, 'text/plain', 'URI Too Long\n');
  let url: URL;
  try {
    url = new URL(raw, 'http://admin');
  } catch {
    return send(res, 400, 'text/plain', 'Bad Request\n');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain', `HTTP method ${req.method ?? ''} is not supported by this URL\n`);
  }
  const p = url.pathname;
  if (p === '/') return send(res, 200, 'text/html; charset=utf-8', CONSOLE_PAGE);
  if (p === '/console/api/ensemble') return send(res, 200, 'application/json', writeJson(consoleEnsemble(ctx.member)));
  if (p === '/console/api/whoami') return send(res, 200, 'application/json', JSON.stringify({ user: logins.get(cookie(req, LOGIN_COOKIE))?.user ?? null }));
  if (p === '/console/api/node') {
    const login = logins.get(cookie(req, LOGIN_COOKIE));
    const n = consoleNode(ctx.member, url.searchParams.get('path') ?? '/', login?.authInfo ?? []);
    return send(res, n.status, 'application/json', writeJson(n.body));
  }
  if (p === '/health/ready' || p === '/health/live') {
    const h = p === '/health/ready' ? readiness(ctx.member) : liveness(ctx.member);
    return send(res, h.ok ? 200 : 503, 'application/json', JSON.stringify(h.body) + '\n');
  }
  if (p === base || p === `${base}/`) {
    // ZooKeeper's list: a link per primary name.
    return send(res, 200, 'text/html', COMMAND_LIST.map((n) => `<a href="${base}/${n}">${n}</a>\n<br/>\n`).join(''));
  }
  if (p.startsWith(`${base}/`)) {
    const name = decodeURIComponent(p.slice(base.length + 1));
    if (snapshot.answers(name)) return snapshot.run(req, res, name, url.searchParams);
    if (!name.includes('/')) return send(res, 200, 'application/json', writeJson(runCommand(name, ctx, url.searchParams)));
  }
  send(res, 404, 'text/plain', 'Not Found\n');
}

/** POST /console/api/{login,logout,create,set,delete}: JSON in, JSON out. */
async function consolePost(req: http.IncomingMessage, res: http.ServerResponse, logins: ConsoleLogins): Promise<void> {
  const json = (status: number, body: unknown): void => send(res, status, 'application/json', JSON.stringify(body));
  if (req.headers[CONSOLE_HEADER] !== '1') return json(403, { error: `console requests need the ${CONSOLE_HEADER} header` });
  const action = new URL(req.url ?? '/', 'http://admin').pathname.slice('/console/api/'.length);
  let body: Record<string, unknown>;
  try {
    body = await readJsonBody(req);
  } catch (e) {
    if (e instanceof BodyTooLarge) res.setHeader('Connection', 'close');
    return json(e instanceof BodyTooLarge ? 413 : 400, { error: e instanceof Error ? e.message : String(e) });
  }
  const token = cookie(req, LOGIN_COOKIE);
  if (action === 'login') {
    const { user, password } = body;
    if (typeof user !== 'string' || typeof password !== 'string' || user === '' || user.includes(':'))
      return json(400, { error: 'user and password are required (no : in the user)' });
    const t = await logins.login(user, password);
    res.setHeader('Set-Cookie', `${LOGIN_COOKIE}=${t}; HttpOnly; SameSite=Strict; Path=/`);
    return json(200, { user });
  }
  if (action === 'logout') {
    if (token !== undefined) await logins.logout(token);
    res.setHeader('Set-Cookie', `${LOGIN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return json(200, { user: null });
  }
  const login = logins.get(token);
  if (login === undefined) return json(401, { error: 'log in (digest user and password) to change znodes' });
  const r = await consoleWrite(login, action, body);
  json(r.status, r.body);
}

class BodyTooLarge extends Error {}

function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes <= BODY_BYTES_MAX) chunks.push(c);
      else if (bytes - c.length <= BODY_BYTES_MAX) reject(new BodyTooLarge(`request body over ${BODY_BYTES_MAX} bytes`));
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the body must be a JSON object');
        resolve(v as Record<string, unknown>);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === name && v !== undefined && v !== '') return v;
  }
  return undefined;
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
