import type { ServerId } from './types.js';

/**
 * Decides whether a set of servers forms a quorum (ZooKeeper's QuorumVerifier). Behind an
 * interface so hierarchical (weighted, grouped) quorums and reconfiguration can plug in.
 */
export interface QuorumVerifier {
  readonly voters: readonly ServerId[];
  readonly observers: readonly ServerId[];
  isVoter(sid: ServerId): boolean;
  containsQuorum(sids: Iterable<ServerId>): boolean;
}

/** Strict majority of the voting members (QuorumMaj). */
export function majorityQuorum(voters: readonly ServerId[], observers: readonly ServerId[] = []): QuorumVerifier {
  const set = new Set<bigint>(voters);
  const half = Math.floor(voters.length / 2);
  return {
    voters,
    observers,
    isVoter: (sid) => set.has(sid),
    containsQuorum(sids) {
      let n = 0;
      const seen = new Set<bigint>();
      for (const s of sids) if (set.has(s) && !seen.has(s)) (seen.add(s), n++);
      return n > half;
    },
  };
}

/** A deliberately broken verifier for mutation testing: one vote short of a majority. */
export function minorityQuorum(voters: readonly ServerId[], observers: readonly ServerId[] = []): QuorumVerifier {
  const set = new Set<bigint>(voters);
  const need = Math.max(1, Math.floor(voters.length / 2));
  return {
    voters,
    observers,
    isVoter: (sid) => set.has(sid),
    containsQuorum(sids) {
      const seen = new Set<bigint>();
      for (const s of sids) if (set.has(s)) seen.add(s);
      return seen.size >= need;
    },
  };
}
