/**
 * Checks a real history of compare-and-set writes and sync+get reads (test/jepsen/history.ts).
 *
 * Writes: per register, the successful CAS writes fix the order of effects (each moves the
 * version by one), reads tell which unknown-outcome write produced a version nobody saw
 * acknowledged, and each BadVersion failure is placed where the register did not hold its
 * expected version. That order is then handed, as a witness, to the simulator's
 * linearizability checker (src/sim/linearizability.ts) together with the whole history — it
 * accepts only if the witness is a real linearization (results follow from the order, real time
 * respected), and otherwise searches itself.
 *
 * Reads, held to ZooKeeper's guarantees as the simulator's checker states them: a read returns the
 * committed value at the zxid it was served at; a client never reads an older state than one it
 * has seen; sync+read sees every write acknowledged before the sync was sent.
 */
import { checkRegister } from '../../src/sim/linearizability.js';
import type { WriteOp } from '../../src/sim/history.js';
import type { CasWrite, JepsenOp, SyncRead } from './history.js';

export interface CheckResult {
  ok: boolean;
  violations: string[];
  writes: { ok: number; failed: number; unknown: number; unknownLanded: number };
  reads: { ok: number; failed: number };
}

const VIOLATIONS_SHOWN_MAX = 20;

const hex = (z: bigint): string => `0x${z.toString(16)}`;
const fmtW = (w: CasWrite): string =>
  `c${w.client} cas(${w.key}, v${w.expectedVersion}→${w.value}) [${w.invoke.toFixed(1)}, ${w.response?.toFixed(1) ?? '∞'}] ` +
  (w.result === 'unknown' ? 'unknown' : w.result.ok ? `ok v${w.result.version} @${hex(w.result.zxid)}` : 'BadVersion');
const fmtR = (r: SyncRead): string =>
  `c${r.client} ${r.sync ? 'sync+read' : 'read'}(${r.key}) [${r.invoke.toFixed(1)}, ${r.response?.toFixed(1) ?? '∞'}] v${r.version}=${r.value} mzxid ${hex(r.mzxid)} at ${hex(r.zxid)} from ${r.member}`;

interface KeyHistory {
  /** writers[v]: the write that produced version v (v >= 1). */
  writers: (CasWrite | undefined)[];
  /** zxids[v]: zxid of version v when known. */
  zxids: (bigint | undefined)[];
}

export function checkJepsenHistory(ops: readonly JepsenOp[]): CheckResult {
  const violations: string[] = [];
  const bad = (m: string): void => {
    violations.push(m);
  };
  const keys = [...new Set(ops.map((o) => o.key))].sort();
  const histories = new Map<string, KeyHistory>();
  let unknownLanded = 0;
  for (const key of keys) {
    const ws = ops.filter((o): o is CasWrite => o.kind === 'write' && o.key === key);
    const rs = ops.filter((o): o is SyncRead => o.kind === 'read' && o.key === key && !o.failed);
    const writers: (CasWrite | undefined)[] = [];
    const zxids: (bigint | undefined)[] = [];
    const values: (string | undefined)[] = [''];
    const noteZxid = (v: number, z: bigint, what: string): void => {
      const cur = zxids[v];
      if (cur !== undefined && cur !== z) bad(`${key} v${v}: two zxids, ${hex(cur)} and ${hex(z)} (${what})`);
      zxids[v] = z;
    };
    for (const w of ws) {
      if (w.result === 'unknown' || !w.result.ok) continue;
      const v = w.result.version;
      if (v !== w.expectedVersion + 1) bad(`${key}: CAS from v${w.expectedVersion} acknowledged with v${v}: ${fmtW(w)}`);
      if (writers[v] !== undefined) bad(`${key} v${v} acknowledged to two writes:\n  ${fmtW(writers[v])}\n  ${fmtW(w)}`);
      writers[v] = w;
      values[v] = w.value;
      noteZxid(v, w.result.zxid, fmtW(w));
    }
    // Versions seen by reads: the value must be that version's writer's.
    const unknown = ws.filter((w) => w.result === 'unknown');
    const used = new Set<CasWrite>();
    for (const r of rs) {
      if (r.version === 0) {
        if (r.value !== '') bad(`${key}: version 0 read with value ${r.value}: ${fmtR(r)}`);
        continue;
      }
      noteZxid(r.version, r.mzxid, fmtR(r));
      if (values[r.version] !== undefined) {
        if (values[r.version] !== r.value) bad(`${key} v${r.version} read as ${r.value} but written as ${values[r.version]}: ${fmtR(r)}`);
        continue;
      }
      const w = unknown.find((u) => u.value === r.value);
      if (w === undefined) {
        bad(`${key}: read a value nobody wrote: ${fmtR(r)}`);
        continue;
      }
      if (w.expectedVersion !== r.version - 1) bad(`${key}: ${fmtW(w)} read as v${r.version}: ${fmtR(r)}`);
      writers[r.version] = w;
      values[r.version] = w.value;
      used.add(w);
      unknownLanded++;
    }
    // Versions nobody saw acknowledged or read: some unknown write from the version before.
    const top = Math.max(0, writers.length - 1);
    for (let v = 1; v <= top; v++) {
      if (writers[v] !== undefined) continue;
      const w = unknown.filter((u) => !used.has(u) && u.expectedVersion === v - 1).sort((a, b) => a.invoke - b.invoke)[0];
      if (w === undefined) {
        bad(`${key}: version ${v} exists (v${top} was reached) but no write could have made it`);
        continue;
      }
      writers[v] = w;
      used.add(w);
      unknownLanded++;
    }
    for (let v = 2; v <= top; v++) {
      const a = zxids[v - 1];
      const b = zxids[v];
      if (a !== undefined && b !== undefined && a >= b) bad(`${key}: v${v - 1} at ${hex(a)} is not before v${v} at ${hex(b)}`);
    }
    histories.set(key, { writers, zxids });
    if (violations.length > 0) continue;

    // Place each BadVersion failure where the register was not at its expected version.
    const order = writers.slice(1) as CasWrite[];
    // By when version v certainly existed: its write's ack, or the first read of it or of a later version.
    const seenBy: number[] = new Array(order.length + 2).fill(Infinity);
    for (const r of rs) if (r.version >= 1 && r.response !== null) seenBy[r.version] = Math.min(seenBy[r.version]!, r.response);
    for (let v = order.length; v >= 1; v--) {
      const w = order[v - 1]!;
      const own = w.result === 'unknown' ? Infinity : (w.response ?? Infinity);
      seenBy[v] = Math.min(seenBy[v]!, own, seenBy[v + 1]!);
    }
    // The writers in version order must respect real time (each after every earlier writer's
    // invocation, before its version was first seen).
    let maxInv = -Infinity;
    for (let v = 1; v <= order.length; v++) {
      const w = order[v - 1]!;
      maxInv = Math.max(maxInv, w.invoke);
      if (maxInv > seenBy[v]!) bad(`${key}: v${v} cannot take effect in version order within real time: ${fmtW(w)} (seen by ${seenBy[v]!.toFixed(1)})`);
    }
    if (violations.length > 0) continue;
    // Each BadVersion failure goes into a slot q (after writer q, before writer q+1) where the
    // register was at q != expected: every writer before it began before it ended, every writer
    // after it was not yet seen when it began, and it comes no earlier than the failures that
    // completed before it began (smallest such slot: leaves the most room for later ones).
    const prefixMaxInv: number[] = [-Infinity];
    for (const w of order) prefixMaxInv.push(Math.max(prefixMaxInv[prefixMaxInv.length - 1]!, w.invoke));
    const failed = ws.filter((f) => f.result !== 'unknown' && !f.result.ok).sort((x, y) => x.invoke - y.invoke);
    const failedAt = new Map<CasWrite, number>();
    const placed: { resp: number; q: number }[] = [];
    for (const f of failed) {
      const resp = f.response ?? Infinity;
      let floor = 0;
      for (const p of placed) if (p.resp < f.invoke && p.q > floor) floor = p.q;
      let q = -1;
      for (let c = floor; c <= order.length; c++) {
        if (prefixMaxInv[c]! > resp) break;
        if (c !== f.expectedVersion && seenBy[c + 1]! >= f.invoke) {
          q = c;
          break;
        }
      }
      if (q < 0) {
        bad(`${key}: CAS failed though the register held v${f.expectedVersion} for its whole duration: ${fmtW(f)}`);
        continue;
      }
      failedAt.set(f, q);
      placed.push({ resp, q });
    }
    if (violations.length > 0) continue;

    // Hand the whole register history and the witness to the simulator's checker.
    const sim = new Map<CasWrite, WriteOp>();
    for (const w of ws) {
      const r = w.result;
      sim.set(w, {
        kind: 'write',
        client: w.client,
        key,
        expectedVersion: w.expectedVersion,
        value: w.value,
        invoke: w.invoke,
        response: r === 'unknown' ? null : w.response,
        result: r === 'unknown' ? 'unknown' : r.ok ? { ok: true, version: r.version } : { ok: false, version: failedAt.get(w)! },
        zxid: r !== 'unknown' && r.ok ? r.zxid : null,
      });
    }
    // Witness: slot 0 failures, writer 1, slot 1 failures, writer 2, ...
    const bySlot: CasWrite[][] = Array.from({ length: order.length + 1 }, () => []);
    for (const [f, q] of failedAt) bySlot[q]!.push(f);
    const witness: WriteOp[] = [];
    for (let q = 0; q <= order.length; q++) {
      for (const f of bySlot[q]!.sort((x, y) => x.invoke - y.invoke)) witness.push(sim.get(f)!);
      if (q < order.length) witness.push(sim.get(order[q]!)!);
    }
    try {
      if (!checkRegister([...sim.values()], witness).ok) bad(`${key}: writes have no linearization:\n${ws.map(fmtW).join('\n')}`);
    } catch (e) {
      bad(`${key}: no linearization from the version order, and the search gave up (${(e as Error).message})`);
    }
  }

  // Reads, per ZooKeeper's guarantees.
  const acked = ops.filter((o): o is CasWrite => o.kind === 'write' && o.result !== 'unknown' && o.result.ok).sort((a, b) => a.response! - b.response!);
  const ackedMaxZxid: bigint[] = [];
  for (const w of acked) {
    const z = (w.result as { zxid: bigint }).zxid;
    ackedMaxZxid.push(ackedMaxZxid.length === 0 || z > ackedMaxZxid[ackedMaxZxid.length - 1]! ? z : ackedMaxZxid[ackedMaxZxid.length - 1]!);
  }
  const lastSeen = new Map<number, bigint>();
  const byInvoke = ops.filter((o) => o.response !== null).sort((a, b) => a.invoke - b.invoke);
  for (const o of byInvoke) {
    const seen = lastSeen.get(o.client) ?? 0n;
    if (o.kind === 'write') {
      if (o.result !== 'unknown' && o.result.ok && o.result.zxid > seen) lastSeen.set(o.client, o.result.zxid);
      continue;
    }
    if (o.failed) continue;
    const h = histories.get(o.key)!;
    const zv = h.zxids[o.version];
    const zn = h.zxids[o.version + 1];
    if (zv !== undefined && zv > o.zxid) bad(`read of v${o.version} (written at ${hex(zv)}) served at older ${hex(o.zxid)}: ${fmtR(o)}`);
    if (zn !== undefined && zn <= o.zxid) bad(`stale read: v${o.version + 1} was committed at ${hex(zn)} <= ${hex(o.zxid)}: ${fmtR(o)}`);
    const w = h.writers[o.version];
    if (w !== undefined && o.response !== null && w.invoke > o.response) bad(`read from the future: ${fmtR(o)} saw ${fmtW(w)}`);
    if (o.zxid < seen) bad(`client ${o.client} went back in time: read at ${hex(o.zxid)} after having seen ${hex(seen)}: ${fmtR(o)}`);
    if (o.zxid > seen) lastSeen.set(o.client, o.zxid);
    // sync+read: every write acknowledged before the sync was sent is visible.
    if (!o.sync) continue;
    let lo = 0;
    let hi = acked.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (acked[mid]!.response! < o.invoke) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && ackedMaxZxid[lo - 1]! > o.zxid)
      bad(`sync+read at ${hex(o.zxid)} misses a write acknowledged (at ${hex(ackedMaxZxid[lo - 1]!)}) before the sync: ${fmtR(o)}`);
  }

  const ws = ops.filter((o): o is CasWrite => o.kind === 'write');
  const rs = ops.filter((o): o is SyncRead => o.kind === 'read');
  return {
    ok: violations.length === 0,
    violations: violations.slice(0, VIOLATIONS_SHOWN_MAX),
    writes: {
      ok: ws.filter((w) => w.result !== 'unknown' && w.result.ok).length,
      failed: ws.filter((w) => w.result !== 'unknown' && !w.result.ok).length,
      unknown: ws.filter((w) => w.result === 'unknown').length,
      unknownLanded,
    },
    reads: { ok: rs.filter((r) => !r.failed).length, failed: rs.filter((r) => r.failed).length },
  };
}
