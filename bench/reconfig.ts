/**
 * Reconfig figures, tszk vs Apache ZooKeeper 3.8 (same harness, real processes, 3 members + a
 * joiner, tickTime 200): how long after the answer to adding member 4 it serves the new config
 * (a getConfig through it shows the new version and a write through it is acknowledged), and how
 * long writes stall when the leader is removed (the longest gap between acknowledged writes of a
 * client writing one at a time through the other members, around the reconfig).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/reconfig.js [--reps 3] [--kinds tszk,zookeeper]
 */
import { performance } from 'node:perf_hooks';
import { ZooKeeperClient } from '../src/client/index.js';
import { Members, parseConfig, reconfigured, serverLine, superClient } from '../test/reconfig/members.js';
import { waitFor } from '../test/support/wait.js';

type Kind = 'tszk' | 'zookeeper';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function once(kind: Kind): Promise<{ joinServing_ms: number; leaderRemovedStall_ms: number }> {
  const m = Members.create();
  try {
    for (const sid of [1, 2, 3, 4]) await m.add(sid);
    const first = [1, 2, 3].map((s) => serverLine(m.all.get(s)!));
    for (const sid of [1, 2, 3]) m.start(m.all.get(sid)!, first, kind);
    await m.waitForLeader([1, 2, 3], 90_000);
    const four = m.all.get(4)!;
    m.start(four, [...first, serverLine(four)], kind);
    await waitFor('member 4 following', async () => ((await m.mode(four)) === 'follower' ? true : undefined), 90_000);
    const admin = await superClient(m.connectString([1, 2, 3]));
    const viaFour = await ZooKeeperClient.connect(`127.0.0.1:${four.clientPort}`, { sessionTimeout_ms: 10_000 });

    const added = await reconfigured(admin, { joining: serverLine(four) });
    const answered = performance.now();
    await waitFor(
      'member 4 serving the new config',
      async () => {
        try {
          await viaFour.sync('/zookeeper/config');
          if (parseConfig((await viaFour.getConfig()).data).version !== added.version) return undefined;
          await viaFour.create(`/joined-${Date.now()}`, '');
          return true;
        } catch {
          return undefined;
        }
      },
      60_000,
      5,
    );
    const joinServing_ms = performance.now() - answered;
    await viaFour.close();

    const leader = await m.waitForLeader([1, 2, 3, 4], 90_000);
    const rest = [1, 2, 3, 4].filter((s) => s !== leader.sid);
    const writer = await ZooKeeperClient.connect(m.connectString(rest), { sessionTimeout_ms: 20_000 });
    const acks: number[] = [];
    let running = true;
    const loop = (async () => {
      let n = 0;
      while (running) {
        try {
          await writer.create(`/stall-${n++}`, '');
          acks.push(performance.now());
        } catch {
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const sent = performance.now();
    await reconfigured(admin, { leaving: [leader.sid] });
    await m.waitForLeader(rest, 90_000);
    const seen = acks.length;
    await waitFor('writes again', async () => (acks.length > seen + 20 ? true : undefined), 60_000, 10);
    running = false;
    await loop;
    await writer.close();
    await admin.close();
    let stall = 0;
    for (let i = 1; i < acks.length; i++) if (acks[i]! >= sent) stall = Math.max(stall, acks[i]! - acks[i - 1]!);
    return { joinServing_ms, leaderRemovedStall_ms: stall };
  } finally {
    await m.stop();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const reps = Number(arg('reps') ?? 3);
const kinds = (arg('kinds') ?? 'tszk,zookeeper').split(',') as Kind[];
for (const kind of kinds) {
  const runs = [];
  for (let i = 0; i < reps; i++) runs.push(await once(kind));
  const j = runs.map((r) => Math.round(r.joinServing_ms));
  const s = runs.map((r) => Math.round(r.leaderRemovedStall_ms));
  console.log(
    `${kind}: member added -> serving the new config: median ${median(j)} ms (${j.join(', ')}); leader removed -> longest write gap: median ${median(s)} ms (${s.join(', ')})`,
  );
}
