/**
 * Paged reads (tszk.pagedReads, tszk only), over real sockets to real `tszk server` processes: a
 * listing and a data bigger than the client's jute.maxbuffer (4 KiB here, for speed) are read whole
 * in pages where the plain read costs the connection; a change between pages makes the read start
 * again, or fail once its retries are spent; ACLs and watches as getChildren/getData; reads
 * through a follower. Without the option the server answers the paged ops as Apache ZooKeeper 3.8
 * answers them (run side by side: Unimplemented, then the connection closed), and the client says
 * the server does not page, or falls back to the plain read.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CREATOR_ALL_ACL,
  Err,
  EventType,
  KeeperError,
  PagedReadChangedError,
  PagedReadsUnsupportedError,
  ZooKeeperClient,
  type WatchedEvent,
} from '../../src/client/index.js';
import { TszkOpCode } from '../../src/proto/opcodes.js';
import { ConfigError, parseZooCfg } from '../../src/server/config.js';
import * as R from '../../src/proto/records.js';
import { TestingCluster } from '../../src/testing/index.js';
import { body, RawConnection } from '../support/raw-client.js';
import { skipUnless } from '../support/target.js';
import { waitFor } from '../support/wait.js';
import { startTszk, type Tszk } from '../support/tszk.js';
import { startZooKeeper, zookeeperMissing } from '../support/zookeeper.js';

/** The small client's jute.maxbuffer: every reply it takes is at most this. */
const SMALL_REPLY_BYTES = 4096;
const CHILDREN = 300;
/** 300 names of 40 bytes: about 13 KiB of listing, three 4 KiB replies' worth. */
const childName = (i: number): string => 'c'.repeat(36) + String(i).padStart(4, '0');

async function rejects(p: Promise<unknown>, check: (e: unknown) => boolean, what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(check(e), `expected ${what}, got ${String(e)}`);
    return;
  }
  assert.fail(`expected ${what}, got a result`);
}

const keeperError = (code: number) => (e: unknown) => e instanceof KeeperError && e.code === code;

async function fill(zk: ZooKeeperClient, parent: string, n: number): Promise<void> {
  await zk.create(parent);
  await Promise.all(Array.from({ length: n }, (_, i) => zk.create(`${parent}/${childName(i)}`)));
}

test('tszk.pagedReads: off by default, on with true (zoo.cfg or -D), a bad value names the key', () => {
  const base = 'tickTime=2000\ndataDir=/var/lib/tszk\n';
  assert.equal(parseZooCfg(base).options.pagedReads, false);
  assert.equal(parseZooCfg(base + 'tszk.pagedReads=true\n').options.pagedReads, true);
  assert.equal(parseZooCfg(base, { sysProps: { 'tszk.pagedReads': 'true' } }).options.pagedReads, true);
  assert.deepEqual(parseZooCfg(base + 'tszk.pagedReads=true\n').warnings, []);
  assert.throws(
    () => parseZooCfg(base + 'tszk.pagedReads=yes\n'),
    (e: unknown) => e instanceof ConfigError && /tszk\.pagedReads: 'yes' is not one of true\/false/.test(e.message),
  );
});

describe('paged reads on a tszk server with tszk.pagedReads=true', () => {
  let server: Tszk;
  let big: ZooKeeperClient;
  let small: ZooKeeperClient;
  const data = crypto.randomBytes(20_000);

  before(async () => {
    server = await startTszk({ cfg: { 'tszk.pagedReads': 'true' } });
    big = await ZooKeeperClient.connect(server.connectString);
    small = await ZooKeeperClient.connect(server.connectString, { replyBytesMax: SMALL_REPLY_BYTES });
    await fill(big, '/p', CHILDREN);
    await big.create('/d', data);
  });
  after(async () => {
    await Promise.all([small?.close(), big?.close()]);
    await server?.stop();
  });

  test('a listing and a data bigger than the client takes in one reply are read whole, in pages', async () => {
    // The plain reads do not fit: the client drops the connection, as the Java client does.
    await rejects(small.getChildren('/p'), keeperError(Err.ConnectionLoss), 'ConnectionLoss');
    await rejects(small.getData('/d'), keeperError(Err.ConnectionLoss), 'ConnectionLoss');
    const whole = await big.getChildren2('/p');
    const paged = await small.getChildrenPaged('/p');
    assert.deepEqual(paged.children, whole.children, 'the same names in the same order as one getChildren2');
    assert.deepEqual(paged.stat, whole.stat);
    assert.ok(paged.pages >= 4, `${paged.pages} pages for ${CHILDREN} names of 40 bytes in 4 KiB replies`);
    assert.equal(paged.restarts, 0);
    const d = await small.getDataPaged('/d');
    assert.ok(d.data !== null && d.data.equals(data), 'the data, byte for byte');
    assert.equal(d.stat.dataLength, data.length);
    assert.ok(d.pages >= 5, `${d.pages} pages for 20,000 bytes`);
    // Smaller pages on request; a node that fits takes one page; null data stays null.
    const fine = await small.getChildrenPaged('/p', { pageBytes: 500 });
    assert.deepEqual(fine.children, whole.children);
    assert.ok(fine.pages >= (CHILDREN * 44) / 500, `${fine.pages} pages of 500 bytes`);
    const one = await small.getDataPaged('/p');
    assert.deepEqual([one.data, one.pages], [null, 1]);
    assert.deepEqual(await small.getChildrenPaged('/d'), { children: [], stat: await big.exists('/d'), pages: 1, restarts: 0 });
    await rejects(small.getChildrenPaged('/missing'), keeperError(Err.NoNode), 'NoNode');
    await rejects(small.getDataPaged('/d', { pageBytes: 0 }), keeperError(Err.BadArguments), 'BadArguments');
  });

  test('a change between pages is seen: the read starts again, or fails once its retries are spent', async () => {
    let made = 0;
    const r = await small.getChildrenPaged('/p', {
      onPage: async (pages) => {
        if (pages === 2 && made++ === 0) await big.create(`/p/${childName(CHILDREN)}`);
      },
    });
    assert.equal(r.restarts, 1);
    assert.equal(r.children.length, CHILDREN + 1);
    assert.deepEqual(r.children, await big.getChildren('/p'));
    // A delete keeps the count of the first page's listing but not its cversion.
    await rejects(
      small.getChildrenPaged('/p', { retries: 2, onPage: async (pages) => void (pages === 1 && (await big.delete(`/p/${childName(made++)}`))) }),
      (e) => e instanceof PagedReadChangedError && e.tries === 3 && /changed while it was read in pages, 3 times/.test(e.message),
      'PagedReadChangedError after 3 tries',
    );
    // A listing is in the serving member's order: a new connection between pages starts it again.
    let dropped = false;
    const across = await small.getChildrenPaged('/p', {
      onPage: async () => {
        if (dropped) return;
        dropped = true;
        const before = small.connectCount;
        small.dropConnection();
        await waitFor('the next connection', async () => (small.connectCount > before && small.state === 'connected' ? true : undefined), 30_000, 20);
      },
    });
    assert.equal(across.restarts, 1);
    assert.deepEqual(across.children, await big.getChildren('/p'));
    const next = crypto.randomBytes(30_000);
    let written = false;
    const d = await small.getDataPaged('/d', {
      onPage: async () => {
        if (!written) await big.setData('/d', next);
        written = true;
      },
    });
    assert.equal(d.restarts, 1);
    assert.ok(d.data !== null && d.data.equals(next), 'the data written between pages, whole');
    await big.setData('/d', data);
  });

  test('ACLs and watches as getChildren and getData: the watch is set once, by the first page', async () => {
    const owner = await ZooKeeperClient.connect(server.connectString);
    try {
      await owner.addAuth('digest', 'alice:secret');
      await owner.create('/secret', 'x'.repeat(10_000), { acl: CREATOR_ALL_ACL });
      await rejects(small.getDataPaged('/secret'), keeperError(Err.NoAuth), 'NoAuth');
      await rejects(small.getChildrenPaged('/secret'), keeperError(Err.NoAuth), 'NoAuth');
    } finally {
      await owner.close();
    }
    const events: WatchedEvent[] = [];
    let fire = (): void => {};
    const fired = new Promise<void>((resolve) => (fire = resolve));
    await small.getChildrenPaged('/p', {
      watch: (e) => {
        events.push(e);
        fire();
      },
    });
    await big.create('/p/after');
    await fired;
    let dataEvent = (_: WatchedEvent): void => {};
    const dataFired = new Promise<WatchedEvent>((resolve) => (dataEvent = resolve));
    await small.getDataPaged('/d', { watch: (e) => dataEvent(e) });
    await big.setData('/d', data);
    assert.deepEqual(
      [...events, await dataFired].map((e) => [e.type, e.path]),
      [
        [EventType.NodeChildrenChanged, '/p'],
        [EventType.NodeDataChanged, '/d'],
      ],
    );
    await big.delete('/p/after');
  });
});

/** What a server did with one request: its reply (header) and whether it hung up. */
async function answer(port: number, type: number): Promise<string> {
  const conn = await RawConnection.open(port);
  try {
    await conn.handshake({ timeOut: 10_000 });
    conn.send(7, type, body(R.PagedReadRequest, { path: '/', watch: false, offset: 0, maxBytes: 1000 }));
    const m = await conn.next(5_000);
    const reply = m === null ? 'none' : m.kind === 'event' ? `event ${m.path}` : `xid=${m.xid} zxid=${m.zxid} err=${m.err} body=${m.body.length}B`;
    return `${reply}, closed=${await conn.waitClosed(5_000)}`;
  } finally {
    conn.close();
  }
}

test(
  'without tszk.pagedReads the paged ops are answered as Apache ZooKeeper 3.8 answers them, and the client says the server does not page',
  { skip: skipUnless(zookeeperMissing()), timeout: 180_000 },
  async () => {
    const [zk, off] = await Promise.all([startZooKeeper(), startTszk()]);
    try {
      for (const type of [TszkOpCode.getChildrenPage, TszkOpCode.getDataPage]) {
        const [fromZk, fromTszk] = await Promise.all([answer(zk.port, type), answer(off.port, type)]);
        assert.equal(fromZk, 'xid=7 zxid=-1 err=-6 body=0B, closed=true', `ZooKeeper on op ${type}`);
        assert.equal(fromTszk, fromZk, `tszk without tszk.pagedReads on op ${type}`);
      }
      for (const s of [zk, off]) {
        const c = await ZooKeeperClient.connect(s.connectString);
        try {
          await c.create('/n', 'v');
          const session = c.sessionId;
          await rejects(
            c.getChildrenPaged('/'),
            (e) => e instanceof PagedReadsUnsupportedError && e.code === Err.Unimplemented && e.message.includes('does not serve paged reads'),
            'PagedReadsUnsupportedError',
          );
          // The refusal closed the connection; the session goes on over the next one.
          assert.deepEqual((await c.getData('/n')).data, Buffer.from('v'));
          assert.equal(c.sessionId, session);
          const connections = c.connectCount;
          // The host is remembered: no second refusal (and reconnect) to learn it again.
          await rejects(c.getDataPaged('/n'), (e) => e instanceof PagedReadsUnsupportedError, 'PagedReadsUnsupportedError');
          const fallback = await c.getDataPaged('/n', { fallback: true });
          assert.deepEqual([fallback.data, fallback.pages], [Buffer.from('v'), 1]);
          assert.ok((await c.getChildrenPaged('/', { fallback: true })).children.includes('n'));
          assert.equal(c.connectCount, connections);
        } finally {
          await c.close();
        }
      }
    } finally {
      await Promise.all([zk.stop(), off.stop()]);
    }
  },
);

test('paged reads through a follower of a 3-member ensemble', { timeout: 180_000 }, async () => {
  await using cluster = await TestingCluster.start({ size: 3, config: { 'tszk.pagedReads': true, 'admin.enableServer': false } });
  const leader = await cluster.leader();
  const follower = cluster.members.find((m) => m.id !== leader.id)!;
  const writer = await ZooKeeperClient.connect(leader.connectString);
  const reader = await ZooKeeperClient.connect(follower.connectString, { replyBytesMax: SMALL_REPLY_BYTES });
  try {
    await fill(writer, '/f', CHILDREN);
    await reader.sync('/f');
    const paged = await reader.getChildrenPaged('/f');
    assert.equal(paged.children.length, CHILDREN);
    assert.deepEqual(new Set(paged.children), new Set(Array.from({ length: CHILDREN }, (_, i) => childName(i))));
    assert.ok(paged.pages > 1);
  } finally {
    await Promise.all([reader.close(), writer.close()]);
  }
});
