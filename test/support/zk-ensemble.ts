/**
 * A local ensemble of real peer processes on 127.0.0.1, each Apache ZooKeeper 3.8 or tszk, each
 * with its own zoo.cfg (server.N lines), dataDir/myid and free ports. Every peer's quorum and
 * election ports sit behind a recording proxy: the other peers' server.N lines point at the
 * proxy, the peer's own line at its real ports (it binds those). So all peer-to-peer traffic is
 * captured and can be cut per peer.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fourLetter, freePort } from './ports.js';
import { spawnPeer } from './peer-process.js';
import { killAndWait } from './stop-process.js';
import { startTcpProxy, type TcpProxy, type RecordedConnection } from './tcp-proxy.js';
import { startElectionGate, type ElectionGate } from './election-gate.js';
import { zookeeperMissing } from './zookeeper.js';

export type PeerKind = 'zookeeper' | 'tszk';

export interface PeerSpec {
  kind: PeerKind;
  observer?: boolean;
  /** Extra zoo.cfg lines for this peer only. */
  cfg?: Record<string, string | number>;
}

export interface EnsemblePeer {
  sid: number;
  kind: PeerKind;
  observer: boolean;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  quorumProxy: TcpProxy;
  electionProxy: TcpProxy;
  dataDir: string;
  cfgPath: string;
  logFile: string;
  connectString: string;
  running(): boolean;
  /** Mode from `srvr` (leader/follower/observer), or null if it does not answer with one. */
  mode(): Promise<string | null>;
  srvr(): Promise<string>;
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Runs `kind` on this peer from its next start(): same sid, ports, dataDir and zoo.cfg (a
   * rolling migration between kinds). The peer must be stopped.
   */
  switchKind(kind: PeerKind): void;
}

export interface ZkEnsemble {
  peers: EnsemblePeer[];
  dir: string;
  connectString: string;
  /** Every recorded peer-to-peer connection, in acceptance order. */
  connections(): (RecordedConnection & { targetSid: number; port: 'quorum' | 'election' })[];
  /** Wait until every running participant answers with a Mode and exactly one is the leader. */
  waitForQuorum(timeout_ms?: number): Promise<EnsemblePeer>;
  leader(): Promise<EnsemblePeer | null>;
  /**
   * Cut a peer off (needs `electionGates`): its quorum port holds every byte both ways (the links
   * its learners made to it, as a leader), and election connections from or to it are refused.
   */
  cut(sid: number): void;
  /** Undo every cut: held quorum bytes flow on; refused election callers get through on their next try. */
  heal(): void;
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export interface ZkEnsembleOptions {
  peers: PeerSpec[];
  tickTime_ms?: number;
  initLimit?: number;
  syncLimit?: number;
  /** Extra zoo.cfg lines for every peer. */
  cfg?: Record<string, string | number>;
  /** JVM -D properties for ZooKeeper peers. */
  sysProps?: Record<string, string>;
  /** Environment for tszk peers. */
  env?: Record<string, string>;
  /** Keep logs etc. here (default: a temp dir). */
  dir?: string;
  /** Do not start the peers yet (start each with peer.start()). */
  deferStart?: boolean;
  /** Put an election gate (election-gate.ts) in front of each election proxy, so cut() works. */
  electionGates?: boolean;
}

export function zkEnsembleMissing(kinds: PeerKind[]): string | undefined {
  if (kinds.includes('zookeeper')) {
    const m = zookeeperMissing();
    if (m) return m;
  }
  return undefined;
}

export async function startZkEnsemble(opts: ZkEnsembleOptions): Promise<ZkEnsemble> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zk-ensemble-'));
  fs.mkdirSync(dir, { recursive: true });
  const tick = opts.tickTime_ms ?? 1000;
  interface Slot {
    sid: number;
    spec: PeerSpec;
    clientPort: number;
    quorumPort: number;
    electionPort: number;
    q: TcpProxy;
    e: TcpProxy;
  }
  const slots: Slot[] = [];
  for (let i = 0; i < opts.peers.length; i++) {
    const sid = i + 1;
    const quorumPort = await freePort();
    const electionPort = await freePort();
    const clientPort = await freePort();
    const q = await startTcpProxy(quorumPort, { name: `quorum->${sid}`, record: true });
    const e = await startTcpProxy(electionPort, { name: `election->${sid}`, record: true });
    slots.push({ sid, spec: opts.peers[i]!, clientPort, quorumPort, electionPort, q, e });
  }
  const cutSids = new Set<number>();
  const gates = new Map<number, ElectionGate>();
  if (opts.electionGates === true)
    for (const s of slots)
      gates.set(
        s.sid,
        await startElectionGate({ targetSid: s.sid, downstreamPort: s.e.port, gatePortOf: (sid) => gates.get(sid)?.port, isCut: (sid) => cutSids.has(sid) }),
      );
  const peers: EnsemblePeer[] = slots.map((s) => {
    const dataDir = path.join(dir, `peer${s.sid}`);
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'myid'), `${s.sid}\n`);
    const lines: string[] = [
      `tickTime=${tick}`,
      `initLimit=${opts.initLimit ?? 10}`,
      `syncLimit=${opts.syncLimit ?? 5}`,
      `dataDir=${dataDir}`,
      `clientPort=${s.clientPort}`,
      'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      ...(s.spec.observer ? ['peerType=observer'] : []),
      ...Object.entries({ ...opts.cfg, ...s.spec.cfg }).map(([k, v]) => `${k}=${v}`),
    ];
    for (const o of slots) {
      const qp = o.sid === s.sid ? o.quorumPort : o.q.port;
      const ep = o.sid === s.sid ? o.electionPort : (gates.get(o.sid)?.port ?? o.e.port);
      lines.push(`server.${o.sid}=127.0.0.1:${qp}:${ep}${o.spec.observer ? ':observer' : ''}`);
    }
    const cfgPath = path.join(dataDir, 'zoo.cfg');
    fs.writeFileSync(cfgPath, lines.join('\n') + '\n');
    const logFile = path.join(dir, `peer${s.sid}.log`);
    let proc: ChildProcess | null = null;
    let exited = true;
    const srvr = (): Promise<string> => fourLetter(s.clientPort, 'srvr', 1000);
    const peer: EnsemblePeer = {
      sid: s.sid,
      kind: s.spec.kind,
      observer: s.spec.observer === true,
      clientPort: s.clientPort,
      quorumPort: s.quorumPort,
      electionPort: s.electionPort,
      quorumProxy: s.q,
      electionProxy: s.e,
      dataDir,
      cfgPath,
      logFile,
      connectString: `127.0.0.1:${s.clientPort}`,
      running: () => !exited,
      srvr,
      async mode() {
        if (exited) return null;
        try {
          // tszk's not-serving answer still names the role it is in (FOLLOWING a leader it cannot reach yet): that is not serving.
          const text = await srvr();
          return text.includes('not currently serving') ? null : (/^Mode: (\S+)/m.exec(text)?.[1] ?? null);
        } catch {
          return null;
        }
      },
      async start() {
        if (!exited) return;
        const props = Object.entries(opts.sysProps ?? {}).map(([k, v]) => `-D${k}=${v}`);
        proc = spawnPeer(peer.kind, cfgPath, logFile, {
          // Peers log at info into their own files whatever the runner's level (as test/support/ensemble.ts): a failure's story is there.
          env: { ...process.env, TSZK_LOG_LEVEL: process.env['TSZK_MEMBER_LOG_LEVEL'] ?? 'info', ...opts.env },
          jvmArgs: ['-Xmx192m', '-XX:+UseSerialGC', ...props],
        });
        exited = false;
        proc.on('exit', () => (exited = true));
      },
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        if (exited || proc === null) return;
        await killAndWait(proc, signal);
      },
      switchKind(kind: PeerKind) {
        if (!exited) throw new Error(`peer ${s.sid} must be stopped before switching it to ${kind}`);
        peer.kind = kind;
      },
    };
    return peer;
  });
  const leader = async (): Promise<EnsemblePeer | null> => {
    for (const p of peers) if ((await p.mode()) === 'leader') return p;
    return null;
  };
  const ensemble: ZkEnsemble = {
    peers,
    dir,
    connectString: peers.map((p) => p.connectString).join(','),
    connections() {
      const all = slots.flatMap((s) => [
        ...s.q.connections.map((c) => ({ ...c, targetSid: s.sid, port: 'quorum' as const })),
        ...s.e.connections.map((c) => ({ ...c, targetSid: s.sid, port: 'election' as const })),
      ]);
      return all.sort((a, b) => a.seq - b.seq);
    },
    leader,
    cut(sid) {
      if (gates.size === 0) throw new Error('cut() needs startZkEnsemble({ electionGates: true })');
      cutSids.add(sid);
      slots.find((s) => s.sid === sid)!.q.setState('blackhole');
      for (const g of gates.values()) g.enforce();
    },
    heal() {
      for (const sid of cutSids) slots.find((s) => s.sid === sid)!.q.setState('up');
      cutSids.clear();
    },
    async waitForQuorum(timeout_ms = 60_000) {
      const deadline = Date.now() + timeout_ms;
      for (;;) {
        const modes = await Promise.all(peers.map((p) => (p.running() ? p.mode() : Promise.resolve('down'))));
        const leaders = peers.filter((_, i) => modes[i] === 'leader');
        if (leaders.length === 1 && modes.every((m) => m !== null)) return leaders[0]!;
        if (Date.now() > deadline) throw new Error(`no established quorum within ${timeout_ms} ms: ${modes.join(',')} (logs in ${dir})`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop(o = {}) {
      await Promise.all(peers.map((p) => p.kill()));
      for (const s of slots) {
        await s.q.close();
        await s.e.close();
      }
      for (const g of gates.values()) await g.close();
      if (!o.keepDir && opts.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  if (!opts.deferStart) {
    for (const p of peers) await p.start();
  }
  return ensemble;
}
