/**
 * The load generator writes request bodies field by field for speed; these must be the same
 * bytes as the declarative records in src/proto produce, or the benchmark measures errors.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { writeCreate, writeDelete, writePathWatch, writeSetData } from '../../bench/session.js';
import { parseWorkloads } from '../../bench/workloads.js';
import { JuteWriter } from '../../src/jute/index.js';
import { Perms } from '../../src/proto/opcodes.js';
import { CreateRequest, DeleteRequest, ExistsRequest, GetChildrenRequest, GetDataRequest, SetDataRequest } from '../../src/proto/records.js';

function bytes(f: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(8);
  f(w);
  return Buffer.from(w.bytes());
}

const data = Buffer.from('x'.repeat(100));
const openAcl = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

test('hand-written request bodies equal the src/proto records', () => {
  assert.deepEqual(
    bytes((w) => writeCreate(w, '/b/w0s1/a17', data, 0)),
    CreateRequest.encode({ path: '/b/w0s1/a17', data, acl: openAcl, flags: 0 }),
  );
  assert.deepEqual(
    bytes((w) => writeSetData(w, '/b/k', data)),
    SetDataRequest.encode({ path: '/b/k', data, version: -1 }),
  );
  assert.deepEqual(
    bytes((w) => writeDelete(w, '/b/k')),
    DeleteRequest.encode({ path: '/b/k', version: -1 }),
  );
  const pw = bytes((w) => writePathWatch(w, '/b/ü'));
  assert.deepEqual(pw, GetDataRequest.encode({ path: '/b/ü', watch: false }));
  assert.deepEqual(pw, ExistsRequest.encode({ path: '/b/ü', watch: false }));
  assert.deepEqual(pw, GetChildrenRequest.encode({ path: '/b/ü', watch: false }));
});

test('workload list: canonical order, both modes, mix sweep, create added when needed', () => {
  const names = parseWorkloads('delete,getData,mix50,mix90', 'sync,async').map((w) => w.name);
  assert.deepEqual(names, [
    'create async',
    'getData async',
    'mix r90 async',
    'mix r50 async',
    'delete async',
    'create sync',
    'getData sync',
    'mix r90 sync',
    'mix r50 sync',
    'delete sync',
  ]);
  assert.equal(parseWorkloads('mix100', 'async')[1]!.write, false);
  assert.equal(parseWorkloads('getChildren', 'async').length, 1);
  assert.throws(() => parseWorkloads('frobnicate', 'async'), /unknown workload/);
  assert.throws(() => parseWorkloads('create', 'batch'), /unknown mode/);
  assert.throws(() => parseWorkloads('mix150', 'async'), /over 100/);
});
