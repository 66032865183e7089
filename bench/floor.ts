/**
 * The floor under a one-at-a-time write on this machine: what no server can beat. A standalone
 * write costs at least one client↔server round trip and one fsync; a write in an ensemble adds
 * round trips between the members (floorRoundTrips). Both are measured here the way
 * a server meets them: a loopback TCP round trip between two processes, and a small append written
 * and fdatasync'd to a preallocated file under the same directory the servers' dataDirs use.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface FloorResult {
  samples: number;
  rtt_us: { p50: number; p99: number };
  fsync_us: { p50: number; p99: number };
}

/** A txn log entry of a 100-byte create is about this size. */
const APPEND_BYTES = 160;
const PREALLOC_BYTES = 4 * 1024 * 1024;

/** The value at percentile `p` of samples sorted ascending. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(samples_us: number[]): { p50: number; p99: number } {
  const s = [...samples_us].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99) };
}

/** Echoes every chunk back; a separate process, as a server is. */
const ECHO_SERVER = `
const net = require('node:net');
const s = net.createServer({ noDelay: true }, (c) => c.on('data', (d) => c.write(d)));
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

async function loopbackRtt_us(samples: number): Promise<number[]> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    });
    const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
    // A request of a one-at-a-time create's size; the reply is read whole before the next is sent.
    const msg = Buffer.alloc(APPEND_BYTES, 0x61);
    const out: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        let got = 0;
        const onData = (d: Buffer): void => {
          got += d.length;
          if (got < msg.length) return;
          sock.off('data', onData);
          resolve();
        };
        sock.on('data', onData);
        sock.write(msg);
      });
      out.push((performance.now() - t0) * 1000);
    }
    sock.destroy();
    return out;
  } finally {
    child.stdin.end();
    child.kill();
  }
}

async function appendFsync_us(samples: number): Promise<number[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tszk-bench-floor-'));
  const fh = await fs.open(path.join(dir, 'log'), 'w');
  try {
    await fh.truncate(PREALLOC_BYTES);
    const entry = Buffer.alloc(APPEND_BYTES, 0x62);
    const out: number[] = [];
    let pos = 0;
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await fh.write(entry, 0, entry.length, pos);
      await fh.datasync();
      out.push((performance.now() - t0) * 1000);
      pos += entry.length;
    }
    return out;
  } finally {
    await fh.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function measureFloor(samples: number): Promise<FloorResult> {
  const rtt = await loopbackRtt_us(samples);
  const fsync = await appendFsync_us(samples);
  return { samples, rtt_us: summary(rtt), fsync_us: summary(fsync) };
}

/**
 * Round trips under a one-at-a-time write: standalone, client↔server; on an ensemble's leader,
 * client↔leader and leader↔follower (PROPOSAL, ACK); on a follower, one more (the request
 * forwarded to the leader, its COMMIT back). The members' fsyncs run in parallel: one counts.
 */
export function floorRoundTrips(members: number, sessionOn: 'leader' | 'follower'): number {
  return members === 1 ? 1 : sessionOn === 'leader' ? 2 : 3;
}

/** The one-at-a-time write floor at one percentile: `roundTrips` loopback round trips and one fsync. */
export function writeFloor_us(f: FloorResult, roundTrips: number, p: 'p50' | 'p99'): number {
  return f.rtt_us[p] * roundTrips + f.fsync_us[p];
}
