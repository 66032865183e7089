import { record, int, long, buffer, JuteReader, JuteWriter, type RecordValue } from '../jute/index.js';
import type { FieldType } from '../jute/schema.js';
import { Id } from '../proto/records.js';
import type { Epoch, ServerId, Zxid } from './types.js';
import { makeZxid, epochOf, assert } from './types.js';

/** Quorum packet types (constants from ZooKeeper's Leader.java). */
export const PacketType = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  COMMITANDACTIVATE: 9,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  INFORMANDACTIVATE: 19,
  /**
   * tszk only (zxidRolloverWithoutElection): the leader moves to the next epoch in place. A
   * ZooKeeper learner logs "Unknown packet type" and never acks it, so the leader falls back to an
   * election (see src/zab/README.md).
   */
  NEWEPOCH: 100,
} as const;

/** Learner protocol version sent in LEADERINFO (ZooKeeper sends 0x10000). */
export const PROTOCOL_VERSION = 0x10000;
/** FLE notification version (FastLeaderElection Notification.CURRENTVERSION). */
export const NOTIFICATION_VERSION = 0x2;

/**
 * QuorumPacket.authinfo: ZooKeeper writes null (count -1) when a packet has no auth ids (every
 * packet but REQUEST); both null and an empty vector read as []; [] is written as null so that
 * re-encoding a captured packet gives ZooKeeper's bytes.
 */
const authinfoVector: FieldType<Id[]> = {
  jute: 'vector<Id>',
  read(r) {
    const n = r.length();
    const out: Id[] = [];
    for (let i = 0; i < n; i++) out.push(Id.read(r));
    return out;
  },
  write(w, v) {
    if (v.length === 0) return w.int(-1);
    w.int(v.length);
    for (const x of v) Id.write(w, x);
  },
};
/** OpCode.sync: the type field of a forwarded sync request (Learner.request writes sessionId, cxid, type, request). */
const OPCODE_SYNC = 9;

/** zookeeper.jute: org.apache.zookeeper.server.quorum.QuorumPacket */
export const QuorumPacket = record('QuorumPacket', { type: int, zxid: long, data: buffer, authinfo: authinfoVector });
export type QuorumPacket = RecordValue<typeof QuorumPacket>;
/** zookeeper.jute: org.apache.zookeeper.server.quorum.LearnerInfo (FOLLOWERINFO/OBSERVERINFO data). */
export const LearnerInfo = record('LearnerInfo', { serverid: long, protocolVersion: int, configVersion: long });
export type LearnerInfo = RecordValue<typeof LearnerInfo>;
/**
 * The FLE notification as FastLeaderElection.buildMsg lays it out: state, leader, zxid,
 * electionEpoch, peerEpoch, version, then the config as length-prefixed bytes (the same layout as
 * a jute buffer, so the record codec fits it).
 */
export const NotificationWire = record('Notification', {
  state: int,
  leader: long,
  zxid: long,
  electionEpoch: long,
  peerEpoch: long,
  version: int,
  config: buffer,
});
export type NotificationWire = RecordValue<typeof NotificationWire>;

/** QuorumPeer.ServerState ordinal as sent in notifications. */
export const ServerState = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 } as const;
export type PeerStateName = keyof typeof ServerState;
const STATE_NAMES: PeerStateName[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];

/** Messages between learner and leader; each maps to one QuorumPacket type. */
export type QuorumMessage =
  | { type: 'FOLLOWERINFO'; acceptedEpoch: Epoch; sid: ServerId }
  | { type: 'OBSERVERINFO'; acceptedEpoch: Epoch; sid: ServerId }
  | { type: 'LEADERINFO'; newEpoch: Epoch }
  | { type: 'ACKEPOCH'; currentEpoch: Epoch; lastZxid: Zxid }
  | { type: 'DIFF'; zxid: Zxid }
  | { type: 'TRUNC'; zxid: Zxid }
  /** ZooKeeper streams the snapshot bytes right after the SNAP packet; here they ride along. */
  | { type: 'SNAP'; zxid: Zxid; data: Buffer }
  | { type: 'PROPOSAL'; zxid: Zxid; data: Buffer }
  /**
   * `designatedLeader`: the commit of a reconfig, which names the leader of the new config
   * (ZooKeeper's COMMITANDACTIVATE to followers, INFORMANDACTIVATE to observers: a long before
   * the txn bytes).
   */
  | { type: 'COMMIT'; zxid: Zxid; designatedLeader?: ServerId }
  | { type: 'INFORM'; zxid: Zxid; data: Buffer; designatedLeader?: ServerId }
  /**
   * `config`: the leader's config in force (ZooKeeper: its QuorumVerifier text). `configZxid`:
   * which reconfig made it, when the core attached it (dynamic reconfiguration, `reconfigOf`);
   * then `config` is that reconfig txn's payload. Not on the wire.
   */
  | { type: 'NEWLEADER'; zxid: Zxid; config?: Buffer; configZxid?: Zxid }
  /**
   * `committedZxid`: tszk's leader says how far the history it synced was committed (the learner's
   * own older txns included); ZooKeeper's leader sends zxid -1 (absent) and its learners ignore it.
   */
  | { type: 'UPTODATE'; committedZxid?: Zxid }
  | { type: 'ACK'; zxid: Zxid }
  /** tszk only: persist `epoch` as accepted and current epoch, then ACK zxid epoch<<32 (README: zxid rollover). */
  | { type: 'NEWEPOCH'; epoch: Epoch }
  /**
   * A forwarded client request: data = long sessionId, int cxid, int type, request record (ZooKeeper
   * sends zxid -1 for every REQUEST); `sync` is decoded from type == OpCode.sync (empty data is the
   * core's abstract sync, used by the simulator); `authinfo` = the client's auth ids.
   */
  | { type: 'REQUEST'; sync: boolean; data: Buffer; authinfo?: Id[] }
  | { type: 'PING'; zxid: Zxid; data: Buffer | null }
  | { type: 'SYNC' }
  /** Session revalidation on reconnect: opaque session bytes both ways (the server's format). */
  | { type: 'REVALIDATE'; data: Buffer };

/** An FLE notification (election traffic, separate connections from the quorum port in ZooKeeper). */
export interface Notification {
  type: 'NOTIFICATION';
  state: PeerStateName;
  leader: ServerId;
  zxid: Zxid;
  electionEpoch: bigint;
  peerEpoch: Epoch;
  /** The sender's config in force when a reconfig made it (the runtime encodes its own config text instead). */
  config?: { zxid: Zxid; data: Buffer };
}

export type Message = QuorumMessage | Notification;

function long8(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}

function int4(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

/**
 * Typed message -> QuorumPacket. Sync REQUESTs and SNAP's trailing snapshot stream are the
 * runtime's business (the real server builds the RequestHeader); here their data is carried as is.
 */
export function toQuorumPacket(m: QuorumMessage): QuorumPacket {
  const p = (type: number, zxid: bigint, data: Buffer | null = null): QuorumPacket => ({ type, zxid, data, authinfo: [] });
  switch (m.type) {
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO': {
      const info = LearnerInfo.encode({ serverid: m.sid, protocolVersion: PROTOCOL_VERSION, configVersion: 0n });
      return p(PacketType[m.type], makeZxid(m.acceptedEpoch, 0n), info);
    }
    case 'LEADERINFO':
      return p(PacketType.LEADERINFO, makeZxid(m.newEpoch, 0n), int4(PROTOCOL_VERSION));
    case 'NEWEPOCH':
      return p(PacketType.NEWEPOCH, makeZxid(m.epoch, 0n));
    case 'ACKEPOCH':
      return p(PacketType.ACKEPOCH, m.lastZxid, int4(Number(m.currentEpoch)));
    case 'COMMIT':
      return m.designatedLeader === undefined ? p(PacketType.COMMIT, m.zxid) : p(PacketType.COMMITANDACTIVATE, m.zxid, long8(m.designatedLeader));
    case 'DIFF':
    case 'TRUNC':
    case 'ACK':
      return p(PacketType[m.type], m.zxid);
    case 'NEWLEADER':
      return p(PacketType.NEWLEADER, m.zxid, m.config ?? null);
    case 'SNAP':
      // ZooKeeper's SNAP packet has null data; the snapshot is streamed after it.
      return p(PacketType.SNAP, m.zxid, m.data.length === 0 ? null : m.data);
    case 'INFORM':
      if (m.designatedLeader !== undefined) return p(PacketType.INFORMANDACTIVATE, m.zxid, Buffer.concat([long8(m.designatedLeader), m.data]));
      return p(PacketType.INFORM, m.zxid, m.data);
    case 'PROPOSAL':
      return p(PacketType.PROPOSAL, m.zxid, m.data);
    case 'UPTODATE':
      return p(PacketType.UPTODATE, m.committedZxid ?? -1n);
    case 'REQUEST':
      return { ...p(PacketType.REQUEST, -1n, m.data), authinfo: m.authinfo ?? [] };
    case 'PING':
      return p(PacketType.PING, m.zxid, m.data);
    case 'SYNC':
      return p(PacketType.SYNC, 0n);
    case 'REVALIDATE':
      return p(PacketType.REVALIDATE, -1n, m.data);
  }
}

export function fromQuorumPacket(q: QuorumPacket): QuorumMessage {
  const z = q.zxid as Zxid;
  const data = q.data ?? Buffer.alloc(0);
  switch (q.type) {
    case PacketType.FOLLOWERINFO:
    case PacketType.OBSERVERINFO: {
      const info = LearnerInfo.decode(data);
      return {
        type: q.type === PacketType.FOLLOWERINFO ? 'FOLLOWERINFO' : 'OBSERVERINFO',
        acceptedEpoch: epochOf(z),
        sid: info.serverid as ServerId,
      };
    }
    case PacketType.LEADERINFO:
      return { type: 'LEADERINFO', newEpoch: epochOf(z) };
    case PacketType.NEWEPOCH:
      return { type: 'NEWEPOCH', epoch: epochOf(z) };
    case PacketType.ACKEPOCH:
      assert(data.length >= 4, 'ACKEPOCH without epoch');
      return { type: 'ACKEPOCH', currentEpoch: BigInt(data.readInt32BE(0)) as Epoch, lastZxid: z };
    case PacketType.DIFF:
      return { type: 'DIFF', zxid: z };
    case PacketType.TRUNC:
      return { type: 'TRUNC', zxid: z };
    case PacketType.COMMIT:
      return { type: 'COMMIT', zxid: z };
    case PacketType.COMMITANDACTIVATE:
      assert(data.length >= 8, 'COMMITANDACTIVATE without a designated leader');
      return { type: 'COMMIT', zxid: z, designatedLeader: data.readBigInt64BE(0) as ServerId };
    case PacketType.INFORMANDACTIVATE:
      assert(data.length >= 8, 'INFORMANDACTIVATE without a designated leader');
      return { type: 'INFORM', zxid: z, data: data.subarray(8), designatedLeader: data.readBigInt64BE(0) as ServerId };
    case PacketType.NEWLEADER:
      return q.data !== null && q.data.length > 0 ? { type: 'NEWLEADER', zxid: z, config: q.data } : { type: 'NEWLEADER', zxid: z };
    case PacketType.ACK:
      return { type: 'ACK', zxid: z };
    case PacketType.SNAP:
      return { type: 'SNAP', zxid: z, data };
    case PacketType.PROPOSAL:
      return { type: 'PROPOSAL', zxid: z, data };
    case PacketType.INFORM:
      return { type: 'INFORM', zxid: z, data };
    case PacketType.UPTODATE:
      return z === -1n ? { type: 'UPTODATE' } : { type: 'UPTODATE', committedZxid: z };
    case PacketType.REQUEST: {
      const sync = data.length === 0 || (data.length >= 16 && data.readInt32BE(12) === OPCODE_SYNC);
      return q.authinfo.length > 0 ? { type: 'REQUEST', sync, data, authinfo: q.authinfo } : { type: 'REQUEST', sync, data };
    }
    case PacketType.PING:
      return { type: 'PING', zxid: z, data: q.data };
    case PacketType.SYNC:
      return { type: 'SYNC' };
    case PacketType.REVALIDATE:
      return { type: 'REVALIDATE', data };
    default:
      throw new Error(`unsupported quorum packet type ${q.type}`);
  }
}

export function encodeNotification(n: Notification, config: Buffer = Buffer.alloc(0)): Buffer {
  return NotificationWire.encode({
    state: ServerState[n.state],
    leader: n.leader,
    zxid: n.zxid,
    electionEpoch: n.electionEpoch,
    peerEpoch: n.peerEpoch,
    version: NOTIFICATION_VERSION,
    config,
  });
}

export function decodeNotification(buf: Buffer): Notification {
  const r = new JuteReader(buf);
  const w = NotificationWire.read(r);
  const state = STATE_NAMES[w.state];
  assert(state !== undefined, `bad notification state ${w.state}`);
  return {
    type: 'NOTIFICATION',
    state,
    leader: w.leader as ServerId,
    zxid: w.zxid as Zxid,
    electionEpoch: w.electionEpoch,
    peerEpoch: w.peerEpoch as Epoch,
  };
}

/** The config a notification carries (the sender's QuorumVerifier text in ZooKeeper's; empty or null when none). */
export function notificationConfig(buf: Buffer): Buffer | null {
  return NotificationWire.read(new JuteReader(buf)).config;
}

export function encodeQuorumMessage(m: QuorumMessage): Buffer {
  const w = new JuteWriter();
  QuorumPacket.write(w, toQuorumPacket(m));
  return Buffer.from(w.bytes());
}
export function decodeQuorumMessage(buf: Buffer): QuorumMessage {
  return fromQuorumPacket(QuorumPacket.decode(buf));
}
