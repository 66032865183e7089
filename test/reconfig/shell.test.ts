/**
 * `tszk shell`'s reconfig and config against zkCli's: the same script through zkCli on a 3-member
 * Apache ZooKeeper 3.8 ensemble and through `tszk shell` on a 3-member tszk ensemble (both with
 * reconfigEnabled=true); output equal once ports and times are masked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnless } from '../support/target.js';
import { runOurs } from '../support/tszk-shell.js';
import { runZkCli, zkCliMissing, type CliRun } from '../support/zkcli.js';
import { zookeeperMissing } from '../support/zookeeper.js';
import { startDirectEnsemble, type DirectEnsemble, type Kind } from './direct-ensemble.js';

// Versions are the reconfig txns' zxids: the session is 0x100000001, the refused first reconfig
// an error txn (0x100000002), then 0x100000003 and 0x100000004.
const SCRIPT = `reconfig -add server.100=127.0.0.1:1:2:observer;3
addauth digest super:test
reconfig -add server.100=127.0.0.1:1:2:OBSERVER;3
reconfig -s -v 100000003 -remove 100
reconfig -v 1 -remove 100
reconfig -add server.101=x
reconfig -members server.1=a -add server.2=b
reconfig -file a -members b
reconfig
reconfig -remove
config
config -s
quit
`;

/** Masks what differs between two ensembles: their ports, and times. */
function normalize(s: string, ens: DirectEnsemble): string {
  let out = s.replace(/^(c|m)time = .*$/gm, '$1time = <time>');
  for (const p of ens.peers) {
    for (const [port, name] of [
      [p.clientPort, 'client'],
      [p.quorumPort, 'quorum'],
      [p.electionPort, 'election'],
    ] as const)
      out = out.replaceAll(`:${port}`, `:<${name}${p.sid}>`);
  }
  return out;
}

async function run(kind: Kind): Promise<CliRun & { ens: DirectEnsemble }> {
  const ens = await startDirectEnsemble(kind, 3, { reconfigEnabled: 'true' });
  try {
    await ens.waitForLeader();
    const r =
      kind === 'zookeeper' ? await runZkCli(ens.peers[0]!.connectString, { stdin: SCRIPT }) : await runOurs(ens.peers[0]!.connectString, { stdin: SCRIPT });
    return { ...r, ens };
  } finally {
    await ens.stop();
  }
}

test('tszk shell reconfig/config print what zkCli prints', { skip: skipUnless(zookeeperMissing() ?? zkCliMissing()), timeout: 300_000 }, async () => {
  const theirs = await run('zookeeper');
  const ours = await run('tszk');
  assert.match(theirs.stdout, /Committed new configuration:\nserver\.1=/);
  assert.equal(normalize(ours.stdout, ours.ens), normalize(theirs.stdout, theirs.ens));
  assert.equal(normalize(ours.stderr, ours.ens), normalize(theirs.stderr, theirs.ens));
});
