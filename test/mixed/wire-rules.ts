/**
 * Checks the bytes a tszk peer sent in a mixed ensemble against what Apache ZooKeeper 3.8 sends in
 * the same place (facts established from captures, test/quorum-wire/zk38-capture.test.ts).
 * Returns two lists of findings: `strict` (rules tszk follows today; a finding is a regression)
 * and `known` (documented gaps, reported until fixed).
 */
import { joined } from '../support/tcp-proxy.js';
import type { ZkEnsemble } from '../support/zk-ensemble.js';
import {
  LearnerInfo,
  NotificationWire,
  PacketType,
  PROTOCOL_VERSION,
  decodeNotification,
  decodeQuorumMessage,
  encodeQuorumMessage,
} from '../../src/zab/packets.js';
import { PROTOCOL_VERSION_V1, splitElectionStream, splitQuorumStream } from '../quorum-wire/streams.js';

export interface WireFindings {
  strict: string[];
  known: string[];
  checked: { notifications: number; packets: number };
}

export function checkTszkWire(ens: ZkEnsemble): WireFindings {
  const kind = (sid: number): string => ens.peers.find((p) => p.sid === sid)?.kind ?? '?';
  const strict = new Set<string>();
  const known = new Set<string>();
  let notifications = 0;
  let packetCount = 0;
  for (const c of ens.connections()) {
    const up = joined(c.toServer);
    const down = joined(c.toClient);
    if (c.port === 'election') {
      const u = splitElectionStream(up, true);
      if (!u.initial) continue;
      const from = Number(u.initial.sid);
      const d = splitElectionStream(down, false);
      const sent: [number, Buffer[]][] = [
        [from, u.frames],
        [c.targetSid, d.frames],
      ];
      if (kind(from) === 'tszk' && u.initial.protocolVersion !== PROTOCOL_VERSION_V1)
        strict.add(`initial message protocol version ${u.initial.protocolVersion}`);
      for (const [sender, frames] of sent) {
        if (kind(sender) !== 'tszk') continue;
        for (const f of frames) {
          notifications++;
          const w = NotificationWire.decode(f);
          decodeNotification(f);
          if (w.version !== 2) strict.add(`notification version ${w.version}`);
          if (w.config === null || w.config.length === 0)
            known.add('notification config is empty (ZooKeeper sends its QuorumVerifier text: server.N=host:q:e:participant lines + version=N)');
        }
      }
      continue;
    }
    const leaderKind = kind(c.targetSid);
    const u = splitQuorumStream(up);
    const d = splitQuorumStream(down);
    const first = u.items[0];
    const learnerSid = first?.kind === 'packet' && first.packet.data ? Number(LearnerInfo.decode(first.packet.data).serverid) : -1;
    const learnerKind = kind(learnerSid);
    const proposed = new Set<bigint>();
    for (const [side, items, who] of [
      ['learner', u.items, learnerKind],
      ['leader', d.items, leaderKind],
    ] as const) {
      if (who !== 'tszk') continue;
      for (const i of items) {
        if (i.kind !== 'packet') continue;
        packetCount++;
        const p = i.packet;
        const where = `${side} ${p.type}`;
        if (p.type !== PacketType.REQUEST && i.bytes.readInt32BE(i.bytes.length - 4) !== -1) strict.add(`${where}: authinfo not null`);
        if (!encodeQuorumMessage(decodeQuorumMessage(i.bytes)).equals(i.bytes)) strict.add(`${where}: does not re-encode to the same bytes`);
        if (p.type === PacketType.FOLLOWERINFO || p.type === PacketType.OBSERVERINFO) {
          const li = LearnerInfo.decode(p.data!);
          if (li.protocolVersion !== PROTOCOL_VERSION || p.data!.length !== 20 || (p.zxid & 0xffffffffn) !== 0n) strict.add(`${where}: LearnerInfo/zxid`);
        }
        if (p.type === PacketType.LEADERINFO && (p.data?.toString('hex') !== '00010000' || (p.zxid & 0xffffffffn) !== 0n)) strict.add(`${where}: LEADERINFO`);
        if (p.type === PacketType.ACKEPOCH && p.data?.length !== 4) strict.add(`${where}: ACKEPOCH data`);
        // ZooKeeper sends zxid -1 and its learners ignore it; tszk's leader puts the sync's commit point there.
        if (p.type === PacketType.UPTODATE && (p.zxid < -1n || p.data !== null)) strict.add(`${where}: UPTODATE`);
        if (p.type === PacketType.COMMIT && side === 'leader' && !proposed.has(p.zxid))
          strict.add(`${where}: COMMIT 0x${p.zxid.toString(16)} without its PROPOSAL on this connection`);
        if (p.type === PacketType.PROPOSAL && side === 'leader') proposed.add(p.zxid);
        if (p.type === PacketType.NEWLEADER && (p.data === null || p.data.length === 0))
          known.add('NEWLEADER without the QuorumVerifier text (ZooKeeper learners accept null)');
        // A null reply: a ZooKeeper leader NPEs (LearnerHandler.java:685) and drops the learner.
        if (p.type === PacketType.PING && side === 'learner' && p.data === null) strict.add(`${where}: learner PING reply with null data`);
        if (p.type === PacketType.PING && side === 'leader' && p.data !== null) strict.add(`${where}: leader PING data not null`);
        if (p.type === PacketType.REQUEST) {
          const data = p.data ?? Buffer.alloc(0);
          if (p.zxid !== -1n) strict.add(`${where}: REQUEST zxid ${p.zxid}`);
          // ZooKeeper's leader reads sessionId/cxid/type (BufferUnderflowException if shorter) and
          // checks ACLs against authinfo (NPE on null; only createSession is sent without).
          if (data.length < 16) strict.add(`${where}: REQUEST with ${data.length} data bytes`);
          else if (p.authinfo.length === 0 && data.readInt32BE(12) !== -10) strict.add(`${where}: REQUEST type ${data.readInt32BE(12)} without authinfo`);
        }
        if ((p.type === PacketType.PROPOSAL || p.type === PacketType.INFORM) && p.data !== null && leaderKind === 'tszk' && !hasTxnDigest(p.data))
          strict.add(`${where} 0x${p.zxid.toString(16)} without TxnDigest (ZooKeeper 3.8 appends version + tree digest, which its followers check)`);
      }
    }
  }
  return { strict: [...strict], known: [...known], checked: { notifications, packets: packetCount } };
}

/** A TxnDigest (int version 2, long digest) closes ZooKeeper 3.8 txn payloads; detect it by the version int. */
function hasTxnDigest(data: Buffer): boolean {
  return data.length >= 40 && data.readInt32BE(data.length - 12) === 2;
}
