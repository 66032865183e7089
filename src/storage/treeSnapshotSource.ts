/**
 * A data tree as a SnapshotSource: the live tree (read across event-loop turns while writes go on,
 * a fuzzy snapshot) or a frozen copy of it (read in a worker thread; see snapshotWorker.ts). Both
 * go through this one walk, so both write the same bytes for the same tree.
 */
import type { ACL } from '../proto/records.js';
import { DataTree, type FrozenTree } from '../tree/dataTree.js';
import type { ZxidDigest } from '../tree/digest.js';
import type { SnapshotSource, SourceNode } from './snapshot.js';

const OPEN_ACL_INDEX = -1n;

function aclKey(acl: readonly ACL[]): string {
  return JSON.stringify(acl.map((a) => [a.perms, a.id.scheme, a.id.id]));
}

/** Everything a snapshot of a tree at `zxid` holds, at one instant: what a worker thread writes a snapshot from. */
export interface FrozenSnapshot {
  tree: FrozenTree;
  sessions: [bigint, number][];
  zxid: bigint;
  digest: ZxidDigest;
}

/**
 * A view of `tree` for a snapshot taken at `zxid` (the last applied txn when it starts). Nodes are
 * read one at a time, and on a live tree writes may go on meanwhile. Nodes created after `zxid`
 * are left out with their subtrees: their creates are in the log after `zxid` and are replayed. A
 * node whose ACL index appeared after the ACL cache was copied (a setACL after `zxid`, also
 * replayed) is written with an equal list from the copy, or OPEN until the replay sets it.
 */
export function treeSnapshotSource(
  tree: DataTree,
  sessions: () => Iterable<readonly [bigint, number]>,
  zxid: bigint,
  digest: () => ZxidDigest,
): SnapshotSource {
  let aclCopy: Map<bigint, readonly ACL[]> | undefined;
  const byKey = new Map<string, bigint>();
  return {
    sessions,
    acls() {
      aclCopy = new Map(tree.aclCache.entries());
      for (const [i, a] of aclCopy) byKey.set(aclKey(a), i);
      return aclCopy;
    },
    *nodes(): Generator<SourceNode> {
      const copy = aclCopy ?? new Map(tree.aclCache.entries());
      const aclFor = (acl: bigint): bigint => {
        if (acl === OPEN_ACL_INDEX || copy.has(acl)) return acl;
        return byKey.get(aclKey(tree.aclCache.get(acl))) ?? OPEN_ACL_INDEX;
      };
      const root = tree.getNode('');
      if (root === undefined) throw new Error('snapshot of a tree without a root');
      // Each stat is written straight from the columns when the writer takes the node, in the same
      // turn: the node as it is at that instant, as ZooKeeper copies a node under its lock.
      yield { path: '', data: root.data, acl: aclFor(root.acl), stat: (w) => root.writeStat(w) };
      // The tree's pre-order walk (DataTree.nodes) lists a node's children when it reaches the node
      // and skips the ones deleted before their turn; nodes created after `zxid` are left out with
      // their subtrees (their creates are replayed from the log).
      const last = Number(zxid);
      for (const [p, n] of tree.nodes()) {
        if (p === '/') continue;
        if (n.createdZxid > last) continue;
        yield { path: p, data: n.data, acl: aclFor(n.acl), stat: (w) => n.writeStat(w) };
      }
    },
    digest,
  };
}

/** The source a frozen snapshot is written from (in a worker thread): the tree thawed, the digest as it was when frozen. */
export function frozenSnapshotSource(f: FrozenSnapshot): SnapshotSource {
  return treeSnapshotSource(
    DataTree.thaw(f.tree),
    () => f.sessions,
    f.zxid,
    () => f.digest,
  );
}
