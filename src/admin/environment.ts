/** ZooKeeper's Environment list (envi, environment), in Node's terms where Java's have none. */
import os from 'node:os';
import path from 'node:path';
import { VERSION_LINE } from './facts.js';

export function environment(): [string, string][] {
  const mem = process.memoryUsage();
  const mb = (n: number): string => `${Math.floor(n / (1024 * 1024))}MB`;
  return [
    ['zookeeper.version', VERSION_LINE],
    ['host.name', os.hostname()],
    ['java.version', process.versions.node],
    ['java.vendor', 'Node.js'],
    ['java.home', path.dirname(process.execPath)],
    ['java.class.path', ''],
    ['java.library.path', ''],
    ['java.io.tmpdir', os.tmpdir()],
    ['java.compiler', '<NA>'],
    ['os.name', os.type()],
    ['os.arch', os.arch() === 'x64' ? 'amd64' : os.arch()],
    ['os.version', os.release()],
    ['user.name', os.userInfo().username],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(mem.heapTotal - mem.heapUsed)],
    ['os.memory.max', mb(os.totalmem())],
    ['os.memory.total', mb(mem.heapTotal)],
  ];
}
