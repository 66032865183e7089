/**
 * TLS ports as ZooKeeper 3.8 runs them, checked against a ZooKeeper peer configured alike: a
 * member that is not serving (electing) still answers on secureClientPort and on a unified
 * clientPort over TLS (four-letter words, a ConnectRequest closed); a unified client port waits
 * for a silent connection's first byte however long it takes (ssl.handshakeDetectionTimeoutMillis
 * is not the client port's), while a unified quorum port takes a connection that stays silent past
 * ssl.quorum.handshakeDetectionTimeoutMillis for plaintext.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { skipUnless } from '../support/target.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';
import { startZkEnsemble, zkEnsembleMissing, type EnsemblePeer, type PeerKind, type ZkEnsemble } from '../support/zk-ensemble.js';
import { logLines } from './quorumPeers.js';
import { makeCerts, opensslMissing, tlsServerCfg, type TestCerts } from './certs.js';

const missing = opensslMissing() ?? zkEnsembleMissing(['tszk', 'zookeeper']);
const DETECTION_MS = 1000;

interface Probe {
  /** TLS from the first byte, after `silent_ms` of silence, or plaintext. */
  tls?: boolean;
  silent_ms?: number;
  /** A four-letter word, or 'connect' for a ConnectRequest. */
  send: string;
  /** How long an open, silent connection is waited on (default 15 s: a JVM's first TLS handshakes are slow on a loaded machine). */
  open_ms?: number;
}

/** What the port answers before it closes the connection ('(open)' appended if it is still open after `open_ms`, 'handshake failed' if TLS never came up). */
function probe(port: number, certs: TestCerts, p: Probe): Promise<string> {
  return new Promise((resolve) => {
    const raw = net.connect({ host: '127.0.0.1', port });
    raw.on('error', () => undefined);
    raw.once('close', () => {
      if (raw.connecting) done('refused');
    });
    let answer = '';
    let secured = false;
    const done = (what: string): void => {
      clearTimeout(timer);
      raw.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done(p.tls === true && !secured ? 'handshake failed' : `${answer}(open)`), (p.silent_ms ?? 0) + (p.open_ms ?? 15_000));
    const talk = (s: net.Socket): void => {
      s.on('data', (c: Buffer) => (answer += c.toString('latin1')));
      s.on('close', () => done(p.tls === true && !secured ? 'handshake failed' : answer));
      if (p.send !== 'connect') return void s.write(p.send);
      // ConnectRequest: protocolVersion 0, lastZxidSeen 0, timeOut 30000, sessionId 0, passwd 16 zero bytes.
      const req = Buffer.alloc(48);
      req.writeInt32BE(44, 0);
      req.writeInt32BE(30_000, 16);
      req.writeInt32BE(16, 28);
      s.write(req);
    };
    raw.once('connect', () =>
      setTimeout(() => {
        if (p.tls !== true) return talk(raw);
        const s = tls.connect({
          socket: raw,
          ca: fs.readFileSync(certs.ca),
          cert: fs.readFileSync(certs.bob.cert),
          key: fs.readFileSync(certs.bob.key),
          checkServerIdentity: () => undefined,
        });
        s.on('error', () => undefined);
        s.once('secureConnect', () => {
          secured = true;
          talk(s);
        });
        s.on('close', () => done(secured ? answer : 'handshake failed'));
      }, p.silent_ms ?? 0),
    );
  });
}

/** The first line only: tszk's srvr adds Mode and Zxid lines to ZooKeeper's not-serving text. */
const firstLine = (s: string): string => s.split('\n')[0]!;

describe('TLS ports of a member that is not serving, tszk beside ZooKeeper', { skip: skipUnless(missing), timeout: 150_000 }, () => {
  let certs: TestCerts;
  let ens: ZkEnsemble;
  const secure = new Map<PeerKind, number>();
  const peer = new Map<PeerKind, EnsemblePeer>();
  before(async () => {
    certs = makeCerts();
    const kinds: PeerKind[] = ['zookeeper', 'tszk', 'tszk', 'tszk'];
    const ports = await Promise.all(kinds.map(() => freePort()));
    ens = await startZkEnsemble({
      peers: kinds.map((kind, i) => ({ kind, cfg: tlsServerCfg(certs, ports[i]!) })),
      cfg: {
        'client.portUnification': 'true',
        'ssl.handshakeDetectionTimeoutMillis': DETECTION_MS,
        portUnification: 'true',
        'ssl.quorum.keyStore.location': certs.server.pem,
        'ssl.quorum.trustStore.location': certs.ca,
        'ssl.quorum.handshakeDetectionTimeoutMillis': DETECTION_MS,
      },
      env: { TSZK_LOG_LEVEL: 'info' },
      deferStart: true,
    });
    // Two of four: no quorum, both keep electing.
    for (const i of [0, 1]) {
      const p = ens.peers[i]!;
      await p.start();
      secure.set(p.kind, ports[i]!);
      peer.set(p.kind, p);
      // A JVM binds its client ports some time after it starts.
      await waitFor(
        `${p.kind} answering on secureClientPort`,
        async () => ((await probe(ports[i]!, certs, { tls: true, send: 'ruok' })) === 'imok' ? true : undefined),
        60_000,
        500,
      );
    }
  });
  after(async () => {
    await ens?.stop({ keepDir: process.env['TSZK_KEEP_MIXED'] === '1' });
    certs?.cleanup();
  });

  /** The same probe against both, answers compared (as `shape` gives them); returns tszk's. */
  async function same(what: string, port: (k: PeerKind) => number, p: Probe, shape = (s: string) => s): Promise<string> {
    const [z, t] = [await probe(port('zookeeper'), certs, p), await probe(port('tszk'), certs, p)];
    assert.equal(shape(t), shape(z), `${what}: tszk ${JSON.stringify(t)}, ZooKeeper ${JSON.stringify(z)}`);
    return shape(t);
  }
  const securePort = (k: PeerKind): number => secure.get(k)!;
  const clientPort = (k: PeerKind): number => peer.get(k)!.clientPort;
  const electionPort = (k: PeerKind): number => peer.get(k)!.electionPort;

  test('secureClientPort while electing: four-letter words over TLS as ZooKeeper answers them; a session is closed at once', async () => {
    assert.equal(await same('ruok', securePort, { tls: true, send: 'ruok' }), 'imok');
    assert.equal(await same('isro', securePort, { tls: true, send: 'isro' }), 'null');
    assert.match(await same('srvr', securePort, { tls: true, send: 'srvr' }, firstLine), /not currently serving/);
    assert.equal(await same('ConnectRequest', securePort, { tls: true, send: 'connect' }), '');
  });

  test('a unified clientPort while electing: TLS and plaintext both answer', async () => {
    assert.equal(await same('isro over TLS', clientPort, { tls: true, send: 'isro' }), 'null');
    assert.equal(await same('isro in plaintext', clientPort, { send: 'isro' }), 'null');
  });

  test('a unified clientPort waits for a silent connection: plaintext or TLS after the detection timeout both work', async () => {
    const silent_ms = DETECTION_MS * 2;
    assert.equal(await same('plaintext after silence', clientPort, { silent_ms, send: 'ruok' }), 'imok');
    assert.equal(await same('TLS after silence', clientPort, { tls: true, silent_ms, send: 'ruok' }), 'imok');
  });

  test('a unified quorum port takes a connection silent past the detection timeout for plaintext: TLS then fails', async () => {
    const from = fs.statSync(peer.get('tszk')!.logFile).size;
    // At once, TLS works (the election port answers nothing; how long it waits for the peer's header differs).
    const up = (r: string): string => (r === 'handshake failed' ? r : 'TLS up');
    assert.equal(await same('TLS at once', electionPort, { tls: true, send: '', open_ms: 4000 }, up), 'TLS up');
    assert.equal(await same('TLS after silence', electionPort, { tls: true, silent_ms: DETECTION_MS * 2.5, send: '' }), 'handshake failed');
    assert.ok(logLines(peer.get('tszk')!, /socket mode detection timed out after 1000 ms, assuming plaintext/, from).length > 0);
    assert.ok(logLines(peer.get('zookeeper')!, /Socket mode detection timed out after 1000 ms, assuming PLAINTEXT/).length > 0);
  });
});
