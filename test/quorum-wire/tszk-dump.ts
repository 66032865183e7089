/** Dev tool: run a mixed ensemble, write through the leader, and print what each peer sent. npx tsx test/quorum-wire/tszk-dump.ts zookeeper,zookeeper,tszk */
import { ZooKeeperClient } from '../../src/client/index.js';
import { joined } from '../support/tcp-proxy.js';
import type { PeerKind } from '../support/zk-ensemble.js';
import { startMixed } from '../mixed/harness.js';
import { splitElectionStream, splitQuorumStream } from './streams.js';
import { NotificationWire, decodeNotification } from '../../src/zab/packets.js';

const kinds = process.argv[2]!.split(',') as PeerKind[];
const run = await startMixed(kinds, { zkLocalSessions: true, dir: process.argv[3] });
const leader = run.ens.peers.find((p) => p.sid === run.leaderSid)!;
const zk = await ZooKeeperClient.connect(leader.connectString, { sessionTimeout_ms: 4000 });
await zk.create('/d', 'x');
await zk.setData('/d', 'y');
await new Promise((r) => setTimeout(r, 2500));
zk.abandon();
await new Promise((r) => setTimeout(r, 6000));
await run.ens.stop({ keepDir: true });
const kindOf = (sid: number): string => run.ens.peers.find((p) => p.sid === sid)?.kind ?? '?';
for (const c of run.ens.connections()) {
  const up = joined(c.toServer);
  const down = joined(c.toClient);
  if (c.port === 'election') {
    const u = splitElectionStream(up, true);
    const d = splitElectionStream(down, false);
    const from = Number(u.initial?.sid);
    const fmt = (fr: Buffer[]): string =>
      fr
        .slice(0, 3)
        .map((f) => {
          const n = decodeNotification(f);
          const w = NotificationWire.decode(f);
          return `${n.state}/${n.leader}/${n.zxid.toString(16)}/e${n.electionEpoch}/p${n.peerEpoch}/v${w.version}/cfg${w.config?.length}`;
        })
        .join(' ');
    console.log(
      `E ${from}(${kindOf(from)})->${c.targetSid}(${kindOf(c.targetSid)}) init=${u.initial?.bytes.toString('hex')} up[${u.frames.length}] ${fmt(u.frames)} | down[${d.frames.length}] ${fmt(d.frames)} rest=${u.rest.length}/${d.rest.length}`,
    );
  } else {
    const fmt = (b: Buffer): string => {
      const s = splitQuorumStream(b);
      return (
        s.items
          .slice(0, 14)
          .map((i) =>
            i.kind === 'packet'
              ? `${i.packet.type}:${i.packet.zxid.toString(16)}:${i.packet.data === null ? 'null' : i.packet.data.length}:${i.bytes.readInt32BE(i.bytes.length - 4)}`
              : `SNAPBODY(${i.body.nodeCount})`,
          )
          .join(' ') + ` rest=${s.rest.length}`
      );
    };
    console.log(`Q ->${c.targetSid}(${kindOf(c.targetSid)}) UP ${fmt(up)}\n   DOWN ${fmt(down)}`);
    const s = splitQuorumStream(down);
    for (const i of s.items) if (i.kind === 'packet' && i.packet.type === 10) console.log('   NEWLEADER data:', JSON.stringify(i.packet.data?.toString()));
    const u = splitQuorumStream(up);
    for (const i of u.items)
      if (i.kind === 'packet' && (i.packet.type === 11 || i.packet.type === 5) && i.packet.data?.length) {
        console.log(`   up type ${i.packet.type} data`, i.packet.data.toString('hex'));
      }
  }
}
process.exit(0);
