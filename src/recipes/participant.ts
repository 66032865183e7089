/** Participants of a leader election (LeaderLatch, LeaderSelector), as Curator's Participant. */
import { Err, type ZooKeeperClient } from '../client/index.js';
import { makePath, sortLockNodes } from './paths.js';
import { isCode, retrying } from './retry.js';

export interface Participant {
  /** The id the participant stored in its node. */
  id: string;
  isLeader: boolean;
}

/** Participants in node order; the first leads. Nodes that vanish while being read are left out. */
export async function participantsOf(client: ZooKeeperClient, path: string, lockNames: string[]): Promise<Participant[]> {
  let children: string[];
  try {
    children = await retrying(client, () => client.getChildren(path));
  } catch (e) {
    if (isCode(e, Err.NoNode)) return [];
    throw e;
  }
  const out: Participant[] = [];
  for (const name of sortLockNodes(children, lockNames)) {
    try {
      const { data } = await retrying(client, () => client.getData(makePath(path, name)));
      out.push({ id: data?.toString('utf8') ?? '', isLeader: out.length === 0 });
    } catch (e) {
      if (!isCode(e, Err.NoNode)) throw e;
    }
  }
  return out;
}
