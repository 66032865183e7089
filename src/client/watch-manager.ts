/**
 * Client-side watch registry, as ZooKeeper's ZKWatchManager keeps it: one-shot data, exist and
 * child watches, persistent and persistent-recursive watches, keyed by client path. The server
 * sends one event per path; this decides which local watchers it reaches.
 */
import { EventType, type KeeperState } from '../proto/opcodes.js';

export interface WatchedEvent {
  type: EventType;
  state: KeeperState;
  /** Client path (chroot stripped); null for session state events. */
  path: string | null;
}

export type Watcher = (event: WatchedEvent) => void;

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

export class WatchManager {
  readonly data = new Map<string, Set<Watcher>>();
  readonly exist = new Map<string, Set<Watcher>>();
  readonly child = new Map<string, Set<Watcher>>();
  readonly persistent = new Map<string, Set<Watcher>>();
  readonly persistentRecursive = new Map<string, Set<Watcher>>();

  private map(kind: WatchKind): Map<string, Set<Watcher>> {
    switch (kind) {
      case 'data':
        return this.data;
      case 'exist':
        return this.exist;
      case 'child':
        return this.child;
      case 'persistent':
        return this.persistent;
      case 'persistentRecursive':
        return this.persistentRecursive;
    }
  }

  add(kind: WatchKind, path: string, w: Watcher): void {
    const m = this.map(kind);
    let s = m.get(path);
    if (s === undefined) m.set(path, (s = new Set()));
    s.add(w);
  }

  /** Removes one watcher (or all when w is undefined); returns the watchers removed. */
  remove(kind: WatchKind, path: string, w?: Watcher): Watcher[] {
    const m = this.map(kind);
    const s = m.get(path);
    if (s === undefined) return [];
    if (w === undefined) {
      m.delete(path);
      return [...s];
    }
    if (!s.delete(w)) return [];
    if (s.size === 0) m.delete(path);
    return [w];
  }

  has(kind: WatchKind, path: string, w?: Watcher): boolean {
    const s = this.map(kind).get(path);
    if (s === undefined) return false;
    return w === undefined ? s.size > 0 : s.has(w);
  }

  count(kind: WatchKind, path: string): number {
    return this.map(kind).get(path)?.size ?? 0;
  }

  isEmpty(): boolean {
    return this.data.size + this.exist.size + this.child.size + this.persistent.size + this.persistentRecursive.size === 0;
  }

  /** Watchers a node event reaches; one-shot watches fire once and are removed. */
  materialize(type: EventType, path: string): Set<Watcher> {
    const out = new Set<Watcher>();
    const take = (m: Map<string, Set<Watcher>>): void => {
      const s = m.get(path);
      if (s === undefined) return;
      m.delete(path);
      for (const w of s) out.add(w);
    };
    switch (type) {
      case EventType.NodeDataChanged:
      case EventType.NodeCreated:
        take(this.data);
        take(this.exist);
        break;
      case EventType.NodeChildrenChanged:
        take(this.child);
        break;
      case EventType.NodeDeleted:
        take(this.data);
        take(this.exist);
        take(this.child);
        break;
      default:
        break;
    }
    const p = this.persistent.get(path);
    if (p !== undefined) for (const w of p) out.add(w);
    // The server does not send child events to recursive watchers; mirror that on the client.
    if (type !== EventType.NodeChildrenChanged) {
      for (let prefix = path; ; prefix = parentOf(prefix)) {
        const r = this.persistentRecursive.get(prefix);
        if (r !== undefined) for (const w of r) out.add(w);
        if (prefix === '/') break;
      }
    }
    return out;
  }

  /** Every registered watcher (session state events reach all of them, as in the Java client). */
  all(): Set<Watcher> {
    const out = new Set<Watcher>();
    for (const m of [this.data, this.exist, this.child, this.persistent, this.persistentRecursive]) {
      for (const s of m.values()) for (const w of s) out.add(w);
    }
    return out;
  }

  clear(): void {
    this.data.clear();
    this.exist.clear();
    this.child.clear();
    this.persistent.clear();
    this.persistentRecursive.clear();
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
