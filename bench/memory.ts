/**
 * Memory per znode: (1) the data tree alone, in a child process with --expose-gc: V8 heap and
 * external bytes per znode after a full GC, for znodes of 100 B made by DataTree.createNode;
 * (2) the server: RSS after loading N znodes × 100 B through a client, tszk beside Apache
 * ZooKeeper 3.8 (-Xmx512m) in the same run, and the ratio. Bytes are not disturbed by a loaded
 * machine as timings are.
 *
 *   npm run bench:memory -- [--tree 100000,1000000] [--server 100000] [--systems tszk,zookeeper]
 *                           [--base-dist ../other/dist]   (the tree part for another build too)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type * as TreeModule from '../src/tree/dataTree.js';
import type * as AclModule from '../src/tree/aclCache.js';
import { DATA_BYTES, FANOUT, loadZnodes } from './loadZnodes.js';
import { processMemory } from './procstat.js';
import { dataDirBytes, startServer, systemMissing, type SystemName } from './servers.js';

/**
 * Time each server is left idle after the load before its RSS is read: its GC and JIT settle, and
 * tszk gives heap back in a quiet spell (src/server/heap.ts: the second collection, 6 s after the first).
 */
const SETTLE_MS = 15_000;
const MIB = 1024 * 1024;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const counts = (s: string): number[] => (s === '' || s === 'none' ? [] : s.split(',').map(Number));

interface TreeFigures {
  znodes: number;
  heap_per_znode: number;
  external_per_znode: number;
  rss_per_znode: number;
}

/** Child: builds the tree from the given build's dist and prints its figures as JSON. */
async function treeChild(n: number, dist: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const { DataTree } = (await import(`${dist}/src/tree/dataTree.js`)) as typeof TreeModule;
  const { OPEN_ACL_UNSAFE } = (await import(`${dist}/src/tree/aclCache.js`)) as typeof AclModule;
  gc();
  gc();
  const before = process.memoryUsage();
  const tree = new DataTree();
  // Data arrives inside a request packet: each create gets a fresh slice, as the server's decoder gives it.
  const packet = Buffer.alloc(64 * 1024, 7);
  let zxid = 0x100000000n;
  const t0 = 1_700_000_000_000n;
  for (let p = 0; p * FANOUT < n; p++) tree.createNode(`/d${p}`, null, OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0);
  for (let i = 0; i < n; i++) {
    const off = (i * DATA_BYTES) % (packet.length - DATA_BYTES);
    tree.createNode(`/d${Math.floor(i / FANOUT)}/n${i}`, Buffer.from(packet.subarray(off, off + DATA_BYTES)), OPEN_ACL_UNSAFE, 0n, -1, zxid++, t0 + BigInt(i));
  }
  void tree.digest;
  gc();
  gc();
  const after = process.memoryUsage();
  const out: TreeFigures = {
    znodes: n,
    heap_per_znode: (after.heapUsed - before.heapUsed) / n,
    external_per_znode: (after.external - before.external) / n,
    rss_per_znode: (after.rss - before.rss) / n,
  };
  console.log(JSON.stringify(out));
  if (tree.nodeCount < n) throw new Error('tree lost znodes');
}

function treeFigures(n: number, dist: string): TreeFigures {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', new URL(import.meta.url).pathname, '--tree-child', String(n), '--dist', dist],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as TreeFigures;
}

interface ServerFigures {
  system: SystemName;
  znodes: number;
  rss_mib: number;
  rssPeak_mib: number;
  dataDir_mib: number;
  load_s: number;
}

async function serverFigures(system: SystemName, n: number): Promise<ServerFigures> {
  const server = await startServer(system, { forceSync: true, zkHeap_mb: 512 });
  try {
    const t0 = performance.now();
    await loadZnodes(server.members[0]!, n);
    const load_s = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const m = processMemory(server.pids[0]!);
    return { system, znodes: n, rss_mib: m.rss_bytes / MIB, rssPeak_mib: m.rssPeak_bytes / MIB, dataDir_mib: dataDirBytes(server.dataDirs) / MIB, load_s };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const child = process.argv.indexOf('--tree-child');
  if (child >= 0) return treeChild(Number(process.argv[child + 1]), arg('dist', new URL('..', import.meta.url).pathname.replace(/\/$/, '')));
  const ownDist = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
  const baseDist = arg('base-dist', '');
  console.log('## Data tree alone: bytes per znode of 100 B after a full GC (DataTree.createNode)\n');
  console.log('| build | znodes | V8 heap B | external B | heap + external B | RSS growth B |');
  console.log('|---|---|---|---|---|---|');
  for (const n of counts(arg('tree', '100000,1000000'))) {
    for (const [name, dist] of baseDist === ''
      ? [['tszk', ownDist]]
      : [
          ['tszk', ownDist],
          ['base', fs.realpathSync(baseDist)],
        ]) {
      const f = treeFigures(n, dist!);
      console.log(
        `| ${name} | ${n} | ${f.heap_per_znode.toFixed(0)} | ${f.external_per_znode.toFixed(0)} | ${(f.heap_per_znode + f.external_per_znode).toFixed(0)} | ${f.rss_per_znode.toFixed(0)} |`,
      );
    }
  }
  const serverCounts = counts(arg('server', '100000'));
  if (serverCounts.length === 0) return;
  const systems = arg('systems', 'tszk,zookeeper').split(',') as SystemName[];
  console.log(`\n## Server RSS after loading N znodes × ${DATA_BYTES} B through one client (ZooKeeper -Xmx512m, fsync on)\n`);
  console.log('| system | znodes | RSS MiB | peak RSS MiB | dataDir MiB | load s (noisy) |');
  console.log('|---|---|---|---|---|---|');
  for (const n of serverCounts) {
    const rss = new Map<SystemName, number>();
    for (const system of systems) {
      const missing = systemMissing(system);
      if (missing !== undefined) {
        console.log(`| ${system} | ${n} | SKIPPED: ${missing} | | | |`);
        continue;
      }
      const f = await serverFigures(system, n);
      rss.set(system, f.rss_mib);
      console.log(`| ${system} | ${n} | ${f.rss_mib.toFixed(0)} | ${f.rssPeak_mib.toFixed(0)} | ${f.dataDir_mib.toFixed(0)} | ${f.load_s.toFixed(1)} |`);
    }
    const t = rss.get('tszk');
    const z = rss.get('zookeeper');
    if (t !== undefined && z !== undefined) console.log(`| tszk / ZooKeeper | ${n} | ${(t / z).toFixed(2)}× | | | |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
