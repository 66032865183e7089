/**
 * tszk's probes on the admin port. Ready: the member serves clients read-write (standalone, or
 * in a quorum and synced); otherwise 503 with the reason. Live: the process answers (its event
 * loop runs), whatever its role.
 */
import type { MemberAdminSource } from '../server/adminSource.js';

export interface Health {
  readonly ok: boolean;
  readonly body: { readonly status: string; readonly reason: string; readonly mode: string };
}

export function readiness(m: MemberAdminSource): Health {
  const s = m.servingSource();
  const q = m.quorum();
  const mode = s?.modeName() ?? (q === undefined ? 'standalone' : q.role.toLowerCase());
  if (s === undefined) {
    const why =
      q === undefined ? 'not serving' : q.role === 'LOOKING' ? 'looking for a leader (no quorum)' : `${q.role.toLowerCase()}: ${q.zabState}, not serving yet`;
    return { ok: false, body: { status: 'not ready', reason: why, mode } };
  }
  if (s.readOnly()) return { ok: false, body: { status: 'not ready', reason: 'read-only: cut off from the quorum', mode } };
  return { ok: true, body: { status: 'ready', reason: q === undefined ? 'serving' : `serving in a quorum (${q.zabState})`, mode } };
}

export function liveness(m: MemberAdminSource): Health {
  const mode = m.servingSource()?.modeName() ?? m.quorum()?.role.toLowerCase() ?? 'standalone';
  return { ok: true, body: { status: 'live', reason: 'the process answers', mode } };
}
