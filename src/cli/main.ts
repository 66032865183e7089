/**
 * The `tszk` command. Subcommands load their modules lazily so `tszk shell` does not pay for
 * the server and vice versa; `tszk server` with plain flags does not load commander either
 * (serverFastPath), as start-up to serving is a figure users wait on.
 */
import type { Command } from 'commander';
import { log } from '../log.js';
import { compileCacheState, saveCompileCache } from './compileCache.js';
import type { MemberAdminSource } from '../server/adminSource.js';
import { ConfigError, parseZooCfg, readZooCfg, type ParsedConfig } from '../server/config.js';

function parseDefines(defs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of defs ?? []) {
    const i = d.indexOf('=');
    if (i <= 0) throw new ConfigError(d, '-D expects key=value');
    out[d.slice(0, i)] = d.slice(i + 1);
  }
  return out;
}

interface ServerFlags {
  config?: string;
  port?: string;
  dataDir?: string;
  define?: string[];
}

function loadConfig(flags: ServerFlags): { cfg: ParsedConfig; sysProps: Record<string, string> } {
  const sysProps = parseDefines(flags.define);
  if (flags.port !== undefined) sysProps['clientPort'] = flags.port;
  if (flags.config !== undefined) {
    if (flags.dataDir !== undefined) sysProps['dataDir'] = flags.dataDir;
    return { cfg: readZooCfg(flags.config, sysProps), sysProps };
  }
  // No zoo.cfg: ZooKeeper's sample config, with data under ./.tszk so a fresh clone just runs. The
  // AdminServer is on as ZooKeeper's is without a config (admin.serverPort 8080; -D admin.enableServer=false turns it off).
  const text = `tickTime=2000\ndataDir=${flags.dataDir ?? '.tszk/data'}\nclientPort=2181\ninitLimit=10\nsyncLimit=5\n4lw.commands.whitelist=*\n`;
  return { cfg: parseZooCfg(text, { sysProps }), sysProps };
}

/** ZooKeeper's exit code when its AdminServer cannot start (ExitCode.ERROR_STARTING_ADMIN_SERVER). */
const EXIT_ADMIN_SERVER = 4;

/**
 * The start-up breakdown's fields: ms since the process started (performance's time origin) and
 * the CPU the process used until then (steadier than wall time on a loaded machine).
 */
function startupStamp(): { startup_ms: number; startup_cpu_ms: number } {
  const { user, system } = process.cpuUsage();
  return { startup_ms: Math.round(performance.now()), startup_cpu_ms: Math.round((user + system) / 1000) };
}

/**
 * How long after the server serves the compile cache is written (when this start had none): by
 * then what serving a first session compiles is in it too.
 */
const COMPILE_CACHE_SAVE_DELAY_MS = 1000;

async function runServer(flags: ServerFlags): Promise<void> {
  log.debug({ ...startupStamp(), compileCache: compileCacheState() }, 'loading the server');
  const { cfg, sysProps } = loadConfig(flags);
  for (const w of cfg.warnings) log.warn({ config: cfg.options.configPath }, w);
  // Four-letter words are no part of recovery: their modules load while the dataDir is read.
  const fourLetterWords = import('../admin/fourLetterWords.js');
  let server: { close(): Promise<void> };
  let member: MemberAdminSource;
  if (cfg.servers.length > 0 && !(cfg.servers.length === 1 && cfg.standaloneEnabled)) {
    const [{ startQuorumPeer }, { runFourLetterWord }] = await Promise.all([import('../server/quorum/nodePeer.js'), fourLetterWords]);
    const peer = await startQuorumPeer(cfg, { fourLetterWords: runFourLetterWord });
    server = peer;
    member = peer.admin;
  } else {
    const [{ openDatabase }, { storageOptionsFrom }, { ServerMetrics }] = await Promise.all([
      import('../storage/database.js'),
      import('../server/options.js'),
      import('../server/serverMetrics.js'),
    ]);
    const metrics = new ServerMetrics();
    // Recovery reads the dataDir while the serving modules load; a damaged dataDir stops at the
    // await below with the StorageError (file and offset).
    const opening = openDatabase({ ...storageOptionsFrom(cfg.options), observer: metrics });
    opening.catch(() => undefined);
    const [{ startStandaloneServer }, { runFourLetterWord }] = await Promise.all([import('../server/standalone.js'), fourLetterWords]);
    const { db, sink, lastZxid } = await opening;
    log.info(
      {
        dataDir: cfg.options.dataDir,
        lastZxid: `0x${lastZxid.toString(16)}`,
        sessions: db.sessionsWithTimeouts.size,
        ...startupStamp(),
      },
      'data directory recovered',
    );
    const standalone = await startStandaloneServer(cfg.options, { db, sink, metrics, fourLetterWords: runFourLetterWord });
    server = standalone;
    member = standalone;
    const { afterRecovery } = await import('../server/heap.js');
    afterRecovery(db.tree.nodeCount);
    log.info({ clientPort: cfg.options.clientPort, dataDir: cfg.options.dataDir, ...startupStamp() }, 'tszk standalone server started');
  }
  const { collectWhenQuiet } = await import('../server/heap.js');
  const served = member.metrics.summary;
  collectWhenQuiet(() => served.readlatency.count + served.updatelatency.count);
  setTimeout(() => {
    if (saveCompileCache()) log.debug('compile cache written');
  }, COMPILE_CACHE_SAVE_DELAY_MS).unref();
  const { startOperations } = await import('../admin/operations.js');
  let ops: { close(): Promise<void> };
  try {
    ops = await startOperations(cfg, member, sysProps);
  } catch (e) {
    // The port named, nothing left half-started (ZooKeeper's standalone server exits the same way).
    log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'Unable to start the AdminServer or /metrics, exiting abnormally');
    process.stderr.write(`tszk: ${e instanceof Error ? e.message : String(e)}\n`);
    await server.close();
    process.exit(EXIT_ADMIN_SERVER);
  }
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'shutting down');
    ops
      .close()
      .then(() => server.close())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          log.error({ err: e }, 'error while shutting down');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function runPrinter(kind: 'logs' | 'snapshot', file: string, dumpData: boolean): Promise<void> {
  const { printTxnLog, printSnapshot } = await import('../storage/printers.js');
  // `tszk logs f | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));
  const out = { write: (s: string) => process.stdout.write(s) };
  try {
    process.exitCode = kind === 'logs' ? await printTxnLog(file, out) : await printSnapshot(file, out, { dumpData });
  } catch (e) {
    process.stderr.write(`tszk ${kind}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}

/** `tszk server`'s value flags: one list for commander and for the fast path below. */
const SERVER_VALUE_OPTIONS: readonly { short: string; long: string; arg: string; key: 'config' | 'port' | 'dataDir'; help: string }[] = [
  { short: '-c', long: '--config', arg: '<zoo.cfg>', key: 'config', help: 'ZooKeeper configuration file' },
  { short: '-p', long: '--port', arg: '<port>', key: 'port', help: 'client port (overrides clientPort)' },
  { short: '-d', long: '--data-dir', arg: '<dir>', key: 'dataDir', help: 'data directory (overrides dataDir)' },
];
const SERVER_VALUE_FLAGS: ReadonlyMap<string, 'config' | 'port' | 'dataDir'> = new Map(
  SERVER_VALUE_OPTIONS.flatMap((o) => [
    [o.short, o.key],
    [o.long, o.key],
  ]),
);

/**
 * `tszk server`'s flags read without commander (loading it costs 10–20 ms of start-up), for the
 * plain spellings only: `--flag value`, `--flag=value`, `-D k=v [k=v ...]`. Anything else (help,
 * an unknown flag, a missing value) returns undefined and goes to commander, which says what is wrong.
 */
function serverFastPath(args: string[]): ServerFlags | undefined {
  if (args[0] !== 'server') return undefined;
  const flags: ServerFlags = {};
  for (let i = 1; i < args.length;) {
    const eq = args[i]!.indexOf('=');
    const [name, attached] = args[i]!.startsWith('--') && eq > 0 ? [args[i]!.slice(0, eq), args[i]!.slice(eq + 1)] : [args[i]!, undefined];
    i++;
    if (name === '-D' || name === '--define') {
      // Variadic, as commander reads it: every following word up to the next flag.
      const defs = attached === undefined ? [] : [attached];
      while (attached === undefined && i < args.length && !args[i]!.startsWith('-')) defs.push(args[i++]!);
      if (defs.length === 0) return undefined;
      flags.define = [...(flags.define ?? []), ...defs];
      continue;
    }
    const key = SERVER_VALUE_FLAGS.get(name);
    if (key === undefined) return undefined;
    const value = attached ?? args[i++];
    if (value === undefined || (attached === undefined && value.startsWith('-'))) return undefined;
    flags[key] = value;
  }
  return flags;
}

export async function main(argv: string[]): Promise<void> {
  // zkCli spells its flag `-server`; accept that spelling as well as `--server`.
  const zkCliFlags: Record<string, string> = { '-server': '--server', '-timeout': '--timeout', '-client-configuration': '--client-configuration' };
  const args = argv.map((a) => zkCliFlags[a] ?? a);
  try {
    const fast = serverFastPath(args);
    if (fast !== undefined) await runServer(fast);
    else await (await program()).parseAsync(args, { from: 'user' });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tszk: invalid configuration: ${e.message}\n`);
      process.exit(2);
    }
    const { StorageError } = await import('../storage/errors.js');
    if (e instanceof StorageError) {
      // A damaged dataDir: say which file and where, no stack trace; never start on a partial history.
      log.fatal({ path: e.path, offset: e.offset }, `cannot recover the data directory: ${e.message}`);
      process.stderr.write(`tszk: cannot recover the data directory: ${e.message}\n`);
      process.exit(3);
    }
    throw e;
  }
}

async function program(): Promise<Command> {
  const { Command, Option } = await import('commander');
  const program = new Command('tszk').description('A ZooKeeper-compatible coordination service').enablePositionalOptions().showHelpAfterError();

  const server = program.command('server').description('run a tszk server from a zoo.cfg (standalone when it lists no ensemble)');
  for (const o of SERVER_VALUE_OPTIONS) server.option(`${o.short}, ${o.long} ${o.arg}`, o.help);
  server
    .addOption(new Option('-D, --define <key=value...>', 'set a config key / zookeeper.* system property'))
    .action((flags: ServerFlags) => runServer(flags));

  program
    .command('ensemble')
    .description('run a local ensemble: each member its own process, data dir and zoo.cfg; prints roles as they change')
    .option('-n, --nodes <n>', 'number of members', '3')
    .option('--observers <n>', 'how many of them are observers', '0')
    .option('--base-port <port>', 'first client port (quorum ports at +707, election ports at +1707)', '2181')
    .option('--admin-base-port <port>', 'first AdminServer port (member i gets it + i - 1)', '8080')
    .option('--dir <dir>', 'where the members keep their data', '.tszk/ensemble')
    .option('--tick-time <ms>', 'tickTime', '2000')
    .option('--reconfig', 'reconfigEnabled=true (super user super:tszk may reconfig) and print each membership change')
    .action(async (flags: { nodes: string; observers: string; basePort: string; adminBasePort: string; dir: string; tickTime: string; reconfig?: boolean }) => {
      const { runEnsemble } = await import('./ensemble.js');
      process.exitCode = await runEnsemble({
        nodes: Number(flags.nodes),
        observers: Number(flags.observers),
        basePort: Number(flags.basePort),
        adminBasePort: Number(flags.adminBasePort),
        dir: flags.dir,
        tickTime_ms: Number(flags.tickTime),
        reconfig: flags.reconfig === true,
      });
      process.exit();
    });

  program
    .command('logs')
    .description("print a txn log file (log.<zxid>) readably, like ZooKeeper's TxnLogToolkit")
    .argument('<file>', 'txn log file')
    .action((file: string) => runPrinter('logs', file, false));

  program
    .command('snapshot')
    .description("print a snapshot file (snapshot.<zxid>) readably, like ZooKeeper's SnapshotFormatter")
    .argument('<file>', 'snapshot file')
    .option('--dump-data', "print each znode's data (base64)")
    .action((file: string, flags: { dumpData?: boolean }) => runPrinter('snapshot', file, flags.dumpData === true));

  program
    .command('shell')
    .description('interactive shell with zkCli commands')
    .option('--server <connectString>', 'host:port[,host:port][/chroot]', '127.0.0.1:2181')
    .option('--timeout <ms>', 'session timeout (zkCli -timeout)')
    .option('-r, --read-only', 'accept a read-only server (zkCli -r)')
    .option('--client-configuration <file>', "TLS and SASL settings, zkCli's -client-configuration properties")
    .argument('[command...]', 'run one command and exit (words taken as given, like zkCli)')
    .passThroughOptions()
    .action(async (command: string[], flags: { server: string; timeout?: string; readOnly?: boolean; clientConfiguration?: string }) => {
      const { runShell } = await import('./shell.js');
      const { readClientConfiguration } = await import('./clientConfig.js');
      process.exitCode = await runShell({
        security: flags.clientConfiguration === undefined ? undefined : readClientConfiguration(flags.clientConfiguration),
        server: flags.server,
        args: command.length > 0 ? command : undefined,
        timeout_ms: flags.timeout === undefined ? undefined : Number(flags.timeout),
        readOnly: flags.readOnly === true,
      });
    });

  return program;
}

main(process.argv.slice(2)).catch((e: unknown) => {
  log.fatal({ err: e }, 'tszk failed');
  process.stderr.write(`tszk: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
