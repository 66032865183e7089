// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner, one file at a
// time so that suites which start real servers do not fight over the machine's two cores.
//
// Each file gets its own runner process with a wall-clock limit: a file that hangs (a leaked
// socket or timer after a failure kept its process alive, once for the rest of a 90-minute CI
// run) is killed with its whole process group, reported, and the remaining files still run.
// --test-force-exit ends a file's process once its tests are done, whatever handles it left.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const FILE_LIMIT_MS = Number(process.env.TSZK_TEST_FILE_LIMIT_MS ?? 20 * 60_000);

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return find(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

/** Runs one file; resolves with the runner's summary counts, or marks it failed. */
function runFile(file, started) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    // --no-concurrent-recompilation (forwarded to the file's process): Node 20 can deadlock in
    // process.exit, which --test-force-exit calls, when a background TurboFan job waits for a GC
    // the exiting main thread never runs (nodejs/node#54918); about 1 run in 100 of a short file
    // hung until the limit below. With optimisation on the main thread it cannot happen.
    const child = spawn(process.execPath, ['--no-concurrent-recompilation', '--test', '--test-force-exit', '--test-reporter=spec', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { TSZK_LOG_LEVEL: 'warn', ...process.env },
      detached: true, // its own process group, so a timeout kills the servers it started too
    });
    started(child);
    const counts = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
    let tail = '';
    child.stdout.on('data', (b) => {
      process.stdout.write(b);
      tail = (tail + b.toString('utf8')).slice(-4096);
      for (const m of tail.matchAll(/^ℹ (tests|pass|fail|skipped|todo|cancelled) (\d+)$/gm)) counts[m[1]] = Number(m[2]);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.log(`\n✖ ${file}: still running after ${FILE_LIMIT_MS / 1000} s; killing its process group`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, FILE_LIMIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ok = code === 0 && !timedOut;
      resolve({ file, ok, code, signal, timedOut, counts, s: (Date.now() - t0) / 1000 });
    });
  });
}

const filter = process.argv[2];
const files = find('dist/test')
  .filter((f) => !filter || f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/test');
  process.exit(1);
}
// The runner processes are detached (own process groups): pass an interrupt on to the current one.
let current;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (current !== undefined) {
      try {
        process.kill(-current.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    process.exit(130);
  });
}
const results = [];
for (const f of files) results.push(await runFile(f, (c) => (current = c)));

const sum = (k) => results.reduce((n, r) => n + r.counts[k], 0);
const bad = results.filter((r) => !r.ok);
console.log(
  `\n${files.length} test files: tests ${sum('tests')}, pass ${sum('pass')}, fail ${sum('fail')}, skipped ${sum('skipped')}, cancelled ${sum('cancelled')}`,
);
for (const r of bad) console.log(`✖ ${r.file}: ${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`} after ${r.s.toFixed(0)} s`);
process.exit(bad.length === 0 ? 0 : 1);
