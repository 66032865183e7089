/**
 * Paged reads (tszk only; the server needs tszk.pagedReads=true): getChildren and getData of a
 * node whose reply would not fit in the client's jute.maxbuffer, read as several replies that
 * each fit. Pages are one read: the node must not change between the first page and the last
 * (children: czxid, cversion and pzxid the same; data: mzxid the same), or the read starts again,
 * up to `retries` times. A children listing is in the serving member's own order, so its pages
 * must also all come over one connection. A server without paged reads (ZooKeeper, or tszk with
 * the option off) answers Unimplemented and closes the connection (the session survives: the
 * client reconnects); the client remembers that host and says so, or reads in one reply when
 * asked to fall back.
 */
import { Err, KeeperError } from '../proto/errors.js';
import type { Stat } from '../proto/records.js';
import type { ZooKeeperClient } from './client.js';
import type { Watcher } from './watch-manager.js';

/** What a page reply carries besides the names or data: ReplyHeader (16), a length or count (4), Stat (68). */
const PAGE_REPLY_OVERHEAD_BYTES = 16 + 4 + 68;
const RETRIES_DEFAULT = 3;

export interface PagedReadOptions {
  /** Names (encoded) or data bytes per page; default and most: what fits in the client's replyBytesMax. */
  pageBytes?: number;
  /** Set on the first page only (as getChildren/getData set it), so it is set once per read. */
  watch?: Watcher | boolean;
  /** How many times the read starts again when the node changed between pages (default 3). */
  retries?: number;
  /** On a server without paged reads, read with one plain getChildren2/getData instead of failing. */
  fallback?: boolean;
  /** Called after each page with the pages read so far in this try (progress; tests change the node here). */
  onPage?: (pages: number) => void | Promise<void>;
}

export interface PagedChildren {
  children: string[];
  /** The node's Stat at the first page (the same at every page). */
  stat: Stat;
  /** Replies it took (1 on a fallback). */
  pages: number;
  /** Times it started again because the node changed or the connection did. */
  restarts: number;
}

export interface PagedData {
  data: Buffer | null;
  stat: Stat;
  pages: number;
  restarts: number;
}

/** The server does not serve paged reads: ZooKeeper, or tszk without tszk.pagedReads=true. */
export class PagedReadsUnsupportedError extends KeeperError {
  constructor(
    path: string,
    readonly host: string,
  ) {
    super(Err.Unimplemented, path);
    this.name = 'PagedReadsUnsupportedError';
    this.message = `${host} does not serve paged reads (a tszk server needs tszk.pagedReads=true; ZooKeeper has none), reading ${path}`;
  }
}

/** The node changed between pages on every try. */
export class PagedReadChangedError extends Error {
  constructor(
    readonly path: string,
    readonly tries: number,
  ) {
    super(`${path} changed while it was read in pages, ${tries} times; nothing consistent was read`);
    this.name = 'PagedReadChangedError';
  }
}

/** What paging needs of the client. */
type PageSource = Pick<ZooKeeperClient, 'replyBytesMax' | 'connectCount' | 'currentHost' | 'readChildrenPage' | 'readDataPage' | 'getChildren2' | 'getData'>;

/** Hosts (host:port) that answered a paged read Unimplemented, per client: asking again would cost a reconnect. */
const refusedBy = new WeakMap<PageSource, Set<string>>();

function hostOf(c: PageSource): string {
  const h = c.currentHost;
  return h === null ? '?' : `${h.host}:${h.port}`;
}

function pageBytes(c: PageSource, o: PagedReadOptions, path: string): number {
  const most = c.replyBytesMax - PAGE_REPLY_OVERHEAD_BYTES;
  const want = o.pageBytes ?? most;
  if (!Number.isInteger(want) || want < 1 || most < 1) throw new KeeperError(Err.BadArguments, path);
  return Math.min(want, most);
}

/**
 * Runs `tryOnce` until it reads the node unchanged; `undefined` from it means the node changed.
 * The server's refusal becomes PagedReadsUnsupportedError, or the plain read with `fallback`.
 */
async function paged<T extends { pages: number; restarts: number }>(
  c: PageSource,
  path: string,
  o: PagedReadOptions,
  tryOnce: () => Promise<Omit<T, 'restarts'> | undefined>,
  plain: () => Promise<Omit<T, 'pages' | 'restarts'>>,
): Promise<T> {
  const refused = refusedBy.get(c);
  const fallBack = async (host: string): Promise<T> => {
    if (o.fallback !== true) throw new PagedReadsUnsupportedError(path, host);
    return { ...(await plain()), pages: 1, restarts: 0 } as T;
  };
  if (refused?.has(hostOf(c)) === true) return fallBack(hostOf(c));
  const tries = 1 + (o.retries ?? RETRIES_DEFAULT);
  for (let t = 0; t < tries; t++) {
    let got: Omit<T, 'restarts'> | undefined;
    const host = hostOf(c);
    try {
      got = await tryOnce();
    } catch (e) {
      if (!(e instanceof KeeperError && e.code === Err.Unimplemented)) throw e;
      if (refused === undefined) refusedBy.set(c, new Set([host]));
      else refused.add(host);
      return fallBack(host);
    }
    if (got !== undefined) return { ...got, restarts: t } as T;
  }
  throw new PagedReadChangedError(path, tries);
}

function sameChildren(a: Stat, b: Stat): boolean {
  return a.czxid === b.czxid && a.cversion === b.cversion && a.pzxid === b.pzxid;
}

export async function readChildrenPaged(c: PageSource, path: string, o: PagedReadOptions = {}): Promise<PagedChildren> {
  const maxBytes = pageBytes(c, o, path);
  return paged<PagedChildren>(
    c,
    path,
    o,
    async () => {
      const first = await c.readChildrenPage(path, 0, maxBytes, o.watch);
      // The connection that answered (a reply is handled before the next connection can be made).
      const connection = c.connectCount;
      const children = first.children;
      let pages = 1;
      await o.onPage?.(pages);
      while (children.length < first.stat.numChildren) {
        const next = await c.readChildrenPage(path, children.length, maxBytes, undefined);
        pages++;
        // The listing order is the serving member's: a page from another connection may not follow on.
        if (!sameChildren(first.stat, next.stat) || c.connectCount !== connection) return undefined;
        if (next.children.length === 0) throw new Error(`${hostOf(c)} sent an empty page of ${path} at ${children.length} of ${first.stat.numChildren}`);
        for (const name of next.children) children.push(name);
        await o.onPage?.(pages);
      }
      return { children, stat: first.stat, pages };
    },
    () => c.getChildren2(path, o.watch),
  );
}

export async function readDataPaged(c: PageSource, path: string, o: PagedReadOptions = {}): Promise<PagedData> {
  const maxBytes = pageBytes(c, o, path);
  return paged<PagedData>(
    c,
    path,
    o,
    async () => {
      const first = await c.readDataPage(path, 0, maxBytes, o.watch);
      const total = first.stat.dataLength;
      let pages = 1;
      await o.onPage?.(pages);
      if (first.data === null || first.data.length >= total) return { data: first.data, stat: first.stat, pages };
      // Data is fixed by its mzxid, so pages may come from any member and connection.
      const data = Buffer.allocUnsafe(total);
      let filled = first.data.copy(data, 0);
      while (filled < total) {
        const next = await c.readDataPage(path, filled, maxBytes, undefined);
        pages++;
        if (next.stat.mzxid !== first.stat.mzxid) return undefined;
        const got = next.data?.length ?? 0;
        if (got === 0 || filled + got > total) throw new Error(`${hostOf(c)} sent a page of ${path} of ${got} bytes at ${filled} of ${total}`);
        filled += next.data!.copy(data, filled);
        await o.onPage?.(pages);
      }
      return { data, stat: first.stat, pages };
    },
    () => c.getData(path, o.watch),
  );
}
