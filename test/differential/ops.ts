/**
 * The operations the differential suite generates, and fast-check arbitraries for sequences of
 * them. Paths come from a small alphabet relative to a per-sequence prefix so that creates,
 * deletes and watches collide often; a few deliberately invalid paths are mixed in.
 */
import fc from 'fast-check';
import { AddWatchMode, CreateMode, OpCode, WatcherType } from '../../src/proto/opcodes.js';

/** Session index within a sequence: 0 has digest auth (u0:p0), 1 has none. */
export type SessionIx = 0 | 1;

/** A path relative to the sequence prefix: '' is the prefix itself. Invalid ones start with '!'. */
export type RelPath = string;

/** Raw suffixes appended to the prefix as they are: trailing slash, empty segment, dot segments, NUL. */
export const INVALID_PATHS: readonly RelPath[] = ['!/a/', '!//a', '!/a/./b', '!/a/../b', '!/a\u0000b'];

export type AclChoice = 'open' | 'read' | 'creator' | 'digest' | 'mixed' | 'badScheme' | 'empty' | 'ipLocal' | 'ipOther' | 'ipBad' | 'zeroPerms';
export const ACL_CHOICES: readonly AclChoice[] = [
  'open',
  'read',
  'creator',
  'digest',
  'mixed',
  'badScheme',
  'empty',
  'ipLocal',
  'ipOther',
  'ipBad',
  'zeroPerms',
];

/** null and empty data are distinct on the wire (buffer length -1 vs 0). */
export type DataChoice = null | string;

export type CreateOpcode = typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer | typeof OpCode.createTTL;

export type MultiSubOp =
  | {
      t: 'create';
      opcode: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer;
      path: RelPath;
      data: DataChoice;
      mode: number;
      acl: AclChoice;
    }
  | { t: 'delete'; path: RelPath; version: number }
  | { t: 'setData'; path: RelPath; data: DataChoice; version: number }
  | { t: 'check'; path: RelPath; version: number };

export type ReadSubOp = { t: 'getData'; path: RelPath } | { t: 'getChildren'; path: RelPath };

export type Op =
  | { t: 'create'; s: SessionIx; opcode: CreateOpcode; path: RelPath; data: DataChoice; mode: number; acl: AclChoice; ttl: number }
  | { t: 'delete'; s: SessionIx; path: RelPath; version: number }
  | { t: 'setData'; s: SessionIx; path: RelPath; data: DataChoice; version: number }
  | { t: 'exists'; s: SessionIx; path: RelPath; watch: boolean }
  | { t: 'getData'; s: SessionIx; path: RelPath; watch: boolean }
  | { t: 'getChildren'; s: SessionIx; path: RelPath; watch: boolean }
  | { t: 'getChildren2'; s: SessionIx; path: RelPath; watch: boolean }
  | { t: 'getACL'; s: SessionIx; path: RelPath }
  | { t: 'setACL'; s: SessionIx; path: RelPath; acl: AclChoice; version: number }
  | { t: 'sync'; s: SessionIx; path: RelPath }
  | { t: 'multi'; s: SessionIx; ops: MultiSubOp[] }
  | { t: 'multiRead'; s: SessionIx; ops: ReadSubOp[] }
  | { t: 'addWatch'; s: SessionIx; path: RelPath; mode: number }
  | { t: 'checkWatches'; s: SessionIx; path: RelPath; type: number }
  | { t: 'removeWatches'; s: SessionIx; path: RelPath; type: number }
  | { t: 'getAllChildrenNumber'; s: SessionIx; path: RelPath }
  | { t: 'getEphemerals'; s: SessionIx; path: RelPath }
  | { t: 'whoAmI'; s: SessionIx }
  /**
   * Drop the session's TCP connection, resume the session on a new one (lastZxidSeen = its last
   * reply zxid), redo its auth, and send SetWatches2 with these watches relative to its last
   * zxid (or to 0): the server fires what changed since then.
   */
  | { t: 'reconnect'; s: SessionIx; relativeToLast: boolean; watches: ReconnectWatches }
  /** closeSession (its ephemerals go, others' watches fire), then a fresh session takes its place. */
  | { t: 'renew'; s: SessionIx };

export interface ReconnectWatches {
  data: RelPath[];
  exist: RelPath[];
  child: RelPath[];
  persistent: RelPath[];
  recursive: RelPath[];
}

const session = fc.constantFrom<SessionIx>(0, 1);
/** Shallow paths more often, so that deeper creates find their parents. */
const validPath = fc.constantFrom('', 'a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'a/b', 'a/b', 'a/c', 'b/a', 'a/b/c');
/** Mostly valid paths, sometimes an invalid one. */
const anyPath = fc.oneof({ weight: 12, arbitrary: validPath }, { weight: 1, arbitrary: fc.constantFrom(...INVALID_PATHS) });
const version = fc.constantFrom(-1, -1, 0, 0, 1, 2, 5);
const data = fc.constantFrom<DataChoice>(null, '', 'x', 'yy', 'hello', 'x'.repeat(40));
const acl = fc.oneof({ weight: 6, arbitrary: fc.constant<AclChoice>('open') }, { weight: 4, arbitrary: fc.constantFrom(...ACL_CHOICES) });
/** Watches mostly on, so that events are frequent. */
const watch = fc.constantFrom(true, true, true, false);

/** Persistent/ephemeral/sequential/container mostly matched with their opcode; TTL via createTTL. */
const createShape = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      opcode: fc.constantFrom<CreateOpcode>(OpCode.create, OpCode.create2),
      mode: fc.constantFrom<number>(CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.PERSISTENT_SEQUENTIAL, CreateMode.EPHEMERAL_SEQUENTIAL),
    }),
  },
  { weight: 2, arbitrary: fc.record({ opcode: fc.constant<CreateOpcode>(OpCode.createContainer), mode: fc.constant<number>(CreateMode.CONTAINER) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      opcode: fc.constant<CreateOpcode>(OpCode.createTTL),
      mode: fc.constantFrom<number>(CreateMode.PERSISTENT_WITH_TTL, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL),
    }),
  },
  // Mismatched opcode and mode, and unknown modes: each has a defined error in ZooKeeper.
  {
    weight: 1,
    arbitrary: fc.record({
      opcode: fc.constantFrom<CreateOpcode>(OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL),
      mode: fc.constantFrom(CreateMode.CONTAINER, CreateMode.PERSISTENT_WITH_TTL, CreateMode.PERSISTENT, CreateMode.EPHEMERAL, 7, -1),
    }),
  },
);
const ttl = fc.constantFrom(60_000, 60_000, 1, 0, -5);

const createOp = fc.record({ s: session, shape: createShape, path: anyPath, data, acl, ttl }).map(({ s, shape, path, data, acl, ttl }): Op => ({
  t: 'create',
  s,
  opcode: shape.opcode,
  mode: shape.mode,
  path,
  data,
  acl,
  ttl: safeTtl(shape.opcode, shape.mode, ttl),
}));

/**
 * ZooKeeper 3.8.0 accepts createTTL with a non-TTL mode and a TTL <= 0 in its request checks and
 * then dies in its SyncThread ("ttl must be positive"), so the reference cannot be given that
 * input; such creates get a positive TTL (still BadArguments there). The fuzz suite covers the
 * crashing input against tszk alone.
 */
function safeTtl(opcode: CreateOpcode, mode: number, ttl: number): number {
  const ttlMode = mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
  return opcode === OpCode.createTTL && !ttlMode && ttl <= 0 ? 60_000 : ttl;
}

const multiSubOp: fc.Arbitrary<MultiSubOp> = fc.oneof(
  fc.record({
    t: fc.constant('create' as const),
    opcode: fc.constantFrom(OpCode.create, OpCode.create2),
    path: validPath,
    data,
    mode: fc.constantFrom<number>(CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.PERSISTENT_SEQUENTIAL),
    acl: fc.constant<AclChoice>('open'),
  }),
  fc.record({
    t: fc.constant('create' as const),
    opcode: fc.constant(OpCode.createContainer),
    path: validPath,
    data,
    mode: fc.constant<number>(CreateMode.CONTAINER),
    acl: fc.constant<AclChoice>('open'),
  }),
  fc.record({ t: fc.constant('delete' as const), path: validPath, version }),
  fc.record({ t: fc.constant('setData' as const), path: validPath, data, version }),
  fc.record({ t: fc.constant('check' as const), path: validPath, version }),
);
const readSubOp: fc.Arbitrary<ReadSubOp> = fc.oneof(
  fc.record({ t: fc.constant('getData' as const), path: validPath }),
  fc.record({ t: fc.constant('getChildren' as const), path: validPath }),
);

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: createOp },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('delete' as const), s: session, path: anyPath, version }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('setData' as const), s: session, path: anyPath, data, version }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('exists' as const), s: session, path: anyPath, watch }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('getData' as const), s: session, path: anyPath, watch }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('getChildren' as const), s: session, path: anyPath, watch }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('getChildren2' as const), s: session, path: validPath, watch }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('getACL' as const), s: session, path: validPath }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('setACL' as const), s: session, path: anyPath, acl, version }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sync' as const), s: session, path: validPath }) },
  // No standalone check (opcode 13 outside multi): ZooKeeper 3.8 never answers it on an existing node.
  { weight: 4, arbitrary: fc.record({ t: fc.constant('multi' as const), s: session, ops: fc.array(multiSubOp, { minLength: 0, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('multiRead' as const), s: session, ops: fc.array(readSubOp, { minLength: 1, maxLength: 3 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('addWatch' as const),
      s: session,
      path: validPath,
      mode: fc.constantFrom<number>(AddWatchMode.PERSISTENT, AddWatchMode.PERSISTENT_RECURSIVE),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('checkWatches' as const),
      s: session,
      path: validPath,
      type: fc.constantFrom<number>(WatcherType.Children, WatcherType.Data, WatcherType.Any),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('removeWatches' as const),
      s: session,
      path: validPath,
      type: fc.constantFrom<number>(WatcherType.Children, WatcherType.Data, WatcherType.Any, WatcherType.Persistent, WatcherType.PersistentRecursive),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('getAllChildrenNumber' as const), s: session, path: validPath }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('getEphemerals' as const), s: session, path: fc.constantFrom('', 'a', 'b') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('whoAmI' as const), s: session }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('renew' as const), s: session }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('reconnect' as const),
      s: session,
      relativeToLast: fc.constantFrom(true, true, true, false),
      watches: fc.record({
        data: fc.uniqueArray(validPath, { maxLength: 2 }),
        exist: fc.uniqueArray(validPath, { maxLength: 2 }),
        child: fc.uniqueArray(validPath, { maxLength: 2 }),
        persistent: fc.uniqueArray(validPath, { maxLength: 1 }),
        recursive: fc.uniqueArray(validPath, { maxLength: 1 }),
      }),
    }),
  },
);

/** Every sequence starts with a few nodes and watches in place, so later ops hit something. */
const SETUP: readonly Op[] = [
  { t: 'create', s: 0, opcode: OpCode.create, path: 'a', data: 'a0', mode: CreateMode.PERSISTENT, acl: 'open', ttl: 0 },
  { t: 'create', s: 1, opcode: OpCode.create2, path: 'b', data: null, mode: CreateMode.PERSISTENT, acl: 'open', ttl: 0 },
  { t: 'getChildren', s: 1, path: '', watch: true },
  { t: 'exists', s: 0, path: 'c', watch: true },
  { t: 'getData', s: 1, path: 'a', watch: true },
  { t: 'getChildren', s: 0, path: 'a', watch: true },
];

export function sequenceArb(opsMin: number, opsMax: number): fc.Arbitrary<Op[]> {
  return fc.array(opArb, { minLength: Math.max(0, opsMin - SETUP.length), maxLength: Math.max(0, opsMax - SETUP.length) }).map((ops) => [...SETUP, ...ops]);
}
