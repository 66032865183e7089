/**
 * kill -9 in the middle of a reconfig: the leader while a member is being added, then a follower
 * while another one is being removed. However far each reconfig got, the ensemble ends in one
 * config (the same /zookeeper/config on every member, also across the killed member's restart on
 * the zoo.cfg it left) and every write the ensemble acknowledged is on every member.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../support/wait.js';
import { AcknowledgedWriter, checkAcknowledged, Members, parseConfig, serverLine, superClient } from './members.js';

let ms: Members | undefined;
after(async () => ms?.stop());

test('kill -9 during a reconfig: one config in the end, nothing acknowledged lost', { timeout: 240_000 }, async () => {
  ms = Members.create();
  const m = ms;
  for (const sid of [1, 2, 3, 4]) await m.add(sid);
  const first = [1, 2, 3].map((s) => serverLine(m.all.get(s)!));
  for (const sid of [1, 2, 3]) m.start(m.all.get(sid)!, first);
  const four = m.all.get(4)!;
  m.start(four, [...first, serverLine(four)]);
  let leader = await m.waitForLeader([1, 2, 3, 4]);
  const writer = await AcknowledgedWriter.start(m.connectString([1, 2, 3, 4]));
  await writer.progress(10);
  const others = [1, 2, 3, 4].filter((s) => s !== leader.sid);
  const admin = await superClient(m.connectString(others));

  // The leader dies right after the reconfig that adds member 4 reaches it.
  const adding = admin.reconfig({ joining: serverLine(four) }).then(
    () => 'committed',
    (e: unknown) => `failed: ${(e as Error).message}`,
  );
  await new Promise((r) => setTimeout(r, 20));
  await m.kill(leader);
  process.stdout.write(`# adding member 4 with leader ${leader.sid} killed: ${await adding}\n`);
  // The others carry on without it (with the reconfig in flight, the next leader needs member 4 too).
  await m.waitForLeader(others);
  m.restart(leader);
  leader = await m.waitForLeader([1, 2, 3, 4]);
  await writer.progress(10);
  const afterAdd = parseConfig(Buffer.from(await checkAcknowledged(m, [1, 2, 3, 4], writer.acked)));
  const voters = afterAdd.lines.filter((l) => l.includes(':participant')).map((l) => Number(/^server\.(\d+)=/.exec(l)![1]));
  assert.ok(voters.length === 3 || voters.length === 4, `config after the first kill: ${afterAdd.lines.join(' ')}`);
  if (voters.length === 3) {
    // It did not commit: add member 4 now, so that the next round removes a voter of a 4-member ensemble.
    await admin.reconfig({ joining: serverLine(four) });
    await waitFor(
      'member 4 voting',
      async () => {
        const c = parseConfig(Buffer.from(await checkAcknowledged(m, [1, 2, 3, 4], writer.acked)));
        return c.lines.length === 4 ? true : undefined;
      },
      60_000,
    );
  }

  // A follower dies while another follower is being removed.
  leader = await m.waitForLeader([1, 2, 3, 4]);
  const [leaving, victim] = [1, 2, 3, 4].filter((s) => s !== leader.sid);
  const removing = admin.reconfig({ leaving: [leaving!] }).then(
    () => 'committed',
    (e: unknown) => `failed: ${(e as Error).message}`,
  );
  await m.kill(m.all.get(victim!)!);
  process.stdout.write(`# removing member ${leaving} with member ${victim} killed: ${await removing}\n`);
  m.restart(m.all.get(victim!)!);
  await m.waitForLeader([1, 2, 3, 4]);
  await writer.progress(10);
  const acked = await writer.stop();
  await admin.close();
  const end = parseConfig(Buffer.from(await checkAcknowledged(m, [1, 2, 3, 4], acked)));
  assert.ok(end.lines.length === 3 || end.lines.length === 4, `final config: ${end.lines.join(' ')}`);
  process.stdout.write(`# final config version ${end.version}, ${end.lines.length} members; ${acked.length} writes acknowledged\n`);
});
