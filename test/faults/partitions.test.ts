/**
 * Issue 5, Must show 3: partitions through the fault proxies between peers. Every member has a
 * client of its own (connected to it alone) creating znodes the whole time. While a partition
 * holds, no member outside the majority side acknowledges any write sent during it; the majority
 * side elects (if it must) and keeps acknowledging. After healing, every member converges to the
 * same tree digest, and every acknowledged write is in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZooKeeperClient } from '../../src/client/index.js';
import type { LinkState } from '../support/tcp-proxy.js';
import { skipUnless } from '../support/target.js';
import { startFaultCluster, type FaultCluster } from '../support/fault-cluster.js';
import { connectTo, convergedDigests, kind, missing, sleep, withTimeout } from './helpers.js';

const keep = process.env['TSZK_KEEP_LOGS'] === '1';
const PARTITION_MS = Number(process.env['TSZK_PARTITION_MS'] ?? 4000);

interface Ack {
  sid: number;
  path: string;
  invoked_ms: number;
  acked_ms: number;
}

/** One client per member, pinned to it, creating znodes back to back until stopped. */
function pinnedWriters(cluster: FaultCluster, root: string): { acks: Ack[]; stop(): Promise<void> } {
  const acks: Ack[] = [];
  let stopped = false;
  const zks: ZooKeeperClient[] = [];
  const loops = cluster.peers.map(async (p) => {
    const zk = new ZooKeeperClient(p.connectString, { sessionTimeout_ms: 30_000 });
    zks.push(zk);
    for (let k = 0; !stopped; k++) {
      const path = `${root}/m${p.sid}-${k}`;
      const invoked_ms = Date.now();
      try {
        await withTimeout(zk.create(path, `${p.sid}`), 3_000, path);
        acks.push({ sid: p.sid, path, invoked_ms, acked_ms: Date.now() });
      } catch {
        await sleep(50); // lost, refused or timed out: outcome unknown
      }
    }
  });
  return {
    acks,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(loops);
      for (const z of zks) z.abandon();
    },
  };
}

async function partitionScenario(cluster: FaultCluster, label: string, groups: (leader: number, all: number[]) => number[][], how: LinkState): Promise<void> {
  const root = `/${label}`;
  const setup = await connectTo(cluster.connectString);
  await setup.create(root);
  await setup.close();
  const leader = (await cluster.waitForLeader()).sid;
  const all = cluster.peers.map((p) => p.sid);
  const g = groups(leader, all);
  const majority = g.find((x) => x.length * 2 > all.length) ?? [];
  const minority = all.filter((s) => !majority.includes(s));
  const w = pinnedWriters(cluster, root);
  try {
    await partitionPhase(cluster, label, g, how, majority, minority, leader, root, w);
  } finally {
    await w.stop();
  }
}

async function partitionPhase(
  cluster: FaultCluster,
  label: string,
  g: number[][],
  how: LinkState,
  majority: number[],
  minority: number[],
  leader: number,
  root: string,
  w: { acks: Ack[]; stop(): Promise<void> },
): Promise<void> {
  await sleep(500);
  const cutAt = Date.now();
  cluster.partition(g, how);
  await sleep(PARTITION_MS);
  const healAt = Date.now();
  cluster.heal();
  // Writes sent to the minority during the partition and acknowledged before it healed: none allowed.
  const minorityAcks = w.acks.filter((a) => minority.includes(a.sid) && a.invoked_ms > cutAt && a.acked_ms < healAt);
  const majorityAcks = w.acks.filter((a) => majority.includes(a.sid) && a.invoked_ms > cutAt && a.acked_ms < healAt);
  await cluster.waitForLeader({ timeout_ms: 30_000 });
  await sleep(1000);
  await w.stop();
  console.log(
    `${label}: leader ${leader}, partition ${JSON.stringify(g)} (${how}) for ${healAt - cutAt} ms: ` +
      `majority ${JSON.stringify(majority)} acknowledged ${majorityAcks.length} writes, minority ${JSON.stringify(minority)} ${minorityAcks.length}`,
  );
  assert.deepEqual(
    minorityAcks.slice(0, 5),
    [],
    `${label}: minority members acknowledged ${minorityAcks.length} writes during the partition (logs ${cluster.dir})`,
  );
  assert.ok(majorityAcks.length > 0, `${label}: the majority side acknowledged nothing in ${PARTITION_MS} ms (logs ${cluster.dir})`);
  const digests = await convergedDigests(cluster, '/');
  assert.equal(
    new Set(digests.values()).size,
    1,
    `${label}: members differ after healing: ${JSON.stringify(Object.fromEntries(digests))} (logs ${cluster.dir})`,
  );
  const zk = await connectTo(cluster.peers[0]!.connectString);
  await zk.sync(root);
  const present = new Set((await zk.getChildren(root)).map((c) => `${root}/${c}`));
  await zk.close();
  const lost = w.acks.filter((a) => !present.has(a.path));
  assert.deepEqual(lost.slice(0, 5), [], `${label}: ${lost.length} acknowledged writes missing after healing`);
  console.log(`${label}: healed; ${digests.size} members agree on tree digest ${[...digests.values()][0]}; ${w.acks.length} acknowledged writes all present`);
}

test(
  `${kind}, 3 members: isolate the leader (blackhole), split 2/1 (reset), heal — minority acknowledges nothing, all converge`,
  { skip: skipUnless(missing), timeout: 240_000 },
  async () => {
    const cluster = await startFaultCluster({ kind, n: 3 });
    let passed = false;
    try {
      await partitionScenario(cluster, 'isolate-leader', (l, all) => [all.filter((s) => s !== l), [l]], 'blackhole');
      await partitionScenario(
        cluster,
        'split-2-1',
        (l, all) => {
          const f = all.filter((s) => s !== l);
          return [[l, f[0]!], [f[1]!]];
        },
        'reset',
      );
      assert.deepEqual(cluster.unexpectedExits(), [], 'members crashed on their own');
      passed = true;
    } finally {
      await cluster.stop({ keepDir: keep || !passed });
    }
  },
);

test(
  `${kind}, 5 members: split 3/2 with the leader on the 2 side, heal — minority acknowledges nothing, all converge`,
  { skip: skipUnless(missing), timeout: 240_000 },
  async () => {
    const cluster = await startFaultCluster({ kind, n: 5 });
    let passed = false;
    try {
      await partitionScenario(
        cluster,
        'split-3-2',
        (l, all) => {
          const f = all.filter((s) => s !== l);
          return [
            [f[0]!, f[1]!, f[2]!],
            [l, f[3]!],
          ];
        },
        'blackhole',
      );
      assert.deepEqual(cluster.unexpectedExits(), [], 'members crashed on their own');
      passed = true;
    } finally {
      await cluster.stop({ keepDir: keep || !passed });
    }
  },
);
