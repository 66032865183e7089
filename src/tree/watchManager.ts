import { EventType, KeeperState } from '../proto/opcodes.js';
import type { ACL } from '../proto/records.js';

/** Something that receives watch events: in the server, one client connection. */
export interface Watcher {
  /** For dumps (wchc, wchp): the session behind this watcher. */
  readonly sessionId: bigint;
  /** Whether the watcher is gone (closed connection): adding watches to it is ignored. */
  readonly stale?: boolean;
  /**
   * Delivers an event. `znodeAcl` is the ACL of the node the event is about (the parent's for
   * NodeChildrenChanged): ZooKeeper 3.8 drops the event when the watcher may not READ it.
   */
  process(event: WatchedEvent, znodeAcl?: readonly ACL[]): void;
}

export interface WatchedEvent {
  type: EventType;
  state: KeeperState;
  path: string;
}

export type WatcherMode = 'standard' | 'persistent' | 'persistentRecursive';

/**
 * One watch table (ZooKeeper keeps two: data/exist watches and child watches). Each
 * (watcher, path) pair has one mode; the last add wins, as in ZooKeeper 3.8.
 */
export class WatchManager {
  private readonly table = new Map<string, Map<Watcher, WatcherMode>>();
  private readonly byWatcher = new Map<Watcher, Set<string>>();
  private recursiveCount = 0;

  add(path: string, watcher: Watcher, mode: WatcherMode = 'standard'): boolean {
    if (watcher.stale === true) return false;
    let ws = this.table.get(path);
    if (ws === undefined) {
      ws = new Map();
      this.table.set(path, ws);
    }
    const prev = ws.get(watcher);
    if (prev === 'persistentRecursive') this.recursiveCount--;
    if (mode === 'persistentRecursive') this.recursiveCount++;
    ws.set(watcher, mode);
    let paths = this.byWatcher.get(watcher);
    if (paths === undefined) {
      paths = new Set();
      this.byWatcher.set(watcher, paths);
    }
    const added = !paths.has(path);
    paths.add(path);
    return added;
  }

  /**
   * Fires `type` at `path`: watchers on the path itself, plus recursive watchers on any ancestor
   * (those never get NodeChildrenChanged). One-shot watches are consumed. Each watcher gets
   * the event once; watchers in `suppress` are skipped (already told). Returns who was told.
   */
  trigger(path: string, type: EventType, suppress?: ReadonlySet<Watcher>, znodeAcl?: readonly ACL[]): Set<Watcher> | undefined {
    let out: Set<Watcher> | undefined;
    let atParent = false;
    let p: string | undefined = path;
    while (p !== undefined) {
      const ws = this.table.get(p);
      if (ws !== undefined) {
        for (const [w, mode] of ws) {
          if (mode === 'persistentRecursive') {
            if (type !== EventType.NodeChildrenChanged) (out ??= new Set()).add(w);
          } else if (!atParent) {
            (out ??= new Set()).add(w);
            if (mode === 'standard') {
              ws.delete(w);
              this.byWatcher.get(w)?.delete(p);
            }
          }
        }
        if (ws.size === 0) this.table.delete(p);
      }
      if (this.recursiveCount === 0) break;
      p = parentOfWatchPath(p);
      atParent = true;
    }
    if (out === undefined) return undefined;
    const event: WatchedEvent = { type, state: KeeperState.SyncConnected, path };
    for (const w of out) if (suppress === undefined || !suppress.has(w)) w.process(event, znodeAcl);
    return out;
  }

  /**
   * checkWatches as ZooKeeper 3.8 answers it: true if any watcher at all is on the path (3.8 does
   * not check which one), or this watcher holds a recursive watch there.
   */
  contains(path: string, watcher: Watcher): boolean {
    const ws = this.table.get(path);
    if (ws !== undefined && ws.size > 0) return true;
    return ws?.get(watcher) === 'persistentRecursive';
  }

  remove(path: string, watcher: Watcher): boolean {
    const paths = this.byWatcher.get(watcher);
    if (paths === undefined || !paths.delete(path)) return false;
    const ws = this.table.get(path);
    if (ws === undefined) return false;
    const mode = ws.get(watcher);
    if (mode === undefined) return false;
    if (mode === 'persistentRecursive') this.recursiveCount--;
    ws.delete(watcher);
    if (ws.size === 0) this.table.delete(path);
    return true;
  }

  /** Drops every watch of a watcher (its connection closed). */
  removeWatcher(watcher: Watcher): void {
    const paths = this.byWatcher.get(watcher);
    if (paths === undefined) return;
    this.byWatcher.delete(watcher);
    for (const p of paths) {
      const ws = this.table.get(p);
      if (ws === undefined) continue;
      if (ws.get(watcher) === 'persistentRecursive') this.recursiveCount--;
      ws.delete(watcher);
      if (ws.size === 0) this.table.delete(p);
    }
  }

  modeOf(path: string, watcher: Watcher): WatcherMode | undefined {
    return this.table.get(path)?.get(watcher);
  }

  /** Watch count, connection count and path count (for wchs). */
  summary(): { watches: number; watchers: number; paths: number } {
    let watches = 0;
    for (const ps of this.byWatcher.values()) watches += ps.size;
    return { watches, watchers: this.byWatcher.size, paths: this.table.size };
  }

  /** path → watchers (wchp). */
  byPath(): ReadonlyMap<string, ReadonlyMap<Watcher, WatcherMode>> {
    return this.table;
  }

  /** watcher → paths (wchc). */
  byConnection(): ReadonlyMap<Watcher, ReadonlySet<string>> {
    return this.byWatcher;
  }

  watchedPaths(watcher: Watcher): ReadonlySet<string> | undefined {
    return this.byWatcher.get(watcher);
  }
}

function parentOfWatchPath(p: string): string | undefined {
  if (p === '/' || p === '') return undefined;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.substring(0, i);
}
