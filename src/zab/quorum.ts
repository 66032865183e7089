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

/**
 * Hierarchical quorums (QuorumHierarchical): servers in groups with weights; a quorum is a
 * majority of groups, each contributing more than half of its weight. Zero-weight servers vote
 * in no group (they still count as voters for FLE traffic).
 */
export function hierarchicalQuorum(
  groups: readonly (readonly ServerId[])[],
  weights: ReadonlyMap<ServerId, number>,
  observers: readonly ServerId[] = [],
): QuorumVerifier {
  const voters = groups.flat();
  const set = new Set<bigint>(voters);
  const groupOf = new Map<bigint, number>();
  groups.forEach((g, i) => g.forEach((s) => groupOf.set(s, i)));
  const weightOf = (s: ServerId): number => weights.get(s) ?? 1;
  const totals = groups.map((g) => g.reduce((a, s) => a + weightOf(s), 0));
  const liveGroups = totals.filter((t) => t > 0).length;
  return {
    voters,
    observers,
    isVoter: (sid) => set.has(sid),
    containsQuorum(sids) {
      const got = new Array<number>(groups.length).fill(0);
      const seen = new Set<bigint>();
      for (const s of sids) {
        const g = groupOf.get(s);
        if (g === undefined || seen.has(s)) continue;
        seen.add(s);
        got[g]! += weightOf(s);
      }
      let majorities = 0;
      for (let i = 0; i < groups.length; i++) if (totals[i]! > 0 && got[i]! * 2 > totals[i]!) majorities++;
      return majorities * 2 > liveGroups;
    },
  };
}
