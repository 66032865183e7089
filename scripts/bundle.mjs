// The bundled `tszk` command that bin/tszk.cjs runs (src/cli/compileCache.ts says why): the
// compiled CLI (dist/src/cli/main.js, so run `tsc` first; `npm run build` does both) as one
// CommonJS script, dist/bundle/tszk.cjs, and its launcher, dist/bundle/launch.cjs. The packages in
// dependencies stay outside (they load from node_modules on demand); a dynamic import() becomes a
// require, which vm.Script can run. Each module's import.meta.url stays the URL of its file in
// dist/src, which the package ships too: a module that starts itself as a worker thread
// (src/storage/snapshotWorker.ts) runs that file, not the whole command, and createRequire
// resolves from where it did.
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
  logLevel: 'warning',
  plugins: [
    {
      name: 'import-meta-url-of-each-module',
      setup(b) {
        b.onLoad({ filter: /\.js$/ }, async (args) => {
          const code = await fs.promises.readFile(args.path, 'utf8');
          if (!code.includes('import.meta.url')) return undefined;
          const fromBundle = JSON.stringify(path.relative(path.resolve(out), args.path).split(path.sep).join('/'));
          const url = `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${fromBundle})).href`;
          return { contents: code.replaceAll('import.meta.url', url), loader: 'js' };
        });
      },
    },
  ],
};
await build({ ...common, entryPoints: ['dist/src/cli/main.js'], outfile: path.join(out, 'tszk.cjs') });
await build({ ...common, entryPoints: ['dist/src/cli/compileCache.js'], outfile: path.join(out, 'launch.cjs') });
