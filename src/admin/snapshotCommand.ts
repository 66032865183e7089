/**
 * ZooKeeper 3.9's `snapshot` (alias `snap`) admin command, for backups: takes a snapshot into the
 * dataDir now and streams the file as application/octet-stream, with its zxid (`last_zxid`,
 * 0x-hex) and size (`snapshot_size`) as response headers; `?streaming=false` answers the headers
 * and the usual JSON only. It needs ALL on `/` for the ids an `Authorization: <scheme> <auth>`
 * header authenticates (`digest user:password`, or `ip`): 401 without the header or when the
 * scheme cannot authenticate, 403 when the ids lack a permission. `admin.snapshot.enabled=false`
 * answers 503; more than one per `admin.rateLimiterIntervalInMS` answers 429.
 */
import fs from 'node:fs';
import type http from 'node:http';
import { Perms } from '../proto/opcodes.js';
import { authenticate, hasPermission } from '../txn/auth.js';
import { log } from '../log.js';
import type { AdminServerConfig } from '../server/config.js';
import { NOT_SERVING_ERROR, type CommandContext } from './commands.js';
import { writeJson, type Json } from './json.js';

const NAMES = new Set(['snapshot', 'snap']);
/** Its primary name (GET /commands lists it with 3.8's commands). */
export const SNAPSHOT_PRIMARY_NAME = 'snapshot';
const PRIMARY_NAME = SNAPSHOT_PRIMARY_NAME;

/** ZooKeeper's RateLimiter with a rate of 1: the first call of each interval is allowed. */
class RateLimiter {
  private windowStart: number;
  private remaining = 1;

  constructor(
    private readonly interval_ms: number,
    now: number,
  ) {
    this.windowStart = now;
  }

  allow(now: number): boolean {
    if (now > this.windowStart + this.interval_ms) {
      this.remaining = 1;
      this.windowStart = now;
    }
    if (this.remaining === 0) return false;
    this.remaining--;
    return true;
  }
}

export class SnapshotCommand {
  private readonly limiter: RateLimiter;

  constructor(
    private readonly cfg: Pick<AdminServerConfig, 'snapshotEnabled' | 'rateLimiterInterval_ms'>,
    private readonly ctx: CommandContext,
  ) {
    this.limiter = new RateLimiter(cfg.rateLimiterInterval_ms, performance.now());
  }

  /** Whether `name` is this command (by its name or alias). */
  answers(name: string): boolean {
    return NAMES.has(name);
  }

  /** Answers one request; never throws (a failure is a 500 and a log line). */
  run(req: http.IncomingMessage, res: http.ServerResponse, name: string, args: URLSearchParams): void {
    this.answer(req, res, name, args).catch((e: unknown) => {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'snapshot admin command failed');
      if (!res.headersSent) reply(res, 500, PRIMARY_NAME, null);
      else res.destroy();
    });
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse, name: string, args: URLSearchParams): Promise<void> {
    const member = this.ctx.member;
    const s = member.servingSource();
    // Commands.runCommand's checks, in its order: serving, then the Authorization header.
    if (s === undefined) return reply(res, 200, name, NOT_SERVING_ERROR);
    const authInfo = req.headers.authorization;
    if (authInfo === undefined) return reply(res, 401, name, 'Auth info is missing for the command');
    const parts = authInfo.split(' ');
    const ids =
      parts.length === 1 || parts.length === 2
        ? authenticate(parts[0]!, parts.length === 2 ? Buffer.from(parts[1]!, 'utf8') : null, req.socket.remoteAddress ?? '', s.options.superDigest)
        : undefined;
    if (ids === undefined || ids.length === 0) return reply(res, 401, name, 'Not authenticated');
    const root = s.db.tree.getNode('/');
    if (root === undefined || !hasPermission(s.options, s.db.tree.aclOf(root), Perms.ALL, ids)) return reply(res, 403, name, 'Not authorized');
    // SnapshotCommand.runGet's checks: enabled, then the rate limit.
    if (!this.cfg.snapshotEnabled) {
      log.warn('Snapshot command is disabled');
      return reply(res, 503, PRIMARY_NAME, null);
    }
    if (!this.limiter.allow(performance.now())) {
      log.warn('Snapshot request was rate limited');
      return reply(res, 429, PRIMARY_NAME, null);
    }
    const streaming = args.has('streaming') ? args.get('streaming')!.toLowerCase() === 'true' : true;
    const taking = member.snapshotNow();
    if (taking === undefined) return reply(res, 500, PRIMARY_NAME, null);
    const { file, zxid } = await taking;
    const size = (await fs.promises.stat(file)).size;
    const headers = { last_zxid: `0x${BigInt.asUintN(64, zxid).toString(16)}`, snapshot_size: String(size) };
    if (size === 0) return reply(res, 500, PRIMARY_NAME, null, headers);
    if (!streaming) return reply(res, 200, PRIMARY_NAME, null, headers);
    res.writeHead(200, { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': size });
    if (req.method === 'HEAD') return void res.end();
    log.info({ file, zxid: headers.last_zxid, bytes: size }, 'streaming a snapshot to an admin client');
    fs.createReadStream(file)
      .on('error', (e) => {
        log.warn({ file, err: e.message }, 'snapshot stream failed');
        res.destroy();
      })
      .pipe(res);
  }
}

/** ZooKeeper's JSON answer: "command" and "error" (and no data), with the status given. */
function reply(res: http.ServerResponse, status: number, command: string, error: string | null, headers: Record<string, string> = {}): void {
  const body: Json = { command, error };
  const text = writeJson(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
