#!/usr/bin/env node
// Entry point of the `tszk` command. Runs the bundled CLI with its compile cache
// (dist/bundle, src/cli/compileCache.ts), or the compiled modules in dist/src when there is no
// bundle or it is older than they are (`tsc` alone rebuilt dist/src: the bundle would run stale code).
const fs = require('node:fs');
const path = require('node:path');

const bundle = path.join(__dirname, '../dist/bundle/tszk.cjs');
const modules = path.join(__dirname, '../dist/src/cli/main.js');
const mtime = (f) => fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs;
const bundled = mtime(bundle);
if (bundled !== undefined && bundled >= (mtime(modules) ?? 0)) {
  require('../dist/bundle/launch.cjs').runBundle(bundle);
} else {
  import('../dist/src/cli/main.js').catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
      console.error('tszk is not built yet: run `npm run build` (npm ci && npm run build on a fresh clone)');
      process.exit(1);
    }
    throw err;
  });
}
