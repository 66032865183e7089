/**
 * ZAB's identifiers. All are 64-bit and kept as branded bigints so the compiler keeps a zxid from
 * being passed where an epoch or a server id is expected.
 */
export type Zxid = bigint & { readonly __brand: 'Zxid' };
export type Epoch = bigint & { readonly __brand: 'Epoch' };
export type ServerId = bigint & { readonly __brand: 'ServerId' };

const COUNTER_BITS = 32n;
/** The low 32 bits of a zxid count txns within an epoch (ZooKeeper's ZxidUtils). */
export const ZXID_COUNTER_MAX = 0xffffffffn;
/**
 * The largest counter a leader proposes: ZooKeeper's Leader.propose refuses a zxid whose low 32
 * bits are all set, shuts the leader down and so forces an election and a new epoch
 * (ZOOKEEPER-1277, XidRolloverException).
 */
export const PROPOSAL_COUNTER_MAX = ZXID_COUNTER_MAX - 1n;

export const zxid = (v: bigint): Zxid => v as Zxid;
export const epoch = (v: bigint): Epoch => v as Epoch;
export const serverId = (v: bigint | number): ServerId => BigInt(v) as ServerId;

export function makeZxid(e: Epoch, counter: bigint): Zxid {
  assert(counter >= 0n && counter <= ZXID_COUNTER_MAX, `zxid counter out of range: ${counter}`);
  return ((e << COUNTER_BITS) | counter) as Zxid;
}
export const epochOf = (z: Zxid): Epoch => (z >> COUNTER_BITS) as Epoch;
export const counterOf = (z: Zxid): bigint => z & ZXID_COUNTER_MAX;

export function zxidHex(z: bigint): string {
  return `0x${z.toString(16)}`;
}
/** Short readable form for traces: epoch.counter */
export function zxidStr(z: bigint): string {
  return `${z >> COUNTER_BITS}.${z & ZXID_COUNTER_MAX}`;
}

/** One txn as ZAB carries it: the payload is opaque to the protocol (the server's TxnHeader+Txn). */
export interface Txn {
  readonly zxid: Zxid;
  readonly data: Buffer;
}

export class ZabAssertionError extends Error {
  override name = 'ZabAssertionError';
}

/** Invariant guard, kept on in production: a broken invariant is a bug, so crash loudly. */
export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new ZabAssertionError(msg);
}

export function maxBig<T extends bigint>(a: T, b: T): T {
  return a > b ? a : b;
}
export function minBig<T extends bigint>(a: T, b: T): T {
  return a < b ? a : b;
}
