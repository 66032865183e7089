/**
 * The standalone server on tszk's storage, killed with SIGKILL at random moments while clients
 * write as fast as they can (create, setData, delete, multi), TSZK_STORAGE_SERVER_CRASH_ROUNDS
 * times (default 20). Each lane of writes owns two znodes and has at most one request in flight;
 * after every restart each znode must be exactly as the last acknowledged write left it, or as the
 * one unacknowledged write would have left it — never anything else, and a multi all or nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zookeeper, { type Client, type Stat } from 'node-zookeeper-client';
import { call, connect } from './zkTools.js';
import { prng } from './workload.js';

const ROUNDS = Number(process.env['TSZK_STORAGE_SERVER_CRASH_ROUNDS'] ?? 20);
const LANES = 24;
const CHILD = new URL(`./serverChild${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url).pathname;

interface ZNode {
  data: string;
  version: number;
}
type LaneState = { a: ZNode | null; b: ZNode | null };
type Op =
  | { kind: 'create'; node: 'a' | 'b'; data: string }
  | { kind: 'set'; node: 'a' | 'b'; data: string }
  | { kind: 'delete'; node: 'a' | 'b' }
  | { kind: 'multiSet'; data: string }
  | { kind: 'multiCreateB'; data: string };

function applyOp(s: LaneState, op: Op): LaneState {
  const n = { ...s };
  switch (op.kind) {
    case 'create':
      n[op.node] = { data: op.data, version: 0 };
      break;
    case 'set':
      n[op.node] = { data: op.data, version: s[op.node]!.version + 1 };
      break;
    case 'delete':
      n[op.node] = null;
      break;
    case 'multiSet':
      n.a = { data: op.data, version: s.a!.version + 1 };
      n.b = { data: op.data, version: s.b!.version + 1 };
      break;
    case 'multiCreateB':
      n.a = { data: op.data, version: s.a!.version + 1 };
      n.b = { data: op.data, version: 0 };
      break;
  }
  return n;
}

function pickOp(s: LaneState, rnd: () => number, k: number): Op {
  const data = `w${k}-${Math.floor(rnd() * 1e6)}`;
  if (s.a === null) return { kind: 'create', node: 'a', data };
  const r = rnd();
  if (s.b === null) return r < 0.5 ? { kind: 'multiCreateB', data } : { kind: 'set', node: 'a', data };
  if (r < 0.4) return { kind: 'set', node: r < 0.2 ? 'a' : 'b', data };
  if (r < 0.7) return { kind: 'multiSet', data };
  return { kind: 'delete', node: r < 0.85 ? 'b' : 'a' };
}

function send(c: Client, lane: number, op: Op): Promise<void> {
  const p = (x: 'a' | 'b') => `/l${lane}/${x}`;
  const OPEN = zookeeper.ACL.OPEN_ACL_UNSAFE;
  switch (op.kind) {
    case 'create':
      return call<string>((cb) => c.create(p(op.node), Buffer.from(op.data), OPEN, zookeeper.CreateMode.PERSISTENT, cb)).then(() => undefined);
    case 'set':
      return call<Stat>((cb) => c.setData(p(op.node), Buffer.from(op.data), -1, cb)).then(() => undefined);
    case 'delete':
      return new Promise((res, rej) => c.remove(p(op.node), -1, (e) => (e ? rej(e) : res())));
    case 'multiSet':
      return call((cb) => c.transaction().setData(p('a'), Buffer.from(op.data)).setData(p('b'), Buffer.from(op.data)).commit(cb)).then(() => undefined);
    case 'multiCreateB':
      return call((cb) => c.transaction().setData(p('a'), Buffer.from(op.data)).create(p('b'), Buffer.from(op.data)).commit(cb)).then(() => undefined);
  }
}

async function readNode(c: Client, p: string): Promise<ZNode | null> {
  return new Promise((resolve, reject) =>
    c.getData(p, undefined, (err, data, stat) => {
      if (err) return err.getCode() === zookeeper.Exception.NO_NODE ? resolve(null) : reject(err);
      resolve({ data: data ? data.toString() : '', version: stat.version });
    }),
  );
}

async function startServer(dataDir: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, '300'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TSZK_LOG_LEVEL: 'warn' } });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /ready (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code} before it was ready`)));
  });
  return { proc, port };
}

const same = (x: ZNode | null, y: ZNode | null) => JSON.stringify(x) === JSON.stringify(y);

test(`standalone server on tszk storage, kill -9 ${ROUNDS} times under write load: acknowledged writes survive exactly`, { timeout: 900_000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-srvcrash-'));
  const rnd = prng(777);
  const lanes: LaneState[] = Array.from({ length: LANES }, () => ({ a: null, b: null }));
  let server = await startServer(dataDir);
  let acked = 0;
  let uncertainApplied = 0;
  try {
    const setup = await connect(`127.0.0.1:${server.port}`);
    await Promise.all(lanes.map((_, i) => call<string>((cb) => setup.create(`/l${i}`, null, zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.PERSISTENT, cb))));
    setup.close();
    let k = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const c = await connect(`127.0.0.1:${server.port}`);
      const inFlight: (Op | undefined)[] = new Array(LANES).fill(undefined);
      let stop = false;
      const runLane = async (i: number): Promise<void> => {
        while (!stop) {
          const op = pickOp(lanes[i]!, rnd, k++);
          inFlight[i] = op;
          try {
            await send(c, i, op);
          } catch {
            return; // connection lost: this op's outcome is unknown
          }
          lanes[i] = applyOp(lanes[i]!, op);
          inFlight[i] = undefined;
          acked++;
        }
      };
      const running = lanes.map((_, i) => runLane(i));
      await new Promise((r) => setTimeout(r, 100 + Math.floor(rnd() * 500)));
      server.proc.kill('SIGKILL');
      await new Promise((r) => server.proc.once('exit', r));
      stop = true;
      await Promise.all(running);
      c.close();

      server = await startServer(dataDir);
      const v = await connect(`127.0.0.1:${server.port}`);
      for (let i = 0; i < LANES; i++) {
        const seen = { a: await readNode(v, `/l${i}/a`), b: await readNode(v, `/l${i}/b`) };
        const before = lanes[i]!;
        const op = inFlight[i];
        const after = op ? applyOp(before, op) : before;
        const okBefore = same(seen.a, before.a) && same(seen.b, before.b);
        const okAfter = same(seen.a, after.a) && same(seen.b, after.b);
        assert.ok(okBefore || okAfter, `round ${round} lane ${i}: saw ${JSON.stringify(seen)}, acknowledged ${JSON.stringify(before)}, in flight ${JSON.stringify(op)}`);
        if (!okBefore) uncertainApplied++;
        lanes[i] = seen;
      }
      v.close();
    }
    assert.ok(acked > ROUNDS * LANES, `${acked} acknowledged writes`);
    console.log(`server crash rounds ${ROUNDS}: ${acked} acknowledged writes verified; ${uncertainApplied} in-flight writes had landed`);
  } finally {
    server.proc.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
