/**
 * Session ids and passwords as ZooKeeper makes them: id = ((elapsed ms << 24) >>> 8) | (serverId << 56),
 * then +1 per session; password = 16 bytes of java.util.Random seeded with id ^ 0xB3415C00.
 */
const SUPER_SECRET = 0xb3415c00n;
const MASK48 = (1n << 48n) - 1n;
const MULT = 0x5deece66dn;
export const SESSION_PASSWORD_BYTES = 16;

export function initialSessionId(serverId: number, elapsed_ms: bigint): bigint {
  let id = BigInt.asUintN(64, elapsed_ms << 24n) >> 8n;
  id = BigInt.asIntN(64, id | (BigInt(serverId) << 56n));
  if (id === -0x8000000000000000n) id++;
  return id;
}

/** The server id in a session id's high byte: the member that made the session. */
export function creatorServerId(sessionId: bigint): number {
  return Number(BigInt.asUintN(64, sessionId) >> 56n);
}

/** java.util.Random(seed).nextBytes(16). */
export function sessionPassword(sessionId: bigint): Buffer {
  let seed = (BigInt.asIntN(64, sessionId ^ SUPER_SECRET) ^ MULT) & MASK48;
  const out = Buffer.alloc(SESSION_PASSWORD_BYTES);
  let i = 0;
  while (i < out.length) {
    seed = (seed * MULT + 0xbn) & MASK48;
    let rnd = Number(BigInt.asIntN(32, seed >> 16n));
    for (let n = Math.min(out.length - i, 4); n-- > 0; rnd >>= 8) out[i++] = rnd & 0xff;
  }
  return out;
}
