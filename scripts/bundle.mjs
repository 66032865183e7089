// The bundled `tszk` command that bin/tszk.cjs runs (src/cli/compileCache.ts says why): the
// compiled CLI (dist/src/cli/main.js, so run `tsc` first; `npm run build` does both) as one
// CommonJS script, dist/bundle/tszk.cjs, and its launcher, dist/bundle/launch.cjs. The packages in
// dependencies stay outside (they load from node_modules on demand); a dynamic import() becomes a
// require, which vm.Script can run; import.meta.url is the bundle's own URL.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const out = path.join('dist', 'bundle');
fs.rmSync(out, { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
};
await build({ ...common, entryPoints: ['dist/src/cli/main.js'], outfile: path.join(out, 'tszk.cjs') });
await build({ ...common, entryPoints: ['dist/src/cli/compileCache.js'], outfile: path.join(out, 'launch.cjs') });
