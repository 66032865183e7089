/**
 * The one scripted interop scenario every third-party client runs (node-zookeeper-client, the
 * Java client, kazoo), and the results ZooKeeper 3.8 gives for it. Each client reports what it
 * observed as a flat JSON object; errors as numeric KeeperException codes, watch events as
 * "<EventType int>:<path>". checkResults compares every key exactly.
 *
 * Steps (root R, fresh per run), in this order:
 *  create R "v0"; getData R; setData R "v1" v0; setData R v5 (BadVersion); create R (NodeExists);
 *  getData R/missing (NoNode); create R/seq- PERSISTENT_SEQUENTIAL; create R/eseq- EPHEMERAL_SEQUENTIAL;
 *  create R/eph EPHEMERAL (owner = session); create R/eph/x (NoChildrenForEphemerals);
 *  getChildren R (sorted); delete R (NotEmpty);
 *  [container] create R/cont CONTAINER, its ephemeralOwner; [ttl] create R/ttl TTL 60000, its owner;
 *  watches: getData(R,w)+setData R; getChildren(R,w)+create R/c1; exists(R/later,w)+create R/later;
 *  getData(R/c1,w)+delete R/c1;
 *  auth: addAuth digest alice:secret; create R/secure CREATOR_ALL; getACL R/secure;
 *  second client (no auth): getData R/secure (NoAuth); create R/ro world:anyone READ; setData R/ro (NoAuth);
 *  multi: [create R/m1 "m", setData R/m1 "m2" v0, check R v2] ok; [create R/m2, check R v99] fails,
 *  R/m2 absent afterwards;
 *  [persistentWatches] addWatch R/pw PERSISTENT_RECURSIVE; create R/pw, R/pw/x; setData and delete
 *  R/pw/x; removeWatches (PersistentWatchRemoved), then again (NoWatcher);
 *  reconnect: data watch on R; the harness drops the TCP connection; after reconnect the session id
 *  is unchanged, R/eph still exists (seen by the second client), and setData R by the second
 *  client fires the watch set before the drop;
 *  close: the first client closes; the second sees R/eph and the R/eseq- node gone.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Err } from '../../src/proto/errors.js';

export interface Features {
  container: boolean;
  ttl: boolean;
  /** addWatch PERSISTENT_RECURSIVE on R/pw, then create R/pw, R/pw/x, set and delete R/pw/x; remove it twice. */
  persistentWatches: boolean;
}

export const DIGEST_USER = 'alice';
export const DIGEST_PASSWORD = 'secret';

/** ZooKeeper's digest id: user:base64(sha1("user:password")). */
export function digestId(user: string, password: string): string {
  return `${user}:${crypto.createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/**
 * Containers and TTL nodes keep a marker in ephemeralOwner internally (EphemeralType), but
 * ZooKeeper 3.8 shows clients 0 for both (measured against the real server).
 */
export const CONTAINER_OWNER_SEEN = 0n;
export const TTL_OWNER_SEEN = 0n;

export function expectedResults(root: string, f: Features): Record<string, unknown> {
  const e: Record<string, unknown> = {
    create: root,
    get_data: 'v0',
    get_version: 0,
    set_version: 1,
    set_bad_version: Err.BadVersion,
    create_again: Err.NodeExists,
    get_missing: Err.NoNode,
    seq: `${root}/seq-0000000000`,
    eseq: `${root}/eseq-0000000001`,
    eph: `${root}/eph`,
    eph_owner_is_session: true,
    eph_child: Err.NoChildrenForEphemerals,
    children: ['eph', 'eseq-0000000001', 'seq-0000000000'],
    delete_not_empty: Err.NotEmpty,
    watch_data: [`3:${root}`],
    watch_child: [`4:${root}`],
    watch_exists: [`1:${root}/later`],
    watch_deleted: [`2:${root}/c1`],
    acl_secure: [{ perms: 31, scheme: 'digest', id: digestId(DIGEST_USER, DIGEST_PASSWORD) }],
    noauth_get: Err.NoAuth,
    ro_set: Err.NoAuth,
    multi_ok: [`${root}/m1`, 1, 'ok'],
    multi_fail: Err.BadVersion,
    multi_fail_m2_exists: false,
    same_session: true,
    eph_after_reconnect: true,
    watch_after_reconnect: [`3:${root}`],
    eph_gone_after_close: true,
    eseq_gone_after_close: true,
  };
  if (f.container) {
    e['container'] = `${root}/cont`;
    e['container_owner'] = CONTAINER_OWNER_SEEN.toString();
  }
  if (f.persistentWatches) {
    e['persistent_recursive'] = [`1:${root}/pw`, `1:${root}/pw/x`, `3:${root}/pw/x`, `2:${root}/pw/x`];
    e['persistent_removed'] = [`7:${root}/pw`];
    e['remove_missing_watch'] = Err.NoWatcher;
  }
  if (f.ttl) {
    e['ttl'] = `${root}/ttl`;
    e['ttl_owner'] = TTL_OWNER_SEEN.toString();
  }
  return e;
}

export function checkResults(actual: Record<string, unknown>, root: string, f: Features): void {
  const expected = expectedResults(root, f);
  const diffs: string[] = [];
  for (const [k, v] of Object.entries(expected)) {
    try {
      assert.deepEqual(actual[k], v);
    } catch {
      diffs.push(`${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(actual[k])}`);
    }
  }
  for (const k of Object.keys(actual)) if (!(k in expected)) diffs.push(`${k}: unexpected key (${JSON.stringify(actual[k])})`);
  assert.equal(diffs.length, 0, `scenario results differ from ZooKeeper 3.8:\n  ${diffs.join('\n  ')}`);
}
