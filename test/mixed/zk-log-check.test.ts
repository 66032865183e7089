/**
 * The ZooKeeper-log reader the mixed suites fail on: what it counts as ZooKeeper's own and what
 * it still reports. Log excerpts are in ZooKeeper 3.8's slf4j-simple layout.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { zkLogFindings } from './zk-log-check.js';

const PEER = '[QuorumPeer[myid=1](plain=127.0.0.1:26538)(secure=disabled)]';
const MISMATCH = [
  '[CommitProcessor:1] WARN org.apache.zookeeper.server.DataTree - Message:Digests are not matching. Value is Zxid. Value:8589937971',
  '[CommitProcessor:1] ERROR org.apache.zookeeper.server.DataTree - First digest mismatch on txn: 261861687765237765,0,8589937971,1796669014002,-11',
];

function findingsOf(lines: string[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-log-check-'));
  try {
    const file = path.join(dir, 'peer.log');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    return zkLogFindings(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("a digest mismatch while a follower's CommitProcessor is stopping is ZooKeeper's own race", () => {
  const stopping = [
    `${PEER} INFO org.apache.zookeeper.server.quorum.CommitProcessor - Shutting down`,
    ...MISMATCH,
    '[CommitProcessor:1] INFO org.apache.zookeeper.server.quorum.CommitProcessor - CommitProcessor exited loop!',
    `${PEER} INFO org.apache.zookeeper.server.persistence.FileTxnSnapLog - 860 txns loaded in 14 ms`,
  ];
  assert.deepEqual(findingsOf(stopping), []);
});

test('a digest mismatch while the follower runs, or after its CommitProcessor stopped, is reported', () => {
  assert.equal(findingsOf(MISMATCH).length, 1);
  const after = [
    `${PEER} INFO org.apache.zookeeper.server.quorum.CommitProcessor - Shutting down`,
    '[CommitProcessor:1] INFO org.apache.zookeeper.server.quorum.CommitProcessor - CommitProcessor exited loop!',
    ...MISMATCH,
  ];
  assert.match(findingsOf(after)[0] ?? '', /line 3: WARN server\.DataTree - Message:Digests are not matching/);
});
