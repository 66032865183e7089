/** The config a reconfig asks for, its text, and the refusals that need no ensemble to show. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseZooCfg } from '../../src/server/config.js';
import { configText, ensembleConfigOf, parseConfigText } from '../../src/server/quorum/quorumConfig.js';
import { requestedConfig } from '../../src/server/quorum/reconfigRequest.js';
import { Err, KeeperError } from '../../src/proto/errors.js';

const cfg = parseZooCfg(
  ['tickTime=200', 'dataDir=/tmp/x', 'server.1=127.0.0.1:2888:3888;2181', 'server.2=127.0.0.1:2889:3889;2182', 'server.3=127.0.0.1:2890:3890;2183'].join('\n'),
);
const active = ensembleConfigOf(cfg);
const req = (r: Partial<{ joiningServers: string; leavingServers: string; newMembers: string }>) => ({
  joiningServers: '',
  leavingServers: '',
  newMembers: '',
  curConfigId: -1n,
  ...r,
});
const refused = (code: number) => (e: unknown) => e instanceof KeeperError && e.code === code;

test("incremental: joiners replace or add lines, leavers go; the text is ZooKeeper's, version in hex", () => {
  const next = requestedConfig(active, req({ joiningServers: ' server.100=0.0.0.0:1234:2345:observer;3456 ', leavingServers: '3' }), 0x100000006n, true);
  assert.equal(
    configText(next),
    [
      'server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181',
      'server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182',
      'server.100=0.0.0.0:1234:2345:observer;0.0.0.0:3456',
      'version=100000006',
    ].join('\n'),
  );
  assert.equal(configText(parseConfigText(configText(next))!), configText(next));
});

test('non-incremental: newMembers is the whole membership, commas or newlines between lines', () => {
  const next = requestedConfig(
    active,
    req({ newMembers: 'server.1=127.0.0.1:2888:3888;2181,server.2=127.0.0.1:2889:3889;2182\nserver.4=127.0.0.1:2891:3891:observer' }),
    7n,
    true,
  );
  assert.deepEqual(
    next.servers.map((s) => `${s.id}:${s.role}`),
    ['1:participant', '2:participant', '4:observer'],
  );
});

test("bad arguments: BadArguments (a non-numeric leaver: MarshallingError, as ZooKeeper's NumberFormatException)", () => {
  assert.throws(() => requestedConfig(active, req({ joiningServers: 'some thing' }), 1n, true), refused(Err.BadArguments));
  assert.throws(() => requestedConfig(active, req({ joiningServers: 'server.9=127.0.0.1:1:2:observer' }), 1n, true), refused(Err.BadArguments));
  assert.throws(() => requestedConfig(active, req({ joiningServers: 'server.9=127.0.0.1:1:2:voter;3' }), 1n, true), refused(Err.BadArguments));
  assert.throws(() => requestedConfig(active, req({ newMembers: 'server.1=nonsense' }), 1n, true), refused(Err.BadArguments));
  assert.throws(() => requestedConfig(active, req({ leavingServers: 'abc' }), 1n, true), refused(Err.MarshallingError));
  // A far address used twice is refused; loopback ones escape ZooKeeper's check.
  const far = requestedConfig(active, req({ joiningServers: 'server.7=192.0.2.1:10:11:observer;12' }), 1n, true);
  assert.throws(() => requestedConfig(far, req({ joiningServers: 'server.8=192.0.2.1:13:11:observer;14' }), 2n, true), refused(Err.BadArguments));
  requestedConfig(active, req({ joiningServers: 'server.8=127.0.0.1:2888:3888:observer;2181' }), 2n, true);
});

test('too few voters: 2 needed with standaloneEnabled, 1 without', () => {
  assert.throws(() => requestedConfig(active, req({ leavingServers: '1,2' }), 1n, true), refused(Err.BadArguments));
  assert.equal(requestedConfig(active, req({ leavingServers: '1,2' }), 1n, false).servers.length, 1);
  assert.throws(() => requestedConfig(active, req({ leavingServers: '1,2,3' }), 1n, false), refused(Err.BadArguments));
});

test('incremental over a hierarchical quorum: BadArguments', () => {
  const h = { ...active, hierarchy: ['group.1=1:2:3'] };
  assert.throws(() => requestedConfig(h, req({ leavingServers: '3' }), 1n, true), refused(Err.BadArguments));
});
