/**
 * Runs zkCli.sh with a script on stdin and normalises its transcript (what legitimately differs
 * between two servers), for the zkCli interop suites (standalone and ensemble).
 */
import { spawn } from 'node:child_process';

export const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const RUN_TIMEOUT_MS = 60_000;

export function runZkCli(connectString: string, script: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(ZKCLI, ['-server', connectString], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`zkCli timed out; stdout so far:\n${stdout}`));
    }, RUN_TIMEOUT_MS);
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
    p.stdin.end(script);
  });
}

/** Replaces what legitimately differs between two servers: ports, times, zxids, session ids. */
export function normaliseZkCli(out: string): string[] {
  const zxids = new Map<string, string>();
  const sessions = new Map<string, string>();
  return out
    .split('\n')
    .filter((l) => !l.startsWith('SLF4J'))
    .map((l) => {
      if (/^Connecting to /.test(l)) return 'Connecting to <server>';
      const t = /^(ctime|mtime) = /.exec(l);
      if (t) return `${t[1]} = <time>`;
      const z = /^(cZxid|mZxid|pZxid) = (0x[0-9a-f]+)$/.exec(l);
      if (z) {
        if (!zxids.has(z[2]!)) zxids.set(z[2]!, `z${zxids.size + 1}`);
        return `${z[1]} = ${zxids.get(z[2]!)}`;
      }
      const e = /^ephemeralOwner = (0x[0-9a-f]+)$/.exec(l);
      if (e && e[1] !== '0x0') {
        if (!sessions.has(e[1]!)) sessions.set(e[1]!, `S${sessions.size + 1}`);
        return `ephemeralOwner = ${sessions.get(e[1]!)}`;
      }
      // getEphemerals prints the server's set in its own (hash) order: compare the set.
      const list = /^\[(.*)\]$/.exec(l);
      if (list) return `[${list[1]!.split(', ').sort().join(', ')}]`;
      return l;
    });
}
