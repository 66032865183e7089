import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JuteError, JuteReader } from '../../src/jute/index.js';
import { ConnectRequest, CreateRequest, ReplyHeader, Stat } from '../../src/proto/records.js';

test('ReplyHeader encodes big-endian int, long, int', () => {
  const b = ReplyHeader.encode({ xid: 1, zxid: 0x100000002n, err: -101 });
  assert.equal(b.toString('hex'), '00000001' + '0000000100000002' + 'ffffff9b');
  assert.deepEqual(ReplyHeader.decode(b), { xid: 1, zxid: 0x100000002n, err: -101 });
});

test('null buffer is length -1 and stays null; empty stays empty', () => {
  const a = CreateRequest.encode({ path: '/a', data: null, acl: [], flags: 0 });
  assert.equal(a.subarray(6, 10).toString('hex'), 'ffffffff');
  assert.equal(CreateRequest.decode(a).data, null);
  const e = CreateRequest.decode(CreateRequest.encode({ path: '/a', data: Buffer.alloc(0), acl: [], flags: 0 }));
  assert.deepEqual(e.data, Buffer.alloc(0));
});

test('nested records and vectors round-trip', () => {
  const v = {
    path: '/x/y',
    data: Buffer.from('hello'),
    acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
    flags: 3,
  };
  assert.deepEqual(CreateRequest.decode(CreateRequest.encode(v)), v);
});

test('Stat is 68 bytes on the wire', () => {
  const s = {
    czxid: 1n,
    mzxid: 2n,
    ctime: 3n,
    mtime: 4n,
    version: 5,
    cversion: 6,
    aversion: 7,
    ephemeralOwner: -1n,
    dataLength: 8,
    numChildren: 9,
    pzxid: 10n,
  };
  const b = Stat.encode(s);
  assert.equal(b.length, 68);
  assert.deepEqual(Stat.decode(b), s);
});

test('truncated input throws JuteError with the offset, never reads past the end', () => {
  const b = ConnectRequest.encode({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
  for (let cut = 0; cut < b.length; cut++) {
    assert.throws(() => ConnectRequest.read(new JuteReader(b.subarray(0, cut))), JuteError);
  }
});

test('a length larger than the bytes left is rejected before allocating', () => {
  const b = Buffer.from('7fffffff', 'hex');
  assert.throws(() => new JuteReader(b).buffer(), /exceeds/);
  assert.throws(() => new JuteReader(Buffer.from('fffffffe', 'hex')).ustring(), /negative length/);
});
