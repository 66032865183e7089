import { majorityQuorum, type QuorumVerifier } from '../zab/quorum.js';
import { serverId, type Txn, type Zxid } from '../zab/types.js';

/**
 * The simulator's replicated state machine: versioned registers with compare-and-set, standing in
 * for the data tree. Txn payloads are JSON (the simulator is not a hot path).
 */
export interface WriteTxn {
  /** Client id and request number: the origin server replies when it applies the txn. */
  client: number;
  req: number;
  origin: number;
  key: string;
  /** -1: unconditional set; otherwise the version the register must have. */
  expectedVersion: number;
  value: string;
}
/**
 * A reconfig in the simulators: a write of this register whose value is the new membership as
 * JSON ({ voters, observers }); the cores read it back through `reconfigOf`.
 */
export const CONFIG_KEY = '__config';

export interface Membership {
  voters: number[];
  observers: number[];
  /** The client port each member serves on (the `;port` of ZooKeeper's server lines): the runtime's to act on, the cores ignore it. */
  clientPorts?: Record<string, number>;
}

export function membershipQuorum(m: Membership): QuorumVerifier {
  return majorityQuorum(
    m.voters.map((v) => serverId(v)),
    m.observers.map((v) => serverId(v)),
  );
}

/** The core's `reconfigOf` for register-machine payloads. */
export function reconfigOfPayload(data: Buffer): QuorumVerifier | null {
  const m = membershipOf(data);
  return m === null ? null : membershipQuorum(m);
}

function membershipOf(data: Buffer): Membership | null {
  // Cheap pre-check: most payloads are ordinary writes.
  if (!data.includes(CONFIG_KEY)) return null;
  const w = decodeWrite(data);
  return w.key === CONFIG_KEY ? (JSON.parse(w.value) as Membership) : null;
}

export interface Register {
  version: number;
  value: string;
}
export type WriteResult = { ok: true; version: number } | { ok: false; version: number };

export function encodeWrite(w: WriteTxn): Buffer {
  return Buffer.from(JSON.stringify(w));
}
export function decodeWrite(b: Buffer): WriteTxn {
  return JSON.parse(b.toString('utf8')) as WriteTxn;
}

/** FNV-1a over bytes, chained: identical hashes mean identical applied histories (with high probability). */
export function chainHash(prev: number, zxid: bigint, data: Buffer): number {
  let h = (prev ^ 0x811c9dc5) >>> 0;
  const z = zxid.toString(16);
  for (let i = 0; i < z.length; i++) h = Math.imul(h ^ z.charCodeAt(i), 0x01000193) >>> 0;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193) >>> 0;
  return h;
}

export function dataHash(data: Buffer): number {
  return chainHash(0, 0n, data);
}

export function applyWrite(regs: Map<string, Register>, w: WriteTxn): WriteResult {
  const cur = regs.get(w.key) ?? { version: 0, value: '' };
  if (w.expectedVersion !== -1 && w.expectedVersion !== cur.version) return { ok: false, version: cur.version };
  const next = { version: cur.version + 1, value: w.value };
  regs.set(w.key, next);
  return { ok: true, version: next.version };
}

export class RegisterMachine {
  regs = new Map<string, Register>();
  zxid = 0n as Zxid;
  historyHash = 0;

  apply(txn: Txn): { w: WriteTxn; result: WriteResult } {
    if (txn.zxid <= this.zxid) throw new Error(`machine: apply ${txn.zxid} after ${this.zxid}`);
    const w = decodeWrite(txn.data);
    const result = applyWrite(this.regs, w);
    this.zxid = txn.zxid;
    this.historyHash = chainHash(this.historyHash, txn.zxid, txn.data);
    return { w, result };
  }

  read(key: string): Register {
    return this.regs.get(key) ?? { version: 0, value: '' };
  }

  serialize(): Buffer {
    return Buffer.from(JSON.stringify({ z: this.zxid.toString(), h: this.historyHash, r: [...this.regs] }));
  }

  static deserialize(b: Buffer): RegisterMachine {
    const o = JSON.parse(b.toString('utf8')) as { z: string; h: number; r: [string, Register][] };
    const m = new RegisterMachine();
    m.zxid = BigInt(o.z) as Zxid;
    m.historyHash = o.h;
    m.regs = new Map(o.r);
    return m;
  }
}
