import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, KeeperError } from '../../src/proto/errors.js';
import { authenticate, checkACL, fixupACL, generateDigest, hasPermission } from '../../src/txn/auth.js';

test('digest as ZooKeeper computes it (value taken from a real 3.8 server)', () => {
  assert.equal(generateDigest('u:p'), 'u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=');
});

test('superDigest grants super', () => {
  const ids = authenticate('digest', Buffer.from('super:pw'), '127.0.0.1', generateDigest('super:pw'))!;
  assert.deepEqual(
    ids.map((i) => i.scheme),
    ['super', 'digest'],
  );
  assert.equal(hasPermission({ skipACL: false }, [{ perms: 1, id: { scheme: 'digest', id: 'x:y' } }], 1, ids), true);
  assert.equal(authenticate('world', null, '127.0.0.1', undefined), undefined);
});

test('ip ACLs match by prefix; digest by equality', () => {
  const acl = [{ perms: 1, id: { scheme: 'ip', id: '10.1.0.0/16' } }];
  assert.equal(hasPermission({ skipACL: false }, acl, 1, [{ scheme: 'ip', id: '10.1.2.3' }]), true);
  assert.equal(hasPermission({ skipACL: false }, acl, 1, [{ scheme: 'ip', id: '10.2.2.3' }]), false);
  assert.equal(hasPermission({ skipACL: false }, acl, 2, [{ scheme: 'ip', id: '10.1.2.3' }]), false);
  assert.equal(hasPermission({ skipACL: true }, acl, 2, []), true);
  assert.throws(
    () => checkACL({ skipACL: false }, acl, 1, []),
    (e: unknown) => e instanceof KeeperError && e.code === Err.NoAuth,
  );
});

test('fixupACL: dedupe, auth expansion, invalid ids', () => {
  const me = [
    { scheme: 'ip', id: '127.0.0.1' },
    { scheme: 'digest', id: 'u:h' },
  ];
  assert.deepEqual(fixupACL('/p', me, [{ perms: 31, id: { scheme: 'auth', id: '' } }]), [{ perms: 31, id: { scheme: 'digest', id: 'u:h' } }]);
  const bad = (acl: { perms: number; id: { scheme: string; id: string } }[], auth = me) =>
    assert.throws(
      () => fixupACL('/p', auth, acl),
      (e: unknown) => e instanceof KeeperError && e.code === Err.InvalidACL,
    );
  bad([]);
  bad([{ perms: 31, id: { scheme: 'auth', id: '' } }], [{ scheme: 'ip', id: '1.2.3.4' }]);
  bad([{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }]);
  bad([{ perms: 31, id: { scheme: 'ip', id: '1.2.3.4/33' } }]);
  bad([{ perms: 31, id: { scheme: 'world', id: 'someone' } }]);
  const dup = { perms: 1, id: { scheme: 'world', id: 'anyone' } };
  assert.equal(fixupACL('/p', me, [dup, dup]).length, 1);
});
