/** zoo.cfg quorum: majority by default, hierarchical with group./weight. lines, errors as ZooKeeper refuses them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quorumVerifierFromProps } from '../../src/server/quorum/quorumConfig.js';
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
  assert.throws(() => quorumVerifierFromProps(new Map([['group.1', '1:2'], ['group.2', '2:3']]), ids(1, 2, 3), [], 'z'), /more than one group/);
  assert.throws(() => quorumVerifierFromProps(new Map([['weight.1', '2']]), ids(1, 2, 3), [], 'z'), /need group/);
});
