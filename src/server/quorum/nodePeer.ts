/**
 * A quorum peer on the real world: TCP election and quorum ports, the dataDir on disk, Node's
 * clock; a fatal error exits the process (exit 2), as a ZooKeeper peer's would.
 */
import { log } from '../../log.js';
import { readMyid } from '../../storage/epochFiles.js';
import { ConfigError, type ParsedConfig } from '../config.js';
import { nodePipelineIo } from '../nodeIo.js';
import { ElectionConnections } from './electionConnections.js';
import { LearnerConnections } from './learnerConnections.js';
import type { PeerIo } from './peerIo.js';
import { DataDirStorage } from './peerStorage.js';
import { writeDynamicConfig } from './dynamicConfig.js';
import { coreConfig, coreTick_ms, QuorumPeer, type QuorumPeerHandle, type QuorumPeerOptions } from './quorumPeer.js';
import { serverId } from '../../zab/index.js';

export interface NodePeerOptions extends QuorumPeerOptions {
  /** Told when the peer fails and stops (its ports and files are released); default: exit the process with 2. */
  onFatal?: (err: unknown) => void;
}

export async function startQuorumPeer(cfg: ParsedConfig, opts: NodePeerOptions = {}): Promise<QuorumPeerHandle> {
  const o = cfg.options;
  const myid = await readMyid(o.dataDir);
  if (myid === undefined) throw new ConfigError('myid', `no myid file in ${o.dataDir} (it must hold this server's N from server.N)`, o.configPath);
  const self = cfg.servers.find((s) => BigInt(s.id) === myid);
  if (self === undefined) throw new ConfigError('myid', `myid ${myid} has no server.${myid} line`, o.configPath);
  const fatal = (err: unknown): void => {
    log.fatal({ err }, 'quorum peer failed; stopping');
    if (opts.onFatal !== undefined) opts.onFatal(err);
    else process.exit(2);
  };
  const options = { ...o, clientPort: self.clientPort ?? o.clientPort, clientPortAddress: self.clientAddress ?? o.clientPortAddress };
  const quorumAddresses = new Map(cfg.servers.map((s) => [BigInt(s.id), { sid: BigInt(s.id), host: s.host, quorumPort: s.quorumPort }]));
  let election: ElectionConnections | undefined;
  const io: PeerIo = {
    ...nodePipelineIo,
    storage: new DataDirStorage(options, fatal),
    openElection: (onNotification) =>
      (election = new ElectionConnections(
        BigInt(self.id),
        { sid: BigInt(self.id), host: self.host, electionPort: self.electionPort },
        cfg.servers.map((s) => ({ sid: BigInt(s.id), host: s.host, electionPort: s.electionPort })),
        self.host,
        onNotification,
      )),
    openQuorum: (events) => new LearnerConnections({ sid: BigInt(self.id), host: self.host, quorumPort: self.quorumPort }, quorumAddresses, self.host, events),
    membersChanged: (servers) => {
      for (const s of servers) {
        quorumAddresses.set(BigInt(s.id), { sid: BigInt(s.id), host: s.host, quorumPort: s.quorumPort });
        election?.addPeer({ sid: BigInt(s.id), host: s.host, electionPort: s.electionPort });
      }
    },
    writeConfig: (c) => (o.configPath === undefined ? undefined : writeDynamicConfig(o.configPath, c, self.id)),
    fatal,
  };
  const tick_ms = coreTick_ms(o.tickTime_ms);
  const peer = new QuorumPeer(cfg, self, coreConfig(cfg, serverId(self.id), tick_ms), tick_ms, io, opts);
  await peer.start();
  return peer;
}
