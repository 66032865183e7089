/**
 * Issue 5, Must show 1: SIGKILL the leader of a 3-member ensemble under client write load, a few
 * times in a row; each time a new leader must be established and writes resume. Prints each
 * fail-over time (kill → first acknowledged write after it) and the median. After the old leader
 * rejoins, every acknowledged write is present on every member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '../support/target.js';
import { startFaultCluster } from '../support/fault-cluster.js';
import { connectTo, kind, median, missing, sleep, WriteLoad } from './helpers.js';

const RUNS = Number(process.env['TSZK_FAILOVER_RUNS'] ?? 3);
const FAILOVER_MS_MAX = 30_000;

test(
  `${kind} ensemble of 3: kill -9 the leader under write load ${RUNS} times — new leader, writes resume, nothing acknowledged lost`,
  { skip: skipUnless(missing), timeout: 300_000 },
  async () => {
    const cluster = await startFaultCluster({ kind, n: 3 });
    let passed = false;
    const times: number[] = [];
    let load: WriteLoad | undefined;
    try {
      const setup = await connectTo(cluster.connectString);
      await setup.create('/fo');
      await setup.close();
      const writes = new WriteLoad(cluster.connectString, '/fo', 6);
      load = writes;
      await writes.start();
      for (let run = 0; run < RUNS; run++) {
        await sleep(800);
        const leader = await cluster.waitForLeader();
        const before = writes.acked.length;
        const killedAt = Date.now();
        await leader.kill('SIGKILL');
        const deadline = killedAt + FAILOVER_MS_MAX;
        let resumed: number | undefined;
        while ((resumed = writes.firstAckAfter(killedAt + 1)) === undefined && Date.now() < deadline) await sleep(10);
        assert.ok(
          resumed !== undefined,
          `run ${run}: no write acknowledged within ${FAILOVER_MS_MAX} ms of killing leader ${leader.sid} (logs ${cluster.dir}); ` +
            `members that died by themselves: ${cluster.unexpectedExits().join('\n') || 'none'}`,
        );
        const next = await cluster.waitForLeader({ exclude: [leader.sid], allServing: false });
        assert.notEqual(next.sid, leader.sid);
        times.push(resumed - killedAt);
        console.log(
          `fail-over ${run + 1}: killed leader ${leader.sid}, new leader ${next.sid}, writes resumed after ${resumed - killedAt} ms (${writes.acked.length - before} acked since)`,
        );
        await sleep(500);
        await leader.start();
        await cluster.waitForLeader();
      }
      await sleep(500);
      await writes.stop();
      assert.ok(writes.acked.length > RUNS * 20, `only ${writes.acked.length} writes acknowledged`);
      // Every acknowledged write, on every member (read after sync through a session on that member).
      for (const p of cluster.peers) {
        const zk = await connectTo(p.connectString);
        await zk.sync('/fo');
        const present = new Set(await zk.getChildren('/fo'));
        const missingHere = writes.acked.filter((a) => !present.has(a.path.slice('/fo/'.length)));
        assert.deepEqual(missingHere.slice(0, 5), [], `member ${p.sid} lacks ${missingHere.length} acknowledged writes (logs ${cluster.dir})`);
        for (const a of writes.acked.filter((_, i) => i % 97 === 0))
          assert.equal((await zk.getData(a.path)).data?.toString(), a.data, `${a.path} on member ${p.sid}`);
        await zk.close();
      }
      console.log(
        `fail-over ${kind}: times ${times.join(', ')} ms, median ${median(times)} ms; ${writes.acked.length} acknowledged writes all present on 3 members; ` +
          `client errors ${JSON.stringify(Object.fromEntries(writes.failures))}`,
      );
      assert.deepEqual(cluster.unexpectedExits(), [], 'members crashed on their own');
      passed = true;
    } finally {
      await load?.stop(); // idempotent; on failure its clients must not keep the process alive
      await cluster.stop({ keepDir: process.env['TSZK_KEEP_LOGS'] === '1' || !passed });
    }
  },
);
