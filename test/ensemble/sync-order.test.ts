import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syncBehindProposals } from '../../src/server/quorum/syncOrder.js';
import type { Event } from '../../src/zab/state.js';
import type { Zxid } from '../../src/zab/types.js';

const propose = (n: number): Event => ({ type: 'propose', data: Buffer.from([n]) });
const label = (e: Event): string => (e.type === 'propose' ? `P${e.data[0]}` : e.type);

test("a learner's sync goes behind every prepared proposal, which keep their zxid order", () => {
  const sync: Event = { type: 'sync', data: Buffer.alloc(0), authinfo: [] };
  // The leader was busy (writing a SNAP) while events piled up: a tick, then proposal 64 (its
  // pipeline's batch, flushed after the sync arrived), then the caller's own flush of 65 and 66.
  const queue: Event[] = [{ type: 'tick' }, propose(64), { type: 'logDurable', zxid: 1n as Zxid }, propose(65), propose(66)];
  syncBehindProposals(queue, sync);
  assert.deepEqual(queue.map(label), ['P64', 'P65', 'P66', 'sync', 'tick', 'logDurable']);
});

test('with nothing prepared the sync goes first and the rest keeps its order', () => {
  const sync: Event = { type: 'sync', data: Buffer.alloc(0), authinfo: [] };
  const queue: Event[] = [{ type: 'tick' }, { type: 'logDurable', zxid: 1n as Zxid }];
  syncBehindProposals(queue, sync);
  assert.deepEqual(queue.map(label), ['sync', 'tick', 'logDurable']);
});
