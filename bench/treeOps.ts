/**
 * Micro-costs of the data tree's operations on a big tree, for this build and another side by
 * side (a change to how the tree stores paths must not make lookups slower): ns per getData,
 * exists of a missing path, getChildren of a small parent, create and delete, on a tree of N
 * znodes × 100 B laid out as bench:memory lays it out, in CPU time. Each build runs in its own
 * child process, rounds interleaved; the best round counts (still noisy on a shared machine).
 *
 *   npm run bench:tree-ops -- [--znodes 1000000] [--rounds 3] [--base-dist ../other/dist]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type * as TreeModule from '../src/tree/dataTree.js';
import type * as AclModule from '../src/tree/aclCache.js';
import { DATA_BYTES, FANOUT } from './loadZnodes.js';

const OPS = 200_000;
const SMALL_PARENT_CHILDREN = 10;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

type Figures = Record<'getData' | 'existsMissing' | 'getChildren' | 'create' | 'delete', number>;

async function child(n: number, dist: string): Promise<void> {
  const { DataTree } = (await import(`${dist}/src/tree/dataTree.js`)) as typeof TreeModule;
  const { OPEN_ACL_UNSAFE } = (await import(`${dist}/src/tree/aclCache.js`)) as typeof AclModule;
  const tree = new DataTree();
  const data = Buffer.alloc(DATA_BYTES, 7);
  let zxid = 0x100000000n;
  const t0 = 1_700_000_000_000n;
  for (let p = 0; p * FANOUT < n; p++) tree.createNode(`/d${p}`, null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0);
  for (let i = 0; i < n; i++) tree.createNode(`/d${Math.floor(i / FANOUT)}/n${i}`, data, OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0);
  tree.createNode('/small', null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0);
  for (let i = 0; i < SMALL_PARENT_CHILDREN; i++) tree.createNode(`/small/c${i}`, null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0);
  // Paths as a request brings them: fresh strings each pass (a string caches its hash once hashed).
  const existing = (): string[] => Array.from({ length: OPS }, (_, k) => `/d${Math.floor(((k * 7919) % n) / FANOUT)}/n${(k * 7919) % n}`);
  const missing = (): string[] => existing().map((p) => `${p}x`);
  const fresh = (): string[] => Array.from({ length: OPS }, (_, k) => `/d${k % Math.ceil(n / FANOUT)}/new${k}`);
  const small = (): string[] => Array.from({ length: OPS }, () => ['/sm', 'all'].join(''));
  let sink = 0;
  const ops: [keyof Figures, () => string[], (paths: string[]) => void][] = [
    ['getData', existing, (ps) => ps.forEach((p) => (sink += tree.getData(p).stat.version))],
    ['existsMissing', missing, (ps) => ps.forEach((p) => (sink += tree.getNode(p) === undefined ? 1 : 0))],
    ['getChildren', small, (ps) => ps.forEach((p) => (sink += tree.getChildren(p).children.length))],
    ['create', fresh, (ps) => ps.forEach((p) => tree.createNode(p, data, OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0))],
    ['delete', fresh, (ps) => ps.forEach((p) => tree.deleteNode(p, zxid++))],
  ];
  const time = (paths: () => string[], f: (paths: string[]) => void): number => {
    const ps = paths();
    // CPU time, not wall time: on a shared machine the process waits for a core.
    const s = process.cpuUsage();
    f(ps);
    const d = process.cpuUsage(s);
    return ((d.user + d.system) * 1000) / OPS;
  };
  // The first pass warms the JIT up; the second is timed.
  for (const [, paths, f] of ops) f(paths());
  const out = Object.fromEntries(ops.map(([k, paths, f]) => [k, time(paths, f)])) as Figures;
  if (sink === 0) throw new Error('nothing read');
  console.log(JSON.stringify(out));
}

function run(n: number, dist: string): Figures {
  const out = execFileSync(process.execPath, ['--max-old-space-size=8192', new URL(import.meta.url).pathname, '--child', String(n), '--dist', dist], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Figures;
}

async function main(): Promise<void> {
  const own = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
  const c = process.argv.indexOf('--child');
  if (c >= 0) return child(Number(process.argv[c + 1]), arg('dist', own));
  const n = Number(arg('znodes', '1000000'));
  const rounds = Number(arg('rounds', '3'));
  const base = arg('base-dist', '');
  const builds: [string, string][] = [['tszk', own]];
  if (base !== '') builds.push(['base', fs.realpathSync(base)]);
  const best = new Map<string, Figures>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, dist] of builds) {
      const f = run(n, dist);
      const b = best.get(name);
      best.set(name, b === undefined ? f : (Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Math.min(v, b[k as keyof Figures])])) as Figures));
    }
  }
  const keys = Object.keys(best.get('tszk')!) as (keyof Figures)[];
  console.log(`## Data tree operations on ${n} znodes: CPU ns per op, best of ${rounds} rounds\n`);
  console.log(`| build | ${keys.join(' | ')} |`);
  console.log(`|---|${keys.map(() => '---|').join('')}`);
  for (const [name] of builds) console.log(`| ${name} | ${keys.map((k) => best.get(name)![k].toFixed(0)).join(' | ')} |`);
  if (base !== '') console.log(`| tszk / base | ${keys.map((k) => (best.get('tszk')![k] / best.get('base')![k]).toFixed(2)).join(' | ')} |`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
