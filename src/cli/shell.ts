/**
 * `tszk shell`: a zkCli clone. With command words it runs that one command; otherwise it reads
 * command lines from the input (an interactive prompt on a TTY). Output matches zkCli 3.8.0:
 * results on stdout, "Created ..." and errors on stderr, watch events as "WATCHER::" blocks,
 * and the exit code of the last command.
 */
import readline from 'node:readline';
import { ZooKeeperClient, type ClientOptions, type WatchedEvent } from '../client/index.js';
import { CliError } from './shell/errors.js';
import { commands, runCommand, usageText, usageTable, type ShellContext } from './shell/commands.js';
import { eventString } from './shell/format.js';
import { tokenize } from './shell/parse.js';

export interface ShellOptions {
  /** Connect string, as zkCli's -server: host:port[,host:port][/chroot]. */
  server: string;
  /** Command lines to run instead of reading the input (each line tokenized as zkCli does). */
  commands?: string[];
  /**
   * One command as separate words, taken as they are (zkCli's `zkCli.sh -server x cmd args`
   * mode: a word with spaces stays one argument). Takes precedence over `commands`.
   */
  args?: string[];
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** zkCli writes "Created ..." and failures to stderr. Default process.stderr. */
  errorOutput?: NodeJS.WritableStream;
  /** zkCli's -timeout (session timeout), default 30000. */
  timeout_ms?: number;
  /** zkCli's -r: accept a read-only server. */
  readOnly?: boolean;
  /** TLS and SASL from zkCli's -client-configuration file (clientConfig.ts). */
  security?: Pick<ClientOptions, 'tls' | 'sasl'>;
}

/** zkCli's ZooKeeper.States names, for the prompt. */
const STATE_NAMES = {
  connecting: 'CONNECTING',
  connected: 'CONNECTED',
  connectedReadOnly: 'CONNECTEDREADONLY',
  closed: 'CLOSED',
  expired: 'CLOSED',
  authFailed: 'AUTH_FAILED',
} as const;

/** How many history entries `history` shows (zkCli: the last 10 and the current one). */
const HISTORY_SHOWN = 10;

export async function runShell(opts: ShellOptions): Promise<number> {
  const output = opts.output ?? process.stdout;
  const errorOutput = opts.errorOutput ?? process.stderr;
  const shell = new Shell(opts, output, errorOutput);
  return shell.run();
}

class Shell implements ShellContext {
  zk: ZooKeeperClient | null = null;
  private host: string;
  private printWatches = true;
  private exitCode = 0;
  private commandCount = 0;
  private readonly history = new Map<number, string>();
  private quitting = false;

  constructor(
    private readonly opts: ShellOptions,
    private readonly output: NodeJS.WritableStream,
    private readonly errorOutput: NodeJS.WritableStream,
  ) {
    this.host = opts.server;
  }

  readonly watcher = (e: WatchedEvent): void => {
    if (!this.printWatches) return;
    this.out('\nWATCHER::\n');
    this.out(`\n${eventString(e)}\n`);
  };

  out(s: string): void {
    this.output.write(s);
  }

  err(s: string): void {
    this.errorOutput.write(s);
  }

  async connect(host: string): Promise<void> {
    if (this.zk !== null && this.zk.isAlive) await this.zk.close();
    this.host = host;
    this.zk = new ZooKeeperClient(host, {
      sessionTimeout_ms: this.opts.timeout_ms ?? 30_000,
      defaultWatcher: this.watcher,
      canBeReadOnly: this.opts.readOnly ?? false,
      ...this.opts.security,
      // zkCli keeps trying to connect; commands wait in the client's queue meanwhile.
      connectWait_ms: 2 ** 31 - 1,
    });
    this.zk.connected().catch(() => {});
  }

  async run(): Promise<number> {
    this.out(`Connecting to ${this.opts.server}\n`);
    await this.connect(this.opts.server);
    if (this.opts.args !== undefined && this.opts.args.length > 0) {
      this.history.set(this.commandCount, this.opts.args.join(' '));
      await this.processCmd(this.opts.args);
      this.commandCount++;
    } else if (this.opts.commands !== undefined && this.opts.commands.length > 0) {
      for (const line of this.opts.commands) {
        await this.executeLine(line);
        if (this.quitting) break;
      }
    } else {
      this.out('Welcome to ZooKeeper!\n');
      const input = this.opts.input ?? process.stdin;
      const tty = (input as { isTTY?: boolean }).isTTY === true;
      this.out(tty ? 'JLine support is enabled\n' : 'JLine support is disabled\n');
      const rl = readline.createInterface({ input, output: tty ? this.output : undefined, terminal: tty });
      const prompt = (): void => {
        if (!tty) return;
        rl.setPrompt(`[zk: ${this.host}(${STATE_NAMES[this.zk?.state ?? 'closed']}) ${this.commandCount}] `);
        rl.prompt();
      };
      prompt();
      for await (const line of rl) {
        await this.executeLine(line);
        if (this.quitting) break;
        prompt();
      }
      rl.close();
    }
    if (!this.quitting) {
      // Like zkCli, leave without closeSession: the session (and its ephemerals) times out.
      this.printWatches = false;
      this.zk?.abandon();
    }
    return this.exitCode;
  }

  private async executeLine(line: string): Promise<void> {
    if (line === '') return;
    const words = tokenize(line);
    if (words.length === 0) return;
    this.history.set(this.commandCount, line);
    await this.processCmd(words);
    this.commandCount++;
  }

  private async processCmd(words: string[]): Promise<void> {
    try {
      await this.processZkCmd(words);
      if (!this.quitting) this.exitCode = 0;
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      this.exitCode = e.exitCode;
      this.err(`${e.message}\n`);
    }
  }

  private async processZkCmd(words: string[]): Promise<void> {
    const cmd = words[0]!;
    if (!usageTable.some(([name]) => name === cmd)) {
      this.err(usageText());
      throw new CliError(`Command not found: Command not found ${cmd}`);
    }
    switch (cmd) {
      case 'quit':
        this.quitting = true;
        await this.zk?.close();
        await new Promise((r) => setImmediate(r)); // let the Closed event print
        return;
      case 'history':
        for (let i = this.commandCount - HISTORY_SHOWN; i <= this.commandCount; i++) {
          if (i >= 0) this.out(`${i} - ${this.history.get(i)}\n`);
        }
        break;
      case 'printwatches':
        if (words.length === 1) this.out(`printwatches is ${this.printWatches ? 'on' : 'off'}\n`);
        else this.printWatches = words[1] === 'on';
        break;
      case 'connect':
        await this.connect(words.length >= 2 ? words[1]! : this.host);
        break;
      case 'redo': {
        if (words.length < 2) break;
        const i = Number(words[1]);
        if (!Number.isInteger(i) || this.commandCount <= i || i < 0) throw new CliError('Command index out of range');
        const line = this.history.get(i)!;
        const again = tokenize(line);
        if (again[0] === 'redo') throw new CliError('No redoing redos');
        this.history.set(this.commandCount, line);
        await this.processCmd(again);
        return;
      }
    }
    const zk = this.zk;
    if (zk === null || !zk.isAlive) {
      this.out('Not connected\n');
      return;
    }
    if (commands[cmd] !== undefined) {
      await runCommand(this, zk, cmd, words);
      if (cmd === 'close') await new Promise((r) => setImmediate(r));
    } else if (!['history', 'printwatches', 'connect', 'redo'].includes(cmd)) {
      throw new CliError(`${cmd} is not supported by tszk shell`);
    }
  }
}
