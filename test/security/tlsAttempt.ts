/** A TLS session attempt with one client identity, as the security suites compare it between servers. */
import fs from 'node:fs';
import { ZooKeeperClient } from '../../src/client/index.js';
import type { Identity, TestCerts } from './certs.js';

/** 'connected' (a session that answers), or 'refused'. */
export async function tlsAttempt(port: number, certs: TestCerts, who: Identity): Promise<string> {
  try {
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${port}`, {
      sessionTimeout_ms: 10_000,
      connectWait_ms: 3000,
      tls: { ca: fs.readFileSync(certs.ca), cert: fs.readFileSync(who.cert), key: fs.readFileSync(who.key) },
    });
    await zk.exists('/');
    await zk.close();
    return 'connected';
  } catch {
    return 'refused';
  }
}
