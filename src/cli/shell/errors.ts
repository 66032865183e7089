/** zkCli's failure messages: CliWrapperException's wording for KeeperErrors, and path checks. */
import { Err, type KeeperError } from '../../proto/errors.js';

/** A failed command: `message` goes to stderr and the shell's exit code becomes `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

const codeMessages: Partial<Record<number, string>> = {
  [Err.Ok]: 'ok',
  [Err.SystemError]: 'SystemError',
  [Err.RuntimeInconsistency]: 'RuntimeInconsistency',
  [Err.DataInconsistency]: 'DataInconsistency',
  [Err.ConnectionLoss]: 'ConnectionLoss',
  [Err.MarshallingError]: 'MarshallingError',
  [Err.NewConfigNoQuorum]: 'NewConfigNoQuorum',
  [Err.ReconfigInProgress]: 'ReconfigInProgress',
  [Err.Unimplemented]: 'Unimplemented',
  [Err.OperationTimeout]: 'OperationTimeout',
  [Err.BadArguments]: 'BadArguments',
  [Err.APIError]: 'APIError',
  [Err.NoNode]: 'NoNode',
  [Err.NoAuth]: 'NoAuth',
  [Err.BadVersion]: 'BadVersion',
  [Err.NoChildrenForEphemerals]: 'NoChildrenForEphemerals',
  [Err.NodeExists]: 'NodeExists',
  [Err.InvalidACL]: 'InvalidACL',
  [Err.AuthFailed]: 'AuthFailed',
  [Err.NotEmpty]: 'Directory not empty',
  [Err.SessionExpired]: 'Session expired',
  [Err.InvalidCallback]: 'Invalid callback',
  [Err.SessionMoved]: 'Session moved',
  [Err.NotReadOnly]: 'Not a read-only call',
  [Err.EphemeralOnLocalSession]: 'Ephemeral node on local session',
  [Err.NoWatcher]: 'No such watcher',
  [Err.ReconfigDisabled]: 'Reconfig is disabled',
  [Err.SessionClosedRequireSaslAuth]: 'Session closed because client failed to authenticate',
  [Err.QuotaExceeded]: 'Quota has exceeded',
  [Err.ThrottledOp]: 'Op throttled due to high load',
};

/** KeeperException#getMessage. */
export function keeperMessage(code: number, path: string | undefined): string {
  const m = codeMessages[code] ?? `Unknown error ${code}`;
  return path === undefined || path === '' ? `KeeperErrorCode = ${m}` : `KeeperErrorCode = ${m} for ${path}`;
}

/** CliWrapperException's message for a KeeperError. */
export function wrapKeeperError(e: KeeperError): CliError {
  const p = e.path ?? 'null';
  switch (e.code) {
    case Err.NoNode:
      return new CliError(`Node does not exist: ${p}`);
    case Err.NoChildrenForEphemerals:
      return new CliError(`Ephemerals cannot have children: ${p}`);
    case Err.NodeExists:
      return new CliError(`Node already exists: ${p}`);
    case Err.NotEmpty:
      return new CliError(`Node not empty: ${p}`);
    case Err.NotReadOnly:
      return new CliError(`Not a read-only call: ${p}`);
    case Err.InvalidACL:
      return new CliError(`Acl is not valid : ${p}`);
    case Err.NoAuth:
      return new CliError(`Insufficient permission : ${p}`);
    case Err.BadArguments:
      return new CliError(`Arguments are not valid : ${p}`);
    case Err.BadVersion:
      return new CliError(`version No is not valid : ${p}`);
    case Err.QuotaExceeded:
      return new CliError(`Quota has exceeded : ${p}`);
    default:
      return new CliError(keeperMessage(e.code, e.path));
  }
}

/** PathUtils.validatePath: the client-side check zkCli reports as a malformed path. */
export function validatePath(path: string, sequential = false): void {
  const p = sequential ? `${path}1` : path;
  if (p.length === 0) throw new CliError('Path length must be > 0');
  if (p[0] !== '/') throw new CliError('Path must start with / character');
  if (p.length === 1) return;
  if (p.endsWith('/')) throw new CliError('Path must not end with / character');
  let reason: string | null = null;
  let last = '/';
  for (let i = 1; i < p.length; last = p[i]!, i++) {
    const c = p[i]!;
    const code = c.charCodeAt(0);
    if (code === 0) {
      reason = `null character not allowed @${i}`;
      break;
    } else if (c === '/' && last === '/') {
      reason = `empty node name specified @${i}`;
      break;
    } else if (c === '.' && last === '.') {
      if (p[i - 2] === '/' && (i + 1 === p.length || p[i + 1] === '/')) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if (c === '.') {
      if (p[i - 1] === '/' && (i + 1 === p.length || p[i + 1] === '/')) {
        reason = `relative paths not allowed @${i}`;
        break;
      }
    } else if ((code > 0 && code <= 0x1f) || (code >= 0x7f && code <= 0x9f) || (code >= 0xd800 && code <= 0xf8ff) || (code >= 0xfff0 && code <= 0xffff)) {
      reason = `invalid character @${i}`;
      break;
    }
  }
  if (reason !== null) throw new CliError(`Invalid path string "${p}" caused by ${reason}`);
}
