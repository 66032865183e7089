/**
 * Path rules and node naming shared by the recipes, with Curator's conventions: PathUtils'
 * validation, ZKPaths' joining, and protected-mode names (`_c_<uuid>-<name>`) whose uuid lets a
 * create that lost its connection find the node it may have made.
 */
import { randomUUID } from 'node:crypto';
import { CreateMode, Err, KeeperError, type ZooKeeperClient } from '../client/index.js';
import { RecipeError } from './errors.js';
import { isRetryable, pause, retrying } from './retry.js';

const PROTECTED_PREFIX = '_c_';

/** Throws RecipeError unless `path` is an absolute, normalized ZooKeeper path usable by a recipe. */
export function validatePath(path: string): string {
  const bad = (why: string): never => {
    throw new RecipeError(`invalid path ${JSON.stringify(path)}: ${why}`);
  };
  if (typeof path !== 'string' || path.length === 0) bad('empty');
  if (path[0] !== '/') bad('must start with /');
  if (path.length > 1 && path.endsWith('/')) bad('must not end with /');
  const segments = path === '/' ? [] : path.split('/').slice(1);
  for (const seg of segments) {
    if (seg === '') bad('empty segment');
    if (seg === '.' || seg === '..') bad('relative segment');
  }
  // The characters ZooKeeper's PathUtils refuses (control, surrogate and private-use ranges).
  if (/[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/.test(path)) bad('character not allowed');
  if (path === '/zookeeper' || path.startsWith('/zookeeper/')) bad('/zookeeper is reserved for the server');
  return path;
}

export function makePath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The part of a lock node name after the last `lockName` (StandardLockInternalsDriver's sort key). */
export function fixForSorting(name: string, lockName: string): string {
  const i = name.lastIndexOf(lockName);
  return i >= 0 ? name.slice(i + lockName.length) : name;
}

/** Children carrying `lockName`, sorted by their sequence as Curator sorts them; others are ignored. */
export function sortLockNodes(children: string[], lockNames: string[]): string[] {
  const key = (n: string): string => lockNames.reduce((s, l) => fixForSorting(s, l), n);
  return children.filter((c) => lockNames.some((l) => c.includes(l))).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Creates every missing ancestor of `path` as a container node (creatingParentContainersIfNeeded). */
async function ensureParents(client: ZooKeeperClient, path: string): Promise<void> {
  const parts = path.split('/').slice(1, -1);
  let p = '';
  for (const part of parts) {
    p += `/${part}`;
    try {
      await retrying(client, () => client.create(p, null, { mode: CreateMode.CONTAINER }));
    } catch (e) {
      if (!(e instanceof KeeperError && e.code === Err.NodeExists)) throw e;
    }
  }
}

/** create with parents made as containers on NoNode, as Curator's creatingParentContainersIfNeeded. */
export async function createWithParents(client: ZooKeeperClient, path: string, data: Buffer | null, mode: CreateMode): Promise<string> {
  try {
    return await client.create(path, data, { mode });
  } catch (e) {
    if (!(e instanceof KeeperError && e.code === Err.NoNode)) throw e;
  }
  await ensureParents(client, path);
  return client.create(path, data, { mode });
}

/**
 * Creates `<parent>/_c_<uuid>-<name>` (sequential modes append the counter). After a connection
 * loss the parent is searched for the uuid before trying again, so a create that did happen is
 * found rather than made twice.
 */
export async function createProtected(client: ZooKeeperClient, path: string, data: Buffer | null, mode: CreateMode): Promise<string> {
  const parent = parentOf(path);
  const prefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
  const target = makePath(parent, prefix + nodeName(path));
  let lostOnce = false;
  for (;;) {
    if (lostOnce) {
      const found = await findChild(client, parent, prefix);
      if (found !== undefined) return makePath(parent, found);
    }
    try {
      return await createWithParents(client, target, data, mode);
    } catch (e) {
      if (!isRetryable(e) || !client.isAlive) throw e;
      lostOnce = true;
      await pause(20);
    }
  }
}

async function findChild(client: ZooKeeperClient, parent: string, prefix: string): Promise<string | undefined> {
  try {
    return (await retrying(client, () => client.getChildren(parent))).find((c) => c.startsWith(prefix));
  } catch (e) {
    if (e instanceof KeeperError && e.code === Err.NoNode) return undefined;
    throw e;
  }
}
