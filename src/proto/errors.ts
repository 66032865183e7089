/** KeeperException.Code values, as sent in ReplyHeader.err. */
export const Err = {
  Ok: 0,
  SystemError: -1,
  RuntimeInconsistency: -2,
  DataInconsistency: -3,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  UnknownSession: -12,
  NewConfigNoQuorum: -13,
  ReconfigInProgress: -14,
  APIError: -100,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidCallback: -113,
  InvalidACL: -114,
  AuthFailed: -115,
  SessionMoved: -118,
  NotReadOnly: -119,
  EphemeralOnLocalSession: -120,
  NoWatcher: -121,
  RequestTimeout: -122,
  ReconfigDisabled: -123,
  SessionClosedRequireSaslAuth: -124,
  QuotaExceeded: -125,
  ThrottledOp: -127,
} as const;
export type Err = (typeof Err)[keyof typeof Err];

const errNames = new Map<number, string>(Object.entries(Err).map(([k, v]) => [v, k]));
export function errName(code: number): string {
  return errNames.get(code) ?? `Unknown(${code})`;
}

/** A ZooKeeper error with its wire code; thrown by the tree and txn layers, caught at the reply. */
export class KeeperError extends Error {
  constructor(
    readonly code: Err,
    readonly path?: string,
  ) {
    super(path === undefined ? errName(code) : `${errName(code)} for ${path}`);
    this.name = 'KeeperError';
  }
}
