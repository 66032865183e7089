/**
 * What the quorum security suites do to the peers of a test/support/zk-ensemble.ts ensemble:
 * change a peer's zoo.cfg for its next start, restart it, read its log, write through it, and
 * make each kind (tszk, ZooKeeper) lead in turn; and bad configs that must stop a tszk peer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ZooKeeperClient } from '../../src/client/index.js';
import { waitForSameTree, writeThroughEveryMember } from '../mixed/harness.js';
import { freePort } from '../support/ports.js';
import { tszkCommand } from '../support/tszk.js';
import type { EnsemblePeer, PeerKind, ZkEnsemble } from '../support/zk-ensemble.js';

/** Later lines win in zoo.cfg (java.util.Properties and tszk alike): the peer's next start reads these. */
export function setCfg(p: EnsemblePeer, kv: Record<string, string>): void {
  fs.appendFileSync(
    p.cfgPath,
    Object.entries(kv)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
}

/** Kill, change the zoo.cfg, start, and wait until the whole ensemble serves again. */
export async function restart(ens: ZkEnsemble, p: EnsemblePeer, kv: Record<string, string>): Promise<void> {
  await p.kill();
  setCfg(p, kv);
  await p.start();
  await ens.waitForQuorum(60_000);
}

/** The peer's log lines matching `re`, from byte `from` on. */
export function logLines(p: EnsemblePeer, re: RegExp, from = 0): string[] {
  return fs
    .readFileSync(p.logFile)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter((l) => re.test(l));
}

export async function writeVia(p: EnsemblePeer, pathName: string): Promise<void> {
  const zk = await ZooKeeperClient.connect(p.connectString, { sessionTimeout_ms: 10_000, connectWait_ms: 10_000 });
  try {
    await zk.create(pathName, 'x');
  } finally {
    await zk.close();
  }
}

/** A client of each member writes under `root` (harness.ts's writeThroughEveryMember); all succeed and every member ends with the same tree. */
export async function writesReachEveryMember(ens: ZkEnsemble, root: string): Promise<void> {
  const { clients, errors } = await writeThroughEveryMember(ens, root);
  for (const c of clients) await c.close().catch(() => undefined);
  // A failure names the member and shows the end of every member's log (the leader's story
  // matters too): the ensemble's dir is gone after the test.
  const tails = (): string =>
    ens.peers
      .map((p) => `--- member ${p.sid} (${p.kind}), its log's last lines:\n${fs.readFileSync(p.logFile, 'utf8').split('\n').slice(-30).join('\n')}`)
      .join('\n');
  assert.equal(
    errors.size,
    0,
    `${[...errors].map(([k, v]) => `member ${k}: ${v}`).join('; ')} at ${new Date().toISOString()}\n${errors.size > 0 ? tails() : ''}`,
  );
  const { same, views } = await waitForSameTree(ens, root);
  assert.ok(same, views.join('\n'));
}

/** Members 1 and 2 of 3 serve (one leads) while 3 is out; returns the leader. */
export async function twoServe(ens: ZkEnsemble): Promise<EnsemblePeer> {
  const two = ens.peers.slice(0, 2);
  const deadline = Date.now() + 40_000;
  for (;;) {
    const m = await Promise.all(two.map((p) => p.mode()));
    if (m.filter((x) => x === 'leader').length === 1 && m.every((x) => x === 'leader' || x === 'follower')) return two[m.indexOf('leader')]!;
    if (Date.now() > deadline) throw new Error(`members 1 and 2 do not serve: ${m.join(',')} (logs in ${ens.dir})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Writes through every member under each leader, restarting the leader to move the leadership,
 * until both kinds have led (the ensemble must hold both); each time the members agree.
 */
export async function eachKindLeads(ens: ZkEnsemble): Promise<void> {
  const seen = new Set<PeerKind>();
  for (let round = 0; round < 4 && seen.size < 2; round++) {
    const leader = await ens.waitForQuorum(30_000);
    seen.add(leader.kind);
    await writesReachEveryMember(ens, `/led-by-${leader.sid}-${round}`);
    // The others elect among themselves (the highest sid of them, their zxids being equal) before
    // the old leader is back: back sooner, it could win again with its higher sid.
    await leader.kill();
    await ens.waitForQuorum(40_000);
    await leader.start();
    await ens.waitForQuorum(60_000);
  }
  assert.deepEqual([...seen].sort(), ['tszk', 'zookeeper']);
}

/** Each config (a 2-server ensemble's member 1 plus `cfg`) stops tszk with exit 2 and a message naming the key. */
export async function assertConfigExits(parent: string, cases: [Record<string, string>, RegExp][]): Promise<void> {
  for (const [cfg, named] of cases) {
    const dir = fs.mkdtempSync(`${parent}/bad-`);
    fs.writeFileSync(path.join(dir, 'myid'), '1\n');
    const lines: Record<string, string | number> = {
      tickTime: 2000,
      dataDir: dir,
      clientPort: await freePort(),
      'admin.enableServer': 'false',
      'server.1': `127.0.0.1:${await freePort()}:${await freePort()}`,
      'server.2': `127.0.0.1:${await freePort()}:${await freePort()}`,
      ...cfg,
    };
    const cfgPath = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(
      cfgPath,
      Object.entries(lines)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    const { cmd, args } = tszkCommand();
    const r = spawnSync(cmd, [...args, 'server', '--config', cfgPath], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `exit code for ${JSON.stringify(cfg)}: ${r.stderr}`);
    assert.match(r.stderr + r.stdout, named);
  }
}
