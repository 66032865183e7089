/**
 * Voting membership changed by reconfig in a real tszk ensemble (separate processes), under a
 * writer whose acknowledged writes must all be on every member of each new config: a member
 * joins (started with the current members plus itself, it syncs as a non-voting follower until
 * added), a follower leaves, the leader leaves (the designated next leader takes over), a
 * participant and an observer swap roles, a member's client port moves. The committed config is
 * kept as ZooKeeper keeps it (zoo.cfg.dynamic.<version>, zoo.cfg pointing at it) and a member
 * restarted with kill -9 comes back in it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { fourLetter } from '../support/ports.js';
import { skipUnless } from '../support/target.js';
import { runZkCli, zkCliMissing } from '../support/zkcli.js';
import { waitFor } from '../support/wait.js';
import { AcknowledgedWriter, checkAcknowledged, Members, reconfigured, serverLine, superClient } from './members.js';

const TIMEOUT_MS = 240_000;
let ms: Members | undefined;
let cli: Members | undefined;
let one: Members | undefined;
after(async () => Promise.all([ms?.stop(), cli?.stop(), one?.stop()]));

test('voters join and leave by reconfig under an acknowledged writer', { timeout: TIMEOUT_MS }, async () => {
  ms = Members.create();
  const m = ms;
  for (const sid of [1, 2, 3, 4]) await m.add(sid);
  const first = [1, 2, 3].map((s) => serverLine(m.all.get(s)!));
  for (const sid of [1, 2, 3]) m.start(m.all.get(sid)!, first);
  await m.waitForLeader([1, 2, 3]);
  const writer = await AcknowledgedWriter.start(m.connectString([1, 2, 3, 4]));
  await writer.progress(10);
  const admin = await superClient(m.connectString([1, 2, 3, 4]));

  // A joiner started with the current members plus itself follows without a vote until added.
  const four = m.all.get(4)!;
  m.start(four, [...first, serverLine(four)]);
  await waitFor('member 4 serving as a non-voting follower', async () => ((await m.mode(four)) === 'follower' ? true : undefined), 60_000);
  const added = await reconfigured(admin, { joining: serverLine(four) });
  assert.deepEqual(added.lines, [1, 2, 3, 4].map((s) => serverLine(m.all.get(s)!)).sort());
  await m.waitForLeader([1, 2, 3, 4]);
  await writer.progress(10);
  const cfg4 = await checkAcknowledged(m, [1, 2, 3, 4], writer.acked);
  assert.match(cfg4, new RegExp(`version=${added.version}$`));

  // The committed config is in zoo.cfg.dynamic.<version>, and zoo.cfg points at it.
  for (const sid of [1, 2, 3, 4]) {
    const mem = m.all.get(sid)!;
    const dynamicFile = `${mem.cfgPath}.dynamic.${added.version}`;
    assert.match(fs.readFileSync(mem.cfgPath, 'utf8'), new RegExp(`^dynamicConfigFile=${dynamicFile.replaceAll('.', '\\.')}$`, 'm'));
    assert.doesNotMatch(fs.readFileSync(mem.cfgPath, 'utf8'), /^server\./m);
    assert.deepEqual(fs.readFileSync(dynamicFile, 'utf8').split('\n').sort(), added.lines);
  }

  // A follower leaves.
  let leader = await m.waitForLeader([1, 2, 3, 4]);
  const follower = [1, 2, 3, 4].find((s) => s !== leader.sid)!;
  let members = [1, 2, 3, 4].filter((s) => s !== follower);
  const removed = await reconfigured(admin, { leaving: [follower] });
  assert.equal(removed.lines.length, 3);
  await m.waitForLeader(members);
  await writer.progress(10);
  await checkAcknowledged(m, members, writer.acked);

  // The leader leaves: the designated next leader takes over.
  leader = await m.waitForLeader(members);
  members = members.filter((s) => s !== leader.sid);
  const t0 = Date.now();
  await reconfigured(admin, { leaving: [leader.sid] });
  const next = await m.waitForLeader(members);
  await writer.progress(5);
  process.stdout.write(`# leader ${leader.sid} removed: ${next.sid} leads, writes acknowledged again ${Date.now() - t0} ms after the reconfig was sent\n`);
  await checkAcknowledged(m, members, writer.acked);

  // A member restarted with kill -9 comes back in the config it kept.
  const restarted = m.all.get(members.find((s) => s !== next.sid)!)!;
  await m.kill(restarted);
  m.restart(restarted);
  await m.waitForLeader(members);
  await writer.progress(5);
  await checkAcknowledged(m, members, writer.acked);

  // The removed members stayed as non-voting followers: the old leader comes back as a voter, the old follower as an observer.
  const back = m.all.get(leader.sid)!;
  const obs = m.all.get(follower)!;
  await reconfigured(admin, { joining: [serverLine(back), serverLine(obs, 'observer')] });
  members = [...members, back.sid, follower];
  await m.waitForLeader(members);
  await waitFor('the old follower observing', async () => ((await m.mode(obs)) === 'observer' ? true : undefined), 60_000);
  await writer.progress(5);
  await checkAcknowledged(m, members, writer.acked);

  // A participant and an observer swap roles (newMembers).
  const voter = m.all.get(members.find((s) => s !== next.sid && s !== back.sid && s !== follower)!)!;
  const swapped = members.map((s) => serverLine(m.all.get(s)!, s === voter.sid ? 'observer' : 'participant'));
  await reconfigured(admin, { newMembers: swapped });
  await waitFor('the swap in force', async () => ((await m.mode(voter)) === 'observer' && (await m.mode(obs)) === 'follower' ? true : undefined), 60_000);
  await writer.progress(5);
  await checkAcknowledged(m, members, writer.acked);

  // A member's client port moves (ZOOKEEPER-2847): the old port closes, the new one serves.
  const moved = back;
  const oldPort = moved.clientPort;
  const newPort = await (await import('../support/ports.js')).freePort();
  await reconfigured(admin, { joining: serverLine(moved, 'participant', newPort) });
  await waitFor(`member ${moved.sid} serving on its new client port`, async () => ((await m.mode(moved, newPort)) === 'follower' ? true : undefined), 60_000);
  await waitFor(
    `member ${moved.sid}'s old client port closed`,
    async () =>
      fourLetter(oldPort, 'ruok', 500).then(
        () => undefined,
        () => true,
      ),
    30_000,
  );
  moved.clientPort = newPort;
  await writer.progress(5);
  const acked = await writer.stop();
  await admin.close();
  await checkAcknowledged(m, members, acked);
  process.stdout.write(`# ${acked.length} writes acknowledged, ${writer.failures} failed during the changes\n`);
});

test(
  "zkCli's reconfig (Java ZooKeeperAdmin) adds and removes a voter of a tszk ensemble",
  { skip: skipUnless(zkCliMissing()), timeout: TIMEOUT_MS },
  async () => {
    const m = Members.create();
    cli = m;
    for (const sid of [1, 2, 3]) await m.add(sid);
    const first = [1, 2].map((s) => serverLine(m.all.get(s)!));
    for (const sid of [1, 2]) m.start(m.all.get(sid)!, first);
    await m.waitForLeader([1, 2]);
    const three = m.all.get(3)!;
    m.start(three, [...first, serverLine(three)]);
    await waitFor('member 3 following without a vote', async () => ((await m.mode(three)) === 'follower' ? true : undefined), 60_000);
    const add = await runZkCli(m.connectString([1]), { stdin: `addauth digest super:test\nreconfig -add ${serverLine(three)}\n` });
    assert.match(add.stdout, new RegExp(`Committed new configuration:[\\s\\S]*${serverLine(three).replaceAll('.', '\\.')}[\\s\\S]*version=`), add.stderr);
    await m.waitForLeader([1, 2, 3]);
    const remove = await runZkCli(m.connectString([3]), { stdin: 'addauth digest super:test\nreconfig -remove 1\nconfig\n' });
    assert.match(remove.stdout, /Committed new configuration:/, remove.stderr);
    assert.doesNotMatch(remove.stdout.slice(remove.stdout.lastIndexOf('Committed new configuration:')), /^server\.1=/m);
    await m.waitForLeader([2, 3]);
  },
);

test('standaloneEnabled=false: an ensemble grows from one member and shrinks back to it', { timeout: TIMEOUT_MS }, async () => {
  const m = Members.create();
  one = m;
  for (const sid of [1, 2]) await m.add(sid);
  const [a, b] = [m.all.get(1)!, m.all.get(2)!];
  m.start(a, [serverLine(a)]);
  await m.waitForLeader([1]);
  const writer = await AcknowledgedWriter.start(m.connectString([1, 2]));
  await writer.progress(5);
  m.start(b, [serverLine(a), serverLine(b)]);
  await waitFor('member 2 following without a vote', async () => ((await m.mode(b)) === 'follower' ? true : undefined), 60_000);
  const admin = await superClient(m.connectString([1]));
  assert.equal((await reconfigured(admin, { joining: serverLine(b) })).lines.length, 2);
  await m.waitForLeader([1, 2]);
  await writer.progress(5);
  await checkAcknowledged(m, [1, 2], writer.acked);
  const leader = await m.waitForLeader([1, 2]);
  const other = leader.sid === 1 ? 2 : 1;
  assert.equal((await reconfigured(admin, { leaving: [leader.sid] })).lines.length, 1);
  await m.waitForLeader([other]);
  await writer.progress(5);
  const acked = await writer.stop();
  await admin.close();
  await checkAcknowledged(m, [other], acked);
});
