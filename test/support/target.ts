/**
 * Which server an external-facing suite runs against. Suites default to tszk (the thing under
 * test); TSZK_TEST_TARGET=zookeeper runs the same suite against the real Apache ZooKeeper 3.8,
 * which is how the suites themselves are validated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTszk } from './tszk.js';
import { startZooKeeper, zookeeperMissing } from './zookeeper.js';

export type TargetKind = 'tszk' | 'zookeeper';

export interface Target {
  kind: TargetKind;
  port: number;
  connectString: string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** Enable TTL nodes (zookeeper.extendedTypesEnabled). */
  extendedTypes?: boolean;
  cfg?: Record<string, string | number>;
  logFile?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root, whether running from test/ sources or compiled dist/test. */
export const repoRoot = import.meta.url.endsWith('.ts') ? path.resolve(here, '../..') : path.resolve(here, '../../..');

export function targetKind(): TargetKind {
  const v = process.env['TSZK_TEST_TARGET'] ?? 'tszk';
  if (v !== 'tszk' && v !== 'zookeeper') throw new Error(`TSZK_TEST_TARGET must be tszk or zookeeper, not ${v}`);
  return v;
}

/** CI sets TSZK_REQUIRE_EXTERNAL=1: a missing external dependency then fails instead of skipping. */
export function requireExternal(): boolean {
  return process.env['TSZK_REQUIRE_EXTERNAL'] === '1';
}

/**
 * The skip option for a test needing an external dependency: the reason when it is missing
 * and skipping is allowed, otherwise false (the test runs, and fails if it is missing).
 */
export function skipUnless(missing: string | undefined): string | false {
  if (missing === undefined || requireExternal()) return false;
  console.log(`# skipped: ${missing}`);
  return missing;
}

export function tszkMissing(): string | undefined {
  if (!fs.existsSync(path.join(repoRoot, 'src/cli/main.ts')) && !fs.existsSync(path.join(repoRoot, 'dist/src/cli/main.js')))
    return 'tszk CLI not built yet (src/cli/main.ts missing)';
  return undefined;
}

/** What is missing for this target kind, if anything. */
export function targetMissing(kind: TargetKind): string | undefined {
  return kind === 'zookeeper' ? zookeeperMissing() : tszkMissing();
}

export async function startTarget(kind: TargetKind, opts: TargetOptions = {}): Promise<Target> {
  if (kind === 'zookeeper') {
    const zk = await startZooKeeper({
      cfg: opts.cfg ?? {},
      sysProps: opts.extendedTypes ? { 'zookeeper.extendedTypesEnabled': 'true' } : {},
      ...(opts.logFile ? { logFile: opts.logFile } : {}),
    });
    return { kind, port: zk.port, connectString: zk.connectString, stop: () => zk.stop() };
  }
  const t = await startTszk({
    cfg: { ...(opts.extendedTypes ? { extendedTypesEnabled: 'true' } : {}), ...opts.cfg },
    ...(opts.logFile ? { logFile: opts.logFile } : {}),
  });
  return { kind, port: t.port, connectString: t.connectString, stop: () => t.stop() };
}
