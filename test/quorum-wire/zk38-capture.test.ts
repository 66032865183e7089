/**
 * Wire facts checked against bytes captured from a real Apache ZooKeeper 3.8 ensemble
 * (3 participants + 1 observer; test/quorum-wire/capture.ts made test/fixtures/quorum/zk38):
 * every election and quorum stream is split with ZooKeeper's framing, decoded with src/zab's
 * decoders, checked field by field for what ZooKeeper meant, and re-encoded to identical bytes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/target.js';
import { test } from 'node:test';
import { JuteReader, JuteWriter } from '../../src/jute/index.js';
import { Id } from '../../src/proto/records.js';
import { OpCode } from '../../src/proto/opcodes.js';
import { TxnHeader } from '../../src/txn/records.js';
import { adler32 } from '../../src/storage/adler32.js';
import { FILE_FORMAT_VERSION, FileHeader, SNAP_DBID, SNAP_MAGIC } from '../../src/storage/fileHeader.js';
import { parseSnapshot, type LoadedSnapshot } from '../../src/storage/snapshot.js';
import {
  LearnerInfo,
  NotificationWire,
  PacketType,
  PROTOCOL_VERSION,
  NOTIFICATION_VERSION,
  decodeNotification,
  decodeQuorumMessage,
  encodeNotification,
  encodeQuorumMessage,
  type QuorumPacket,
} from '../../src/zab/packets.js';
import { PROTOCOL_VERSION_V1, splitElectionStream, splitQuorumStream, type QuorumItem, type SnapshotBody } from './streams.js';

// The fixtures stay in the source tree; compiled tests in dist/ read them from there too.
const dir = path.join(repoRoot, 'test/fixtures/quorum/zk38');

interface PeerInfo {
  sid: number;
  observer: boolean;
  quorumPort: number;
  electionPort: number;
  quorumProxyPort: number;
  electionProxyPort: number;
}
interface ConnInfo {
  name: string;
  port: 'quorum' | 'election';
  targetSid: number;
}
const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { peers: PeerInfo[]; connections: ConnInfo[] };
const peerBySid = new Map(index.peers.map((p) => [p.sid, p]));
const read = (c: ConnInfo, d: 'up' | 'down'): Buffer => fs.readFileSync(path.join(dir, `${c.name}.${d}.bin`));
const elections = index.connections.filter((c) => c.port === 'election');
const quorums = index.connections.filter((c) => c.port === 'quorum');

const E = (z: bigint): bigint => z >> 32n;
const C = (z: bigint): bigint => z & 0xffffffffn;
const packets = (items: QuorumItem[]): QuorumPacket[] => items.flatMap((i) => (i.kind === 'packet' ? [i.packet] : []));

/** The QuorumVerifier text a peer sends (in notifications and NEWLEADER), as it sees the ensemble. */
function expectedConfig(sender: number): string {
  const lines = index.peers.map((p) => {
    const own = p.sid === sender;
    return `server.${p.sid}=127.0.0.1:${own ? p.quorumPort : p.quorumProxyPort}:${own ? p.electionPort : p.electionProxyPort}:${p.observer ? 'observer' : 'participant'}`;
  });
  return lines.join('\n') + '\nversion=0';
}

// --- election port ---------------------------------------------------------------------------

test('fixtures: captured streams are present for both ports', () => {
  assert.ok(elections.length >= 5, `election connections: ${elections.length}`);
  assert.ok(quorums.length >= 5, `quorum connections: ${quorums.length}`);
});

test('election: the connecting side opens with the initial message (V1, its sid, its election address)', () => {
  for (const c of elections) {
    const up = splitElectionStream(read(c, 'up'), true);
    const init = up.initial;
    assert.ok(init, c.name);
    assert.equal(init.protocolVersion, PROTOCOL_VERSION_V1, c.name);
    const sender = peerBySid.get(Number(init.sid));
    assert.ok(sender, `${c.name}: sid ${init.sid}`);
    assert.notEqual(sender.sid, c.targetSid);
    // The address is the sender's own election address from its server.N line.
    assert.equal(init.address, `127.0.0.1:${sender.electionPort}`, c.name);
    // Byte layout: long version, long sid, int length, UTF-8 "host:port".
    const w = new JuteWriter();
    w.long(PROTOCOL_VERSION_V1);
    w.long(init.sid);
    w.int(Buffer.byteLength(init.address));
    const expected = Buffer.concat([w.bytes(), Buffer.from(init.address, 'utf8')]);
    assert.deepEqual(init.bytes, expected, c.name);
  }
});

test('election: only a connection from the higher sid survives (the lower one is dropped at once)', () => {
  let kept = 0;
  let dropped = 0;
  for (const c of elections) {
    const up = splitElectionStream(read(c, 'up'), true);
    const down = read(c, 'down');
    const from = Number(up.initial!.sid);
    if (from < c.targetSid) {
      dropped++;
      assert.equal(up.frames.length, 0, `${c.name}: lower sid ${from} sent notifications`);
      assert.equal(down.length, 0, `${c.name}: higher sid ${c.targetSid} answered on a connection it should drop`);
    } else {
      kept++;
    }
  }
  assert.ok(kept > 0 && dropped > 0, `kept ${kept}, dropped ${dropped}`);
});

test('election: notifications decode (version 2, the sender QV text) and re-encode to the same bytes', () => {
  let n = 0;
  for (const c of elections) {
    for (const d of ['up', 'down'] as const) {
      const s = splitElectionStream(read(c, d), d === 'up');
      assert.equal(s.rest.length, 0, `${c.name}.${d}: partial frame`);
      const sender = d === 'up' ? Number(s.initial!.sid) : c.targetSid;
      for (const f of s.frames) {
        const w = NotificationWire.decode(f);
        assert.equal(w.version, NOTIFICATION_VERSION);
        assert.equal(w.config!.toString('utf8'), expectedConfig(sender), `${c.name}.${d}`);
        assert.equal(f.length, 44 + w.config!.length);
        const note = decodeNotification(f);
        // electionEpoch (logicalclock) may be 0: a peer answers before its first election round.
        assert.ok(note.electionEpoch >= 0n);
        if (note.state === 'LEADING') assert.equal(Number(note.leader), sender, 'a LEADING peer votes for itself');
        assert.deepEqual(encodeNotification(note, w.config!), f, `${c.name}.${d}: re-encoded notification differs`);
        n++;
      }
    }
  }
  assert.ok(n >= 20, `notifications checked: ${n}`);
});

test('election: an observer looks with LOOKING notifications, first voting (MIN, MIN, MIN); nobody votes for it', () => {
  const observer = index.peers.find((p) => p.observer)!;
  const LONG_MIN = -(2n ** 63n);
  let seen = 0;
  for (const c of elections) {
    for (const d of ['up', 'down'] as const) {
      const s = splitElectionStream(read(c, d), d === 'up');
      const sender = d === 'up' ? Number(s.initial!.sid) : c.targetSid;
      for (const f of s.frames) {
        const note = decodeNotification(f);
        assert.notEqual(Number(note.leader), observer.sid);
        if (sender === observer.sid && note.leader === LONG_MIN) {
          // Observer.observeLeader -> lookForLeader proposes Long.MIN_VALUE for leader, zxid and epoch.
          assert.deepEqual([note.state, note.zxid, note.peerEpoch], ['LOOKING', LONG_MIN, LONG_MIN]);
          seen++;
        }
        if (sender === observer.sid) assert.ok(note.state === 'LOOKING' || note.state === 'OBSERVING', note.state);
      }
    }
  }
  assert.ok(seen > 0, 'no initial observer vote captured');
});

// --- quorum port -----------------------------------------------------------------------------

interface Session {
  name: string;
  learner: number;
  observer: boolean;
  up: QuorumItem[];
  down: QuorumItem[];
}
const sessions: Session[] = quorums.map((c) => {
  const up = splitQuorumStream(read(c, 'up'));
  const down = splitQuorumStream(read(c, 'down'));
  assert.equal(up.rest.length, 0, `${c.name}.up: ${up.rest.length} trailing bytes`);
  assert.equal(down.rest.length, 0, `${c.name}.down: ${down.rest.length} trailing bytes`);
  const first = packets(up.items)[0]!;
  const info = LearnerInfo.decode(first.data!);
  return { name: c.name, learner: Number(info.serverid), observer: first.type === PacketType.OBSERVERINFO, up: up.items, down: down.items };
});
/** Learner sessions that got past the handshake (a learner may connect to a peer that is not leading yet). */
const synced = sessions.filter((s) => packets(s.down.slice(0, 1)).some((p) => p.type === PacketType.LEADERINFO));

test('quorum: every captured packet re-encodes to the same bytes through src/zab', () => {
  const types = new Set<number>();
  for (const s of sessions) {
    for (const i of [...s.up, ...s.down]) {
      if (i.kind !== 'packet') continue;
      types.add(i.packet.type);
      assert.deepEqual(encodeQuorumMessage(decodeQuorumMessage(i.bytes)), i.bytes, `${s.name}: packet type ${i.packet.type}`);
    }
  }
  const want = [
    'REQUEST',
    'PROPOSAL',
    'ACK',
    'COMMIT',
    'PING',
    'REVALIDATE',
    'SYNC',
    'INFORM',
    'NEWLEADER',
    'FOLLOWERINFO',
    'UPTODATE',
    'DIFF',
    'TRUNC',
    'SNAP',
    'OBSERVERINFO',
    'LEADERINFO',
    'ACKEPOCH',
  ] as const;
  for (const t of want) assert.ok(types.has(PacketType[t]), `no ${t} captured`);
});

test('quorum: authinfo is null (-1) on every packet but REQUEST', () => {
  for (const s of sessions) {
    for (const i of [...s.up, ...s.down]) {
      if (i.kind !== 'packet' || i.packet.type === PacketType.REQUEST) continue;
      assert.equal(i.bytes.readInt32BE(i.bytes.length - 4), -1, `${s.name}: type ${i.packet.type}`);
    }
  }
});

test('discovery: FOLLOWERINFO/OBSERVERINFO, LEADERINFO, ACKEPOCH as ZooKeeper means them', () => {
  assert.ok(synced.length >= 5);
  for (const s of sessions) {
    const [info] = packets(s.up);
    assert.ok(info!.type === PacketType.FOLLOWERINFO || info!.type === PacketType.OBSERVERINFO);
    assert.equal(s.observer, peerBySid.get(s.learner)!.observer, `${s.name}: OBSERVERINFO iff observer`);
    assert.equal(C(info!.zxid), 0n, 'FOLLOWERINFO zxid = acceptedEpoch << 32');
    assert.deepEqual(LearnerInfo.decode(info!.data!), { serverid: BigInt(s.learner), protocolVersion: PROTOCOL_VERSION, configVersion: 0n });
    assert.equal(info!.data!.length, 20);
  }
  for (const s of synced) {
    const [info, ackEpoch] = packets(s.up);
    const [leaderInfo] = packets(s.down);
    assert.equal(leaderInfo!.type, PacketType.LEADERINFO);
    assert.equal(C(leaderInfo!.zxid), 0n, 'LEADERINFO zxid = newEpoch << 32');
    assert.ok(E(leaderInfo!.zxid) >= E(info!.zxid), 'new epoch >= the accepted epoch');
    assert.equal(leaderInfo!.data!.toString('hex'), '00010000', 'LEADERINFO data = protocol version 0x10000');
    assert.equal(ackEpoch!.type, PacketType.ACKEPOCH);
    assert.equal(ackEpoch!.data!.length, 4);
    const currentEpoch = ackEpoch!.data!.readInt32BE(0);
    // currentEpoch, or -1 when the learner had already accepted this very epoch.
    assert.ok(
      currentEpoch === -1 || (BigInt(currentEpoch) < E(leaderInfo!.zxid) && BigInt(currentEpoch) >= E(ackEpoch!.zxid)),
      `${s.name}: ACKEPOCH epoch ${currentEpoch}`,
    );
    const m = decodeQuorumMessage(
      encodeQuorumMessage(decodeQuorumMessage(s.up.find((i) => i.kind === 'packet' && i.packet.type === PacketType.ACKEPOCH)!.bytes)),
    );
    assert.equal(m.type, 'ACKEPOCH');
  }
});

/** Leader->learner packets from the sync decision up to UPTODATE, and what came after. */
function phases(s: Session): {
  mode: QuorumPacket;
  sync: QuorumItem[];
  newLeader: QuorumPacket;
  after: QuorumPacket[];
  leaderInfo: QuorumPacket;
  ackEpoch: QuorumPacket;
} {
  const items = s.down;
  const leaderInfo = packets(items)[0]!;
  const ackEpoch = packets(s.up)[1]!;
  const mode = (items[1] as { packet: QuorumPacket }).packet;
  const nl = items.findIndex((i) => i.kind === 'packet' && i.packet.type === PacketType.NEWLEADER);
  assert.ok(nl > 1, `${s.name}: no NEWLEADER`);
  return {
    mode,
    sync: items.slice(2, nl),
    newLeader: (items[nl] as { packet: QuorumPacket }).packet,
    after: packets(items.slice(nl + 1)),
    leaderInfo,
    ackEpoch,
  };
}

test('sync: DIFF, TRUNC and SNAP, then NEWLEADER (QV text) and UPTODATE (zxid -1, null data)', () => {
  const modes = new Set<number>();
  for (const s of synced) {
    const { mode, sync, newLeader, after, leaderInfo, ackEpoch } = phases(s);
    modes.add(mode.type);
    const peerLast = ackEpoch.zxid;
    assert.equal(mode.data, null);
    if (mode.type === PacketType.DIFF) {
      // DIFF zxid: the peer's own last zxid when nothing is missing, else the leader's last committed.
      const ps = packets(sync);
      if (ps.length === 0) assert.ok(mode.zxid === peerLast || mode.zxid === 0n, `${s.name}: empty DIFF zxid`);
      const want = s.observer ? [PacketType.INFORM] : [PacketType.PROPOSAL, PacketType.COMMIT];
      for (let i = 0; i < ps.length; i += want.length) {
        for (let k = 0; k < want.length; k++) assert.equal(ps[i + k]!.type, want[k], `${s.name}: sync packet ${i + k}`);
        assert.ok(ps[i]!.zxid > peerLast && ps[i]!.zxid <= mode.zxid, `${s.name}: DIFF txn outside (peerLast, DIFF zxid]`);
        if (!s.observer) assert.equal(ps[i + 1]!.zxid, ps[i]!.zxid);
      }
    } else if (mode.type === PacketType.TRUNC) {
      assert.ok(mode.zxid < peerLast, 'TRUNC below the learner zxid');
      assert.equal(E(mode.zxid), E(peerLast), 'TRUNC within the orphan epoch');
    } else {
      assert.equal(mode.type, PacketType.SNAP);
      assert.equal(sync[0]!.kind, 'snapshot');
      assert.equal((sync[0] as { body: SnapshotBody }).body.signature, 'BenWasHere');
    }
    assert.equal(newLeader.zxid, leaderInfo.zxid, 'NEWLEADER zxid = newEpoch << 32');
    const leaderSid = Number(index.connections.find((c) => c.name === s.name)!.targetSid);
    assert.equal(newLeader.data!.toString('utf8'), expectedConfig(leaderSid));
    const upToDate = after.find((p) => p.type === PacketType.UPTODATE);
    assert.ok(upToDate, `${s.name}: no UPTODATE`);
    assert.equal(upToDate.zxid, -1n);
    assert.equal(upToDate.data, null);
    // The learner ACKs NEWLEADER, then ACKs UPTODATE, both with zxid newEpoch << 32.
    const ups = packets(s.up);
    assert.deepEqual([ups[2]!.type, ups[2]!.zxid, ups[2]!.data], [PacketType.ACK, newLeader.zxid, null]);
    assert.deepEqual([ups[3]!.type, ups[3]!.zxid, ups[3]!.data], [PacketType.ACK, newLeader.zxid, null]);
  }
  assert.deepEqual([...modes].sort(), [PacketType.DIFF, PacketType.TRUNC, PacketType.SNAP].sort());
});

function txnHeaderOf(data: Buffer): TxnHeader {
  return TxnHeader.read(new JuteReader(data));
}

test('broadcast: PROPOSAL/INFORM carry TxnHeader (zxid = packet zxid) + txn; COMMITs in order; followers ACK each proposal, observers never', () => {
  let closeSessions = 0;
  for (const s of synced) {
    const { after } = phases(s);
    const acks = new Set(
      packets(s.up)
        .filter((p) => p.type === PacketType.ACK)
        .map((p) => p.zxid),
    );
    let lastCommit = -1n;
    for (const p of after) {
      if (p.type === PacketType.PROPOSAL || p.type === PacketType.INFORM) {
        assert.equal(s.observer, p.type === PacketType.INFORM, `${s.name}: ${p.type} to ${s.observer ? 'observer' : 'follower'}`);
        const h = txnHeaderOf(p.data!);
        assert.equal(h.zxid, p.zxid);
        if (h.type === OpCode.closeSession) closeSessions++;
        if (p.type === PacketType.PROPOSAL && s.up.length > 0) {
          // The stream may end (kill) before the ACK; otherwise every proposal is ACKed.
          const last = packets(s.up).at(-1)!;
          if (last.zxid >= p.zxid || acks.has(p.zxid)) assert.ok(acks.has(p.zxid), `${s.name}: PROPOSAL ${p.zxid.toString(16)} not ACKed`);
        }
      }
      if (p.type === PacketType.COMMIT) {
        assert.ok(p.zxid > lastCommit, 'COMMITs strictly increasing');
        lastCommit = p.zxid;
      }
    }
    if (s.observer)
      assert.equal(
        packets(s.up)
          .slice(4)
          .filter((p) => p.type === PacketType.ACK).length,
        0,
        'observer ACKed an INFORM',
      );
  }
  assert.ok(closeSessions >= 1, 'no closeSession txn (session expiry) captured');
});

test('PING: leader sends last proposed zxid with null data; the learner echoes the zxid with (sessionId, timeout)*', () => {
  let replies = 0;
  for (const s of synced) {
    const sent = new Set(
      phases(s)
        .after.filter((p) => p.type === PacketType.PING)
        .map((p) => p.zxid),
    );
    for (const p of phases(s).after.filter((q) => q.type === PacketType.PING)) assert.equal(p.data, null);
    for (const p of packets(s.up).filter((q) => q.type === PacketType.PING)) {
      assert.ok(sent.has(p.zxid), `${s.name}: PING reply with a zxid the leader did not send`);
      assert.ok(p.data !== null && p.data.length % 12 === 0, `${s.name}: PING reply data ${p.data?.length}`);
      for (let off = 0; off < p.data.length; off += 12) assert.ok(p.data.readInt32BE(off + 8) > 0, 'session timeout');
      replies++;
    }
  }
  assert.ok(replies > 0);
});

test('REQUEST: zxid -1, data = sessionId, cxid, type, request; client auth ids in authinfo; sync by OpCode.sync', () => {
  const types = new Set<number>();
  let withAuth = 0;
  for (const s of synced) {
    for (const i of s.up) {
      if (i.kind !== 'packet' || i.packet.type !== PacketType.REQUEST) continue;
      const p = i.packet;
      assert.equal(p.zxid, -1n);
      const type = p.data!.readInt32BE(12);
      types.add(type);
      const m = decodeQuorumMessage(i.bytes);
      assert.equal(m.type, 'REQUEST');
      assert.equal(m.type === 'REQUEST' && m.sync, type === OpCode.sync, `type ${type}`);
      if (type === OpCode.createSession) {
        // createSession: the timeout follows the header; no auth yet (null authinfo).
        assert.equal(p.data!.length, 20);
        assert.deepEqual(p.authinfo, []);
      } else if (p.authinfo.length > 0) {
        withAuth++;
        assert.deepEqual(p.authinfo, [{ scheme: 'ip', id: '127.0.0.1' }]);
        assert.ok(m.type === 'REQUEST' && m.authinfo !== undefined && Id.encode(m.authinfo[0]!).length > 0);
      }
    }
  }
  for (const t of [OpCode.createSession, OpCode.create, OpCode.sync, OpCode.multi, OpCode.closeSession]) assert.ok(types.has(t), `no forwarded opcode ${t}`);
  assert.ok(withAuth > 0);
});

test('SYNC and REVALIDATE as ZooKeeper sends them', () => {
  let syncs = 0;
  let revalidates = 0;
  for (const s of synced) {
    for (const p of phases(s).after) {
      if (p.type === PacketType.SYNC) {
        assert.deepEqual([p.zxid, p.data], [0n, null]);
        syncs++;
      }
      if (p.type === PacketType.REVALIDATE) {
        // Leader answer: long sessionId, boolean valid; zxid -1.
        assert.equal(p.zxid, -1n);
        assert.equal(p.data!.length, 9);
        assert.equal(p.data![8], 1);
        const ask = packets(s.up).find((q) => q.type === PacketType.REVALIDATE);
        assert.ok(ask, 'answer without a question');
        assert.equal(ask.zxid, -1n);
        assert.equal(ask.data!.length, 12, 'learner asks with long sessionId, int timeout');
        assert.equal(ask.data!.readBigInt64BE(0), p.data!.readBigInt64BE(0));
        revalidates++;
      }
    }
  }
  assert.ok(syncs >= 2 && revalidates >= 1, `syncs ${syncs}, revalidates ${revalidates}`);
});

// --- SNAP payload ----------------------------------------------------------------------------

/** A snapshot file around a streamed body (header + body + seal), for storage's parser. */
function asSnapshotFile(body: Buffer): Buffer {
  const w = new JuteWriter();
  FileHeader.write(w, { magic: SNAP_MAGIC, version: FILE_FORMAT_VERSION, dbid: SNAP_DBID });
  const head = Buffer.concat([w.bytes(), body]);
  const seal = new JuteWriter();
  seal.long(adler32(head));
  seal.ustring('/');
  return Buffer.concat([head, seal.bytes()]);
}

test('SNAP: the streamed body is a snapshot body without digest, parses with src/storage, equals what the learner wrote', () => {
  let compared = 0;
  let snaps = 0;
  for (const s of synced) {
    const { mode, sync } = phases(s);
    if (mode.type !== PacketType.SNAP) continue;
    snaps++;
    const body = (sync[0] as { body: SnapshotBody }).body;
    const streamed = parseSnapshot(asSnapshotFile(body.bytes), `<SNAP ${s.name}>`, mode.zxid);
    assert.equal(streamed.digest, null, 'ZooKeeper streams no digest section');
    assert.equal(streamed.nodes.length, body.nodeCount);
    assert.deepEqual([...streamed.sessions.keys()].sort(), [...body.sessions.keys()].sort());
    assert.equal(streamed.nodes[0]!.path, '');
    assert.ok(streamed.nodes.some((n) => n.path === '/zookeeper'));
    // The learner writes a snapshot named by the SNAP zxid right at NEWLEADER.
    const file = path.join(dir, `peer${s.learner}-snapshot.${mode.zxid.toString(16)}`);
    if (!fs.existsSync(file)) continue;
    const written: LoadedSnapshot = parseSnapshot(fs.readFileSync(file), file, mode.zxid);
    // /zookeeper/config holds each peer's own view of the ensemble (here its proxy ports differ).
    const key = (l: LoadedSnapshot): string[] =>
      l.nodes
        .filter((n) => n.path !== '/zookeeper/config')
        .map((n) => `${n.path}|${n.data?.toString('hex')}|${n.stat.mzxid}|${n.stat.version}|${n.stat.cversion}|${n.stat.pzxid}|${n.stat.ephemeralOwner}`)
        .sort();
    assert.deepEqual(key(streamed), key(written), `${s.name}: streamed tree differs from the learner's snapshot`);
    assert.deepEqual([...streamed.sessions].sort(), [...written.sessions].sort());
    // A learner synced by SNAP knows no digest for that tree (none is streamed): ZooKeeper writes
    // the digest section as zxid 0, digest 0 in the snapshot it takes at NEWLEADER.
    assert.deepEqual(written.digest, { zxid: 0n, digestVersion: 2, digest: 0n });
    compared++;
  }
  assert.ok(snaps >= 2, `SNAP syncs captured: ${snaps}`);
  assert.ok(compared >= 1, 'no learner snapshot to compare with');
});
