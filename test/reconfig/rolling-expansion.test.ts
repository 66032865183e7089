/**
 * A rolling scale-up with reconfigEnabled=false (ZooKeeper 3.4 habits), from 3 members to 5, under
 * an acknowledged writer: the two new members start with the 5-member config, then the old ones
 * are restarted with it one by one, followers first and the leader last (the election after it is
 * one a new member may win). ZooKeeper 3.5 to 3.6.1 could end this with a leader that never commits
 * (ZOOKEEPER-3842, -3829, -3830; -3814: a config spread although reconfig was off). The same steps
 * run against tszk and against Apache ZooKeeper 3.8.
 *
 * At the end the quorum is the 5-member one (two original members killed, the other three still
 * commit) and every acknowledged write is on every member.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { skipUnless, targetMissing } from '../support/target.js';
import { AcknowledgedWriter, checkAcknowledged, Members, serverLine } from './members.js';

const running: Members[] = [];
after(async () => {
  for (const m of running) await m.stop();
});

for (const kind of ['tszk', 'zookeeper'] as const) {
  test(
    `${kind}: rolling restart from 3 to 5 members with reconfig disabled, under an acknowledged writer`,
    { skip: skipUnless(targetMissing(kind)), timeout: 300_000 },
    async () => {
      const m = Members.create();
      running.push(m);
      for (const sid of [1, 2, 3, 4, 5]) await m.add(sid);
      const lines = (sids: number[]): string[] => sids.map((s) => serverLine(m.all.get(s)!));
      for (const sid of [1, 2, 3]) m.start(m.all.get(sid)!, lines([1, 2, 3]), kind, false);
      let leader = await m.waitForLeader([1, 2, 3]);
      const writer = await AcknowledgedWriter.start(m.connectString([1, 2, 3]));
      await writer.progress(10);

      // The new members join the leader that still runs the 3-member config.
      for (const sid of [4, 5]) m.start(m.all.get(sid)!, lines([1, 2, 3, 4, 5]), kind, false);
      leader = await m.waitForLeader([1, 2, 3, 4, 5]);
      await writer.progress(10);
      for (const sid of [1, 2, 3].filter((s) => s !== leader.sid).concat(leader.sid)) {
        const mem = m.all.get(sid)!;
        await m.kill(mem);
        m.start(mem, lines([1, 2, 3, 4, 5]), kind, false);
        leader = await m.waitForLeader([1, 2, 3, 4, 5]);
        await writer.progress(10);
        console.log(`# ${kind}: member ${sid} restarted with the 5-member config; leader ${leader.sid}; ${writer.acked.length} writes acknowledged`);
      }
      await checkAcknowledged(m, [1, 2, 3, 4, 5], writer.acked);

      // The quorum is 3 of 5: with two original members down the other three still commit.
      const gone = [1, 2, 3].filter((s) => s !== leader.sid).slice(0, 2);
      for (const sid of gone) await m.kill(m.all.get(sid)!);
      const rest = [1, 2, 3, 4, 5].filter((s) => !gone.includes(s));
      await m.waitForLeader(rest);
      await writer.progress(10);
      const acked = await writer.stop();
      await checkAcknowledged(m, rest, acked);
      assert.ok(acked.length >= 60, `${acked.length} writes acknowledged`);
      console.log(`# ${kind}: ${acked.length} acknowledged writes on every member; members ${gone.join(',')} down, ${rest.join(',')} commit`);
    },
  );
}
