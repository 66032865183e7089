/**
 * Sessions opened per second: a few loops each connect (TLS included when the server is
 * benchmarked over TLS), get a ConnectResponse, close the session and start over. Over TLS this is
 * the handshake rate a server sustains — what a fleet of clients reconnecting at once costs it.
 */
import { performance } from 'node:perf_hooks';
import type { ServerUnderTest } from './servers.js';
import { BenchSession, parseConnectString } from './session.js';

const LOOPS = 4;
const SESSION_TIMEOUT_MS = 30_000;

export interface HandshakeResult {
  sessions_per_s: number;
  /** Connections that failed (refused, reset, timed out): each one is a reason to distrust the rate. */
  failures: number;
}

export async function measureHandshakes(server: ServerUnderTest, duration_ms: number): Promise<HandshakeResult> {
  const targets = server.members.map((m) => parseConnectString(m)[0]!);
  let opened = 0;
  let failures = 0;
  const end = performance.now() + duration_ms;
  const loop = async (i: number): Promise<void> => {
    const t = targets[i % targets.length]!;
    while (performance.now() < end) {
      try {
        const s = await BenchSession.connect(t.host, t.port, SESSION_TIMEOUT_MS, server.clientTls);
        await s.close();
        opened++;
      } catch {
        failures++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i)));
  return { sessions_per_s: opened / ((performance.now() - t0) / 1000), failures };
}
