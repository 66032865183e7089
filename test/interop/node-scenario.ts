/**
 * The shared interop scenario (scenario.ts) as node-zookeeper-client runs it: client a goes
 * through `proxy` (the harness cuts it for the reconnect step with proxy.dropAll()), client b
 * connects to `direct`. Used against a standalone server and against an ensemble.
 */
import zookeeper, { type Client, type Event, type Exception, type Stat } from 'node-zookeeper-client';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { checkResults, DIGEST_PASSWORD, DIGEST_USER } from './scenario.js';

const WAIT_MS = 10_000;

function connect(connectString: string): Promise<Client> {
  const c = zookeeper.createClient(connectString, { sessionTimeout: 20_000, spinDelay: 100, retries: 0 });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`node-zookeeper-client could not connect to ${connectString}`)), WAIT_MS);
    c.once('connected', () => {
      clearTimeout(t);
      resolve(c);
    });
    c.connect();
  });
}

/** Runs one client call; resolves to its value, or to the numeric error code when it fails with one. */
function call<T>(f: (cb: (err: Exception | null, v: T) => void) => void): Promise<T | number> {
  return new Promise((resolve, reject) => {
    f((err, v) => {
      if (err === null || err === undefined) resolve(v);
      else if (typeof err.code === 'number') resolve(err.code);
      else reject(err);
    });
  });
}

class EventLog {
  events: string[] = [];
  private waiters: Array<() => void> = [];
  watcher = (e: Event): void => {
    this.events.push(`${e.type}:${e.path}`);
    for (const w of this.waiters.splice(0)) w();
  };
  /** Waits for at least n events (or times out), then returns and clears them. */
  async take(n: number): Promise<string[]> {
    const deadline = Date.now() + WAIT_MS;
    while (this.events.length < n && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.events.splice(0);
  }
}

function ownerOf(s: Stat | number | null): string {
  if (s === null || typeof s === 'number') return String(s);
  return s.ephemeralOwner.readBigInt64BE(0).toString();
}

export async function runNodeScenario(proxy: TcpProxy, direct: string, root: string): Promise<void> {
  const clients: Client[] = [];
  try {
    const R = root;
    const a = await connect(proxy.connectString);
    clients.push(a);
    const b = await connect(direct);
    clients.push(b);
    const open = zookeeper.ACL.OPEN_ACL_UNSAFE;
    const M = zookeeper.CreateMode;
    const res: Record<string, unknown> = {};
    const log = new EventLog();

    res['create'] = await call<string>((cb) => a.create(R, Buffer.from('v0'), open, M.PERSISTENT, cb));
    await new Promise<void>((resolve, reject) =>
      a.getData(R, undefined, (err, data, stat) => {
        if (err) return reject(err);
        res['get_data'] = data.toString();
        res['get_version'] = stat.version;
        resolve();
      }),
    );
    const s1 = await call<Stat>((cb) => a.setData(R, Buffer.from('v1'), 0, cb));
    res['set_version'] = typeof s1 === 'number' ? s1 : s1.version;
    res['set_bad_version'] = await call<Stat>((cb) => a.setData(R, Buffer.from('x'), 5, cb));
    res['create_again'] = await call<string>((cb) => a.create(R, null, open, M.PERSISTENT, cb));
    res['get_missing'] = await call<Buffer>((cb) => a.getData(`${R}/missing`, undefined, (e, d) => cb(e, d)));
    res['seq'] = await call<string>((cb) => a.create(`${R}/seq-`, null, open, M.PERSISTENT_SEQUENTIAL, cb));
    res['eseq'] = await call<string>((cb) => a.create(`${R}/eseq-`, null, open, M.EPHEMERAL_SEQUENTIAL, cb));
    res['eph'] = await call<string>((cb) => a.create(`${R}/eph`, null, open, M.EPHEMERAL, cb));
    const ephStat = await call<Stat | null>((cb) => a.exists(`${R}/eph`, undefined, cb));
    res['eph_owner_is_session'] = ownerOf(ephStat) === a.getSessionId().readBigInt64BE(0).toString();
    res['eph_child'] = await call<string>((cb) => a.create(`${R}/eph/x`, null, open, M.PERSISTENT, cb));
    const kids = await call<string[]>((cb) => a.getChildren(R, undefined, (e, c) => cb(e, c)));
    res['children'] = Array.isArray(kids) ? [...kids].sort() : kids;
    res['delete_not_empty'] = await call<void>((cb) => a.remove(R, -1, (e) => cb(e, undefined)));

    // Watches: each trigger is a write by the same client, so the event precedes the reply.
    await call<Buffer>((cb) => a.getData(R, log.watcher, (e, d) => cb(e, d)));
    await call<Stat>((cb) => a.setData(R, Buffer.from('v2'), -1, cb));
    res['watch_data'] = await log.take(1);
    await call<string[]>((cb) => a.getChildren(R, log.watcher, (e, c) => cb(e, c)));
    await call<string>((cb) => a.create(`${R}/c1`, null, open, M.PERSISTENT, cb));
    res['watch_child'] = await log.take(1);
    await call<Stat | null>((cb) => a.exists(`${R}/later`, log.watcher, cb));
    await call<string>((cb) => a.create(`${R}/later`, null, open, M.PERSISTENT, cb));
    res['watch_exists'] = await log.take(1);
    await call<Buffer>((cb) => a.getData(`${R}/c1`, log.watcher, (e, d) => cb(e, d)));
    await call<void>((cb) => a.remove(`${R}/c1`, -1, (e) => cb(e, undefined)));
    res['watch_deleted'] = await log.take(1);

    // ACL and digest auth.
    a.addAuthInfo('digest', Buffer.from(`${DIGEST_USER}:${DIGEST_PASSWORD}`));
    await call<string>((cb) => a.create(`${R}/secure`, Buffer.from('s'), zookeeper.ACL.CREATOR_ALL_ACL, M.PERSISTENT, cb));
    const acl = await call<Array<{ permission: number; id: { scheme: string; id: string } }>>((cb) => a.getACL(`${R}/secure`, (e, x) => cb(e, x)));
    res['acl_secure'] = Array.isArray(acl) ? acl.map((x) => ({ perms: x.permission, scheme: x.id.scheme, id: x.id.id })) : acl;
    res['noauth_get'] = await call<Buffer>((cb) => b.getData(`${R}/secure`, undefined, (e, d) => cb(e, d)));
    await call<string>((cb) => b.create(`${R}/ro`, null, zookeeper.ACL.READ_ACL_UNSAFE, M.PERSISTENT, cb));
    res['ro_set'] = await call<Stat>((cb) => b.setData(`${R}/ro`, Buffer.from('no'), -1, cb));

    // Multi.
    const okRes = await call<Array<{ type: number; path?: string; stat?: Stat }>>((cb) =>
      a.transaction().create(`${R}/m1`, Buffer.from('m'), open, M.PERSISTENT).setData(`${R}/m1`, Buffer.from('m2'), 0).check(R, 2).commit(cb),
    );
    res['multi_ok'] = Array.isArray(okRes) ? [okRes[0]?.path, okRes[1]?.stat?.version, okRes.length === 3 ? 'ok' : `len ${okRes.length}`] : okRes;
    res['multi_fail'] = await call<unknown>((cb) => a.transaction().create(`${R}/m2`, undefined, open, M.PERSISTENT).check(R, 99).commit(cb));
    res['multi_fail_m2_exists'] = (await call<Stat | null>((cb) => b.exists(`${R}/m2`, undefined, cb))) !== null;

    // Reconnect: cut the TCP connection under client a; its session and ephemerals must survive
    // and the watch it set before the cut must fire after it re-registers it (setWatches).
    const sessionBefore = a.getSessionId().toString('hex');
    await call<Buffer>((cb) => a.getData(R, log.watcher, (e, d) => cb(e, d)));
    const acceptedBefore = proxy.accepted();
    const reconnected = new Promise<void>((resolve) => a.once('connected', () => resolve()));
    proxy.dropAll();
    await Promise.race([reconnected, new Promise((r) => setTimeout(r, WAIT_MS))]);
    res['same_session'] = proxy.accepted() > acceptedBefore && a.getSessionId().toString('hex') === sessionBefore;
    res['eph_after_reconnect'] = (await call<Stat | null>((cb) => b.exists(`${R}/eph`, undefined, cb))) !== null;
    // a's own round trip makes sure setWatches went out before b's write.
    await call<Stat | null>((cb) => a.exists(R, undefined, cb));
    await call<Stat>((cb) => b.setData(R, Buffer.from('v3'), -1, cb));
    res['watch_after_reconnect'] = await log.take(1);

    // Close: ephemerals of a go away.
    const eseq = res['eseq'];
    a.close();
    clients.shift();
    const deadline = Date.now() + WAIT_MS;
    let ephGone = false;
    while (!ephGone && Date.now() < deadline) {
      ephGone = (await call<Stat | null>((cb) => b.exists(`${R}/eph`, undefined, cb))) === null;
      if (!ephGone) await new Promise((r) => setTimeout(r, 50));
    }
    res['eph_gone_after_close'] = ephGone;
    res['eseq_gone_after_close'] = typeof eseq === 'string' && (await call<Stat | null>((cb) => b.exists(eseq, undefined, cb))) === null;
    checkResults(res, R, { container: false, ttl: false, persistentWatches: false });
  } finally {
    for (const c of clients) c.close();
  }
}
