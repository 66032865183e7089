import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseZooCfg } from '../../src/server/config.js';

const base = 'tickTime=2000\ndataDir=/var/lib/tszk\n';

test('defaults follow ZooKeeper: session timeouts from tickTime, port 2181, srvr-only 4lw', () => {
  const c = parseZooCfg(base);
  assert.equal(c.options.clientPort, 2181);
  assert.equal(c.options.minSessionTimeout_ms, 4000);
  assert.equal(c.options.maxSessionTimeout_ms, 40000);
  assert.deepEqual(c.options.fourLetterWhitelist, new Set(['srvr']));
  assert.equal(c.options.dataLogDir, '/var/lib/tszk');
  assert.deepEqual(c.warnings, []);
});

test('system-property keys work from zoo.cfg, with or without the zookeeper. prefix', () => {
  const c = parseZooCfg(
    base +
      'extendedTypesEnabled=true\nzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n4lw.commands.whitelist=ruok, stat,mntr\n',
  );
  assert.equal(c.options.extendedTypesEnabled, true);
  assert.equal(c.options.superDigest, 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  assert.deepEqual(c.options.fourLetterWhitelist, new Set(['ruok', 'stat', 'mntr']));
});

test('tszk.zxidRolloverWithoutElection: off unless set to true (ZooKeeper elects when the zxid counter is spent)', () => {
  assert.equal(parseZooCfg(base).options.zxidRolloverWithoutElection, false);
  const c = parseZooCfg(base + 'tszk.zxidRolloverWithoutElection=true\n');
  assert.equal(c.options.zxidRolloverWithoutElection, true);
  assert.deepEqual(c.warnings, []);
});

test('-D overrides beat the file', () => {
  const c = parseZooCfg(base + 'clientPort=2181\n', { sysProps: { clientPort: '3000', 'jute.maxbuffer': '4096' } });
  assert.equal(c.options.clientPort, 3000);
  assert.equal(c.options.juteMaxBuffer_bytes, 4096);
});

test('bad values name the key and the problem', () => {
  const cases: [string, RegExp][] = [
    ['tickTime=abc\ndataDir=/d\n', /tickTime: 'abc' is not an integer/],
    ['tickTime=2000\n', /dataDir: is required/],
    [base + 'clientPort=70000\n', /clientPort: 70000 is out of range/],
    [base + 'forceSync=maybe\n', /forceSync: 'maybe' is not one of/],
    [base + 'minSessionTimeout=9000\nmaxSessionTimeout=5000\n', /minSessionTimeout: 9000 must not be larger/],
    [base + 'server.1=localhost:2888\n', /server\.1: 'localhost:2888' is not host:quorumPort/],
    [base + 'server.1=localhost:2888:3888:voter\n', /role 'voter'/],
    [base + '4lw.commands.whitelist=ruok,status\n', /'status' is not a four-letter word/],
    [base + 'tszk.zxidRolloverWithoutElection=yes\n', /tszk\.zxidRolloverWithoutElection: 'yes' is not one of true\/false/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseZooCfg(text, { file: 'zoo.cfg' }),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      text,
    );
  }
});

test('unknown keys are warned, known-but-unused keys are not', () => {
  const c = parseZooCfg(base + 'initLimit=10\nsyncLimit=5\nadmin.enableServer=false\nfrobnicate=3\n');
  assert.deepEqual(c.warnings, ["unknown key 'frobnicate' ignored"]);
  assert.equal(c.initLimit, 10);
});

test('server lines: roles and client addresses', () => {
  const c = parseZooCfg(base + 'server.2=h2:2888:3888:observer;127.0.0.1:2182\nserver.1=h1:2888:3888;2181\n');
  assert.deepEqual(
    c.servers.map((s) => [s.id, s.host, s.role, s.clientAddress, s.clientPort]),
    [
      [1, 'h1', 'participant', undefined, 2181],
      [2, 'h2', 'observer', '127.0.0.1', 2182],
    ],
  );
});
