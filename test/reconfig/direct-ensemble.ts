/**
 * An ensemble of real peer processes, all Apache ZooKeeper 3.8 or all tszk, whose server.N lines
 * name every peer's real ports (no recording proxies): with reconfigEnabled a ZooKeeper leader
 * hands its own config to every learner, which then binds the ports named there.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/ports.js';
import { spawnPeer, srvrStatus, waitForLeaderAmong, writePeerConfig } from '../support/peer-process.js';
import { killAndWait } from '../support/stop-process.js';

export type Kind = 'tszk' | 'zookeeper';

export interface DirectPeer {
  sid: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  connectString: string;
  dataDir: string;
}

export interface DirectEnsemble {
  peers: DirectPeer[];
  dir: string;
  waitForLeader(timeout_ms?: number): Promise<DirectPeer>;
  stop(): Promise<void>;
}

/** The digest of super:test, the super user kazoo's own test harness configures. */
export const SUPER_DIGEST = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=';

export async function startDirectEnsemble(kind: Kind, n: number, cfg: Record<string, string | number>): Promise<DirectEnsemble> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `reconfig-${kind}-`));
  const slots: { sid: number; client: number; quorum: number; election: number }[] = [];
  for (let sid = 1; sid <= n; sid++) slots.push({ sid, client: await freePort(), quorum: await freePort(), election: await freePort() });
  const lines = slots.map((s) => `server.${s.sid}=127.0.0.1:${s.quorum}:${s.election}:participant;127.0.0.1:${s.client}`);
  const procs: ChildProcess[] = [];
  const peers = slots.map((s) => {
    const dataDir = path.join(dir, `peer${s.sid}`);
    const base = { tickTime: 200, initLimit: 10, syncLimit: 5, dataDir, 'admin.enableServer': 'false', '4lw.commands.whitelist': '*' };
    // tszk reads superDigest from zoo.cfg; ZooKeeper only as a system property.
    const own: Record<string, string> = kind === 'tszk' ? { 'DigestAuthenticationProvider.superDigest': SUPER_DIGEST } : {};
    const cfgPath = writePeerConfig(dataDir, s.sid, { ...base, ...own, ...cfg }, lines);
    const jvmArgs = ['-Xmx192m', '-XX:+UseSerialGC', `-Dzookeeper.DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`];
    procs.push(spawnPeer(kind, cfgPath, path.join(dir, `peer${s.sid}.log`), { jvmArgs }));
    return { sid: s.sid, clientPort: s.client, quorumPort: s.quorum, electionPort: s.election, connectString: `127.0.0.1:${s.client}`, dataDir };
  });
  return {
    peers,
    dir,
    waitForLeader: (timeout_ms = 60_000) =>
      waitForLeaderAmong(
        () => peers,
        (p) => srvrStatus(p.clientPort),
        (p) => p.sid,
        { timeout_ms },
        `${kind} ensemble`,
        dir,
      ),
    async stop() {
      await Promise.all(procs.filter((p) => p.exitCode === null && p.signalCode === null).map((p) => killAndWait(p, 'SIGKILL')));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
