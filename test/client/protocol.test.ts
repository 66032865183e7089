/**
 * Client protocol details checked against a scripted fake server (no ZooKeeper needed): the
 * resume handshake, SetWatches chunking, frames split at every byte, out-of-order replies,
 * expiry; plus connect-string parsing and the client-side watch table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JuteWriter } from '../../src/jute/index.js';
import { parseConnectString, prependChroot, stripChroot } from '../../src/client/connect-string.js';
import { Err, EventType, KeeperError, KeeperState, SET_WATCHES_BYTES_MAX, ZooKeeperClient, type WatchedEvent } from '../../src/client/index.js';
import { WatchManager } from '../../src/client/watch-manager.js';
import { OpCode } from '../../src/proto/opcodes.js';
import { Stat } from '../../src/proto/records.js';
import { PASSWD, SESSION_ID, replyFrame, startFakeServer, type Frame } from './fake-server.js';

async function waitFor(cond: () => boolean, what: string, timeout_ms = 5000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function readStrings(f: Frame): string[] {
  const n = f.body.int();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(f.body.ustring());
  return out;
}

const zeroStat: Stat = {
  czxid: 1n,
  mzxid: 2n,
  ctime: 3n,
  mtime: 4n,
  version: 5,
  cversion: 6,
  aversion: 7,
  ephemeralOwner: 0n,
  dataLength: 1,
  numChildren: 0,
  pzxid: 8n,
};

describe('connect string', () => {
  test('hosts, default port, chroot, IPv6', () => {
    assert.deepEqual(parseConnectString('a:1,b:2/app/x'), {
      hosts: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
      ],
      chroot: '/app/x',
    });
    assert.deepEqual(parseConnectString('h'), { hosts: [{ host: 'h', port: 2181 }], chroot: '' });
    assert.deepEqual(parseConnectString('[::1]:5,h/'), {
      hosts: [
        { host: '::1', port: 5 },
        { host: 'h', port: 2181 },
      ],
      chroot: '',
    });
    assert.throws(() => parseConnectString('/app'));
    assert.throws(() => parseConnectString('h:99999'));
    assert.throws(() => parseConnectString('h:1/app/'));
  });

  test('chroot mapping both ways', () => {
    assert.equal(prependChroot('/app', '/'), '/app');
    assert.equal(prependChroot('/app', '/x'), '/app/x');
    assert.equal(stripChroot('/app', '/app'), '/');
    assert.equal(stripChroot('/app', '/app/x'), '/x');
    assert.equal(stripChroot('/app', '/apple'), '/apple');
    assert.equal(stripChroot('', '/x'), '/x');
  });
});

describe('watch table', () => {
  test('which watchers an event reaches, one-shot vs persistent', () => {
    const m = new WatchManager();
    const seen: string[] = [];
    const w = (name: string) => () => seen.push(name);
    const data = w('data');
    const exist = w('exist');
    const child = w('child');
    const pers = w('pers');
    const rec = w('rec');
    m.add('data', '/a/b', data);
    m.add('exist', '/a/b', exist);
    m.add('child', '/a/b', child);
    m.add('persistent', '/a/b', pers);
    m.add('persistentRecursive', '/a', rec);
    assert.deepEqual([...m.materialize(EventType.NodeChildrenChanged, '/a/b')], [child, pers]);
    assert.deepEqual([...m.materialize(EventType.NodeDataChanged, '/a/b')], [data, exist, pers, rec]);
    assert.deepEqual([...m.materialize(EventType.NodeDataChanged, '/a/b')], [pers, rec]);
    m.add('child', '/a/b', child);
    m.add('data', '/a/b', data);
    assert.deepEqual([...m.materialize(EventType.NodeDeleted, '/a/b')], [data, child, pers, rec]);
    assert.deepEqual([...m.materialize(EventType.NodeCreated, '/a/b/c/d')], [rec]);
    assert.equal(m.all().size, 2);
    void seen;
  });
});

const syncBody = (() => {
  const w = new JuteWriter();
  w.ustring('/');
  return Buffer.from(w.bytes());
})();

describe('client against a fake server', { timeout: 30_000 }, () => {
  test('reconnect resumes the session and re-arms watches in SetWatches chunks', async () => {
    const fake = await startFakeServer({
      answer: (f) => (f.type === OpCode.exists ? { err: Err.NoNode } : f.type === OpCode.sync ? { err: 0, body: syncBody } : { err: 0 }),
    });
    const c = await ZooKeeperClient.connect(fake.connectString, { sessionTimeout_ms: 6000 });
    try {
      assert.equal(c.sessionId, SESSION_ID);
      assert.deepEqual(c.sessionPasswd, PASSWD);
      const name = 'n'.repeat(200);
      const n = Math.ceil((2.2 * SET_WATCHES_BYTES_MAX) / 210);
      const paths = Array.from({ length: n }, (_, i) => `/w/${name}${i}`);
      await Promise.all(paths.map((p) => c.exists(p, () => {})));
      await c.addWatch('/p', 'persistent', () => {});
      await c.addAuth('digest', 'u:p');
      fake.zxid = 77n;
      await c.sync('/'); // lastZxidSeen = 77
      const before = fake.frames.length;
      fake.dropAll();
      await waitFor(() => fake.connects.length === 2 && c.state === 'connected', 'reconnect');
      await c.sync('/');
      const resume = fake.connects[1]!.req;
      assert.equal(resume.sessionId, SESSION_ID);
      assert.deepEqual(resume.passwd, PASSWD);
      assert.equal(resume.lastZxidSeen, 77n);
      assert.equal(resume.timeOut, 6000);
      const after = fake.frames.slice(before);
      // Auth first, then the SetWatches chunks, then the request.
      assert.equal(after[0]!.xid, -4);
      assert.equal(after[0]!.type, OpCode.auth);
      const sw = after.filter((f) => f.xid === -8);
      assert.ok(sw.length >= 3, `expected at least 3 chunks, got ${sw.length}`);
      const armed: string[] = [];
      let persistent: string[] = [];
      for (const f of sw) {
        assert.equal(f.body.long(), 77n);
        const lists = [readStrings(f), readStrings(f), readStrings(f)];
        if (f.type === OpCode.setWatches2) persistent = persistent.concat(readStrings(f), readStrings(f));
        else assert.equal(f.type, OpCode.setWatches);
        assert.equal(f.body.remaining, 0);
        const all = lists.flat().concat(f.type === OpCode.setWatches2 ? persistent : []);
        const bytes = all.reduce((s, p) => s + p.length, 0);
        // Like the Java client, a chunk may pass the limit by its last path only.
        assert.ok(bytes - all[all.length - 1]!.length < SET_WATCHES_BYTES_MAX, `chunk of ${bytes} bytes`);
        armed.push(...lists[1]!);
        assert.deepEqual(lists[0], []);
        assert.deepEqual(lists[2], []);
      }
      assert.deepEqual(armed, paths);
      assert.deepEqual(persistent, ['/p']);
      assert.equal(sw[sw.length - 1]!.type, OpCode.setWatches2);
      assert.equal(after[after.length - 1]!.type, OpCode.sync);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  test('under a chroot, SetWatches carries server paths and events come back as client paths', async () => {
    const fake = await startFakeServer({ answer: (f) => (f.type === OpCode.exists ? { err: Err.NoNode } : { err: 0 }) });
    const c = await ZooKeeperClient.connect(`${fake.connectString}/app`);
    try {
      const events: WatchedEvent[] = [];
      await c.exists('/', (e) => events.push(e));
      await c.exists('/x', (e) => events.push(e));
      const req = fake.frames.filter((f) => f.type === OpCode.exists).map((f) => f.body.ustring());
      assert.deepEqual(req, ['/app', '/app/x']);
      const before = fake.frames.length;
      fake.dropAll();
      await waitFor(() => fake.connects.length === 2 && c.state === 'connected', 'reconnect');
      await waitFor(() => fake.frames.length > before, 'SetWatches');
      const sw = fake.frames[before]!;
      assert.equal(sw.type, OpCode.setWatches);
      sw.body.long();
      assert.deepEqual([readStrings(sw), readStrings(sw), readStrings(sw)], [[], ['/app', '/app/x'], []]);
      const w = new JuteWriter();
      w.int(EventType.NodeCreated);
      w.int(KeeperState.SyncConnected);
      w.ustring('/app/x');
      fake.send(replyFrame(-1, -1n, 0, Buffer.from(w.bytes())));
      await waitFor(() => events.some((e) => e.type === EventType.NodeCreated), 'event');
      assert.deepEqual(
        events.filter((e) => e.type !== EventType.None),
        [{ type: EventType.NodeCreated, state: KeeperState.SyncConnected, path: '/x' }],
      );
    } finally {
      await c.close();
      await fake.close();
    }
  });

  test('on a read-only server the client finds a read-write one and moves there', async () => {
    const ro = await startFakeServer({ readOnly: () => true, isro: 'ro' });
    const rw = await startFakeServer({ isro: 'rw' });
    const states: number[] = [];
    const c = await ZooKeeperClient.connect(`${ro.connectString},${rw.connectString}`, {
      canBeReadOnly: true,
      defaultWatcher: (e) => states.push(e.state),
    });
    try {
      assert.equal(ro.connects[0]!.req.readOnly, true);
      assert.equal(ro.connects[0]!.req.sessionId, 0n);
      await waitFor(() => c.state === 'connected' && rw.connects.length === 1, 'moved to the r/w server');
      assert.ok(rw.probes >= 1);
      // The read-only session was local to that server: the r/w server is asked for a new one.
      assert.equal(rw.connects[0]!.req.sessionId, 0n);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(states, [KeeperState.ConnectedReadOnly, KeeperState.Disconnected, KeeperState.SyncConnected]);
      // Once a r/w server has made the session, reconnects resume it (here: on the next host, ro).
      rw.dropAll();
      await waitFor(() => ro.connects.length === 2, 'reconnect to the next host');
      assert.equal(ro.connects[1]!.req.sessionId, SESSION_ID);
    } finally {
      await c.close();
      await ro.close();
      await rw.close();
    }
  });

  test('replies split at every byte are reassembled; events before replies', async () => {
    const fake = await startFakeServer({
      dribble: true,
      answer: (f) => {
        if (f.type !== OpCode.getData) return { err: 0 };
        const w = new JuteWriter();
        w.buffer(Buffer.from('hi'));
        Stat.write(w, zeroStat);
        return { err: 0, body: Buffer.from(w.bytes()) };
      },
    });
    const c = await ZooKeeperClient.connect(fake.connectString);
    try {
      const results = await Promise.all([c.getData('/a'), c.getData('/b'), c.getData('/c')]);
      for (const r of results) {
        assert.equal(r.data?.toString(), 'hi');
        assert.deepEqual(r.stat, zeroStat);
      }
      const events: WatchedEvent[] = [];
      await c.getData('/x', (e) => events.push(e));
      const w = new JuteWriter();
      w.int(EventType.NodeDataChanged);
      w.int(KeeperState.SyncConnected);
      w.ustring('/x');
      fake.send(replyFrame(-1, -1n, 0, Buffer.from(w.bytes())));
      await waitFor(() => events.length === 1, 'event');
      assert.deepEqual(events[0], { type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: '/x' });
    } finally {
      await c.close();
      await fake.close();
    }
  });

  test('a reply out of order drops the connection; outstanding requests fail with ConnectionLoss', async () => {
    const fake = await startFakeServer({
      // Hold back the answer to the first exists; answer later ones.
      answer: (f) => (f.type === OpCode.exists && f.conn === 0 ? null : { err: 0, body: Stat.encode(zeroStat) }),
    });
    const c = await ZooKeeperClient.connect(fake.connectString);
    try {
      const p = c.exists('/a');
      await waitFor(() => fake.frames.some((f) => f.type === OpCode.exists), 'request on the wire');
      const xid = fake.frames.find((f) => f.type === OpCode.exists)!.xid;
      fake.send(replyFrame(xid + 5, 9n, 0, Stat.encode(zeroStat))); // an answer to a request never made
      await assert.rejects(p, (e: unknown) => e instanceof KeeperError && e.code === Err.ConnectionLoss);
      await waitFor(() => c.state === 'connected' && fake.connects.length === 2, 'reconnect');
      assert.deepEqual(await c.exists('/a'), zeroStat);
    } finally {
      await c.close();
      await fake.close();
    }
  });

  test('a resume answered with timeout 0 means Expired', async () => {
    const fake = await startFakeServer({ timeout_ms: (conn) => (conn === 0 ? 6000 : 0) });
    const states: number[] = [];
    const c = await ZooKeeperClient.connect(fake.connectString, { defaultWatcher: (e) => states.push(e.state) });
    const stream = c.stateEvents();
    const streamed: number[] = [];
    const drained = (async () => {
      for await (const s of stream) streamed.push(s);
    })();
    fake.dropAll();
    await waitFor(() => c.state === 'expired', 'expired');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(states, [KeeperState.SyncConnected, KeeperState.Disconnected, KeeperState.Expired]);
    await drained; // the state stream ends by itself after Expired
    assert.deepEqual(streamed, [KeeperState.Disconnected, KeeperState.Expired]);
    await assert.rejects(c.exists('/'), (e: unknown) => e instanceof KeeperError && e.code === Err.SessionExpired);
    await c.close();
    await fake.close();
  });

  test('requests made before the session is up are queued and sent after the handshake', async () => {
    const fake = await startFakeServer({ answer: () => ({ err: 0, body: Stat.encode(zeroStat) }) });
    const c = new ZooKeeperClient(fake.connectString);
    const p = c.exists('/early');
    assert.equal(c.state, 'connecting');
    assert.deepEqual(await p, zeroStat);
    await c.close();
    const closeFrame = fake.frames[fake.frames.length - 1]!;
    assert.equal(closeFrame.type, OpCode.closeSession);
    await fake.close();
  });
});
