/**
 * A local N-member ensemble of either system, every member its own process with its own data
 * dir and zoo.cfg (server.N lines, myid), for the replicated benchmarks. Both systems read the
 * same zoo.cfg; only the command that starts a member differs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fourLetter, freePort } from '../test/support/ports.js';
import { tszkCommand } from '../test/support/tszk.js';
import { ZK_SERVER_CLASSPATH } from '../test/support/zookeeper.js';
import { BASE_CLI_ENV, type ServerSettings, type ServerUnderTest, type SystemName } from './servers.js';

/** How long an ensemble may take to elect a leader and have every member serving. */
const ENSEMBLE_START_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

interface Member {
  sid: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  dataDir: string;
  proc: ChildProcess | undefined;
}

function memberCommand(system: SystemName, cfgPath: string, s: ServerSettings): { cmd: string; args: string[] } {
  if (system === 'zookeeper') {
    return { cmd: 'java', args: [`-Xmx${s.zkHeap_mb}m`, '-cp', ZK_SERVER_CLASSPATH, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgPath] };
  }
  const t = tszkCommand(system === 'tszk-base' ? process.env[BASE_CLI_ENV] : undefined);
  return { cmd: t.cmd, args: [...t.args, 'server', '--config', cfgPath] };
}

/** The role a member reports in `srvr` (leader, follower, observer, standalone), if it answers. */
export async function memberMode(clientPort: number): Promise<string | undefined> {
  try {
    const text = await fourLetter(clientPort, 'srvr', 1000);
    return /^Mode: (\S+)/m.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** A running local ensemble: the harness's view plus what fail-over measurement needs. */
export interface Ensemble extends ServerUnderTest {
  clientPorts: number[];
  /** Index of the member that reports Mode: leader, if one does. */
  leader(): Promise<number | undefined>;
  kill(index: number): Promise<void>;
  restart(index: number): void;
  /** The process id of member `index`, if it runs. */
  pid(index: number): number | undefined;
  /** Resolves once every member serves and one leads. */
  waitServing(): Promise<void>;
}

export async function startEnsemble(system: SystemName, size: number, s: ServerSettings): Promise<Ensemble> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${system}-ensemble-`));
  const members: Member[] = [];
  for (let sid = 1; sid <= size; sid++) {
    const dataDir = path.join(base, `m${sid}`);
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'myid'), `${sid}\n`);
    members.push({ sid, clientPort: await freePort(), quorumPort: await freePort(), electionPort: await freePort(), dataDir, proc: undefined });
  }
  const servers = members.map((m) => `server.${m.sid}=127.0.0.1:${m.quorumPort}:${m.electionPort};127.0.0.1:${m.clientPort}`);
  const logFd = fs.openSync(s.logFile ?? path.join(base, `${system}.log`), 'a');
  const running = (m: Member): boolean => m.proc !== undefined && m.proc.exitCode === null && m.proc.signalCode === null;
  const kill = async (i: number): Promise<void> => {
    const m = members[i]!;
    const p = m.proc;
    if (!p || !running(m)) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((_, i) => kill(i)));
    fs.closeSync(logFd);
    fs.rmSync(base, { recursive: true, force: true });
  };
  const spawnMember = (m: Member): void => {
    const cfgPath = path.join(m.dataDir, 'zoo.cfg');
    const { cmd, args } = memberCommand(system, cfgPath, s);
    m.proc = spawn(cmd, args, { stdio: ['ignore', logFd, logFd], env: { ...process.env, TSZK_LOG_LEVEL: process.env['TSZK_LOG_LEVEL'] ?? 'warn' } });
  };
  const waitServing = async (): Promise<void> => {
    const deadline = Date.now() + ENSEMBLE_START_TIMEOUT_MS;
    for (;;) {
      const dead = members.find((m) => !running(m));
      if (dead) throw new Error(`${system} ensemble member ${dead.sid} exited`);
      const modes = await Promise.all(members.map((m) => memberMode(m.clientPort)));
      if (modes.every((mode) => mode === 'leader' || mode === 'follower' || mode === 'observer') && modes.includes('leader')) return;
      if (Date.now() > deadline) throw new Error(`${system} ensemble not serving within ${ENSEMBLE_START_TIMEOUT_MS} ms (modes ${modes.join(', ')})`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  for (const m of members) {
    const cfg = [
      'tickTime=2000',
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${m.dataDir}`,
      `forceSync=${s.forceSync ? 'yes' : 'no'}`,
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      ...(s.quorumTls === undefined
        ? []
        : ['sslQuorum=true', `ssl.quorum.keyStore.location=${s.quorumTls.server.pem}`, `ssl.quorum.trustStore.location=${s.quorumTls.ca}`]),
      ...servers,
    ];
    fs.writeFileSync(path.join(m.dataDir, 'zoo.cfg'), cfg.join('\n') + '\n');
    spawnMember(m);
  }
  try {
    await waitServing();
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    system,
    members: members.map((m) => `127.0.0.1:${m.clientPort}`),
    // Read when sampled: a restarted member has a new pid.
    get pids() {
      return members.filter(running).map((m) => m.proc!.pid!);
    },
    clientPorts: members.map((m) => m.clientPort),
    dataDirs: members.map((m) => m.dataDir),
    stop,
    kill,
    restart: (i) => spawnMember(members[i]!),
    pid: (i) => (running(members[i]!) ? members[i]!.proc!.pid : undefined),
    waitServing,
    leader: async () => {
      const modes = await Promise.all(members.map((m) => memberMode(m.clientPort)));
      const i = modes.indexOf('leader');
      return i < 0 ? undefined : i;
    },
  };
}
