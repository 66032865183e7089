/**
 * `tszk ensemble --nodes 3`: a local ensemble in one command. Each member is its own process with
 * its own data dir (myid, generated zoo.cfg, log file); the command prints each member's role,
 * epoch and last zxid whenever they change (polling srvr), and Ctrl-C stops them all. With
 * `--reconfig` the members take reconfig (reconfigEnabled, and a super user to run it as), and the
 * command also prints the membership each member has in force whenever it changes (read from its
 * zoo.cfg and the dynamic config file that zoo.cfg names).
 *
 * Ports follow ZooKeeper's customary layout from the base client port P (default 2181):
 * client P+i, quorum P+707+i (2888…), election P+1707+i (3888…), for i = 0..n-1; each member's
 * AdminServer on A+i (A = --admin-base-port, default ZooKeeper's 8080), printed at start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface EnsembleCommandOptions {
  nodes: number;
  observers: number;
  basePort: number;
  /** First AdminServer port (member i gets adminBasePort + i - 1). */
  adminBasePort: number;
  dir: string;
  tickTime_ms: number;
  /** reconfigEnabled=true, with `super:<RECONFIG_SUPER_PASSWORD>` as the super user that may run it. */
  reconfig: boolean;
}

/** The super user's password of a `--reconfig` ensemble (local, bound to 127.0.0.1: a known one is the point). */
const RECONFIG_SUPER_PASSWORD = 'tszk';

/** How often member status is polled. */
const POLL_INTERVAL_MS = 500;
const FOUR_LETTER_TIMEOUT_MS = 1000;
/** How long Ctrl-C waits for members to exit before killing them. */
const STOP_GRACE_MS = 5000;

interface RunningMember {
  id: number;
  clientPort: number;
  dir: string;
  proc: ChildProcess | undefined;
  last: string;
  lastMembership: string;
}

export async function runEnsemble(o: EnsembleCommandOptions): Promise<number> {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 50) throw new Error(`--nodes must be 1..50, got ${o.nodes}`);
  if (o.observers < 0 || o.observers >= o.nodes) throw new Error('--observers must leave at least one participant');
  const ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
  const port = (id: number, offset: number): number => o.basePort + offset + id - 1;
  const isObserver = (id: number): boolean => id > o.nodes - o.observers;
  const lines = ids.map(
    (id) => `server.${id}=127.0.0.1:${port(id, 707)}:${port(id, 1707)}:${isObserver(id) ? 'observer' : 'participant'};127.0.0.1:${port(id, 0)}`,
  );
  const members: RunningMember[] = [];
  for (const id of ids) {
    const dir = path.resolve(o.dir, `member${id}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'myid'), `${id}\n`);
    const cfg = [
      `tickTime=${o.tickTime_ms}`,
      'initLimit=10',
      'syncLimit=5',
      `dataDir=${dir}`,
      `clientPort=${port(id, 0)}`,
      'clientPortAddress=127.0.0.1',
      '4lw.commands.whitelist=*',
      'admin.serverAddress=127.0.0.1',
      `admin.serverPort=${o.adminBasePort + id - 1}`,
      ...(isObserver(id) ? ['peerType=observer'] : []),
      ...(o.reconfig ? ['reconfigEnabled=true', `DigestAuthenticationProvider.superDigest=${superDigest(RECONFIG_SUPER_PASSWORD)}`] : []),
      ...lines,
    ];
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), cfg.join('\n') + '\n');
    members.push({ id, clientPort: port(id, 0), dir, proc: undefined, last: '', lastMembership: '' });
  }
  let stopping = false;
  for (const m of members) start(m, () => stopping);
  process.stdout.write(
    `tszk ensemble: ${o.nodes} members in ${path.resolve(o.dir)}; connect string ${members.map((m) => `127.0.0.1:${m.clientPort}`).join(',')}\n`,
  );
  for (const m of members)
    process.stdout.write(`  member ${m.id}: client 127.0.0.1:${m.clientPort}, AdminServer http://127.0.0.1:${o.adminBasePort + m.id - 1}/commands\n`);
  if (o.reconfig) process.stdout.write(`reconfig: reconfigEnabled=true; run it as the super user (zkCli: addauth digest super:${RECONFIG_SUPER_PASSWORD})\n`);
  process.stdout.write('Ctrl-C stops every member. Member logs: <dir>/memberN/tszk.log\n');

  const poll = setInterval(() => {
    for (const m of members) {
      void status(m).then((s) => {
        if (s !== m.last && !stopping) {
          m.last = s;
          process.stdout.write(`${new Date().toISOString()} member ${m.id} (127.0.0.1:${m.clientPort}): ${s}\n`);
        }
      });
      const ms = o.reconfig ? membership(m.dir) : '';
      if (ms !== m.lastMembership && !stopping) {
        m.lastMembership = ms;
        process.stdout.write(`${new Date().toISOString()} member ${m.id} config: ${ms}\n`);
      }
    }
  }, POLL_INTERVAL_MS);

  return new Promise<number>((resolve) => {
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(poll);
      process.stdout.write('stopping the ensemble...\n');
      const alive = members.filter((m) => m.proc !== undefined);
      let left = alive.length;
      if (left === 0) return resolve(0);
      const force = setTimeout(() => {
        for (const m of alive) m.proc?.kill('SIGKILL');
      }, STOP_GRACE_MS);
      for (const m of alive) {
        m.proc!.once('exit', () => {
          if (--left === 0) {
            clearTimeout(force);
            process.stdout.write('all members stopped\n');
            resolve(0);
          }
        });
        m.proc!.kill('SIGTERM');
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Runs this same tszk (same node flags, e.g. the tsx loader) as `tszk server --config`. */
function start(m: RunningMember, stopping: () => boolean): void {
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot find the tszk script to start members with');
  const out = fs.openSync(path.join(m.dir, 'tszk.log'), 'a');
  const proc = spawn(process.execPath, [...process.execArgv, script, 'server', '--config', path.join(m.dir, 'zoo.cfg')], {
    stdio: ['ignore', out, out],
    env: process.env,
  });
  fs.closeSync(out);
  m.proc = proc;
  proc.once('exit', (code, signal) => {
    m.proc = undefined;
    if (!stopping()) process.stdout.write(`member ${m.id} exited (${signal ?? `code ${code}`}); see ${path.join(m.dir, 'tszk.log')}\n`);
  });
}

/** DigestAuthenticationProvider's form: `super:` base64(sha1("super:<password>")). */
function superDigest(password: string): string {
  return `super:${crypto.createHash('sha1').update(`super:${password}`).digest('base64')}`;
}

/**
 * The membership in a member's config files: zoo.cfg, or the dynamic file it names once a
 * config has committed ("version 100000003: participants 1,2,3; observers 4"; "static" before).
 */
function membership(dir: string): string {
  const read = (f: string): string | undefined => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return undefined;
    }
  };
  const cfg = read(path.join(dir, 'zoo.cfg'));
  if (cfg === undefined) return 'no zoo.cfg';
  const dynamic = /^dynamicConfigFile=(.+)$/m.exec(cfg)?.[1]?.trim();
  const text = dynamic === undefined ? cfg : (read(path.resolve(dir, dynamic)) ?? `cannot read ${dynamic}`);
  const participants: string[] = [];
  const observers: string[] = [];
  for (const [, id, role] of text.matchAll(/^server\.(\d+)=[^;\n]*?(?::(participant|observer))?(?:;.*)?$/gm))
    (role === 'observer' ? observers : participants).push(id!);
  // The version is in the dynamic file's name (zoo.cfg.dynamic.<version>), as ZooKeeper writes it.
  const version = dynamic === undefined ? undefined : /\.dynamic\.([0-9a-fA-F]+)$/.exec(dynamic)?.[1];
  return `${version === undefined ? 'static' : `version ${version}`}: participants ${participants.join(',') || '-'}; observers ${observers.join(',') || '-'}`;
}

async function status(m: RunningMember): Promise<string> {
  if (m.proc === undefined) return 'down';
  let text: string;
  try {
    text = await fourLetter(m.clientPort, 'srvr');
  } catch {
    return 'starting';
  }
  const mode = /Mode: (\S+)/.exec(text)?.[1] ?? 'unknown';
  const zxidHex = /Zxid: (0x[0-9a-f]+)/i.exec(text)?.[1];
  const serving = !text.includes('not currently serving');
  if (zxidHex === undefined) return serving ? mode : 'not serving';
  const zxid = BigInt(zxidHex);
  return `${serving ? mode : `${mode} (not serving)`} epoch ${zxid >> 32n} last zxid ${zxidHex}`;
}

function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(new Error('timeout')), FOUR_LETTER_TIMEOUT_MS);
    s.on('connect', () => s.write(word));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}
