/**
 * Splits captured peer-to-peer byte streams into their messages, as ZooKeeper 3.8 frames them:
 *
 * - Election port (QuorumCnxManager): the connecting side first sends the initial message
 *   (long protocolVersion -65536 (V1) or -65535 (V2), long sid, int length, "host:port" bytes);
 *   then both sides send frames: int length, notification bytes.
 * - Quorum port (Learner/LearnerHandler): back-to-back jute QuorumPackets with no length prefix;
 *   after a SNAP packet the leader streams the snapshot body (sessions, ACL cache, nodes, "/")
 *   and the string "BenWasHere", then packets again.
 */
import { JuteReader } from '../../src/jute/index.js';
import { ACL, StatPersisted } from '../../src/proto/records.js';
import { PacketType, QuorumPacket } from '../../src/zab/packets.js';

export const PROTOCOL_VERSION_V1 = -65536n;
export const PROTOCOL_VERSION_V2 = -65535n;

export interface InitialMessage {
  protocolVersion: bigint;
  sid: bigint;
  address: string;
  bytes: Buffer;
}

export interface ElectionStream {
  initial: InitialMessage | null;
  /** Notification bodies (without the 4-byte length). */
  frames: Buffer[];
  /** Bytes after the last whole frame (a capture cut mid-frame). */
  rest: Buffer;
}

export function splitElectionStream(buf: Buffer, withInitial: boolean): ElectionStream {
  let off = 0;
  let initial: InitialMessage | null = null;
  if (withInitial && buf.length >= 8) {
    const protocolVersion = buf.readBigInt64BE(0);
    if (protocolVersion === PROTOCOL_VERSION_V1 || protocolVersion === PROTOCOL_VERSION_V2) {
      const sid = buf.readBigInt64BE(8);
      const n = buf.readInt32BE(16);
      const address = buf.subarray(20, 20 + n).toString('utf8');
      off = 20 + n;
      initial = { protocolVersion, sid, address, bytes: buf.subarray(0, off) };
    } else {
      // Before 3.5 the first long was the sid itself.
      initial = { protocolVersion, sid: protocolVersion, address: '', bytes: buf.subarray(0, 8) };
      off = 8;
    }
  }
  const frames: Buffer[] = [];
  while (off + 4 <= buf.length) {
    const n = buf.readInt32BE(off);
    if (off + 4 + n > buf.length) break;
    frames.push(buf.subarray(off + 4, off + 4 + n));
    off += 4 + n;
  }
  return { initial, frames, rest: buf.subarray(off) };
}

export interface SnapshotBody {
  /** The bytes DataTree/SerializeUtils wrote: sessions, ACL cache, nodes, "/". */
  bytes: Buffer;
  sessions: Map<bigint, number>;
  nodeCount: number;
  /** The string written after the body ("BenWasHere"). */
  signature: string;
}

export type QuorumItem = { kind: 'packet'; bytes: Buffer; packet: QuorumPacket } | { kind: 'snapshot'; bytes: Buffer; body: SnapshotBody };

export interface QuorumStream {
  items: QuorumItem[];
  /** Bytes after the last whole item. */
  rest: Buffer;
}

function readSnapshotBody(r: JuteReader, buf: Buffer): SnapshotBody {
  const start = r.offset;
  const sessions = new Map<bigint, number>();
  for (let n = r.int(); n > 0; n--) sessions.set(r.long(), r.int());
  for (let n = r.int(); n > 0; n--) {
    r.long();
    const count = r.length();
    for (let i = 0; i < count; i++) ACL.read(r);
  }
  let nodeCount = 0;
  for (;;) {
    const p = r.ustring();
    if (p === '/') break;
    r.buffer();
    r.long();
    StatPersisted.read(r);
    nodeCount++;
  }
  const bytes = buf.subarray(start, r.offset);
  const signature = r.ustring();
  return { bytes, sessions, nodeCount, signature };
}

export function splitQuorumStream(buf: Buffer): QuorumStream {
  const r = new JuteReader(buf);
  const items: QuorumItem[] = [];
  let last = 0;
  for (;;) {
    try {
      const packet = QuorumPacket.read(r);
      items.push({ kind: 'packet', bytes: buf.subarray(last, r.offset), packet });
      last = r.offset;
      if (packet.type === PacketType.SNAP) {
        const body = readSnapshotBody(r, buf);
        items.push({ kind: 'snapshot', bytes: buf.subarray(last, r.offset), body });
        last = r.offset;
      }
    } catch {
      break;
    }
    if (last === buf.length) break;
  }
  return { items, rest: buf.subarray(last) };
}

/** The first `frames_max` election frames (and the initial message): a fixture-sized prefix. */
export function electionPrefix(buf: Buffer, withInitial: boolean, frames_max: number): Buffer {
  const s = splitElectionStream(buf, withInitial);
  let end = s.initial?.bytes.length ?? 0;
  for (const f of s.frames.slice(0, frames_max)) end += 4 + f.length;
  return buf.subarray(0, end);
}
