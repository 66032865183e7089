/**
 * Which server an external-facing suite runs against. Suites default to tszk (the thing under
 * test); TSZK_TEST_TARGET=zookeeper runs the same suite against the real Apache ZooKeeper 3.8,
 * which is how the suites themselves are validated.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawSession } from './raw-client.js';
import { startTszk } from './tszk.js';
import { startZooKeeper, zookeeperMissing } from './zookeeper.js';

export type TargetKind = 'tszk' | 'zookeeper';

export interface Target {
  kind: TargetKind;
  port: number;
  connectString: string;
  /** The server process has not exited. */
  alive(): boolean;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** Enable TTL nodes (zookeeper.extendedTypesEnabled). */
  extendedTypes?: boolean;
  cfg?: Record<string, string | number>;
  /** zookeeper.DigestAuthenticationProvider.superDigest ("super:<base64 sha1>"). */
  superDigest?: string;
  /** Container/TTL reaper period (znode.container.checkIntervalMs); large values keep it out of the way. */
  containerCheckInterval_ms?: number;
  logFile?: string;
  /** Extra JVM -D properties (ZooKeeper only: tszk takes the same keys in its zoo.cfg). */
  sysProps?: Record<string, string>;
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
      sysProps: {
        ...(opts.extendedTypes ? { 'zookeeper.extendedTypesEnabled': 'true' } : {}),
        ...(opts.containerCheckInterval_ms !== undefined ? { 'znode.container.checkIntervalMs': String(opts.containerCheckInterval_ms) } : {}),
        ...(opts.superDigest !== undefined ? { 'zookeeper.DigestAuthenticationProvider.superDigest': opts.superDigest } : {}),
        ...opts.sysProps,
      },
      ...(opts.logFile ? { logFile: opts.logFile } : {}),
    });
    await waitServing(zk.port).catch(async (e: unknown) => {
      await zk.stop();
      throw e;
    });
    const alive = (): boolean => zk.proc.exitCode === null && zk.proc.signalCode === null;
    return { kind, port: zk.port, connectString: zk.connectString, alive, stop: () => zk.stop() };
  }
  const t = await startTszk({
    cfg: {
      ...(opts.extendedTypes ? { extendedTypesEnabled: 'true' } : {}),
      ...(opts.containerCheckInterval_ms !== undefined ? { 'znode.container.checkIntervalMs': opts.containerCheckInterval_ms } : {}),
      ...(opts.superDigest !== undefined ? { 'DigestAuthenticationProvider.superDigest': opts.superDigest } : {}),
      ...opts.cfg,
    },
    ...(opts.logFile ? { logFile: opts.logFile } : {}),
  });
  await waitServing(t.port).catch(async (e: unknown) => {
    await t.stop();
    throw e;
  });
  const alive = (): boolean => t.proc.exitCode === null && t.proc.signalCode === null;
  return { kind, port: t.port, connectString: t.connectString, alive, stop: () => t.stop() };
}

const SERVING_WAIT_MS = 20_000;

/**
 * ZooKeeper answers `ruok` before its request pipeline runs and closes sessions opened in that
 * window ("ZooKeeperServer not running"); wait until a session handshake succeeds.
 */
export async function waitServing(port: number): Promise<void> {
  const deadline = Date.now() + SERVING_WAIT_MS;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const s = await RawSession.open(port);
      await s.close();
      return;
    } catch (e) {
      last = (e as Error).message;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`server on port ${port} accepts no session within ${SERVING_WAIT_MS} ms: ${last}`);
}
