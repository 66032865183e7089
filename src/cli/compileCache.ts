/**
 * Runs tszk's bundled command (dist/bundle/tszk.cjs, made by scripts/bundle.mjs) with V8's code
 * cache, so a start does not parse and compile the CLI's JavaScript again: bin/tszk.cjs calls
 * runBundle through dist/bundle/launch.cjs. Node 20 keeps no compile cache of its own (Node 22's
 * module.enableCompileCache), and its ES module loader takes none, so the bundle is one CommonJS
 * script compiled with vm.Script. Compiling and resolving some 80 modules was about 40 % of the
 * server's start-up CPU.
 *
 * The cache is `<bundle>.cache`: CACHE_MAGIC, the CRC-32 of the bundle's bytes, then V8's data.
 * V8 checks its own version and flags but, of the source, only its length, so the CRC is what
 * keeps a rebuilt bundle of the same length from running a stale cache. A missing or rejected
 * cache is written once the server serves (saveCompileCache), when what start-up compiled lazily
 * is compiled too; a directory that cannot be written (a read-only install) only means no cache.
 * TSZK_COMPILE_CACHE=off turns it off.
 */
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import zlib from 'node:zlib';

/** What happened to the cache on this start: used, absent, rejected (by the CRC or by V8), or not tried. */
export type CompileCacheState = 'hit' | 'miss' | 'rejected' | 'off';

interface CompileCacheHandle {
  state: CompileCacheState;
  /** Writes the cache if this start did not use one, at most once; true when it wrote it. */
  save(): boolean;
}

/** Where the launcher leaves the handle for the bundle it ran (two separately bundled files share only globals). */
const HANDLE = Symbol.for('tszk.compileCache');
const CACHE_MAGIC = Buffer.from('tszk-v8-cache-1\n');
const HEADER_BYTES = CACHE_MAGIC.length + 4;

function handle(): CompileCacheHandle | undefined {
  return (globalThis as Record<symbol, CompileCacheHandle | undefined>)[HANDLE];
}

/** How this process's start used the compile cache; undefined when it runs from dist/ (no bundle). */
export function compileCacheState(): CompileCacheState | undefined {
  return handle()?.state;
}

/** Called once the server serves: writes the cache for the next start, when this one had none (then true). */
export function saveCompileCache(): boolean {
  return handle()?.save() ?? false;
}

/** The cached V8 data in `cache` if it was made from a source with this CRC. */
function cachedDataFor(cache: Buffer | undefined, crc: number): Buffer | undefined {
  if (cache === undefined || cache.length <= HEADER_BYTES || !cache.subarray(0, CACHE_MAGIC.length).equals(CACHE_MAGIC)) return undefined;
  return cache.readUInt32BE(CACHE_MAGIC.length) === crc ? cache.subarray(HEADER_BYTES) : undefined;
}

function readIfThere(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Writes the file whole or not at all (concurrent starts each write their own temporary file and rename it); false when it cannot. */
function writeAtomically(file: string, parts: Buffer[]): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, Buffer.concat(parts));
    fs.renameSync(tmp, file);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}

/** Compiles and runs the CommonJS bundle at `file` (as require would, with its own require), using and keeping its code cache. */
export function runBundle(file: string): CompileCacheState {
  const bytes = fs.readFileSync(file);
  const cacheFile = `${file}.cache`;
  // zlib.crc32 is Node 20.15's: an older Node runs the bundle without a cache.
  const crc = process.env['TSZK_COMPILE_CACHE'] === 'off' || typeof zlib.crc32 !== 'function' ? undefined : zlib.crc32(bytes);
  const cache = crc === undefined ? undefined : readIfThere(cacheFile);
  const cachedData = crc === undefined ? undefined : cachedDataFor(cache, crc);
  const script = new vm.Script(Module.wrap(bytes.toString('utf8')), { filename: file, cachedData });
  const state: CompileCacheState =
    crc === undefined ? 'off' : cache === undefined ? 'miss' : cachedData === undefined || script.cachedDataRejected ? 'rejected' : 'hit';
  let saved = state === 'hit' || state === 'off';
  const cacheHandle: CompileCacheHandle = {
    state,
    save() {
      if (saved) return false;
      saved = true;
      const header = Buffer.alloc(4);
      header.writeUInt32BE(crc!);
      return writeAtomically(cacheFile, [CACHE_MAGIC, header, script.createCachedData()]);
    },
  };
  (globalThis as Record<symbol, CompileCacheHandle>)[HANDLE] = cacheHandle;
  const mod = { exports: {} };
  const wrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  return state;
}
