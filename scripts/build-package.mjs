// The published build (prepack): compiles src/ with tsconfig.build.json (.js and .d.ts into
// dist/src), then removes outputs in dist/src whose source is gone, so that a dist/ left by an
// older build cannot ship modules that no longer exist, and bundles the command from what is left
// (scripts/bundle.mjs, into dist/bundle). dist/test and dist/bench are left alone (package.json
// `files` keeps them out of the package, and a compile cache written beside the bundle).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

function prune(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      prune(p);
      if (fs.readdirSync(p).length === 0) fs.rmdirSync(p);
      continue;
    }
    const m = /^(.*)\.(js|d\.ts|js\.map)$/.exec(e.name);
    if (m === null) continue;
    const source = path.join('src', path.relative(path.join('dist', 'src'), dir), `${m[1]}.ts`);
    if (!fs.existsSync(source)) fs.rmSync(p);
  }
}
prune(path.join('dist', 'src'));

// The bundled command bin/tszk.cjs runs, from the dist/src just built.
const b = spawnSync(process.execPath, [path.join('scripts', 'bundle.mjs')], { stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
