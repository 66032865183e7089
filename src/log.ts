/**
 * The process-wide operational logger: JSON lines on stderr, in pino's shape (`level` as pino's
 * number, `time`, `pid`, `name`, the record's fields, `msg`; an `err` that is an Error as
 * `{type, message, stack}`), so tools and tests that read pino's lines read these. Level from
 * TSZK_LOG_LEVEL, default 'info'; tests set it to 'warn' or 'silent' to keep output readable.
 *
 * Written here rather than taken from pino: loading pino cost 15–25 ms of the server's start-up
 * (issue 14's start-up goal is 100 ms), and the server uses only this much of it. Each line is one
 * synchronous write, so a line logged just before process.exit is not lost.
 */
import fs from 'node:fs';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type LevelName = keyof typeof LEVELS;

/** How many times a write to a full non-blocking stderr pipe is retried, 1 ms apart, before the line is dropped. */
const EAGAIN_RETRIES = 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

function isLevelName(s: string): s is LevelName {
  return Object.hasOwn(LEVELS, s);
}

/** pino's standard serializer for errors: the class name, message and stack, and any own fields (e.g. `code`). */
function serializeError(e: Error): Record<string, unknown> {
  return { ...e, type: e.constructor.name, message: e.message, stack: e.stack };
}

/** A bigint is written as its exact digits, as pino writes it (JSON.stringify cannot): marked, then unquoted. */
const BIGINT_MARK = '\u0000bigint:';
const BIGINT_MARKED = /"\\u0000bigint:(-?\d+)"/g;

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return BIGINT_MARK + v.toString();
  if (v instanceof Error) return serializeError(v);
  return v;
}

function toJson(o: object): string {
  const s = JSON.stringify(o, jsonValue);
  return s.includes(BIGINT_MARK.slice(1)) ? s.replace(BIGINT_MARKED, '$1') : s;
}

/** pino's printf-style message arguments: %s, %d, %j (and %o, %O) take the next argument; %% is a percent sign. */
function format(msg: string, args: unknown[]): string {
  let i = 0;
  return msg.replace(/%[sdjoO%]/g, (m) => {
    if (m === '%%') return '%';
    if (i >= args.length) return m;
    const a = args[i++];
    if (m === '%d') return String(Number(a));
    if (m === '%s') return String(a);
    return toJson(a as object);
  });
}

function writeLine(line: string): void {
  const buf = Buffer.from(line);
  let off = 0;
  for (let tries = 0; off < buf.length;) {
    try {
      off += fs.writeSync(2, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++tries > EAGAIN_RETRIES) return;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

export class Logger {
  private threshold: number;

  constructor(
    private readonly name: string,
    private levelName: LevelName,
  ) {
    this.threshold = LEVELS[levelName];
  }

  get level(): LevelName {
    return this.levelName;
  }

  set level(name: string) {
    if (!isLevelName(name)) throw new Error(`unknown log level ${JSON.stringify(name)} (one of ${Object.keys(LEVELS).join(', ')})`);
    this.levelName = name;
    this.threshold = LEVELS[name];
  }

  debug(obj: object | string, msg?: string, ...args: unknown[]): void {
    this.write(LEVELS.debug, obj, msg, args);
  }
  info(obj: object | string, msg?: string, ...args: unknown[]): void {
    this.write(LEVELS.info, obj, msg, args);
  }
  warn(obj: object | string, msg?: string, ...args: unknown[]): void {
    this.write(LEVELS.warn, obj, msg, args);
  }
  error(obj: object | string, msg?: string, ...args: unknown[]): void {
    this.write(LEVELS.error, obj, msg, args);
  }
  fatal(obj: object | string, msg?: string, ...args: unknown[]): void {
    this.write(LEVELS.fatal, obj, msg, args);
  }

  private write(level: number, obj: object | string, msg: string | undefined, args: unknown[]): void {
    if (level < this.threshold) return;
    let fields: object = {};
    if (typeof obj === 'string') {
      // log.info('text %d', n): the message is the first argument.
      if (msg !== undefined) args.unshift(msg);
      msg = obj;
    } else if (obj instanceof Error) {
      fields = { err: obj };
      msg ??= obj.message;
    } else fields = obj;
    if (msg !== undefined && args.length > 0) msg = format(msg, args);
    const head = { level, time: Date.now(), pid: process.pid, name: this.name };
    let line: string;
    try {
      line = toJson({ ...head, ...fields, msg });
    } catch (e) {
      // A record that cannot be written as JSON (a cycle) still says that it happened.
      line = JSON.stringify({ ...head, logError: e instanceof Error ? e.message : String(e), msg });
    }
    writeLine(line + '\n');
  }
}

function levelFromEnv(): LevelName {
  const v = process.env['TSZK_LOG_LEVEL'] ?? 'info';
  if (isLevelName(v)) return v;
  process.stderr.write(`tszk: TSZK_LOG_LEVEL=${v} is not a log level (one of ${Object.keys(LEVELS).join(', ')}); logging at info\n`);
  return 'info';
}

export const log = new Logger('tszk', levelFromEnv());
