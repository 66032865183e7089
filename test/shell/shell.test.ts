/**
 * `tszk shell` against ZooKeeper's own zkCli: the same script runs through zkCli on a fresh
 * Apache ZooKeeper and through runShell on a fresh target server (ZooKeeper by default, tszk
 * with TSZK_TEST_TARGET=tszk); stdout, stderr and exit codes must match byte for byte once
 * times and session ids are masked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tokenize } from '../../src/cli/shell/parse.js';
import { javaDate, statLines } from '../../src/cli/shell/format.js';
import { validatePath } from '../../src/cli/shell/errors.js';
import { clientTargetMissing, startClientTarget, type RestartableServer } from '../support/client-target.js';
import { fourLetter } from '../support/ports.js';
import { skipUnless } from '../support/target.js';
import { runZkCli, zkCliMissing, type CliRun } from '../support/zkcli.js';
import { runOurs } from '../support/tszk-shell.js';
import { startZooKeeper, zookeeperMissing, type RealZooKeeper } from '../support/zookeeper.js';

const skip = skipUnless(clientTargetMissing() ?? zookeeperMissing() ?? zkCliMissing());

async function waitServing(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await fourLetter(port, 'srvr', 1000).catch(() => '');
    if (/^Mode: /m.test(answer)) return;
    if (Date.now() > deadline) assert.fail(`server on ${port} not serving: ${answer}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * zkCli prints watch events from its event thread, so where a "WATCHER::" block lands among
 * the command output varies from run to run. Compare the events (in order) and the rest of the
 * output separately.
 */
function splitEvents(s: string): { text: string; events: string[] } {
  const events: string[] = [];
  // The event thread can also interleave one line of command output inside the block.
  const text = s.replace(/\nWATCHER::\n([^\n]+\n)?\n(WatchedEvent [^\n]*)\n/g, (_m, interleaved: string | undefined, ev: string) => {
    events.push(ev);
    return interleaved ?? '';
  });
  return { text, events };
}

function assertSameOutput(ours: CliRun, theirs: CliRun, ourPort: number, theirPort: number, what: string): void {
  const o = splitEvents(normalize(ours.stdout, ourPort));
  const t = splitEvents(normalize(theirs.stdout, theirPort));
  assert.equal(o.text, t.text, `stdout of ${what}`);
  // zkCli exits without waiting for its event thread, so it may or may not print the Closed
  // event of a `close`; whether our in-process shell gets it out before the script ends races too.
  const closedAtExit = (evs: string[]): string[] => (evs.at(-1) === 'WatchedEvent state:Closed type:None path:null' ? evs.slice(0, -1) : evs);
  assert.deepEqual(closedAtExit(o.events), closedAtExit(t.events), `watch events of ${what}`);
  assert.equal(normalize(ours.stderr, ourPort), normalize(theirs.stderr, theirPort), `stderr of ${what}`);
  assert.equal(ours.code, theirs.code, `exit code of ${what}`);
}

/** Masks what legitimately differs between two runs: wall-clock times, session ids, ports. */
function normalize(s: string, port: number): string {
  return s
    .replace(/^(c|m)time = .*$/gm, '$1time = <time>')
    .replace(/^ephemeralOwner = 0x[0-9a-f]+$/gm, (m) => (m.endsWith('= 0x0') ? m : 'ephemeralOwner = <session>'))
    .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:<port>');
}

const SCRIPT = `create /a hello
create /a x
ls /
ls -s /
get -s /a
stat /a
create /b/c
get /nope
create -e /e
create -s /a/s
create -s /a/s
create -c /cont
create -c -e /bad
create -t 1000 /ttl
create -t abc /t3
create -t 0 /t4
create -e -t 10 /t5
getAcl /a
getAcl -s /a
setAcl /a world:anyone:r
set /a x
getAcl /a
addauth digest u:p
whoami
create /d dd auth::cdrwa
getAcl /d
create /acl1 x ip:127.0.0.1:cdrwa,world:anyone:r
getAcl /acl1
create /acl3 x world:anyone:zz
setAcl /acl1 bad
create /acl4 x bad
getEphemerals
getEphemerals /nope
sync /a
delete /nope
delete /a
ls -R /
set -v 5 /b x
create /w data
ls -w /w
get -w /w
create /w/c
set /w d2
set -s /w d3
stat /nope
set -v 99 /w x
delete -v 99 /w/c
create /q "hello world"
get /q
set -s -v 0 /q y
delete -v 1 /q
stat -w /q
create /q 'single quoted'
get x
create x
create /trailing/
create /a//b
ls -R /nope
deleteall /w
ls /
create -e /d/e
create /d/e/child
getAllChildrenNumber /
removewatches /q
ls -z /
set /q
bogus
ls
create
get /zookeeper
history
printwatches
printwatches off
ls -w /
create /pw
get /zookeeper
sync /
printwatches on
create -s /seq/
create /seq
create -s /seq/
ls /seq
deleteall /seq
close
ls /
`;

/** Less common options and error paths. */
const SCRIPT2 = `create /t
create /t/a 1
create /t/a/b 2
create /t/c 3
ls -s -R /t
ls -R /t
setAcl -R /t world:anyone:cdrwa
setAcl -s -v 0 /t world:anyone:cdrwa
setAcl -v 7 /t world:anyone:cdrwa
getAcl -s /t
create -s -e /t/es
create -s -t 5000 /t/ts
create -t 99999999999999 /t/big
get -s /t/es0000000003
getAllChildrenNumber /t
getAllChildrenNumber /nope
ls /t watch
get /t/a 1
create /t/a/b
removewatches /t -c
removewatches /t/a -d
addWatch /t
addWatch -m PERSISTENT /t/c
addWatch -m bogus /t/c
set /t/c 4
create /t/c/d
addWatch
deleteall -b 2 /t
ls /
getEphemerals /t
sync
delete
deleteall
stat
getAcl
setAcl /x
addauth
whoami extra
config
config -s
config -c
`;

describe('tszk shell matches zkCli 3.8', { skip }, () => {
  let target: RestartableServer;
  let reference: RealZooKeeper;
  before(async () => {
    [target, reference] = await Promise.all([
      startClientTarget({ extendedTypes: true }),
      startZooKeeper({ sysProps: { 'zookeeper.extendedTypesEnabled': 'true' } }),
    ]);
    // `ruok` answers before ZooKeeper serves sessions; zkCli's first command would then fail.
    await Promise.all([waitServing(target.port), waitServing(reference.port)]);
  });
  after(async () => {
    await Promise.all([target?.stop(), reference?.stop()]);
  });

  test('a script on stdin: same stdout, stderr and exit code', async () => {
    const [theirs, ours] = await Promise.all([runZkCli(reference.connectString, { stdin: SCRIPT }), runOurs(target.connectString, { stdin: SCRIPT })]);
    assertSameOutput(ours, theirs, target.port, reference.port, 'the script');
    // The comparison is only meaningful if the script produced the interesting output.
    assert.match(theirs.stdout, /WatchedEvent state:SyncConnected type:NodeDataChanged path:\/w/);
    assert.match(theirs.stdout, /WatchedEvent state:Closed type:None path:null\n/);
    if (process.env['TSZK_SHELL_DUMP']) console.log(theirs.stdout, theirs.stderr, theirs.code);
    assert.match(ours.stderr, /Node already exists: \/a/);
  });

  test('a second script: recursive listing, ACL options, TTL, watches, usage errors', async () => {
    const [theirs, ours] = await Promise.all([runZkCli(reference.connectString, { stdin: SCRIPT2 }), runOurs(target.connectString, { stdin: SCRIPT2 })]);
    if (process.env['TSZK_SHELL_DUMP']) console.log(theirs.stdout, theirs.stderr, theirs.code);
    assertSameOutput(ours, theirs, target.port, reference.port, 'the second script');
  });

  test('one command as arguments: output and exit code', async () => {
    for (const cmd of [
      ['ls', '/'],
      ['get', '/nope'],
      ['create', '/argmode', 'two words'],
      ['get', '-s', '/argmode'],
      ['ls', '-R', '/zookeeper'],
    ]) {
      const theirs = await runZkCli(reference.connectString, { args: cmd });
      const ours = await runOurs(target.connectString, { args: cmd });
      assertSameOutput(ours, theirs, target.port, reference.port, cmd.join(' '));
    }
  });

  // Last: it leaves nodes on the target only.
  test('a deleteall that cannot delete everything says so (zkCli races on this; checked alone)', async () => {
    const ours = await runOurs(target.connectString, {
      stdin: 'create /r\ncreate /r/k\nsetAcl /r world:anyone:r\ndeleteall /r\nls /r\n',
    });
    assert.equal(ours.stderr, 'Created /r\nCreated /r/k\nFailed to delete some node(s) in the subtree!\n');
    assert.match(ours.stdout, /\n\[k\]\n$/);
    assert.equal(ours.code, 0);
  });
});

describe('shell pieces', () => {
  test('tokenize keeps quoted words whole', () => {
    assert.deepEqual(tokenize(`create /q "hello world" 'a b'`), ['create', '/q', 'hello world', 'a b']);
    assert.deepEqual(tokenize('  ls   -s /  '), ['ls', '-s', '/']);
    assert.deepEqual(tokenize('set /a ""'), ['set', '/a', '']);
  });

  test('validatePath gives PathUtils messages', () => {
    assert.throws(() => validatePath('x'), /^CliError: Path must start with \/ character$/);
    assert.throws(() => validatePath('/a/'), /Path must not end with \/ character/);
    assert.throws(() => validatePath('/a//b'), /Invalid path string "\/a\/\/b" caused by empty node name specified @3/);
    assert.throws(() => validatePath('/a/.'), /relative paths not allowed @3/);
    validatePath('/a/', true);
    validatePath('/');
  });

  test('dates and stats print as Java prints them', () => {
    const tz = process.env['TZ'];
    process.env['TZ'] = 'UTC';
    try {
      assert.equal(javaDate(0n), 'Thu Jan 01 00:00:00 UTC 1970');
      assert.equal(javaDate(1795309963324n), 'Sun Nov 22 01:12:43 UTC 2026');
      const s = statLines({
        czxid: 0x1an,
        mzxid: -1n,
        ctime: 0n,
        mtime: 0n,
        version: 2,
        cversion: -1,
        aversion: 0,
        ephemeralOwner: 0x1000004a3820005n,
        dataLength: 5,
        numChildren: 0,
        pzxid: 0x1an,
      });
      assert.match(s, /^cZxid = 0x1a\nctime = Thu Jan 01 00:00:00 UTC 1970\nmZxid = 0xffffffffffffffff\n/);
      assert.match(s, /\nephemeralOwner = 0x1000004a3820005\ndataLength = 5\nnumChildren = 0\n$/);
    } finally {
      if (tz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = tz;
    }
  });
});
