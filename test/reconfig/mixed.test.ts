/**
 * Reconfig in mixed ensembles: Apache ZooKeeper 3.8 and tszk peers (real processes, no proxies:
 * with reconfigEnabled the leader hands its config to every learner). A ZooKeeper follower under
 * a tszk leader takes its COMMITANDACTIVATE; a tszk follower under a ZooKeeper leader takes
 * ZooKeeper's. In each, a member of the other kind is added, a follower removed and the leader
 * removed, under an acknowledged writer whose writes must all be on every member of the config.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { skipUnless } from '../support/target.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { waitFor } from '../support/wait.js';
import { AcknowledgedWriter, checkAcknowledged, Members, reconfigured, serverLine, superClient } from './members.js';

type Kind = 'tszk' | 'zookeeper';
const started: Members[] = [];
after(async () => Promise.all(started.map((m) => m.stop())));

/** Members 1–3 of `kinds` (3, the highest sid, leads), then a joiner 4 of kind `joiner`. */
async function scenario(kinds: [Kind, Kind, Kind], joiner: Kind): Promise<void> {
  const m = Members.create();
  started.push(m);
  for (const sid of [1, 2, 3, 4]) await m.add(sid);
  const first = [1, 2, 3].map((s) => serverLine(m.all.get(s)!));
  // The highest sid leads when it takes part in the first election: 3 with 1, then 2.
  m.start(m.all.get(3)!, first, kinds[2]);
  m.start(m.all.get(1)!, first, kinds[0]);
  await m.waitForLeader([1, 3], 90_000);
  m.start(m.all.get(2)!, first, kinds[1]);
  const leader = await m.waitForLeader([1, 2, 3], 90_000);
  assert.equal(leader.sid, 3, `member 3 (${kinds[2]}) leads`);
  const writer = await AcknowledgedWriter.start(m.connectString([1, 2, 3, 4]));
  await writer.progress(10);
  const admin = await superClient(m.connectString([1, 2, 3]));

  const four = m.all.get(4)!;
  m.start(four, [...first, serverLine(four)], joiner);
  await waitFor('member 4 following without a vote', async () => ((await m.mode(four)) === 'follower' ? true : undefined), 90_000);
  const added = await reconfigured(admin, { joining: serverLine(four) });
  assert.equal(added.lines.length, 4);
  await m.waitForLeader([1, 2, 3, 4], 90_000);
  await writer.progress(10);
  const cfg = await checkAcknowledged(m, [1, 2, 3, 4], writer.acked);
  assert.match(cfg, new RegExp(`^server\\.4=.*\\nversion=${added.version}$`, 'ms'));

  // A follower of the other kind than the leader leaves.
  const leaving = kinds[0] !== kinds[2] ? 1 : 2;
  await reconfigured(admin, { leaving: [leaving] });
  let members = [1, 2, 3, 4].filter((s) => s !== leaving);
  await m.waitForLeader(members, 90_000);
  await writer.progress(10);
  await checkAcknowledged(m, members, writer.acked);

  // The leader leaves: the designated one takes over.
  await reconfigured(admin, { leaving: [3] });
  members = members.filter((s) => s !== 3);
  const next = await m.waitForLeader(members, 90_000);
  await writer.progress(10);
  const acked = await writer.stop();
  await admin.close();
  await checkAcknowledged(m, members, acked);
  // Every member keeps the config in the same zoo.cfg.dynamic.<version>, whichever kind wrote it.
  const dynamic = members.map((s) => {
    const cfgPath = m.all.get(s)!.cfgPath;
    const file = /^dynamicConfigFile=(.*)$/m.exec(fs.readFileSync(cfgPath, 'utf8'))?.[1];
    assert.ok(file !== undefined, `${cfgPath} points at a dynamic config file`);
    return `${path.basename(file)}\n${fs.readFileSync(file, 'utf8')}`;
  });
  for (const d of dynamic) assert.equal(d, dynamic[0]);
  process.stdout.write(`# ${kinds.join(',')} + ${joiner}: ${next.sid} (${next.kind}) leads after 3 left; ${acked.length} writes acknowledged\n`);
}

test(
  'tszk leads, a ZooKeeper follower and a ZooKeeper joiner: add, remove a follower, remove the leader',
  { skip: skipUnless(zookeeperMissing()), timeout: 300_000 },
  async () => {
    await scenario(['zookeeper', 'tszk', 'tszk'], 'zookeeper');
  },
);

test(
  'ZooKeeper leads, tszk followers and a tszk joiner: add, remove a follower, remove the leader',
  { skip: skipUnless(zookeeperMissing()), timeout: 300_000 },
  async () => {
    await scenario(['tszk', 'tszk', 'zookeeper'], 'tszk');
  },
);
