import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hierarchicalQuorum, majorityQuorum } from '../../src/zab/quorum.js';
import { serverId } from '../../src/zab/types.js';

const s = (...n: number[]) => n.map((x) => serverId(x));

test('majority: more than half of the voters; observers and duplicates do not count', () => {
  const q = majorityQuorum(s(1, 2, 3, 4, 5), s(6));
  assert.ok(!q.containsQuorum(s(1, 2)));
  assert.ok(!q.containsQuorum(s(1, 2, 2, 6)));
  assert.ok(q.containsQuorum(s(1, 2, 5)));
  assert.ok(!q.isVoter(serverId(6)));
  const four = majorityQuorum(s(1, 2, 3, 4));
  assert.ok(!four.containsQuorum(s(1, 2)), 'half is not a majority');
});

test('hierarchical: a majority of groups, each by weight', () => {
  const q = hierarchicalQuorum([s(1, 2, 3), s(4, 5, 6), s(7, 8, 9)], new Map());
  assert.ok(q.containsQuorum(s(1, 2, 4, 5)), 'two groups of three, two each');
  assert.ok(!q.containsQuorum(s(1, 2, 3, 4)), 'one full group is not enough');
  const w = hierarchicalQuorum(
    [s(1, 2), s(3, 4), s(5)],
    new Map([
      [serverId(1), 3],
      [serverId(5), 0],
    ]),
  );
  assert.ok(w.containsQuorum(s(1, 3, 4)), 'server 1 alone carries its group; group 3 weighs nothing');
  assert.ok(!w.containsQuorum(s(2, 3, 4, 5)));
});
