/**
 * What a znode's ephemeralOwner says about it (EphemeralType in ZooKeeper): 0 = persistent,
 * the container marker, a TTL encoded in the extended range, or a session id.
 */
export type EphemeralKind = 'void' | 'normal' | 'container' | 'ttl';

/** ephemeralOwner of a container node: only the sign bit set (Long.MIN_VALUE). */
export const CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000n;
/** High byte 0xff marks an "extended" owner; the next 2 bytes select the feature (0 = TTL). */
const EXTENDED_MASK = -0x100000000000000n; // 0xff00000000000000 as a signed long
const RESERVED_BITS_MASK = 0x00ffff0000000000n;
/** Largest TTL in ms that fits in the owner's low 40 bits. */
export const TTL_MAX_MS = 0xffffffffffn;

export function ephemeralKind(owner: bigint): EphemeralKind {
  if ((owner & EXTENDED_MASK) === EXTENDED_MASK && (owner & RESERVED_BITS_MASK) === 0n) return 'ttl';
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'container';
  return owner === 0n ? 'void' : 'normal';
}

/** Returns the ephemeralOwner for a TTL node, or undefined when the TTL is out of range. */
export function ttlToEphemeralOwner(ttl_ms: bigint): bigint | undefined {
  if (ttl_ms > TTL_MAX_MS || ttl_ms <= 0n) return undefined;
  return EXTENDED_MASK | ttl_ms;
}

export function ttlOfEphemeralOwner(owner: bigint): bigint {
  return owner & TTL_MAX_MS;
}
