import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZooKeeperClient } from '../../src/client/index.js';
import {
  COLLECTIONS_PER_QUIET_SPELL,
  QUIET_CHECKS_BETWEEN_COLLECTIONS,
  QUIET_LOOP_UTILIZATION,
  QUIET_REQUESTS_PER_S,
  QuietSpells,
  SLACK_MIN_BYTES,
  USED_MAX_BYTES,
  type QuietSample,
} from '../../src/server/heap.js';
import { startTszk } from '../support/tszk.js';
import { waitFor } from '../support/wait.js';

/** The fields of the server's 'V8 heap collected in a quiet spell' log line that the test reads. */
interface Collection {
  heapCommittedBefore_mib: number;
  heapCommitted_mib: number;
}

const quiet: QuietSample = { loopUtilization: 0.01, requestsPerS: 0, slackBytes: SLACK_MIN_BYTES, usedBytes: USED_MAX_BYTES };

/** Feeds `spells` quiet checks until it collects; returns how many checks that took (0 if it never did within `max`). */
function checksToCollection(spells: QuietSpells, sample: QuietSample, max = 10): number {
  for (let i = 1; i <= max; i++) if (spells.decide(sample)) return i;
  return 0;
}

test('quiet spells: a few collections per quiet spell, spaced, none while busy or with little slack', () => {
  const spells = new QuietSpells();
  assert.equal(checksToCollection(spells, { ...quiet, slackBytes: SLACK_MIN_BYTES - 1 }), 0, 'too little slack to be worth a pause');
  assert.equal(checksToCollection(spells, { ...quiet, usedBytes: USED_MAX_BYTES + 1 }), 0, 'a heap too big to mark without a long pause');
  assert.equal(spells.decide({ ...quiet, loopUtilization: QUIET_LOOP_UTILIZATION }), false, 'a busy event loop is not quiet');
  assert.equal(checksToCollection(spells, quiet), 1, 'the first quiet check of a spell collects');
  for (let i = 1; i < COLLECTIONS_PER_QUIET_SPELL; i++)
    assert.equal(checksToCollection(spells, quiet), QUIET_CHECKS_BETWEEN_COLLECTIONS, `collection ${i + 1}`);
  assert.equal(checksToCollection(spells, quiet, 20), 0, 'the spell has had its collections: an idle server is not collected forever');
  assert.equal(spells.decide({ ...quiet, requestsPerS: QUIET_REQUESTS_PER_S }), false, 'requests being served are not quiet');
  assert.equal(checksToCollection(spells, quiet), 1, 'a busy interval starts a new spell');
  assert.equal(spells.decide({ ...quiet, requestsPerS: -1 }), false, 'a counter reset counts as busy');
  assert.equal(checksToCollection(spells, quiet), 1);
});

test('a tszk server gives V8 heap back once a burst of writes is over', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-heap-'));
  const logFile = path.join(dir, 'server.log');
  const srv = await startTszk({ logFile, env: { TSZK_LOG_LEVEL: 'debug' } });
  try {
    const zk = await ZooKeeperClient.connect(srv.connectString, { sessionTimeout_ms: 10_000 });
    // Enough garbage from request packets to grow the young generation well past the slack bound.
    const data = Buffer.alloc(4096, 7);
    await zk.create('/burst', null);
    for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 1000 }, (_, i) => zk.create(`/burst/n${round}-${i}`, data)));
    const collections = (): Collection[] =>
      fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('V8 heap collected in a quiet spell'))
        .map((l) => JSON.parse(l) as Collection);
    // The first collection frees the burst's garbage; V8 gives the space back in the next (see QuietSpells).
    await waitFor(
      'a collection in a quiet spell that gave back 8 MiB or more',
      async () => collections().find((c) => c.heapCommittedBefore_mib - c.heapCommitted_mib >= 8),
      30_000,
    ).catch((e: unknown) => assert.fail(`${String(e)}; collections logged: ${JSON.stringify(collections())}`));
    t.diagnostic(`collections: ${JSON.stringify(collections().map((c) => [c.heapCommittedBefore_mib, c.heapCommitted_mib]))}`);
    assert.equal((await zk.getChildren('/burst')).length, 20_000, 'the tree is whole after the collection');
    await zk.close();
  } finally {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
