/** Server resource use read from /proc: CPU time (utime+stime) and resident memory. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let clockTicks_per_s: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on practically every Linux). */
export function clockTicksPerSecond(): number {
  if (clockTicks_per_s === undefined) {
    try {
      clockTicks_per_s = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks_per_s = 100;
    }
  }
  return clockTicks_per_s;
}

/** User + system CPU time the process has used so far, in µs (resolution one clock tick). */
export function processCpu_us(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name (which may contain spaces); utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return (ticks * 1e6) / clockTicksPerSecond();
}

export interface Memory {
  rss_bytes: number;
  /** Peak resident set size so far (VmHWM). */
  rssPeak_bytes: number;
}

export function processMemory(pid: number): Memory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { rss_bytes: kb('VmRSS'), rssPeak_bytes: kb('VmHWM') };
}

/** CPU time all processes on the machine have used so far (busy = not idle, not iowait), in µs. */
export function machineBusyCpu_us(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user).
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return (busy * 1e6) / clockTicksPerSecond();
}
