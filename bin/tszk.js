#!/usr/bin/env node
// Entry point of the `tszk` command: runs the compiled CLI (npm run build produces dist/).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('tszk is not built yet: run `npm run build` (npm ci && npm run build on a fresh clone)');
    process.exit(1);
  }
  throw err;
});
