/** zoo.cfg quorum: majority by default, hierarchical with group./weight. lines, errors as ZooKeeper refuses them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quorumVerifierFromProps, quorumVerifierText } from '../../src/server/quorum/quorumConfig.js';
import { parseZooCfg } from '../../src/server/config.js';
import { serverId } from '../../src/zab/index.js';

const ids = (...xs: number[]) => xs.map((x) => serverId(x));

test('no group lines: a majority of the participants; observers never count', () => {
  const q = quorumVerifierFromProps(new Map(), ids(1, 2, 3), ids(4), 'zoo.cfg');
  assert.ok(q.containsQuorum(new Set(ids(1, 2))));
  assert.ok(!q.containsQuorum(new Set(ids(1, 4))));
});

test('group./weight.: a majority of groups, each by weighted majority; weight 0 never counts', () => {
  const props = new Map([
    ['group.1', '1:2:3'],
    ['group.2', '4:5:6'],
    ['group.3', '7:8:9'],
    ['weight.3', '0'],
  ]);
  const q = quorumVerifierFromProps(props, ids(1, 2, 3, 4, 5, 6, 7, 8, 9), [], 'zoo.cfg');
  assert.ok(q.containsQuorum(new Set(ids(1, 2, 4, 5))), 'two groups by majority');
  assert.ok(!q.containsQuorum(new Set(ids(1, 2, 3, 4))), 'one group only');
  // Group 1 weights 1,1,0: {1,3} is weight 1 of 2, not a majority.
  assert.ok(!q.containsQuorum(new Set(ids(1, 3, 4, 5))));
});

test('a participant outside every group, a server in two groups, or weights without groups are errors', () => {
  assert.throws(() => quorumVerifierFromProps(new Map([['group.1', '1:2']]), ids(1, 2, 3), [], 'z'), /in no group/);
  assert.throws(
    () =>
      quorumVerifierFromProps(
        new Map([
          ['group.1', '1:2'],
          ['group.2', '2:3'],
        ]),
        ids(1, 2, 3),
        [],
        'z',
      ),
    /more than one group/,
  );
  assert.throws(() => quorumVerifierFromProps(new Map([['weight.1', '2']]), ids(1, 2, 3), [], 'z'), /need group/);
});

test("notification config: the server lines as ZooKeeper's QuorumVerifier.toString() writes them, version 0", () => {
  const cfg = parseZooCfg(
    [
      'tickTime=200',
      'dataDir=/tmp/x',
      'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181',
      'server.2=127.0.0.1:2889:3889;2182',
      'server.3=127.0.0.1:2890:3890:observer',
    ].join('\n'),
  );
  assert.equal(
    quorumVerifierText(cfg),
    [
      'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181',
      'server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182',
      'server.3=127.0.0.1:2890:3890:observer',
      'version=0',
    ].join('\n'),
  );
});
