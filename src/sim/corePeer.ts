import { nextProposalZxid } from '../zab/leader.js';
import { recover, step } from '../zab/peer.js';
import type { QuorumVerifier } from '../zab/quorum.js';
import type { Action, Event, Mutation, PeerConfig, PeerState, Role } from '../zab/state.js';
import { serverId } from '../zab/types.js';
import { type Checkers, Violation } from './checkers.js';
import { VirtualDisk } from './disk.js';
import { CONFIG_KEY, RegisterMachine, type Membership } from './machine.js';
import type { Trace } from './trace.js';

/**
 * One simulated peer as both simulators keep it: the pure core, its virtual disk and the
 * register machine its commits are applied to. The random simulator (sim.ts) and the scripted
 * one (script.ts) differ in how they deliver messages and fsyncs, not in what a peer does with
 * its own disk and tree; that part lives here once.
 */
export interface CorePeer {
  sid: number;
  config: PeerConfig;
  core: PeerState | null;
  disk: VirtualDisk;
  machine: RegisterMachine;
  appliedAt: number;
  role: Role;
  serving: boolean;
  sawUptodate: boolean;
}

/** A peer that is down with an empty disk, timed as every simulated ensemble is (a tick is 100 virtual ms). */
export function corePeer(
  sid: number,
  quorum: QuorumVerifier,
  o: { snapCount: number; commitLogCount: number; zxidCounter_max: bigint; zxidRolloverWithoutElection?: boolean; mutations: readonly Mutation[] },
): CorePeer {
  return {
    sid,
    config: {
      sid: serverId(sid),
      quorum,
      initLimit_ticks: 30,
      syncLimit_ticks: 15,
      finalizeWait_ticks: 2,
      notificationInterval_ticks_max: 20,
      ping_ticks: 5,
      snapCount: o.snapCount,
      commitLogCount: o.commitLogCount,
      zxidCounter_max: o.zxidCounter_max,
      ...(o.zxidRolloverWithoutElection === true ? { zxidRolloverWithoutElection: true } : {}),
      outstandingProposals_max: 1000,
      mutations: new Set(o.mutations),
    },
    core: null,
    disk: new VirtualDisk(),
    machine: new RegisterMachine(),
    appliedAt: -1,
    role: 'LOOKING',
    serving: false,
    sawUptodate: false,
  };
}

/** Steps peer `sid`'s core; anything it throws is a core assertion (unless a checker threw it). */
export function stepCore(sid: number, core: PeerState, ev: Event): Action[] {
  try {
    return step(core, ev).actions;
  } catch (e) {
    if (e instanceof Violation) throw e;
    throw new Violation('core assertion', `peer ${sid}: ${(e as Error).message}`);
  }
}

/**
 * A `propose` as the real runtime makes one: numbered by the core at the moment it is stepped
 * (the register machine's txn needs no zxid inside, so "preparing" it is the request itself).
 */
export function proposeEvent(p: CorePeer, data: Buffer): Event {
  return { type: 'propose', zxid: p.core === null ? null : nextProposalZxid(p.core), data };
}

/** Restarts a peer from what its disk holds; returns the actions recovery asks for. */
export function startFromDisk(p: CorePeer, checkers: Checkers, trace: Trace, now: number): Action[] {
  p.machine = RegisterMachine.deserialize(p.disk.snapshot.data);
  if (p.machine.zxid !== p.disk.snapshot.zxid) throw new Violation('disk', `peer ${p.sid} snapshot zxid mismatch`);
  p.appliedAt = checkers.onTreeLoaded(p.sid, p.machine);
  p.role = 'LOOKING';
  p.serving = false;
  p.sawUptodate = false;
  let r;
  try {
    r = recover(p.config, p.disk.persisted());
  } catch (e) {
    throw new Violation('core assertion', `peer ${p.sid} recovery: ${(e as Error).message}`);
  }
  p.core = r.state;
  trace.add(now, p.sid, 'starts from disk');
  return r.actions;
}

/** The actions that touch only a peer's own disk, tree and role. */
export type LocalAction = Extract<
  Action,
  { type: 'persistAcceptedEpoch' | 'persistCurrentEpoch' | 'persistConfig' | 'truncate' | 'loadSnapshot' | 'takeSnapshot' | 'role' | 'established' | 'serving' }
>;

export function runLocalAction(p: CorePeer, a: LocalAction, checkers: Checkers): void {
  switch (a.type) {
    case 'persistAcceptedEpoch':
      p.disk.acceptedEpoch = a.epoch;
      return;
    case 'persistCurrentEpoch':
      p.disk.currentEpoch = a.epoch;
      return;
    case 'persistConfig':
      p.disk.config = { zxid: a.zxid, data: a.data };
      return;
    case 'truncate':
      p.disk.truncate(a.zxid);
      return;
    case 'loadSnapshot':
      p.machine = RegisterMachine.deserialize(a.data);
      p.appliedAt = checkers.onTreeLoaded(p.sid, p.machine);
      return;
    case 'takeSnapshot':
      if (p.machine.zxid !== a.zxid) throw new Violation('core assertion', `peer ${p.sid} snapshot at ${a.zxid} but tree at ${p.machine.zxid}`);
      p.disk.takeSnapshot(a.zxid, p.machine.serialize());
      return;
    case 'role':
      p.role = a.role;
      p.sawUptodate = false;
      return;
    case 'established':
      checkers.onEstablished(p.sid, a.epoch, p.core!);
      return;
    case 'serving':
      if (a.serving && (p.role === 'FOLLOWING' || p.role === 'OBSERVING') && !p.sawUptodate)
        throw new Violation('serving before UPTODATE', `peer ${p.sid} starts serving before receiving UPTODATE`);
      p.serving = a.serving;
      return;
  }
}

/** Sorted voters|observers: one membership's key. */
function membershipKey(voters: readonly (number | bigint)[], observers: readonly (number | bigint)[]): string {
  const sorted = (xs: readonly (number | bigint)[]): string =>
    xs
      .map(Number)
      .sort((a, b) => a - b)
      .join(',');
  return `${sorted(voters)}|${sorted(observers)}`;
}

/**
 * ZooKeeper's reconfig guarantee at each serving member: the config in force is the last one
 * committed in the state it serves (its own static config while none is), never one still in
 * flight nor one it missed.
 */
export function checkConfigInForce(p: CorePeer): void {
  if (p.core === null || !p.serving || p.config.reconfigOf === undefined) return;
  const written = p.machine.read(CONFIG_KEY).value;
  const m = written === '' ? null : (JSON.parse(written) as Membership);
  const want = m === null ? membershipKey(p.config.quorum.voters, p.config.quorum.observers) : membershipKey(m.voters, m.observers);
  const have = membershipKey(p.core.quorum.voters, p.core.quorum.observers);
  if (have !== want)
    throw new Violation('config', `peer ${p.sid} serves at ${p.machine.zxid} with config ${have} in force, but its state's committed config is ${want}`);
}
