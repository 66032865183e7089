/**
 * The quorum runtime's stream decoder (src/server/quorum/packetStream.ts) fed with the bytes a real
 * ZooKeeper 3.8 leader and its learners sent (test/fixtures/quorum/zk38), split at every kind of
 * chunk boundary: it yields the same messages src/zab decodes from whole packets, and a SNAP whose
 * rebuilt snapshot src/storage parses. Forwarded-request decoding of ZooKeeper REQUEST data is a
 * `todo` until the runtime reads ZooKeeper's layout.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/target.js';
import { test } from 'node:test';
import { QuorumPacketDecoder } from '../../src/server/quorum/packetStream.js';
import { decodeForwardedWrite } from '../../src/server/quorum/forwardedRequest.js';
import { parseSnapshot } from '../../src/storage/snapshot.js';
import { PacketType, decodeQuorumMessage, type QuorumMessage } from '../../src/zab/packets.js';
import { splitQuorumStream } from './streams.js';

// The fixtures stay in the source tree; compiled tests in dist/ read them from there too.
const dir = path.join(repoRoot, 'test/fixtures/quorum/zk38');
const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { connections: { name: string; port: string }[] };
const streams = index.connections
  .filter((c) => c.port === 'quorum')
  .flatMap((c) => (['up', 'down'] as const).map((d) => ({ name: `${c.name}.${d}`, bytes: fs.readFileSync(path.join(dir, `${c.name}.${d}.bin`)) })));

/** Deterministic chunk sizes (1 byte up to a few KB) so every boundary position gets exercised. */
function* chunks(buf: Buffer, seed: number): Generator<Buffer> {
  let x = seed;
  for (let off = 0; off < buf.length;) {
    x = (x * 1103515245 + 12345) >>> 0;
    const n = 1 + (x % (x & 1 ? 7 : 3000));
    yield buf.subarray(off, off + n);
    off += n;
  }
}

test('runtime decoder: ZooKeeper streams in any chunking give src/zab messages; SNAP becomes a parseable snapshot', () => {
  let snaps = 0;
  for (const s of streams) {
    const expected: QuorumMessage[] = splitQuorumStream(s.bytes).items.flatMap((i) => (i.kind === 'packet' ? [decodeQuorumMessage(i.bytes)] : []));
    for (const seed of [1, 7, 42]) {
      const got: QuorumMessage[] = [];
      const dec = new QuorumPacketDecoder();
      for (const c of chunks(s.bytes, seed)) dec.push(Buffer.from(c), (m) => got.push(m));
      assert.equal(got.length, expected.length, `${s.name} seed ${seed}`);
      for (let i = 0; i < got.length; i++) {
        const g = got[i]!;
        const e = expected[i]!;
        if (g.type === 'SNAP' && e.type === 'SNAP') {
          assert.equal(g.zxid, e.zxid);
          const snap = parseSnapshot(g.data, `<${s.name}>`, g.zxid);
          assert.ok(snap.nodes.some((n) => n.path === '/zookeeper'));
          if (seed === 1) snaps++;
        } else {
          assert.deepEqual(g, e, `${s.name} seed ${seed} message ${i}`);
        }
      }
    }
  }
  assert.ok(snaps >= 2);
});

test('runtime: ZooKeeper REQUEST data (sessionId|cxid|type|request) decodes as a forwarded write', () => {
  let n = 0;
  for (const s of streams.filter((x) => x.name.endsWith('.up'))) {
    for (const i of splitQuorumStream(s.bytes).items) {
      if (i.kind !== 'packet' || i.packet.type !== PacketType.REQUEST) continue;
      const data = i.packet.data!;
      const w = decodeForwardedWrite(data, i.packet.authinfo);
      assert.equal(w.sessionId, data.readBigInt64BE(0));
      assert.equal(w.cxid, data.readInt32BE(8));
      assert.equal(w.type, data.readInt32BE(12));
      assert.deepEqual(Buffer.from(w.body), data.subarray(16), `${s.name}: body`);
      assert.deepEqual(w.authInfo, i.packet.authinfo);
      n++;
    }
  }
  assert.ok(n > 0);
});
