/**
 * What the ensemble launchers (ensemble.ts, fault-cluster.ts, zk-ensemble.ts) share about one
 * peer process: its dataDir files (myid, zoo.cfg), spawning it as tszk or Apache ZooKeeper 3.8
 * (QuorumPeerMain), waiting for its client port to answer ruok, reading srvr, and killing it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fourLetter } from './ports.js';
import { tszkCommand } from './tszk.js';
import { ZK_SERVER_CLASSPATH } from './zookeeper.js';

export type PeerMode = 'leader' | 'follower' | 'observer' | 'looking' | 'down';

export interface PeerStatus {
  mode: PeerMode;
  /** Zxid from srvr (undefined when down). */
  zxid: bigint | undefined;
}

/** Mode and zxid from a srvr answer ('looking' when the peer does not serve). */
export function parseSrvr(text: string): PeerStatus {
  const mode = /Mode: (\w+)/.exec(text)?.[1];
  const zxid = /Zxid: (0x[0-9a-f]+)/i.exec(text)?.[1];
  const m: PeerMode = mode === 'leader' || mode === 'follower' || mode === 'observer' ? mode : 'looking';
  return { mode: text.includes('not currently serving') ? 'looking' : m, zxid: zxid === undefined ? undefined : BigInt(zxid) };
}

/**
 * Polls the `candidates()` peers' status every 50 ms until exactly one is leader and (unless
 * allServing is false) all of them serve; throws after timeout_ms naming each peer's mode.
 */
export async function waitForLeaderAmong<P>(
  candidates: () => P[],
  status: (p: P) => Promise<PeerStatus>,
  idOf: (p: P) => number,
  w: { timeout_ms?: number; allServing?: boolean },
  what: string,
  dir: string,
): Promise<P> {
  const deadline = Date.now() + (w.timeout_ms ?? 30_000);
  let last = '';
  for (;;) {
    const st = await Promise.all(candidates().map(async (p) => [p, await status(p)] as const));
    const leaders = st.filter(([, s]) => s.mode === 'leader');
    const serving = st.every(([, s]) => s.mode !== 'looking' && s.mode !== 'down');
    last = st.map(([p, s]) => `${idOf(p)}:${s.mode}`).join(' ');
    if (leaders.length === 1 && (w.allServing === false || serving)) return leaders[0]![0];
    if (Date.now() > deadline) throw new Error(`no leader within the timeout (${what}: ${last}; logs in ${dir})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** srvr of the peer on `clientPort`, parsed; 'down' when it does not answer. */
export async function srvrStatus(clientPort: number): Promise<PeerStatus> {
  try {
    return parseSrvr(await fourLetter(clientPort, 'srvr', 1000));
  } catch {
    return { mode: 'down', zxid: undefined };
  }
}

/** Creates dataDir with myid and zoo.cfg (`cfg` keys in order, then the server.N lines); returns the zoo.cfg path. */
export function writePeerConfig(dataDir: string, sid: number, cfg: Record<string, string | number>, serverLines: string[]): string {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'myid'), `${sid}\n`);
  const cfgPath = path.join(dataDir, 'zoo.cfg');
  fs.writeFileSync(
    cfgPath,
    Object.entries(cfg)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') +
      '\n' +
      serverLines.join('\n') +
      '\n',
  );
  return cfgPath;
}

export interface SpawnPeerOptions {
  /** tszk: the full environment of the process. */
  env?: NodeJS.ProcessEnv;
  /** ZooKeeper: JVM options before -cp (heap, GC, -D properties). */
  jvmArgs?: string[];
}

/** Starts `kind` on `cfgPath`, stdout and stderr appended to `logFile`. */
export function spawnPeer(kind: 'tszk' | 'zookeeper', cfgPath: string, logFile: string, opts: SpawnPeerOptions = {}): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  try {
    if (kind === 'tszk') {
      const { cmd, args } = tszkCommand();
      return spawn(cmd, [...args, 'server', '--config', cfgPath], { stdio: ['ignore', out, out], env: opts.env ?? process.env });
    }
    return spawn('java', [...(opts.jvmArgs ?? []), '-cp', ZK_SERVER_CLASSPATH, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgPath], {
      stdio: ['ignore', out, out],
    });
  } finally {
    fs.closeSync(out);
  }
}

/** Polls ruok until imok; throws if `exited()` turns true or after `wait_ms`. `what` names the peer in errors. */
export async function waitForImok(clientPort: number, exited: () => boolean, wait_ms: number, what: string, logFile: string): Promise<void> {
  const deadline = Date.now() + wait_ms;
  for (;;) {
    if (exited()) throw new Error(`${what} exited during start (log ${logFile})`);
    try {
      if ((await fourLetter(clientPort, 'ruok', 500)) === 'imok') return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${wait_ms} ms (log ${logFile})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
