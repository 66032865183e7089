/**
 * Paged reads at scale (tszk.pagedReads), tszk beside Apache ZooKeeper 3.8 in one run: a znode
 * with N children (default 1,000,000) and one of several MiB of data, both far beyond a client's
 * default jute.maxbuffer. For each system: what the plain read gives a client with the default
 * jute.maxbuffer (connection loss, on both), the plain read by a client whose jute.maxbuffer was
 * raised to take it (the only way ZooKeeper serves it), and on tszk the paged read by a client
 * with the default jute.maxbuffer. Each read is timed (wall) and the server's CPU time for it is
 * read from /proc; wall times are medians over --reps, CPU times means. Ratios: tszk paged vs ZooKeeper's plain read with the
 * raised limit, and vs tszk's own plain read (what paging costs).
 *
 *   npm run bench:paged                               # 1,000,000 children, 8 MiB of data
 *   npm run build && node dist/bench/pagedReads.js --children 200000 --data-mib 4 --reps 3
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { KeeperError, ZooKeeperClient } from '../src/client/index.js';
import { startTszk } from '../test/support/tszk.js';
import { startZooKeeper, zookeeperMissing } from '../test/support/zookeeper.js';
import { processCpu_us } from './procstat.js';

/** What the raised clients and servers accept: more than the biggest reply or request here. */
const RAISED_BYTES = 64 * 1024 * 1024;
/** Creates the loading client keeps in flight. */
const LOAD_WINDOW = 1000;

const { values: args } = parseArgs({
  options: {
    children: { type: 'string', default: '1000000' },
    'data-mib': { type: 'string', default: '8' },
    reps: { type: 'string', default: '5' },
  },
});
const CHILDREN = Number(args.children);
const DATA_BYTES = Number(args['data-mib']) * 1024 * 1024;
const REPS = Number(args.reps);

const childName = (i: number): string => `n${String(i).padStart(7, '0')}`;

interface Timing {
  wall_ms: number;
  serverCpu_ms: number;
  pages: number;
}

interface SystemFigures {
  system: 'tszk' | 'zookeeper';
  defaultChildren: string;
  defaultData: string;
  plainChildren: Timing;
  plainData: Timing;
  pagedChildren?: Timing;
  pagedData?: Timing;
}

async function load(zk: ZooKeeperClient): Promise<void> {
  await zk.create('/wide');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < CHILDREN) await zk.create(`/wide/${childName(next++)}`);
  };
  await Promise.all(Array.from({ length: LOAD_WINDOW }, worker));
  await zk.create('/big', Buffer.alloc(DATA_BYTES, 7));
}

/** The outcome of a plain read by a client with the default jute.maxbuffer. */
async function outcome(read: Promise<unknown>): Promise<string> {
  try {
    await read;
    return 'read whole';
  } catch (e) {
    return e instanceof KeeperError ? e.message : String(e);
  }
}

/** One read's wall time (median over REPS) and the server's CPU time for it (mean: /proc counts 10 ms ticks). */
async function timed(pid: number, read: () => Promise<number>): Promise<Timing> {
  const runs: Timing[] = [];
  for (let r = 0; r < REPS; r++) {
    const cpu0 = processCpu_us(pid);
    const t0 = performance.now();
    const pages = await read();
    runs.push({ wall_ms: performance.now() - t0, serverCpu_ms: (processCpu_us(pid) - cpu0) / 1000, pages });
  }
  const median = (f: (t: Timing) => number): number => runs.map(f).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  const cpu_ms = runs.reduce((sum, t) => sum + t.serverCpu_ms, 0) / runs.length;
  return { wall_ms: median((t) => t.wall_ms), serverCpu_ms: cpu_ms, pages: runs[0]!.pages };
}

async function measure(system: 'tszk' | 'zookeeper'): Promise<SystemFigures> {
  process.stdout.write(`# ${system}: loading ${CHILDREN.toLocaleString('en')} children and ${DATA_BYTES / 1024 / 1024} MiB of data\n`);
  const server =
    system === 'tszk'
      ? await startTszk({ cfg: { 'tszk.pagedReads': 'true', 'jute.maxbuffer': RAISED_BYTES }, startTimeout_ms: 60_000 })
      : await startZooKeeper({ sysProps: { 'jute.maxbuffer': String(RAISED_BYTES) }, jvmArgs: ['-Xmx2g'], startTimeout_ms: 60_000 });
  const pid = server.proc.pid!;
  const raised = await ZooKeeperClient.connect(server.connectString, { replyBytesMax: RAISED_BYTES });
  const plain = await ZooKeeperClient.connect(server.connectString, { connectWait_ms: 60_000 });
  try {
    await load(raised);
    // The first listing of a node pays for its order once (tszk caches it); not part of any figure.
    await raised.getChildren('/wide');
    const defaultChildren = await outcome(plain.getChildren('/wide'));
    const defaultData = await outcome(plain.getData('/big'));
    const figures: SystemFigures = {
      system,
      defaultChildren,
      defaultData,
      plainChildren: await timed(pid, async () => ((await raised.getChildren('/wide')).length === CHILDREN ? 1 : fail('listing'))),
      plainData: await timed(pid, async () => ((await raised.getData('/big')).data?.length === DATA_BYTES ? 1 : fail('data'))),
    };
    if (system === 'tszk') {
      figures.pagedChildren = await timed(pid, async () => {
        const r = await plain.getChildrenPaged('/wide');
        return r.children.length === CHILDREN ? r.pages : fail('paged listing');
      });
      figures.pagedData = await timed(pid, async () => {
        const r = await plain.getDataPaged('/big');
        return r.data?.length === DATA_BYTES ? r.pages : fail('paged data');
      });
    }
    return figures;
  } finally {
    await Promise.all([raised.close(), plain.close()]);
    await server.stop();
  }
}

function fail(what: string): never {
  throw new Error(`the ${what} read came back incomplete`);
}

const row = (name: string, t: Timing | undefined): string =>
  t === undefined
    ? `${name.padEnd(46)} -`
    : `${name.padEnd(46)} ${t.wall_ms.toFixed(0).padStart(7)} ms wall ${t.serverCpu_ms.toFixed(0).padStart(7)} ms server CPU  ${t.pages} replies`;

const missing = zookeeperMissing();
const results: SystemFigures[] = [await measure('tszk')];
if (missing === undefined) results.push(await measure('zookeeper'));
else process.stdout.write(`# ZooKeeper not measured: ${missing}\n`);

const mib = (DATA_BYTES / 1024 / 1024).toFixed(0);
process.stdout.write(
  `\npaged reads: ${CHILDREN.toLocaleString('en')} children (names of 8 bytes), ${mib} MiB of data, wall: median of ${REPS}, server CPU: mean\n`,
);
for (const r of results) {
  process.stdout.write(`${r.system}\n`);
  process.stdout.write(`  plain getChildren, default jute.maxbuffer: ${r.defaultChildren}\n`);
  process.stdout.write(`  plain getData, default jute.maxbuffer:     ${r.defaultData}\n`);
  process.stdout.write(`  ${row('plain getChildren, jute.maxbuffer 64 MiB', r.plainChildren)}\n`);
  process.stdout.write(`  ${row('paged getChildren, default jute.maxbuffer', r.pagedChildren)}\n`);
  process.stdout.write(`  ${row('plain getData, jute.maxbuffer 64 MiB', r.plainData)}\n`);
  process.stdout.write(`  ${row('paged getData, default jute.maxbuffer', r.pagedData)}\n`);
}
const t = results[0]!;
const z = results[1];
const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
process.stdout.write('\nratios (below 1: the paged read costs less)\n');
for (const [what, paged, own, zk] of [
  ['children', t.pagedChildren!, t.plainChildren, z?.plainChildren],
  ['data', t.pagedData!, t.plainData, z?.plainData],
] as const) {
  process.stdout.write(
    `  ${what}: tszk paged / tszk plain: wall ${ratio(paged.wall_ms, own.wall_ms)}, server CPU ${ratio(paged.serverCpu_ms, own.serverCpu_ms)}` +
      (zk === undefined
        ? '\n'
        : `; tszk paged / ZooKeeper plain: wall ${ratio(paged.wall_ms, zk.wall_ms)}, server CPU ${ratio(paged.serverCpu_ms, zk.serverCpu_ms)}\n`),
  );
}
