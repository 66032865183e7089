/**
 * Fuzz: random bytes and mutated valid packets (bit flips, truncations, wrong and oversized
 * lengths, unknown opcodes, requests before ConnectRequest, garbage inside well-formed frames)
 * are thrown at the server over many connections. Afterwards the server must be alive, a
 * connection opened before the fuzzing must still be healthy, a fresh session must get correct
 * answers to a fixed set of requests, and the protected /fuzz subtree and /zookeeper must be
 * exactly as before. The target is tszk (TSZK_TEST_TARGET=zookeeper validates the harness).
 * Sizes: TSZK_FUZZ_CASES (default 1500), TSZK_FUZZ_SEED.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { Err } from '../../src/proto/errors.js';
import { CreateMode, OpCode, Perms } from '../../src/proto/opcodes.js';
import * as R from '../../src/proto/records.js';
import { fourLetter } from '../support/ports.js';
import { body, decodeAs, decodeMultiResponse, multiBody, RawConnection, RawSession } from '../support/raw-client.js';
import { skipUnless, startTarget, targetKind, targetMissing } from '../support/target.js';
import { randomCase, Rng, validRequests, type FuzzCase } from './corpus.js';
import { diffTrees, dumpTree } from './tree.js';

const CASES = Number(process.env['TSZK_FUZZ_CASES'] ?? 1500);
const SEED = Number(process.env['TSZK_FUZZ_SEED'] ?? Date.now() % 1_000_000);
const CONCURRENCY = 8;
/** A case is over when the server closed the connection or said nothing for this long. */
const CASE_IDLE_MS = 100;
/** Oversized/negative frame lengths must close the connection within this. */
const CLOSE_WAIT_MS = 5_000;
const SENTINEL_PING_MS = 500;
const ADMIN_AUTH = 'fuzzadmin:secret';
const ADMIN_ID = `fuzzadmin:${crypto.createHash('sha1').update(ADMIN_AUTH).digest('base64')}`;
/** Anyone may read /fuzz; only the admin digest may change it, so mutated writes cannot. */
const PROTECTED_ACL = [
  { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
  { perms: Perms.ALL, id: { scheme: 'digest', id: ADMIN_ID } },
];
const OPEN_ACL = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
/** The super user reads the whole tree afterwards, whatever ACLs mutated setACLs left behind. */
const SUPER_AUTH = 'super:fuzzsuper';
const SUPER_DIGEST = `super:${crypto.createHash('sha1').update(SUPER_AUTH).digest('base64')}`;
const kind = targetKind();

async function ok(s: RawSession, type: number, ...bodies: Parameters<RawSession['call']>[1][]): Promise<Buffer> {
  const r = await s.call(type, ...bodies);
  if (r.err !== 0) throw new Error(`op ${type} failed: err ${r.err}`);
  return r.body;
}

async function runCase(port: number, c: FuzzCase): Promise<string | undefined> {
  let conn: RawConnection;
  try {
    conn = await RawConnection.open(port);
  } catch (e) {
    return `cannot connect for case "${c.what}": ${(e as Error).message}`;
  }
  try {
    if (c.kind === 'afterHandshake') {
      const resp = await conn.handshake({ timeOut: 4000 }, CLOSE_WAIT_MS);
      if (resp.sessionId === 0n) return `handshake refused before case "${c.what}"`;
    }
    conn.sendRaw(c.bytes);
    const closed = await conn.waitClosed(c.expectClose ? CLOSE_WAIT_MS : CASE_IDLE_MS);
    if (c.expectClose && !closed) return `connection still open ${CLOSE_WAIT_MS} ms after ${c.kind} case "${c.what}"`;
    return undefined;
  } catch (e) {
    return `case "${c.what}" (${c.kind}): ${(e as Error).message}`;
  } finally {
    conn.close();
  }
}

test(`fuzz: ${kind} survives random and mutated packets`, { skip: skipUnless(targetMissing(kind)), timeout: 10 * 60_000 }, async () => {
  const server = await startTarget(kind, { extendedTypes: true, superDigest: SUPER_DIGEST });
  try {
    // The protected tree, written by an authenticated admin session.
    const admin = await RawSession.open(server.port);
    assert.equal(await admin.addAuth('digest', ADMIN_AUTH), 0);
    const mk = (path: string, data: string, acl: R.ACL[]): Promise<Buffer> =>
      ok(admin, OpCode.create, body(R.CreateRequest, { path, data: Buffer.from(data), acl, flags: CreateMode.PERSISTENT }));
    await mk('/fuzz', 'root', PROTECTED_ACL);
    await mk('/fuzz/a', 'alpha', PROTECTED_ACL);
    await mk('/fuzz/b', 'beta', PROTECTED_ACL);
    await mk('/fuzz/a/deep', 'deep', PROTECTED_ACL);
    await mk('/scratch', '', OPEN_ACL);
    const before = new Map([...(await dumpTree(admin, '/fuzz')), ...(await dumpTree(admin, '/zookeeper'))]);
    await admin.close();

    // A healthy connection opened before the fuzzing; pinged throughout so its session lives.
    const sentinel = await RawSession.open(server.port, { timeOut: 30_000 });
    const sentinelProblems: string[] = [];
    let fuzzing = true;
    const keepAlive = (async () => {
      while (fuzzing) {
        try {
          await sentinel.ping();
        } catch (e) {
          sentinelProblems.push(`ping: ${(e as Error).message}`);
          return;
        }
        await new Promise((r) => setTimeout(r, SENTINEL_PING_MS));
      }
    })();

    const rng = new Rng(SEED);
    const valid = validRequests();
    const cases: FuzzCase[] = [];
    for (let i = 0; i < CASES; i++) cases.push(randomCase(rng, valid));
    const problems: string[] = [];
    const t0 = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const c = cases[next++]!;
          const p = await runCase(server.port, c);
          if (p !== undefined) problems.push(p);
        }
      }),
    );
    fuzzing = false;
    await keepAlive;
    const kinds = new Map<string, number>();
    for (const c of cases) kinds.set(c.what.replace(/ -?\d+/g, ' N'), (kinds.get(c.what.replace(/ -?\d+/g, ' N')) ?? 0) + 1);
    console.log(
      `# fuzz (seed ${SEED}): ${cases.length} cases against ${kind} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${[...kinds].map(([k, n]) => `${k} ×${n}`).join('; ')}`,
    );

    // 1. The server lives and answers 4lw.
    assert.ok(server.alive(), 'server process exited during fuzzing');
    assert.equal(await fourLetter(server.port, 'ruok'), 'imok');
    // 2. Malformed input closed only its own connection.
    assert.deepEqual(sentinelProblems, [], 'the connection opened before fuzzing was disturbed');
    const sg = await sentinel.call(OpCode.getData, body(R.GetDataRequest, { path: '/fuzz/a', watch: false }));
    assert.equal(sg.err, 0);
    assert.equal(decodeAs(R.GetDataResponse, sg.body).data?.toString(), 'alpha');
    await sentinel.close();
    // 3. Every case behaved (connections closed where they must be).
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} cases misbehaved (seed ${SEED})`);
    // 4. A fresh session gets correct answers.
    const s = await RawSession.open(server.port);
    const P = `/final-${process.pid}`;
    const c1 = await s.call(OpCode.create, body(R.CreateRequest, { path: P, data: Buffer.from('d'), acl: OPEN_ACL, flags: CreateMode.PERSISTENT }));
    assert.equal(c1.err, 0);
    assert.equal(decodeAs(R.CreateResponse, c1.body).path, P);
    const g1 = decodeAs(R.GetDataResponse, await ok(s, OpCode.getData, body(R.GetDataRequest, { path: P, watch: false })));
    assert.equal(g1.data?.toString(), 'd');
    assert.equal(g1.stat.version, 0);
    const s1 = decodeAs(R.SetDataResponse, await ok(s, OpCode.setData, body(R.SetDataRequest, { path: P, data: Buffer.from('e'), version: 0 })));
    assert.equal(s1.stat.version, 1);
    assert.equal((await s.call(OpCode.setData, body(R.SetDataRequest, { path: P, data: null, version: 0 }))).err, Err.BadVersion);
    const kids = decodeAs(R.GetChildrenResponse, await ok(s, OpCode.getChildren, body(R.GetChildrenRequest, { path: '/fuzz', watch: false })));
    assert.deepEqual([...kids.children].sort(), ['a', 'b']);
    const m = decodeMultiResponse(
      await ok(
        s,
        OpCode.multi,
        multiBody([
          { type: OpCode.create, req: { path: `${P}/x`, data: null, acl: OPEN_ACL, flags: 0 } },
          { type: OpCode.delete, req: { path: `${P}/x`, version: 0 } },
        ]),
      ),
    );
    assert.deepEqual(m, [{ type: 'create', path: `${P}/x` }, { type: 'delete' }]);
    assert.equal((await s.call(OpCode.exists, body(R.ExistsRequest, { path: `${P}/x`, watch: false }))).err, Err.NoNode);
    assert.equal((await s.call(OpCode.create, body(R.CreateRequest, { path: '/fuzz/z', data: null, acl: OPEN_ACL, flags: 0 }))).err, Err.NoAuth);
    assert.equal((await s.call(OpCode.delete, body(R.DeleteRequest, { path: P, version: 1 }))).err, 0);
    // ZooKeeper 3.8.0 accepts createTTL with a non-TTL mode and a TTL <= 0 and then dies in its
    // SyncThread; with a positive TTL the same request is BadArguments. tszk must answer that.
    if (kind === 'tszk') {
      const t = await s.call(
        OpCode.createTTL,
        body(R.CreateTTLRequest, { path: '/scratch/ttl-crash', data: null, acl: OPEN_ACL, flags: CreateMode.PERSISTENT, ttl: -5n }),
      );
      assert.equal(t.err, Err.BadArguments, 'createTTL with mode PERSISTENT and ttl -5');
      assert.ok(server.alive(), 'server exited on createTTL with mode PERSISTENT and ttl -5');
    }
    // 5. The protected tree is exactly as before (dumped as the admin: getACL shows digest
    // hashes only to callers with ADMIN permission).
    assert.equal(await s.addAuth('digest', ADMIN_AUTH), 0);
    const after = new Map([...(await dumpTree(s, '/fuzz')), ...(await dumpTree(s, '/zookeeper'))]);
    assert.deepEqual(diffTrees(before, after), []);
    await s.close();
    // 6. The whole tree is self-consistent: every Stat agrees with the node's data and children,
    // and getAllChildrenNumber agrees with what a walk finds.
    const su = await RawSession.open(server.port);
    assert.equal(await su.addAuth('digest', SUPER_AUTH), 0);
    const all = await dumpTree(su, '/');
    const inconsistent: string[] = [];
    for (const [p, node] of all) {
      const kids = [...all.keys()].filter((q) => q !== p && q.startsWith(p === '/' ? '/' : `${p}/`) && !q.slice(p === '/' ? 1 : p.length + 1).includes('/'));
      if (node.stat.numChildren !== kids.length) inconsistent.push(`${p}: numChildren ${node.stat.numChildren}, children ${kids.length}`);
      const len = node.data === null ? 0 : Buffer.byteLength(node.data, 'latin1');
      if (node.stat.dataLength !== len) inconsistent.push(`${p}: dataLength ${node.stat.dataLength}, data ${len} bytes`);
    }
    assert.deepEqual(inconsistent, []);
    const fuzzCount = decodeAs(
      R.GetAllChildrenNumberResponse,
      await ok(su, OpCode.getAllChildrenNumber, body(R.GetAllChildrenNumberRequest, { path: '/fuzz' })),
    );
    assert.equal(fuzzCount.totalNumber, [...all.keys()].filter((q) => q.startsWith('/fuzz/')).length);
    console.log(`# fuzz: tree after fuzzing has ${all.size} nodes, all consistent`);
    await su.close();
  } finally {
    await server.stop();
  }
});
