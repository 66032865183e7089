/**
 * Membership changed the old way, with reconfigEnabled=false (ZooKeeper 3.4 habits): member 3 is
 * replaced by a new member 4 by rolling restarts with rewritten zoo.cfg files, under an
 * acknowledged writer. ZOOKEEPER-3829/3830/3814/3842 left ZooKeeper with a leader that could not
 * commit after such a change; here writes go on and every acknowledged one is on every member.
 */
import { after, test } from 'node:test';
import { AcknowledgedWriter, checkAcknowledged, Members, serverLine } from './members.js';

let ms: Members | undefined;
after(async () => ms?.stop());

test('a member replaced by rolling restarts with reconfigEnabled=false: writes go on, nothing acknowledged lost', { timeout: 240_000 }, async () => {
  ms = Members.create();
  const m = ms;
  for (const sid of [1, 2, 3, 4]) await m.add(sid);
  const before = [1, 2, 3].map((s) => serverLine(m.all.get(s)!));
  const now = [1, 2, 4].map((s) => serverLine(m.all.get(s)!));
  for (const sid of [1, 2, 3]) m.start(m.all.get(sid)!, before, 'tszk', false);
  await m.waitForLeader([1, 2, 3]);
  const writer = await AcknowledgedWriter.start(m.connectString([1, 2, 4]));
  await writer.progress(10);
  await m.kill(m.all.get(3)!);
  m.start(m.all.get(4)!, now, 'tszk', false);
  // The follower first, the leader last. In between, the old leader (its zoo.cfg still naming 3)
  // cannot follow a leader its config does not name; the two with the new config go on.
  const leader = await m.waitForLeader([1, 2]);
  for (const sid of [...[1, 2].filter((s) => s !== leader.sid), leader.sid]) {
    const mem = m.all.get(sid)!;
    await m.kill(mem);
    m.start(mem, now, 'tszk', false);
    await writer.progress(10);
  }
  await m.waitForLeader([1, 2, 4]);
  await writer.progress(10);
  const acked = await writer.stop();
  await checkAcknowledged(m, [1, 2, 4], acked);
});
