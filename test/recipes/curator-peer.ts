/**
 * Drives test/recipes/CuratorPeer.java: a Curator 5 process (the Debian libcurator-*-java jars)
 * that runs one command per stdin line and answers on stdout. Compiled with javac on first use.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from '../support/target.js';

const JAR_DIR = '/usr/share/java';
/** Curator (client, framework, recipes, x-discovery), ZooKeeper's client and their dependencies. */
const JARS = [
  'curator-client.jar',
  'curator-framework.jar',
  'curator-recipes.jar',
  'curator-x-discovery.jar',
  'zookeeper.jar',
  'zookeeper-jute.jar',
  'guava.jar',
  'slf4j-api.jar',
  'slf4j-nop.jar',
  'jackson-core.jar',
  'jackson-databind.jar',
  'jackson-annotations.jar',
].map((j) => path.join(JAR_DIR, j));

/** Why Curator cannot run here, or undefined. */
export function curatorMissing(): string | undefined {
  for (const tool of ['java', 'javac']) {
    if (spawnSync(tool, ['-version']).error) return `${tool} not installed (apt-get install default-jdk-headless)`;
  }
  const missing = JARS.find((j) => !fs.existsSync(j));
  if (missing) return `${missing} missing (apt-get install libcurator-recipes-java libcurator-discovery-java)`;
  return undefined;
}

let classesDir: string | undefined;

function compile(): string {
  if (classesDir !== undefined) return classesDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tszk-curator-'));
  const src = path.join(repoRoot, 'test/recipes/CuratorPeer.java');
  const r = spawnSync('javac', ['-nowarn', '-d', dir, '-cp', JARS.join(':'), src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`javac failed:\n${r.stderr}`);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  classesDir = dir;
  return dir;
}

export class CuratorPeer {
  /** "EVENT ..." lines seen so far (leader latch callbacks), without the prefix. */
  readonly events: string[] = [];
  private readonly replies: string[] = [];
  private waiters: (() => void)[] = [];
  private stderr = '';
  private exited = false;

  private constructor(private readonly proc: ChildProcess) {
    proc.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-8000)));
    proc.on('exit', () => {
      this.exited = true;
      this.notify();
    });
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      if (line.startsWith('EVENT ')) this.events.push(line.slice(6));
      else this.replies.push(line);
      this.notify();
    });
  }

  /** Starts a Curator client on `connectString`; resolves once it is connected. */
  static async start(connectString: string, sessionTimeout_ms = 6000): Promise<CuratorPeer> {
    const cp = `${compile()}:${JARS.join(':')}`;
    const peer = new CuratorPeer(
      spawn('java', ['-Xmx256m', '-cp', cp, 'CuratorPeer', connectString, String(sessionTimeout_ms)], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    const ready = await peer.nextReply(30_000);
    if (ready !== 'READY') throw new Error(`Curator peer did not start: ${ready}\n${peer.stderr}`);
    return peer;
  }

  /** Sends a command; the promise gives the reply's value (after "OK "), or throws on "ERR". */
  send(...words: (string | number)[]): Promise<string> {
    this.proc.stdin!.write(words.join(' ') + '\n');
    return this.nextReply(120_000).then((r) => {
      if (r.startsWith('OK')) return r.slice(3);
      throw new Error(`Curator: ${words.join(' ')} -> ${r}`);
    });
  }

  /** Waits until an event line equal to `event` has been seen. */
  async waitEvent(event: string, timeout_ms = 30_000): Promise<void> {
    await this.until(() => this.events.includes(event), timeout_ms, `event ${event}`);
  }

  /** SIGKILL: the session stays until the server expires it. */
  async kill(): Promise<void> {
    if (!this.exited) this.proc.kill('SIGKILL');
    await this.until(() => this.exited, 10_000, 'exit');
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.proc.stdin!.end('quit\n');
    await this.until(() => this.exited, 15_000, 'exit').catch(() => this.kill());
  }

  private async nextReply(timeout_ms: number): Promise<string> {
    await this.until(() => this.replies.length > 0, timeout_ms, 'a reply');
    return this.replies.shift()!;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(cond: () => boolean, timeout_ms: number, what: string): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    while (!cond()) {
      if (this.exited && what !== 'exit') throw new Error(`Curator peer exited while waiting for ${what}; stderr:\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Curator peer: timed out waiting for ${what}; stderr:\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}
