/**
 * zkCli's everyday commands over the TypeScript client, with zkCli 3.8.0's output: results on
 * stdout, "Created ..." and failures on stderr, the same wording and layout.
 */
import { CreateMode, KeeperError, WatcherType, type ZooKeeperClient, op, type ACL, type Watcher } from '../../client/index.js';
import { readFile } from 'node:fs/promises';
import { Err } from '../../proto/errors.js';
import { CliError, keeperMessage, validatePath, wrapKeeperError } from './errors.js';
import { idString, javaList, permString, statLines } from './format.js';
import { parseOptions, type OptionSpec, type ParsedArgs } from './parse.js';

export interface ShellContext {
  zk: ZooKeeperClient | null;
  /** Default watcher: prints events (when printwatches is on). */
  readonly watcher: Watcher;
  out(s: string): void;
  err(s: string): void;
  connect(host: string): Promise<void>;
}

interface Command {
  usage: string;
  spec: OptionSpec;
  /** Fewest words (command name included) before the command runs; fewer prints the usage. */
  minArgs: number;
  run(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void>;
}

/** zkCli's command table (usage strings as zkCli 3.8.0 prints them). */
export const commands: Record<string, Command> = {
  ls: { usage: '[-s] [-w] [-R] path', spec: { flags: 'swR?' }, minArgs: 1, run: ls },
  get: { usage: '[-s] [-w] path', spec: { flags: 'sw' }, minArgs: 2, run: get },
  set: { usage: '[-s] [-v version] path data', spec: { flags: 's', valued: 'v' }, minArgs: 3, run: set },
  create: { usage: '[-s] [-e] [-c] [-t ttl] path [data] [acl]', spec: { flags: 'esc', valued: 't' }, minArgs: 2, run: create },
  delete: { usage: '[-v version] path', spec: { valued: 'v' }, minArgs: 2, run: del },
  deleteall: { usage: 'path [-b batch size]', spec: { valued: 'b' }, minArgs: 2, run: deleteall },
  stat: { usage: '[-w] path', spec: { flags: 'w' }, minArgs: 2, run: stat },
  getAcl: { usage: '[-s] path', spec: { flags: 's' }, minArgs: 2, run: getAcl },
  setAcl: { usage: '[-s] [-v version] [-R] path acl', spec: { flags: 'sR', valued: 'v' }, minArgs: 3, run: setAcl },
  addauth: { usage: 'scheme auth', spec: {}, minArgs: 2, run: addauth },
  sync: { usage: 'path', spec: {}, minArgs: 2, run: sync },
  getEphemerals: { usage: 'path', spec: {}, minArgs: 1, run: getEphemerals },
  getAllChildrenNumber: { usage: 'path', spec: {}, minArgs: 2, run: getAllChildrenNumber },
  whoami: { usage: '', spec: {}, minArgs: 1, run: whoami },
  removewatches: { usage: 'path [-c|-d|-a] [-l]', spec: { flags: 'cdal' }, minArgs: 2, run: removewatches },
  addWatch: {
    usage: '[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE',
    spec: { valued: 'm' },
    minArgs: 2,
    run: addWatch,
  },
  config: { usage: '[-c] [-w] [-s]', spec: { flags: 'cws' }, minArgs: 1, run: config },
  reconfig: {
    usage:
      '[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
    spec: { flags: 's', valued: 'v', longValued: ['file', 'members', 'add', 'remove'] },
    // zkCli counts the words here, options included (checked in reconfig).
    minArgs: 1,
    run: reconfig,
  },
  close: { usage: '', spec: {}, minArgs: 1, run: async (_ctx, zk) => zk.close() },
};

/** The full list zkCli prints as usage (including commands this shell does not implement). */
export const usageTable: [string, string][] = [
  ['addWatch', commands['addWatch']!.usage],
  ['addauth', 'scheme auth'],
  ['close', ''],
  ['config', commands['config']!.usage],
  ['connect', 'host:port'],
  ['create', commands['create']!.usage],
  ['delete', commands['delete']!.usage],
  ['deleteall', commands['deleteall']!.usage],
  ['delquota', '[-n|-b|-N|-B] path'],
  ['get', commands['get']!.usage],
  ['getAcl', commands['getAcl']!.usage],
  ['getAllChildrenNumber', 'path'],
  ['getEphemerals', 'path'],
  ['history', ''],
  ['listquota', 'path'],
  ['ls', commands['ls']!.usage],
  ['printwatches', 'on|off'],
  ['quit', ''],
  ['reconfig', commands['reconfig']!.usage],
  ['redo', 'cmdno'],
  ['removewatches', commands['removewatches']!.usage],
  ['set', commands['set']!.usage],
  ['setAcl', commands['setAcl']!.usage],
  ['setquota', '-n|-b|-N|-B val path'],
  ['stat', commands['stat']!.usage],
  ['sync', 'path'],
  ['version', ''],
  ['whoami', ''],
];

export function usageText(): string {
  let s = 'ZooKeeper -server host:port -client-configuration properties-file cmd args\n';
  for (const [name, usage] of usageTable) s += `\t${name} ${usage}\n`;
  return s;
}

/** Parses and runs one zkCli command against a live session; throws CliError on failure. */
export async function runCommand(ctx: ShellContext, zk: ZooKeeperClient, name: string, words: string[]): Promise<void> {
  const cmd = commands[name];
  if (cmd === undefined) throw new CliError(`Command not found ${name}`);
  const a = parseOptions(words, cmd.spec);
  if (a.args.length < cmd.minArgs) throw new CliError(`${name} ${cmd.usage}`);
  try {
    await cmd.run(ctx, zk, a);
  } catch (e) {
    if (e instanceof KeeperError) throw wrapKeeperError(e);
    throw e;
  }
}

function intOption(a: ParsedArgs, opt: string): number {
  const v = a.value(opt);
  if (v === undefined) return -1;
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v) || !Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new CliError(`For input string: "${v}"`);
  }
  return n;
}

/** 'ls path watch' / 'get path watch': the old spelling of -w, with zkCli's deprecation note. */
function deprecatedWatch(ctx: ShellContext, a: ParsedArgs, name: string, hint: string): boolean {
  if (a.args.length > 2) {
    ctx.err(`'${name} path [watch]' has been deprecated. Please use '${hint}' instead.\n`);
    return true;
  }
  return a.has('w');
}

async function ls(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  if (a.has('?')) ctx.out('usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n');
  const watch = deprecatedWatch(ctx, a, 'ls', 'ls [-w] path');
  if (a.args.length < 2) throw new CliError(`ls ${commands['ls']!.usage}`);
  const path = a.args[1]!;
  validatePath(path);
  if (a.has('R')) {
    await zk.getData(path, watch);
    ctx.out(`${path}\n`);
    await visitDfs(ctx, zk, path, watch, (p) => ctx.out(`${p}\n`));
    return;
  }
  if (a.has('s')) {
    const { children, stat } = await zk.getChildren2(path, watch);
    ctx.out(`${javaList(children.sort(javaCompare))}\n${statLines(stat)}`);
  } else {
    const children = await zk.getChildren(path, watch);
    ctx.out(`${javaList(children.sort(javaCompare))}\n`);
  }
}

/** String#compareTo: UTF-16 code unit order. */
function javaCompare(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** ZKUtil.visitSubTreeDFS after the root: a node's children in order, then each child's subtree. */
async function visitDfs(ctx: ShellContext, zk: ZooKeeperClient, path: string, watch: boolean, visit: (p: string) => void | Promise<void>): Promise<void> {
  let children: string[];
  try {
    children = (await zk.getChildren(path, watch)).sort(javaCompare);
  } catch (e) {
    if (e instanceof KeeperError && e.code === Err.NoNode) return;
    throw e;
  }
  const base = path === '/' ? '/' : `${path}/`;
  for (const c of children) await visit(base + c);
  for (const c of children) await visitDfs(ctx, zk, base + c, watch, visit);
}

async function get(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const watch = deprecatedWatch(ctx, a, 'get', 'get [-s] [-w] path');
  const path = a.args[1]!;
  validatePath(path);
  const { data, stat } = await zk.getData(path, watch);
  ctx.out(`${data === null ? 'null' : data.toString('utf8')}\n`);
  if (a.has('s')) ctx.out(statLines(stat));
}

async function set(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args[1]!;
  const data = Buffer.from(a.args[2]!, 'utf8');
  const version = intOption(a, 'v');
  validatePath(path);
  const stat = await zk.setData(path, data, version);
  if (a.has('s')) ctx.out(statLines(stat));
}

/** EphemeralType.TTL's largest value (40 bits). */
const TTL_MAX_MS = 0xffffffffffn;

/** AclParser.parse: bad entries are reported on stderr and skipped. */
function parseAcl(ctx: ShellContext, s: string): ACL[] {
  const out: ACL[] = [];
  for (const a of s.split(',')) {
    const first = a.indexOf(':');
    const last = a.lastIndexOf(':');
    if (first === -1 || first === last) {
      ctx.err(`${a} does not have the form scheme:id:perm\n`);
      continue;
    }
    let perms = 0;
    for (const ch of a.slice(last + 1)) {
      const bit = { r: 1, w: 2, c: 4, d: 8, a: 16 }[ch];
      if (bit === undefined) ctx.err(`Unknown perm type: ${ch}\n`);
      else perms |= bit;
    }
    out.push({ perms, id: { scheme: a.slice(0, first), id: a.slice(first + 1, last) } });
  }
  return out;
}

/** ZooKeeper#validateACL: an empty list fails on the client, with no path. */
function checkAcl(acl: ACL[]): void {
  if (acl.length === 0) throw new KeeperError(Err.InvalidACL);
}

async function create(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const e = a.has('e');
  const s = a.has('s');
  const c = a.has('c');
  const t = a.has('t');
  if (c && (e || s)) throw new CliError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
  let ttl = 0n;
  if (t) {
    const v = a.value('t')!;
    if (!/^[+-]?\d+$/.test(v)) throw new CliError('-t argument must be a long value');
    ttl = BigInt(v);
    if (ttl > 0x7fffffffffffffffn || ttl < -0x8000000000000000n) throw new CliError('-t argument must be a long value');
  }
  if (t && e) throw new CliError('TTLs cannot be used with Ephemeral znodes');
  if (t && c) throw new CliError('TTLs cannot be used with Container znodes');
  let mode: CreateMode;
  if (e && s) mode = CreateMode.EPHEMERAL_SEQUENTIAL;
  else if (e) mode = CreateMode.EPHEMERAL;
  else if (s) mode = t ? CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateMode.PERSISTENT_SEQUENTIAL;
  else if (c) mode = CreateMode.CONTAINER;
  else mode = t ? CreateMode.PERSISTENT_WITH_TTL : CreateMode.PERSISTENT;
  if (t && (ttl > TTL_MAX_MS || ttl <= 0n)) throw new CliError(`ttl must be positive and cannot be larger than: ${TTL_MAX_MS}`);
  const path = a.args[1]!;
  const data = a.args.length > 2 ? Buffer.from(a.args[2]!, 'utf8') : null;
  const acl = a.args.length > 3 ? parseAcl(ctx, a.args[3]!) : undefined;
  validatePath(path, s);
  try {
    if (acl !== undefined) checkAcl(acl);
    const created = t
      ? (await zk.create2(path, data, { mode, ttl_ms: ttl, ...(acl ? { acl } : {}) })).path
      : await zk.create(path, data, { mode, ...(acl ? { acl } : {}) });
    ctx.err(`Created ${created}\n`);
  } catch (err) {
    if (err instanceof KeeperError && err.code === Err.InvalidACL) ctx.err(`${keeperMessage(err.code, err.path)}\n`);
    throw err;
  }
}

async function del(_ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args[1]!;
  const version = intOption(a, 'v');
  validatePath(path);
  await zk.delete(path, version);
}

/** ZKUtil.deleteRecursive: the subtree breadth-first, deleted leaves first in multi batches. */
async function deleteall(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  let batch = 1000;
  if (a.has('b')) {
    const v = a.value('b')!;
    if (!/^[+-]?\d+$/.test(v)) throw new CliError('-b argument must be an int value');
    batch = Number(v);
  }
  const root = a.args[1]!;
  validatePath(root);
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i]!;
    for (const c of await zk.getChildren(node)) tree.push(`${node === '/' ? '' : node}/${c}`);
  }
  let ok = true;
  let ops = [];
  for (let i = tree.length - 1; i >= 0; i--) {
    ops.push(op.delete(tree[i]!, -1));
    if (ops.length === batch || i === 0) {
      try {
        await zk.multi(ops);
      } catch (e) {
        if (!(e instanceof KeeperError)) throw e;
        ok = false;
        break;
      }
      ops = [];
    }
  }
  if (!ok) ctx.err('Failed to delete some node(s) in the subtree!\n');
}

async function stat(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args[1]!;
  validatePath(path);
  const s = await zk.exists(path, a.has('w'));
  if (s === null) throw new KeeperError(Err.NoNode, path);
  ctx.out(statLines(s));
}

async function getAcl(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args[1]!;
  validatePath(path);
  const { acl, stat: s } = await zk.getACL(path);
  for (const x of acl) ctx.out(`${idString(x.id)}: ${permString(x.perms)}\n`);
  if (a.has('s')) ctx.out(statLines(s));
}

async function setAcl(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args[1]!;
  const acl = parseAcl(ctx, a.args[2]!);
  const version = intOption(a, 'v');
  validatePath(path);
  checkAcl(acl);
  if (a.has('R')) {
    const apply = async (p: string): Promise<void> => {
      try {
        await zk.setACL(p, acl, version);
      } catch (e) {
        if (!(e instanceof KeeperError)) throw e;
        ctx.out(keeperMessage(e.code, e.path));
      }
    };
    await zk.getData(path);
    await apply(path);
    await visitDfs(ctx, zk, path, false, apply);
    return;
  }
  const s = await zk.setACL(path, acl, version);
  if (a.has('s')) ctx.out(statLines(s));
}

async function addauth(_ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  // zkCli does not wait for the server's answer; a failure shows up as an AuthFailed event.
  zk.addAuth(a.args[1]!, a.args.length >= 3 ? Buffer.from(a.args[2]!, 'utf8') : Buffer.alloc(0)).catch(() => {});
}

async function sync(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args[1]!;
  validatePath(path);
  try {
    await zk.sync(path);
    ctx.out('Sync is OK\n');
  } catch (e) {
    if (!(e instanceof KeeperError)) throw e;
    ctx.out(`Sync has failed. rc=${e.code}\n`);
  }
}

async function getEphemerals(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args.length < 2 ? '/' : a.args[1]!;
  validatePath(path);
  ctx.out(`${javaList(await zk.getEphemerals(path))}\n`);
}

async function getAllChildrenNumber(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args[1]!;
  validatePath(path);
  ctx.out(`${await zk.getAllChildrenNumber(path)}\n`);
}

async function whoami(ctx: ShellContext, zk: ZooKeeperClient): Promise<void> {
  const infos = await zk.whoAmI();
  ctx.out('Auth scheme: User\n');
  for (const i of infos) ctx.out(`${i.authScheme}: ${i.user}\n`);
}

async function removewatches(_ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const path = a.args[1]!;
  validatePath(path);
  const type = a.has('c') ? WatcherType.Children : a.has('d') ? WatcherType.Data : WatcherType.Any;
  await zk.removeWatches(path, type, undefined, a.has('l'));
}

async function addWatch(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  if (a.args.length !== 2) throw new CliError(`addWatch ${commands['addWatch']!.usage}`);
  const m = (a.value('m') ?? 'PERSISTENT_RECURSIVE').toUpperCase();
  if (m !== 'PERSISTENT' && m !== 'PERSISTENT_RECURSIVE') throw new CliError(`addWatch ${commands['addWatch']!.usage}`);
  const path = a.args[1]!;
  validatePath(path);
  await zk.addWatch(path, m === 'PERSISTENT' ? 'persistent' : 'persistentRecursive', ctx.watcher);
}

async function config(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  const { data, stat: s } = await zk.getConfig(a.has('w'));
  const text = data === null ? 'null' : data.toString('utf8');
  ctx.out(`${a.has('c') ? clientConfigString(text) : text}\n`);
  if (a.has('s')) ctx.out(statLines(s));
}

/**
 * zkCli's ReconfigCommand: incremental (-add / -remove) or not (-members, or -file holding a
 * dynamic config file's lines), -v the config version (hex, as /zookeeper/config writes it) it
 * must still be. The server lines are lower-cased as zkCli does.
 */
async function reconfig(ctx: ShellContext, zk: ZooKeeperClient, a: ParsedArgs): Promise<void> {
  if (a.words < 2) throw new CliError(`reconfig ${commands['reconfig']!.usage}`);
  if ((a.has('file') || a.has('members')) && (a.has('add') || a.has('remove'))) {
    throw new CliError("Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)");
  }
  if (a.has('file') && a.has('members')) throw new CliError("Can't use -file and -members together (conflicting non-incremental modes)");
  const v = a.value('v');
  let fromConfig = -1n;
  if (v !== undefined) {
    if (!/^[0-9a-fA-F]+$/.test(v)) throw new CliError(`version No is not valid : ${v}`);
    fromConfig = BigInt(`0x${v}`);
  }
  let newMembers = a.value('members')?.toLowerCase();
  const file = a.value('file');
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new CliError(`Error processing ${file}${(e as Error).message}`);
    }
    newMembers = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => /^(server|group|weight)\.\d+\s*=/.test(l))
      .join('\n');
  }
  const { data, stat: s } = await zk.reconfig({
    ...(a.has('add') ? { joining: a.value('add')!.toLowerCase() } : {}),
    ...(a.has('remove') ? { leaving: a.value('remove')!.toLowerCase() } : {}),
    ...(newMembers !== undefined ? { newMembers } : {}),
    fromConfig,
  });
  ctx.out(`Committed new configuration:\n${data === null ? 'null' : data.toString('utf8')}\n`);
  if (a.has('s')) ctx.out(statLines(s));
}

/**
 * ConfigUtils.getClientConfigStr: "version host:port,host:port" from the config node's
 * properties (server.N=addr:p1:p2[:role][;[clientAddr:]clientPort]); servers in file order.
 */
function clientConfigString(text: string): string {
  let version = '';
  const servers: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'version') version = value;
    if (!key.startsWith('server.')) continue;
    const semi = value.indexOf(';');
    if (semi === -1) continue;
    const client = value.slice(semi + 1);
    const colon = client.lastIndexOf(':');
    servers.push(colon === -1 ? `0.0.0.0:${client}` : client);
  }
  return `${version} ${servers.join(',')}`;
}
