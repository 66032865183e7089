/**
 * Issue 3, Must show 1: a real `tszk server` process (kept dataDir) is SIGKILLed at random
 * moments while clients (src/client) write as fast as they can — creates, setData, deletes and
 * multis — TSZK_CRASH_ROUNDS times in a row (default 20). After every restart each lane's znodes
 * must be exactly as the acknowledged writes left them, or as the single unacknowledged write
 * would have left them; never a part of a multi, never a node nobody wrote.
 * TSZK_TEST_TARGET=zookeeper runs the same test against Apache ZooKeeper 3.8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import { ZooKeeperClient, KeeperError, Err } from '../../src/client/index.js';
import { skipUnless, targetKind, targetMissing } from '../support/target.js';
import { startCrashable } from './server.js';
import { applyWrite, clientOps, emptyLane, NODE_NAMES, pickWrite, prng, sameLane, type Lane, type Write } from './model.js';

const ROUNDS = Number(process.env['TSZK_CRASH_ROUNDS'] ?? 20);
const SEED = Number(process.env['TSZK_CRASH_SEED'] ?? Date.now() % 1_000_000);
const LANES = 24;
const CLIENTS = 3;
const LOAD_MS_MIN = 150;
const LOAD_MS_SPREAD = 600;

const lost = (e: unknown): boolean =>
  e instanceof KeeperError && (e.code === Err.ConnectionLoss || e.code === Err.SessionExpired || e.code === Err.OperationTimeout);

async function send(zk: ZooKeeperClient, base: string, w: Write): Promise<void> {
  if (w.multi) {
    await zk.multi(clientOps(base, w));
    return;
  }
  const s = w.steps[0]!;
  const p = `${base}/${s.node}`;
  if (s.kind === 'create') await zk.create(p, s.data);
  else if (s.kind === 'set') await zk.setData(p, s.data, s.version);
  else await zk.delete(p, s.version);
}

async function readLane(zk: ZooKeeperClient, base: string): Promise<{ lane: Lane; extra: string[] }> {
  const children = await zk.getChildren(base);
  const lane = emptyLane();
  for (const n of NODE_NAMES) {
    if (!children.includes(n)) continue;
    const { data, stat } = await zk.getData(`${base}/${n}`);
    lane[n] = { data: data === null ? '' : data.toString(), version: stat.version };
  }
  return { lane, extra: children.filter((c) => !(NODE_NAMES as readonly string[]).includes(c)) };
}

const kind = targetKind();
test(
  `${kind} standalone, SIGKILL ${ROUNDS} times under create/setData/delete/multi load: acknowledged writes survive exactly, multis all or nothing`,
  { skip: skipUnless(targetMissing(kind)), timeout: 600_000 },
  async () => {
    const rnd = prng(SEED);
    const logFile = path.join(os.tmpdir(), `crash-${kind}-${process.pid}.log`);
    const server = await startCrashable({ logFile });
    const lanes: Lane[] = Array.from({ length: LANES }, emptyLane);
    let acked = 0;
    let inFlightLanded = 0;
    let inFlightLost = 0;
    let k = 0;
    try {
      const setup = await ZooKeeperClient.connect(server.connectString());
      await setup.create('/crash');
      for (let i = 0; i < LANES; i++) await setup.create(`/crash/l${i}`);
      await setup.close();
      for (let round = 0; round < ROUNDS; round++) {
        const clients = await Promise.all(Array.from({ length: CLIENTS }, () => ZooKeeperClient.connect(server.connectString())));
        const inFlight: (Write | undefined)[] = new Array(LANES).fill(undefined);
        const unexpected: string[] = [];
        let stop = false;
        const runLane = async (i: number): Promise<void> => {
          const zk = clients[i % CLIENTS]!;
          while (!stop) {
            const w = pickWrite(lanes[i]!, rnd, `r${round}w${k++}`);
            inFlight[i] = w;
            try {
              await send(zk, `/crash/l${i}`, w);
            } catch (e) {
              // Lost with the connection: outcome unknown. Any other error means the server's
              // state differs from what it acknowledged — a bug.
              if (!lost(e)) unexpected.push(`lane ${i} ${JSON.stringify(w)}: ${(e as Error).message}`);
              return;
            }
            lanes[i] = applyWrite(lanes[i]!, w);
            inFlight[i] = undefined;
            acked++;
          }
        };
        const running = lanes.map((_, i) => runLane(i));
        await new Promise((r) => setTimeout(r, LOAD_MS_MIN + Math.floor(rnd() * LOAD_MS_SPREAD)));
        await server.kill();
        stop = true;
        for (const c of clients) c.abandon();
        await Promise.all(running);
        assert.deepEqual(unexpected, [], `round ${round}: writes failed with errors other than connection loss (seed ${SEED})`);

        await server.restart();
        const v = await ZooKeeperClient.connect(server.connectString());
        for (let i = 0; i < LANES; i++) {
          const { lane: seen, extra } = await readLane(v, `/crash/l${i}`);
          assert.deepEqual(extra, [], `round ${round} lane ${i}: znodes nobody created`);
          const before = lanes[i]!;
          const w = inFlight[i];
          const after = w ? applyWrite(before, w) : before;
          const okBefore = sameLane(seen, before);
          const okAfter = sameLane(seen, after);
          assert.ok(
            okBefore || okAfter,
            `round ${round} lane ${i} (seed ${SEED}): found ${JSON.stringify(seen)}; acknowledged state ${JSON.stringify(before)}; ` +
              `unacknowledged write ${JSON.stringify(w)} (log ${logFile})`,
          );
          if (w) {
            if (okAfter && !okBefore) inFlightLanded++;
            else inFlightLost++;
          }
          lanes[i] = seen;
        }
        await v.close();
      }
      assert.ok(acked >= ROUNDS * LANES, `only ${acked} acknowledged writes in ${ROUNDS} rounds: the load did not run`);
      console.log(
        `crash ${kind}: ${ROUNDS} SIGKILL rounds (seed ${SEED}), ${acked} acknowledged writes verified after restarts; ` +
          `unacknowledged in-flight writes: ${inFlightLanded} landed whole, ${inFlightLost} absent`,
      );
    } finally {
      await server.dispose();
    }
  },
);
